/**
 * One report file (as a user has it, or as an attachment carried it) into reports: unpacked
 * (report-archive.ts), then read as XML (report-xml.ts, a DMARC aggregate report) or JSON (an
 * SMTP TLS report) by what the bytes are, and handed to the core readers. Every input gives its
 * reports and a named problem for each part that gave none; nothing throws for bad input.
 */
import { headerBlockOf } from '#core/auth/received.ts';
import { isReportAttachment, reportHint } from '#core/dmarc/mail.ts';
import { readDmarcReport, readTlsReport, rowOf } from '#core/dmarc/read.ts';
import type { DmarcRow } from '#core/dmarc/model.ts';
import type { ParsedReport } from '#core/dmarc/model.ts';
import { DEFAULT_REPORT_LIMITS, problem, type ReportLimits, type ReportProblem } from '#core/dmarc/problems.ts';
import { readAttachments } from './mail-parser.ts';
import { displayName, unpackReport } from './report-archive.ts';
import { parseXml } from './report-xml.ts';

/** A report with the file (or archive entry) it came from. */
export interface ReadReport {
  readonly name: string;
  readonly report: ParsedReport;
}

/** What one input gave. */
export interface ReportFileResult {
  readonly reports: readonly ReadReport[];
  readonly problems: readonly { readonly name: string; readonly problem: ReportProblem }[];
}

/** What reading needs. */
export interface ReportReadOptions {
  /** The time now: a report period may not end in the future. */
  readonly now: Date;
  /** @default DEFAULT_REPORT_LIMITS */
  readonly limits?: ReportLimits;
}

// Elements per record of a rich report (row, identifiers, several auth results) with room to spare.
const ELEMENTS_PER_RECORD = 40;

/** The first character that is not a byte order mark or white space. */
function firstChar(bytes: Uint8Array): string {
  let i = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) return '<';
  while (i < bytes.length && (bytes[i] === 0x20 || bytes[i] === 0x09 || bytes[i] === 0x0a || bytes[i] === 0x0d)) i++;
  return i < bytes.length ? String.fromCharCode(bytes[i]!) : '';
}

/** Reads one unpacked file. */
export function readReportText(bytes: Uint8Array, name: string, options: ReportReadOptions): ParsedReport | ReportProblem {
  const limits = options.limits ?? DEFAULT_REPORT_LIMITS;
  const read = { now: options.now, maxRecords: limits.records };
  const first = firstChar(bytes);
  if (first === '<') {
    // Records are read as they close and dropped from the tree: memory holds rows, not elements.
    const rows: (DmarcRow | string)[] = [];
    let total = 0;
    const take = (e: { readonly name: string }, ancestors: number) => {
      if (ancestors !== 1 || e.name !== 'record') return false;
      if (total++ < limits.records) rows.push(rowOf(e as Parameters<typeof rowOf>[0], total - 1));
      return true;
    };
    const tree = parseXml(bytes, { depth: limits.xmlDepth, elements: limits.records * ELEMENTS_PER_RECORD }, take);
    if ('code' in tree) return tree;
    const got = readDmarcReport(tree, read, { rows, total });
    return got.ok ? got.report : got.problem;
  }
  if (first === '{') {
    let doc: unknown;
    try {
      doc = JSON.parse(new TextDecoder('utf-8').decode(bytes));
    } catch (err) {
      return problem('JSON_MALFORMED', `the JSON cannot be parsed: ${err instanceof Error ? err.message.slice(0, 200) : String(err)}`);
    }
    const got = readTlsReport(doc, read);
    return got.ok ? got.report : got.problem;
  }
  if (bytes.length === 0) return problem('NOT_A_REPORT', `${name} is empty`);
  return problem('NOT_A_REPORT', `${name} is neither XML (a DMARC aggregate report) nor JSON (a TLS report), nor gzip or zip`);
}

