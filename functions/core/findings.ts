/**
 * The closed vocabulary of what mail-health can find (docs/REFERENCE.md "Finding codes", generated from these lists).
 * Codes are added, never renamed: alerts, dashboards and scripts key on them.
 */

/** Codes raised by the SMTP canary probe. */
export const PROBE_CODES = [
  'PORT25_BLOCKED',
  'PORT_UNREACHABLE',
  'DNS_NOT_FOUND',
  'GREETING_TIMEOUT',
  'GREETING_REJECTED',
  'STARTTLS_UNAVAILABLE',
  'TLS_HANDSHAKE_FAILED',
  'TLS_CERT_INVALID',
  'TLS_CERT_EXPIRING',
  'AUTH_UNAVAILABLE',
  'AUTH_FAILED',
  'SENDER_REJECTED',
  'RELAY_DENIED',
  'RECIPIENT_UNKNOWN',
  'MAILBOX_FULL',
  'MESSAGE_TOO_LARGE',
  'SIZE_LIMIT_LOW',
  'MESSAGE_REJECTED',
  'TEMPORARY_FAILURE',
  'CONNECTION_LOST',
  'STEP_TIMEOUT',
  'SLOW_STEP',
  'TLS_MODE_MISMATCH',
] as const;

/** Codes raised from returned bounces and the round trip. */
export const BOUNCE_CODES = [
  'BOUNCE_MAILBOX_FULL',
  'BOUNCE_INVALID_ADDRESS',
  'BOUNCE_MESSAGE_TOO_LARGE',
  'BOUNCE_BLOCKED',
  'BOUNCE_TRANSIENT',
  'BOUNCE_OTHER',
  'CANARY_NOT_DELIVERED',
] as const;

/** Codes raised by the recipient address diagnosis. */
export const ADDRESS_CODES = [
  'ADDRESS_SYNTAX',
  'DOT_BEFORE_AT',
  'CONSECUTIVE_DOTS',
  'LEADING_OR_TRAILING_DOT',
  'UNUSUAL_CHARACTER',
  'COMMA_FOR_DOT',
  'FULLWIDTH_CHARACTER',
  'WHITESPACE',
  'MISSING_AT',
  'MULTIPLE_AT',
  'DOMAIN_INVALID',
  'DOMAIN_TYPO',
  'MIXED_CASE',
  'TOO_LONG',
  'NON_ASCII',
  'NO_MAIL_SERVER',
] as const;

/**
 * Codes raised by the authentication checks: the sending domain's published records (SPF,
 * DMARC, DKIM keys, MX), the sending server's reputation (reverse DNS, blocklists) and the
 * verdicts on a delivered canary (functions/core/auth).
 */
export const AUTH_CODES = [
  'SPF_MISSING',
  'SPF_MULTIPLE_RECORDS',
  'SPF_SYNTAX',
  'SPF_TOO_MANY_LOOKUPS',
  'SPF_ALLOWS_ALL',
  'DMARC_MISSING',
  'DMARC_SYNTAX',
  'DMARC_POLICY_NONE',
  'DKIM_KEY_MISSING',
  'DKIM_KEY_WEAK',
  'DKIM_KEY_REVOKED',
  'MX_MISSING',
  'PTR_MISSING',
  'PTR_MISMATCH',
  'DNSBL_LISTED',
  'DNSBL_UNAVAILABLE',
  'CANARY_SPF_FAIL',
  'CANARY_DKIM_FAIL',
  'CANARY_DMARC_FAIL',
] as const;

/**
 * Codes raised from DMARC aggregate reports and SMTP TLS reports that receivers send to the
 * domain (functions/core/dmarc), and DMARC_REPORT_UNAUTHORIZED: the DMARC record sends its
 * reports to another domain that does not authorise them (functions/core/auth/report-auth.ts).
 */
export const DMARC_REPORT_CODES = ['DMARC_REPORT_FAIL', 'DMARC_REPORT_UNKNOWN_SOURCE', 'TLSRPT_FAILURE', 'DMARC_REPORT_UNAUTHORIZED'] as const;

export type ProbeCode = (typeof PROBE_CODES)[number];
export type BounceCode = (typeof BOUNCE_CODES)[number];
export type AddressCode = (typeof ADDRESS_CODES)[number];
export type AuthCode = (typeof AUTH_CODES)[number];
export type DmarcReportCode = (typeof DMARC_REPORT_CODES)[number];
export type FindingCode = ProbeCode | BounceCode | AddressCode | AuthCode | DmarcReportCode;

export type Severity = 'info' | 'warning' | 'critical';
export type Language = 'en' | 'ja';

/** A text in both languages the product speaks. */
export interface Localized {
  readonly en: string;
  readonly ja: string;
}

/** The SMTP steps of one canary session, in protocol order. */
export const SMTP_STEPS = ['connect', 'greeting', 'ehlo', 'starttls', 'auth', 'mail', 'rcpt', 'data', 'quit'] as const;
export type SmtpStep = (typeof SMTP_STEPS)[number];

/** One diagnosed problem (or notable fact) with what to do about it. */
export interface Finding {
  readonly code: FindingCode;
  readonly severity: Severity;
  readonly step?: SmtpStep;
  readonly recipient?: string;
  /** The server's reply as it was sent, e.g. `550 5.1.1 <x@example.jp>: user unknown`. */
  readonly reply?: string;
  readonly message: Localized;
  readonly remedy: Localized;
}

/** Overall status, following the monitoring-plugin convention (exit 0/1/2/3). */
export type Status = 'ok' | 'warning' | 'critical' | 'unknown';

const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };
const STATUS_RANK: Record<Status, number> = { ok: 0, warning: 1, critical: 2, unknown: 3 };

/**
 * The status a set of findings amounts to: any critical → critical, any warning → warning.
 * Info findings (e.g. the OP25B explanation) never degrade the status.
 * @example statusOf([{ severity: 'warning', … }]) // 'warning'
 */
export function statusOf(findings: readonly Pick<Finding, 'severity'>[]): Status {
  let rank = 0;
  for (const f of findings) rank = Math.max(rank, SEVERITY_RANK[f.severity]);
  return rank === 2 ? 'critical' : rank === 1 ? 'warning' : 'ok';
}

/** The worse of several statuses (`unknown` outranks everything, as in monitoring plugins). */
export function worstStatus(statuses: readonly Status[]): Status {
  let worst: Status = 'ok';
  for (const s of statuses) if (STATUS_RANK[s] > STATUS_RANK[worst]) worst = s;
  return worst;
}

/** The process exit code of a status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN. */
export function exitCodeOf(status: Status): 0 | 1 | 2 | 3 {
  return STATUS_RANK[status] as 0 | 1 | 2 | 3;
}
