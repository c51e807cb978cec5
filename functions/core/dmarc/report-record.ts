/**
 * What the history keeps of one DMARC or TLS report for one domain (written by record.ts, kept
 * by a DmarcStore, read by the report page and `status`): a plain type the ports name.
 */
import type { Severity } from '../findings.ts';
import type { SourceLine } from './summary.ts';

/** What is kept of one report for one domain: enough for the history, the report page and status. */
export interface DmarcReportRecord {
  /** The report's key (and the domain, for a TLS report about several). */
  readonly key: string;
  readonly kind: 'dmarc' | 'tlsrpt';
  readonly domain: string;
  readonly target: string | null;
  readonly day: string;
  readonly begin: string;
  readonly end: string;
  readonly org: string;
  readonly reportId: string;
  /** ISO time the report arrived. */
  readonly receivedAt: string;
  /** Where the message or file it came in is kept (raw/ path, S3 key). */
  readonly source: string | null;
  readonly messages: number;
  readonly passed: number;
  /** The published policy (`p=`) the report found. */
  readonly policy: string | null;
  /** The busiest sources (at most RECORD_SOURCES of record.ts). */
  readonly sources: readonly Pick<SourceLine, 'ip' | 'ptr' | 'sender' | 'count' | 'dmarc' | 'spf' | 'dkim' | 'known' | 'disposition'>[];
  readonly tls: { readonly successful: number; readonly failed: number; readonly failures: readonly { readonly resultType: string; readonly mx: string | null; readonly count: number }[] } | null;
  readonly findings: readonly { readonly code: string; readonly severity: Severity }[];
}
