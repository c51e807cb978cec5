/**
 * Step 1 of reading a bounce: where things are. Splits a parsed message into what a report is
 * made of (RFC 3464 fields, the explanation written for people, the returned original) and the
 * signs that it is a report at all, before any recipient or reason is looked for.
 */
import { canaryIdFromEnvelope, canaryIdFromText, canaryIdFromTexts } from './canary.ts';
import { parseHeaderFields, valueOf, type Field } from './fields.ts';
import { headerValue, type MessageHeader, type ParsedMessage } from './message.ts';
import { addressesIn, globalDiagnostic, isHeaderBlock, splitAtOriginal, withoutHeaderLines } from './scrape.ts';
import { BOUNCE_SENDERS, BOUNCE_SUBJECTS } from './tables.ts';

// How much explanation text the phrase tables and the SMTP-stage search read: a bounce explains
// itself at the top; reading megabytes of it only costs time.
export const MAX_EXPLANATION_CHARS = 20_000;

/**
 * What a message is:
 * - `bounce`: a failure or delay report (DSN or any MTA's own format);
 * - `delivered`: a DSN reporting successful delivery;
 * - `feedback`: an ARF complaint report;
 * - `vacation`: an automatic reply;
 * - `receipt`: a read receipt (RFC 8098 disposition notification) saying the message arrived
 *   ("displayed", "dispatched", "processed"): not a bounce;
 * - `challenge`: a challenge-response request holding the message until the sender confirms
 *   being a person: not a bounce;
 * - `none`: not a report at all (e.g. a delivered canary).
 * A receipt that says the message was deleted unread or failed is a `bounce`.
 */
export type BounceKind = 'bounce' | 'delivered' | 'feedback' | 'vacation' | 'receipt' | 'challenge' | 'none';

/** The kinds that do not report on mail sent earlier as a failure, delivery, complaint or reply. */
export const NOT_BOUNCE_KINDS: ReadonlySet<BounceKind> = new Set<BounceKind>(['none', 'receipt', 'challenge']);

/** A message laid out as a report. */
export interface Report {
  readonly message: ParsedMessage;
  readonly subject: string;
  readonly from: string;
  /** `message/delivery-status` parts (RFC 3464 field blocks). */
  readonly dsnParts: readonly string[];
  /** `message/feedback-report` parts (RFC 5965). */
  readonly feedbackParts: readonly string[];
  /** `message/disposition-notification` parts (RFC 8098 read receipts). */
  readonly mdnParts: readonly string[];
  /** The text written for people, without the returned original. */
  readonly explanation: string;
  /** The start of the explanation, where phrase tables look (at most MAX_EXPLANATION_CHARS). */
  readonly head: string;
  /** The returned original (an attached message, or the text after a "copy of the message" line). */
  readonly original: string;
  readonly originalHeaders: readonly Field[];
  /** The message carries its original as a part (not only as text after a marker line). */
  readonly attachesOriginal: boolean;
  /** The explanation is followed by a returned original. */
  readonly carriesOriginal: boolean;
  /** Addresses that are not recipients: the report's own From/To, the original's sender. */
  readonly exclude: ReadonlySet<string>;
  /** The canary the report is about (VERP, X-Mail-Health-Canary, Message-ID), or null. */
  readonly canaryId: string | null;
  /** The text has no headers (pasted from a mail program): it is read as a report whatever signs it lacks. */
  readonly headerless: boolean;
  /** The From header is a mail system's (MAILER-DAEMON, postmaster, "Mail Delivery System"). */
  readonly bounceSender: boolean;
  /** The subject is a delivery report's, in one of the languages bounces arrive in. */
  readonly bounceSubject: boolean;
  /** The explanation's lines that read like an SMTP error or a stated reason. */
  global(): string;
  /**
   * The start of the explanation as evidence (the context of a recipient's own words): without
   * the header fields it echoes (the original's subject, date, authentication results), which
   * say nothing about the failure whatever words they hold.
   */
  context(): string;
}

