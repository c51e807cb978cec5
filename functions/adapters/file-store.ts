/**
 * The Store over files under a state directory (`--state DIR`), for the CLI and the local loop.
 *
 * Layout:
 *   DIR/health/<target>.json               { version, state }
 *   DIR/history/<target>/rounds.jsonl       the history as JSON Lines, one record per line,
 *   DIR/history/<target>/bounces.jsonl      only ever appended (a bounce storm costs one short
 *   DIR/history/<target>/alerts.jsonl       write per bounce, not a rewrite of the history)
 *   DIR/history/<target>/retention.jsonl    what retention removed, when and why
 *   DIR/history/%none/…                     bounces and alerts without a target
 *   DIR/canaries.json                      sent canaries of the last `canaryRetentionDays`
 *   DIR/sender-auth.json                   per target: latest delivered canary's verdicts, sending-server check
 *   DIR/claims/<sha256 of key>.json         once-only claims { key, expiresAt }
 *   DIR/digests/<target>.json               the open bounce digest window { version, window }
 *   DIR/locks/<name>.lock                   short-lived cross-process locks
 *
 * Whole-file writes are atomic (a temp file, then rename), so a crash leaves the old or the new
 * file, never half of one; health state and canaries are also fsynced. Appends and claims are
 * not fsynced: they survive a crash of the process (the kernel has them), and a machine that
 * loses power may lose the last seconds of history, never the inbox (see local/intake.ts).
 * The small writes a bounce makes (claims, the history line, the digest window, the locks
 * around them) use the synchronous file calls: each takes microseconds, where a round trip
 * through libuv's thread pool costs about a tenth of a millisecond, and a storm makes tens of
 * them per message (about 45 messages a second before, well over a thousand now).
 * Temp files that a killed process left behind are removed when a store opens the directory.
 *
 * Retention (config `retention`): records older than `historyDays`, and the oldest beyond
 * `historyMaxRecords` per target and list, are removed when the store first touches a list and
 * then at most hourly; each removal is written to retention.jsonl so the report can say what
 * went (nothing is dropped without a word). Read-modify-write and appends happen under a lock
 * file created with O_EXCL, so a `mailhealth check` started while `mailhealth run` is running
 * cannot lose an update. A new process on the same directory continues from the stored state.
 */
import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, futimesSync, openSync, readFileSync, readSync, statSync, unlinkSync, utimesSync, writeFileSync, writeSync } from 'node:fs';
import { appendFile, mkdir, open, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DigestWindow } from '#core/alert/digest.ts';
import { StateError } from '#core/errors.ts';
import type { HealthState } from '#core/health/state.ts';
import type { SenderAuthMemo } from '#core/auth/facts.ts';
import type { AlertRecord, BounceRecord, CanaryRecord } from '#core/health/records.ts';
import type { Store, Versioned } from '#core/ports.ts';
import type { TargetResult } from '#core/results.ts';

/** Where the file store keeps its files and how much history it keeps. */
export interface FileStoreOptions {
  /** The state directory; created when missing. */
  readonly dir: string;
  /**
   * How long and how much history is kept (config `retention`). Only a store given this removes
   * anything: readers (the report, `suppressions`) never do, whatever their own defaults.
   */
  readonly retention?: { readonly historyDays: number; readonly historyMaxRecords: number };
  /** @default 7 */
  readonly canaryRetentionDays?: number;
  /** Milliseconds since the epoch, for claim expiry and retention. @default Date.now */
  readonly now?: () => number;
}

/** The lists of a target's history. */
export type HistoryList = 'rounds' | 'bounces' | 'alerts';

/** One line of `history/<target>/retention.jsonl`: what retention removed from a list. */
export interface RetentionNote {
  /** ISO time of the removal. */
  readonly at: string;
  readonly list: HistoryList;
  readonly removed: number;
  /** `age`: older than `historyDays`; `count`: beyond `historyMaxRecords`; `unreadable`: a line cut by a crash. */
  readonly reason: 'age' | 'count' | 'unreadable';
  /** ISO time of the newest record removed (null for unreadable lines). */
  readonly upTo: string | null;
}

// A lock is held for one small read-modify-write; one older than this belongs to a dead process.
const LOCK_STALE_MS = 10_000;
// Waiting longer than this for a lock means something is wrong; say so rather than hang.
const LOCK_WAIT_MS = 5_000;
const LOCK_POLL_MS = 15;
const PRUNE_EVERY_MS = 3600_000;
const RETENTION_EVERY_MS = 3600_000;
// A temp file of a living process older than this is abandoned all the same.
const TEMP_ABANDONED_MS = 10 * 60_000;
// How much of a history file is read at once from its end.
const TAIL_CHUNK_BYTES = 256 * 1024;
const NO_TARGET = '%none';
const RETENTION_FILE = 'retention.jsonl';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}

