/**
 * The entry points the CLI, the local loop and the Lambdas call to turn what happened (a round,
 * a bounce, a canary that never arrived, an alarm) into alert events, exactly once.
 *
 * Once-only: every alert has a deterministic `key`; it is raised only by the caller that wins
 * `store.claim('alert#' + key)`. A round applied twice is recognised by the health state (its
 * canary id), a bounce by its canary id and recipient, so Lambda retries and duplicate S3
 * events raise nothing new. State writes are optimistic (`putHealth` with the read version).
 */
import type { AlarmAlert, AlertEvent, BounceAlert, UndeliveredAlert } from '../alert/event.ts';
import { newCanaryId } from '../canary-id.ts';
import { StateError } from '../errors.ts';
import type { Finding } from '../findings.ts';
import type { Clock, RandomSource, Store } from '../ports.ts';
import type { BouncedRecipient, TargetResult } from '../results.ts';
import { canaryNotDeliveredFinding } from './canary.ts';
import { advanceHealth, initialHealthState, type HealthThresholds } from './state.ts';

/** What the entry points need: the store, the time, randomness for incident ids. */
export interface HealthDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly random: RandomSource;
}

/**
 * How long a claim blocks a second raise. Retries and duplicate events come within minutes;
 * two weeks also covers a bounce that an MTA sends again days later.
 */
export const CLAIM_TTL_SECONDS = 14 * 24 * 3600;

// Two writers of one target's state only meet when a round is retried while still running.
const MAX_STATE_ATTEMPTS = 5;

/** How far back the round-trip check looks for undelivered canaries beyond the timeout. */
export const UNDELIVERED_LOOKBACK_HOURS = 24;

const incidentId = (deps: HealthDeps) => () => newCanaryId(deps.clock().getTime(), deps.random(10));

/** Raises an alert only for the first caller with its key. */
export async function claimAlert(event: AlertEvent, store: Store): Promise<boolean> {
  return store.claim(`alert#${event.key}`, CLAIM_TTL_SECONDS);
}

/**
 * Claims the delivery of an alert received from the alert topic, so an SNS redelivery does not
 * post it twice (the key differs from the raise claim, which the publisher already took).
 */
export async function claimDelivery(event: AlertEvent, store: Store): Promise<boolean> {
  return store.claim(`delivered#${event.key}`, CLAIM_TTL_SECONDS);
}

/**
 * Gives back the delivery claim of an alert no channel could deliver, so the topic's retry of
 * the message delivers it instead of dropping it as a duplicate.
 */
export async function releaseDelivery(event: AlertEvent, store: Store): Promise<void> {
  await store.release(`delivered#${event.key}`);
}

async function claimed<T extends AlertEvent>(events: readonly T[], store: Store): Promise<T[]> {
  const out: T[] = [];
  for (const e of events) if (await claimAlert(e, store)) out.push(e);
  return out;
}

/**
 * Applies one target's round to its health state, keeps the round in the history and returns
 * the alerts to deliver (usually none). Safe to call twice with the same result.
 * @example
 * const events = await recordRound(result, { store, clock, random, config: config.alerts });
 * for (const e of events) await deliverAlert(e, notifiers, config.language, { store, clock });
 */
export async function recordRound(
  result: TargetResult,
  deps: HealthDeps & { readonly config: HealthThresholds },
): Promise<AlertEvent[]> {
  const { store } = deps;
  await store.appendRound(result);
  for (let attempt = 0; attempt < MAX_STATE_ATTEMPTS; attempt++) {
    const current = await store.getHealth(result.name);
    const step = advanceHealth(current?.value ?? initialHealthState(result.name), result, {
      now: deps.clock(),
      thresholds: deps.config,
      newIncidentId: incidentId(deps),
    });
    if (step.kind !== 'applied') return [];
    if (await store.putHealth(result.name, step.state, current?.version ?? null)) return claimed(step.events, store);
  }
  throw new StateError(`the health state of target ${result.name} changed under every one of ${MAX_STATE_ATTEMPTS} attempts`);
}

