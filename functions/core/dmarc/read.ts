/**
 * From what a parser made of a report file to the report model: a DMARC aggregate report from
 * its XML element tree (RFC 7489 appendix C, and the variants the big reporters write: with or
 * without `<version>`, a namespace, DMARCbis' extra fields, several `<dkim>` results, override
 * reasons), a TLS report from its JSON (RFC 8460 §4.4). Lenient about what reporters vary,
 * strict about what a report cannot do without; every refusal is a named problem.
 */
import { canonicalIp } from '../auth/ip-text.ts';
import type { DmarcAggregateReport, DmarcRow, PublishedPolicy, TlsFailure, TlsPolicy, TlsReport } from './model.ts';
import { problem, type ReportProblem } from './problems.ts';

/** An XML element as the XML adapter builds it: local name (prefix dropped), text, children. */
export interface XmlElement {
  readonly name: string;
  /** The element's own character data, trimmed. */
  readonly text: string;
  readonly children: readonly XmlElement[];
}

/** A report, or why there is none. */
export type ReadResult<T> = { readonly ok: true; readonly report: T } | { readonly ok: false; readonly problem: ReportProblem };

/** What reading needs: the time now (a report period may not lie in the future) and the record limit. */
export interface ReadOptions {
  readonly now: Date;
  /** @default 200000 */
  readonly maxRecords?: number;
}

// Reports describe mail; DMARC itself dates from 2012, so anything before 2000 is a wrong clock.
const EARLIEST_MS = Date.UTC(2000, 0, 1);
// Reporters' clocks and time zones differ: a period may end up to a day after "now".
const FUTURE_SLACK_MS = 36 * 3600_000;
// The longest period a report may cover (RFC 7489 asks for a day; some send a week).
const LONGEST_PERIOD_MS = 31 * 86_400_000;

const child = (e: XmlElement | undefined, name: string): XmlElement | undefined => e?.children.find((c) => c.name === name);
const children = (e: XmlElement | undefined, name: string): XmlElement[] => (e ? e.children.filter((c) => c.name === name) : []);
const textOf = (e: XmlElement | undefined, name: string): string | null => {
  const t = child(e, name)?.text;
  return t === undefined || t === '' ? null : t;
};
const lower = (s: string | null): string | null => (s === null ? null : s.toLowerCase());

/** Checks a report period; null when it is sound. */
function periodProblem(beginMs: number, endMs: number, now: Date, what: string): ReportProblem | null {
  if (!Number.isFinite(beginMs) || !Number.isFinite(endMs)) return problem('DATES_INVALID', `${what}: the period's begin or end is not a time`);
  if (endMs < beginMs) return problem('DATES_INVALID', `${what}: the period ends (${new Date(endMs).toISOString()}) before it begins (${new Date(beginMs).toISOString()})`);
  if (beginMs < EARLIEST_MS) return problem('DATES_INVALID', `${what}: the period begins ${new Date(beginMs).toISOString()}, before 2000`);
  if (endMs > now.getTime() + FUTURE_SLACK_MS) return problem('DATES_INVALID', `${what}: the period ends ${new Date(endMs).toISOString()}, in the future`);
  if (endMs - beginMs > LONGEST_PERIOD_MS) return problem('DATES_INVALID', `${what}: the period covers ${Math.round((endMs - beginMs) / 86_400_000)} days (at most 31)`);
  return null;
}

/** Seconds since the epoch as RFC 7489 writes them (some reporters add a fraction). */
function epochMs(text: string | null): number {
  return text !== null && /^\d{1,12}(\.\d+)?$/.test(text) ? Math.floor(Number(text)) * 1000 : Number.NaN;
}

/**
 * One `<record>` as a row, or why it was left out (a sentence naming it).
 * @example rowOf(recordElement, 0) // { sourceIp: '192.0.2.1', count: 3, … }
 */