// encodeURIComponent never yields `%none` (it escapes `%` itself), so NO_TARGET cannot collide.
const dirName = (target: string | null) => (target === null ? NO_TARGET : encodeURIComponent(target));
const targetOfDir = (name: string) => (name === NO_TARGET ? null : decodeURIComponent(name));

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

async function writeAtomic(path: string, data: string, options: { readonly sync: boolean }): Promise<void> {
  const temp = `${path}.${process.pid}.${++tempCounter}.tmp`;
  if (options.sync) await writeDurable(temp, data);
  else await writeFile(temp, data, 'utf8');
  await rename(temp, path);
}

/** readJson without the thread pool, for the small files of the hot path. */
function readJsonSync<T>(path: string, fallback: T): T {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
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

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return isErrno(err, 'EPERM');
  }
}

/**
 * Removes the temp files (`<name>.<pid>[.<n>].tmp`) that a killed process left in `dir`: those
 * of processes that are gone, and any older than ten minutes. Resolves with how many.
 * @example await removeLeftoverTemps(join(stateDir, 'inbox'));
 */
export async function removeLeftoverTemps(dir: string, options: { readonly nowMs?: number } = {}): Promise<number> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const nowMs = options.nowMs ?? Date.now();
  let removed = 0;
  for (const name of names) {
    const m = /\.(\d+)(?:\.\d+)?\.tmp$/.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid) continue;
    const info = await stat(join(dir, name)).catch(() => null);
    if (!info?.isFile()) continue;
    if (processAlive(pid) && nowMs - info.mtimeMs < TEMP_ABANDONED_MS) continue;
    await unlink(join(dir, name)).then(
      () => removed++,
      () => undefined,
    );
  }
  return removed;
}

/** Reads complete lines from the end of a file until at least `want` are in (or the file is read). */
async function tailLines(path: string, want: number): Promise<string[]> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return [];
    throw err;
  }
  try {
    const { size } = await fh.stat();
    if (!Number.isFinite(want)) return (await fh.readFile('utf8')).split('\n');
    let position = size;
    let carry = Buffer.alloc(0);
    const lines: string[] = [];
    while (position > 0 && lines.length < want) {
      const length = Math.min(TAIL_CHUNK_BYTES, position);
      position -= length;
      const chunk = Buffer.alloc(length);
      await fh.read(chunk, 0, length, position);
      const buffer = Buffer.concat([chunk, carry]);
      const parts = buffer.toString('utf8').split('\n');
      // The first part may be the end of a line that starts in an earlier chunk.
      carry = position > 0 ? Buffer.from(parts.shift() ?? '', 'utf8') : Buffer.alloc(0);
      lines.unshift(...parts);
    }
    if (carry.length > 0) lines.unshift(carry.toString('utf8'));
    return lines;
  } finally {
    await fh.close();
  }
}

/**
 * Appends whole lines without a lock: O_APPEND makes each write land at the end, and a file that
 * retention replaced meanwhile (unlinked: no links left) gets the lines again in its successor.
 * A line written twice that way is read once (records are unique by identity).
 */
function appendLine(path: string, text: string): void {
  for (let attempt = 0; attempt < 3; attempt++) {
    const fd = openSync(path, 'a');
    try {
      writeSync(fd, text);
      if (fstatSync(fd).nlink > 0) return;
    } finally {
      closeSync(fd);
    }
  }
}

/** How one history list identifies, dates and validates its records. */
interface ListSpec<T> {
  readonly file: string;
  identity(record: T): string;
  time(record: T): string;
}

const ROUNDS: ListSpec<TargetResult> = { file: 'rounds', identity: (r) => r.canaryId, time: (r) => r.startedAt };
const BOUNCES: ListSpec<BounceRecord> = {
  file: 'bounces',
  identity: (b) => b.key ?? `${b.at}|${b.canaryId ?? ''}|${b.recipient.recipient}`,
  time: (b) => b.at,
};
const ALERTS: ListSpec<AlertRecord> = { file: 'alerts', identity: (a) => `${a.at}|${a.event.key}`, time: (a) => a.at };