// FNV-1a: a short stable fingerprint for a bounce that names no canary and no source.
function fingerprint(s: string): string {
  let h = 0x811c9dc5;
  for (const ch of s) {
    h ^= ch.codePointAt(0)!;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

/** The once-only key of a bounced recipient: its canary and recipient. */
export function bounceKey(recipient: BouncedRecipient, source?: string): string {
  const who = recipient.recipient.toLowerCase();
  if (recipient.canaryId) return `bounce#${recipient.canaryId.toUpperCase()}#${who}`;
  const origin = source ?? fingerprint([recipient.reason, recipient.status, recipient.replyCode, recipient.diagnostic, recipient.remoteMta].join('|'));
  return `bounce#unmatched:${origin}#${who}`;
}

/** What recording one bounced recipient did. */
export interface RecordedBounce {
  /** False when this bounce was recorded before (a retried message, a duplicate DSN): nothing else happened. */
  readonly first: boolean;
  /** The alerts to deliver (none for a duplicate, a non-failure, or a repeat held back). */
  readonly events: AlertEvent[];
  /**
   * Set when the same finding for the same recipient of the same target alerted less than
   * `repeatAfterMinutes` ago: this one is recorded but held back, and no alert for it goes out
   * before this ISO time.
   */
  readonly heldUntil: string | null;
}

/**
 * Records a bounced recipient (history) and raises its alert, once per canary and recipient.
 * `finding` is the bounce module's finding for it; null or an info finding (vacation,
 * feedback, delivered) is recorded but raises nothing.
 * With `repeatAfterMinutes`, the same finding for the same recipient of the same target alerts
 * again only after that long: a full mailbox bounces every canary, which is one problem, not
 * one alert per round. Every bounce is still recorded.
 * @param options.source where the bounce came from (S3 key, file); it tells unmatched bounces apart
 * @example
 * for (const r of analysis.recipients) events.push(...(await recordBounce(r, bounceFinding(r), { store, clock, random, source: key })).events);
 */
export async function recordBounce(
  recipient: BouncedRecipient,
  finding: Finding | null,
  deps: HealthDeps & { readonly source?: string; readonly repeatAfterMinutes?: number },
): Promise<RecordedBounce> {
  const { store } = deps;
  const key = bounceKey(recipient, deps.source);
  const none = (first: boolean, heldUntil: string | null = null): RecordedBounce => ({ first, events: [], heldUntil });
  if (!(await store.claim(key, CLAIM_TTL_SECONDS))) return none(false);
  const now = deps.clock().toISOString();
  const canary = recipient.canaryId ? await store.getCanary(recipient.canaryId.toUpperCase()) : null;
  const target = canary?.target ?? null;
  await store.appendBounce({
    at: now,
    target,
    canaryId: recipient.canaryId,
    recipient,
    finding,
    ...(deps.source !== undefined ? { source: deps.source } : {}),
  });
  if (finding === null || finding.severity === 'info') return none(true);
  if (deps.repeatAfterMinutes !== undefined) {
    const repeatKey = `bounce-repeat#${target ?? 'unmatched'}#${recipient.recipient.toLowerCase()}#${finding.code}`;
    const ttl = deps.repeatAfterMinutes > 0 ? deps.repeatAfterMinutes * 60 : CLAIM_TTL_SECONDS;
    if (!(await store.claim(repeatKey, ttl))) return none(true, (await store.claimedUntil(repeatKey)) ?? now);
  }
  const event: BounceAlert = {
    kind: 'bounce',
    key,
    incidentId: incidentId(deps)(),
    target,
    at: now,
    startedAt: now,
    status: finding.severity === 'critical' ? 'critical' : 'warning',
    findings: [finding],
    canaryId: recipient.canaryId,
    bounce: recipient,
  };
  return { first: true, events: await claimed([event], store), heldUntil: null };
}

/**
 * The round-trip check: raises CANARY_NOT_DELIVERED once per canary of these targets that was
 * sent more than `timeoutMinutes` ago (within the last day) and has not arrived.
 * @example
 * const events = await checkUndelivered(config.targets.map((t) => t.name), config.deliveryTimeoutMinutes, { store, clock, random });
 */
export async function checkUndelivered(
  targets: readonly string[],
  timeoutMinutes: number,
  deps: HealthDeps,
): Promise<AlertEvent[]> {
  const now = deps.clock();
  const sentBefore = new Date(now.getTime() - timeoutMinutes * 60_000);
  const sentAfter = new Date(sentBefore.getTime() - UNDELIVERED_LOOKBACK_HOURS * 3600_000);
  const events: UndeliveredAlert[] = [];
  for (const target of targets) {
    const late = await deps.store.listUndelivered(target, {
      sentAfter: sentAfter.toISOString(),
      sentBefore: sentBefore.toISOString(),
      limit: 50,
    });
    // A canary sent to no mailbox of the bounce domain has nothing to wait for.
    for (const canary of late.filter((c) => c.recipients.length > 0)) {
      const finding = canaryNotDeliveredFinding(canary, timeoutMinutes);
      events.push({
        kind: 'undelivered',
        key: `undelivered#${canary.id}`,
        incidentId: incidentId(deps)(),
        target,
        at: now.toISOString(),
        startedAt: canary.sentAt,
        status: 'critical',
        findings: [finding],
        canaryId: canary.id,
        sentAt: canary.sentAt,
        recipients: canary.recipients,
        timeoutMinutes,
      });
    }
  }
  return claimed(events, deps.store);
}

/**
 * Records that a canary arrived at the bounce domain's mailbox. Returns the round-trip time in
 * seconds the first time (for the RoundTripSeconds metric), null for an unknown canary or a
 * duplicate arrival.
 * @param deps.at when the message arrived (the receipt stamp of the listener, the SES receipt
 *   time); processing may come much later, so the clock is only the fallback
 * @example const seconds = await recordDelivered(analysis.deliveredCanaryId, { store, clock, at: mail.timestamp });
 */
export async function recordDelivered(canaryId: string, deps: { readonly store: Store; readonly clock: Clock; readonly at?: string }): Promise<number | null> {
  const marked = await deps.store.markDelivered(canaryId.toUpperCase(), deps.at ?? deps.clock().toISOString());
  if (marked === null || !marked.first || marked.record.deliveredAt === null) return null;
  return Math.max(0, (Date.parse(marked.record.deliveredAt) - Date.parse(marked.record.sentAt)) / 1000);
}

/**
 * Raises a CloudWatch alarm's alert once (SNS may deliver a notification more than once).
 * @example const events = await recordAlarm(alarmAlertFromCloudWatch(doc, { now, random })!, { store });
 */
export async function recordAlarm(alarm: AlarmAlert, deps: { readonly store: Store }): Promise<AlertEvent[]> {
  return claimed([alarm], deps.store);
}
