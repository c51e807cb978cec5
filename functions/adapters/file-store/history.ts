/**
 * The history lists of the file store: `history/<target>/{rounds,bounces,alerts}.jsonl`, JSON
 * Lines only ever appended (a bounce storm costs one short write per bounce, not a rewrite of
 * the history), read from their end. Retention runs when the store first touches a list and then
 * at most hourly (or after many appends), under the list's lock.
 */
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { AlertRecord, BounceRecord } from '#core/health/records.ts';
import type { Store } from '#core/ports.ts';
import type { TargetResult } from '#core/results.ts';
import { appendLine, dirName, tailLines, targetOfDir } from './files.ts';
import { ALERTS, BOUNCES, newestFirst, parseLines, ROUNDS, type ListSpec } from './lists.ts';
import { applyRetention, migrateJsonArray, type RetentionPolicy } from './retention.ts';
import { openStateDir, type StateDir } from './state-dir.ts';

const RETENTION_EVERY_MS = 3600_000;

/** The Store's history methods. */
export type HistoryStore = Pick<Store, 'appendRound' | 'listRounds' | 'appendBounce' | 'listBounces' | 'appendAlert' | 'listAlerts'>;

/**
 * The history lists of a state directory. Without `policy` nothing is ever removed (readers such
 * as the report and `suppressions` never prune, whatever their own defaults).
 * @example const history = historyLists(openStateDir(dir, Date.now), { historyMs: 35 * 86_400_000, maxRecords: 20_000 });
 */
export function historyLists(state: StateDir, policy?: RetentionPolicy): HistoryStore {
  // Per history file: when retention last ran in this process, and appends since.
  const retention = new Map<string, { at: number; appends: number }>();
  const maxRecords = policy?.maxRecords ?? Number.POSITIVE_INFINITY;

  /**
   * The history file of a list, migrated from the JSON array of older versions and kept within
   * retention. Only a write creates the target's folder, and only a migration or retention
   * takes the list's lock: readers (status, the report) touch nothing.
   */
  async function listFile<T>(target: string | null, spec: ListSpec<T>, write: boolean): Promise<string> {
    await state.ready();
    const folder = join(state.dir, 'history', dirName(target));
    if (write) await state.ensureDir(folder);
    const path = join(folder, `${spec.file}.jsonl`);
    const seen = retention.get(path);
    const due = !seen || (policy !== undefined && (state.now() - seen.at > RETENTION_EVERY_MS || seen.appends >= Math.max(1000, maxRecords / 2)));
    if (!due) return path;
    retention.set(path, { at: state.now(), appends: 0 });
    const oldArray = join(folder, `${spec.file}.json`);
    if (!policy && !existsSync(oldArray)) return path;
    await state.withLock(`${spec.file}-${dirName(target)}`, async () => {
      await migrateJsonArray(oldArray, path);
      if (policy) await applyRetention(folder, path, spec, policy, state.now());
    });
    return path;
  }

  async function append<T>(target: string | null, spec: ListSpec<T>, record: T): Promise<void> {
    const path = await listFile(target, spec, true);
    appendLine(path, `${JSON.stringify(record)}\n`);
    const seen = retention.get(path);
    if (seen) seen.appends++;
  }

  async function listNewest<T>(target: string | null, spec: ListSpec<T>, limit: number): Promise<T[]> {
    if (limit <= 0) return [];
    const path = await listFile(target, spec, false);
    // Records come roughly in time order; a margin covers the ones a restart appended late
    // (a few lines for the newest record alone: `status` asks that of every target).
    const want = Number.isFinite(limit) ? limit + Math.max(8, Math.min(50, limit)) : Number.POSITIVE_INFINITY;
    return newestFirst(parseLines<T>(await tailLines(path, want)).records, spec).slice(0, limit);
  }

  return {
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
  };
}

/**
 * Every bounce record of a state directory (all targets and none), each once, oldest first:
 * the input of `mailhealth suppressions`.
 * @example const records = await readAllBounces('.mailhealth');
 */
export async function readAllBounces(dir: string): Promise<BounceRecord[]> {
  const names = await readdir(join(dir, 'history')).catch(() => [] as string[]);
  const history = historyLists(openStateDir(dir, Date.now));
  const all: BounceRecord[] = [];
  for (const name of names) all.push(...(await history.listBounces(targetOfDir(name), Number.POSITIVE_INFINITY)));
  return all.reverse().sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
}
