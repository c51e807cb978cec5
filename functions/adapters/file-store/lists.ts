/**
 * The three history lists of a target (rounds, bounces, alerts) as JSON Lines: how each
 * identifies and dates its records, and how lines are read back.
 */
import type { AlertRecord, BounceRecord } from '#core/health/records.ts';
import type { TargetResult } from '#core/results.ts';

/** The lists of a target's history. */
export type HistoryList = 'rounds' | 'bounces' | 'alerts';

/** How one history list identifies, dates and names its records. */
export interface ListSpec<T> {
  readonly file: HistoryList;
  identity(record: T): string;
  time(record: T): string;
}

export const ROUNDS: ListSpec<TargetResult> = { file: 'rounds', identity: (r) => r.canaryId, time: (r) => r.startedAt };
export const BOUNCES: ListSpec<BounceRecord> = {
  file: 'bounces',
  identity: (b) => b.key ?? `${b.at}|${b.canaryId ?? ''}|${b.recipient.recipient}`,
  time: (b) => b.at,
};
export const ALERTS: ListSpec<AlertRecord> = { file: 'alerts', identity: (a) => `${a.at}|${a.event.key}`, time: (a) => a.at };

/** The records of JSON lines, and how many lines could not be read (a crash cut them short). */
export function parseLines<T>(lines: readonly string[]): { records: T[]; unreadable: number } {
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
export function newestFirst<T>(records: readonly T[], spec: ListSpec<T>): T[] {
  const unique = new Map<string, T>();
  for (const r of records) unique.set(spec.identity(r), r);
  // Reversed first: of records with the same time, the one appended last is the newest.
  return [...unique.values()].reverse().sort((a, b) => Date.parse(spec.time(b)) - Date.parse(spec.time(a)));
}
