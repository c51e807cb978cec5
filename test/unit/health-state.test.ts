import { describe, expect, it } from 'vitest';
import type { Status } from '#core/findings.ts';
import type { HealthAlert } from '#core/alert/event.ts';
import { advanceHealth, failedStepOf, initialHealthState, type HealthState, type HealthThresholds } from '#core/health/state.ts';
import { at, canaryAt, round, T0 } from '../helpers/alert-fixtures.ts';

const CODE: Record<string, Status> = { O: 'ok', W: 'warning', C: 'critical', U: 'unknown' };
const DEFAULTS: HealthThresholds = { failureThreshold: 2, recoveryThreshold: 2, reminderMinutes: 60 };

/**
 * Runs a sequence like 'C C O O' (one round every `every` minutes; the clock reads 10 s after
 * each round started) and returns what each round raised ('-' for nothing), the events and the
 * final state.
 */
function run(sequence: string, thresholds: HealthThresholds = DEFAULTS, every = 5) {
  let state: HealthState = initialHealthState('shop');
  let ids = 0;
  const raised: string[] = [];
  const events: HealthAlert[] = [];
  sequence.split(/\s+/).forEach((c, i) => {
    const status = CODE[c];
    if (!status) throw new Error(`bad code ${c}`);
    const minutes = i * every;
    const step = advanceHealth(state, round(status, at(minutes), { canaryId: canaryAt(minutes) }), {
      now: new Date(T0 + minutes * 60_000 + 10_000),
      thresholds,
      newIncidentId: () => `INCIDENT-${++ids}`,
    });
    if (step.kind !== 'applied') throw new Error(`round ${i} was ${step.kind}`);
    state = step.state;
    raised.push(step.events.map((e) => e.kind).join('+') || '-');
    events.push(...step.events);
  });
  return { raised, events, state };
}

