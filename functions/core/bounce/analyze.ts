/**
 * The one entry point the CLI, the local loop and the bounce Lambda call: raw bytes in, a
 * `BounceAnalysis` out. Never throws, never loses a message: any byte string gives a result.
 */
import type { MessageParser } from '../ports.ts';
import type { BouncedRecipient, BounceReason } from '../results.ts';
import { canaryIdFromEnvelope, canaryIdFromText, canaryIdOfMessage } from './canary.ts';
import { classifyReason, commandIn, isHard, reasonFromPhrase, replyCodeIn, serverReplyIn, statusIn } from './classify.ts';
import { addressOfTyped, cleanAddress, parseFieldBlocks, parseHeaderFields, untyped, valueOf, valuesOf, type Field } from './fields.ts';
import { headerValue, type MessageHeader, type ParsedMessage } from './message.ts';
import { addressesIn, globalDiagnostic, scrapeRecipients, splitAtOriginal, type ScrapedRecipient } from './scrape.ts';
import { AUTO_REPLY_SUBJECTS, BOUNCE_SENDERS, BOUNCE_SUBJECTS, DELAY_SUBJECTS, DELAY_TEXT, FEEDBACK_SUBJECTS, LIST_MANAGER_NOTICES, POWERMTA_CATEGORIES, REMOTE_HOST_CONVENTIONS, REPORTER_CONVENTIONS, REPORTER_VERDICTS, SES_BOUNCE_SUBTYPES, UNSUBSCRIBE_SUBJECTS, type RemoteHostConvention, type ReporterConvention, type ReporterVerdict, type SmtpCommand } from './tables.ts';

/** Messages larger than this are cut (at a line end) and parsed from their first part. */
export const MAX_MESSAGE_BYTES = 10 * 1024 * 1024;

// How much explanation text the phrase tables and the SMTP-stage search read: a bounce explains
// itself at the top; reading megabytes of it only costs time.
const MAX_EXPLANATION_CHARS = 20_000;
// A diagnostic longer than this is cut for the report (the remote reply is at its start).
const MAX_DIAGNOSTIC_CHARS = 2_000;

/**
 * What a message is:
 * - `bounce`: a failure or delay report (DSN or any MTA's own format);
 * - `delivered`: a DSN reporting successful delivery;
 * - `feedback`: an ARF complaint report;
 * - `vacation`: an automatic reply;
 * - `none`: not a report at all (e.g. a delivered canary; see `deliveredCanaryId`).
 */
export type BounceKind = 'bounce' | 'delivered' | 'feedback' | 'vacation' | 'none';

/** The result of reading one message. */
export interface BounceAnalysis {
  /** True when the message reports on mail sent earlier (every kind but `none`). */
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
}

/**
 * Reads one message: is it a bounce, about which recipients, why, and which canary.
 * @example
 * const analysis = await analyzeBounce(bytes, { parse: createMailParser() });
 * for (const r of analysis.recipients) console.log(r.recipient, r.reason, r.status);
 */
