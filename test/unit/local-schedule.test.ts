import { describe, expect, it } from 'vitest';
import { ConfigError } from '#core/errors.ts';
import { intervalSchedule, parseSchedule, scheduleOf } from '#local/schedule.ts';

const at = (iso: string) => new Date(iso);

describe('parseSchedule', () => {
  it('runs a rate schedule from the start of the previous round', () => {
    // Prepare
    const schedule = parseSchedule('rate(5 minutes)');

    // Act
    const next = schedule.next(at('2026-01-01T00:00:00Z'), at('2026-01-01T00:00:07Z'));

    // Assess
    expect(next.toISOString()).toBe('2026-01-01T00:05:00.000Z');
    expect(schedule.description).toBe('every 5 minutes');
  });

  it('starts at once when a round took longer than the interval', () => {
    const next = parseSchedule('rate(1 minute)').next(at('2026-01-01T00:00:00Z'), at('2026-01-01T00:01:30Z'));
    expect(next.toISOString()).toBe('2026-01-01T00:01:30.000Z');
  });

  it('reads hours and days', () => {
    expect(parseSchedule('rate(2 hours)').next(at('2026-01-01T00:00:00Z'), at('2026-01-01T00:00:00Z')).toISOString()).toBe('2026-01-01T02:00:00.000Z');
    expect(parseSchedule('rate(1 day)').next(at('2026-01-01T00:00:00Z'), at('2026-01-01T00:00:00Z')).toISOString()).toBe('2026-01-02T00:00:00.000Z');
  });

  it('finds the next minute a cron expression matches, in UTC', () => {
    // Every 15 minutes during 9-17 UTC on weekdays (EventBridge: day-of-week 2-6 = MON-FRI).
    const schedule = parseSchedule('cron(0/15 9-17 ? * MON-FRI *)');
    // 2026-01-02 is a Friday; after 17:45 the next is Monday 09:00.
    expect(schedule.next(at('2026-01-02T17:45:00Z'), at('2026-01-02T17:45:02Z')).toISOString()).toBe('2026-01-05T09:00:00.000Z');
    expect(schedule.next(at('2026-01-05T09:00:00Z'), at('2026-01-05T09:00:01Z')).toISOString()).toBe('2026-01-05T09:15:00.000Z');
  });

  it('reads lists and month names', () => {
    const schedule = parseSchedule('cron(30 0,12 1 JAN,JUL ? *)');
    expect(schedule.next(at('2026-01-01T12:30:00Z'), at('2026-01-01T12:30:00Z')).toISOString()).toBe('2026-07-01T00:30:00.000Z');
  });

  it('refuses what it cannot run locally with a ConfigError naming the way out', () => {
    expect(() => parseSchedule('cron(0 12 L * ? *)')).toThrow(ConfigError);
    expect(() => parseSchedule('cron(0 12 L * ? *)')).toThrow(/local\.intervalSeconds/);
    expect(() => parseSchedule('cron(0 12 * *)')).toThrow(/six fields/);
    expect(() => parseSchedule('cron(61 * * * ? *)')).toThrow(/0-59/);
    expect(() => parseSchedule('every 5 minutes')).toThrow(ConfigError);
  });
});

describe('scheduleOf', () => {
  it('prefers --interval, then local.intervalSeconds, then the schedule', () => {
    const config = { schedule: 'rate(5 minutes)', local: { intervalSeconds: 30 } };
    const last = at('2026-01-01T00:00:00Z');
    expect(scheduleOf(config, 2).next(last, last).toISOString()).toBe('2026-01-01T00:00:02.000Z');
    expect(scheduleOf(config).next(last, last).toISOString()).toBe('2026-01-01T00:00:30.000Z');
    expect(scheduleOf({ schedule: 'rate(5 minutes)' }).next(last, last).toISOString()).toBe('2026-01-01T00:05:00.000Z');
  });

  it('refuses a non-positive interval', () => {
    expect(() => intervalSchedule(0)).toThrow(ConfigError);
  });
});
