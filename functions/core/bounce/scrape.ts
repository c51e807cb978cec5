/**
 * Reading bounces that are not clean DSNs: the explanation text Postfix, Sendmail, Exim, qmail,
 * Exchange, Domino, Courier, the Japanese carriers and the rest write for people. Recipients are
 * found where the text anchors them (an address opening a line, an SMTP transcript, "delivered
 * to <addr>"), and each one gets the lines that follow it as its diagnostic.
 */
import { MESSAGE_HEADER_NAMES, ORIGINAL_MARKERS, TRACE_HEADER_NAMES } from './tables.ts';
import { ADDRESS, cleanAddress, findAddresses, LOOSE_ADDRESS, splitLines } from './fields.ts';

// All markers as one test (each opens its line; which one matched does not matter).
const ANY_ORIGINAL_MARKER = new RegExp(ORIGINAL_MARKERS.map((re) => `(?:${re.source})`).join('|'), 'i');

/** One recipient read from the text, with the lines that explain it. */
export interface ScrapedRecipient {
  readonly recipient: string;
  readonly diagnostic: string;
  /** The address is one of the excluded ones (kept only because nothing else was named). */
  readonly excluded: boolean;
}

/** The explanation of a bounce, split from the copy of the original that may follow it. */
export interface SplitText {
  readonly explanation: string;
  readonly original: string | null;
}

/**
 * Splits a bounce text at the first line that starts the returned original: a marker line
 * ("----- Original message -----"), or, without one, the start of a paragraph that has the
 * shape of a message's header block (see {@link startsHeaderBlock}). Nothing after it is the
 * bounce's explanation.
 */
export function splitAtOriginal(text: string): SplitText {
  const lines = splitLines(text);
  const crlf = text.includes('\r');
  let said = false;
  // `start`: where line i starts in the text.
  for (let i = 0, start = 0; i < lines.length; start += lines[i]!.length + 1, i++) {
    const raw = lines[i]!;
    // A header block opening a paragraph, after some explanation: the original without a marker.
    if (said && raw.length > 0 && lines[i - 1]!.trim() === '' && FIELD_START.test(raw) && startsHeaderBlock(lines, i)) {
      if (!crlf) return { explanation: text.slice(0, Math.max(0, start - 1)), original: text.slice(start) };
      return { explanation: lines.slice(0, i).join('\n'), original: lines.slice(i).join('\n') };
    }
    // A line shorter than 8 is shorter trimmed: no need to trim it.
    if (raw.length < 8) {
      said ||= raw.trim() !== '';
      continue;
    }
    said = true;
    const line = raw.trim();
    if (line.length > 160 || line.length < 8) continue;
    if (ANY_ORIGINAL_MARKER.test(line)) {
      // Without CRs the lines are the text's own: slices of it are their joins, without a copy.
      if (!crlf) return { explanation: text.slice(0, Math.max(0, start - 1)), original: text.slice(start + raw.length + 1).replace(/^\s*\n/, '') };
      return { explanation: lines.slice(0, i).join('\n'), original: lines.slice(i + 1).join('\n').replace(/^\s*\n/, '') };
    }
  }
  return { explanation: text, original: null };
}

/** Whether a text (a part) opens with a message's header block (see {@link startsHeaderBlock}). */
export function isHeaderBlock(text: string): boolean {
  const start = text.search(/\S/);
  if (start < 0 || !FIELD_START.test(text.slice(start, start + 42))) return false;
  const lineStart = text.lastIndexOf('\n', start) + 1;
  return startsHeaderBlock(splitLines(text.slice(lineStart, lineStart + 8000), HEADER_BLOCK_LINES + 1), 0);
}

// A line that opens with a field name and its colon.
const FIELD_START = /^[A-Za-z][A-Za-z0-9-]{1,40}:/;
const FIELD_NAME = /^([A-Za-z][A-Za-z0-9-]{1,40}):/;
// How far a header block is read to tell it from an echo of a few header lines in a notice.
const HEADER_BLOCK_LINES = 40;