export async function analyzeBounce(raw: Uint8Array, deps: AnalyzeDeps): Promise<BounceAnalysis> {
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
  let message: ParsedMessage;
  const notes: string[] = [];
  try {
    message = await deps.parse(bytes);
  } catch (err) {
    notes.push(`parser failed (${err instanceof Error ? err.message : String(err)}); read as plain text`);
    message = plainTextMessage(bytes);
  }
  let analysis: BounceAnalysis;
  try {
    analysis = readBounce(message);
  } catch (err) {
    // A bug must not lose the message: report what is known and say why.
    notes.push(`classifier error: ${err instanceof Error ? err.message : String(err)}`);
    analysis = emptyAnalysis(message, notes);
  }
  if (truncated) notes.push(`message larger than ${cap} bytes: read the first part only`);
  return { ...analysis, truncated, notes: [...message.notes, ...notes, ...analysis.notes] };
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

interface Draft {
  recipient: string;
  diagnostic: string | null;
  status: string | null;
  replyCode: number | null;
  action: string | null;
  remoteMta: string | null;
  /** The recipient's own lines in the explanation text. */
  own?: string;
  command?: SmtpCommand | null;
  /** Delivery went to a local program (pipe) rather than a mailbox. */
  program?: boolean;
  reason?: BounceReason;
  /** The reporting MTA's own category of the failure (e.g. PowerMTA's), when it names a reason. */
  vendorReason?: BounceReason;
}

/**
 * The classifier proper, on an already parsed message (pure and synchronous).
 * @example readBounce(parsedMessage).recipients[0]?.reason // 'mailboxfull'
 */
export function readBounce(message: ParsedMessage): BounceAnalysis {
  const notes: string[] = [];
  const headers = message.headers;
  const subject = headerValue(message, 'subject') ?? '';
  const from = headerValue(message, 'from') ?? '';

  const textParts: string[] = [];
  const dsnParts: string[] = [];
  const feedbackParts: string[] = [];
  const originals: string[] = [];
  for (const part of message.parts) {
    const t = part.type;
    if (t === 'message/delivery-status' || t === 'message/global-delivery-status') dsnParts.push(part.text);
    else if (t === 'message/feedback-report') feedbackParts.push(part.text);
    else if (t === 'message/rfc822' || t === 'message/global' || t === 'text/rfc822-headers' || t === 'message/global-headers' || t === 'message/partial') originals.push(part.text);
    else if (t.startsWith('text/') || t.startsWith('message/')) textParts.push(part.text);
  }
  const split = splitAtOriginal(textParts.join('\n'));
  const explanation = split.explanation;
  const head = explanation.length > MAX_EXPLANATION_CHARS ? explanation.slice(0, MAX_EXPLANATION_CHARS) : explanation;
  const original = originals[0] ?? split.original ?? '';
  const originalHeaders = parseHeaderFields(original);
  // Recognizing the reporter costs a few regex scans: only done when a reason it could rewrite came up.
  let known: ReporterConvention[] | undefined;
  const conventions = (): readonly ReporterConvention[] => (known ??= reporterConventions(headers, dsnParts, explanation));
  const verdict = REPORTER_VERDICTS.find((v) => v.pattern.test(head.length > 4000 ? head.slice(0, 4000) : head));
  // A gateway that bounces an earlier report (InterScan returning a Sendmail notice) may name the
  // recipient without a cause; the returned report's own failure line for that recipient has it.
  let innerFailures: readonly ScrapedRecipient[] | undefined;
  const innerFailure = (recipient: string): string | undefined => {
    innerFailures ??= original ? scrapeRecipients(splitAtOriginal(original.length > MAX_EXPLANATION_CHARS ? original.slice(0, MAX_EXPLANATION_CHARS) : original).explanation, new Set()).filter((s) => /(?:^|\s)[45]\d\d[\s-]/.test(s.diagnostic)) : [];
    return innerFailures.find((s) => s.recipient.toLowerCase() === recipient.toLowerCase())?.diagnostic;
  };
  const canaryId = canaryIdFromEnvelope(headers) ?? canaryIdFromText(original) ?? canaryIdFromText([explanation, ...dsnParts, ...feedbackParts].join('\n'));

  const result = (kind: BounceKind, drafts: Draft[], extra: Partial<BounceAnalysis> = {}): BounceAnalysis => ({
    isBounce: kind !== 'none',
    kind,
    recipients: drafts.map((d) => finish(d, head, drafts.length, canaryId, { conventions, verdict, innerFailure })),
    canaryId: kind === 'none' ? null : canaryId,
    deliveredCanaryId: null,
    feedbackType: null,
    truncated: false,
    notes,
    ...extra,
  });

  // ARF complaint reports (and complaint mail that only attaches the message).
  const isArf = message.contentTypeParams['report-type']?.toLowerCase() === 'feedback-report' || feedbackParts.length > 0;
  if (isArf || (FEEDBACK_SUBJECTS.test(subject.trim()) && originals.length > 0)) {
    const fields = parseFieldBlocks(feedbackParts.join('\n\n')).flat();
    const rcpts = [...valuesOf(fields, 'original-rcpt-to'), ...valuesOf(fields, 'removal-recipient')].map((v) => addressOfTyped(v) ?? cleanAddress(v));
    const fallback = addressesIn(valueOf(originalHeaders, 'to'));
    const list = unique(rcpts.length ? rcpts : fallback);
    if (!list.length) notes.push('feedback report names no recipient');
    const feedbackType = valueOf(fields, 'feedback-type')?.toLowerCase() ?? (isArf ? null : 'abuse');
    return result('feedback', list.map((r) => draft(r, { reason: 'feedback' })), { feedbackType });
  }

  // An opt-out request a mail client sent for its user ("unsubscribe" by mail).
  if (UNSUBSCRIBE_SUBJECTS.test(subject.trim()) && isAutoReply(message, '')) {
    const who = addressesIn(from)[0];
    return result('feedback', who ? [draft(who, { reason: 'feedback' })] : [], { feedbackType: 'opt-out' });
  }

  // Amazon SES notifications delivered by mail (SNS e-mail subscriptions).
  const ses = readSesNotification(explanation);
  if (ses) return result(ses.kind, ses.drafts, { feedbackType: ses.feedbackType });

  // A mailing-list manager refusing a post (not a member, a loop): the list is the recipient.
  if (headerValue(message, 'x-mlserver') !== undefined) {
    for (const notice of LIST_MANAGER_NOTICES) {
      const m = notice.pattern.exec(head);
      if (m) return result('bounce', [draft(cleanAddress(m[1]!), { reason: notice.reason, diagnostic: m[0] })]);
    }
  }

  const exclude = excludedAddresses(headers, originalHeaders);
  const global = globalDiagnostic(head);

  // RFC 3464 delivery status notifications (also when a broken MIME structure left the fields in the text).
  let dsnText = dsnParts.join('\n\n');
  if (!dsnText && /^(?:final|original)-recipient\s*:/im.test(explanation)) dsnText = explanation;
  if (dsnText) {
    const drafts = readDsn(dsnText);
    if (drafts.length) {
      enrich(drafts, scrapeRecipients(explanation, exclude), global, head);
      const delivered = drafts.every((d) => /^(?:delivered|deliverable|relayed|expanded)/i.test(d.action ?? ''));
      return result(delivered ? 'delivered' : 'bounce', drafts);
    }
  }

  const bounceSender = isBounceSender(from);
  const bounceSubject = BOUNCE_SUBJECTS.test(subject);
  const autoReply = isAutoReply(message, subject);
  if (autoReply && !bounceSender && !bounceSubject && message.contentType !== 'multipart/report') {
    const who = addressesIn(from)[0] ?? addressesIn(headerValue(message, 'reply-to'))[0];
    return result('vacation', who ? [draft(who, { reason: 'vacation' })] : []);
  }

  const reportSigns = bounceSender || bounceSubject || headerValue(message, 'x-failed-recipients') !== undefined || message.contentType === 'multipart/report';
  // A message that only carries another message (a forward, a carrier's notice from a
  // no-reply address) counts as a bounce when the text around it states a failure.
  const carriesOriginal = originals.length > 0 || split.original !== null;
  if (reportSigns || carriesOriginal) {
    const stated = (text: string) => /(?:^|\s)[45]\d\d[\s-]|[45]\.\d{1,3}\.\d{1,3}/.test(text) || reasonFromPhrase(text) !== undefined;
    const scraped = scrapeRecipients(explanation, exclude).filter((s) => reportSigns || stated(s.diagnostic));
    // What the text names wins; X-Failed-Recipients (Exim, Gmail) fills in when the text only
    // names the sender (a greeting) or nothing.
    const failed = addressesIn(headerValue(message, 'x-failed-recipients'));
    const named = scraped.some((s) => !s.excluded);
    let drafts =
      !named && failed.length
        ? unique(failed).map((r) => draft(r, { own: scraped.find((s) => s.recipient.toLowerCase() === r.toLowerCase())?.diagnostic }))
        : scraped.map((s) => draft(s.recipient, { own: s.diagnostic }));
    if (!drafts.length && /^(?:final|original)-recipient\s*:/im.test(original)) {
      // A bounce of a bounce: the returned "original" is itself the report.
      drafts = readDsn(original);
      if (drafts.length) notes.push('recipients from the report returned inside this one');
    }
    if (!drafts.length && reportSigns) {
      drafts = unique(addressesIn(valueOf(originalHeaders, 'to'))).map((r) => draft(r, {}));
      if (drafts.length) notes.push('recipients from the returned original');
    }
    if (drafts.length || bounceSender || bounceSubject) {
      // A warning that delivery is still being retried is a delay, not a failure.
      if (DELAY_SUBJECTS.test(subject) || DELAY_TEXT.test(head)) for (const d of drafts) d.action ??= 'delayed';
      enrich(drafts, [], global, head);
      if (!drafts.length) notes.push('looks like a bounce but names no recipient');
      return result('bounce', drafts);
    }
  }

  return { ...result('none', []), deliveredCanaryId: canaryIdOfMessage(headers) };
}

/** Gives each draft its diagnostic (DSN field, own lines, or the text's error lines), codes and command. */
function enrich(drafts: Draft[], scraped: readonly { recipient: string; diagnostic: string }[], global: string, explanation: string): void {
  const single = drafts.length === 1;
  for (const d of drafts) {
    const mine = scraped.find((s) => s.recipient.toLowerCase() === d.recipient.toLowerCase());
    if (mine) d.own = mine.diagnostic;
    else if (single && scraped.length === 1) d.own = scraped[0]!.diagnostic;
    // A multi-line reply the DSN cut after its first line ("552-5.7.0 …") is whole in the text.
    if (d.diagnostic && /^[245]\d\d-/.test(d.diagnostic) && global.includes(d.diagnostic.slice(0, 40))) d.diagnostic = global;
    d.diagnostic = pickDiagnostic(d.diagnostic, d.own ?? '', single ? global : '');
    // Prose bounces (Domino, BIGLOBE) put the reason on a line of its own: show that line.
    if (!d.diagnostic && single) d.diagnostic = reasonLine(explanation);
    if (d.diagnostic && d.diagnostic.length > MAX_DIAGNOSTIC_CHARS) d.diagnostic = d.diagnostic.slice(0, MAX_DIAGNOSTIC_CHARS);
    if (d.own && d.own.length > MAX_DIAGNOSTIC_CHARS) d.own = d.own.slice(0, MAX_DIAGNOSTIC_CHARS);
    refineCodes(d);
    d.command = commandIn([d.own ?? '', d.diagnostic ?? ''].join('\n')) ?? (single ? commandIn(explanation) : commandIn(linesNaming(explanation, d.recipient)));
    if (/(?:^|\s)pipe to \|/i.test(d.own ?? '') || (single && /^\s*pipe to \|/im.test(explanation))) d.program = true;
  }
}

// The lines of a text that name an address ("SMTP error … after RCPT TO:<addr>:"), for the stage of that recipient's refusal.
function linesNaming(text: string, address: string): string {
  const needle = address.toLowerCase();
  if (!needle || !text.toLowerCase().includes(needle)) return '';
  return text
    .split(/\r?\n/)
    .filter((l) => l.toLowerCase().includes(needle))
    .join('\n');
}

function draft(recipient: string, init: Partial<Draft>): Draft {
  return { recipient, diagnostic: null, status: null, replyCode: null, action: null, remoteMta: null, ...init };
}

function unique(list: readonly string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const a of list) {
    const k = a.toLowerCase();
    if (!a || seen.has(k)) continue;
    seen.add(k);
    out.push(a);
  }
  return out;
}

