/**
 * What the HTML report shows, read from a state directory's store: per target its health
 * state, recent rounds, bounces and alerts; the bounces and alerts that belong to no target;
 * and the messages the intake kept because it could not read them.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { readRetentionNotes, type RetentionNote } from '#adapters/file-store.ts';
import type { RetentionConfig } from '#core/config.ts';
import type { AlertRecord, BounceRecord, CanaryRecord } from '#core/health/records.ts';
import type { HealthState } from '#core/health/state.ts';
import type { Store } from '#core/ports.ts';
import type { TargetResult } from '#core/results.ts';
import { readRawRetention, type KeptNote, type RawRetentionNote } from '../intake.ts';

/** One target's part of the report. */
export interface ReportTarget {
  readonly name: string;
  readonly health: HealthState | null;
  /** Oldest first (the charts read left to right). */
  readonly rounds: readonly TargetResult[];
  /** Newest first. */
  readonly bounces: readonly BounceRecord[];
  /** Newest first. */
  readonly alerts: readonly AlertRecord[];
  /** The canaries sent for the round trip (the last days), oldest first. */
  readonly canaries: readonly CanaryRecord[];
}

/** A message the intake kept (`<state>/kept/`). */
export interface KeptMessage extends KeptNote {
  readonly file: string;
}

/** Everything the report renders. */
export interface ReportData {
  /** ISO time the report was made. */
  readonly generatedAt: string;
  readonly stateDir: string;
  readonly targets: readonly ReportTarget[];
  /** Bounces that matched no canary sent from this state directory, newest first. */
  readonly unmatchedBounces: readonly BounceRecord[];
  /** Alerts without a target, newest first. */
  readonly otherAlerts: readonly AlertRecord[];
  /** Newest first. */
  readonly kept: readonly KeptMessage[];
  /** Links to the raw messages the bounces came from, by their `source`, for those still kept (a relative URL). */
  readonly rawLinks?: Readonly<Record<string, string>>;
  /** What is kept how long, and what retention removed so far (newest first). */
  readonly retention?: {
    readonly settings: RetentionConfig | null;
    readonly history: readonly { readonly target: string | null; readonly note: RetentionNote }[];
    readonly raw: readonly RawRetentionNote[];
  };
  /** Minutes a canary may take before it is CANARY_NOT_DELIVERED. @default 15 */
  readonly deliveryTimeoutMinutes?: number;
  /** Alerts still waiting for their channels in the outbox. */
  readonly outboxPending?: number;
}

/** How much history the report reads. */
export interface CollectOptions {
  readonly stateDir: string;
  readonly now: Date;
  /** Rounds per target for the charts. @default 200 */
  readonly rounds?: number;
  /** Bounces and alerts per target. @default 100 */
  readonly records?: number;
  /** The folder the page is written to: raw-message links are relative to it. @default stateDir */
  readonly reportDir?: string;
  readonly retention?: RetentionConfig;
  readonly deliveryTimeoutMinutes?: number;
}

async function keptMessages(dir: string): Promise<KeptMessage[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const out: KeptMessage[] = [];
  for (const name of names.filter((n) => n.endsWith('.eml'))) {
    let note: Partial<KeptNote> = {};
    try {
      note = JSON.parse(await readFile(join(dir, `${name}.json`), 'utf8')) as KeptNote;
    } catch {
      // A kept message without its note still shows, with what is known.
    }
    out.push({ file: join(dir, name), at: note.at ?? '', source: note.source ?? name, why: note.why ?? '', notes: note.notes ?? [] });
  }
  return out.sort((a, b) => b.at.localeCompare(a.at));
}

/**
 * Reads the report's data from the store of a state directory.
 * @example const data = await collectReportData(createFileStore({ dir }), { stateDir: dir, now: new Date() });
 */
export async function collectReportData(store: Store, options: CollectOptions): Promise<ReportData> {
  const roundsLimit = options.rounds ?? 200;
  const records = options.records ?? 100;
  const names = await store.listTargets();
  const targets = await Promise.all(
    names.map(async (name): Promise<ReportTarget> => {
      const [health, rounds, bounces, alerts, canaries] = await Promise.all([
        store.getHealth(name),
        store.listRounds(name, roundsLimit),
        store.listBounces(name, records),
        store.listAlerts(name, records),
        store.listCanaries(name, roundsLimit),
      ]);
      return { name, health: health?.value ?? null, rounds: [...rounds].reverse(), bounces, alerts, canaries: [...canaries].reverse() };
    }),
  );
  const [unmatchedBounces, otherAlerts, kept, history, raw, outbox] = await Promise.all([
    store.listBounces(null, records),
    store.listAlerts(null, records),
    keptMessages(join(options.stateDir, 'kept')),
    readRetentionNotes(options.stateDir),
    readRawRetention(options.stateDir),
    readdir(join(options.stateDir, 'outbox')).catch(() => [] as string[]),
  ]);
  // A bounce links to its raw message while retention keeps it.
  const rawLinks: Record<string, string> = {};
  const reportDir = options.reportDir ?? options.stateDir;
  for (const b of [...targets.flatMap((t) => t.bounces), ...unmatchedBounces]) {
    const source = b.source;
    if (!source || !source.startsWith('raw/') || source.includes('..') || source in rawLinks) continue;
    const file = join(options.stateDir, source);
    if (existsSync(file)) rawLinks[source] = relative(reportDir, file).split(sep).map(encodeURIComponent).join('/');
  }
  return {
    generatedAt: options.now.toISOString(),
    stateDir: options.stateDir,
    targets,
    unmatchedBounces,
    otherAlerts,
    kept,
    rawLinks,
    retention: { settings: options.retention ?? null, history, raw },
    ...(options.deliveryTimeoutMinutes !== undefined ? { deliveryTimeoutMinutes: options.deliveryTimeoutMinutes } : {}),
    outboxPending: outbox.filter((n) => n.endsWith('.json')).length,
  };
}