/**
 * Reads a report file: .xml, .xml.gz, .zip (DMARC), .json, .json.gz (TLS-RPT), whatever its name.
 * @example
 * const { reports, problems } = await readReportFile(bytes, 'report.xml.gz', { now: new Date() });
 */
export async function readReportFile(bytes: Uint8Array, name: string, options: ReportReadOptions): Promise<ReportFileResult> {
  const limits = options.limits ?? DEFAULT_REPORT_LIMITS;
  const unpacked = await unpackReport(bytes, name, limits);
  const reports: ReadReport[] = [];
  const problems = [...unpacked.problems];
  for (const f of unpacked.files) {
    const got = readReportText(f.bytes, f.name, options);
    if ('code' in got) problems.push({ name: f.name, problem: got });
    else reports.push({ name: f.name, report: got });
  }
  return { reports, problems };
}

// A part typed like a report file, anywhere in the first MiB of a message.
const REPORT_PART = /^content-type:[ \t]*(application\/(x-)?(zip|gzip|x-zip-compressed|tlsrpt\+(gzip|json)|xml|json|octet-stream)|text\/xml)/im;
const PART_SCAN_BYTES = 1024 * 1024;

/** What a report mail gave: its reports, the problems, and how many report files it carried. */
export interface ReportMailResult extends ReportFileResult {
  readonly files: number;
}

/**
 * Reads a received message as a report mail: null when it is not one (a bounce, a canary, any
 * other mail: the bounce intake takes it), else the reports of its report files and a named
 * problem for each file or limit that gave none (a message sent to a report mailbox that
 * carries no report file is one problem, so it is kept and shown, never lost).
 * @example
 * const got = await readReportMail(raw, { now: new Date(), bounceDomain: 'bounces.example.jp' });
 * if (got) got.reports.length;
 */
export async function readReportMail(raw: Uint8Array, options: ReportReadOptions & { readonly bounceDomain: string | null; readonly name?: string }): Promise<ReportMailResult | null> {
  const limits = options.limits ?? DEFAULT_REPORT_LIMITS;
  const hint = reportHint(headerBlockOf(raw), options.bounceDomain);
  if (hint === 'no') return null;
  const name = displayName(options.name ?? 'the message');
  if (raw.length > limits.messageBytes) {
    if (hint === 'maybe') return null;
    return { reports: [], problems: [{ name, problem: problem('TOO_LARGE', `the message is ${raw.length} bytes, more than the ${limits.messageBytes} a report mail may be`) }], files: 0 };
  }
  // A multipart message without a part typed like a report file (most bounces that are not
  // multipart/report) is not parsed a second time: the bounce classifier takes it as before.
  if (hint === 'maybe' && !REPORT_PART.test(Buffer.from(raw.buffer, raw.byteOffset, Math.min(raw.byteLength, PART_SCAN_BYTES)).toString('latin1'))) return null;
  const files = (await readAttachments(raw)).filter((a) => isReportAttachment(a.contentType, a.filename));
  if (files.length === 0) {
    if (hint === 'maybe') return null;
    return { reports: [], problems: [{ name, problem: problem('NOT_A_REPORT', 'a message to a report mailbox (or marked as a report) that carries no report file (zip, gzip, XML or JSON)') }], files: 0 };
  }
  const reports: ReadReport[] = [];
  const problems: { name: string; problem: ReportProblem }[] = [];
  for (const [i, f] of files.entries()) {
    const fileName = `${name} › ${displayName(f.filename ?? `attachment ${i + 1}`)}`;
    if (i >= limits.attachments) {
      problems.push({ name: fileName, problem: problem('TOO_MANY_ENTRIES', `the message carries ${files.length} report files; only the first ${limits.attachments} are read`) });
      break;
    }
    const got = await readReportFile(f.bytes, fileName, options);
    reports.push(...got.reports);
    problems.push(...got.problems);
  }
  return { reports, problems, files: files.length };
}