/**
 * Lays a parsed message out as a report.
 * @example locateReport(parsed, false).dsnParts.length // 1 for an RFC 3464 DSN
 */
export function locateReport(message: ParsedMessage, headerless: boolean): Report {
  const subject = headerValue(message, 'subject') ?? '';
  const from = headerValue(message, 'from') ?? '';
  const textParts: string[] = [];
  const dsnParts: string[] = [];
  const feedbackParts: string[] = [];
  const mdnParts: string[] = [];
  const originals: string[] = [];
  for (const part of message.parts) {
    const t = part.type;
    if (t === 'message/delivery-status' || t === 'message/global-delivery-status') dsnParts.push(part.text);
    else if (t === 'message/feedback-report') feedbackParts.push(part.text);
    else if (t === 'message/disposition-notification' || t === 'message/global-disposition-notification') mdnParts.push(part.text);
    else if (t === 'message/rfc822' || t === 'message/global' || t === 'text/rfc822-headers' || t === 'message/global-headers' || t === 'message/partial') originals.push(part.text);
    // A text part after the first that is a header block is the returned original sent as text
    // (an attachment of the original's headers): never the explanation.
    else if (t.startsWith('text/') || t.startsWith('message/')) (textParts.length && isHeaderBlock(part.text) ? originals : textParts).push(part.text);
  }
  const split = splitAtOriginal(textParts.join('\n'));
  const explanation = split.explanation;
  const head = explanation.length > MAX_EXPLANATION_CHARS ? explanation.slice(0, MAX_EXPLANATION_CHARS) : explanation;
  const original = originals[0] ?? split.original ?? '';
  const originalHeaders = parseHeaderFields(original);
  const canaryId = canaryIdFromEnvelope(message.headers) ?? canaryIdFromText(original) ?? canaryIdFromTexts([explanation, ...dsnParts, ...feedbackParts, ...mdnParts]);
  let global: string | undefined;
  let context: string | undefined;
  return {
    message,
    subject,
    from,
    dsnParts,
    feedbackParts,
    mdnParts,
    explanation,
    head,
    original,
    originalHeaders,
    attachesOriginal: originals.length > 0,
    carriesOriginal: originals.length > 0 || split.original !== null,
    exclude: excludedAddresses(message.headers, originalHeaders),
    canaryId,
    headerless,
    bounceSender: isBounceSender(from),
    bounceSubject: BOUNCE_SUBJECTS.test(subject),
    global: () => (global ??= globalDiagnostic(head)),
    context: () => (context ??= withoutHeaderLines(head)),
  };
}

function excludedAddresses(headers: readonly MessageHeader[], originalHeaders: readonly Field[]): Set<string> {
  const out = new Set<string>();
  for (let i = 0; i < headers.length; i++) {
    const h = headers[i]!;
    if (h.name === 'from' || h.name === 'to' || h.name === 'reply-to' || h.name === 'sender') for (const a of addressesIn(h.value)) out.add(a.toLowerCase());
  }
  for (const name of ['from', 'return-path', 'sender', 'reply-to']) for (const a of addressesIn(valueOf(originalHeaders, name))) out.add(a.toLowerCase());
  return out;
}

/** Whether the From header is a mail system's (MAILER-DAEMON, postmaster, "Mail Delivery System"). */
function isBounceSender(from: string): boolean {
  const addr = addressesIn(from)[0];
  const local = addr ? addr.slice(0, addr.lastIndexOf('@')) : '';
  const matches = (s: string) => s !== '' && BOUNCE_SENDERS.test(s);
  if (matches(local)) return true;
  // The display name alone, made only when the address did not settle it.
  const name = from.replace(/<[^>]*>/g, '').replace(/\S+@\S+/g, '').replace(/["()]/g, '').trim();
  return matches(name) || matches(from.trim());
}
