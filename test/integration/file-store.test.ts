import { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createFileStore } from '#adapters/file-store.ts';
import { StateError } from '#core/errors.ts';
import { initialHealthState } from '#core/health/state.ts';
import { at, canaryAt, round, T0 } from '../helpers/alert-fixtures.ts';
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
    for (const f of files) expect(() => JSON.parse(text[f] ?? '')).not.toThrow();
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

  it('keeps only the last maxRounds rounds per target', async () => {
    // Prepare
    const store = createFileStore({ dir: await freshDir(), maxRounds: 3 });

    // Act
    for (let m = 0; m < 6; m++) await store.appendRound(round('ok', at(m), { canaryId: canaryAt(m) }));

    // Assess
    expect((await store.listRounds('shop', 10)).map((r) => r.startedAt)).toEqual([at(5), at(4), at(3)]);
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
});