export function rowOf(record: XmlElement, index: number): DmarcRow | string {
  const row = child(record, 'row');
  const ipText = textOf(row, 'source_ip');
  if (ipText === null || canonicalIp(ipText) === null) return `record ${index + 1}: source_ip ${ipText === null ? 'is missing' : `"${ipText.slice(0, 60)}" is not an IP address`}`;
  const countText = textOf(row, 'count');
  if (countText === null || !/^\d{1,10}$/.test(countText)) return `record ${index + 1}: count ${countText === null ? 'is missing' : `"${countText.slice(0, 20)}" is not a whole number`}`;
  const evaluated = child(row, 'policy_evaluated');
  const identifiers = child(record, 'identifiers');
  const auth = child(record, 'auth_results');
  return {
    sourceIp: ipText,
    count: Number(countText),
    disposition: lower(textOf(evaluated, 'disposition')) ?? 'none',
    dkimAligned: lower(textOf(evaluated, 'dkim')) === 'pass',
    spfAligned: lower(textOf(evaluated, 'spf')) === 'pass',
    reasons: children(evaluated, 'reason').map((r) => ({ type: lower(textOf(r, 'type')) ?? 'other', comment: textOf(r, 'comment') })),
    headerFrom: lower(textOf(identifiers, 'header_from')),
    envelopeFrom: lower(textOf(identifiers, 'envelope_from')),
    envelopeTo: lower(textOf(identifiers, 'envelope_to')),
    dkim: children(auth, 'dkim').map((d) => ({ domain: lower(textOf(d, 'domain')) ?? '', selector: textOf(d, 'selector'), result: lower(textOf(d, 'result')) ?? 'none' })),
    spf: children(auth, 'spf').map((s) => ({ domain: lower(textOf(s, 'domain')) ?? '', scope: lower(textOf(s, 'scope')), result: lower(textOf(s, 'result')) ?? 'none' })),
  };
}

/** Records read while the XML was parsed (rowOf per `<record>`), and how many there were in all. */
export interface StreamedRecords {
  readonly rows: readonly (DmarcRow | string)[];
  readonly total: number;
}

/**
 * Reads a DMARC aggregate report from its XML element tree; its records from the tree, or as
 * they were read while parsing (`streamed`).
 * @example
 * const read = readDmarcReport(tree, { now: clock() });
 * if (read.ok) read.report.rows.length; else read.problem.code // e.g. 'DATES_INVALID'
 */
