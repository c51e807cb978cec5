/**
 * Who delivered a message: the topmost `Received:` header, the one the receiving server (the
 * bounce domain's MX: the bounce listener, SES inbound) wrote, names the connecting client as
 * `from HELO (rDNS [IP])`. That address is the sending server the shop's provider uses, the one
 * receivers judge by its reverse DNS and blocklist listings.
 */
import { canonicalIp, isIPv4, isIPv6 } from './ip-text.ts';

/** The client of the hop that delivered the message. */
export interface SendingHop {
  /** The connecting IP address as the receiver saw it. */
  readonly ip: string;
  /** The name the client gave in HELO/EHLO; null when the header does not say. */
  readonly helo: string | null;
}

/** The unfolded value of the first header field with this name, from the raw header block. */
export function firstHeader(rawHeaders: string, name: string): string | null {
  const lines = rawHeaders.split(/\r?\n/);
  const wanted = name.toLowerCase();
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') break;
    const colon = line.indexOf(':');
    if (colon <= 0 || line.slice(0, colon).trim().toLowerCase() !== wanted) continue;
    let value = line.slice(colon + 1);
    while (i + 1 < lines.length && /^[ \t]/.test(lines[i + 1]!)) value += ` ${lines[++i]!.trim()}`;
    return value.trim();
  }
  return null;
}

/**
 * Reads the client of a Received header value: `from mail.example.jp (mail.example.jp
 * [203.0.113.5]) by …`, also `[IPv6:2001:db8::5]` and a bare `from [203.0.113.5]`.
 * Null when it names no address (a local injection, a header written by hand).
 * @example parseReceivedFrom('from smtp.example.jp (smtp.example.jp [192.0.2.25]) by mx.example.jp with ESMTPS id 1') // { ip: '192.0.2.25', helo: 'smtp.example.jp' }
 */
export function parseReceivedFrom(value: string): SendingHop | null {
  const from = /^\s*from\s+(\S+)((?:\s*\([^()]*\))*)/i.exec(value);
  if (!from) return null;
  const helo = from[1]!;
  const comments = from[2] ?? '';
  const candidates = [...`${helo} ${comments}`.matchAll(/\[(?:IPv6:)?([0-9a-f.:]+)\]/gi)].map((m) => m[1]!);
  // Some servers write the address without brackets in the comment: `(203.0.113.5)`.
  candidates.push(...[...comments.matchAll(/[\s(]((?:\d{1,3}\.){3}\d{1,3})[\s)]/g)].map((m) => m[1]!));
  const ip = candidates.find((c) => isIPv4(c) || isIPv6(c));
  if (!ip) return null;
  const named = helo.startsWith('[') ? null : helo;
  return { ip: canonicalIp(ip) === null ? ip : ip.toLowerCase(), helo: named };
}

/**
 * The sending hop of a raw message: its topmost Received header's client.
 * @example sendingHopOf(rawMessageText) // { ip: '192.0.2.25', helo: 'smtp.example.jp' }
 */
export function sendingHopOf(rawHeaders: string): SendingHop | null {
  const received = firstHeader(rawHeaders, 'Received');
  return received === null ? null : parseReceivedFrom(received);
}

// The header block of any sane message fits; a Received header further down is not the top one.
const HEADER_SCAN_BYTES = 256 * 1024;

/**
 * The header block of a raw message as text (bytes as Latin-1, so nothing fails to decode).
 * @example sendingHopOf(headerBlockOf(raw))
 */
export function headerBlockOf(raw: Uint8Array): string {
  const head = new TextDecoder('latin1').decode(raw.subarray(0, HEADER_SCAN_BYTES));
  const end = head.search(/\r?\n\r?\n/);
  return end < 0 ? head : head.slice(0, end);
}
