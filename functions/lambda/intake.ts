/**
 * What the bounce Lambda records for one received message, once it is analysed: a delivered
 * canary (the round trip: its `roundTripSeconds` in the `canary delivered` log line, which the
 * dashboard charts per target) and the bounced recipients (history, findings, alerts, the
 * `Bounces` metric). Safe to run twice for the same message: deliveries, recipients and the
 * count are each claimed once, so a retried invocation raises and counts nothing new.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { AlertEvent, DigestSeeAlso } from '#core/alert/event.ts';
import type { DeliveryVerdicts } from '#core/auth/canary.ts';
import { recordDelivery } from '#core/auth/round.ts';
import type { BounceAnalysis } from '#core/bounce/analyze.ts';
import { bounceFinding } from '#core/bounce/findings.ts';
import type { Language } from '#core/findings.ts';
import { CLAIM_TTL_SECONDS, flushDigests, recordBounce, recordDelivered, type HealthDeps } from '#core/health/record.ts';
import type { MetricsSink } from '#core/ports.ts';
import { countBounces, logFinding, observeAlerts } from './observe.ts';

/** The store and time of the core, where the message came from, and where to report. */
export interface IntakeDeps extends HealthDeps {
  /** The S3 key of the message: tells apart bounces that match no canary, and keys the count. */
  readonly source: string;
  readonly logger: Logger;
  readonly sink: MetricsSink;
  readonly language: Language;
  /** The same bounce finding for the same recipient alerts again only after this long (alerts.reminderMinutes). */
  readonly repeatAfterMinutes?: number;
  /** The authentication verdicts of a delivered canary of this target (from the SES receipt event); null: none given. */
  readonly verdictsFor?: (target: string) => DeliveryVerdicts | null;
  /**
   * When the receiving service took the message (SES `mail.timestamp`): a delivered canary's
   * round trip ends here, not when this Lambda got to it.
   * @default the clock's now
   */
  readonly receivedAt?: string;
  /**
   * Bounce storms (alerts.bounceDigestMinutes): the first bounce of a kind per target alerts, the
   * rest is counted in the target's digest window in the table, sent by `publishableDigests`.
   */
  readonly digestMinutes?: number;
  /** Where a digest tells its reader to see every bounce (the suppression list of the table). */
  readonly seeAlso?: DigestSeeAlso;
  /** Waits between attempts of a digest update another Lambda beat. @default digestBackoff */
  readonly backoff?: (attempt: number) => Promise<void>;
}

// Concurrent Lambdas of one storm meet on their target's digest window: each retry waits a
// random time up to a growing bound, so they spread out instead of colliding again.
const BACKOFF_BASE_MS = 10;
const BACKOFF_MAX_MS = 1_000;

/** Full-jitter exponential backoff for digest updates (attempt 1, 2, …). */
export function digestBackoff(attempt: number): Promise<void> {
  const bound = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** attempt);
  return new Promise((resolve) => setTimeout(resolve, Math.random() * bound));
}

/**
 * Records an analysed message and returns the alerts it raised (to publish).
 * @example const events = await recordMessage(await analyzeBounce(bytes, { parse }), { store, clock, random, source: key, logger, sink, language });
 */
export async function recordMessage(analysis: BounceAnalysis, deps: IntakeDeps): Promise<AlertEvent[]> {
  const { store, logger, sink } = deps;
  const delivered = analysis.deliveredCanaryId?.toUpperCase();
  if (delivered) {
    const seconds = await recordDelivered(delivered, { ...deps, ...(deps.receivedAt !== undefined ? { at: deps.receivedAt } : {}) });
    const record = seconds === null ? null : await store.getCanary(delivered);
    const verdicts = record ? (deps.verdictsFor?.(record.target) ?? null) : null;
    if (record && verdicts) {
      await recordDelivery(record.target, { canaryId: delivered, at: record.deliveredAt ?? deps.clock().toISOString(), verdicts }, { store });
      logger.info('canary authentication', { canaryId: delivered, target: record.target, spf: verdicts.spf.result, dkim: verdicts.dkim.map((d) => d.result), dmarc: verdicts.dmarc.result });
    }
    logger.info('canary delivered', { canaryId: delivered, target: record?.target, roundTripSeconds: seconds, first: seconds !== null });
  }

  const about = analysis.canaryId ? await store.getCanary(analysis.canaryId.toUpperCase()) : null;
  const events: AlertEvent[] = [];
  for (const r of analysis.recipients) {
    const finding = bounceFinding(r);
    if (finding) logFinding(logger, finding, { target: about?.target ?? null, language: deps.language, canaryId: r.canaryId });
    events.push(...(await recordBounce(r, finding, { backoff: digestBackoff, tallyFromHistory: true, ...deps })).events);
  }
  observeAlerts(events, { logger, language: deps.language });
  // Claimed after the recipients were recorded: a run that failed before this point is counted by its retry.
  if (analysis.recipients.length > 0 && (await store.claim(`counted#${deps.source}`, CLAIM_TTL_SECONDS))) countBounces(analysis.recipients, sink);
  return events;
}

/**
 * The bounce digests whose window closed, to publish (each once, whoever of several invocations
 * closes it). A storm that goes on closes its windows with its own bounces; the digest schedule
 * calls this so the last window of a storm goes out without waiting for another bounce.
 * @example await publishAll(topic, await publishableDigests({ store, clock, random, logger, language, digestMinutes: 10 }), logger);
 */
export async function publishableDigests(deps: HealthDeps & Pick<IntakeDeps, 'logger' | 'language' | 'digestMinutes' | 'seeAlso'>): Promise<AlertEvent[]> {
  if (!deps.digestMinutes || deps.digestMinutes <= 0) return [];
  const events = await flushDigests({ ...deps, digestMinutes: deps.digestMinutes, tallyFromHistory: true });
  observeAlerts(events, { logger: deps.logger, language: deps.language });
  return events;
}
