/**
 * The ports of the core: every outside system the core needs, as an interface or a plain
 * function type. Adapters in functions/adapters implement them; tests pass declarative fakes.
 */
import type { PortState } from './results.ts';

// DNS as the core sees it lives in its own leaf module (address and authentication checks use
// it without reaching the ports that name the core's results); re-exported for the adapters.
export type { DnsAnswer, DnsLookup, DnsRecordData, DnsRecordType, Resolver } from './resolver.ts';

/** The current time. The core never reads the clock itself. */
export type Clock = () => Date;

/** Random bytes (canary ids, incident ids). */
export type RandomSource = (length: number) => Uint8Array;

/** Probes one TCP port: open only when the service greets (SMTP banner, or TLS on 465). */
export type PortProber = (
  host: string,
  port: number,
  options: { readonly timeoutMs: number; readonly implicitTls: boolean },
) => Promise<PortState>;

/** The raw bytes of a stored message (S3 object, file on disk). */
export type RawMailSource = (ref: string) => Promise<Uint8Array>;

/** Where metrics go (EMF in Lambda, nowhere or the history locally). */
export interface MetricsSink {
  add(name: string, value: number, unit: 'Count' | 'Milliseconds' | 'Seconds' | 'None', dimensions?: Record<string, string>): void;
}

/**
 * Turns the raw bytes of a message into the small shape the bounce classifier reads
 * (functions/core/bounce/message.ts). Must resolve for any input, however malformed.
 */
export type MessageParser = (raw: Uint8Array) => Promise<import('./bounce/message.ts').ParsedMessage>;

/**
 * The recipients a canary was sent to, looked up by its id in the canary records (the local
 * state, the Lambdas' table): how the bounce classifier names the recipient of a report that
 * names none. Resolves null when the canary is unknown.
 */
export type CanaryRecipientLookup = (canaryId: string) => Promise<readonly string[] | null> | readonly string[] | null;

/** A value with the version it was stored at, for optimistic concurrency. */
export interface Versioned<T> {
  readonly value: T;
  /** Starts at 1 with the first write; each successful write adds 1. */
  readonly version: number;
}

/**
 * Where health state, once-only claims, history and canaries live: files under `--state DIR`
 * locally (functions/adapters/file-store.ts), one DynamoDB table in AWS
 * (functions/adapters/dynamodb-store.ts). Times are ISO 8601 strings. Appends are idempotent:
 * writing the same round (target + canary id) or alert twice keeps one copy.
 */
export interface Store {
  /** The health state of a target, or null when it was never written. */
  getHealth(target: string): Promise<Versioned<import('./health/state.ts').HealthState> | null>;
  /**
   * Writes the state if the stored version is still `expectedVersion` (null: only if absent).
   * Resolves false when someone else wrote first; the caller re-reads and tries again.
   */
  putHealth(target: string, state: import('./health/state.ts').HealthState, expectedVersion: number | null): Promise<boolean>;
  /**
   * Claims a key once: true for the first caller, false for every later one until the claim
   * expires after `ttlSeconds`. The once-only guarantee of alerts and bounces rests on it.
   */
  claim(key: string, ttlSeconds: number): Promise<boolean>;
  /** Gives a claim back (the work it guarded failed), so a retry can take it. */
  release(key: string): Promise<void>;
  /** When a live claim expires (ISO); null when the key is not claimed or its claim expired. */
  claimedUntil(key: string): Promise<string | null>;
  /** Keeps a round's result in the history of its target (bounded, newest kept). */
  appendRound(result: import('./results.ts').TargetResult): Promise<void>;
  /** The latest rounds of a target, newest first. */
  listRounds(target: string, limit: number): Promise<import('./results.ts').TargetResult[]>;
  appendBounce(record: import('./health/records.ts').BounceRecord): Promise<void>;
  /** The latest bounces of a target (null: the bounces that matched no canary), newest first. */
  listBounces(target: string | null, limit: number): Promise<import('./health/records.ts').BounceRecord[]>;
  appendAlert(record: import('./health/records.ts').AlertRecord): Promise<void>;
  /** The latest alerts of a target (null: alerts without a target), newest first. */
  listAlerts(target: string | null, limit: number): Promise<import('./health/records.ts').AlertRecord[]>;
  /** Every target that has a health state, sorted by name. */
  listTargets(): Promise<string[]>;
  /** The open bounce digest window of a target (null: the bounces without a target). */
  getDigest(target: string | null): Promise<Versioned<import('./alert/digest.ts').DigestWindow | null> | null>;
  /**
   * Writes a target's digest window (null: none open) if the stored version is still
   * `expectedVersion` (null: only if never written). False when someone else wrote first.
   */
  putDigest(target: string | null, window: import('./alert/digest.ts').DigestWindow | null, expectedVersion: number | null): Promise<boolean>;
  /** Every open digest window with its version (to send the digests that are due). */
  listDigests(): Promise<Versioned<import('./alert/digest.ts').DigestWindow>[]>;
  /** Records a sent canary (idempotent; an existing record keeps its delivery time). */
  putCanary(record: import('./health/records.ts').CanaryRecord): Promise<void>;
  getCanary(id: string): Promise<import('./health/records.ts').CanaryRecord | null>;
  /** The latest canaries of a target (delivered or not), newest first: the round trip over time. */
  listCanaries(target: string, limit: number): Promise<import('./health/records.ts').CanaryRecord[]>;
  /**
   * Marks a canary delivered at `at`. `first` is true only for the call that set it (a duplicate
   * arrival keeps the first time). Null when the canary is unknown.
   */
  markDelivered(id: string, at: string): Promise<{ record: import('./health/records.ts').CanaryRecord; first: boolean } | null>;
  /**
   * What the authentication check keeps of a target (functions/core/auth/round.ts): the latest
   * delivered canary's verdicts and the last check of its sending server. Parts never written
   * are null.
   */
  getSenderAuth(target: string): Promise<import('./auth/facts.ts').SenderAuthMemo>;
  /** Writes the given parts of that memo; the others stay as they are. */
  putSenderAuth(target: string, parts: Partial<import('./auth/facts.ts').SenderAuthMemo>): Promise<void>;
  /** Canaries of a target sent in [sentAfter, sentBefore) and not delivered, oldest first. */
  listUndelivered(
    target: string,
    window: { readonly sentAfter: string; readonly sentBefore: string; readonly limit: number },
  ): Promise<import('./health/records.ts').CanaryRecord[]>;
  /**
   * Writes the decisions and raises the alerts with them in one atomic write (functions/core/
   * health/raise.ts): every decision is written and each alert not raised before is claimed
   * and kept in the store's outbox until published, or nothing is written. Stores without
   * atomic writes leave it out; `raiseAlerts` then writes in turn.
   */
  raise?(
    decisions: readonly import('./health/raise.ts').Decision[],
    alerts: readonly import('./alert/event.ts').AlertEvent[],
  ): Promise<import('./health/raise.ts').RaiseOutcome>;
}

