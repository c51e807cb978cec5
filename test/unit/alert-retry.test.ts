import { describe, expect, it } from 'vitest';
import { MAX_RETRY_SECONDS, receivesSpanning, retryDelaySeconds, RETRY_SPAN_SECONDS } from '#core/alert/retry.ts';

describe('the alert queue retry schedule', () => {
  it('doubles the wait from a minute up to an hour', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 30].map((n) => retryDelaySeconds(n))).toEqual([60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]);
  });

  it("waits as long as a channel's Retry-After asks, up to SQS's 12 hours", () => {
    expect(retryDelaySeconds(1, 900_000)).toBe(900);
    expect(retryDelaySeconds(7, 1_000)).toBe(MAX_RETRY_SECONDS);
    expect(retryDelaySeconds(1, 86_400_000)).toBe(43_200);
  });

  it('needs 30 tries to keep trying for 24 hours before the dead-letter queue', () => {
    // Prepare / Act
    const receives = receivesSpanning(RETRY_SPAN_SECONDS);
    const waited = Array.from({ length: receives - 1 }, (_, i) => retryDelaySeconds(i + 1)).reduce((a, b) => a + b, 0);

    // Assess
    expect(receives).toBe(30);
    expect(waited).toBeGreaterThanOrEqual(24 * 3600);
    expect(waited - retryDelaySeconds(receives - 1)).toBeLessThan(24 * 3600);
  });
});
