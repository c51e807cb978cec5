/**
 * Which received messages are reports: mail to the report mailboxes of the bounce domain
 * (`rua=mailto:dmarc@<bounceDomain>`, `rua=mailto:tlsrpt@<bounceDomain>`), mail whose header
 * says it is one (RFC 7489 §7.2.1.1's "Report Domain:" subject, RFC 8460's TLS-Report-Domain,
 * `multipart/report; report-type=tlsrpt`), and mail that carries report files (zip, gzip, XML,
 * TLS-RPT). Decided from the header block before the bounce classifier sees the message; a
 * delivery status notification is never a report, even with a zip in its returned original.
 */

/** Local parts of report mailboxes (the README tells users to use `dmarc@` and `tlsrpt@`). */
export const REPORT_MAILBOXES = ['dmarc', 'tlsrpt', 'dmarc-reports', 'dmarc-rua', 'rua', 'tls-reports', 'tlsrpt-reports', 'smtp-tls-reports'] as const;

/** Content types report files travel as (RFC 7489 §7.2.1.1, RFC 8460 §5.3, and what reporters use besides). */
export const REPORT_CONTENT_TYPES = [
  'application/zip',
  'application/x-zip-compressed',
  'application/x-zip',
  'application/gzip',
  'application/x-gzip',
  'application/tlsrpt+gzip',
  'application/tlsrpt+json',
  'application/xml',
  'text/xml',
  'application/json',
  'application/octet-stream',
] as const;

/** Whether an attachment (its type and file name) can be a report file. */
export function isReportAttachment(contentType: string, filename: string | null): boolean {
  const type = contentType.toLowerCase().split(';')[0]!.trim();
  const name = (filename ?? '').toLowerCase();
  const named = /\.(xml|zip|gz|gzip|json)$/.test(name);
  // A generic binary type counts only with a report file's name.
  if (type === 'application/octet-stream') return named;
  return (REPORT_CONTENT_TYPES as readonly string[]).includes(type) || named;
}

/** Whether an address is a report mailbox (at the bounce domain, when one is given). */
export function isReportAddress(address: string, bounceDomain: string | null): boolean {
  const a = address.trim().replace(/^<|>$/g, '').toLowerCase();
  const at = a.lastIndexOf('@');
  if (at <= 0) return false;
  const local = a.slice(0, at);
  const domain = a.slice(at + 1);
  if (bounceDomain !== null && domain !== bounceDomain.toLowerCase()) return false;
  return (REPORT_MAILBOXES as readonly string[]).includes(local);
}

/** The header fields of a block (unfolded), names lower case. */
function fieldsOf(headerBlock: string): { name: string; value: string }[] {
  const out: { name: string; value: string }[] = [];
  for (const line of headerBlock.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) out.push({ name: line.slice(0, colon).trim().toLowerCase(), value: line.slice(colon + 1).trim() });
  }
  return out;
}

/**
 * What the header block says about a message:
 * - `report`: it is one (sent to a report mailbox, or marked as a report);
 * - `maybe`: a multipart message or a single file that may carry report files: look at its attachments;
 * - `no`: a bounce, a canary, plain text.
 * @example reportHint('To: dmarc@bounces.example.jp\r\nSubject: Report Domain: example.jp …', 'bounces.example.jp') // 'report'
 */
export function reportHint(headerBlock: string, bounceDomain: string | null): 'report' | 'maybe' | 'no' {
  const fields = fieldsOf(headerBlock);
  const value = (name: string) => fields.find((f) => f.name === name)?.value ?? '';
  const type = value('content-type').toLowerCase();
  // A DSN carries the returned message, which may have had report files attached.
  if (/^multipart\/report/.test(type) && /report-type\s*=\s*"?(delivery-status|disposition-notification|feedback-report)/.test(type)) return 'no';
  if (/^multipart\/report/.test(type) && /report-type\s*=\s*"?tlsrpt/.test(type)) return 'report';
  if (fields.some((f) => f.name === 'tls-report-domain')) return 'report';
  if (/^report domain:/i.test(value('subject'))) return 'report';
  const recipients = fields.filter((f) => f.name === 'delivered-to' || f.name === 'x-original-to' || f.name === 'to').flatMap((f) => f.value.match(/[^\s<>,;"]+@[^\s<>,;"]+/g) ?? []);
  if (recipients.some((r) => isReportAddress(r, bounceDomain))) return 'report';
  if (/^multipart\/(mixed|related)/.test(type)) return 'maybe';
  const base = type.split(';')[0]!.trim();
  if (base !== '' && !base.startsWith('text/plain') && !base.startsWith('multipart/') && isReportAttachment(base, null)) return 'maybe';
  return 'no';
}
