/**
 * Which scheduled rounds carry the canary message (the round trip through the bounce domain's
 * mailbox) and which only check the submission server up to AUTH. In AWS every received
 * message is billed, so the round trip runs on `roundTripSchedule` (hourly by default) while the
 * check runs on `schedule`. Pure: the decision depends on the round's scheduled time only, so a
 * retried invocation decides the same way and no state is kept.
 */
import { fnv1a } from './fingerprint.ts';

const UNIT_MS: Readonly<Record<string, number>> = { minute: 60_000, minutes: 60_000, hour: 3_600_000, hours: 3_600_000, day: 86_400_000, days: 86_400_000 };

/**
 * The period of a `rate(N unit)` expression in milliseconds; undefined for anything else (cron).
 * @example rateMs('rate(1 hour)') // 3600000
 */
export function rateMs(expression: string): number | undefined {
  const m = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression.trim());
  return m ? Number(m[1]) * UNIT_MS[m[2]!]! : undefined;
}

// A stable offset per target, the same on every run and machine.
function offsetOf(target: string, modulo: number): number {
  return fnv1a(target) % modulo;
}

/**
 * Whether the round of `target` scheduled at `scheduledAt` sends the canary message. Each target
 * gets its own instant in every `roundTripMs` period (so a fleet's round trips do not all land
 * in the same round), and the one round whose `intervalMs` window ends on or after that instant
 * sends it: one round trip per period on a regular schedule, whatever the schedule's phase.
 * Every round does when `roundTripMs` is not longer than `intervalMs`.
 * @example
 * isRoundTripRound('shop', new Date('2026-01-05T09:05:00Z'), { intervalMs: 300_000, roundTripMs: 3_600_000 })
 */
export function isRoundTripRound(target: string, scheduledAt: Date, periods: { readonly intervalMs: number; readonly roundTripMs: number }): boolean {
  const { intervalMs, roundTripMs } = periods;
  if (!(roundTripMs > intervalMs)) return true;
  const t = scheduledAt.getTime() - offsetOf(target, roundTripMs);
  return Math.floor(t / roundTripMs) !== Math.floor((t - intervalMs) / roundTripMs);
}
