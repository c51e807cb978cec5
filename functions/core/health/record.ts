/**
 * The entry points the CLI, the local loop and the Lambdas call to turn what happened (a round,
 * a bounce, a canary that never arrived, an alarm) into alert events, exactly once.
 *
 * Once-only: every alert has a deterministic `key`; it is raised only by the caller that wins
 * `store.claim('alert#' + key)`. A round applied twice is recognised by the health state (its
 * canary id), a bounce by its canary id and recipient, so Lambda retries and duplicate S3
 * events raise nothing new. State writes are optimistic (`putHealth` with the read version),
 * and the write that decides an alert raises it in the same step (functions/core/health/
 * raise.ts): where the store writes atomically, no alert is decided and then lost.
 */
import { closeWindow, digestAlert, emptyTally, groupBounce, tallyOfRecords, type DigestWindow } from '../alert/digest.ts';
import type { AlarmAlert, AlertEvent, BounceAlert, DigestAlert, DigestSeeAlso, UndeliveredAlert } from '../alert/event.ts';
import { newCanaryId } from '../canary-id.ts';
import { StateError } from '../errors.ts';
import { fingerprint } from '../fingerprint.ts';
import type { Finding } from '../findings.ts';
import type { Clock, RandomSource, Store } from '../ports.ts';
import type { BouncedRecipient, TargetResult } from '../results.ts';
import { canaryNotDeliveredFinding } from './canary.ts';
import type { Decision } from './decision.ts';
import { ALERT_CLAIM_TTL_SECONDS, alertClaimKey, raiseAlerts } from './raise.ts';
import type { BounceRecord } from './records.ts';
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
export const CLAIM_TTL_SECONDS = ALERT_CLAIM_TTL_SECONDS;

// Two writers of one target's state only meet when a round is retried while still running.
const MAX_STATE_ATTEMPTS = 5;
// A storm's bounces all update their target's digest window: several processors may meet there.
const MAX_DIGEST_ATTEMPTS = 40;

/** How far back the round-trip check looks for undelivered canaries beyond the timeout. */
export const UNDELIVERED_LOOKBACK_HOURS = 24;

const incidentId = (deps: HealthDeps) => () => newCanaryId(deps.clock().getTime(), deps.random(10));

/** Raises an alert only for the first caller with its key. */
export async function claimAlert(event: AlertEvent, store: Store): Promise<boolean> {
  return store.claim(alertClaimKey(event), CLAIM_TTL_SECONDS);
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

/** Raises alerts whose claim is their only decision (an undelivered canary, an alarm, a DMARC change): each once. */
export async function raisedAlone<T extends AlertEvent>(events: readonly T[], store: Pick<Store, 'claim' | 'raise'>): Promise<T[]> {
  if (events.length === 0) return [];
  // Without decisions a raise uses only the store's claim (or its atomic raise).
  const out = await raiseAlerts([], events, { store: store as Store });
  return out.written ? (out.raised as T[]) : [];
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
    const decision: Decision = { kind: 'health', target: result.name, state: step.state, expectedVersion: current?.version ?? null };
    const out = await raiseAlerts([decision], step.events, { store });
    if (out.written) return out.raised;
  }
  throw new StateError(`the health state of target ${result.name} changed under every one of ${MAX_STATE_ATTEMPTS} attempts`);
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
  /** The alerts to deliver now (none for a duplicate, a non-failure, a repeat held back, or one counted in a digest). */
  readonly events: AlertEvent[];
  /**
   * Set when the same finding for the same recipient of the same target alerted less than
   * `repeatAfterMinutes` ago: this one is recorded but held back, and no alert for it goes out
   * before this ISO time.
   */
  readonly heldUntil: string | null;
  /** Set when the bounce was counted in its target's digest instead of alerting: the ISO time the digest is due. */
  readonly digestAt: string | null;
}

/** How bounce alerts are grouped (alerts.bounceDigestMinutes). */
export interface DigestOptions {
  /** Window length in minutes; 0 or absent: every bounce alerts on its own. */
  readonly digestMinutes?: number;
  /** Where a digest tells its reader to see every bounce. */
  readonly seeAlso?: DigestSeeAlso;
  /**
   * Waits before trying a digest update again that another writer beat (attempt 1, 2, …): many
   * Lambdas of one storm update one window, and retrying all at once only collides again.
   * @default no wait (one process whose updates take turns)
   */
  readonly backoff?: (attempt: number) => Promise<void>;
  /**
   * Many writers at once (Lambdas): a bounce counted in a digest writes nothing to the window
   * (no hot item to fight over); the digest counts the window's bounces from the history when
   * it closes (functions/core/alert/digest.ts `tallyOfRecords`). Only opening a window and the
   * first bounce of a kind write it.
   * @default false (one process keeps the tally in the window)
   */
  readonly tallyFromHistory?: boolean;
}

// Bounces read back per page when a digest is counted from the history; a window of a big
// storm pages on, up to the most a digest ever counts.
const HISTORY_PAGE = 1_000;
const HISTORY_MAX = 200_000;