function parseLines<T>(lines: readonly string[]): { records: T[]; unreadable: number } {
  const records: T[] = [];
  let unreadable = 0;
  for (const line of lines) {
    if (line.trim() === '') continue;
    try {
      records.push(JSON.parse(line) as T);
    } catch {
      // A line a crash cut short: it is counted (retention reports it), never guessed at.
      unreadable++;
    }
  }
  return { records, unreadable };
}

/** Unique by identity (the last copy wins), newest first. */
function newestFirst<T>(records: readonly T[], spec: ListSpec<T>): T[] {
  const unique = new Map<string, T>();
  for (const r of records) unique.set(spec.identity(r), r);
  // Reversed first: of records with the same time, the one appended last is the newest.
  return [...unique.values()].reverse().sort((a, b) => Date.parse(spec.time(b)) - Date.parse(spec.time(a)));
}

/**
 * Reads what retention removed from the history of a state directory, newest first, per
 * target (null: the records without a target). For the report; never throws for a missing file.
 * @example const notes = await readRetentionNotes('.mailhealth');
 */
export async function readRetentionNotes(dir: string): Promise<{ readonly target: string | null; readonly note: RetentionNote }[]> {
  const names = await readdir(join(dir, 'history')).catch(() => [] as string[]);
  const out: { target: string | null; note: RetentionNote }[] = [];
  for (const name of names) {
    const text = await readFile(join(dir, 'history', name, RETENTION_FILE), 'utf8').catch(() => '');
    for (const note of parseLines<RetentionNote>(text.split('\n')).records) out.push({ target: targetOfDir(name), note });
  }
  return out.sort((a, b) => b.note.at.localeCompare(a.note.at));
}

/**
 * Every bounce record of a state directory (all targets and none), each once, oldest first:
 * the input of `mailhealth suppressions`.
 * @example const records = await readAllBounces('.mailhealth');
 */
export async function readAllBounces(dir: string): Promise<BounceRecord[]> {
  const names = await readdir(join(dir, 'history')).catch(() => [] as string[]);
  const store = createFileStore({ dir });
  const all: BounceRecord[] = [];
  for (const name of names) all.push(...(await store.listBounces(targetOfDir(name), Number.POSITIVE_INFINITY)));
  return all.reverse().sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
}

/**
 * A Store over files under `options.dir`.
 * @example
 * const store = createFileStore({ dir: '.mailhealth', historyDays: config.retention.historyDays });
 * const events = await recordRound(result, { store, clock, random, config: config.alerts });
 */
