/**
 * The PlacementStore over files under the state directory (the CLI and the local loop).
 *
 * Layout:
 *   DIR/placement/<target>.json        { records: PlacementRecord[] } of the last `historyDays`
 *                                      (at most `maxRecords`, the newest kept), oldest first
 *   DIR/placement/seeds/<seed>.json    { version, state } the seed's login state
 *   DIR/placement/<name>.lock          short-lived cross-process lock of one file's update
 *
 * A target's records are few (one per canary and seed: 288 a day at a 5-minute round trip), so
 * an update rewrites its file: atomically (a temp file, then rename) under an O_EXCL lock file,
 * so a `mailhealth check --state` beside a running `mailhealth run` loses nothing.
 */
import { closeSync, openSync } from 'node:fs';
import { mkdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StateError } from '#core/errors.ts';
import type { PlacementStore } from '#core/ports.ts';
import type { SeedState } from '#core/placement/seed-health.ts';
import type { PlacementRecord } from '#core/placement/verdict.ts';

/** Where the store keeps its files and how much it keeps. */
export interface PlacementFileStoreOptions {
  /** The state directory (the placement files go to `placement/` inside it). */
  readonly dir: string;
  /** Days records are kept. @default 35 (retention.historyDays) */
  readonly historyDays?: number;
  /** Records kept per target at most. @default 20000 */
  readonly maxRecords?: number;
  /** Milliseconds since the epoch. @default Date.now */
  readonly now?: () => number;
}

// A lock is held for one read-modify-write; one older than this belongs to a dead process.
const LOCK_STALE_MS = 10_000;
const LOCK_WAIT_MS = 5_000;
const LOCK_POLL_MS = 15;

const isErrno = (err: unknown, code: string) => (err as NodeJS.ErrnoException | null)?.code === code;
const byCanaryThenSeed = (a: PlacementRecord, b: PlacementRecord) => (a.canaryId === b.canaryId ? (a.seed < b.seed ? -1 : a.seed > b.seed ? 1 : 0) : a.canaryId < b.canaryId ? -1 : 1);

/**
 * A PlacementStore under `<dir>/placement`.
 * @example const placements = createPlacementFileStore({ dir: '.mailhealth', historyDays: config.retention.historyDays });
 */
export function createPlacementFileStore(options: PlacementFileStoreOptions): PlacementStore {
  const root = join(options.dir, 'placement');
  const now = options.now ?? Date.now;
  const maxRecords = options.maxRecords ?? 20_000;
  const historyMs = (options.historyDays ?? 35) * 86_400_000;
  const queues = new Map<string, Promise<unknown>>();

  async function lock(name: string): Promise<() => Promise<void>> {
    const path = join(root, `${name}.lock`);
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (;;) {
      try {
        closeSync(openSync(path, 'wx'));
        return () => unlink(path).catch(() => undefined);
      } catch (err) {
        if (!isErrno(err, 'EEXIST')) throw err;
      }
      const mtime = await stat(path).then((s) => s.mtimeMs).catch(() => null);
      if (mtime !== null && Date.now() - mtime > LOCK_STALE_MS) {
        await unlink(path).catch(() => undefined);
        continue;
      }
      if (Date.now() > deadline) throw new StateError(`placement file ${name} stays locked (${path}); is another mailhealth stuck?`);
      await new Promise((r) => setTimeout(r, LOCK_POLL_MS));
    }
  }

  /** Runs `fn` holding the named lock, after this process's earlier calls of the same name. */
  function locked<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const previous = queues.get(name) ?? Promise.resolve();
    const run = previous.then(async () => {
      await mkdir(join(root, 'seeds'), { recursive: true });
      const unlock = await lock(name);
      try {
        return await fn();
      } finally {
        await unlock();
      }
    });
    const settled = run.catch(() => undefined);
    queues.set(name, settled);
    return run;
  }

  async function readJson<T>(path: string): Promise<T | null> {
    try {
      return JSON.parse(await readFile(path, 'utf8')) as T;
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return null;
      if (err instanceof SyntaxError) throw new StateError(`placement file ${path} is not valid JSON; move it away to start over (${err.message})`, { cause: err });
      throw err;
    }
  }

  async function writeJson(path: string, value: unknown): Promise<void> {
    const tmp = `${path}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(value));
    await rename(tmp, path);
  }

  const targetFile = (target: string) => join(root, `${target}.json`);
  const seedFile = (seed: string) => join(root, 'seeds', `${seed}.json`);

  const store: PlacementStore = {
    putPlacement(record) {
      return locked(`target-${record.target}`, async () => {
        const file = targetFile(record.target);
        const current = (await readJson<{ records: PlacementRecord[] }>(file))?.records ?? [];
        const cutoff = new Date(now() - historyMs).toISOString();
        const kept = current.filter((r) => !(r.canaryId === record.canaryId && r.seed === record.seed) && r.sentAt >= cutoff);
        kept.push(record);
        kept.sort(byCanaryThenSeed);
        await writeJson(file, { records: kept.slice(-maxRecords) });
      });
    },

    async listPlacements(target, { sentAfter, limit }) {
      const records = (await readJson<{ records: PlacementRecord[] }>(targetFile(target)))?.records ?? [];
      return records
        .filter((r) => r.sentAt >= sentAfter)
        .sort(byCanaryThenSeed)
        .reverse()
        .slice(0, limit);
    },

    async getSeedState(seed) {
      const doc = await readJson<{ version: number; state: SeedState }>(seedFile(seed));
      return doc ? { value: doc.state, version: doc.version } : null;
    },

    putSeedState(seed, state, expectedVersion) {
      return locked(`seed-${seed}`, async () => {
        const current = await readJson<{ version: number; state: SeedState }>(seedFile(seed));
        if ((current?.version ?? null) !== expectedVersion) return false;
        await writeJson(seedFile(seed), { version: (expectedVersion ?? 0) + 1, state } satisfies { version: number; state: SeedState });
        return true;
      });
    },
  };
  return store;
}
