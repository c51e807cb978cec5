/**
 * The file calls every part of the file store shares: atomic whole-file writes, JSON reads that
 * name the broken file, appends of whole lines, reading a history file from its end, and the
 * clean-up of temp files a killed process left behind.
 */
import { closeSync, fstatSync, openSync, readFileSync, readSync, writeSync } from 'node:fs';
import { open, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StateError } from '#core/errors.ts';

// A temp file of a living process older than this is abandoned all the same.
const TEMP_ABANDONED_MS = 10 * 60_000;
// How much of a history file is read first from its end, and at most at once after that.
const TAIL_FIRST_CHUNK_BYTES = 16 * 1024;
const TAIL_CHUNK_BYTES = 1024 * 1024;

/** The folder name of the records that belong to no target. */
export const NO_TARGET = '%none';

/** True when `err` is a Node system error with this `code` (ENOENT, EEXIST, …). */
export function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}

// encodeURIComponent never yields `%none` (it escapes `%` itself), so NO_TARGET cannot collide.
/** The file or folder name of a target (null: the records without one). */
export const dirName = (target: string | null): string => (target === null ? NO_TARGET : encodeURIComponent(target));
/** The target a file or folder name stands for (null: `%none`). */
export const targetOfDir = (name: string): string | null => (name === NO_TARGET ? null : decodeURIComponent(name));

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

/**
 * Replaces a file whole: a temp file beside it, then a rename, so a crash leaves the old or the
 * new file, never half of one. `sync` also flushes the data to disk before the rename.
 */
export async function writeAtomic(path: string, data: string, options: { readonly sync: boolean }): Promise<void> {
  const temp = `${path}.${process.pid}.${++tempCounter}.tmp`;
  if (options.sync) await writeDurable(temp, data);
  else await writeFile(temp, data, 'utf8');
  await rename(temp, path);
}

function parseStateJson<T>(path: string, text: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new StateError(`state file ${path} is not valid JSON; move it away to start that part afresh`, { cause: err });
  }
}

/** readJson without the thread pool, for the small files of the hot path. */
export function readJsonSync<T>(path: string, fallback: T): T {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return fallback;
    throw err;
  }
  return parseStateJson<T>(path, text);
}

/** A JSON state file, or `fallback` when it does not exist; a StateError naming it when it is not JSON. */
export async function readJson<T>(path: string, fallback: T): Promise<T> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return fallback;
    throw err;
  }
  return parseStateJson<T>(path, text);
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

/**
 * The last `want` complete lines of a file (all of them when the file has fewer), read from its
 * end in growing chunks: asking for a few lines of a long history reads a few kilobytes. The
 * reads are synchronous: each takes microseconds, less than a trip through the thread pool.
 */
export async function tailLines(path: string, want: number): Promise<string[]> {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return [];
    throw err;
  }
  try {
    const size = fstatSync(fd).size;
    if (!Number.isFinite(want)) {
      const all = Buffer.alloc(size);
      readSync(fd, all, 0, size, 0);
      return all.toString('utf8').split('\n');
    }
    let position = size;
    let carry = Buffer.alloc(0);
    let chunkSize = TAIL_FIRST_CHUNK_BYTES;
    const chunks: string[][] = [];
    let count = 0;
    // One more than wanted: a file's last "line" is the empty text after its final newline.
    while (position > 0 && count <= want) {
      const length = Math.min(chunkSize, position);
      chunkSize = Math.min(TAIL_CHUNK_BYTES, chunkSize * 4);
      position -= length;
      const chunk = Buffer.alloc(length);
      readSync(fd, chunk, 0, length, position);
      const buffer = carry.length ? Buffer.concat([chunk, carry]) : chunk;
      // The first part may be the end of a line that starts in an earlier chunk: kept as bytes.
      const cut = position > 0 ? buffer.indexOf(10) : -1;
      carry = cut >= 0 ? buffer.subarray(0, cut) : position > 0 ? buffer : Buffer.alloc(0);
      if (cut < 0 && position > 0) continue;
      const parts = buffer.subarray(cut + 1).toString('utf8').split('\n');
      chunks.unshift(parts);
      count += parts.length;
    }
    const lines = ([] as string[]).concat(...chunks);
    if (carry.length > 0) lines.unshift(carry.toString('utf8'));
    return lines.length > want + 1 ? lines.slice(lines.length - want - 1) : lines;
  } finally {
    closeSync(fd);
  }
}

/**
 * Appends whole lines without a lock: O_APPEND makes each write land at the end, and a file that
 * retention replaced meanwhile (unlinked: no links left) gets the lines again in its successor.
 * A line written twice that way is read once (records are unique by identity).
 */
export function appendLine(path: string, text: string): void {
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
