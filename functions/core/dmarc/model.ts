/**
 * What DMARC aggregate reports (RFC 7489 §7.2, appendix C) and SMTP TLS reports (RFC 8460 §4)
 * say, once read: the shapes the rest of the DMARC module works on, whichever reporter wrote
 * the file and however it was packed. Times are ISO 8601 strings, days `YYYY-MM-DD` (UTC).
 */

/** One `<record>` of an aggregate report: mail from one source IP with one set of results. */
export interface DmarcRow {
  /** The sending server's address as the report gives it (validated, not rewritten). */
  readonly sourceIp: string;
  /** Messages it stands for. */
  readonly count: number;
  /** What the receiver did: `none`, `quarantine` or `reject` (RFC 7489 `DispositionType`). */
  readonly disposition: string;
  /** `policy_evaluated`: DKIM passed for a domain aligned with the From domain. */
  readonly dkimAligned: boolean;
  /** `policy_evaluated`: SPF passed for a domain aligned with the From domain. */
  readonly spfAligned: boolean;
  /** Why the receiver overrode the policy (`forwarded`, `mailing_list`, `local_policy`, …). */
  readonly reasons: readonly { readonly type: string; readonly comment: string | null }[];
  readonly headerFrom: string | null;
  readonly envelopeFrom: string | null;
  readonly envelopeTo: string | null;
  /** `auth_results`: the raw (not necessarily aligned) results, as the receiver saw them. */
  readonly dkim: readonly { readonly domain: string; readonly selector: string | null; readonly result: string }[];
  readonly spf: readonly { readonly domain: string; readonly scope: string | null; readonly result: string }[];
}

/** The policy the domain published, as the receiver found it (`policy_published`). */
export interface PublishedPolicy {
  readonly p: string | null;
  readonly sp: string | null;
  readonly pct: number | null;
  readonly adkim: string | null;
  readonly aspf: string | null;
}

/** A DMARC aggregate report. */
export interface DmarcAggregateReport {
  readonly kind: 'dmarc';
  /** The reporter (`org_name`), e.g. `google.com`, `Enterprise Outlook`. */
  readonly org: string;
  readonly email: string | null;
  readonly reportId: string;
  /** The period the report covers. */
  readonly begin: string;
  readonly end: string;
  /** The domain whose policy was applied (`policy_published/domain`). */
  readonly domain: string;
  readonly policy: PublishedPolicy;
  readonly rows: readonly DmarcRow[];
  /** What the reporter itself noted (`report_metadata/error`). */
  readonly errors: readonly string[];
  /** Records left out because they could not be read (each says which and why). */
  readonly skipped: readonly string[];
}

/** One failure line of a TLS report (`failure-details`). */
export interface TlsFailure {
  /** RFC 8460 §4.3 result type, e.g. `certificate-expired`, `starttls-not-supported`. */
  readonly resultType: string;
  readonly sendingIp: string | null;
  readonly receivingMx: string | null;
  readonly receivingIp: string | null;
  readonly count: number;
  readonly reasonCode: string | null;
  readonly info: string | null;
}

/** One policy of a TLS report: the sessions to one domain under one policy. */
export interface TlsPolicy {
  /** `sts`, `tlsa` or `no-policy-found`. */
  readonly type: string;
  readonly domain: string;
  /** MTA-STS `mode` from the policy string (`enforce`, `testing`, `none`); null when not given. */
  readonly mode: string | null;
  readonly mxHosts: readonly string[];
  readonly successful: number;
  readonly failed: number;
  readonly failures: readonly TlsFailure[];
}

/** An SMTP TLS report (RFC 8460): how senders' TLS sessions to the domain's MX went. */
export interface TlsReport {
  readonly kind: 'tlsrpt';
  readonly org: string;
  readonly contact: string | null;
  readonly reportId: string;
  readonly begin: string;
  readonly end: string;
  readonly policies: readonly TlsPolicy[];
}

/** Any report mail-health reads. */
export type ParsedReport = DmarcAggregateReport | TlsReport;

/**
 * The UTC day a report is about: the day of the middle of its period (reporters cover one day,
 * some from midnight UTC, some from their own midnight).
 * @example reportDay({ begin: '2026-03-01T00:00:00Z', end: '2026-03-01T23:59:59Z' }) // '2026-03-01'
 */
export function reportDay(report: Pick<ParsedReport, 'begin' | 'end'>): string {
  const mid = (Date.parse(report.begin) + Date.parse(report.end)) / 2;
  return new Date(mid).toISOString().slice(0, 10);
}

/** The domains a report is about (a DMARC report one; a TLS report one per policy). */
export function reportDomains(report: ParsedReport): string[] {
  if (report.kind === 'dmarc') return [report.domain];
  return [...new Set(report.policies.map((p) => p.domain))];
}

/** The once-only key of a report: its reporter, id and domain. */
export function reportKey(report: ParsedReport): string {
  return `${report.kind}#${report.org.toLowerCase()}#${report.reportId}#${reportDomains(report).join(',')}`;
}