/** The window with its tally counted from the bounces recorded in it. */
async function withHistoryTally(window: DigestWindow, store: Store): Promise<DigestWindow> {
  const from = window.countFrom ?? window.openedAt;
  let records: BounceRecord[] = [];
  for (let want = HISTORY_PAGE; want <= HISTORY_MAX; want *= 4) {
    records = await store.listBounces(window.target, want);
    // Newest first: done once the oldest read is older than the window, or nothing more is there.
    if (records.length < want || (records.at(-1)?.at ?? '') < from) break;
  }
  return { ...window, tally: tallyOfRecords(window, records) };
}

const DEFAULT_SEE_ALSO: DigestSeeAlso = { command: 'mailhealth suppressions' };

/**
 * Records a bounced recipient (history) and raises its alert, once per canary and recipient.
 * `finding` is the bounce module's finding for it; null or an info finding (vacation,
 * feedback, delivered) is recorded but raises nothing.
 * The record is written before the bounce is claimed, so a crash between the two and a retry
 * record it once (a record is identified by its key); a copy that comes after the claim is a
 * duplicate and records nothing.
 * With `repeatAfterMinutes`, the same finding for the same recipient of the same target alerts
 * again only after that long: a full mailbox bounces every canary, which is one problem, not
 * one alert per round. Every bounce is still recorded.
 * With `digestMinutes`, a storm is grouped (functions/core/alert/digest.ts): the first bounce of
 * a kind per target alerts, the rest is counted in the target's digest; a digest that fell due
 * meanwhile comes back among the events.
 * @param options.source where the raw message is kept (S3 key, file); it tells unmatched bounces apart
 * @param options.receivedAt when the message arrived (ISO); the record's time. Default: now
 * @example
 * for (const r of analysis.recipients) events.push(...(await recordBounce(r, bounceFinding(r), { store, clock, random, source: key })).events);
 */
export async function recordBounce(
  recipient: BouncedRecipient,
  finding: Finding | null,
  deps: HealthDeps & DigestOptions & { readonly source?: string; readonly receivedAt?: string; readonly repeatAfterMinutes?: number },
): Promise<RecordedBounce> {
  const { store } = deps;
  const key = bounceKey(recipient, deps.source);
  const none = (first: boolean, heldUntil: string | null = null): RecordedBounce => ({ first, events: [], heldUntil, digestAt: null });
  if ((await store.claimedUntil(key)) !== null) return none(false);
  const now = deps.clock().toISOString();
  const at = deps.receivedAt ?? now;
  const canary = recipient.canaryId ? await store.getCanary(recipient.canaryId.toUpperCase()) : null;
  const target = canary?.target ?? null;
  // An id no canary of ours carries (another installation's, or one long forgotten) does not make
  // the bounce a canary's: it is the shop's own mail, recorded and alerted as such.
  const canaryId = canary ? recipient.canaryId : null;
  await store.appendBounce({
    at,
    key,
    target,
    canaryId,
    recipient,
    finding,
    ...(deps.source !== undefined ? { source: deps.source } : {}),
  });
  const claimBounce: Decision = { kind: 'claim', key, ttlSeconds: CLAIM_TTL_SECONDS };
  if (finding === null || finding.severity === 'info') return none(await store.claim(key, CLAIM_TTL_SECONDS));
  const repeatKey = `bounce-repeat#${target ?? 'unmatched'}#${recipient.recipient.toLowerCase()}#${finding.code}`;
  const heldUntil = deps.repeatAfterMinutes !== undefined ? await store.claimedUntil(repeatKey) : null;
  if (heldUntil !== null) return none(await store.claim(key, CLAIM_TTL_SECONDS), heldUntil);
  // The repeat window of a bounce that alerts on its own is taken in the same write as its alert.
  const repeatClaim: Decision | null =
    deps.repeatAfterMinutes === undefined
      ? null
      : { kind: 'claim', key: repeatKey, ttlSeconds: deps.repeatAfterMinutes > 0 ? deps.repeatAfterMinutes * 60 : CLAIM_TTL_SECONDS };
  /** Another bounce of the same problem took the repeat window first: this one is held back. */
  const heldMeanwhile = async (): Promise<RecordedBounce> => {
    // Written already by a store that writes in turn; taken here by one that writes atomically.
    await store.claim(key, CLAIM_TTL_SECONDS);
    return none(true, (await store.claimedUntil(repeatKey)) ?? now);
  };
  const event: BounceAlert = {
    kind: 'bounce',
    key,
    incidentId: incidentId(deps)(),
    target,
    at: now,
    startedAt: at,
    status: finding.severity === 'critical' ? 'critical' : 'warning',
    findings: [finding],
    canaryId,
    bounce: recipient,
  };
  if (!deps.digestMinutes || deps.digestMinutes <= 0) {
    const decisions = [claimBounce, ...(repeatClaim ? [repeatClaim] : [])];
    const out = await raiseAlerts(decisions, [event], { store });
    if (out.written) return { first: true, events: out.raised, heldUntil: null, digestAt: null };
    return decisions[out.failed] === claimBounce ? none(false) : heldMeanwhile();
  }
  return groupInStore(event, { claimBounce, repeatClaim, heldMeanwhile, none }, deps as HealthDeps & DigestOptions & { readonly digestMinutes: number });
}