/**
 * Whether the lines from `at` have the shape of a returned message's header block: nothing but
 * header fields (and their folded continuations) up to an empty line, at least three of them
 * named as a message's header fields, one of them a field only a message that travelled carries
 * (Received, Return-Path, DKIM-Signature, Authentication-Results, …). A notice's echo of the
 * original's subject and date has none of those; delivery-status fields are not message fields.
 */
export function startsHeaderBlock(lines: readonly string[], at: number): boolean {
  let fields = 0;
  let trace = false;
  for (let j = at; j < lines.length && j < at + HEADER_BLOCK_LINES; j++) {
    const line = lines[j]!;
    if (line.trim() === '') break;
    if (line[0] === ' ' || line[0] === '\t') {
      if (j === at) return false;
      continue;
    }
    const m = FIELD_NAME.exec(line);
    if (!m || !MESSAGE_HEADER_NAMES.test(m[1]!)) {
      // An unknown field among known ones is still a header (X- fields and the like); a line
      // that is no field at all is not.
      if (!m || j === at) return false;
      continue;
    }
    fields++;
    trace ||= TRACE_HEADER_NAMES.test(m[1]!);
  }
  return fields >= 3 && trace;
}

// Labels of echoed header lines: an address after them is the sender's or the original's, not an anchor.
const ECHO_LABEL = /^(?:to|from|cc|bcc|subject|date|sent|reply-to|sender|return-path|message-id|in-reply-to|references|received|envelope-from|errors-to|x-[a-z0-9-]+|dkim-signature|arc-[a-z-]+|authentication-results|delivered-to|x-original-to|list-[a-z-]+)$/i;

// Labels that introduce someone to contact or the report's own system, not a failed recipient
// ("System Contact: postmaster@…", "Generating server: …", "Please reply to …").
const NOT_A_RECIPIENT_LABEL = /contact|support|help|admin|postmaster|webmaster|reply|question|information|generating server|reporting|sent by|envoy|absender|remitente|mittente|remetente|отправител|发件人|發件人|差出人|送信者/i;
// Role addresses of mail systems (RFC 2142): they write reports, they are not what bounced,
// unless nothing else is named.
const ROLE_ADDRESS = /^(?:postmaster|mailer-daemon|mailerdaemon|abuse|hostmaster|noc|mail-daemon)@/i;

