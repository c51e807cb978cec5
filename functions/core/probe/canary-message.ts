/**
 * The canary message: small, text/plain, and carrying its id in the places a returned bounce
 * may quote (Message-ID and X-Mail-Health-Canary; the envelope sender carries it as VERP).
 */

export interface CanaryMessageInput {
  readonly canaryId: string;
  readonly from: string;
  readonly to: readonly string[];
  /** The time the round started (the Date header). */
  readonly date: Date;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * An RFC 5322 date in UTC with a numeric zone (`+0000`; `GMT` is the obsolete form).
 * @example rfc5322Date(new Date('2026-01-05T09:08:07Z')) // 'Mon, 05 Jan 2026 09:08:07 +0000'
 */
export function rfc5322Date(d: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return `${DAYS[d.getUTCDay()]}, ${two(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`;
}

/** The Message-ID of a canary, angle brackets included. */
export function canaryMessageId(canaryId: string): string {
  return `<${canaryId}@mail-health>`;
}

function base64Lines(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return (btoa(binary).match(/.{1,76}/g) ?? []).join('\r\n');
}

function header(name: string, value: string): string {
  // The config refuses CR/LF at load; this is the last line of defence against header injection.
  if (/[\r\n]/.test(value)) throw new RangeError(`canary header ${name} must be a single line`);
  return `${name}: ${value}`;
}

/**
 * Builds the raw canary message (CRLF line ends). The body explains itself in English and
 * Japanese so a person who finds it in a mailbox knows it is harmless.
 * @example buildCanaryMessage({ canaryId: '01J…', from: 'shop@example.jp', to: ['owner@example.jp'], date })
 */
export function buildCanaryMessage(input: CanaryMessageInput): string {
  const body = [
    `This is an automatic test message from mail-health (canary ${input.canaryId}).`,
    'It checks that mail from your shop can be sent. You can delete it.',
    '',
    `これは mail-health が自動送信したテストメールです（canary ${input.canaryId}）。`,
    'ショップからメールを送信できることを確認するためのもので、削除してかまいません。',
    '',
  ].join('\r\n');
  const headers = [
    header('From', input.from),
    header('To', input.to.join(', ')),
    header('Subject', `mail-health canary ${input.canaryId}`),
    header('Date', rfc5322Date(input.date)),
    header('Message-ID', canaryMessageId(input.canaryId)),
    header('X-Mail-Health-Canary', input.canaryId),
    // RFC 3834: keeps vacation responders from answering the canary.
    header('Auto-Submitted', 'auto-generated'),
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: base64',
  ];
  return `${headers.join('\r\n')}\r\n\r\n${base64Lines(body)}\r\n`;
}
