/**
 * The entry points the CLI, the local loop and the bounce Lambda call: raw bytes (or pasted
 * text) in, a `BounceAnalysis` out. Never throws, never loses a message: any byte string gives a
 * result. Reading a report goes in three steps, each in its own module: where things are
 * (report.ts), which recipients (recipients.ts), and the verdict for each (evidence.ts).
 */
import type { CanaryRecipientLookup, MessageParser } from '../ports.ts';
import type { BouncedRecipient } from '../results.ts';
import { canaryIdOfMessage } from './canary.ts';
import { reportEvidence, weighEvidence } from './evidence.ts';
import { addressOfTyped, cleanAddress, parseFieldBlocks, valueOf, valuesOf } from './fields.ts';
import { headerlessEnvelope, looksHeaderless } from './headerless.ts';
import { headerValue, type ParsedMessage } from './message.ts';
import { dsnRecipients, draft, textRecipients, unique, type Draft } from './recipients.ts';
import { isChallenge, readReceipt } from './receipts.ts';
import { locateReport, NOT_BOUNCE_KINDS, type BounceKind, type Report } from './report.ts';
import { addressesIn } from './scrape.ts';
import { readSesNotification } from './ses.ts';
import { AUTO_REPLY_SUBJECTS, FEEDBACK_SUBJECTS, LIST_MANAGER_NOTICES, UNSUBSCRIBE_SUBJECTS } from './tables.ts';

export type { BounceKind } from './report.ts';

/** Messages larger than this are cut (at a line end) and parsed from their first part. */
export const MAX_MESSAGE_BYTES = 10 * 1024 * 1024;

/** The result of reading one message. */
export interface BounceAnalysis {
  /**
   * True when the message reports on mail sent earlier: a failure or delay, a delivery, a
   * complaint, an automatic reply. False for `none`, a read receipt (`receipt`) and a
   * challenge-response request (`challenge`).
   */
  readonly isBounce: boolean;
  readonly kind: BounceKind;
  /** One entry per recipient the report is about. */
  readonly recipients: readonly BouncedRecipient[];
  /** The canary the report is about, from VERP, X-Mail-Health-Canary or Message-ID; null when none. */
  readonly canaryId: string | null;
  /** When the message is itself a delivered canary (not a report): its id. */
  readonly deliveredCanaryId: string | null;
  /** For `feedback`: the ARF Feedback-Type (`abuse`, `auth-failure`, …). */
  readonly feedbackType: string | null;
  /** The message was larger than the cap and only its first part was read. */
  readonly truncated: boolean;
  /** What was worked around on the way (parser fallbacks, no recipient found, …). */
  readonly notes: readonly string[];
}

/** Dependencies of {@link analyzeBounce}. */
export interface AnalyzeDeps {
  readonly parse: MessageParser;
  /** Size cap in bytes (default {@link MAX_MESSAGE_BYTES}). */
  readonly maxBytes?: number;
  /**
   * The recipients of a canary by its id (the local state, the Lambdas' table): names the
   * recipient of a report that names none. Optional; without it other sources are tried.
   */
  readonly canaryRecipients?: CanaryRecipientLookup;
}

/**
 * Reads one message: is it a bounce, about which recipients, why, and which canary. A text
 * without headers (the body of a notice, as a mail program shows it) is read like the
 * explanation part of a report.
 * @example
 * const analysis = await analyzeBounce(bytes, { parse: createMailParser() });
 * for (const r of analysis.recipients) console.log(r.recipient, r.reason, r.status);
 */
export async function analyzeBounce(raw: Uint8Array, deps: AnalyzeDeps): Promise<BounceAnalysis> {
  return analyze(raw, deps, false);
}

/**
 * Reads a notice someone pasted (what their mail program showed: often the body alone, without
 * headers, sometimes with them) as a delivery report: the same reading as {@link analyzeBounce},
 * except that the text counts as a report even without a report's headers. What `mailhealth
 * bounce -` feeds its standard input to.
 * @example
 * const analysis = await analyzeBounceText('Your message to hana@example.jp could not be delivered.\nMailbox full', { parse });
 * analysis.recipients[0]?.reason // 'mailboxfull'
 */
export async function analyzeBounceText(text: string | Uint8Array, deps: AnalyzeDeps): Promise<BounceAnalysis> {
  return analyze(typeof text === 'string' ? new TextEncoder().encode(text) : text, deps, true);
}

