import { describe, expect, it } from 'vitest';
import { isRoundTripRound, rateMs } from '#core/round-trip.ts';

const FIVE_MINUTES = 5 * 60_000;
const HOUR = 3_600_000;

/** The scheduled times of a rate schedule started at `start`, for `hours` hours. */
function rounds(start: string, intervalMs: number, hours: number): Date[] {
  const t0 = Date.parse(start);
  return Array.from({ length: (hours * HOUR) / intervalMs }, (_, i) => new Date(t0 + i * intervalMs));
}

describe('rateMs', () => {
  it('reads minutes, hours and days, and nothing from cron()', () => {
    expect(rateMs('rate(1 minute)')).toBe(60_000);
    expect(rateMs('rate(1 hour)')).toBe(HOUR);
    expect(rateMs('rate(2 days)')).toBe(2 * 86_400_000);
    expect(rateMs('cron(0 * * * ? *)')).toBeUndefined();
  });
});

describe('isRoundTripRound', () => {
  it('sends the canary in exactly one round of each hour on a five-minute schedule, whatever its phase', () => {
    for (const start of ['2026-01-05T09:00:00Z', '2026-01-05T09:02:37Z', '2026-01-05T09:04:59Z']) {
      // Act
      const chosen = rounds(start, FIVE_MINUTES, 24).filter((at) => isRoundTripRound('shop', at, { intervalMs: FIVE_MINUTES, roundTripMs: HOUR }));
      // Assess: 24 a day, an hour apart
      expect(chosen, start).toHaveLength(24);
      for (let i = 1; i < chosen.length; i++) expect(chosen[i]!.getTime() - chosen[i - 1]!.getTime()).toBe(HOUR);
    }
  });

  it("spreads a fleet's round trips over the hour instead of one round for all", () => {
    // Prepare
    const targets = Array.from({ length: 120 }, (_, i) => `customer-${i}`);
    // Act: how many targets send their canary in each of the twelve rounds of an hour
    const perRound = rounds('2026-01-05T09:00:00Z', FIVE_MINUTES, 1).map(
      (at) => targets.filter((t) => isRoundTripRound(t, at, { intervalMs: FIVE_MINUTES, roundTripMs: HOUR })).length,
    );
    // Assess: every target once, no round with more than a quarter of them
    expect(perRound.reduce((a, b) => a + b, 0)).toBe(120);
    expect(Math.max(...perRound)).toBeLessThan(30);
  });

  it('sends the canary every round when the round trip is not slower than the schedule', () => {
    const at = new Date('2026-01-05T09:00:00Z');
    expect(isRoundTripRound('shop', at, { intervalMs: HOUR, roundTripMs: HOUR })).toBe(true);
    expect(isRoundTripRound('shop', at, { intervalMs: 2 * HOUR, roundTripMs: HOUR })).toBe(true);
  });
});
