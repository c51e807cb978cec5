/**
 * The per-target health state machine: `ok`, `warning`, `failing`.
 *
 * - A round is *bad* when its status is critical or unknown (a round that could not even run
 *   is not a healthy one), *warn* when warning, *ok* when ok. Warn and ok rounds are *good*.
 * - ok/warning → failing after `failureThreshold` consecutive bad rounds (alert `failing`).
 * - ok → warning after `failureThreshold` consecutive warn rounds (alert `warning`).
 * - failing → ok/warning after `recoveryThreshold` consecutive good rounds (alert `recovered`);
 *   warning → ok after `recoveryThreshold` consecutive ok rounds (alert `recovered`).
 * - While failing, a `reminder` every `reminderMinutes` since the last alert (0: none).
 * - Anything in between (flapping) changes counters only and raises nothing.
 * Pure: the time, the incident ids and the previous state are inputs.
 */
import type { HealthAlert } from '../alert/event.ts';
import type { Finding, SmtpStep, Status } from '../findings.ts';
import type { TargetResult } from '../results.ts';

export type HealthStateName = 'ok' | 'warning' | 'failing';

/** The open incident of a target: a failing or warning spell, with its id. */
export interface Incident {
  readonly id: string;
  readonly kind: 'failing' | 'warning';
  /** ISO start time of the first round of the spell. */
  readonly startedAt: string;
  /** ISO time the last alert of this incident (opening or reminder) was raised. */
  readonly lastAlertAt: string;
  /** Reminders raised so far. */
  readonly reminders: number;
}

/** What the Store keeps per target. Plain JSON. */
export interface HealthState {
  readonly target: string;
  readonly state: HealthStateName;
  /** Consecutive critical/unknown rounds, and the ISO start of the first of them. */
  readonly badStreak: number;
  readonly badSince: string | null;
  /** Consecutive warning rounds. */
  readonly warnStreak: number;
  readonly warnSince: string | null;
  /** Consecutive ok-or-warning rounds. */
  readonly goodStreak: number;
  readonly goodSince: string | null;
  /** Consecutive ok rounds. */
  readonly okStreak: number;
  readonly okSince: string | null;
  readonly incident: Incident | null;
  /** ISO start of the latest round applied; older rounds arriving late are ignored. */
  readonly lastRoundAt: string | null;
  readonly lastStatus: Status | null;
  /** The latest canary ids applied, so a duplicate delivery of a round is recognised. */
  readonly recentCanaryIds: readonly string[];
}

/** The thresholds of config `alerts` (AlertsConfig satisfies it). */
export interface HealthThresholds {
  readonly failureThreshold: number;
  readonly recoveryThreshold: number;
  readonly reminderMinutes: number;
}

/** The outcome of applying one round. */
export type HealthStep =
  | { readonly kind: 'applied'; readonly state: HealthState; readonly events: readonly HealthAlert[] }
  /** This canary's round was applied already (a retry, a duplicate event). */
  | { readonly kind: 'duplicate' }
  /** The round is older than the latest one applied (delivered late); it changes nothing. */
  | { readonly kind: 'stale' };

const RECENT_CANARIES_KEPT = 20;
const SEVERITY_ORDER: Record<Finding['severity'], number> = { critical: 0, warning: 1, info: 2 };

/** The state of a target never seen before. */
export function initialHealthState(target: string): HealthState {
  return {
    target,
    state: 'ok',
    badStreak: 0,
    badSince: null,
    warnStreak: 0,
    warnSince: null,
    goodStreak: 0,
    goodSince: null,
    okStreak: 0,
    okSince: null,
    incident: null,
    lastRoundAt: null,
    lastStatus: null,
    recentCanaryIds: [],
  };
}

/** Findings worst first (critical, warning, info), keeping the round's order within a severity. */
export function worstFirst(findings: readonly Finding[]): Finding[] {
  return [...findings].sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity]);
}

/** The SMTP step a round failed at: the step of its worst finding, else the first step not ok. */
export function failedStepOf(result: Pick<TargetResult, 'findings' | 'steps'>): SmtpStep | null {
  const fromFinding = worstFirst(result.findings).find((f) => f.severity !== 'info' && f.step !== undefined)?.step;
  return fromFinding ?? result.steps.find((s) => !s.ok)?.step ?? null;
}

function elapsed(fromIso: string, to: string | Date): number {
  const end = typeof to === 'string' ? Date.parse(to) : to.getTime();
  return Math.max(0, end - Date.parse(fromIso));
}

