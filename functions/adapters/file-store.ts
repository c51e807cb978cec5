/**
 * The Store over files under a state directory (`--state DIR`), for the CLI and the local loop.
 *
 * Layout (JSON files, all written atomically: a temp file, fsync, then rename, so a crash
 * leaves the old or the new file, never half of one):
 *   DIR/health/<target>.json              { version, state }
 *   DIR/history/<target>/rounds.json       the last `maxRounds` results, oldest first
 *   DIR/history/<target>/bounces.json      the last `maxBounces` bounce records
 *   DIR/history/<target>/alerts.json       the last `maxAlerts` alert records
 *   DIR/history/%none/…                    bounces and alerts without a target
 *   DIR/canaries.json                     sent canaries of the last `canaryRetentionDays`
 *   DIR/claims/<sha256 of key>.json        once-only claims { key, expiresAt }
 *   DIR/locks/<name>.lock                  short-lived cross-process locks
 * Read-modify-write happens under a lock file created with O_EXCL, so a `mailhealth check`
 * started while `mailhealth run` is running cannot lose an update. A new process on the same
 * directory continues from the stored state.
 */
import { createHash } from 'node:crypto';
import { link, mkdir, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { StateError } from '#core/errors.ts';
import type { HealthState } from '#core/health/state.ts';
import type { AlertRecord, BounceRecord, CanaryRecord } from '#core/health/records.ts';
import type { Store, Versioned } from '#core/ports.ts';
import type { TargetResult } from '#core/results.ts';

/** Where the file store keeps its files and how much history it keeps. */
export interface FileStoreOptions {
  /** The state directory; created when missing. */
  readonly dir: string;
  /**
   * Rounds kept per target for the report.
   * @default 2016 (a week at one round every 5 minutes)
   */
  readonly maxRounds?: number;
  /** @default 500 */
  readonly maxBounces?: number;
  /** @default 500 */
  readonly maxAlerts?: number;
  /** @default 7 */
  readonly canaryRetentionDays?: number;
  /** Milliseconds since the epoch, for claim expiry and canary retention. @default Date.now */
  readonly now?: () => number;
}

// A lock is held for one small read-modify-write; one older than this belongs to a dead process.
const LOCK_STALE_MS = 10_000;
// Waiting longer than this for a lock means something is wrong; say so rather than hang.
const LOCK_WAIT_MS = 5_000;
const LOCK_POLL_MS = 15;
const PRUNE_EVERY_MS = 3600_000;
const NO_TARGET = '%none';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}

// encodeURIComponent never yields `%none` (it escapes `%` itself), so NO_TARGET cannot collide.
const dirName = (target: string | null) => (target === null ? NO_TARGET : encodeURIComponent(target));

let tempCounter = 0;

async function writeDurable(path: string, data: string): Promise<void> {
  const fh = await open(path, 'w');
  try {
    await fh.writeFile(data, 'utf8');
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function writeAtomic(path: string, data: string): Promise<void> {
  const temp = `${path}.${process.pid}.${++tempCounter}.tmp`;
  await writeDurable(temp, data);
  await rename(temp, path);
}

async function readJson<T>(path: string, fallback: T): Promise<T> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return fallback;
    throw err;
  }
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new StateError(`state file ${path} is not valid JSON; move it away to start that part afresh`, { cause: err });
  }
}

/**
 * A Store over files under `options.dir`.
 * @example
 * const store = createFileStore({ dir: '.mailhealth' });
 * const events = await recordRound(result, { store, clock, random, config: config.alerts });
 */
