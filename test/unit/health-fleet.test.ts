import { describe, expect, it } from 'vitest';
import { compareFleetRows, fleetCounts, fleetRowOf, type FleetRow } from '#core/health/fleet.ts';
import type { CanaryRecord } from '#core/health/records.ts';
import { advanceHealth, initialHealthState, type HealthState } from '#core/health/state.ts';
import type { TargetResult } from '#core/results.ts';
import { at, round, T0 } from '../helpers/alert-fixtures.ts';

const NOW = new Date(T0 + 60 * 60_000);
const OPTIONS = { now: NOW, deliveryTimeoutMinutes: 15 };
const THRESHOLDS = { failureThreshold: 2, recoveryThreshold: 2, reminderMinutes: 60 };

/** The health after these rounds, as the state machine makes it. */
function healthAfter(rounds: readonly TargetResult[]): HealthState {
  let state = initialHealthState(rounds[0]!.name);
  for (const r of rounds) {
    const step = advanceHealth(state, r, { now: new Date(r.startedAt), thresholds: THRESHOLDS, newIncidentId: () => 'incident' });
    if (step.kind === 'applied') state = step.state;
  }
  return state;
}

const canary = (minutes: number, deliveredAfterSeconds: number | null): CanaryRecord => ({
  id: `c${minutes}`,
  target: 'shop',
  sentAt: at(minutes),
  recipients: ['canary@bounces.example.jp'],
  deliveredAt: deliveredAfterSeconds === null ? null : new Date(Date.parse(at(minutes)) + deliveredAfterSeconds * 1000).toISOString(),
});

describe('fleetRowOf', () => {
  it('says since when a target fails, at which step and finding, and its latest round trip', () => {
    // Prepare: OK, then failing from the round at minute 10
    const rounds = [round('ok', at(0)), round('critical', at(10)), round('critical', at(20)), round('critical', at(30))];

    // Act
    const row = fleetRowOf({ name: 'shop', health: healthAfter(rounds), lastRound: rounds[3]!, canaries: [canary(20, 2.5), canary(0, 1)] }, OPTIONS);

    // Assess
    expect(row).toEqual({
      name: 'shop',
      health: 'failing',
      status: 'critical',
      since: at(10),
      lastRoundAt: at(30),
      lastRoundStatus: 'critical',
      problem: { step: 'auth', code: 'AUTH_FAILED', severity: 'critical' },
      roundTrip: { canaryId: 'c20', sentAt: at(20), state: 'arrived', seconds: 2.5 },
      placement: null,
    });
  });

  it('says OK since the start of the good spell, with no problem for info findings alone', () => {
    const rounds = [round('critical', at(0)), round('critical', at(10)), round('ok', at(20)), round('ok', at(30))];
    const row = fleetRowOf({ name: 'shop', health: healthAfter(rounds), lastRound: rounds[3]!, canaries: [] }, OPTIONS);
    expect(row).toMatchObject({ health: 'ok', status: 'ok', since: at(20), problem: null, roundTrip: null });
  });

  it('tells a late canary from one still on the way', () => {
    const late = fleetRowOf({ name: 'shop', health: null, lastRound: null, canaries: [canary(40, null)] }, OPTIONS);
    const onTheWay = fleetRowOf({ name: 'shop', health: null, lastRound: null, canaries: [canary(50, null)] }, OPTIONS);
    expect(late.roundTrip).toMatchObject({ state: 'late', seconds: null });
    expect(onTheWay.roundTrip).toMatchObject({ state: 'on-the-way', seconds: null });
  });

  it('is unknown for a target never checked', () => {
    expect(fleetRowOf({ name: 'new', health: null, lastRound: null, canaries: [] }, OPTIONS)).toMatchObject({ health: 'unknown', status: 'unknown', since: null, lastRoundAt: null });
  });
});

describe('compareFleetRows', () => {
  const row = (name: string, health: FleetRow['health'], since: string | null, last: FleetRow['lastRoundStatus'] = null): FleetRow => ({
    name,
    health,
    status: 'ok',
    since,
    lastRoundAt: null,
    lastRoundStatus: last,
    problem: null,
    roundTrip: null,
    placement: null,
  });

  it('puts failing first (the longest first), then never checked, warning, OK by name', () => {
    // Prepare
    const rows = [
      row('b-ok', 'ok', at(0), 'ok'),
      row('a-ok-but-last-round-bad', 'ok', at(50), 'critical'),
      row('new', 'unknown', null),
      row('warn', 'warning', at(20), 'warning'),
      row('fail-recent', 'failing', at(40), 'critical'),
      row('fail-old', 'failing', at(10), 'critical'),
      row('a-ok', 'ok', at(30), 'ok'),
    ];

    // Act
    const order = [...rows].sort(compareFleetRows).map((r) => r.name);

    // Assess
    expect(order).toEqual(['fail-old', 'fail-recent', 'new', 'warn', 'a-ok-but-last-round-bad', 'a-ok', 'b-ok']);
    expect(fleetCounts(rows)).toEqual({ failing: 2, warning: 1, ok: 3, unknown: 1 });
  });
});
