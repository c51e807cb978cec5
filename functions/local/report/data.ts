/**
 * What the HTML report shows, read from a state directory's store: per target its health
 * state, its recent rounds and canaries summarised for the charts (history.ts), bounces and
 * alerts, and its fleet row (core/health/fleet.ts); the bounces and alerts that belong to no
 * target; and the messages the intake kept because it could not read them.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { readRetentionNotes, type RetentionNote } from '#adapters/file-store.ts';
import type { RetentionConfig } from '#core/config.ts';
import type { RoundAuthentication } from '#core/auth/facts.ts';
import { compareFleetRows, fleetRowOf, type FleetRow } from '#core/health/fleet.ts';
import type { AlertRecord, BounceRecord, CanaryRecord } from '#core/health/records.ts';
import type { HealthState } from '#core/health/state.ts';
import type { Store } from '#core/ports.ts';
import type { TargetResult } from '#core/results.ts';
import { readRawRetention, type KeptNote, type RawRetentionNote } from '../intake.ts';
import { collectDmarcSection, type DmarcDomainView } from './dmarc-section.ts';
import { summarizeCanaries, summarizeRounds, type CanaryBucket, type RoundHistory } from './history.ts';

/** What the report says about a target's round trip (its canaries that must arrive). */
export interface RoundTripSummary {
  readonly expected: number;
  readonly arrived: number;
  /** Not arrived within the delivery timeout (CANARY_NOT_DELIVERED). */
  readonly late: number;
  readonly onTheWay: number;
  readonly medianSeconds: number | null;
  readonly latestSeconds: number | null;
  /** The line of the chart, oldest first. */
  readonly buckets: readonly CanaryBucket[];
  /** The latest canaries that did not arrive in time, newest first (at most ten). */
  readonly lateCanaries: readonly CanaryRecord[];
}

/** One target's part of the report: what it shows, read and downsampled, not the raw history. */
export interface ReportTarget {
  readonly name: string;
  readonly health: HealthState | null;
  /** The newest round. */
  readonly last: TargetResult | null;
  /** The authentication facts of the newest round that has them. */
  readonly authentication: RoundAuthentication | null;
  /** The recent rounds, downsampled for the timeline and the latency chart. */
  readonly history: RoundHistory;
  /** Newest first. */
  readonly bounces: readonly BounceRecord[];
  /** Newest first. */
  readonly alerts: readonly AlertRecord[];
  readonly roundTrip: RoundTripSummary;
  /** Its row of the fleet view. */
  readonly row: FleetRow;
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
  /** Worst first (the fleet view's order). */
  readonly targets: readonly ReportTarget[];
  /** Bounces that matched no canary sent from this state directory, newest first. */
  readonly unmatchedBounces: readonly BounceRecord[];
  /** Alerts without a target, newest first. */
  readonly otherAlerts: readonly AlertRecord[];
  /** Newest first. */
  readonly kept: readonly KeptMessage[];
  /** The domains of the DMARC and TLS reports read (dmarc-section.ts); absent: none. */
  readonly dmarc?: readonly DmarcDomainView[];
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
  /** Rounds (and canaries) per target for the charts, downsampled to history.ts's MAX_BUCKETS. @default 200 */
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

// Targets read at once: each holds its rounds only until they are summarised.
const TARGETS_AT_ONCE = 8;

/** Maps `items` through `fn`, at most `limit` at once, keeping their order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

function roundTripSummary(canaries: readonly CanaryRecord[], now: Date, timeoutMinutes: number): RoundTripSummary {
  const expected = canaries.filter((c) => c.recipients.length > 0);
  const secondsOf = (c: CanaryRecord) => Math.max(0, (Date.parse(c.deliveredAt!) - Date.parse(c.sentAt)) / 1000);
  const arrived = expected.filter((c) => c.deliveredAt !== null);
  const late = expected.filter((c) => c.deliveredAt === null && now.getTime() - Date.parse(c.sentAt) > timeoutMinutes * 60_000);
  const values = arrived.map(secondsOf).sort((a, b) => a - b);
  const mid = Math.floor(values.length / 2);
  return {
    expected: expected.length,
    arrived: arrived.length,
    late: late.length,
    onTheWay: expected.length - arrived.length - late.length,
    medianSeconds: values.length === 0 ? null : values.length % 2 ? values[mid]! : (values[mid - 1]! + values[mid]!) / 2,
    latestSeconds: arrived.length ? secondsOf(arrived[arrived.length - 1]!) : null,
    buckets: summarizeCanaries(expected),
    lateCanaries: late.slice(-10).reverse(),
  };
}

/** What a target's part of the report is made from, as the store lists it. */
export interface ReportTargetInput {
  readonly name: string;
  readonly health: HealthState | null;
  /** Newest first. */
  readonly rounds: readonly TargetResult[];
  /** Newest first. */
  readonly bounces: readonly BounceRecord[];
  /** Newest first. */
  readonly alerts: readonly AlertRecord[];
  /** Newest first. */
  readonly canaries: readonly CanaryRecord[];
}

/**
 * A target's part of the report: its history summarised for the charts and its fleet row.
 * @example reportTargetOf({ name, health, rounds, bounces, alerts, canaries }, { now, deliveryTimeoutMinutes: 15 })
 */
export function reportTargetOf(input: ReportTargetInput, options: { readonly now: Date; readonly deliveryTimeoutMinutes: number }): ReportTarget {
  const last = input.rounds[0] ?? null;
  return {
    name: input.name,
    health: input.health,
    last,
    authentication: input.rounds.find((r) => r.authentication)?.authentication ?? null,
    history: summarizeRounds([...input.rounds].reverse()),
    bounces: input.bounces,
    alerts: input.alerts,
    roundTrip: roundTripSummary([...input.canaries].reverse(), options.now, options.deliveryTimeoutMinutes),
    row: fleetRowOf({ name: input.name, health: input.health, lastRound: last, canaries: input.canaries }, options),
  };
}

/**
 * Reads the report's data from the store of a state directory: per target its newest rounds,
 * summarised as they are read (a few targets at a time), so memory stays small at hundreds of
 * targets; the targets worst first.
 * @example const data = await collectReportData(createFileStore({ dir }), { stateDir: dir, now: new Date() });
 */
export async function collectReportData(store: Store, options: CollectOptions): Promise<ReportData> {
  const roundsLimit = options.rounds ?? 200;
  const records = options.records ?? 100;
  const timeoutMinutes = options.deliveryTimeoutMinutes ?? 15;
  const names = await store.listTargets();
  const targets = await mapLimit(names, TARGETS_AT_ONCE, async (name): Promise<ReportTarget> => {
    const [health, rounds, bounces, alerts, canaries] = await Promise.all([
      store.getHealth(name),
      store.listRounds(name, roundsLimit),
      store.listBounces(name, records),
      store.listAlerts(name, records),
      store.listCanaries(name, roundsLimit),
    ]);
    return reportTargetOf({ name, health: health?.value ?? null, rounds, bounces, alerts, canaries }, { now: options.now, deliveryTimeoutMinutes: timeoutMinutes });
  });
  targets.sort((a, b) => compareFleetRows(a.row, b.row));
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
    // DMARC and TLS reports (dmarc-section.ts).
    dmarc: await collectDmarcSection(options.stateDir),
  };
}