export function createFileStore(options: FileStoreOptions): Store {
  const { dir } = options;
  const now = options.now ?? Date.now;
  const maxRounds = options.maxRounds ?? 2016;
  const maxBounces = options.maxBounces ?? 500;
  const maxAlerts = options.maxAlerts ?? 500;
  const canaryRetentionMs = (options.canaryRetentionDays ?? 7) * 86_400_000;
  const queues = new Map<string, Promise<unknown>>();
  let lastPrune = 0;

  const ensured = new Set<string>();
  async function ensureDir(path: string): Promise<string> {
    if (!ensured.has(path)) {
      await mkdir(path, { recursive: true });
      ensured.add(path);
    }
    return path;
  }

  async function acquire(lockPath: string): Promise<void> {
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (;;) {
      try {
        const fh = await open(lockPath, 'wx');
        await fh.writeFile(String(process.pid));
        await fh.close();
        return;
      } catch (err) {
        if (!isErrno(err, 'EEXIST')) throw err;
      }
      try {
        const { mtimeMs } = await stat(lockPath);
        if (Date.now() - mtimeMs > LOCK_STALE_MS) {
          await unlink(lockPath).catch(() => undefined);
          continue;
        }
      } catch (err) {
        if (isErrno(err, 'ENOENT')) continue;
        throw err;
      }
      if (Date.now() > deadline) throw new StateError(`state directory ${dir} stays locked (${lockPath}); is another mailhealth stuck?`);
      await sleep(LOCK_POLL_MS);
    }
  }

  /** Runs `fn` holding the named lock: serialized in this process, exclusive across processes. */
  function withLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const previous = queues.get(name) ?? Promise.resolve();
    const run = previous.then(async () => {
      const lockPath = join(await ensureDir(join(dir, 'locks')), `${name}.lock`);
      await acquire(lockPath);
      try {
        return await fn();
      } finally {
        await unlink(lockPath).catch(() => undefined);
      }
    });
    const settled = run.catch(() => undefined);
    queues.set(name, settled);
    void settled.then(() => {
      if (queues.get(name) === settled) queues.delete(name);
    });
    return run;
  }

  const healthPath = async (target: string) => join(await ensureDir(join(dir, 'health')), `${dirName(target)}.json`);
  const historyPath = async (target: string | null, file: string) => join(await ensureDir(join(dir, 'history', dirName(target))), file);

  async function appendBounded<T>(path: string, item: T, same: (a: T) => boolean, order: (a: T) => number, max: number, lockName: string) {
    await withLock(lockName, async () => {
      const items = await readJson<T[]>(path, []);
      if (items.some(same)) return;
      items.push(item);
      items.sort((a, b) => order(a) - order(b));
      await writeAtomic(path, JSON.stringify(items.slice(-max)));
    });
  }

  async function listNewest<T>(path: string, limit: number): Promise<T[]> {
    const items = await readJson<T[]>(path, []);
    return items.slice(-Math.max(0, limit)).reverse();
  }

  const canariesPath = async () => join(await ensureDir(dir), 'canaries.json');
  type CanaryMap = Record<string, CanaryRecord>;

  async function pruneClaims(claimsDir: string): Promise<void> {
    lastPrune = now();
    for (const name of await readdir(claimsDir)) {
      if (!name.endsWith('.json')) continue;
      const claim = await readJson<{ expiresAt?: number } | null>(join(claimsDir, name), null).catch(() => null);
      if (claim && typeof claim.expiresAt === 'number' && claim.expiresAt <= now()) await unlink(join(claimsDir, name)).catch(() => undefined);
    }
  }

  return {
    async getHealth(target: string): Promise<Versioned<HealthState> | null> {
      const doc = await readJson<{ version: number; state: HealthState } | null>(await healthPath(target), null);
      return doc === null ? null : { value: doc.state, version: doc.version };
    },

    async putHealth(target: string, state: HealthState, expectedVersion: number | null): Promise<boolean> {
      const path = await healthPath(target);
      return withLock(`health-${dirName(target)}`, async () => {
        const doc = await readJson<{ version: number } | null>(path, null);
        if ((doc?.version ?? null) !== expectedVersion) return false;
        await writeAtomic(path, JSON.stringify({ version: (expectedVersion ?? 0) + 1, state }, null, 2));
        return true;
      });
    },

    async release(key: string): Promise<void> {
      const hash = createHash('sha256').update(key).digest('hex');
      await unlink(join(dir, 'claims', `${hash}.json`)).catch((err: unknown) => {
        if (!isErrno(err, 'ENOENT')) throw err;
      });
    },

    async claimedUntil(key: string): Promise<string | null> {
      const hash = createHash('sha256').update(key).digest('hex');
      const claim = await readJson<{ expiresAt?: number } | null>(join(dir, 'claims', `${hash}.json`), null).catch(() => null);
      if (!claim || typeof claim.expiresAt !== 'number' || claim.expiresAt <= now()) return null;
      return new Date(claim.expiresAt).toISOString();
    },

    async claim(key: string, ttlSeconds: number): Promise<boolean> {
      const claimsDir = await ensureDir(join(dir, 'claims'));
      if (now() - lastPrune > PRUNE_EVERY_MS) await pruneClaims(claimsDir);
      const hash = createHash('sha256').update(key).digest('hex');
      const path = join(claimsDir, `${hash}.json`);
      const body = JSON.stringify({ key, expiresAt: now() + ttlSeconds * 1000 });
      // link() of a complete temp file creates the claim atomically and fails if it exists.
      const temp = `${path}.${process.pid}.${++tempCounter}.tmp`;
      await writeDurable(temp, body);
      try {
        await link(temp, path);
        return true;
      } catch (err) {
        if (!isErrno(err, 'EEXIST')) throw err;
      } finally {
        await unlink(temp).catch(() => undefined);
      }
      return withLock(`claim-${hash}`, async () => {
        const existing = await readJson<{ expiresAt?: number } | null>(path, null).catch(() => null);
        if (existing && typeof existing.expiresAt === 'number' && existing.expiresAt > now()) return false;
        if (existing === null) {
          // Unreadable or vanished meanwhile: only a fresh exclusive create may take it.
          const again = `${path}.${process.pid}.${++tempCounter}.tmp`;
          await writeDurable(again, body);
          try {
            await link(again, path);
            return true;
          } catch (err) {
            if (isErrno(err, 'EEXIST')) return false;
            throw err;
          } finally {
            await unlink(again).catch(() => undefined);
          }
        }
        await writeAtomic(path, body);
        return true;
      });
    },

    async appendRound(result: TargetResult): Promise<void> {
      await appendBounded(
        await historyPath(result.name, 'rounds.json'),
        result,
        (r) => r.canaryId === result.canaryId,
        (r) => Date.parse(r.startedAt),
        maxRounds,
        `rounds-${dirName(result.name)}`,
      );
    },

    async listRounds(target: string, limit: number): Promise<TargetResult[]> {
      return listNewest(await historyPath(target, 'rounds.json'), limit);
    },

    async appendBounce(record: BounceRecord): Promise<void> {
      await appendBounded(
        await historyPath(record.target, 'bounces.json'),
        record,
        (b) => b.at === record.at && b.canaryId === record.canaryId && b.recipient.recipient === record.recipient.recipient,
        (b) => Date.parse(b.at),
        maxBounces,
        `bounces-${dirName(record.target)}`,
      );
    },

    async listBounces(target: string | null, limit: number): Promise<BounceRecord[]> {
      return listNewest(await historyPath(target, 'bounces.json'), limit);
    },

    async appendAlert(record: AlertRecord): Promise<void> {
      await appendBounded(
        await historyPath(record.event.target, 'alerts.json'),
        record,
        (a) => a.at === record.at && a.event.key === record.event.key,
        (a) => Date.parse(a.at),
        maxAlerts,
        `alerts-${dirName(record.event.target)}`,
      );
    },

    async listAlerts(target: string | null, limit: number): Promise<AlertRecord[]> {
      return listNewest(await historyPath(target, 'alerts.json'), limit);
    },

    async listTargets(): Promise<string[]> {
      let names: string[];
      try {
        names = await readdir(join(dir, 'health'));
      } catch (err) {
        if (isErrno(err, 'ENOENT')) return [];
        throw err;
      }
      return names
        .filter((n) => n.endsWith('.json'))
        .map((n) => decodeURIComponent(n.slice(0, -'.json'.length)))
        .sort();
    },

    async putCanary(record: CanaryRecord): Promise<void> {
      const path = await canariesPath();
      await withLock('canaries', async () => {
        const all = await readJson<CanaryMap>(path, {});
        const cutoff = now() - canaryRetentionMs;
        for (const [id, c] of Object.entries(all)) if (Date.parse(c.sentAt) < cutoff) delete all[id];
        all[record.id] = { ...record, deliveredAt: all[record.id]?.deliveredAt ?? record.deliveredAt };
        await writeAtomic(path, JSON.stringify(all));
      });
    },

    async getCanary(id: string): Promise<CanaryRecord | null> {
      const all = await readJson<CanaryMap>(await canariesPath(), {});
      return all[id] ?? null;
    },

    async markDelivered(id: string, at: string) {
      const path = await canariesPath();
      return withLock('canaries', async () => {
        const all = await readJson<CanaryMap>(path, {});
        const record = all[id];
        if (record === undefined) return null;
        if (record.deliveredAt !== null) return { record, first: false };
        const updated = { ...record, deliveredAt: at };
        all[id] = updated;
        await writeAtomic(path, JSON.stringify(all));
        return { record: updated, first: true };
      });
    },

    async listUndelivered(target: string, window: { sentAfter: string; sentBefore: string; limit: number }): Promise<CanaryRecord[]> {
      const all = await readJson<CanaryMap>(await canariesPath(), {});
      const after = Date.parse(window.sentAfter);
      const before = Date.parse(window.sentBefore);
      return Object.values(all)
        .filter((c) => c.target === target && c.deliveredAt === null)
        .filter((c) => Date.parse(c.sentAt) >= after && Date.parse(c.sentAt) < before)
        .sort((a, b) => Date.parse(a.sentAt) - Date.parse(b.sentAt))
        .slice(0, window.limit);
    },
  };
}