async function analyze(raw: Uint8Array, deps: AnalyzeDeps, pasted: boolean): Promise<BounceAnalysis> {
  const cap = deps.maxBytes ?? MAX_MESSAGE_BYTES;
  let bytes = raw;
  let truncated = false;
  if (raw.byteLength > cap) {
    // Cut at the last line end before the cap: reports put their explanation and DSN first.
    let end = cap;
    for (let i = cap - 1; i > cap - 65536 && i > 0; i--) {
      if (raw[i] === 0x0a) {
        end = i + 1;
        break;
      }
    }
    bytes = raw.subarray(0, end);
    truncated = true;
  }
  const notes: string[] = [];
  // A text without headers gets the envelope of a message (its MIME structure, if the body
  // shows one) so the parser can undo transfer encodings and charsets as usual.
  const headerless = looksHeaderless(bytes);
  if (headerless) {
    bytes = headerlessEnvelope(bytes);
    notes.push('no headers: read as the text of a notice');
  }
  let message: ParsedMessage;
  try {
    message = await deps.parse(bytes);
  } catch (err) {
    notes.push(`parser failed (${err instanceof Error ? err.message : String(err)}); read as plain text`);
    message = plainTextMessage(bytes);
  }
  const options = { headerless: headerless || pasted };
  let analysis = safeRead(message, options, notes);
  // The report names nobody: the canary's own record says whom it was sent to.
  const needsRecipient = analysis.kind === 'bounce' && (analysis.recipients.length === 0 || analysis.recipients.every((r) => r.recipientInferred));
  if (needsRecipient && analysis.canaryId && deps.canaryRecipients) {
    let list: readonly string[] | null = null;
    try {
      list = await deps.canaryRecipients(analysis.canaryId);
    } catch (err) {
      notes.push(`canary record lookup failed (${err instanceof Error ? err.message : String(err)})`);
    }
    if (list?.length) analysis = safeRead(message, { ...options, canaryRecipients: list }, notes);
  }
  if (truncated) notes.push(`message larger than ${cap} bytes: read the first part only`);
  return { ...analysis, truncated, notes: [...message.notes, ...notes, ...analysis.notes] };
}

function safeRead(message: ParsedMessage, options: ReadOptions, notes: string[]): BounceAnalysis {
  try {
    return readBounce(message, options);
  } catch (err) {
    // A bug must not lose the message: report what is known and say why.
    notes.push(`classifier error: ${err instanceof Error ? err.message : String(err)}`);
    return emptyAnalysis(message, []);
  }
}

function plainTextMessage(bytes: Uint8Array): ParsedMessage {
  const text = new TextDecoder('utf-8').decode(bytes);
  return { headers: [], contentType: 'text/plain', contentTypeParams: {}, parts: [{ type: 'text/plain', text }], parser: 'none', notes: [] };
}

function emptyAnalysis(message: ParsedMessage, notes: readonly string[]): BounceAnalysis {
  return {
    isBounce: false,
    kind: 'none',
    recipients: [],
    canaryId: null,
    deliveredCanaryId: canaryIdOfMessage(message.headers),
    feedbackType: null,
    truncated: false,
    notes,
  };
}

/** Options of {@link readBounce}. */
export interface ReadOptions {
  /** The text has no headers (or was pasted): it is a report whatever signs of one it lacks. */
  readonly headerless?: boolean;
  /** The recipients of the canary the report is about (its record), for a report that names none. */
  readonly canaryRecipients?: readonly string[] | null;
}

/**
 * The classifier proper, on an already parsed message (pure and synchronous): where the
 * report's parts are, then which recipients it is about, then the verdict for each.
 * @example readBounce(parsedMessage).recipients[0]?.reason // 'mailboxfull'
 */
