/**
 * Notices without headers: what a person pastes from a mail program (the body it showed), or a
 * body saved without the message's header block. Such a text is recognised from its first
 * lines, and given the envelope a parser needs: a MIME boundary the body itself shows (its
 * parts keep their own types, encodings and charsets), or a plain-text part, base64 or
 * quoted-printable when the whole text is written that way.
 */
import { splitLines } from './fields.ts';

// How much of the start of a text is looked at to tell a header block from a body.
const SNIFF_BYTES = 16 * 1024;
const MAX_HEADER_LINES = 300;

// A header field line (RFC 5322 §2.2): a name of printable characters, a colon.
const FIELD = /^([!-9;-~]+)[ \t]*:/;
// Field names of a message's header block (RFC 5322, RFC 2045, RFC 5321 trace fields, the
// common extensions); fields of a delivery-status block alone do not make a header.
const MESSAGE_FIELDS = /^(?:received|return-path|from|to|cc|bcc|subject|date|message-id|mime-version|content-[a-z-]+|reply-to|sender|delivered-to|envelope-to|in-reply-to|references|precedence|auto-submitted|list-[a-z-]+|dkim-signature|domainkey-signature|authentication-results|arc-[a-z-]+|received-spf|errors-to|resent-[a-z-]+|thread-[a-z-]+|importance|priority|user-agent|organization|keywords|comments|x-[a-z0-9-]+)$/i;

// A MIME boundary line ("--abc") whose next lines are a part's headers.
const BOUNDARY_LINE = /^--([!-~](?:[ -~]{0,68}[!-~])?)[ \t]*$/;
const PART_FIELD = /^content-(?:type|transfer-encoding|description|disposition|id|language)[ \t]*:/i;

/**
 * Whether a text starts without a message header block: its first line is not a header field,
 * or its first block holds no field a message header has (a pasted delivery-status block).
 * @example looksHeaderless(new TextEncoder().encode('Your message could not be delivered.\n')) // true
 */
export function looksHeaderless(bytes: Uint8Array): boolean {
  const lines = linesOf(bytes.subarray(0, firstBlockEnd(bytes)));
  let i = 0;
  while (i < lines.length && lines[i]!.trim() === '') i++;
  if (i >= lines.length) return false;
  // An mbox envelope line opens a stored message.
  if (/^From \S+ /.test(lines[i]!)) return false;
  if (i > 0 || !FIELD.test(lines[i]!)) return true;
  // One field a message header has settles it: the block is a header.
  for (let n = 0; i < lines.length && n < MAX_HEADER_LINES; i++, n++) {
    const line = lines[i]!;
    if (line.trim() === '') break;
    if (/^[ \t]/.test(line)) continue;
    const m = FIELD.exec(line);
    if (!m) return true;
    if (MESSAGE_FIELDS.test(m[1]!)) return false;
  }
  return true;
}

/**
 * A header-less text wrapped as a message: a MIME boundary found in the body becomes a
 * multipart's boundary; otherwise the text is one plain-text part (base64 or quoted-printable
 * when it is written so).
 * @example new TextDecoder().decode(headerlessEnvelope(bytes)).startsWith('MIME-Version: 1.0') // true
 */
export function headerlessEnvelope(bytes: Uint8Array): Uint8Array {
  const lines = linesOf(bytes);
  const boundary = boundaryIn(lines);
  let head: string;
  if (boundary) head = `MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="${boundary}"\r\n\r\n`;
  else head = `MIME-Version: 1.0\r\nContent-Type: text/plain\r\n${transferEncodingOf(lines)}\r\n`;
  // A text that starts with an empty line would end the new header block early: drop those lines.
  let start = 0;
  while (start < bytes.length && (bytes[start] === 0x0a || bytes[start] === 0x0d || bytes[start] === 0x20 || bytes[start] === 0x09)) start++;
  const prefix = new Uint8Array(head.length);
  for (let i = 0; i < head.length; i++) prefix[i] = head.charCodeAt(i);
  const out = new Uint8Array(prefix.length + bytes.length - start);
  out.set(prefix, 0);
  out.set(bytes.subarray(start), prefix.length);
  return out;
}

function boundaryIn(lines: readonly string[]): string | null {
  for (let i = 0; i < lines.length; i++) {
    const m = BOUNDARY_LINE.exec(lines[i]!);
    if (!m || m[1]!.includes('"')) continue;
    // A boundary the text itself declares above belongs to a message quoted in it, not to the text.
    const name = m[1]!;
    if (lines.slice(0, i).some((l) => /boundary\s*=/i.test(l) && l.includes(name))) continue;
    for (let j = i + 1; j < lines.length && j <= i + 3; j++) {
      if (PART_FIELD.test(lines[j]!)) return m[1]!;
      if (lines[j]!.trim() !== '') break;
    }
  }
  return null;
}

function transferEncodingOf(lines: readonly string[]): string {
  const content = lines.filter((l) => l.trim() !== '');
  if (content.length >= 2 && content.every((l) => l.length <= 100 && /^[A-Za-z0-9+/]+={0,2}\s*$/.test(l)) && content.some((l) => l.trim().length >= 40)) {
    return 'Content-Transfer-Encoding: base64\r\n';
  }
  const softBreaks = content.filter((l) => /[^=]=\s*$/.test(l)).length;
  const escapes = content.join('\n').match(/=[89A-F][0-9A-F]/g)?.length ?? 0;
  if (softBreaks >= 2 || escapes >= 3) return 'Content-Transfer-Encoding: quoted-printable\r\n';
  return '';
}

const singleByte = new TextDecoder('latin1');

// Where the first block of a text ends (the empty line after its first non-empty line, or the
// sniffing limit): all that looksHeaderless reads, so that a long body is not decoded for it.
function firstBlockEnd(bytes: Uint8Array): number {
  const limit = Math.min(bytes.length, SNIFF_BYTES);
  let i = 0;
  while (i < limit && (bytes[i] === 0x0a || bytes[i] === 0x0d || bytes[i] === 0x20 || bytes[i] === 0x09)) i++;
  // From line end to line end with the native indexOf (a byte loop runs interpreted on a cold start).
  for (i = bytes.indexOf(0x0a, i); i !== -1 && i < limit; i = bytes.indexOf(0x0a, i + 1)) {
    let j = i + 1;
    if (bytes[j] === 0x0d) j++;
    if (j >= limit || bytes[j] === 0x0a) return Math.min(j + 1, limit);
  }
  return limit;
}

// The first lines of a text, one character per byte (enough to see its structure).
function linesOf(bytes: Uint8Array): string[] {
  return splitLines(singleByte.decode(bytes.subarray(0, Math.min(bytes.length, SNIFF_BYTES))));
}