function counters(prev: HealthState, result: TargetResult): HealthState {
  const at = result.startedAt;
  const kind = result.status === 'critical' || result.status === 'unknown' ? 'bad' : result.status === 'warning' ? 'warn' : 'ok';
  const bad = kind === 'bad';
  const warn = kind === 'warn';
  const ok = kind === 'ok';
  return {
    ...prev,
    badStreak: bad ? prev.badStreak + 1 : 0,
    badSince: bad ? (prev.badStreak > 0 ? prev.badSince : at) : null,
    warnStreak: warn ? prev.warnStreak + 1 : 0,
    warnSince: warn ? (prev.warnStreak > 0 ? prev.warnSince : at) : null,
    goodStreak: bad ? 0 : prev.goodStreak + 1,
    goodSince: bad ? null : prev.goodStreak > 0 ? prev.goodSince : at,
    okStreak: ok ? prev.okStreak + 1 : 0,
    okSince: ok ? (prev.okStreak > 0 ? prev.okSince : at) : null,
    lastRoundAt: at,
    lastStatus: result.status,
    recentCanaryIds: [...prev.recentCanaryIds, result.canaryId].slice(-RECENT_CANARIES_KEPT),
  };
}

/**
 * Applies one round's result to a target's state.
 * @param ctx.now           the current time (reminders, alert times)
 * @param ctx.newIncidentId makes the id of an incident that opens now
 * @example
 * const step = advanceHealth(initialHealthState('shop'), result, {
 *   now: clock(), thresholds: config.alerts, newIncidentId: () => newCanaryId(clock().getTime(), random(10)),
 * });
 * if (step.kind === 'applied') { save(step.state); raise(step.events); }
 */
export function advanceHealth(
  prev: HealthState,
  result: TargetResult,
  ctx: { readonly now: Date; readonly thresholds: HealthThresholds; readonly newIncidentId: () => string },
): HealthStep {
  if (prev.recentCanaryIds.includes(result.canaryId)) return { kind: 'duplicate' };
  if (prev.lastRoundAt !== null && Date.parse(result.startedAt) < Date.parse(prev.lastRoundAt)) return { kind: 'stale' };

  const { failureThreshold, recoveryThreshold, reminderMinutes } = ctx.thresholds;
  const nowIso = ctx.now.toISOString();
  const next = counters(prev, result);
  const base = {
    target: result.name,
    at: nowIso,
    status: result.status,
    findings: worstFirst(result.findings),
    canaryId: result.canaryId,
    failedStep: failedStepOf(result),
    steps: result.steps,
  };
  const open = (kind: 'failing' | 'warning', startedAt: string): Incident => ({
    id: ctx.newIncidentId(),
    kind,
    startedAt,
    lastAlertAt: nowIso,
    reminders: 0,
  });
  // Every alert of an incident: its id, its start, how long it has lasted `until` then.
  const alertOf = (
    kind: HealthAlert['kind'],
    incident: Incident,
    until: string | Date,
    extra: Pick<HealthAlert, 'recoveredFrom' | 'reminder'> = {},
  ): HealthAlert => ({
    ...base,
    kind,
    key: `${incident.id}#${kind}${extra.reminder !== undefined ? `#${extra.reminder}` : ''}`,
    incidentId: incident.id,
    startedAt: incident.startedAt,
    durationMs: elapsed(incident.startedAt, until),
    ...extra,
  });

  if (prev.state === 'failing' && prev.incident !== null) {
    const incident = prev.incident;
    if (next.goodStreak >= recoveryThreshold) {
      const recovered = alertOf('recovered', incident, next.goodSince ?? result.startedAt, { recoveredFrom: 'failing' });
      // Warnings that outlasted the outage are named in the recovery notice, so the warning
      // incident they open is silent; its own recovery is announced later.
      const stillWarning = next.warnStreak >= failureThreshold && next.warnSince !== null;
      return {
        kind: 'applied',
        state: { ...next, state: stillWarning ? 'warning' : 'ok', incident: stillWarning ? open('warning', next.warnSince!) : null },
        events: [recovered],
      };
    }
    const dueMs = reminderMinutes * 60_000;
    if (reminderMinutes > 0 && elapsed(incident.lastAlertAt, ctx.now) >= dueMs) {
      const reminders = incident.reminders + 1;
      const reminder = alertOf('reminder', incident, ctx.now, { reminder: reminders });
      return { kind: 'applied', state: { ...next, incident: { ...incident, reminders, lastAlertAt: nowIso } }, events: [reminder] };
    }
    return { kind: 'applied', state: next, events: [] };
  }

  if (next.badStreak >= failureThreshold) {
    const incident = open('failing', next.badSince ?? result.startedAt);
    return { kind: 'applied', state: { ...next, state: 'failing', incident }, events: [alertOf('failing', incident, result.startedAt)] };
  }

  if (prev.state === 'ok' && next.warnStreak >= failureThreshold) {
    const incident = open('warning', next.warnSince ?? result.startedAt);
    return { kind: 'applied', state: { ...next, state: 'warning', incident }, events: [alertOf('warning', incident, result.startedAt)] };
  }

  if (prev.state === 'warning' && next.okStreak >= recoveryThreshold && prev.incident !== null) {
    const recovered = alertOf('recovered', prev.incident, next.okSince ?? result.startedAt, { recoveredFrom: 'warning' });
    return { kind: 'applied', state: { ...next, state: 'ok', incident: null }, events: [recovered] };
  }

  return { kind: 'applied', state: next, events: [] };
}
