/**
 * The sweep of the dead-man sweeper: read every target's health state, decide which targets
 * are silent (functions/core/health/silence.ts), keep the silence state and raise its alerts
 * once. It also counts the targets by health state: the fleet view of the dashboard reads those
 * counts from the sweeper's log line.
 */
import type { SilenceAlert, SilentTarget } from '../alert/event.ts';
import { newCanaryId } from '../canary-id.ts';
import { StateError } from '../errors.ts';
import type { SilenceStore } from '../ports.ts';
import { raiseAlerts, type Decision } from './raise.ts';
import type { HealthDeps } from './record.ts';
import { sweepSilence, type TargetSighting } from './silence.ts';
import type { HealthStateName } from './state.ts';

/** Targets by health state; `unseen` never reported a round. */
export type FleetCounts = Readonly<Record<HealthStateName | 'unseen', number>>;

/** What one sweep found and raised. */
export interface SweepOutcome {
  readonly silent: readonly SilentTarget[];
  readonly counts: FleetCounts;
  /** The alerts to deliver (claimed: raised once however often the sweep runs). */
  readonly events: readonly SilenceAlert[];
}

/** The store, time, the sweeper's own state and its settings. */
export interface SweepDeps extends HealthDeps {
  readonly silence: SilenceStore;
  /** No round for this long makes a target silent. */
  readonly silentAfterMs: number;
  /** Remind every this many minutes while targets stay silent (config `alerts.reminderMinutes`). */
  readonly reminderMinutes: number;
}

// Reads of the health states run this many at a time: fast for 500 targets, gentle on the table.
const READS_AT_ONCE = 25;
// Two sweepers only meet when a run is retried while the previous one is still running.
const MAX_STATE_ATTEMPTS = 5;

/**
 * Sweeps the configured targets once.
 * @example
 * const { events } = await recordSweep(config.targets.map((t) => t.name), { store, silence, clock, random, silentAfterMs, reminderMinutes: 60 });
 */
export async function recordSweep(targets: readonly string[], deps: SweepDeps): Promise<SweepOutcome> {
  const sightings: TargetSighting[] = [];
  const counts: Record<HealthStateName | 'unseen', number> = { ok: 0, warning: 0, failing: 0, unseen: 0 };
  for (let i = 0; i < targets.length; i += READS_AT_ONCE) {
    const batch = targets.slice(i, i + READS_AT_ONCE);
    const states = await Promise.all(batch.map((t) => deps.store.getHealth(t)));
    batch.forEach((target, j) => {
      const state = states[j]?.value;
      counts[state?.lastRoundAt ? state.state : 'unseen']++;
      sightings.push({ target, lastRoundAt: state?.lastRoundAt ?? null });
    });
  }
  const newIncidentId = () => newCanaryId(deps.clock().getTime(), deps.random(10));
  for (let attempt = 0; attempt < MAX_STATE_ATTEMPTS; attempt++) {
    const current = await deps.silence.getSilence();
    const sweep = sweepSilence(current?.value ?? null, sightings, {
      now: deps.clock(),
      silentAfterMs: deps.silentAfterMs,
      reminderMinutes: deps.reminderMinutes,
      newIncidentId,
    });
    const decision: Decision = { kind: 'silence', state: sweep.state, expectedVersion: current?.version ?? null };
    const out = await raiseAlerts([decision], sweep.events, { store: deps.store, silence: deps.silence });
    if (!out.written) continue;
    return { silent: sweep.silent, counts, events: out.raised as SilenceAlert[] };
  }
  throw new StateError(`the silence state changed under every one of ${MAX_STATE_ATTEMPTS} attempts`);
}
