/**
 * The alert event: what the health state machine, the bounce intake, the round-trip check and
 * CloudWatch alarms raise, and what the formatters turn into a Slack message or an email.
 * It is plain JSON (ISO times, no Date objects) so it travels through SNS unchanged.
 */
import type { Finding, SmtpStep, Status } from '../findings.ts';
import type { BouncedRecipient, BounceReason, StepResult } from '../results.ts';

/**
 * - `failing`: a target crossed `failureThreshold` consecutive critical rounds.
 * - `warning`: a target crossed `failureThreshold` consecutive warning rounds.
 * - `reminder`: still failing, `reminderMinutes` after the last alert of the incident.
 * - `recovered`: `recoveryThreshold` consecutive good rounds ended a failing or warning incident.
 * - `bounce`: a message bounced, a canary or the shop's own mail (once per message and
 *   recipient; the first of its kind in a storm, the rest go into the digest).
 * - `digest`: the bounces of one target grouped over `alerts.bounceDigestMinutes`.
 * - `undelivered`: a canary did not arrive at the bounce domain's mailbox in time.
 * - `alarm`: a CloudWatch alarm changed state.
 * - `silent`: targets stopped reporting rounds (the dead-man of the AWS deployment), still do, or
 *   all report again.
 * - `dmarc`: what DMARC aggregate or TLS reports about a target's domain changed (a sender of its
 *   own mail starts or stops failing, new unknown senders, TLS failures start or stop).
 */
export const ALERT_KINDS = ['failing', 'warning', 'reminder', 'recovered', 'bounce', 'digest', 'undelivered', 'alarm', 'silent', 'dmarc'] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

interface AlertBase {
  /** The once-only key: the same incident step always gets the same key. */
  readonly key: string;
  /** The incident this alert belongs to (a ULID; time-sortable). */
  readonly incidentId: string;
  /** The target concerned; null when unknown (an unmatched bounce, an alarm without a Target dimension). */
  readonly target: string | null;
  /** ISO time the alert was raised. */
  readonly at: string;
  /** ISO time the incident started (the first bad round, the bounce, the alarm's state change). */
  readonly startedAt: string;
  readonly status: Status;
  /** The findings that explain the alert, worst first. */
  readonly findings: readonly Finding[];
}

/** An alert of the per-target state machine. */
export interface HealthAlert extends AlertBase {
  readonly kind: 'failing' | 'warning' | 'reminder' | 'recovered';
  readonly target: string;
  /** The canary of the round that raised the alert. */
  readonly canaryId: string;
  /** The SMTP step that failed in that round, when one did. */
  readonly failedStep: SmtpStep | null;
  /** The timed steps of that round. */
  readonly steps: readonly StepResult[];
  /** How long the incident has lasted (reminder) or lasted (recovered), in ms. */
  readonly durationMs: number;
  /** For `recovered`: the state that ended. */
  readonly recoveredFrom?: 'failing' | 'warning';
  /** For `reminder`: 1 for the first reminder, 2 for the second, … */
  readonly reminder?: number;
}

/** A message bounced: a canary (`canaryId` set) or the shop's own mail (`canaryId` null). */
export interface BounceAlert extends AlertBase {
  readonly kind: 'bounce';
  readonly canaryId: string | null;
  readonly bounce: BouncedRecipient;
}

/** Where a digest's reader finds every bounce it only counts. */
export interface DigestSeeAlso {
  /** The command that lists them, e.g. `mailhealth suppressions --state .mailhealth`. */
  readonly command: string;
  /** The report page (local runs). */
  readonly report?: string;
  /** The dashboard (AWS). */
  readonly dashboard?: string;
}

/** The bounces of one target over a window, grouped into one alert (functions/core/alert/digest.ts). */
export interface DigestAlert extends AlertBase {
  readonly kind: 'digest';
  /** ISO times of the window. */
  readonly windowStart: string;
  readonly windowEnd: string;
  /** Bounces counted (besides the ones that alerted at once). */
  readonly total: number;
  /** Of them, bounces of canaries and of the shop's own mail. */
  readonly canary: number;
  readonly customer: number;
  /** Busiest first. */
  readonly byReason: readonly { readonly reason: BounceReason; readonly count: number }[];
  readonly topDomains: readonly { readonly domain: string; readonly count: number }[];
  /** Bounces to the other domains. */
  readonly otherDomains: number;
  /** The first few addresses. */
  readonly sample: readonly string[];
  /** The finding codes whose first bounce alerted at once. */
  readonly alertedAtOnce: readonly string[];
  readonly seeAlso: DigestSeeAlso;
}

/** A canary never arrived at the bounce domain's mailbox. */
export interface UndeliveredAlert extends AlertBase {
  readonly kind: 'undelivered';
  readonly target: string;
  readonly canaryId: string;
  /** ISO time the canary was sent. */
  readonly sentAt: string;
  readonly recipients: readonly string[];
  readonly timeoutMinutes: number;
}

