/**
 * The fleet view: one row per target, worst first, for `mailhealth status` and the report's
 * fleet table. A row says the target's health (what alerting decided), since when, the step or
 * finding it fails at, the latest round trip, and a slot for inbox placement. Pure: the time is
 * a parameter.
 */
import type { FindingCode, Severity, SmtpStep, Status } from '../findings.ts';
import type { TargetResult } from '../results.ts';
import { fleetPlacementOf } from '../placement/fleet.ts';
import type { CanaryRecord } from './records.ts';
import { failedStepOf, worstFirst, type HealthState } from './state.ts';

/** A target's health in the fleet view: the state machine's, or `unknown` before its first round. */
export type FleetHealth = 'failing' | 'warning' | 'ok' | 'unknown';

/** The latest round trip of a target: its newest canary that must arrive. */
export interface FleetRoundTrip {
  readonly canaryId: string;
  readonly sentAt: string;
  /** `arrived`; `late`: not arrived within the delivery timeout; `on-the-way`: not yet, still within it. */
  readonly state: 'arrived' | 'late' | 'on-the-way';
  /** Seconds from the provider accepting it to its arrival; null unless arrived. */
  readonly seconds: number | null;
}

/** What a row says about inbox placement. Filled by the placement part; null until then. */
export interface FleetPlacement {
  readonly status: Status;
  /** A short text for the column, e.g. `3/4 inbox`. */
  readonly summary: string;
}

/** The worst problem of the latest round: the step it fails at, and the finding. */
export interface FleetProblem {
  readonly step: SmtpStep | null;
  readonly code: FindingCode;
  readonly severity: Exclude<Severity, 'info'>;
}

/** One target of the fleet view. */
export interface FleetRow {
  readonly name: string;
  readonly health: FleetHealth;
  /** The status the health amounts to (failing: critical; no round yet: unknown): the exit code's. */
  readonly status: Status;
  /** ISO time the health has been what it is: the incident's start, or the start of the good spell. */
  readonly since: string | null;
  readonly lastRoundAt: string | null;
  readonly lastRoundStatus: Status | null;
  /** The worst warning or critical finding of the latest round; null when it had none. */
  readonly problem: FleetProblem | null;
  readonly roundTrip: FleetRoundTrip | null;
  readonly placement: FleetPlacement | null;
}

/** What a row is made from. */
export interface FleetRowInput {
  readonly name: string;
  readonly health: HealthState | null;
  readonly lastRound: TargetResult | null;
  /** The target's newest canaries (any order); the newest that must arrive is the round trip. */
  readonly canaries: readonly CanaryRecord[];
  readonly placement?: FleetPlacement | null;
}

const HEALTH_STATUS: Record<FleetHealth, Status> = { failing: 'critical', warning: 'warning', ok: 'ok', unknown: 'unknown' };
// Worst first: failing, then targets not heard from, then warning, then OK.
const HEALTH_RANK: Record<FleetHealth, number> = { failing: 0, unknown: 1, warning: 2, ok: 3 };
const STATUS_RANK: Record<Status, number> = { critical: 0, unknown: 1, warning: 2, ok: 3 };

/**
 * The row of one target.
 * @param options.now the time the view is made (a canary is late once `deliveryTimeoutMinutes` passed)
 * @example fleetRowOf({ name: 'shop', health, lastRound, canaries }, { now: clock(), deliveryTimeoutMinutes: 15 })
 */
export function fleetRowOf(input: FleetRowInput, options: { readonly now: Date; readonly deliveryTimeoutMinutes: number }): FleetRow {
  const h = input.health;
  const health: FleetHealth = h === null ? 'unknown' : h.state;
  const since =
    h === null
      ? null
      : h.state === 'failing'
        ? (h.incident?.startedAt ?? h.badSince)
        : h.state === 'warning'
          ? (h.incident?.startedAt ?? h.warnSince)
          : (h.goodSince ?? h.okSince);
  const last = input.lastRound;
  const worst = last ? worstFirst(last.findings).find((f) => f.severity !== 'info') : undefined;
  const problem: FleetProblem | null = last && worst ? { step: worst.step ?? failedStepOf(last), code: worst.code, severity: worst.severity as FleetProblem['severity'] } : null;
  return {
    name: input.name,
    health,
    status: HEALTH_STATUS[health],
    since,
    lastRoundAt: last?.startedAt ?? h?.lastRoundAt ?? null,
    lastRoundStatus: last?.status ?? h?.lastStatus ?? null,
    problem,
    roundTrip: roundTripOf(input.canaries, options),
    // Given, or what the latest round said of the target's seeds.
    placement: input.placement ?? fleetPlacementOf(last?.placement ?? []),
  };
}

function roundTripOf(canaries: readonly CanaryRecord[], options: { readonly now: Date; readonly deliveryTimeoutMinutes: number }): FleetRoundTrip | null {
  let newest: CanaryRecord | undefined;
  for (const c of canaries) if (c.recipients.length > 0 && (!newest || Date.parse(c.sentAt) > Date.parse(newest.sentAt))) newest = c;
  if (!newest) return null;
  if (newest.deliveredAt !== null) {
    const seconds = Math.max(0, (Date.parse(newest.deliveredAt) - Date.parse(newest.sentAt)) / 1000);
    return { canaryId: newest.id, sentAt: newest.sentAt, state: 'arrived', seconds };
  }
  const late = options.now.getTime() - Date.parse(newest.sentAt) > options.deliveryTimeoutMinutes * 60_000;
  return { canaryId: newest.id, sentAt: newest.sentAt, state: late ? 'late' : 'on-the-way', seconds: null };
}

/**
 * Orders rows worst first: failing, not heard from, warning, OK; within each, a worse latest
 * round first, then (except among OK targets) the longest-standing problem, then by name.
 * @example rows.sort(compareFleetRows)
 */
export function compareFleetRows(a: FleetRow, b: FleetRow): number {
  return (
    HEALTH_RANK[a.health] - HEALTH_RANK[b.health] ||
    STATUS_RANK[a.lastRoundStatus ?? 'unknown'] - STATUS_RANK[b.lastRoundStatus ?? 'unknown'] ||
    (a.health === 'ok' ? 0 : (a.since ?? '').localeCompare(b.since ?? '')) ||
    a.name.localeCompare(b.name)
  );
}

/** How many targets are in each health. */
export function fleetCounts(rows: readonly FleetRow[]): Record<FleetHealth, number> {
  const counts: Record<FleetHealth, number> = { failing: 0, warning: 0, ok: 0, unknown: 0 };
  for (const r of rows) counts[r.health]++;
  return counts;
}