export function readDmarcReport(root: XmlElement, options: ReadOptions, streamed?: StreamedRecords): ReadResult<DmarcAggregateReport> {
  if (root.name !== 'feedback') return { ok: false, problem: problem('NOT_A_REPORT', `the XML's root element is <${root.name.slice(0, 40)}>, not <feedback> (a DMARC aggregate report)`) };
  const meta = child(root, 'report_metadata');
  const published = child(root, 'policy_published');
  const org = textOf(meta, 'org_name');
  const reportId = textOf(meta, 'report_id');
  const domain = lower(textOf(published, 'domain'));
  const missing = [org === null && 'report_metadata/org_name', reportId === null && 'report_metadata/report_id', domain === null && 'policy_published/domain'].filter(Boolean);
  if (missing.length > 0) return { ok: false, problem: problem('REPORT_INVALID', `the report has no ${missing.join(', ')}`) };
  const range = child(meta, 'date_range');
  const beginMs = epochMs(textOf(range, 'begin'));
  const endMs = epochMs(textOf(range, 'end'));
  const dates = periodProblem(beginMs, endMs, options.now, `report ${reportId} of ${org}`);
  if (dates) return { ok: false, problem: dates };
  const max = options.maxRecords ?? 200_000;
  const records = children(root, 'record');
  const read = streamed ?? { rows: records.slice(0, max).map(rowOf), total: records.length };
  const rows: DmarcRow[] = [];
  const skipped: string[] = [];
  for (const row of read.rows.slice(0, max)) {
    if (typeof row === 'string') skipped.push(row);
    else rows.push(row);
  }
  if (read.total > max) skipped.push(`records ${max + 1} to ${read.total}: more than ${max} records in one report; only the first ${max} were read`);
  const pctText = textOf(published, 'pct');
  const policy: PublishedPolicy = {
    p: lower(textOf(published, 'p')),
    sp: lower(textOf(published, 'sp')),
    pct: pctText !== null && /^\d{1,3}$/.test(pctText) ? Number(pctText) : null,
    adkim: lower(textOf(published, 'adkim')),
    aspf: lower(textOf(published, 'aspf')),
  };
  return {
    ok: true,
    report: {
      kind: 'dmarc',
      org: org!,
      email: textOf(meta, 'email'),
      reportId: reportId!,
      begin: new Date(beginMs).toISOString(),
      end: new Date(endMs).toISOString(),
      domain: domain!,
      policy,
      rows,
      errors: children(meta, 'error').map((e) => e.text).filter((t) => t !== ''),
      skipped,
    },
  };
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (o: Json, key: string): string | null => (typeof o[key] === 'string' && (o[key] as string).trim() !== '' ? (o[key] as string).trim() : null);
const count = (o: Json, key: string): number => (typeof o[key] === 'number' && Number.isInteger(o[key]) && (o[key] as number) >= 0 ? (o[key] as number) : 0);
const strings = (v: unknown): string[] => (typeof v === 'string' ? [v] : Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

function failureOf(f: unknown): TlsFailure | null {
  if (!isObject(f)) return null;
  return {
    resultType: (str(f, 'result-type') ?? 'unknown').toLowerCase(),
    sendingIp: str(f, 'sending-mta-ip'),
    receivingMx: str(f, 'receiving-mx-hostname')?.toLowerCase().replace(/\.$/, '') ?? null,
    receivingIp: str(f, 'receiving-ip'),
    count: count(f, 'failed-session-count'),
    reasonCode: str(f, 'failure-reason-code'),
    info: str(f, 'additional-information'),
  };
}

function policyOf(p: unknown, max: number): TlsPolicy | null {
  if (!isObject(p) || !isObject(p.policy)) return null;
  const policy = p.policy;
  const domain = str(policy, 'policy-domain')?.toLowerCase().replace(/\.$/, '');
  if (!domain) return null;
  const lines = strings(policy['policy-string']);
  const mode = lines.map((l) => /^\s*mode\s*:\s*(\S+)/i.exec(l)?.[1]?.toLowerCase()).find((m) => m !== undefined) ?? null;
  const summary = isObject(p.summary) ? p.summary : {};
  const details = Array.isArray(p['failure-details']) ? p['failure-details'] : [];
  return {
    type: (str(policy, 'policy-type') ?? 'no-policy-found').toLowerCase(),
    domain,
    mode,
    mxHosts: strings(policy['mx-host']).map((h) => h.toLowerCase()),
    successful: count(summary, 'total-successful-session-count'),
    failed: count(summary, 'total-failure-session-count'),
    failures: details.slice(0, max).map(failureOf).filter((f): f is TlsFailure => f !== null),
  };
}

/**
 * Reads an SMTP TLS report from its parsed JSON.
 * @example readTlsReport(JSON.parse(text), { now: clock() })
 */
export function readTlsReport(doc: unknown, options: ReadOptions): ReadResult<TlsReport> {
  if (!isObject(doc) || !('policies' in doc || 'organization-name' in doc || 'report-id' in doc)) {
    return { ok: false, problem: problem('NOT_A_REPORT', 'the JSON is not an SMTP TLS report (no organization-name, report-id or policies)') };
  }
  const org = str(doc, 'organization-name');
  const reportId = str(doc, 'report-id');
  const range = isObject(doc['date-range']) ? doc['date-range'] : {};
  const policiesIn = Array.isArray(doc.policies) ? doc.policies : [];
  const max = options.maxRecords ?? 200_000;
  const policies = policiesIn.slice(0, max).map((p) => policyOf(p, max)).filter((p): p is TlsPolicy => p !== null);
  const missing = [org === null && 'organization-name', reportId === null && 'report-id', policies.length === 0 && 'policies (with a policy-domain)'].filter(Boolean);
  if (missing.length > 0) return { ok: false, problem: problem('REPORT_INVALID', `the TLS report has no ${missing.join(', ')}`) };
  const beginText = str(range, 'start-datetime');
  const endText = str(range, 'end-datetime');
  // RFC 3339 only: Date.parse would also take "March 1" and guess.
  const rfc3339 = (t: string | null) => (t !== null && /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i.test(t) ? Date.parse(t.replace(' ', 'T')) : Number.NaN);
  const beginMs = rfc3339(beginText);
  const endMs = rfc3339(endText);
  const dates = periodProblem(beginMs, endMs, options.now, `TLS report ${reportId} of ${org}`);
  if (dates) return { ok: false, problem: dates };
  return {
    ok: true,
    report: { kind: 'tlsrpt', org: org!, contact: str(doc, 'contact-info'), reportId: reportId!, begin: new Date(beginMs).toISOString(), end: new Date(endMs).toISOString(), policies },
  };
}
