/**
 * Reports are written by strangers. Every refusal has a name (a closed list of codes) and a
 * sentence saying what was wrong, and comes back beside the reports that could be read: one bad
 * attachment never hides the good ones, and nothing is refused without a word.
 */

/**
 * - `TOO_LARGE`: bigger than a limit (a message, an archive entry, the XML or JSON inside).
 * - `RATIO_EXCEEDED`: inflates far more than any report does (a decompression bomb).
 * - `ARCHIVE_CORRUPT`: a gzip or zip file that cannot be read.
 * - `ARCHIVE_UNSUPPORTED`: a zip feature reports never use (encryption, zip64, other methods).
 * - `TOO_MANY_ENTRIES`: a zip with more files than any report has.
 * - `XML_MALFORMED`: not well-formed XML (the message gives line and column).
 * - `XML_DOCTYPE`: a DOCTYPE or entity declaration, which reports never carry (XML bombs do).
 * - `XML_TOO_DEEP`: nesting deeper than a report's few levels.
 * - `JSON_MALFORMED`: a TLS report that is not JSON.
 * - `NOT_A_REPORT`: readable, but neither a DMARC aggregate report nor a TLS report.
 * - `REPORT_INVALID`: a report missing what every report must have (its reporter, id, domain).
 * - `DATES_INVALID`: a period that cannot be (ends before it begins, before 2000, in the future).
 * - `UNREADABLE`: the input could not be read at all (a missing file).
 */
export const REPORT_PROBLEM_CODES = [
  'TOO_LARGE',
  'RATIO_EXCEEDED',
  'ARCHIVE_CORRUPT',
  'ARCHIVE_UNSUPPORTED',
  'TOO_MANY_ENTRIES',
  'XML_MALFORMED',
  'XML_DOCTYPE',
  'XML_TOO_DEEP',
  'JSON_MALFORMED',
  'NOT_A_REPORT',
  'REPORT_INVALID',
  'DATES_INVALID',
  'UNREADABLE',
] as const;
export type ReportProblemCode = (typeof REPORT_PROBLEM_CODES)[number];

/** Why one input (a file, an attachment, an archive entry) gave no report. */
export interface ReportProblem {
  readonly code: ReportProblemCode;
  /** One sentence in English naming what is wrong. */
  readonly message: string;
}

/** The limits a report must stay within; the defaults fit every real report with room to spare. */
export interface ReportLimits {
  /** A whole message carrying reports (SES inbound takes at most 40 MB). */
  readonly messageBytes: number;
  /** Report files (attachments) read from one message. */
  readonly attachments: number;
  /** One report's XML or JSON, once unpacked. */
  readonly reportBytes: number;
  /** Everything unpacked from one file or message together. */
  readonly totalBytes: number;
  /** Unpacked bytes per packed byte, beyond `ratioFloorBytes`. */
  readonly ratio: number;
  /** Output this small is never a bomb, whatever its ratio. */
  readonly ratioFloorBytes: number;
  /** Files in one zip archive. */
  readonly zipEntries: number;
  /** XML nesting (a DMARC report needs six levels). */
  readonly xmlDepth: number;
  /** `<record>`s (or TLS failure lines) read from one report. */
  readonly records: number;
}

const MIB = 1024 * 1024;

/**
 * The default limits. XML compresses about 10-30:1; deflate cannot exceed about 1,030:1, which
 * is what bombs aim at, so 200:1 over the first MiB refuses them and keeps every real report.
 */
export const DEFAULT_REPORT_LIMITS: ReportLimits = {
  messageBytes: 40 * MIB,
  attachments: 20,
  reportBytes: 64 * MIB,
  totalBytes: 128 * MIB,
  ratio: 200,
  ratioFloorBytes: MIB,
  zipEntries: 16,
  xmlDepth: 16,
  records: 200_000,
};

/** A report problem value. */
export function problem(code: ReportProblemCode, message: string): ReportProblem {
  return { code, message };
}

/**
 * How many bytes unpacking `packedBytes` may give: the least of the per-report limit, what is
 * left of the total, and the ratio limit (never below its floor).
 * @example unpackBudget(10_000, DEFAULT_REPORT_LIMITS, 128 * 1024 * 1024) // 1048576 (the floor)
 */
export function unpackBudget(packedBytes: number, limits: ReportLimits, totalLeft: number): number {
  const byRatio = Math.max(limits.ratioFloorBytes, packedBytes * limits.ratio);
  return Math.max(0, Math.min(limits.reportBytes, totalLeft, byRatio));
}