/** The alarm facts of a CloudWatch alarm state change. */
export interface AlarmFacts {
  readonly name: string;
  readonly description: string | null;
  readonly state: 'ALARM' | 'OK' | 'INSUFFICIENT_DATA';
  readonly previousState: 'ALARM' | 'OK' | 'INSUFFICIENT_DATA' | null;
  readonly reason: string;
  readonly region: string | null;
  readonly metric: string | null;
}

/** A CloudWatch alarm changed state. */
export interface AlarmAlert extends AlertBase {
  readonly kind: 'alarm';
  readonly alarm: AlarmFacts;
}

/** A target that has not reported a round for too long. */
export interface SilentTarget {
  readonly target: string;
  /** ISO start of its latest round; null when it never reported one. */
  readonly lastRoundAt: string | null;
}

/**
 * Targets stopped reporting their rounds: the canary Lambda, its schedules or its permissions
 * are broken, so their mail problems would go unseen. One incident for the whole fleet, however
 * many targets it covers (a broken canary Lambda silences all of them at once).
 */
export interface SilenceAlert extends AlertBase {
  readonly kind: 'silent';
  /** `started`: the first targets fell silent; `reminder`: still silent; `ended`: every target reports again. */
  readonly phase: 'started' | 'reminder' | 'ended';
  /** The silent targets, longest silent first (the first SILENT_TARGETS_LISTED); empty when ended. */
  readonly silent: readonly SilentTarget[];
  /** How many targets are silent (all of them, not only those listed). */
  readonly silentCount: number;
  /** How many targets the deployment checks. */
  readonly targetCount: number;
  /** No round for this long makes a target silent. */
  readonly silentAfterMinutes: number;
  /** How long the incident has lasted (reminder) or lasted (ended), in ms. */
  readonly durationMs: number;
  /** For `reminder`: 1 for the first reminder, 2 for the second, … */
  readonly reminder?: number;
}

/** How many silent targets an alert names; the count covers the rest. */
export const SILENT_TARGETS_LISTED = 50;

/** One sending source as a DMARC alert names it. */
export interface DmarcAlertSource {
  readonly ip: string;
  readonly ptr: string | null;
  readonly count: number;
  readonly spf: string;
  readonly dkim: string;
  readonly disposition: string;
}

/**
 * A change that DMARC aggregate reports or TLS reports show for a target's domain, raised once
 * per change (functions/core/dmarc/state.ts), not once per report:
 * - `failing`: a sender of the domain's own mail (it passed DMARC before) fails;
 * - `passing`: that sender passes again;
 * - `unknown`: senders that never passed DMARC send as the domain, for the first time;
 * - `tls-failing` / `tls-ok`: receivers' TLS sessions to the domain's mail servers start or stop failing.
 */
export interface DmarcAlert extends AlertBase {
  readonly kind: 'dmarc';
  readonly target: string;
  readonly change: 'failing' | 'passing' | 'unknown' | 'tls-failing' | 'tls-ok';
  readonly domain: string;
  /** The UTC day the report is about (`YYYY-MM-DD`). */
  readonly day: string;
  /** Who reported it (`org_name`, `organization-name`). */
  readonly reporter: string;
  /** The sender concerned (`failing`, `passing`): organisation, reverse name's domain or network. */
  readonly sender: string | null;
  /** The senders concerned (`unknown`). */
  readonly senders: readonly string[];
  /** The sources concerned, busiest first (at most DMARC_ALERT_SOURCES). */
  readonly sources: readonly DmarcAlertSource[];
  /** Messages (or TLS sessions) concerned. */
  readonly messages: number;
  /** The DMARC policy the domain published (`p=`), when the report gave it. */
  readonly policy: string | null;
}

/** How many sources a DMARC alert lists; the message count covers the rest. */
export const DMARC_ALERT_SOURCES = 10;

/** Anything that can be alerted on; `kind` tells which. */
export type AlertEvent = HealthAlert | BounceAlert | DigestAlert | UndeliveredAlert | AlarmAlert | SilenceAlert | DmarcAlert;

/**
 * Whether a delivery channel got the alert out; a failure is a value, never a thrown error.
 * With alert routes (functions/core/alert/routes.ts) the outcome also names the destination
 * (`slack`, `email@shop-owner`, …) and its route (null: the default channels); older records
 * and shells without routes leave them out.
 */
export type DeliveryOutcome =
  | { readonly channel: 'slack' | 'email'; readonly ok: true; readonly destination?: string; readonly route?: string | null }
  | { readonly channel: 'slack' | 'email'; readonly ok: false; readonly error: string; readonly destination?: string; readonly route?: string | null };
