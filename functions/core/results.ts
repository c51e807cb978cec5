/**
 * The shapes of a canary round's result: the `check --json` contract of docs/REFERENCE.md, also what
 * the Lambdas store and the alerts and the report read.
 */
import type { RoundAuthentication } from './auth/facts.ts';
import type { PlacementEntry } from './placement/verdict.ts';
import type { Finding, SmtpStep, Status } from './findings.ts';

export type PortState = 'open' | 'refused' | 'timeout' | 'unreachable';

/** One timed SMTP step. RCPT appears once per recipient, EHLO before and after STARTTLS. */
export interface StepResult {
  readonly step: SmtpStep;
  readonly ok: boolean;
  readonly ms: number;
  /** The server's reply, when there was one (never the AUTH exchange). */
  readonly reply?: string;
  /** For `rcpt`: the recipient this step was about. */
  readonly recipient?: string;
}

export interface TlsFacts {
  readonly version: string;
  readonly cipher: string;
  /** Whole days until the certificate expires (negative once expired); null when unknown. */
  readonly certDaysLeft: number | null;
  readonly authorized: boolean;
}

/** EHLO extensions as announced: SIZE as a number, AUTH as its mechanisms, others as true. */
export type Extensions = Record<string, number | string[] | boolean>;

export interface TargetResult {
  readonly name: string;
  readonly status: Status;
  readonly canaryId: string;
  /** ISO 8601 time the round started. */
  readonly startedAt: string;
  readonly steps: readonly StepResult[];
  readonly ports: Readonly<Record<string, PortState>>;
  readonly tls?: TlsFacts;
  readonly extensions: Extensions;
  readonly findings: readonly Finding[];
  /** The sending domain's authentication as the round saw it (not in `check --json`). */
  readonly authentication?: RoundAuthentication;
  /** Inbox placement per seed of the target (targets with seeds only): the latest decided verdict, else the latest pending. */
  readonly placement?: readonly PlacementEntry[];
}

export interface CheckReport {
  readonly status: Status;
  readonly targets: readonly TargetResult[];
}

/**
 * One bounced recipient as read from a returned message (the `bounce --json` contract).
 * `reason` uses Sisimai's vocabulary (docs/REFERENCE.md "Bounce reasons").
 */
export interface BouncedRecipient {
  readonly recipient: string;
  readonly reason: BounceReason;
  /** RFC 3463 enhanced status, e.g. `5.2.2`; null when the bounce carries none. */
  readonly status: string | null;
  /** SMTP reply code, e.g. 552; null when unknown. */
  readonly replyCode: number | null;
  /**
   * True for a hard bounce: the address itself is bad (unknown user or domain, moved, refuses
   * all mail), so sending again will not succeed. A full mailbox or a block is soft: it can
   * clear up. Same meaning as Sisimai's hard/soft, so results compare.
   */
  readonly hard: boolean;
  readonly diagnostic: string | null;
  readonly remoteMta: string | null;
  /** The canary this bounce belongs to, from VERP, X-Mail-Health-Canary or Message-ID. */
  readonly canaryId: string | null;
  /**
   * Present (true) when the report itself did not name this recipient and it was taken from
   * elsewhere: the canary's record (by its VERP id), the returned message's `To:` or the
   * subject. The reason is then what the report says about its one failure.
   */
  readonly recipientInferred?: boolean;
  /**
   * Present (true) when the recipient's domain is not a host name mail can be routed to (an
   * underscore in a label, a one-letter or numeric top label, a single label): the recipient is
   * kept as the report wrote it, with the cause the report gives.
   */
  readonly recipientDomainInvalid?: boolean;
}

/** The bounce reasons (docs/REFERENCE.md): Sisimai's vocabulary, lower case. */
export const BOUNCE_REASONS = [
  'userunknown', 'hostunknown', 'mailboxfull', 'mesgtoobig', 'exceedlimit', 'suspend', 'hasmoved',
  'notaccept', 'syntaxerror', 'filtered', 'rejected', 'blocked', 'spamdetected', 'policyviolation',
  'authfailure', 'requireptr', 'badreputation', 'securityerror', 'norelaying', 'virusdetected',
  'contenterror', 'notcompliantrfc', 'expired', 'networkerror', 'systemerror', 'systemfull',
  'toomanyconn', 'speeding', 'mailererror', 'onhold', 'undefined', 'vacation', 'feedback', 'delivered',
] as const;
export type BounceReason = (typeof BOUNCE_REASONS)[number];