export function readBounce(message: ParsedMessage, options: ReadOptions = {}): BounceAnalysis {
  // 1. Where things are: the report's parts, its explanation, the returned original.
  const report = locateReport(message, options.headerless ?? false);
  const result = (kind: BounceKind, drafts: readonly Draft[], extra: Partial<BounceAnalysis> = {}): BounceAnalysis => {
    // 3. The verdict for each recipient.
    const evidence = reportEvidence(report);
    return {
      isBounce: !NOT_BOUNCE_KINDS.has(kind),
      kind,
      recipients: drafts.map((d) => weighEvidence(d, drafts, evidence)),
      canaryId: kind === 'none' ? null : report.canaryId,
      deliveredCanaryId: null,
      feedbackType: null,
      truncated: false,
      notes: [],
      ...extra,
    };
  };
  // Reports of other kinds than a delivery failure (complaints, SES notifications, list managers).
  const other = otherReport(report);
  if (other) return result(other.kind, other.drafts, { feedbackType: other.feedbackType ?? null, notes: other.notes ?? [] });
  // Read receipts (a deleted or failed one is a bounce) and challenge-response requests.
  const receipt = readReceipt(report);
  if (receipt) return receipt.kind === 'receipt' ? result('receipt', [], { notes: ['a read receipt (disposition notification), not a bounce'] }) : result('bounce', receipt.drafts);
  if (isChallenge(report)) return result('challenge', [], { notes: ['a challenge-response request (the message is held until the sender confirms), not a bounce'] });

  // 2. The recipients: an RFC 3464 report's fields; else an automatic reply's sender; else what
  // the explanation names, or what can be inferred.
  const dsn = dsnRecipients(report);
  if (dsn) return result(dsn.kind, dsn.drafts, { notes: dsn.notes });
  if (isVacation(report)) {
    const who = addressesIn(report.from)[0] ?? addressesIn(headerValue(message, 'reply-to'))[0];
    return result('vacation', who ? [draft(who, { reason: 'vacation' })] : []);
  }
  const text = textRecipients(report, options.canaryRecipients ?? null);
  if (text) return result(text.kind, text.drafts, { notes: text.notes });
  return { ...result('none', []), deliveredCanaryId: canaryIdOfMessage(message.headers) };
}

interface OtherReport {
  readonly kind: BounceKind;
  readonly drafts: Draft[];
  readonly feedbackType?: string | null;
  readonly notes?: readonly string[];
}

/** Complaints (ARF, or complaint mail attaching the message), opt-outs, SES notifications, list managers' refusals. */
function otherReport(report: Report): OtherReport | null {
  const { message, subject, head } = report;
  // ARF complaint reports (and complaint mail that only attaches the message).
  const isArf = message.contentTypeParams['report-type']?.toLowerCase() === 'feedback-report' || report.feedbackParts.length > 0;
  if (isArf || (FEEDBACK_SUBJECTS.test(subject.trim()) && report.attachesOriginal)) {
    const fields = parseFieldBlocks(report.feedbackParts.join('\n\n')).flat();
    const rcpts = [...valuesOf(fields, 'original-rcpt-to'), ...valuesOf(fields, 'removal-recipient')].map((v) => addressOfTyped(v) ?? cleanAddress(v));
    const fallback = addressesIn(valueOf(report.originalHeaders, 'to'));
    const list = unique(rcpts.length ? rcpts : fallback);
    const feedbackType = valueOf(fields, 'feedback-type')?.toLowerCase() ?? (isArf ? null : 'abuse');
    return { kind: 'feedback', drafts: list.map((r) => draft(r, { reason: 'feedback' })), feedbackType, notes: list.length ? [] : ['feedback report names no recipient'] };
  }
  // An opt-out request a mail client sent for its user ("unsubscribe" by mail).
  if (UNSUBSCRIBE_SUBJECTS.test(subject.trim()) && isAutoReply(message, '')) {
    const who = addressesIn(report.from)[0];
    return { kind: 'feedback', drafts: who ? [draft(who, { reason: 'feedback' })] : [], feedbackType: 'opt-out' };
  }
  // Amazon SES notifications delivered by mail (SNS e-mail subscriptions).
  const ses = readSesNotification(report.explanation);
  if (ses) return ses;
  // A mailing-list manager refusing a post (not a member, a loop): the list is the recipient.
  if (headerValue(message, 'x-mlserver') !== undefined) {
    for (const notice of LIST_MANAGER_NOTICES) {
      const m = notice.pattern.exec(head);
      if (m) return { kind: 'bounce', drafts: [draft(cleanAddress(m[1]!), { reason: notice.reason, diagnostic: m[0] })] };
    }
  }
  return null;
}

/** An automatic reply, and not a delivery report that happens to look like one. */
function isVacation(report: Report): boolean {
  const { message } = report;
  return isAutoReply(message, report.subject) && !report.bounceSender && !report.bounceSubject && !report.headerless && message.contentType !== 'multipart/report';
}

function isAutoReply(message: ParsedMessage, subject: string): boolean {
  const auto = headerValue(message, 'auto-submitted')?.toLowerCase() ?? '';
  if (auto.startsWith('auto-replied')) return true;
  if (headerValue(message, 'x-autoreply') !== undefined || headerValue(message, 'x-autorespond') !== undefined) return true;
  const precedence = headerValue(message, 'precedence')?.toLowerCase() ?? '';
  if (precedence === 'auto_reply') return true;
  return AUTO_REPLY_SUBJECTS.test(subject.trim());
}

