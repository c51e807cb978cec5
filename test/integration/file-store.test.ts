import { existsSync } from 'node:fs';
import { appendFile, mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createFileStore, readRetentionNotes } from '#adapters/file-store.ts';
import { StateError } from '#core/errors.ts';
import { initialHealthState } from '#core/health/state.ts';
import { at, bounced, canaryAt, mailboxFull, round, T0 } from '../helpers/alert-fixtures.ts';
import { storeContract } from '../helpers/store-contract.ts';

const dirs: string[] = [];
async function freshDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mailhealth-store-'));
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

describe('createFileStore', () => {
  storeContract(async (nowMs) => createFileStore({ dir: await freshDir(), now: nowMs }));

  it('continues from the stored state in a new process', async () => {
    // Prepare
    const dir = await freshDir();
    await createFileStore({ dir }).putHealth('shop', { ...initialHealthState('shop'), state: 'failing', badStreak: 3 }, null);

    // Act
    const restarted = createFileStore({ dir });

    // Assess
    expect(await restarted.getHealth('shop')).toMatchObject({ version: 1, value: { state: 'failing', badStreak: 3 } });
  });

  it('leaves only complete files behind: no temp files and no lock files', async () => {
    // Prepare
    const dir = await freshDir();
    const store = createFileStore({ dir, now: () => T0 });

    // Act
    await Promise.all([
      store.putHealth('shop', initialHealthState('shop'), null),
      store.appendRound(round('ok', at(0))),
      store.claim('k', 60),
      store.putCanary({ id: canaryAt(0), target: 'shop', sentAt: at(0), recipients: ['c@b.example'], deliveredAt: null }),
    ]);

    // Assess
    const files = await filesUnder(dir);
    const text = Object.fromEntries(await Promise.all(files.map(async (f) => [f, await readFile(f, 'utf8')] as const)));
    expect(files.filter((f) => f.endsWith('.tmp') || f.endsWith('.lock'))).toEqual([]);
    expect(files.length).toBeGreaterThanOrEqual(4);
    // A claim is an empty file whose modification time is its expiry.
    for (const f of files.filter((f) => !f.includes('/claims/'))) {
      const docs = f.endsWith('.jsonl') ? (text[f] ?? '').trimEnd().split('\n') : [text[f] ?? ''];
      for (const doc of docs) expect(() => JSON.parse(doc)).not.toThrow();
    }
  });

  it('ignores a temp file left by a crash in the middle of a write', async () => {
    // Prepare: a state written, then a crashed writer's half temp file next to it
    const dir = await freshDir();
    await createFileStore({ dir }).putHealth('shop', initialHealthState('shop'), null);
    await writeFile(join(dir, 'health', 'shop.json.999.1.tmp'), '{"version": 2, "state": {"tar');

    // Act
    const health = await createFileStore({ dir }).getHealth('shop');

    // Assess
    expect(health?.version).toBe(1);
  });

  it('appends each record as one line and never rewrites what is there', async () => {
    // Prepare
    const dir = await freshDir();
    const store = createFileStore({ dir, now: () => T0 });
    const path = join(dir, 'history', 'shop', 'bounces.jsonl');
    await store.appendBounce({ at: at(1), key: 'bounce#A#a@example.jp', target: 'shop', canaryId: canaryAt(0), recipient: bounced({ recipient: 'a@example.jp' }), finding: mailboxFull });
    const before = await readFile(path, 'utf8');

    // Act
    await store.appendBounce({ at: at(2), key: 'bounce#A#b@example.jp', target: 'shop', canaryId: canaryAt(0), recipient: bounced({ recipient: 'b@example.jp' }), finding: mailboxFull });
    await store.appendBounce({ at: at(2), key: 'bounce#A#b@example.jp', target: 'shop', canaryId: canaryAt(0), recipient: bounced({ recipient: 'b@example.jp' }), finding: mailboxFull });

    // Assess: the old bytes are untouched, a record written twice lists once.
    const after = await readFile(path, 'utf8');
    expect(after.startsWith(before)).toBe(true);
    expect(after.trimEnd().split('\n')).toHaveLength(3);
    expect((await store.listBounces('shop', 10)).map((b) => b.recipient.recipient)).toEqual(['b@example.jp', 'a@example.jp']);
  });

  it('removes what is older than historyDays or beyond historyMaxRecords, and writes down what it removed', async () => {
    // Prepare: ten rounds a day apart, written by a store without retention.
    const dir = await freshDir();
    const day = 86_400_000;
    const writer = createFileStore({ dir, now: () => T0 });
    for (let d = 0; d < 10; d++) await writer.appendRound(round('ok', new Date(T0 + d * day).toISOString(), { canaryId: canaryAt(d * 1440) }));

    // Act: a store keeping 7 days and at most 5 records opens the directory on day 10.
    const store = createFileStore({ dir, now: () => T0 + 10 * day, retention: { historyDays: 7, historyMaxRecords: 5 } });
    const rounds = await store.listRounds('shop', 100);

    // Assess: days 0–2 went for their age, days 3–4 for the count; the notes say so.
    expect(rounds.map((r) => r.startedAt)).toEqual([9, 8, 7, 6, 5].map((d) => new Date(T0 + d * day).toISOString()));
    const notes = await readRetentionNotes(dir);
    expect(notes.map((n) => ({ target: n.target, list: n.note.list, removed: n.note.removed, reason: n.note.reason, upTo: n.note.upTo }))).toEqual([
      { target: 'shop', list: 'rounds', removed: 3, reason: 'age', upTo: new Date(T0 + 2 * day).toISOString() },
      { target: 'shop', list: 'rounds', removed: 2, reason: 'count', upTo: new Date(T0 + 4 * day).toISOString() },
    ]);
    expect(await createFileStore({ dir, now: () => T0 }).listRounds('shop', 100)).toHaveLength(5);
  });

  it('never removes anything without a retention setting (a reader of the directory)', async () => {
    const dir = await freshDir();
    await createFileStore({ dir, now: () => T0 }).appendRound(round('ok', at(0), { canaryId: canaryAt(0) }));
    expect(await createFileStore({ dir, now: () => T0 + 400 * 86_400_000 }).listRounds('shop', 10)).toHaveLength(1);
    expect(await readRetentionNotes(dir)).toEqual([]);
  });

  it('reads the history of an older version (a JSON array) and continues it as JSON Lines', async () => {
    // Prepare
    const dir = await freshDir();
    await mkdir(join(dir, 'history', 'shop'), { recursive: true });
    await writeFile(join(dir, 'history', 'shop', 'rounds.json'), JSON.stringify([round('ok', at(0), { canaryId: canaryAt(0) }), round('ok', at(5), { canaryId: canaryAt(5) })]));
    const store = createFileStore({ dir, now: () => T0 });

    // Act
    await store.appendRound(round('ok', at(10), { canaryId: canaryAt(10) }));

    // Assess
    expect((await store.listRounds('shop', 10)).map((r) => r.canaryId)).toEqual([canaryAt(10), canaryAt(5), canaryAt(0)]);
    expect(existsSync(join(dir, 'history', 'shop', 'rounds.json'))).toBe(false);
  });

  it('skips a line a crash cut short, and retention reports it as unreadable', async () => {
    // Prepare: a complete record, then half of one (the process died during the append).
    const dir = await freshDir();
    await createFileStore({ dir, now: () => T0 }).appendRound(round('ok', at(0), { canaryId: canaryAt(0) }));
    await appendFile(join(dir, 'history', 'shop', 'rounds.jsonl'), '{"name":"shop","sta');

    // Act
    const store = createFileStore({ dir, now: () => T0, retention: { historyDays: 35, historyMaxRecords: 1000 } });
    const rounds = await store.listRounds('shop', 10);

    // Assess
    expect(rounds).toHaveLength(1);
    expect((await readRetentionNotes(dir)).map((n) => n.note)).toMatchObject([{ list: 'rounds', removed: 1, reason: 'unreadable' }]);
  });

  it('removes the temp files a killed process left, and keeps those of a living one', async () => {
    // Prepare: temp files of a process that is gone (pid 2^22 + 1 is above Linux's pid_max) and of this one.
    const dir = await freshDir();
    await mkdir(join(dir, 'health'), { recursive: true });
    const dead = join(dir, 'health', 'shop.json.4194305.7.tmp');
    const ours = join(dir, 'health', `clinic.json.${process.pid}.1.tmp`);
    await writeFile(dead, '');
    await writeFile(ours, '{');

    // Act
    await createFileStore({ dir }).getHealth('shop');

    // Assess
    expect(existsSync(dead)).toBe(false);
    expect(existsSync(ours)).toBe(true);
  });

  it('names the file when a state file is not JSON', async () => {
    // Prepare
    const dir = await freshDir();
    await mkdir(join(dir, 'health'), { recursive: true });
    await writeFile(join(dir, 'health', 'shop.json'), 'not json');

    // Act
    const error = await createFileStore({ dir }).getHealth('shop').catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(StateError);
    expect((error as StateError).message).toContain(join(dir, 'health', 'shop.json'));
  });

  it('takes over a lock left by a process that died', async () => {
    // Prepare: a lock file older than the stale limit
    const dir = await freshDir();
    await mkdir(join(dir, 'locks'), { recursive: true });
    const lock = join(dir, 'locks', 'health-shop.lock');
    await writeFile(lock, '99999');
    const old = new Date(Date.now() - 60_000);
    await utimes(lock, old, old);

    // Act
    const written = await createFileStore({ dir }).putHealth('shop', initialHealthState('shop'), null);

    // Assess
    expect(written).toBe(true);
  });

  it('keeps target names that are not plain file names apart', async () => {
    const store = createFileStore({ dir: await freshDir() });
    await store.putHealth('../evil', initialHealthState('../evil'), null);
    await store.putHealth('a/b', initialHealthState('a/b'), null);
    expect(await store.listTargets()).toEqual(['../evil', 'a/b']);
  });

  it('reads the newest records of a long history exactly, whatever the line lengths, and a reader creates nothing', async () => {
    // Prepare: rounds whose lines range from short to longer than the first chunk read
    const dir = await freshDir();
    const store = createFileStore({ dir, now: () => T0 });
    const sizes = [10, 50_000, 200, 3, 140_000, 2_000, 40_000, 1, 70_000, 500];
    for (let i = 0; i < 60; i++) {
      const r = round('ok', at(i), { canaryId: canaryAt(i) });
      await store.appendRound({ ...r, steps: [{ step: 'greeting', ok: true, ms: 1, reply: `220 ${'x'.repeat(sizes[i % sizes.length]!)}` }] });
    }
    const reader = createFileStore({ dir });

    // Act / Assess
    for (const n of [1, 2, 3, 7, 25, 59, 60, 100]) {
      const got = await reader.listRounds('shop', n);
      expect(got.map((r) => r.canaryId)).toEqual(Array.from({ length: Math.min(n, 60) }, (_, k) => canaryAt(59 - k)));
      expect(got[0]!.steps[0]!.reply).toHaveLength(4 + sizes[59 % sizes.length]!);
    }
    expect(await reader.listRounds('nobody', 5)).toEqual([]);
    expect(existsSync(join(dir, 'history', 'nobody'))).toBe(false);
  });
});