/**
 * The alerts raised in AWS and not yet handed to the alert topic (the DynamoDB table; the
 * local runtime has its own outbox folder). The publisher marks each alert sent once SNS took
 * it; the sweeper re-publishes the alerts left unsent.
 */
export interface AlertOutbox {
  /** Alerts raised before `raisedBefore` (ISO) and still unsent, oldest first, at most `limit`. */
  unsent(raisedBefore: string, limit: number): Promise<import('./alert/event.ts').AlertEvent[]>;
  /** Marks an alert handed to the topic: it leaves the outbox (its claim stays). */
  markSent(event: import('./alert/event.ts').AlertEvent): Promise<void>;
}

/**
 * Where the dead-man sweeper of the AWS deployment keeps its state between runs (the DynamoDB
 * table; the local loop has no sweeper). Written optimistically like the health state.
 */
export interface SilenceStore {
  getSilence(): Promise<Versioned<import('./health/silence.ts').SilenceState> | null>;
  /** Writes the state if the stored version is still `expectedVersion` (null: only if absent); false when someone wrote first. */
  putSilence(state: import('./health/silence.ts').SilenceState, expectedVersion: number | null): Promise<boolean>;
}

/**
 * One alert channel. `send` resolves once the channel took the message and rejects (with a
 * message that never contains a secret) when it gave up after its own retries.
 */
export type Notifier =
  | { readonly channel: 'slack'; send(message: import('./alert/slack.ts').SlackMessage): Promise<void> }
  | { readonly channel: 'email'; send(message: import('./alert/email.ts').EmailMessage): Promise<void> };

/** Runs one SMTP canary session and reports every step (shapes in functions/core/probe/types.ts). */
export type { SmtpSession, SessionRequest, SessionTranscript, TranscriptStep } from './probe/types.ts';

/**
 * Where the DMARC and TLS reports of each domain are kept (functions/core/dmarc): the history of
 * the reports read (a small record per report and domain) and the domain's memory (known
 * senders, what is failing), written optimistically like the health state. Files under the
 * state directory locally, the DynamoDB table in AWS.
 */
export interface DmarcStore {
  getDomainState(domain: string): Promise<Versioned<import('./dmarc/state.ts').DmarcDomainState> | null>;
  /** Writes the memory if the stored version is still `expectedVersion` (null: only if absent); false when someone wrote first. */
  putDomainState(domain: string, state: import('./dmarc/state.ts').DmarcDomainState, expectedVersion: number | null): Promise<boolean>;
  /** Keeps a report's record (idempotent: the same `key` is kept once). */
  appendReport(record: import('./dmarc/record.ts').DmarcReportRecord): Promise<void>;
  /** The latest report records of a domain, newest day first. */
  listReports(domain: string, limit: number): Promise<import('./dmarc/record.ts').DmarcReportRecord[]>;
  /** Every domain with reports, sorted. */
  listDomains(): Promise<string[]>;
}
