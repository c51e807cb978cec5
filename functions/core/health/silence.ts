/**
 * The dead-man of the AWS deployment: which targets stopped reporting rounds, as one incident
 * for the whole fleet.
 *
 * A sweeper, scheduled apart from the canary, reads the start of each target's latest round
 * (the health state's `lastRoundAt`) and calls `sweepSilence`. A target is silent when it has
 * not reported for `silentAfterMs`; a target that never reported counts from the first sweep
 * that looked for it. The incident opens with the first silent target (alert `started`),
 * reminds every `reminderMinutes` while any target is silent (`reminder`), and closes when
 * every target reports again (`ended`). Targets that fall silent while it is open join it
 * without a new alert: a broken canary Lambda silences the targets one after the other as
 * their rounds come due, and that is one incident, not one per target.
 *
 * The per-target health state machine never sees a silent target (no round arrives), so the
 * two never speak about the same thing. Pure: time, ids and the previous state are inputs.
 */
import { SILENT_TARGETS_LISTED, type SilenceAlert, type SilentTarget } from '../alert/event.ts';

/** The open silence incident. */
export interface SilenceIncident {
  readonly id: string;
  /** ISO time the incident opened (the sweep that first found a silent target). */
  readonly startedAt: string;
  /** ISO time of its last alert (opening or reminder). */
  readonly lastAlertAt: string;
  readonly reminders: number;
}

/** What the sweeper keeps between runs. Plain JSON. */
export interface SilenceState {
  /** Targets without any round yet, with the ISO time a sweep first looked for them. */
  readonly unseenSince: Readonly<Record<string, string>>;
  readonly incident: SilenceIncident | null;
}

/** What the table says about one target. */
export interface TargetSighting {
  readonly target: string;
  /** ISO start of its latest recorded round; null when none was ever recorded. */
  readonly lastRoundAt: string | null;
}

/** The settings and outside values of a sweep. */
export interface SweepOptions {
  readonly now: Date;
  /** No round for this long makes a target silent. */
  readonly silentAfterMs: number;
  /** Remind every this many minutes while the incident lasts (0: never). */
  readonly reminderMinutes: number;
  readonly newIncidentId: () => string;
}

/** The outcome of a sweep. */
export interface Sweep {
  readonly state: SilenceState;
  /** Every silent target now, longest silent first. */
  readonly silent: readonly SilentTarget[];
  /** The alerts to raise (at most one). */
  readonly events: readonly SilenceAlert[];
}

/** The state before the first sweep. */
export const INITIAL_SILENCE_STATE: SilenceState = { unseenSince: {}, incident: null };

/**
 * Applies one sweep: which targets are silent, and the alert it raises, if any.
 * @example
 * const sweep = sweepSilence(prev?.value ?? null, sightings, { now: clock(), silentAfterMs, reminderMinutes: 60, newIncidentId });
 * if (await putState(sweep.state, prev?.version ?? null)) publish(sweep.events);
 */
export function sweepSilence(prev: SilenceState | null, sightings: readonly TargetSighting[], options: SweepOptions): Sweep {
  const before = prev ?? INITIAL_SILENCE_STATE;
  const now = options.now.getTime();
  const nowIso = options.now.toISOString();

  const unseenSince: Record<string, string> = {};
  const silent: (SilentTarget & { readonly since: number })[] = [];
  for (const { target, lastRoundAt } of sightings) {
    let since: number;
    if (lastRoundAt !== null) since = Date.parse(lastRoundAt);
    else {
      const first = before.unseenSince[target] ?? nowIso;
      unseenSince[target] = first;
      since = Date.parse(first);
    }
    if (now - since > options.silentAfterMs) silent.push({ target, lastRoundAt, since });
  }
  silent.sort((a, b) => a.since - b.since || a.target.localeCompare(b.target));
  const listed: SilentTarget[] = silent.map(({ target, lastRoundAt }) => ({ target, lastRoundAt }));

  const alertOf = (phase: SilenceAlert['phase'], incident: SilenceIncident, reminder?: number): SilenceAlert => ({
    kind: 'silent',
    key: `silent#${incident.id}#${phase}${reminder !== undefined ? `#${reminder}` : ''}`,
    incidentId: incident.id,
    target: listed.length === 1 ? listed[0]!.target : null,
    at: nowIso,
    startedAt: incident.startedAt,
    status: phase === 'ended' ? 'ok' : 'critical',
    findings: [],
    phase,
    silent: listed.slice(0, SILENT_TARGETS_LISTED),
    silentCount: listed.length,
    targetCount: sightings.length,
    silentAfterMinutes: Math.round(options.silentAfterMs / 60_000),
    durationMs: Math.max(0, now - Date.parse(incident.startedAt)),
    ...(reminder !== undefined ? { reminder } : {}),
  });

  const incident = before.incident;
  if (incident === null) {
    if (listed.length === 0) return { state: { unseenSince, incident: null }, silent: listed, events: [] };
    const opened: SilenceIncident = { id: options.newIncidentId(), startedAt: nowIso, lastAlertAt: nowIso, reminders: 0 };
    return { state: { unseenSince, incident: opened }, silent: listed, events: [alertOf('started', opened)] };
  }
  if (listed.length === 0) return { state: { unseenSince, incident: null }, silent: listed, events: [alertOf('ended', incident)] };
  if (options.reminderMinutes > 0 && now - Date.parse(incident.lastAlertAt) >= options.reminderMinutes * 60_000) {
    const reminders = incident.reminders + 1;
    return { state: { unseenSince, incident: { ...incident, reminders, lastAlertAt: nowIso } }, silent: listed, events: [alertOf('reminder', incident, reminders)] };
  }
  return { state: { unseenSince, incident }, silent: listed, events: [] };
}