describe('advanceHealth', () => {
  // Each row: the rounds in order, then what each round raises.
  const sequences: { name: string; rounds: string; raised: string; thresholds?: HealthThresholds }[] = [
    { name: 'stays silent while everything is ok', rounds: 'O O O O', raised: '- - - -' },
    { name: 'raises failing once after two critical rounds', rounds: 'C C C C', raised: '- failing - -' },
    { name: 'raises nothing while flapping between critical and ok', rounds: 'C O C O C O C O', raised: '- - - - - - - -' },
    { name: 'recovers after two good rounds', rounds: 'C C O O O', raised: '- failing - recovered -' },
    { name: 'needs consecutive good rounds to recover', rounds: 'C C O C O C O O', raised: '- failing - - - - - recovered' },
    { name: 'counts an unknown round as a bad one', rounds: 'U C', raised: '- failing' },
    { name: 'counts warning rounds as good for recovery', rounds: 'C C W O', raised: '- failing - recovered' },
    { name: 'raises a warning after two warning rounds', rounds: 'W W W', raised: '- warning -' },
    { name: 'clears a warning after two ok rounds', rounds: 'W W O O', raised: '- warning - recovered' },
    { name: 'escalates a warning to failing', rounds: 'W W C C O O', raised: '- warning - failing - recovered' },
    { name: 'raises nothing for a single warning among ok rounds', rounds: 'O W O W O', raised: '- - - - -' },
    {
      name: 'recovers into a silent warning when warnings outlast the outage',
      rounds: 'C C W W O O',
      raised: '- failing - recovered - recovered',
    },
    {
      name: 'honours a failure threshold of 3 and a recovery threshold of 1',
      rounds: 'C C O C C C O',
      raised: '- - - - - failing recovered',
      thresholds: { failureThreshold: 3, recoveryThreshold: 1, reminderMinutes: 0 },
    },
    {
      name: 'alerts on the first bad round with a threshold of 1',
      rounds: 'C O',
      raised: 'failing recovered',
      thresholds: { failureThreshold: 1, recoveryThreshold: 1, reminderMinutes: 0 },
    },
  ];

  for (const s of sequences) {
    it(s.name, () => {
      // Prepare / Act
      const { raised } = run(s.rounds, s.thresholds);

      // Assess
      expect(raised.join(' ')).toBe(s.raised);
    });
  }

  it('reminds every reminderMinutes while failing, counted from the last alert', () => {
    // Prepare: 2 h 5 min of critical rounds, one every 5 minutes
    const rounds = Array.from({ length: 26 }, () => 'C').join(' ');

    // Act
    const { raised, events } = run(rounds);

    // Assess: failing at round 1 (00:05:10), reminders 60 min after each alert
    expect(raised.flatMap((r, i) => (r === '-' ? [] : [`${i}:${r}`]))).toEqual(['1:failing', '13:reminder', '25:reminder']);
    expect(events.map((e) => e.reminder)).toEqual([undefined, 1, 2]);
    expect(events[2]?.durationMs).toBe((125 * 60 + 10) * 1000);
    expect(new Set(events.map((e) => e.incidentId)).size).toBe(1);
  });

  it('sends no reminders when reminderMinutes is 0', () => {
    const { raised } = run(Array.from({ length: 30 }, () => 'C').join(' '), { ...DEFAULTS, reminderMinutes: 0 });
    expect(raised.filter((r) => r !== '-')).toEqual(['failing']);
  });

  it('keeps one incident id from failing to recovery and opens a new one for the next outage', () => {
    // Prepare / Act
    const { events } = run('C C O O C C O O');

    // Assess
    expect(events.map((e) => `${e.kind}:${e.incidentId}`)).toEqual([
      'failing:INCIDENT-1',
      'recovered:INCIDENT-1',
      'failing:INCIDENT-2',
      'recovered:INCIDENT-2',
    ]);
    expect(events.map((e) => e.key)).toEqual(['INCIDENT-1#failing', 'INCIDENT-1#recovered', 'INCIDENT-2#failing', 'INCIDENT-2#recovered']);
  });

  it('dates the incident from its first bad round and measures the outage until the first good one', () => {
    // Prepare / Act: bad at 0, 5, 10; good from 15
    const { events } = run('C C C O O');

    // Assess
    const [failing, recovered] = events;
    expect(failing).toMatchObject({ kind: 'failing', startedAt: at(0), failedStep: 'auth', status: 'critical' });
    expect(failing?.findings.map((f) => f.code)).toEqual(['AUTH_FAILED', 'PORT25_BLOCKED']);
    expect(recovered).toMatchObject({ kind: 'recovered', startedAt: at(0), durationMs: 15 * 60_000, recoveredFrom: 'failing' });
  });

  it('ignores the same round applied twice', () => {
    // Prepare
    const result = round('critical', at(0), { canaryId: canaryAt(0) });
    const ctx = { now: new Date(T0), thresholds: DEFAULTS, newIncidentId: () => 'X' };
    const first = advanceHealth(initialHealthState('shop'), result, ctx);
    if (first.kind !== 'applied') throw new Error('first round not applied');

    // Act
    const second = advanceHealth(first.state, result, ctx);

    // Assess
    expect(second.kind).toBe('duplicate');
  });

  it('ignores a round older than the latest one applied', () => {
    // Prepare
    const ctx = { now: new Date(T0 + 3600_000), thresholds: DEFAULTS, newIncidentId: () => 'X' };
    const newer = advanceHealth(initialHealthState('shop'), round('ok', at(10), { canaryId: canaryAt(10) }), ctx);
    if (newer.kind !== 'applied') throw new Error('newer round not applied');

    // Act
    const older = advanceHealth(newer.state, round('critical', at(5), { canaryId: canaryAt(5) }), ctx);

    // Assess
    expect(older.kind).toBe('stale');
  });

  it('names the failing step from the worst finding, else from the first failed step', () => {
    expect(failedStepOf(round('critical', at(0)))).toBe('auth');
    expect(failedStepOf({ findings: [], steps: [{ step: 'connect', ok: true, ms: 1 }, { step: 'greeting', ok: false, ms: 15000 }] })).toBe('greeting');
    expect(failedStepOf(round('ok', at(0)))).toBeNull();
  });
});
