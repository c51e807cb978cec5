/**
 * Delivery Status Notifications as an MTA writes them (RFC 3464 inside an RFC 6522
 * multipart/report): a human-readable part, the machine-readable `message/delivery-status`
 * (Reporting-MTA, Arrival-Date, then per recipient Final-Recipient, Action, Status, Remote-MTA,
 * Diagnostic-Code, Last-Attempt-Date) and the returned headers as `text/rfc822-headers`.
 * The demo world's provider uses it to return its canaries; pure, the time and boundary are inputs.
 */
import { rfc5322Date } from '#core/probe/canary-message.ts';

/** One recipient the report is about. */
export interface DsnRecipient {
  readonly recipient: string;
  /** `failed` or `delayed` (RFC 3464 Action). */
  readonly action: 'failed' | 'delayed';
  /** RFC 3463 enhanced status, e.g. `5.2.2`. */
  readonly status: string;
  /** The remote server that refused, e.g. `mx.customers.example`; null when the MTA decided itself. */
  readonly remoteMta: string | null;
  /** The SMTP reply as received (`552 5.2.2 <x>: Mailbox full`), or the MTA's own words. */
  readonly diagnostic: string;
  /** The command the remote server answered (`RCPT TO`, `end of DATA`), for the human part. */
  readonly inReplyTo?: string;
}

/** What a DSN is built from. */
export interface DsnInput {
  /** The host name of the MTA writing the report. */
  readonly reportingMta: string;
  /** The envelope sender of the returned message: the report's recipient. */
  readonly returnTo: string;
  /** When the MTA received the original message. */
  readonly arrivalDate: Date;
  /** When the report is written. */
  readonly date: Date;
  readonly recipients: readonly DsnRecipient[];
  /** The original message (CRLF); only its header section is returned. */
  readonly original: string;
  /** A unique token for the MIME boundary and the Message-ID (e.g. the queue id). */
  readonly token: string;
}

function headerSection(message: string): string {
  const end = message.search(/\r?\n\r?\n/);
  const head = end < 0 ? message : message.slice(0, end);
  return head.replace(/\r?\n/g, '\r\n');
}

// RFC 3464 §2.1.2: a field whose value is longer than a line is folded with leading whitespace.
function fold(name: string, value: string): string {
  const words = value.replace(/[\r\n]+/g, ' ').split(' ');
  const lines: string[] = [];
  let current = `${name}:`;
  for (const w of words) {
    if (current.length + 1 + w.length > 76 && current.trim() !== `${name}:`) {
      lines.push(current);
      current = `    ${w}`;
    } else current += ` ${w}`;
  }
  lines.push(current);
  return lines.join('\r\n');
}

/**
 * Builds a DSN (CRLF line ends) for the failed recipients of one message.
 * @example
 * buildDsn({ reportingMta: 'smtp.example.jp', returnTo: 'bounce+01J…@bounces.example.jp', arrivalDate, date,
 *   recipients: [{ recipient: 'full@example.com', action: 'failed', status: '5.2.2', remoteMta: 'mx.example.com',
 *   diagnostic: '552 5.2.2 Mailbox full' }], original, token: 'A1B2C3' })
 */
export function buildDsn(input: DsnInput): string {
  const boundary = `${input.token}.${input.date.getTime()}/${input.reportingMta}`;
  const failed = input.recipients.some((r) => r.action === 'failed');
  const human = [
    `This is the mail system at host ${input.reportingMta}.`,
    '',
    failed
      ? "I'm sorry to have to inform you that your message could not be delivered to one or more recipients. Its headers are attached below."
      : 'Your message could not be delivered yet. The mail system will keep trying; you do not need to send it again.',
    '',
    ...input.recipients.map((r) => {
      const where = r.remoteMta ? `host ${r.remoteMta} said: ${r.diagnostic}${r.inReplyTo ? ` (in reply to ${r.inReplyTo} command)` : ''}` : r.diagnostic;
      return `<${r.recipient}>: ${where}`;
    }),
    '',
  ].join('\r\n');
  const perMessage = [`Reporting-MTA: dns; ${input.reportingMta}`, `Arrival-Date: ${rfc5322Date(input.arrivalDate)}`].join('\r\n');
  const perRecipient = input.recipients.map((r) =>
    [
      `Final-Recipient: rfc822; ${r.recipient}`,
      `Original-Recipient: rfc822;${r.recipient}`,
      `Action: ${r.action}`,
      `Status: ${r.status}`,
      ...(r.remoteMta ? [`Remote-MTA: dns; ${r.remoteMta}`] : []),
      fold('Diagnostic-Code', `${r.remoteMta ? 'smtp' : 'X-mail-health'}; ${r.diagnostic}`),
      `Last-Attempt-Date: ${rfc5322Date(input.date)}`,
    ].join('\r\n'),
  );
  const headers = [
    `Date: ${rfc5322Date(input.date)}`,
    `From: Mail Delivery System <MAILER-DAEMON@${input.reportingMta}>`,
    `Subject: ${failed ? 'Undelivered Mail Returned to Sender' : 'Delayed Mail (still being retried)'}`,
    `To: ${input.returnTo}`,
    'Auto-Submitted: auto-replied',
    `Message-ID: <${input.token}.${input.date.getTime()}@${input.reportingMta}>`,
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary="${boundary}"`,
    'Content-Transfer-Encoding: 8bit',
  ];
  return [
    headers.join('\r\n'),
    '',
    'This is a MIME-encapsulated message.',
    '',
    `--${boundary}`,
    'Content-Description: Notification',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    '',
    human,
    `--${boundary}`,
    'Content-Description: Delivery report',
    'Content-Type: message/delivery-status',
    '',
    perMessage,
    '',
    perRecipient.join('\r\n\r\n'),
    '',
    `--${boundary}`,
    'Content-Description: Undelivered Message Headers',
    'Content-Type: text/rfc822-headers',
    'Content-Transfer-Encoding: 8bit',
    '',
    headerSection(input.original),
    '',
    `--${boundary}--`,
    '',
  ].join('\r\n');
}