/** RFC 3464 per-recipient blocks → drafts. Tolerates fields in one block and missing types. */
function readDsn(text: string): Draft[] {
  const groups: Field[][] = [];
  const messageFields: Field[] = [];
  const isRecipientField = (f: Field) => f.name === 'final-recipient' || f.name === 'original-recipient';
  for (const block of parseFieldBlocks(text)) {
    if (!block.some(isRecipientField)) {
      messageFields.push(...block);
      continue;
    }
    const leading: Field[] = [];
    const mine: Field[][] = [];
    let current: Field[] | null = null;
    for (const f of block) {
      if (isRecipientField(f)) {
        const repeated = current?.some((g) => g.name === f.name);
        if (!current || repeated) {
          current = [];
          mine.push(current);
        }
      }
      (current ?? leading).push(f);
    }
    // Per-recipient fields written before the recipient field (seen in the wild) belong to it.
    if (mine[0]) mine[0].push(...leading);
    groups.push(...mine);
  }
  const drafts: Draft[] = [];
  for (const g of groups) {
    const recipient = addressOfTyped(valueOf(g, 'final-recipient') ?? '') ?? addressOfTyped(valueOf(g, 'original-recipient') ?? '');
    if (!recipient) continue;
    const diag = valueOf(g, 'diagnostic-code');
    const remote = valueOf(g, 'remote-mta');
    // Delivery to a program ("|/usr/bin/procmail …") failed: that is the local mailer's error.
    const program = [valueOf(g, 'final-recipient'), valueOf(g, 'x-actual-recipient')].some((v) => v !== undefined && /^\s*(?:[a-z0-9-]+\s*;\s*)?"?\|/i.test(v));
    const category = valueOf(g, 'x-powermta-bouncecategory')?.trim().toLowerCase();
    const vendorReason = category && Object.hasOwn(POWERMTA_CATEGORIES, category) ? POWERMTA_CATEGORIES[category] : undefined;
    drafts.push({
      ...(program ? { reason: 'mailererror' as const } : {}),
      ...(vendorReason ? { vendorReason } : {}),
      program: program || (diag !== undefined && /^\s*x-unix\s*;/i.test(diag)),
      recipient,
      diagnostic: diag ? untyped(diag) : null,
      status: statusIn(valueOf(g, 'status')),
      replyCode: null,
      action: valueOf(g, 'action')?.toLowerCase() ?? null,
      remoteMta: remote ? untyped(remote) : null,
    });
  }
  // A report with one recipient and its status in the per-message block.
  if (drafts.length === 1 && !drafts[0]!.status) drafts[0]!.status = statusIn(valueOf(messageFields, 'status'));
  return dedupeDrafts(drafts);
}

function dedupeDrafts(drafts: Draft[]): Draft[] {
  const seen = new Map<string, Draft>();
  for (const d of drafts) {
    const k = d.recipient.toLowerCase();
    const prev = seen.get(k);
    if (!prev) seen.set(k, d);
    else if (!prev.diagnostic && d.diagnostic) seen.set(k, { ...d });
  }
  return [...seen.values()];
}

/** The first line of a text that states a reason the phrase tables know, or null. */
function reasonLine(text: string): string | null {
  const lines = text.split(/\r?\n/, 200);
  for (const line of lines) {
    const t = line.trim();
    if (t && t.length <= 500 && reasonFromPhrase(t)) return t;
  }
  // Lotus Notes/Domino write the reason, in the server's language, on the line under this heading.
  const notes = /^-+ *failure reasons? *-+[ \t]*(?:\r?\n[ \t]*)+(\S[^\r\n]{0,300})/im.exec(text);
  return notes ? notes[1]!.trim() : null;
}

/** The DSN's diagnostic, or the recipient's own lines of the text, or the text's error lines. */
function pickDiagnostic(dsn: string | null, own: string, global: string): string | null {
  const candidates = [dsn, own, global].map((s) => (s ?? '').replace(/\s+/g, ' ').trim());
  const informative = (s: string) => s && (/[245]\d\d|[245]\.\d+\.\d+/.test(s) || s.length > 12);
  const first = candidates.find((s) => informative(s)) ?? candidates.find((s) => s) ?? '';
  // A bare DSN diagnostic gains from the text's fuller sentence when it is only a code.
  if (first && first === candidates[0] && candidates[1] && !candidates[1].includes(first) && first.length < 24) return `${first} ${candidates[1]}`;
  return first || null;
}

function refineCodes(d: Draft): void {
  const inDiag = statusIn(serverReplyIn(d.diagnostic) ?? d.diagnostic) ?? statusIn(d.diagnostic);
  // The remote server's own code is more precise than the reporting MTA's summary in Status:
  // it wins unless it is vaguer (X.0.0) or of another class.
  if (!d.status || (inDiag && inDiag[0] === d.status[0] && !/^\d\.0\.0$/.test(inDiag))) d.status = inDiag ?? d.status;
  d.replyCode = replyCodeIn(d.diagnostic);
  if (!d.remoteMta && d.diagnostic) {
    const m = /\b(?:host|while talking to|from|by)\s+([A-Za-z0-9][A-Za-z0-9-]*(?:\.[A-Za-z0-9-]+)+?)\.?(?:\s*\[|:|\s|$)/.exec(d.diagnostic);
    if (m && /[A-Za-z]/.test(m[1]!)) d.remoteMta = m[1]!;
  }
}

/** The conventions of the reporter that wrote this message (recognized from its header lines and Reporting-MTA). */
function reporterConventions(headers: readonly MessageHeader[], dsnParts: readonly string[], explanation: string): ReporterConvention[] {
  const lines = headers.map((h) => `${h.name}: ${h.value}`);
  for (const part of dsnParts) {
    const m = /^reporting-mta\s*:\s*(.*)$/im.exec(part);
    if (m) lines.push(`reporting-mta: ${m[1]!.trim()}`);
  }
  lines.push(explanation.slice(0, 2000));
  const signature = lines.join('\n');
  return REPORTER_CONVENTIONS.filter((c) => c.signature.test(signature));
}

// Every reason some reporter convention rewrites.
const CONVENTION_REASONS: ReadonlySet<BounceReason> = new Set(REPORTER_CONVENTIONS.flatMap((c) => c.from));

/** What the whole report says beyond one recipient's lines, consulted while finishing each recipient. */
interface ReportContext {
  /** The reporter's conventions (recognized lazily: only when a reason they rewrite came up). */
  readonly conventions: () => readonly ReporterConvention[];
  /** The reporter's own verdict line, when it wrote one. */
  readonly verdict: ReporterVerdict | undefined;
  /** The failure line for a recipient in a report returned inside this one. */
  readonly innerFailure: (recipient: string) => string | undefined;
}

function finish(d: Draft, explanation: string, count: number, canaryId: string | null, report: ReportContext): BouncedRecipient {
  let reason: BounceReason;
  let hard = false;
  let status = d.status;
  let replyCode = d.replyCode;
  let diagnostic = d.diagnostic;
  const permanent = () => !/^4/.test(status ?? '') && !/^delayed/.test(d.action ?? '');
  if (d.reason) reason = d.reason;
  else {
    const context = [d.own ?? '', count === 1 ? explanation : ''].join('\n');
    const c = classifyReason({ diagnostic: d.diagnostic, status, replyCode, action: d.action, command: d.command ?? null, context, program: d.program ?? false });
    reason = c.reason;
    hard = c.hard;
    const convention = d.command === 'RCPT' || !CONVENTION_REASONS.has(reason) ? undefined : report.conventions().find((r) => r.from.includes(reason) && (c.basis !== 'status' || r.overStatus) && !(r.withoutStatus && (status || statusIn(context))));
    const remote = convention ? undefined : remoteHostConvention(d, reason);
    const rewritten = convention?.to ?? remote?.to;
    if (rewritten) {
      reason = rewritten;
      hard = isHard(reason, hard);
    }
    const inner = reason === 'onhold' || reason === 'undefined' ? report.innerFailure(d.recipient) : undefined;
    const innerClass = inner ? classifyReason({ diagnostic: inner, command: commandIn(inner), action: d.action }) : undefined;
    if (inner && innerClass && innerClass.reason !== 'onhold' && innerClass.reason !== 'undefined') {
      ({ reason, hard } = innerClass);
      status ??= statusIn(serverReplyIn(inner) ?? inner);
      replyCode ??= replyCodeIn(inner);
      diagnostic = inner; // the outer report's own words named no cause
    }
    // The reporter's own words, then its vendor category, know the cause better than the relayed text.
    const own = report.verdict?.reason ?? (d.vendorReason !== reason ? d.vendorReason : undefined);
    if (own) {
      reason = own;
      hard = isHard(reason, permanent());
    }
  }
  return {
    recipient: d.recipient,
    reason,
    status,
    replyCode,
    hard,
    diagnostic: diagnostic && diagnostic.length > MAX_DIAGNOSTIC_CHARS ? `${diagnostic.slice(0, MAX_DIAGNOSTIC_CHARS)}…` : diagnostic,
    remoteMta: d.remoteMta,
    canaryId,
  };
}

/** The receiving system's convention that rewrites `reason` for this recipient, if any. */
function remoteHostConvention(d: Draft, reason: BounceReason): RemoteHostConvention | undefined {
  const domain = d.recipient.slice(d.recipient.lastIndexOf('@') + 1);
  return REMOTE_HOST_CONVENTIONS.find(
    (r) =>
      r.command === (d.command ?? null) &&
      r.from.includes(reason) &&
      ((d.remoteMta !== null && r.host.test(d.remoteMta)) || (r.domain?.test(domain) ?? false)) &&
      !r.unlessStatus?.test(d.status ?? ''),
  );
}

function excludedAddresses(headers: readonly MessageHeader[], originalHeaders: readonly Field[]): Set<string> {
  const out = new Set<string>();
  for (const h of headers) if (h.name === 'from' || h.name === 'to' || h.name === 'reply-to' || h.name === 'sender') for (const a of addressesIn(h.value)) out.add(a.toLowerCase());
  for (const name of ['from', 'return-path', 'sender', 'reply-to']) for (const a of addressesIn(valueOf(originalHeaders, name))) out.add(a.toLowerCase());
  return out;
}

/** Whether the From header is a mail system's (MAILER-DAEMON, postmaster, "Mail Delivery System"). */
function isBounceSender(from: string): boolean {
  const addr = addressesIn(from)[0];
  const local = addr ? addr.slice(0, addr.lastIndexOf('@')) : '';
  const name = from.replace(/<[^>]*>/g, '').replace(/\S+@\S+/g, '').replace(/["()]/g, '').trim();
  return [local, name, from.trim()].some((s) => s !== '' && BOUNCE_SENDERS.test(s));
}

function isAutoReply(message: ParsedMessage, subject: string): boolean {
  const auto = headerValue(message, 'auto-submitted')?.toLowerCase() ?? '';
  if (auto.startsWith('auto-replied')) return true;
  if (headerValue(message, 'x-autoreply') !== undefined || headerValue(message, 'x-autorespond') !== undefined) return true;
  const precedence = headerValue(message, 'precedence')?.toLowerCase() ?? '';
  if (precedence === 'auto_reply') return true;
  return AUTO_REPLY_SUBJECTS.test(subject.trim());
}

interface SesResult {
  kind: BounceKind;
  drafts: Draft[];
  feedbackType: string | null;
}

/** Amazon SES bounce / complaint / delivery notifications (JSON, possibly inside an SNS envelope). */
function readSesNotification(text: string): SesResult | null {
  const start = text.indexOf('{');
  if (start < 0 || !text.includes('notificationType')) return null;
  const end = text.lastIndexOf('}');
  if (end <= start) return null;
  let doc = parseJson(text.slice(start, end + 1));
  if (doc && typeof doc.Message === 'string') doc = parseJson(doc.Message);
  if (!doc || typeof doc.notificationType !== 'string') return null;
  const type = doc.notificationType;
  const list = (v: unknown): Record<string, unknown>[] => (Array.isArray(v) ? v.filter((x): x is Record<string, unknown> => typeof x === 'object' && x !== null) : []);
  if (type === 'Bounce') {
    const bounce = (doc.bounce ?? {}) as Record<string, unknown>;
    const subType = String(bounce.bounceSubType ?? '');
    const hint = Object.hasOwn(SES_BOUNCE_SUBTYPES, subType) ? SES_BOUNCE_SUBTYPES[subType] : undefined;
    const drafts = list(bounce.bouncedRecipients).map((r) => {
      const d = draft(String(r.emailAddress ?? ''), {
        diagnostic: typeof r.diagnosticCode === 'string' ? untyped(r.diagnosticCode) : null,
        status: statusIn(typeof r.status === 'string' ? r.status : null),
        action: typeof r.action === 'string' ? r.action : null,
        remoteMta: typeof bounce.remoteMtaIp === 'string' ? bounce.remoteMtaIp : null,
      });
      refineCodes(d);
      // SES's own verdict counts only when the remote server's words are missing.
      if (hint && !d.diagnostic) d.reason = hint;
      return d;
    });
    return { kind: 'bounce', drafts: drafts.filter((d) => d.recipient), feedbackType: null };
  }
  if (type === 'Complaint') {
    const complaint = (doc.complaint ?? {}) as Record<string, unknown>;
    const drafts = list(complaint.complainedRecipients).map((r) => draft(String(r.emailAddress ?? ''), { reason: 'feedback' }));
    return { kind: 'feedback', drafts: drafts.filter((d) => d.recipient), feedbackType: typeof complaint.complaintFeedbackType === 'string' ? complaint.complaintFeedbackType : 'abuse' };
  }
  if (type === 'Delivery') {
    const delivery = (doc.delivery ?? {}) as Record<string, unknown>;
    const recipients = Array.isArray(delivery.recipients) ? delivery.recipients.map(String) : [];
    const response = typeof delivery.smtpResponse === 'string' ? delivery.smtpResponse : null;
    const drafts = recipients.map((r) => {
      const d = draft(r, { diagnostic: response, action: 'delivered', reason: 'delivered', remoteMta: typeof delivery.remoteMtaIp === 'string' ? delivery.remoteMtaIp : null });
      refineCodes(d);
      return d;
    });
    return { kind: 'delivered', drafts, feedbackType: null };
  }
  return null;
}

function parseJson(s: string): Record<string, unknown> | null {
  for (const candidate of [s, s.replace(/\r?\n/g, '')]) {
    try {
      const v: unknown = JSON.parse(candidate);
      if (v && typeof v === 'object') return v as Record<string, unknown>;
    } catch {
      // try the next form
    }
  }
  return null;
}