export function createFileStore(options: FileStoreOptions): Store {
  const { dir } = options;
  const now = options.now ?? Date.now;
  const historyMs = options.retention ? options.retention.historyDays * 86_400_000 : Number.POSITIVE_INFINITY;
  const maxRecords = options.retention?.historyMaxRecords ?? Number.POSITIVE_INFINITY;
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

  // Temp files of killed processes go before this store's first operation.
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

  /** Runs `fn` after the earlier calls of the same name in this process. */
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

  /** Runs `fn` holding the named lock: serialized in this process, exclusive across processes. */
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

  const healthPath = async (target: string) => join(await ensureDir(join(dir, 'health')), `${dirName(target)}.json`);
  const historyDir = async (target: string | null) => ensureDir(join(dir, 'history', dirName(target)));

  // Per history file: when retention last ran in this process, and appends since.
  const retention = new Map<string, { at: number; appends: number }>();

  /** The history file of a list, migrated from the JSON array of older versions and kept within retention. */
  async function listFile<T>(target: string | null, spec: ListSpec<T>): Promise<string> {
    await ready();
    const folder = await historyDir(target);
    const path = join(folder, `${spec.file}.jsonl`);
    const lockName = `${spec.file}-${dirName(target)}`;
    const seen = retention.get(path);
    const due = !seen || (options.retention !== undefined && (now() - seen.at > RETENTION_EVERY_MS || seen.appends >= Math.max(1000, maxRecords / 2)));
    if (!due) return path;
    retention.set(path, { at: now(), appends: 0 });
    await withLock(lockName, async () => {
      await migrateJsonArray(join(folder, `${spec.file}.json`), path);
      if (options.retention) await applyRetention(folder, path, spec);
    });
    return path;
  }

  async function migrateJsonArray(oldPath: string, path: string): Promise<void> {
    let items: unknown[];
    try {
      items = JSON.parse(await readFile(oldPath, 'utf8')) as unknown[];
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return;
      throw new StateError(`state file ${oldPath} is not valid JSON; move it away to start that part afresh`, { cause: err });
    }
    if (items.length > 0) await appendFile(path, `${items.map((i) => JSON.stringify(i)).join('\n')}\n`);
    await unlink(oldPath);
  }

  async function applyRetention<T>(folder: string, path: string, spec: ListSpec<T>): Promise<void> {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return;
      throw err;
    }
    try {
      await compact(folder, path, spec, fd);
    } finally {
      closeSync(fd);
    }
  }

  /** Rewrites a history file within retention; `fd` holds the file as it was when we started. */
  async function compact<T>(folder: string, path: string, spec: ListSpec<T>, fd: number): Promise<void> {
    const read = fstatSync(fd).size;
    const buffer = Buffer.alloc(read);
    readSync(fd, buffer, 0, read, 0);
    const { records, unreadable } = parseLines<T>(buffer.toString('utf8').split('\n'));
    const cutoff = now() - historyMs;
    const byTime = [...records].sort((a, b) => Date.parse(spec.time(a)) - Date.parse(spec.time(b)));
    const tooOld = byTime.filter((r) => Date.parse(spec.time(r)) < cutoff);
    const young = byTime.slice(tooOld.length);
    const overflow = young.length > maxRecords ? young.slice(0, young.length - maxRecords) : [];
    const kept = young.slice(overflow.length);
    if (tooOld.length === 0 && overflow.length === 0 && unreadable === 0) return;
    await writeAtomic(path, kept.map((r) => `${JSON.stringify(r)}\n`).join(''), { sync: false });
    // Appenders take no lock: what they added to the old file while we worked goes over too
    // (one that writes after this sees the old file unlinked and writes again; see appendLine).
    const end = fstatSync(fd).size;
    if (end > read) {
      const late = Buffer.alloc(end - read);
      readSync(fd, late, 0, end - read, read);
      appendLine(path, late.toString('utf8'));
    }
    const at = new Date(now()).toISOString();
    const notes: RetentionNote[] = [];
    const newest = (rs: readonly T[]) => (rs.length ? spec.time(rs[rs.length - 1]!) : null);
    if (tooOld.length) notes.push({ at, list: spec.file as HistoryList, removed: tooOld.length, reason: 'age', upTo: newest(tooOld) });
    if (overflow.length) notes.push({ at, list: spec.file as HistoryList, removed: overflow.length, reason: 'count', upTo: newest(overflow) });
    if (unreadable) notes.push({ at, list: spec.file as HistoryList, removed: unreadable, reason: 'unreadable', upTo: null });
    await appendFile(join(folder, RETENTION_FILE), notes.map((n) => `${JSON.stringify(n)}\n`).join(''));
  }

  async function append<T>(target: string | null, spec: ListSpec<T>, record: T): Promise<void> {
    const path = await listFile(target, spec);
    appendLine(path, `${JSON.stringify(record)}\n`);
    const seen = retention.get(path);
    if (seen) seen.appends++;
  }

  async function listNewest<T>(target: string | null, spec: ListSpec<T>, limit: number): Promise<T[]> {
    if (limit <= 0) return [];
    const path = await listFile(target, spec);
    // Records come roughly in time order; a margin covers the ones a restart appended late.
    const want = Number.isFinite(limit) ? limit * 2 + 50 : Number.POSITIVE_INFINITY;
    return newestFirst(parseLines<T>(await tailLines(path, want)).records, spec).slice(0, limit);
  }

  // canaries.json is read for every delivered canary and bounce: kept parsed while it is unchanged.
  const canariesPath = async () => join(await ensureDir(dir), 'canaries.json');
  type CanaryMap = Record<string, CanaryRecord>;
  let canaryCache: { stamp: string; map: CanaryMap } | null = null;
  async function readCanaries(): Promise<CanaryMap> {
    const path = await canariesPath();
    const info = statSync(path, { throwIfNoEntry: false });
    if (!info) return {};
    const stamp = `${info.ino}:${info.size}:${info.mtimeMs}`;
    if (canaryCache?.stamp !== stamp) canaryCache = { stamp, map: await readJson<CanaryMap>(path, {}) };
    return canaryCache.map;
  }
  async function writeCanaries(all: CanaryMap): Promise<void> {
    canaryCache = null;
    await writeAtomic(await canariesPath(), JSON.stringify(all), { sync: true });
  }

  const digestPath = async (target: string | null) => join(await ensureDir(join(dir, 'digests')), `${dirName(target)}.json`);

  // A digest window is rewritten for every bounce of a storm: in place (no new file, no
  // rename), padded with spaces to the length it had, so it is never shorter than what it
  // replaces and JSON reads it whole. One the power cut in half reads as no window (its
  // bounces stay in the history; only the count of the next digest is smaller).
  function readDigest(path: string): { version: number; window: DigestWindow | null } | null {
    try {
      return readJsonSync<{ version: number; window: DigestWindow | null } | null>(path, null);
    } catch {
      return null;
    }
  }
  function writeDigest(path: string, text: string): void {
    const fd = openSync(path, constants.O_RDWR | constants.O_CREAT, 0o644);
    try {
      const size = fstatSync(fd).size;
      writeSync(fd, text.padEnd(size, ' '), 0);
    } finally {
      closeSync(fd);
    }
  }

  // A claim is an empty file whose modification time is its expiry: creating it with O_EXCL is
  // the atomic test-and-set, and no data is written (claims of older versions hold JSON).
  function claimExpiry(path: string): number | null {
    const info = statSync(path, { throwIfNoEntry: false });
    if (!info) return null;
    if (info.size === 0) return info.mtimeMs;
    try {
      const doc = JSON.parse(readFileSync(path, 'utf8')) as { expiresAt?: unknown };
      return typeof doc.expiresAt === 'number' ? doc.expiresAt : info.mtimeMs;
    } catch {
      return info.mtimeMs;
    }
  }

  function createClaim(path: string, expiresAtMs: number): boolean {
    let fd: number;
    try {
      fd = openSync(path, 'wx');
    } catch (err) {
      if (isErrno(err, 'EEXIST')) return false;
      throw err;
    }
    try {
      futimesSync(fd, expiresAtMs / 1000, expiresAtMs / 1000);
    } finally {
      closeSync(fd);
    }
    return true;
  }

  const senderAuthPath = async () => join(await ensureDir(dir), 'sender-auth.json');

  async function pruneClaims(claimsDir: string): Promise<void> {
    lastPrune = now();
    for (const name of await readdir(claimsDir)) {
      if (!name.endsWith('.json')) continue;
      const expires = claimExpiry(join(claimsDir, name));
      if (expires !== null && expires <= now()) await unlink(join(claimsDir, name)).catch(() => undefined);
    }
  }

  const claimPath = (key: string) => join(dir, 'claims', `${createHash('sha256').update(key).digest('hex')}.json`);

  return {
    async getHealth(target: string): Promise<Versioned<HealthState> | null> {
      await ready();
      const doc = await readJson<{ version: number; state: HealthState } | null>(await healthPath(target), null);
      return doc === null ? null : { value: doc.state, version: doc.version };
    },

    async putHealth(target: string, state: HealthState, expectedVersion: number | null): Promise<boolean> {
      await ready();
      const path = await healthPath(target);
      return withLock(`health-${dirName(target)}`, async () => {
        const doc = await readJson<{ version: number } | null>(path, null);
        if ((doc?.version ?? null) !== expectedVersion) return false;
        await writeAtomic(path, JSON.stringify({ version: (expectedVersion ?? 0) + 1, state }, null, 2), { sync: true });
        return true;
      });
    },

    async release(key: string): Promise<void> {
      await unlink(claimPath(key)).catch((err: unknown) => {
        if (!isErrno(err, 'ENOENT')) throw err;
      });
    },

    async claimedUntil(key: string): Promise<string | null> {
      const expires = claimExpiry(claimPath(key));
      if (expires === null || expires <= now()) return null;
      return new Date(expires).toISOString();
    },

    async claim(key: string, ttlSeconds: number): Promise<boolean> {
      await ready();
      const claimsDir = await ensureDir(join(dir, 'claims'));
      if (now() - lastPrune > PRUNE_EVERY_MS) await pruneClaims(claimsDir);
      const path = claimPath(key);
      const expiresAt = now() + ttlSeconds * 1000;
      if (createClaim(path, expiresAt)) return true;
      const hash = path.slice(path.lastIndexOf('/') + 1, -'.json'.length);
      return withLock(`claim-${hash}`, async () => {
        const existing = claimExpiry(path);
        if (existing !== null && existing > now()) return false;
        // Vanished meanwhile (released): only a fresh exclusive create may take it.
        if (existing === null) return createClaim(path, expiresAt);
        // Expired: taken over in place, under the lock.
        writeFileSync(path, '');
        utimesSync(path, expiresAt / 1000, expiresAt / 1000);
        return true;
      });
    },

    async appendRound(result: TargetResult): Promise<void> {
      await append(result.name, ROUNDS, result);
    },

    async listRounds(target: string, limit: number): Promise<TargetResult[]> {
      return listNewest(target, ROUNDS, limit);
    },

    async appendBounce(record: BounceRecord): Promise<void> {
      await append(record.target, BOUNCES, record);
    },

    async listBounces(target: string | null, limit: number): Promise<BounceRecord[]> {
      return listNewest(target, BOUNCES, limit);
    },

    async appendAlert(record: AlertRecord): Promise<void> {
      await append(record.event.target, ALERTS, record);
    },

    async listAlerts(target: string | null, limit: number): Promise<AlertRecord[]> {
      return listNewest(target, ALERTS, limit);
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

    async getDigest(target: string | null): Promise<Versioned<DigestWindow | null> | null> {
      await ready();
      const doc = readDigest(await digestPath(target));
      return doc === null ? null : { value: doc.window, version: doc.version };
    },

    async putDigest(target: string | null, window: DigestWindow | null, expectedVersion: number | null): Promise<boolean> {
      await ready();
      const path = await digestPath(target);
      // One process (the run loop) keeps the digests of a state directory: its calls take turns.
      return serialized(`digest-${dirName(target)}`, async () => {
        if ((readDigest(path)?.version ?? null) !== expectedVersion) return false;
        writeDigest(path, JSON.stringify({ version: (expectedVersion ?? 0) + 1, window }));
        return true;
      });
    },

    async listDigests(): Promise<Versioned<DigestWindow>[]> {
      await ready();
      const folder = join(dir, 'digests');
      const names = await readdir(folder).catch(() => [] as string[]);
      const out: Versioned<DigestWindow>[] = [];
      for (const name of names.filter((n) => n.endsWith('.json')).sort()) {
        const doc = readDigest(join(folder, name));
        if (doc?.window) out.push({ value: doc.window, version: doc.version });
      }
      return out;
    },

    async putCanary(record: CanaryRecord): Promise<void> {
      await ready();
      await withLock('canaries', async () => {
        const all = { ...(await readCanaries()) };
        const cutoff = now() - canaryRetentionMs;
        for (const [id, c] of Object.entries(all)) if (Date.parse(c.sentAt) < cutoff) delete all[id];
        all[record.id] = { ...record, deliveredAt: all[record.id]?.deliveredAt ?? record.deliveredAt };
        await writeCanaries(all);
      });
    },

    async getCanary(id: string): Promise<CanaryRecord | null> {
      return (await readCanaries())[id] ?? null;
    },

    async listCanaries(target: string, limit: number): Promise<CanaryRecord[]> {
      return Object.values(await readCanaries())
        .filter((c) => c.target === target)
        .sort((a, b) => Date.parse(b.sentAt) - Date.parse(a.sentAt))
        .slice(0, Math.max(0, limit));
    },

    async markDelivered(id: string, at: string) {
      await ready();
      return withLock('canaries', async () => {
        const all = { ...(await readCanaries()) };
        const record = all[id];
        if (record === undefined) return null;
        if (record.deliveredAt !== null) return { record, first: false };
        const updated = { ...record, deliveredAt: at };
        all[id] = updated;
        await writeCanaries(all);
        return { record: updated, first: true };
      });
    },

    async getSenderAuth(target: string): Promise<SenderAuthMemo> {
      const all = await readJson<Record<string, Partial<SenderAuthMemo>>>(await senderAuthPath(), {});
      return { delivery: all[target]?.delivery ?? null, sendingIp: all[target]?.sendingIp ?? null };
    },

    async putSenderAuth(target: string, parts: Partial<SenderAuthMemo>): Promise<void> {
      const path = await senderAuthPath();
      await withLock('sender-auth', async () => {
        const all = await readJson<Record<string, Partial<SenderAuthMemo>>>(path, {});
        all[target] = { ...all[target], ...parts };
        await writeAtomic(path, JSON.stringify(all), { sync: true });
      });
    },

    async listUndelivered(target: string, window: { sentAfter: string; sentBefore: string; limit: number }): Promise<CanaryRecord[]> {
      const after = Date.parse(window.sentAfter);
      const before = Date.parse(window.sentBefore);
      return Object.values(await readCanaries())
        .filter((c) => c.target === target && c.deliveredAt === null)
        .filter((c) => Date.parse(c.sentAt) >= after && Date.parse(c.sentAt) < before)
        .sort((a, b) => Date.parse(a.sentAt) - Date.parse(b.sentAt))
        .slice(0, window.limit);
    },
  };
}
