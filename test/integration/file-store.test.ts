import { existsSync } from 'node:fs';
import { appendFile, mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createFileStore, readRetentionNotes } from '#adapters/file-store.ts';
import { canaryFile } from '#adapters/file-store/canaries.ts';
import { openStateDir } from '#adapters/file-store/state-dir.ts';
import type { CanaryRecord } from '#core/health/records.ts';
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

  it('leaves a history alone while its oldest record is only just past historyDays, and trims it once past the slack', async () => {
    // Prepare: a record a day for 10 days, kept 7 days (slack: 2% of 7 days, 3.4 h, up to twice that per file)
    const dir = await freshDir();
    const day = 86_400_000;
    const writer = createFileStore({ dir, now: () => T0 });
    for (let d = 0; d < 10; d++) await writer.appendRound(round('ok', new Date(T0 + d * day).toISOString(), { canaryId: canaryAt(d * 1440) }));
    const file = join(dir, 'history', 'shop', 'rounds.jsonl');
    const before = await readFile(file, 'utf8');
    const policy = { historyDays: 7, historyMaxRecords: 1000 };

    // Act: the oldest is 7 days and 30 minutes old, then 7 days and 7 hours (past twice the 3.4 h slack)
    await createFileStore({ dir, now: () => T0 + 7 * day + 30 * 60_000, retention: policy }).listRounds('shop', 1);
    const untouched = await readFile(file, 'utf8');
    await createFileStore({ dir, now: () => T0 + 7 * day + 7 * 3600_000, retention: policy }).listRounds('shop', 1);

    // Assess: the first store rewrote nothing; the second removed exactly what is past 7 days
    expect(untouched).toBe(before);
    expect((await readRetentionNotes(dir)).map((n) => n.note)).toMatchObject([{ list: 'rounds', removed: 1, reason: 'age' }]);
    expect(await createFileStore({ dir }).listRounds('shop', 100)).toHaveLength(9);
  });
});

describe('the canaries of the file store', () => {
  const sent = (minutes: number, target = 'shop'): CanaryRecord => ({ id: canaryAt(minutes, minutes % 251), target, sentAt: at(minutes), recipients: ['c@bounces.example.jp'], deliveredAt: null });

  it('appends a line per canary and per arrival, never rewriting a file', async () => {
    // Prepare
    const dir = await freshDir();
    const store = createFileStore({ dir, now: () => T0 });
    await store.putCanary(sent(0));
    const file = join(dir, 'canaries', `${at(0).slice(0, 13)}.jsonl`);
    const { ino } = await stat(file);

    // Act
    for (let m = 1; m < 50; m++) await store.putCanary(sent(m));
    await store.markDelivered(canaryAt(7, 7), at(8));

    // Assess
    const lines = (await readFile(file, 'utf8')).trimEnd().split('\n');
    expect(lines).toHaveLength(51);
    expect((await stat(file)).ino).toBe(ino);
    expect(JSON.parse(lines[50]!)).toMatchObject({ id: canaryAt(7, 7), target: 'shop', deliveredAt: at(8) });
    expect(await createFileStore({ dir }).getCanary(canaryAt(7, 7))).toMatchObject({ deliveredAt: at(8) });
  });

  it('lets only the first of two processes marking the same arrival say it was first', async () => {
    // Prepare
    const dir = await freshDir();
    await createFileStore({ dir, now: () => T0 }).putCanary(sent(0));
    const [a, b] = [createFileStore({ dir, now: () => T0 }), createFileStore({ dir, now: () => T0 })];
    await Promise.all([a.getCanary(canaryAt(0, 0)), b.getCanary(canaryAt(0, 0))]);

    // Act
    const results = await Promise.all([a.markDelivered(canaryAt(0, 0), at(1)), b.markDelivered(canaryAt(0, 0), at(2)), a.markDelivered(canaryAt(0, 0), at(3))]);

    // Assess: one first, every caller sees the first arrival's time
    expect(results.map((r) => r?.first)).toEqual([true, false, false]);
    for (const r of results) expect(r?.record.deliveredAt).toBe(at(1));
  });

  it('reads the canaries.json of an older version once, into hour files', async () => {
    // Prepare
    const dir = await freshDir();
    const old = { [canaryAt(0, 0)]: { ...sent(0), deliveredAt: at(1) }, [canaryAt(90, 90)]: sent(90) };
    await writeFile(join(dir, 'canaries.json'), JSON.stringify(old));

    // Act
    const store = createFileStore({ dir, now: () => T0 });
    const listed = await store.listCanaries('shop', 10);

    // Assess
    expect(listed.map((c) => [c.id, c.deliveredAt])).toEqual([
      [canaryAt(90, 90), null],
      [canaryAt(0, 0), at(1)],
    ]);
    expect(existsSync(join(dir, 'canaries.json'))).toBe(false);
    expect((await readdir(join(dir, 'canaries'))).sort()).toEqual([`${at(0).slice(0, 13)}.jsonl`, `${at(90).slice(0, 13)}.jsonl`]);
  });

  it('deletes hour files past the retention when it next writes one', async () => {
    // Prepare
    const dir = await freshDir();
    let now = T0;
    const store = createFileStore({ dir, now: () => now, canaryRetentionDays: 1 });
    await store.putCanary(sent(0));

    // Act: two days and an hour later
    now = T0 + 49 * 3600_000;
    await store.putCanary(sent(49 * 60));

    // Assess
    expect(await readdir(join(dir, 'canaries'))).toEqual([`${at(49 * 60).slice(0, 13)}.jsonl`]);
    expect(await store.getCanary(canaryAt(0, 0))).toBeNull();
  });

  it('keeps answering about undelivered canaries of hours it no longer keeps in full', async () => {
    // Prepare: a store keeping 30 records in full; ten hours of canaries of two targets, a few not delivered
    const dir = await freshDir();
    const state = openStateDir(dir, () => T0 + 12 * 3600_000);
    const canaries = canaryFile(state, 7 * 86_400_000, { fullRecords: 30 });
    const writer = createFileStore({ dir, now: () => T0 });
    const undelivered: string[] = [];
    for (let m = 0; m < 600; m += 10) {
      for (const target of ['shop', 'clinic']) {
        const c = { ...sent(m, target), id: canaryAt(m, target === 'shop' ? 1 : 2) };
        await writer.putCanary(c);
        if (target === 'shop' && m % 70 === 0) undelivered.push(c.id);
        else await writer.markDelivered(c.id, at(m + 1));
      }
    }
    const window = { sentAfter: at(-60), sentBefore: at(600), limit: 50 };

    // Act: read every hour (all of them cannot stay in full), then ask about the oldest again
    const listed = await canaries.listCanaries('clinic', 1000);
    const late = await canaries.listUndelivered('shop', window);
    await writer.markDelivered(undelivered[0]!, at(700));
    const later = await canaries.listUndelivered('shop', window);

    // Assess
    expect(listed).toHaveLength(60);
    expect(late.map((c) => c.id)).toEqual(undelivered);
    expect(later.map((c) => c.id)).toEqual(undelivered.slice(1));
    expect(await canaries.listUndelivered('clinic', window)).toEqual([]);
    expect(await canaries.getCanary(undelivered[0]!)).toMatchObject({ deliveredAt: at(700) });
  });
});
