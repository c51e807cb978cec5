/**
 * Sent canaries of the last `canaryRetentionDays`: `canaries/<YYYY-MM-DDTHH>.jsonl`, one file per
 * hour of the canary id's own time (ids are ULIDs; others go to `canaries/other.jsonl`), only
 * ever appended: a record line per sent canary, and a mark line (`{ id, target, deliveredAt, by }`)
 * when it arrives. Folding the lines in order gives each canary: a record sent again keeps the
 * delivery time it had, and of two marks the first in the file wins (`by` says whose it was, so
 * `markDelivered` knows whether it was first without a lock).
 *
 * One `canaries.json` rewritten (and fsynced) for every canary and every arrival was quadratic:
 * 500 targets wrote megabytes a round, and a week of five-minute rounds makes a million records.
 * Now a canary costs one short append, and what is read stays parsed in memory, read on from
 * where it was (`offset`) when the file grew: the newest hours in full (up to about
 * FULL_RECORDS records), older ones only as their canaries still not delivered, which is all the
 * round-trip check asks of them. Hour files older than the retention are deleted whole.
 */
import { closeSync, fstatSync, openSync, readdirSync, readSync, statSync, unlinkSync } from 'node:fs';
import { readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { canaryIdTime } from '#core/canary-id.ts';
import { StateError } from '#core/errors.ts';
import type { CanaryRecord } from '#core/health/records.ts';
import type { Store } from '#core/ports.ts';
import { appendLine, isErrno } from './files.ts';
import type { StateDir } from './state-dir.ts';

/** The Store's canary methods. */
export type CanaryStore = Pick<Store, 'putCanary' | 'getCanary' | 'listCanaries' | 'markDelivered' | 'listUndelivered'>;

// Records kept parsed in full (the newest hours); beyond, older hours keep only what is undelivered.
const FULL_RECORDS = 200_000;
const PRUNE_EVERY_MS = 3600_000;
const OTHER = 'other';
// Canaries are sent with the round that names them; one is never sent more than this after its id's time.
const SENT_AFTER_ID_MS = 3600_000;

interface MarkLine {
  readonly id: string;
  readonly target: string;
  readonly deliveredAt: string;
  readonly by: string;
}

/** One hour file as far as it was read. */
interface Hour {
  readonly key: string;
  ino: number;
  offset: number;
  /** Every canary of the hour, or null when only the undelivered ones are kept. */
  records: Map<string, CanaryRecord> | null;
  /** Per target, the ids of its canaries (full) or its undelivered canaries (compact). */
  byTarget: Map<string, Map<string, CanaryRecord>>;
  used: number;
}

// Numbers this process's marks (with its pid, unique among the processes sharing a directory).
let markCount = 0;

/** The hour file of a canary id: `2026-01-05T09`, or `other` when the id carries no time. */
export function canaryHourOf(id: string): string {
  const ms = canaryIdTime(id);
  return ms === null ? OTHER : new Date(ms).toISOString().slice(0, 13);
}

/**
 * The canary records of a state directory; hour files older than `retentionMs` go when the next
 * canary is written.
 * @example const canaries = canaryFile(openStateDir(dir, Date.now), 7 * 86_400_000);
 */
export function canaryFile(state: StateDir, retentionMs: number, options: { readonly fullRecords?: number } = {}): CanaryStore {
  const folder = join(state.dir, 'canaries');
  const fullBudget = options.fullRecords ?? FULL_RECORDS;
  const hours = new Map<string, Hour>();
  let fullRecords = 0;
  let clock = 0;
  let lastPrune = 0;
  // Marks of this process waiting to learn whether they came first, and those that did.
  const ours = new Set<string>();
  const won = new Set<string>();

  const pathOf = (key: string) => join(folder, `${key}.jsonl`);

  function apply(hour: Hour, line: string): void {
    let doc: (CanaryRecord & { by?: undefined }) | MarkLine;
    try {
      doc = JSON.parse(line) as CanaryRecord | MarkLine;
    } catch {
      // A line a crash cut short: the canary it was about stays as it was.
      return;
    }
    const records = hour.records;
    if ('sentAt' in doc) {
      const record = doc as CanaryRecord;
      const existing = records ? records.get(record.id) : hour.byTarget.get(record.target)?.get(record.id);
      const next = { ...record, deliveredAt: existing?.deliveredAt ?? record.deliveredAt };
      if (records) {
        if (!existing) fullRecords++;
        records.set(record.id, next);
      }
      let ofTarget = hour.byTarget.get(record.target);
      if (!ofTarget) hour.byTarget.set(record.target, (ofTarget = new Map()));
      if (records || next.deliveredAt === null) ofTarget.set(record.id, next);
      return;
    }
    const mark = doc as MarkLine;
    const ofTarget = hour.byTarget.get(mark.target);
    const existing = records ? records.get(mark.id) : ofTarget?.get(mark.id);
    if (!existing || existing.deliveredAt !== null) return;
    if (ours.has(mark.by)) won.add(`${mark.id} ${mark.by}`);
    if (records) {
      const next = { ...existing, deliveredAt: mark.deliveredAt };
      records.set(mark.id, next);
      ofTarget?.set(mark.id, next);
    } else {
      ofTarget?.delete(mark.id);
    }
  }

  /** Reads an hour file on from where it was read, or afresh; `full` asks for every canary of it. */
  function refresh(key: string, full: boolean): Hour | null {
    const path = pathOf(key);
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw err;
      drop(key);
      return null;
    }
    try {
      const { ino, size } = fstatSync(fd);
      let hour = hours.get(key);
      if (!hour || hour.ino !== ino || size < hour.offset || (full && hour.records === null)) {
        drop(key);
        hour = { key, ino, offset: 0, records: new Map(), byTarget: new Map(), used: 0 };
        hours.set(key, hour);
      }
      hour.used = ++clock;
      if (size > hour.offset) {
        const bytes = Buffer.alloc(size - hour.offset);
        readSync(fd, bytes, 0, bytes.length, hour.offset);
        // Only whole lines: a line being appended right now is read the next time.
        const end = bytes.lastIndexOf(10);
        if (end >= 0) {
          const lines = bytes.subarray(0, end).toString('utf8').split('\n');
          if (hour.records === null && lines.some((l) => l.includes('"sentAt"'))) {
            // A record sent again into an hour kept only as undelivered: read it whole.
            drop(key);
            closeSync(fd);
            fd = -1;
            return refresh(key, true);
          }
          for (const line of lines) if (line.trim() !== '') apply(hour, line);
          hour.offset += end + 1;
        }
      }
      if (hour.records !== null) evict(key);
      return hour;
    } finally {
      if (fd >= 0) closeSync(fd);
    }
  }

  function drop(key: string): void {
    const hour = hours.get(key);
    if (hour?.records) fullRecords -= hour.records.size;
    hours.delete(key);
  }

  /** Keeps the newest-used hours in full within FULL_RECORDS; the others keep their undelivered canaries. */
  function evict(keep: string): void {
    if (fullRecords <= fullBudget) return;
    const full = [...hours.values()].filter((h) => h.records !== null && h.key !== keep).sort((a, b) => a.used - b.used);
    for (const hour of full) {
      if (fullRecords <= fullBudget) break;
      fullRecords -= hour.records!.size;
      hour.records = null;
      for (const [target, ofTarget] of hour.byTarget) {
        for (const [id, record] of ofTarget) if (record.deliveredAt !== null) ofTarget.delete(id);
        if (ofTarget.size === 0) hour.byTarget.delete(target);
      }
    }
  }

  // The folder's listing, kept while its modification time stays (a new hour file changes it):
  // the report asks for every target's canaries, one listing each.
  let listing: { mtimeMs: number; keys: string[] } | null = null;
  function hourKeys(): string[] {
    const info = statSync(folder, { throwIfNoEntry: false });
    if (!info) return [];
    if (listing?.mtimeMs === info.mtimeMs) return listing.keys;
    const keys = readdirSync(folder)
      .filter((n) => n.endsWith('.jsonl'))
      .map((n) => n.slice(0, -'.jsonl'.length));
    listing = { mtimeMs: info.mtimeMs, keys };
    return keys;
  }

  /** Deletes the hour files past the retention (not `other`, whose canaries carry no time). */
  function prune(): void {
    lastPrune = state.now();
    const cutoff = new Date(state.now() - retentionMs - SENT_AFTER_ID_MS).toISOString().slice(0, 13);
    for (const key of hourKeys()) {
      if (key === OTHER || key >= cutoff) continue;
      drop(key);
      try {
        unlinkSync(pathOf(key));
      } catch {
        // Gone already (another process pruned it).
      }
    }
  }

  // The single file of older versions: its canaries move into the hour files, once.
  let migrated: Promise<void> | null = null;
  function migrate(): Promise<void> {
    migrated ??= (async () => {
      await state.ready();
      const old = join(state.dir, 'canaries.json');
      if (statSync(old, { throwIfNoEntry: false }) === undefined) return;
      await state.withLock('canaries', async () => {
        let text: string;
        try {
          text = await readFile(old, 'utf8');
        } catch (err) {
          if (isErrno(err, 'ENOENT')) return;
          throw err;
        }
        let all: Record<string, CanaryRecord>;
        try {
          all = JSON.parse(text) as Record<string, CanaryRecord>;
        } catch (err) {
          throw new StateError(`state file ${old} is not valid JSON; move it away to start that part afresh`, { cause: err });
        }
        await state.ensureDir(folder);
        const byHour = new Map<string, string[]>();
        for (const record of Object.values(all)) {
          const key = canaryHourOf(record.id);
          const lines = byHour.get(key);
          if (lines) lines.push(JSON.stringify(record));
          else byHour.set(key, [JSON.stringify(record)]);
        }
        for (const [key, lines] of byHour) appendLine(pathOf(key), `${lines.join('\n')}\n`);
        await unlink(old);
      });
    })();
    return migrated;
  }

  async function find(id: string): Promise<{ hour: Hour; record: CanaryRecord } | null> {
    await migrate();
    const hour = refresh(canaryHourOf(id), true);
    const record = hour?.records?.get(id);
    return hour && record ? { hour, record } : null;
  }

  /** Hour keys from newest to oldest (`other` last). */
  const newestFirst = () => [...hourKeys()].sort((a, b) => (a === OTHER ? 1 : b === OTHER ? -1 : b.localeCompare(a)));

  return {
    async putCanary(record: CanaryRecord): Promise<void> {
      await migrate();
      await state.ensureDir(folder);
      if (state.now() - lastPrune > PRUNE_EVERY_MS) prune();
      appendLine(pathOf(canaryHourOf(record.id)), `${JSON.stringify(record)}\n`);
    },

    async getCanary(id: string): Promise<CanaryRecord | null> {
      return (await find(id))?.record ?? null;
    },

    async listCanaries(target: string, limit: number): Promise<CanaryRecord[]> {
      await migrate();
      const out: CanaryRecord[] = [];
      if (limit <= 0) return out;
      // Hours newest first; once enough are in, one hour more (a canary is filed by its id's
      // time, a little before it was sent), then the rest cannot hold newer ones.
      let extra = 1;
      for (const key of newestFirst()) {
        const ofTarget = refresh(key, true)?.byTarget.get(target);
        if (ofTarget) out.push(...ofTarget.values());
        if (out.length >= limit && extra-- <= 0) break;
      }
      return out.sort((a, b) => Date.parse(b.sentAt) - Date.parse(a.sentAt)).slice(0, limit);
    },

    async markDelivered(id: string, at: string) {
      const found = await find(id);
      if (found === null) return null;
      if (found.record.deliveredAt !== null) return { record: found.record, first: false };
      const by = `${process.pid}.${++markCount}`;
      ours.add(by);
      try {
        const mark: MarkLine = { id, target: found.record.target, deliveredAt: at, by };
        appendLine(pathOf(found.hour.key), `${JSON.stringify(mark)}\n`);
        const record = refresh(found.hour.key, true)?.records?.get(id) ?? { ...found.record, deliveredAt: at };
        return { record, first: won.has(`${id} ${by}`) };
      } finally {
        ours.delete(by);
        won.delete(`${id} ${by}`);
      }
    },

    async listUndelivered(target: string, window: { sentAfter: string; sentBefore: string; limit: number }): Promise<CanaryRecord[]> {
      await migrate();
      const after = Date.parse(window.sentAfter);
      const before = Date.parse(window.sentBefore);
      // A canary's id is made before it is sent: its hour is at most SENT_AFTER_ID_MS before sentAt.
      const from = new Date(after - SENT_AFTER_ID_MS).toISOString().slice(0, 13);
      const to = new Date(before).toISOString().slice(0, 13);
      const out: CanaryRecord[] = [];
      for (const key of hourKeys()) {
        if (key !== OTHER && (key < from || key > to)) continue;
        const ofTarget = refresh(key, false)?.byTarget.get(target);
        if (!ofTarget) continue;
        for (const c of ofTarget.values()) {
          const sent = Date.parse(c.sentAt);
          if (c.deliveredAt === null && sent >= after && sent < before) out.push(c);
        }
      }
      return out.sort((a, b) => Date.parse(a.sentAt) - Date.parse(b.sentAt)).slice(0, window.limit);
    },
  };
}