/**
 * Applies one bounce alert to its target's digest window and raises what that decides, in one
 * write: the window (optimistic, retried when another writer moved it), the bounce's claim,
 * its repeat window when it alerts on its own, and its alerts (itself, a digest that fell due).
 */
async function groupInStore(
  event: BounceAlert,
  claims: {
    readonly claimBounce: Decision;
    readonly repeatClaim: Decision | null;
    readonly heldMeanwhile: () => Promise<RecordedBounce>;
    readonly none: (first: boolean) => RecordedBounce;
  },
  deps: HealthDeps & DigestOptions & { readonly digestMinutes: number },
): Promise<RecordedBounce> {
  const { store } = deps;
  const history = deps.tallyFromHistory ?? false;
  for (let attempt = 0; attempt < MAX_DIGEST_ATTEMPTS; attempt++) {
    const current = await store.getDigest(event.target);
    const now = deps.clock();
    let base = current?.value ?? null;
    // A window that is over is closed with what it counted: from the history, in that mode.
    if (history && base && now.toISOString() >= base.closesAt) base = await withHistoryTally(base, store);
    const grouped = groupBounce(base, event, { now, windowMinutes: deps.digestMinutes, tallyFromHistory: history });
    const alone = grouped.decision.kind === 'alert';
    // Counted in an open window: the history record is the count, nothing to write to the window.
    const counted = history && grouped.decision.kind === 'digest' && grouped.closed === null;
    const keep = history ? { ...grouped.window, tally: emptyTally() } : grouped.window;
    const window: Decision | null = counted ? null : { kind: 'digest', target: event.target, window: keep, expectedVersion: current?.version ?? null };
    // The window first: a store writing in turn that loses it has written nothing yet.
    const decisions = [...(window ? [window] : []), claims.claimBounce, ...(alone && claims.repeatClaim ? [claims.repeatClaim] : [])];
    const due: DigestAlert[] = grouped.closed ? [digestOf(grouped.closed, deps)] : [];
    const out = await raiseAlerts(decisions, alone ? [event, ...due] : due, { store });
    const digestAt = grouped.decision.kind === 'digest' ? grouped.decision.sendAt : null;
    if (out.written) return { first: true, events: out.raised, heldUntil: null, digestAt };
    const failed = decisions[out.failed];
    if (failed === claims.claimBounce) return claims.none(false);
    if (failed === claims.repeatClaim) return claims.heldMeanwhile();
    await deps.backoff?.(attempt + 1);
  }
  throw new StateError(`the bounce digest of ${event.target ?? 'the bounces without a target'} changed under every one of ${MAX_DIGEST_ATTEMPTS} attempts`);
}

function digestOf(window: Parameters<typeof digestAlert>[0], deps: HealthDeps & DigestOptions): DigestAlert {
  return digestAlert(window, { at: deps.clock().toISOString(), incidentId: incidentId(deps)(), seeAlso: deps.seeAlso ?? DEFAULT_SEE_ALSO });
}

/**
 * Sends the bounce digests that are due: every digest window whose time is up (or, with
 * `force`, every window that counted bounces: the shell is stopping) gives one digest alert,
 * once, and the storm's next window is kept.
 * @example const events = await flushDigests({ store, clock, random, digestMinutes: config.alerts.bounceDigestMinutes });
 */
export async function flushDigests(deps: HealthDeps & DigestOptions & { readonly force?: boolean }): Promise<AlertEvent[]> {
  const { store } = deps;
  const windowMinutes = deps.digestMinutes ?? 0;
  const raised: DigestAlert[] = [];
  for (const stored of await store.listDigests()) {
    const now = deps.clock();
    const isDue = deps.force || now.toISOString() >= stored.value.closesAt;
    const window = deps.tallyFromHistory && isDue ? await withHistoryTally(stored.value, store) : stored.value;
    const closed = closeWindow(window, { now, windowMinutes, ...(deps.force ? { force: true } : {}) });
    if (!closed || (!closed.digest && closed.next === window)) continue;
    // Whoever writes the next window first sends the digest; a loser finds it sent.
    const decision: Decision = { kind: 'digest', target: stored.value.target, window: closed.next, expectedVersion: stored.version };
    const out = await raiseAlerts([decision], closed.digest ? [digestOf(closed.digest, deps)] : [], { store });
    if (out.written) raised.push(...(out.raised as DigestAlert[]));
  }
  return raised;
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
  return raisedAlone(events, deps.store);
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
  return raisedAlone([alarm], deps.store);
}
