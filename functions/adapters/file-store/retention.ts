/**
 * Retention of the history lists (config `retention`): records older than `historyDays`, and the
 * oldest beyond `historyMaxRecords` per target and list, are removed by rewriting the list's
 * file, and each removal is written to `history/<target>/retention.jsonl` so the report can say
 * what went (nothing is dropped without a word).
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
