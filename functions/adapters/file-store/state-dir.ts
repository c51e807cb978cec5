/**
 * What the parts of one file store share: the state directory, its clock, the folders made so
 * far, the first-use clean-up, and the locks. A lock is a file created with O_EXCL under
 * `DIR/locks/`, so a `mailhealth check` started while `mailhealth run` is running cannot lose an
 * update; within one process, calls for the same lock also take turns without touching a file.
 */
import { closeSync, openSync, unlinkSync } from 'node:fs';
import { mkdir, readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { StateError } from '#core/errors.ts';
import { isErrno, removeLeftoverTemps } from './files.ts';

// A lock is held for one small read-modify-write; one older than this belongs to a dead process.
const LOCK_STALE_MS = 10_000;
// Waiting longer than this for a lock means something is wrong; say so rather than hang.
const LOCK_WAIT_MS = 5_000;
const LOCK_POLL_MS = 15;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** One state directory as the parts of a file store use it. */
export interface StateDir {
  readonly dir: string;
  /** Milliseconds since the epoch (claim expiry, retention). */
  readonly now: () => number;
  /** Creates `path` (recursively) the first time it is asked for; resolves with it. */
  ensureDir(path: string): Promise<string>;
  /** Resolves once temp files of killed processes are gone: every operation awaits it first. */
  ready(): Promise<void>;
  /** Runs `fn` after the earlier calls of the same name in this process. */
  serialized<T>(name: string, fn: () => Promise<T>): Promise<T>;
  /** Runs `fn` holding the named lock: serialized in this process, exclusive across processes. */
  withLock<T>(name: string, fn: () => Promise<T>): Promise<T>;
}

/**
 * Opens a state directory for a store (nothing is touched until the first operation).
 * @example const state = openStateDir('.mailhealth', Date.now);
 */
export function openStateDir(dir: string, now: () => number): StateDir {
  const queues = new Map<string, Promise<unknown>>();
  const ensured = new Set<string>();

  async function ensureDir(path: string): Promise<string> {
    if (!ensured.has(path)) {
      await mkdir(path, { recursive: true });
      ensured.add(path);
    }
    return path;
  }

  let opened: Promise<void> | null = null;
  function ready(): Promise<void> {
    opened ??= (async () => {
      const historyDirs = (await readdir(join(dir, 'history')).catch(() => [] as string[])).map((n) => join(dir, 'history', n));
      for (const d of [dir, join(dir, 'health'), join(dir, 'claims'), join(dir, 'digests'), ...historyDirs]) await removeLeftoverTemps(d);
    })();
    return opened;
  }

  async function acquire(lockPath: string): Promise<void> {
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (;;) {
      try {
        // An empty file: writing into a new file costs far more than creating it.
        closeSync(openSync(lockPath, 'wx'));
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

  function serialized<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const previous = queues.get(name) ?? Promise.resolve();
    const run = previous.then(fn);
    const settled = run.catch(() => undefined);
    queues.set(name, settled);
    void settled.then(() => {
      if (queues.get(name) === settled) queues.delete(name);
    });
    return run;
  }

  function withLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
    return serialized(name, async () => {
      const lockPath = join(await ensureDir(join(dir, 'locks')), `${name}.lock`);
      await acquire(lockPath);
      try {
        return await fn();
      } finally {
        try {
          unlinkSync(lockPath);
        } catch {
          // Taken over as stale by another process: nothing of ours to remove.
        }
      }
    });
  }

  return { dir, now, ensureDir, ready, serialized, withLock };
}
