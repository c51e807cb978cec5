/**
 * A target's recent rounds and canaries, downsampled for the report's charts: at most
 * MAX_BUCKETS points per line and per timeline whatever the history holds, so 500 targets with
 * weeks of five-minute rounds still make a light page. Each bucket keeps its worst status (a
 * failing round never disappears into an average) and, per SMTP step, the median time.
 * Pure: rounds in, numbers out.
 */
import { SMTP_STEPS, worstStatus, type SmtpStep, type Status } from '#core/findings.ts';
import type { CanaryRecord } from '#core/health/records.ts';
import type { TargetResult } from '#core/results.ts';

/** Points per chart line and cells per timeline at most. */
export const MAX_BUCKETS = 36;

/** Consecutive rounds drawn as one point. */
export interface RoundBucket {
  /** ISO start of its first and last round. */
  readonly from: string;
  readonly to: string;
  readonly rounds: number;
  readonly worst: Status;
  readonly counts: Readonly<Record<Status, number>>;
  /** Per SMTP step present: the median of the rounds' time in that step (ms, EHLO's two summed). */
  readonly stepMs: Readonly<Partial<Record<SmtpStep, number>>>;
}

/** What the report draws of a target's rounds. */
export interface RoundHistory {
  /** Rounds read (the newest of the history). */
  readonly rounds: number;
  /** Of those, OK or warning. */
  readonly good: number;
  /** Oldest first. */
  readonly buckets: readonly RoundBucket[];
}

/** Consecutive canaries drawn as one point of the round-trip line. */
export interface CanaryBucket {
  readonly from: string;
  readonly to: string;
  readonly canaries: number;
  /** Median seconds of those that arrived; null when none did. */
  readonly seconds: number | null;
}

function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Splits `items` into at most `max` runs of consecutive items, as even as they divide. */
export function bucketsOf<T>(items: readonly T[], max: number = MAX_BUCKETS): T[][] {
  const count = Math.min(items.length, Math.max(1, max));
  const out: T[][] = [];
  for (let b = 0; b < count; b++) out.push(items.slice(Math.floor((b * items.length) / count), Math.floor(((b + 1) * items.length) / count)));
  return out.filter((b) => b.length > 0);
}

/**
 * Downsamples rounds (oldest first) into at most `max` buckets.
 * @example summarizeRounds(rounds).buckets.length // ≤ 36
 */
export function summarizeRounds(rounds: readonly TargetResult[], max: number = MAX_BUCKETS): RoundHistory {
  const buckets = bucketsOf(rounds, max).map((group): RoundBucket => {
    const counts: Record<Status, number> = { ok: 0, warning: 0, critical: 0, unknown: 0 };
    const perStep = new Map<SmtpStep, number[]>();
    for (const r of group) {
      counts[r.status]++;
      const totals = new Map<SmtpStep, number>();
      for (const s of r.steps) totals.set(s.step, (totals.get(s.step) ?? 0) + s.ms);
      for (const [step, ms] of totals) {
        const list = perStep.get(step);
        if (list) list.push(ms);
        else perStep.set(step, [ms]);
      }
    }
    const stepMs: Partial<Record<SmtpStep, number>> = {};
    for (const step of SMTP_STEPS) {
      const m = median(perStep.get(step) ?? []);
      if (m !== null) stepMs[step] = m;
    }
    return { from: group[0]!.startedAt, to: group[group.length - 1]!.startedAt, rounds: group.length, worst: worstStatus(group.map((r) => r.status)), counts, stepMs };
  });
  const good = rounds.filter((r) => r.status === 'ok' || r.status === 'warning').length;
  return { rounds: rounds.length, good, buckets };
}

/**
 * Downsamples the canaries that must arrive (oldest first) into at most `max` buckets of the
 * median round trip.
 */
export function summarizeCanaries(canaries: readonly CanaryRecord[], max: number = MAX_BUCKETS): CanaryBucket[] {
  return bucketsOf(canaries, max).map((group) => ({
    from: group[0]!.sentAt,
    to: group[group.length - 1]!.sentAt,
    canaries: group.length,
    seconds: median(group.filter((c) => c.deliveredAt !== null).map((c) => Math.max(0, (Date.parse(c.deliveredAt!) - Date.parse(c.sentAt)) / 1000))),
  }));
}
