import { describe, expect, it } from 'vitest';
import { sweepSilence, type SilenceState, type TargetSighting } from '#core/health/silence.ts';
import { alertView } from '#core/alert/view.ts';

const T0 = Date.parse('2026-01-05T00:00:00Z');
const minutes = (m: number) => new Date(T0 + m * 60_000);
const iso = (m: number) => minutes(m).toISOString();
const SILENT_AFTER = 17 * 60_000;

let ids = 0;
const options = (m: number, reminderMinutes = 60) => ({ now: minutes(m), silentAfterMs: SILENT_AFTER, reminderMinutes, newIncidentId: () => `INCIDENT${++ids}` });

/** Runs sweeps in order, each with the sightings of its minute; returns every alert and the last state. */
function sweeps(plan: readonly [minute: number, sightings: readonly TargetSighting[]][], reminderMinutes = 60) {
  let state: SilenceState | null = null;
  const events = [];
  for (const [m, sightings] of plan) {
    const sweep = sweepSilence(state, sightings, options(m, reminderMinutes));
    state = sweep.state;
    events.push(...sweep.events.map((e) => ({ minute: m, ...e })));
  }
  return { events, state: state! };
}

/** Targets that report a round every 5 minutes until `stop` (minute), then nothing. */
function reporting(names: readonly string[], m: number, stop: Readonly<Record<string, number>> = {}): TargetSighting[] {
  return names.map((target) => {
    const last = Math.min(m, stop[target] ?? Number.POSITIVE_INFINITY);
    return { target, lastRoundAt: iso(Math.floor(last / 5) * 5) };
  });
}

describe('sweepSilence', () => {
  it('gives a target that never reported the silence period from the first sweep that looked for it', () => {
    // Act
    const { events, state } = sweeps([
      [0, [{ target: 'new', lastRoundAt: null }]],
      [10, [{ target: 'new', lastRoundAt: null }]],
      [15, [{ target: 'new', lastRoundAt: null }]],
    ]);
    const late = sweepSilence(state, [{ target: 'new', lastRoundAt: null }], options(20));

    // Assess
    expect(events).toEqual([]);
    expect(state.unseenSince).toEqual({ new: iso(0) });
    expect(late.events.map((e) => [e.phase, e.target, e.silent])).toEqual([['started', 'new', [{ target: 'new', lastRoundAt: null }]]]);
  });

  it('opens one incident when a target stops reporting and closes it when it reports again', () => {
    // Prepare: shop stops after its round at minute 10 and comes back at minute 45
    const plan: [number, TargetSighting[]][] = [];
    for (let m = 0; m <= 60; m += 5) plan.push([m, m < 45 ? reporting(['shop', 'clinic'], m, { shop: 10 }) : reporting(['shop', 'clinic'], m)]);

    // Act
    const { events } = sweeps(plan);

    // Assess: silent from minute 30 (last round 10 + 17 min), back at 45
    expect(events.map((e) => [e.minute, e.phase, e.target, e.silentCount, e.status])).toEqual([
      [30, 'started', 'shop', 1, 'critical'],
      [45, 'ended', null, 0, 'ok'],
    ]);
    expect(events[0]!.silent).toEqual([{ target: 'shop', lastRoundAt: iso(10) }]);
    expect(events[1]!.durationMs).toBe(15 * 60_000);
    expect(events[0]!.incidentId).toBe(events[1]!.incidentId);
    expect(new Set(events.map((e) => e.key)).size).toBe(2);
  });

  it('raises one alert when a broken canary silences 500 targets one after the other, and one when they are back', () => {
    // Prepare: every target reports at its own minute until minute 30; nothing until minute 120
    const names = Array.from({ length: 500 }, (_, i) => `customer-${i}`);
    const sighting = (m: number) =>
      names.map((target, i) => {
        const offset = i % 5;
        const last = m < 120 ? Math.min(m, 30) : m;
        const round = Math.floor((last - offset) / 5) * 5 + offset;
        return { target, lastRoundAt: iso(round) };
      });
    const plan: [number, TargetSighting[]][] = [];
    for (let m = 0; m <= 130; m += 5) plan.push([m, sighting(m)]);

    // Act
    const { events } = sweeps(plan, 0);

    // Assess
    expect(events.map((e) => [e.phase, e.silentCount, e.targetCount])).toEqual([
      ['started', expect.any(Number), 500],
      ['ended', 0, 500],
    ]);
    expect(events[0]!.silent.length).toBeLessThanOrEqual(50);
    expect(events[0]!.target).toBeNull();
  });

  it('reminds while targets stay silent, naming every one silent by then', () => {
    // Prepare: shop stops at minute 0, clinic at minute 30
    const plan: [number, TargetSighting[]][] = [];
    for (let m = 0; m <= 90; m += 5) plan.push([m, reporting(['shop', 'clinic'], m, { shop: 0, clinic: 30 })]);

    // Act
    const { events } = sweeps(plan, 60);

    // Assess
    expect(events.map((e) => [e.minute, e.phase, e.reminder, e.silent.map((s) => s.target)])).toEqual([
      [20, 'started', undefined, ['shop']],
      [80, 'reminder', 1, ['shop', 'clinic']],
    ]);
  });

  it('forgets targets that left the config', () => {
    // Act
    const first = sweepSilence(null, [{ target: 'gone', lastRoundAt: null }, { target: 'kept', lastRoundAt: null }], options(0));
    const second = sweepSilence(first.state, [{ target: 'kept', lastRoundAt: null }], options(5));
    // Assess
    expect(second.state.unseenSince).toEqual({ kept: iso(0) });
  });
});

describe('the silence alert', () => {
  it('names the silent targets and what to check, in Japanese and English', () => {
    // Prepare
    const names = ['shop', 'clinic', 'school'];
    const { events } = sweeps([[0, names.map((target) => ({ target, lastRoundAt: iso(0) }))], [20, names.map((target) => ({ target, lastRoundAt: iso(0) }))]]);

    // Act
    const en = alertView(events[0]!, 'en');
    const ja = alertView(events[0]!, 'ja');

    // Assess
    expect(en.title).toBe('Canary not reporting: 3 of 3 targets');
    expect(en.summary).toContain('clinic, school, shop');
    expect(en.summary).toContain('EventBridge Scheduler');
    expect(ja.title).toBe('送信チェックが止まっています: 3 件中 3 件');
    expect(ja.summary).toContain('17 分以上記録されていません');
    expect(en.tone).toBe('critical');
  });
});
