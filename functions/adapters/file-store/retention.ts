/**
 * Retention of the history lists (config `retention`): records older than `historyDays`, and the
 * oldest beyond `historyMaxRecords` per target and list, are removed by rewriting the list's
 * file, and each removal is written to `history/<target>/retention.jsonl` so the report can say
 * what went (nothing is dropped without a word). Whether a file needs it is told from its first
 * and last bytes (`retentionDue`), and a file is rewritten only once its oldest record is past
 * `historyDays` by a slack (2% of it, at least an hour, spread per file over as much again).
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { appendFile, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { StateError } from '#core/errors.ts';
import { appendLine, isErrno, targetOfDir, writeAtomic } from './files.ts';
import { parseLines, type HistoryList, type ListSpec } from './lists.ts';

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

/** How much history is kept, in the units the compaction works in. */
export interface RetentionPolicy {
  readonly historyMs: number;
  readonly maxRecords: number;
}

const RETENTION_FILE = 'retention.jsonl';
// The head of a file is read this much at a time to find its first record.
const HEAD_CHUNK_BYTES = 8 * 1024;
// No record of any list is shorter: a file smaller than historyMaxRecords of these holds fewer.
const MIN_RECORD_BYTES = 128;
// A file is rewritten once its oldest record is this far beyond historyDays (a share of it, at
// least an hour), later by up to as much again per file: rewriting a five-week history for
// every five-minute round that ages out would rewrite gigabytes an hour at 500 targets, and
// files started together would all be rewritten in the same round.
const AGE_SLACK_SHARE = 0.02;
const AGE_SLACK_MIN_MS = 3600_000;

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

/** Moves the records of an older version's JSON array file into the JSON Lines file, then removes it. */
export async function migrateJsonArray(oldPath: string, path: string): Promise<void> {
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

/** A number in [0, 1) fixed for a path: spreads the rewrites of files started together. */
function spread(path: string): number {
  let h = 2166136261;
  for (let i = 0; i < path.length; i++) h = Math.imul(h ^ path.charCodeAt(i), 16777619);
  return (h >>> 0) / 2 ** 32;
}

function countLines(fd: number, size: number): number {
  const chunk = Buffer.alloc(Math.min(size, 1024 * 1024));
  let lines = 0;
  for (let at = 0; at < size; ) {
    const n = readSync(fd, chunk, 0, Math.min(chunk.length, size - at), at);
    if (n <= 0) break;
    for (let i = chunk.indexOf(10, 0); i !== -1 && i < n; i = chunk.indexOf(10, i + 1)) lines++;
    at += n;
  }
  return lines;
}

/**
 * Whether a list file needs rewriting, told from a few reads instead of the whole file: a last
 * line a crash cut short (no final newline), a first record beyond historyDays by more than the
 * slack, or more lines than historyMaxRecords (counted only when the file is big enough to hold
 * that many). Lines cut short in the middle of a file are found when it is next rewritten.
 */
export function retentionDue<T>(path: string, spec: ListSpec<T>, policy: RetentionPolicy, nowMs: number): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return false;
    throw err;
  }
  try {
    const size = fstatSync(fd).size;
    if (size === 0) return false;
    const last = Buffer.alloc(1);
    readSync(fd, last, 0, 1, size - 1);
    if (last[0] !== 10) return true;
    if (size > policy.maxRecords * MIN_RECORD_BYTES && countLines(fd, size) > policy.maxRecords) return true;
    let head = '';
    for (let at = 0; at < size && !head.includes('\n'); at += HEAD_CHUNK_BYTES) {
      const chunk = Buffer.alloc(Math.min(HEAD_CHUNK_BYTES, size - at));
      readSync(fd, chunk, 0, chunk.length, at);
      head += chunk.toString('utf8');
    }
    const first = parseLines<T>([head.slice(0, head.indexOf('\n'))]);
    if (first.unreadable > 0) return true;
    const record = first.records[0];
    if (record === undefined) return false;
    const slack = Math.max(AGE_SLACK_MIN_MS, policy.historyMs * AGE_SLACK_SHARE) * (1 + spread(path));
    return Date.parse(spec.time(record)) < nowMs - policy.historyMs - slack;
  } finally {
    closeSync(fd);
  }
}

/**
 * Rewrites the list file `path` (in `folder`) within the policy, noting what went. The caller
 * holds the list's lock; appenders take none (see appendLine).
 */
export async function applyRetention<T>(folder: string, path: string, spec: ListSpec<T>, policy: RetentionPolicy, nowMs: number): Promise<void> {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return;
    throw err;
  }
  try {
    await compact(folder, path, spec, fd, policy, nowMs);
  } finally {
    closeSync(fd);
  }
}

/** Rewrites a history file within retention; `fd` holds the file as it was when we started. */
async function compact<T>(folder: string, path: string, spec: ListSpec<T>, fd: number, policy: RetentionPolicy, nowMs: number): Promise<void> {
  const read = fstatSync(fd).size;
  const buffer = Buffer.alloc(read);
  readSync(fd, buffer, 0, read, 0);
  const { records, unreadable } = parseLines<T>(buffer.toString('utf8').split('\n'));
  const cutoff = nowMs - policy.historyMs;
  const byTime = [...records].sort((a, b) => Date.parse(spec.time(a)) - Date.parse(spec.time(b)));
  const tooOld = byTime.filter((r) => Date.parse(spec.time(r)) < cutoff);
  const young = byTime.slice(tooOld.length);
  const overflow = young.length > policy.maxRecords ? young.slice(0, young.length - policy.maxRecords) : [];
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
  const at = new Date(nowMs).toISOString();
  const notes: RetentionNote[] = [];
  const newest = (rs: readonly T[]) => (rs.length ? spec.time(rs[rs.length - 1]!) : null);
  if (tooOld.length) notes.push({ at, list: spec.file, removed: tooOld.length, reason: 'age', upTo: newest(tooOld) });
  if (overflow.length) notes.push({ at, list: spec.file, removed: overflow.length, reason: 'count', upTo: newest(overflow) });
  if (unreadable) notes.push({ at, list: spec.file, removed: unreadable, reason: 'unreadable', upTo: null });
  await appendFile(join(folder, RETENTION_FILE), notes.map((n) => `${JSON.stringify(n)}\n`).join(''));
}