const ADDR = ADDRESS.source;
// An address opening a line: after bullets, an optional short label ("Recipient address:",
// "Unknown user:"), an optional reply code ("550 5.1.1 <addr>... User unknown"), an optional
// display name ("Neko<mailto:neko@example.jp>").
const LEADING = new RegExp(
  String.raw`^[\s*>•·\-]*(?:(?<label>[^@:：<>\n]{1,48}?)[:：]\s*)?(?<code>[245]\d\d[ -](?:#?[245]\.\d{1,3}\.\d{1,3}\s+)?)?(?:"[^"\n]*"\s*(?=<)|[^<>@\s"]{1,40}(?=<))?[<("]?(?:mailto:)?(?<address>${ADDR})[>)"]?(?<rest>.*)$`,
  'i',
);
// An address in angle brackets at the start of a text (after a display name that looked like one).
const BRACKETED_ADDRESS = new RegExp(String.raw`^\s*<(${ADDR})>`);
// "RCPT TO:<addr>" in a session transcript.
const TRANSCRIPT = new RegExp(String.raw`rcpt to:\s*<?(${ADDR})>?`, 'i');
// The same places for an address whose domain is not a valid host name, taken only where the
// layout marks it as an address: in angle brackets opening a line (after an optional label or
// reply code), alone on its line, or in "RCPT TO:<…>".
const LOOSE = LOOSE_ADDRESS.source;
const LOOSE_LEADING = new RegExp(String.raw`^[\s*>•·\-]*(?:(?<label>[^@:：<>\n]{1,48}?)[:：]\s*)?(?<code>[245]\d\d[ -](?:#?[245]\.\d{1,3}\.\d{1,3}\s+)?)?(?:<(?<bracketed>${LOOSE})>|(?<alone>${LOOSE})(?=\s*:?\s*$))(?<rest>.*)$`, 'i');
const LOOSE_TRANSCRIPT = new RegExp(String.raw`rcpt to:\s*<(${LOOSE})>`, 'i');
// Sentences that name the recipient: "delivered to <addr>", "your message to addr couldn't be
// delivered", "rejected recipient <addr>", "Address: <addr>", "undeliverable to addr".
const INLINE: readonly RegExp[] = [
  new RegExp(String.raw`\b(?:deliver(?:ed|ing|y)?|undeliverable|sent|send(?:ing)?|relay(?:ed|ing)?|forward(?:ed|ing)?|message|mail|e-?mail)\b[^.@\n]{0,40}?\bto\b:?\s*['"<(]*(?:mailto:)?(${ADDR})`, 'i'),
  // "The address to which your message was addressed, kimura@example.edu, does not exist"
  new RegExp(String.raw`\baddressed(?: to)?\b[,:]?\s*['"<(]*(${ADDR})`, 'i'),
  new RegExp(String.raw`\b(?:recipients?|address(?:es)?|addressee|user)\b[^.@\n<]{0,40}?:\s*[<"]?(?:mailto:)?(${ADDR})`, 'i'),
  new RegExp(String.raw`\b(?:recipient|address|addressee|user|mailbox)\s+[<"](?:mailto:)?(${ADDR})[>"]`, 'i'),
  new RegExp(String.raw`\bmailing list\s+<(${ADDR})>`, 'i'),
];
const SEPARATOR = /^\s*(?:[-=_*#~]{4,}|[-=_*#~]+\s.*\s[-=_*#~]+)\s*$/;
// Sendmail's per-host status line ("550 example.org (smtp)... 550 Host unknown") and the start
// of a transcript section ("While talking to host:"): both open the story of the next recipient.
const SENDMAIL_HOST_STATUS = /^\s*[245]\d\d [^\s@]+ \([a-z0-9-]+\)\.\.\. /i;
const TRANSCRIPT_SECTION = /^\s*(?:\.\.\.\s*)?while talking to /i;

interface Anchor {
  readonly line: number;
  readonly address: string;
  readonly kind: 'leading' | 'transcript' | 'inline';
  /** Text on the anchor line that belongs to the diagnostic. */
  readonly rest: string;
}

/**
 * Finds the failed recipients in a bounce explanation and the lines about each.
 * `exclude` holds addresses that are not recipients (the bounce's own From and To, the sender).
 */
export function scrapeRecipients(explanation: string, exclude: ReadonlySet<string>): ScrapedRecipient[] {
  const lines = splitLines(explanation);
  const anchors: Anchor[] = [];
  for (let i = 0; i < lines.length; i++) {
    // An endless line is read from its start: that is where a recipient would be named.
    const line = lines[i]!.length > 2000 ? lines[i]!.slice(0, 2000) : lines[i]!;
    if (!line.includes('@')) continue;
    const lead = LEADING.exec(line)?.groups;
    if (lead && lead.label && NOT_A_RECIPIENT_LABEL.test(lead.label)) continue;
    if (lead && !(lead.label && ECHO_LABEL.test(lead.label.trim()))) {
      // "name@example.jp <real@example.net>": the first address was only a display name.
      const bracketed = BRACKETED_ADDRESS.exec(lead.rest ?? '');
      const address = cleanAddress(bracketed ? bracketed[1]! : lead.address!);
      // "550 5.1.1 <addr>... User unknown", "Unknown user: addr": the whole line is the diagnostic;
      // after a mere "Recipient address:" label only the rest of the line is.
      const meaningful = lead.code || (lead.label && !/^(?:final-|original-)?recipient|address|rcpt|addressed to/i.test(lead.label.trim()));
      anchors.push({ line: i, address, kind: 'leading', rest: meaningful ? line.trim() : (lead.rest ?? '') });
      continue;
    }
    const rcpt = TRANSCRIPT.exec(line);
    if (rcpt) {
      anchors.push({ line: i, address: cleanAddress(rcpt[1]!), kind: 'transcript', rest: '' });
      continue;
    }
    // No address a host name could route: one as written, where the layout marks it as one.
    if (!lead) {
      const loose = LOOSE_LEADING.exec(line)?.groups;
      if (loose && !(loose.label && (NOT_A_RECIPIENT_LABEL.test(loose.label) || ECHO_LABEL.test(loose.label.trim())))) {
        const meaningful = loose.code || (loose.label && !/^(?:final-|original-)?recipient|address|rcpt|addressed to/i.test(loose.label.trim()));
        anchors.push({ line: i, address: cleanAddress(loose.bracketed ?? loose.alone!), kind: 'leading', rest: meaningful ? line.trim() : (loose.rest ?? '') });
        continue;
      }
      const looseRcpt = LOOSE_TRANSCRIPT.exec(line);
      if (looseRcpt) {
        anchors.push({ line: i, address: cleanAddress(looseRcpt[1]!), kind: 'transcript', rest: '' });
        continue;
      }
    }
    if (/^\s*(?:received|for|by|with|from|to|cc|message-id|return-path):?\s/i.test(line)) continue;
    for (const re of INLINE) {
      const inline = re.exec(line);
      if (!inline) continue;
      anchors.push({ line: i, address: cleanAddress(inline[1]!), kind: 'inline', rest: line.slice(inline.index + inline[0].length) });
      break;
    }
  }
  // Addresses of the sender and the reporting system are no recipients, unless nothing else is named.
  const excluded = (address: string) => exclude.has(address.toLowerCase()) || ROLE_ADDRESS.test(address);
  const named = anchors.filter((a) => !excluded(a.address));
  if (named.length) anchors.splice(0, anchors.length, ...named);
  if (anchors.length === 0) return [];

  const anchorLines = new Set(anchors.map((a) => a.line));
  const byAddress = new Map<string, { recipient: string; parts: string[] }>();
  for (const a of anchors) {
    const key = a.address.toLowerCase();
    let entry = byAddress.get(key);
    if (!entry) {
      entry = { recipient: a.address, parts: [] };
      byAddress.set(key, entry);
    }
    const diag: string[] = [];
    // Sendmail's "554 <addr>... Remote protocol error" only points at the transcript: the remote
    // server's reply is the ">>> command / <<< reply" pair just above it.
    if (a.kind === 'leading' && /remote protocol error/i.test(a.rest)) diag.push(...exchangeAbove(lines, a.line));
    const rest = a.rest.replace(/^(?:[\s:>)\]]|\.\.\.)+/, '').trim();
    if (rest) diag.push(rest);
    // The lines after the anchor, up to an empty line, a separator or the next anchor.
    for (let j = a.line + 1; j < lines.length && j <= a.line + 12; j++) {
      const next = lines[j]!;
      if (next.trim() === '' || SEPARATOR.test(next) || anchorLines.has(j) || SENDMAIL_HOST_STATUS.test(next) || TRANSCRIPT_SECTION.test(next)) {
        if (a.kind === 'transcript' && anchorLines.has(j)) break;
        if (a.kind === 'transcript' && next.trim() === '') continue;
        break;
      }
      if (a.kind === 'transcript' && /^\s*(?:>>>|sent\s*<<<)/i.test(next)) break;
      // Echoed header fields (the original's, or a block of them) end the recipient's story.
      if (isMessageHeaderLine(next)) break;
      diag.push(next.trim());
    }
    for (const d of diag) if (!entry.parts.includes(d)) entry.parts.push(d);
  }
  return [...byAddress.values()].map((e) => ({ recipient: e.recipient, diagnostic: e.parts.join(' ').trim(), excluded: excluded(e.recipient) }));
}

// The ">>> command" and "<<< reply" lines right above line `at` (a Sendmail transcript), in order.
function exchangeAbove(lines: readonly string[], at: number): string[] {
  const out: string[] = [];
  for (let j = at - 1; j >= 0 && j >= at - 6; j--) {
    const t = lines[j]!.trim();
    // Sendmail writes its own status of the host between the transcript and the recipient line.
    if (!/^(?:>>>|<<<)/.test(t) && !(out.length === 0 && SENDMAIL_HOST_STATUS.test(t))) break;
    out.unshift(t);
  }
  return out;
}

/**
 * The lines of an explanation that read like an SMTP error or a reason: reply codes, enhanced
 * status codes, "reason:" / "said:" labels. Used when a recipient's own lines say nothing.
 */
export function globalDiagnostic(explanation: string): string {
  const out: string[] = [];
  const lines = splitLines(explanation);
  let transcript = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    // Sendmail's "Transcript of session follows" section is the error, line by line.
    if (/^-+\s*transcript of session follows\s*-+$/i.test(line)) {
      transcript = true;
      continue;
    }
    if (transcript && (!line || SEPARATOR.test(line))) transcript = false;
    if (transcript && line && !/^\.\.\. while talking to/i.test(line)) {
      if (!out.includes(line)) out.push(line);
      continue;
    }
    if (!line || line.length > 1000) continue;
    // A header field of the returned message (or an echo of one) is never evidence of the cause.
    if (isMessageHeaderLine(line)) continue;
    if (/(?:^|\s|<<<|[:(#])[245]\d\d[ -]|[245]\.\d{1,3}\.\d{1,3}\b|\b(?:reason|said|error|diagnostic|response|status)\b\s*:/i.test(line)) {
      if (!out.includes(line)) out.push(line);
      // A label on its own line ("The error that the other server returned was:") explains the next lines.
      if (/:\s*$/.test(line)) {
        for (let j = i + 1; j < lines.length && j <= i + 4 && lines[j]!.trim(); j++) {
          const next = lines[j]!.trim();
          if (!out.includes(next)) out.push(next);
        }
      }
    }
  }
  return out.join(' ').slice(0, 4000);
}

/**
 * Whether a (trimmed) line is a message header field or an echo of one ("Subject: …",
 * "> Authentication-Results: …"): never evidence of a cause, whatever words it holds.
 */
export function isMessageHeaderLine(line: string): boolean {
  const m = ECHOED_FIELD.exec(line);
  return m !== null && MESSAGE_HEADER_NAMES.test(m[1]!);
}
const ECHOED_FIELD = /^[>\s]*([A-Za-z][A-Za-z0-9-]{1,40})\s*:/;
// A line that may be a header field (cheap first test).
const MAYBE_FIELD = /^[>\s]*[A-Za-z][A-Za-z0-9-]{1,40}\s*:/m;

/** A text without the lines that are message header fields or echoes of them (see {@link isMessageHeaderLine}). */
export function withoutHeaderLines(text: string): string {
  if (!MAYBE_FIELD.test(text)) return text;
  const lines = splitLines(text);
  let dropped = false;
  const kept: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (isMessageHeaderLine(lines[i]!)) {
      dropped = true;
      // Its folded continuation lines go with it.
      while (i + 1 < lines.length && /^[ \t]+\S/.test(lines[i + 1]!) && !/^[ \t]*[A-Za-z][A-Za-z0-9-]{1,40}\s*:/.test(lines[i + 1]!)) i++;
      continue;
    }
    kept.push(lines[i]!);
  }
  return dropped ? kept.join('\n') : text;
}

// Lines that echo header fields (of the sender's message, or the report's own): their addresses
// are no recipients.
const ECHO_LINE = /^\s*>?\s*(?:message-id|in-reply-to|references|received|return-path|from|sender|reply-to|date|subject|cc|bcc|x-[\w-]+|dkim-[\w-]+|authentication-results|arc-[\w-]+)\s*:/i;
// More addresses than this in a text are a list of something else, not the recipients of one report.
const MAX_MENTIONED = 3;

/**
 * The addresses a report's explanation mentions anywhere (in a sentence, in any language: "Votre
 * message à l'adresse x@y n'a pas pu être délivré"), without the sender's and the mail
 * system's own and without echoed header lines; none when there are more than a few.
 */
export function mentionedAddresses(explanation: string, exclude: ReadonlySet<string>): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const lines = splitLines(explanation, 400);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (!line.includes('@') || line.length > 2000 || ECHO_LINE.test(line)) continue;
    for (const found of findAddresses(line)) {
      // "not accepting mail from x@y", "a message from x@y": the sender, not a recipient.
      const before = line.slice(Math.max(0, line.indexOf(found) - 24), line.indexOf(found));
      if (/\b(?:mail|messages?|e-?mail|sent|sender|accepting)\s+from\s*[:<"'(]*$/i.test(before) || /^\s*from\s*[:<"'(]*$/i.test(before)) continue;
      const address = cleanAddress(found);
      const key = address.toLowerCase();
      if (seen.has(key) || exclude.has(key) || ROLE_ADDRESS.test(address)) continue;
      // A Message-ID's left part ("20250401.1024@host") is digits and dots, not a mailbox.
      if (/^[\d.$%-]+@/.test(address)) continue;
      seen.add(key);
      out.push(address);
    }
  }
  return out.length <= MAX_MENTIONED ? out : [];
}

// A heading that introduces a list of recipients ("Your mail to the following recipients could
// not be delivered because …:", "did not reach the following recipient(s):").
const LIST_HEADING = /\b(?:following|these|the) (?:recipients?|addresses|address\(es\)|recipient\(s\)|users?)\b[^\n]*:[ \t]*$/i;
// A line holding nothing but a local part (a user name without its domain), perhaps with the
// reason in parentheses (GroupWise: "\tsuzuki (user not found)").
const BARE_LOCAL_PART = /^[ \t]+([A-Za-z0-9][A-Za-z0-9._+-]{0,63})[ \t]*(?:\(([^()\n]{1,120})\))?[ \t]*$/;

/**
 * User names listed without a domain under a recipients heading (AOL and IMail write
 * "Your mail to the following recipients could not be delivered …:" and then only the name);
 * each comes with the heading sentence, which states why.
 */
export function bareLocalPartsIn(explanation: string): { local: string; diagnostic: string }[] {
  const lines = splitLines(explanation, 400);
  const out: { local: string; diagnostic: string }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const heading = lines[i]!;
    if (heading.length > 400 || !LIST_HEADING.test(heading)) continue;
    // A heading wrapped over two lines: its first half is the line above.
    const sentence = [i > 0 && lines[i - 1]!.trim() && !/[.:]\s*$/.test(lines[i - 1]!) ? lines[i - 1]!.trim() : '', heading.trim()].filter(Boolean).join(' ');
    for (let j = i + 1; j < lines.length && j <= i + 20; j++) {
      const m = BARE_LOCAL_PART.exec(lines[j]!);
      if (!m) break;
      out.push({ local: m[1]!, diagnostic: [sentence, m[2] ?? ''].join(' ').trim() });
    }
    if (out.length) break;
  }
  return out;
}

/** Addresses in a header value (To, X-Failed-Recipients), cleaned. */
export function addressesIn(value: string | undefined): string[] {
  return value ? findAddresses(value).map(cleanAddress) : [];
}
