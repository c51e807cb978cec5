/**
 * Step 2 of reading a bounce: which recipients the report is about, and the words it says
 * about each. Sources in a fixed order: what the report itself names (its RFC 3464 fields, the
 * addresses its text anchors, its X-Failed-Recipients header, the report it returns), then,
 * when it names nobody, what can be inferred (the canary's record, the returned message's
 * recipient fields and `To:`, the subject), marked as inferred.
 */
import type { BounceReason } from '../results.ts';
import { commandIn, reasonFromPhrase, replyCodeIn, serverReplyIn, statusIn } from './classify.ts';
import { addressOfTyped, listedAddresses, parseFieldBlocks, splitLines, untyped, valueOf, type Field } from './fields.ts';
import { headerValue } from './message.ts';
import type { Report } from './report.ts';
import { addressesIn, bareLocalPartsIn, mentionedAddresses, scrapeRecipients, type ScrapedRecipient } from './scrape.ts';
import { BOUNCE_SUBJECTS, DELAY_SUBJECTS, DELAY_TEXT, FAILURE_STATEMENTS, POWERMTA_CATEGORIES, type SmtpCommand } from './tables.ts';

// A diagnostic longer than this is cut for the report (the remote reply is at its start).
export const MAX_DIAGNOSTIC_CHARS = 2_000;

/** One recipient on its way to a verdict: what the report says about it. */
export interface Draft {
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
  /** A reason the report's structure already decided (SES subtype, pipe failure, complaint). */
  reason?: BounceReason;
  /** The reporting MTA's own category of the failure (e.g. PowerMTA's), when it names a reason. */
  vendorReason?: BounceReason;
  /** The report did not name this recipient: it was inferred (canary record, returned message, subject). */
  inferred?: boolean;
}

/** A new draft for a recipient. */
export function draft(recipient: string, init: Partial<Draft>): Draft {
  return { recipient, diagnostic: null, status: null, replyCode: null, action: null, remoteMta: null, ...init };
}

/** The recipients of a report and what kind of report it turned out to be. */
export interface LocatedRecipients {
  readonly kind: 'bounce' | 'delivered';
  readonly drafts: Draft[];
  readonly notes: readonly string[];
}

/**
 * The recipients an RFC 3464 report lists in its delivery-status fields (also when a broken MIME
 * structure left the fields in the text), each with its diagnostic, codes and SMTP stage; null
 * when there are none.
 * @example dsnRecipients(report)?.drafts[0]?.status // '5.2.2'
 */
export function dsnRecipients(report: Report): LocatedRecipients | null {
  let dsnText = report.dsnParts.join('\n\n');
  if (!dsnText && /^(?:final|original)-recipient\s*:/im.test(report.explanation)) dsnText = report.explanation;
  if (!dsnText) return null;
  const drafts = dsnDrafts(dsnText);
  if (!drafts.length) return null;
  enrich(drafts, scrapeRecipients(report.explanation, report.exclude), report);
  const delivered = drafts.every((d) => /^(?:delivered|deliverable|relayed|expanded)/i.test(d.action ?? ''));
  return { kind: delivered ? 'delivered' : 'bounce', drafts, notes: [] };
}

/**
 * The recipients of a report without delivery-status fields, in the order of the module comment,
 * each with its diagnostic, codes and SMTP stage. Null when the message is not a report (no sign
 * of one, and no failure stated around a returned message).
 * @example textRecipients(report, null)?.drafts.map((d) => d.recipient) // ['hana@example.jp']
 */
export function textRecipients(report: Report, canaryRecipients: readonly string[] | null): LocatedRecipients | null {
  const notes: string[] = [];
  const { head, exclude, message } = report;
  const failedHeader = headerValue(message, 'x-failed-recipients');
  // A message that only carries another message (a forward, a carrier's notice from a no-reply
  // address), or a text without headers, counts as a report when its text states a failure.
  const stated = (text: string) => /(?:^|\s)[45]\d\d[\s-]|[45]\.\d{1,3}\.\d{1,3}/.test(text) || reasonFromPhrase(text) !== undefined;
  const headerlessReport = report.headerless && (FAILURE_STATEMENTS.test(head.slice(0, 4000)) || BOUNCE_SUBJECTS.test(head.slice(0, 4000)) || stated(head.slice(0, 4000)));
  const reportSigns = headerlessReport || report.bounceSender || report.bounceSubject || failedHeader !== undefined || message.contentType === 'multipart/report';
  if (!reportSigns && !report.carriesOriginal) return null;
  const scraped = scrapeRecipients(report.explanation, exclude).filter((s) => reportSigns || stated(s.diagnostic));
  const ownOf = (r: string) => scraped.find((s) => s.recipient.toLowerCase() === r.toLowerCase())?.diagnostic;

  // (b) the addresses the explanation anchors, (c) the reporting MTA's X-Failed-Recipients
  // (Exim, Gmail) when the text anchors none or only the sender.
  const named = scraped.filter((s) => !s.excluded);
  const failed = unique(failedHeader ? listedAddresses(failedHeader) : []);
  let drafts: Draft[] = named.length ? named.map((s) => draft(s.recipient, { own: s.diagnostic })) : failed.map((r) => draft(r, { own: ownOf(r) }));
  // An address given only as its local part under a "following recipients" heading (AOL,
  // GroupWise, IMail): the returned message's address with that local part, else the reporting
  // system's own domain, completes it.
  if (!drafts.length && reportSigns) {
    const returned = addressesIn(valueOf(report.originalHeaders, 'to'));
    const domain = addressesIn(report.from)[0]?.split('@')[1]?.toLowerCase();
    drafts = bareLocalPartsIn(head).flatMap((s) => {
      const full = returned.find((a) => a.slice(0, a.lastIndexOf('@')).toLowerCase() === s.local.toLowerCase()) ?? (domain ? `${s.local}@${domain}` : null);
      return full ? [draft(full, { own: s.diagnostic })] : [];
    });
  }
  // An address the report mentions only in a sentence, in whatever language ("Ihre Nachricht an
  // x@y konnte nicht zugestellt werden").
  if (!drafts.length && reportSigns) drafts = mentionedAddresses(head, exclude).map((r) => draft(r, {}));
  // The sender itself, when the text names only it (a message to oneself).
  if (!drafts.length) drafts = scraped.map((s) => draft(s.recipient, { own: s.diagnostic }));
  // (e) a bounce of a bounce: the returned "original" is itself the report.
  if (!drafts.length && /^(?:final|original)-recipient\s*:/im.test(report.original)) {
    drafts = dsnDrafts(report.original);
    if (drafts.length) notes.push('recipients from the report returned inside this one');
  }
  if (!drafts.length && !reportSigns) return null;
  // (f)… nothing in the report names the recipient: infer it.
  if (!drafts.length) drafts = inferRecipients(report, canaryRecipients, notes).map((r) => draft(r, { inferred: true }));
  if (!drafts.length && !report.bounceSender && !report.bounceSubject && !headerlessReport) return null;
  // A warning that delivery is still being retried is a delay, not a failure.
  if (DELAY_SUBJECTS.test(report.subject) || DELAY_TEXT.test(head)) for (const d of drafts) d.action ??= 'delayed';
  enrich(drafts, [], report);
  if (!drafts.length) notes.push('looks like a bounce but names no recipient');
  return { kind: 'bounce', drafts, notes };
}

/**
 * The recipient of a report that names none, in order: the canary's record (narrowed by what
 * the returned message says, else its recipients outside the bounce domain), the returned
 * message's Original-Recipient / Final-Recipient, its `To:` when it has one address, the subject.
 */
function inferRecipients(report: Report, canaryRecipients: readonly string[] | null, notes: string[]): string[] {
  const notExcluded = (list: readonly string[]) => unique(list).filter((a) => !report.exclude.has(a.toLowerCase()));
  const fields = ['original-recipient', 'final-recipient'].flatMap((name) => report.originalHeaders.filter((f) => f.name === name).map((f) => addressOfTyped(f.value) ?? ''));
  const returned = notExcluded(fields.filter(Boolean));
  const to = notExcluded(addressesIn(valueOf(report.originalHeaders, 'to')));
  const subject = notExcluded(addressesIn(report.subject));
  if (canaryRecipients?.length) {
    const known = new Set(canaryRecipients.map((a) => a.toLowerCase()));
    const named = [returned, to, subject].map((list) => list.filter((a) => known.has(a.toLowerCase()))).find((list) => list.length);
    const bounceDomain = report.canaryId ? verpDomain(report) : null;
    const outside = canaryRecipients.filter((a) => !bounceDomain || !a.toLowerCase().endsWith(`@${bounceDomain}`));
    const chosen = named ?? (outside.length ? outside : canaryRecipients);
    notes.push('recipient from the canary record (the report names none)');
    return unique([...chosen]);
  }
  for (const [list, where] of [
    [returned, 'the returned message\'s recipient fields'],
    [to.length === 1 ? to : [], 'the returned message\'s To'],
    [subject.length === 1 ? subject : [], 'the subject'],
  ] as const) {
    if (list.length) {
      notes.push(`recipient from ${where} (the report names none)`);
      return [...list];
    }
  }
  return [];
}

// The bounce domain, from the VERP address the report was sent to (bounce+<id>@<domain>).
function verpDomain(report: Report): string | null {
  for (const h of report.message.headers) {
    const m = /\bbounce\+[0-9a-z]{26}@([a-z0-9.-]+)/i.exec(h.value);
    if (m) return m[1]!.toLowerCase();
  }
  return null;
}

/** Gives each draft its diagnostic (DSN field, own lines, or the text's error lines), codes and command. */
export function enrich(drafts: Draft[], scraped: readonly ScrapedRecipient[], report: Report): void {
  const single = drafts.length === 1;
  const explanation = report.head;
  for (const d of drafts) {
    const mine = scraped.find((s) => s.recipient.toLowerCase() === d.recipient.toLowerCase());
    if (mine) d.own = mine.diagnostic;
    else if (single && scraped.length === 1) d.own = scraped[0]!.diagnostic;
    // The text's error lines, only when the DSN's and the recipient's own words are not enough.
    const global = () => (single || d.inferred ? report.global() : '');
    // A multi-line reply the DSN cut after its first line ("552-5.7.0 …") is whole in the text.
    if (d.diagnostic && /^[245]\d\d-/.test(d.diagnostic) && report.global().includes(d.diagnostic.slice(0, 40))) d.diagnostic = report.global();
    d.diagnostic = pickDiagnostic(d.diagnostic, d.own ?? '', global);
    // Prose bounces (Domino, BIGLOBE) put the reason on a line of its own: show that line.
    if (!d.diagnostic && (single || d.inferred)) d.diagnostic = reasonLine(report.context());
    if (d.diagnostic && d.diagnostic.length > MAX_DIAGNOSTIC_CHARS) d.diagnostic = d.diagnostic.slice(0, MAX_DIAGNOSTIC_CHARS);
    if (d.own && d.own.length > MAX_DIAGNOSTIC_CHARS) d.own = d.own.slice(0, MAX_DIAGNOSTIC_CHARS);
    refineCodes(d);
    d.command = commandIn([d.own ?? '', d.diagnostic ?? ''].join('\n')) ?? (single ? commandIn(explanation) : commandIn(linesNaming(explanation, d.recipient)));
    if (/(?:^|\s)pipe to \|/i.test(d.own ?? '') || (single && /^\s*pipe to \|/im.test(explanation))) d.program = true;
  }
}

/** Reads the status, reply code and remote host a draft's diagnostic names. */
export function refineCodes(d: Draft): void {
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

// The lines of a text that name an address ("SMTP error … after RCPT TO:<addr>:"), for the stage of that recipient's refusal.
function linesNaming(text: string, address: string): string {
  const needle = address.toLowerCase();
  if (!needle || !text.toLowerCase().includes(needle)) return '';
  return splitLines(text)
    .filter((l) => l.toLowerCase().includes(needle))
    .join('\n');
}

/** The addresses of a list without repeats (case-insensitive), in order. */
export function unique(list: readonly string[]): string[] {
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
export function dsnDrafts(text: string): Draft[] {
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
    // An address a host name can route first: a Final-Recipient naming an internal channel
    // (Sun Messaging Server's "user@ims-ms-daemon") gives way to the Original-Recipient.
    const finalField = valueOf(g, 'final-recipient') ?? '';
    const originalField = valueOf(g, 'original-recipient') ?? '';
    const recipient = addressOfTyped(finalField) ?? addressOfTyped(originalField) ?? addressOfTyped(finalField, true) ?? addressOfTyped(originalField, true);
    if (!recipient) continue;
    const diag = valueOf(g, 'diagnostic-code');
    const remote = valueOf(g, 'remote-mta');
    // Delivery to a program ("|/usr/bin/procmail …") failed: that is the local mailer's error.
    const program = [valueOf(g, 'final-recipient'), valueOf(g, 'x-actual-recipient')].some((v) => v !== undefined && /^\s*(?:[a-z0-9-]+\s*;\s*)?"?\|/i.test(v));
    const category = valueOf(g, 'x-powermta-bouncecategory')?.trim().toLowerCase();
    const vendorReason = category && Object.hasOwn(POWERMTA_CATEGORIES, category) ? POWERMTA_CATEGORIES[category] : undefined;
    // A Status field that holds a reply instead of a code ("Status: 553 Exceeded maximum …") is a diagnostic.
    const statusField = valueOf(g, 'status');
    const statusAsReply = statusField && !statusIn(statusField) && /[a-z]{3}/i.test(statusField) ? statusField : undefined;
    drafts.push({
      ...(program ? { reason: 'mailererror' as const } : {}),
      ...(vendorReason ? { vendorReason } : {}),
      program: program || (diag !== undefined && /^\s*x-unix\s*;/i.test(diag)),
      recipient,
      diagnostic: diag ? untyped(diag) : (statusAsReply ?? null),
      status: statusIn(statusField),
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
  const lines = splitLines(text, 200);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const t = line.trim();
    if (t && t.length <= 500 && reasonFromPhrase(t)) return t;
  }
  // Lotus Notes/Domino write the reason, in the server's language, on the line under this heading.
  const notes = /^-+ *failure reasons? *-+[ \t]*(?:\r?\n[ \t]*)+(\S[^\r\n]{0,300})/im.exec(text);
  return notes ? notes[1]!.trim() : null;
}

/** The DSN's diagnostic, or the recipient's own lines of the text, or the text's error lines. */
function pickDiagnostic(dsn: string | null, own: string, global: () => string): string | null {
  const squeezed = (s: string | null) => (s ?? '').replace(/\s+/g, ' ').trim();
  const informative = (s: string) => s !== '' && (/[245]\d\d|[245]\.\d+\.\d+/.test(s) || s.length > 12);
  // Each candidate is squeezed only when the ones before it are not informative.
  const fromDsn = squeezed(dsn);
  let fromOwn: string | undefined;
  let first = fromDsn;
  if (!informative(fromDsn)) {
    fromOwn = squeezed(own);
    if (informative(fromOwn)) first = fromOwn;
    else {
      const fromText = squeezed(global());
      first = informative(fromText) ? fromText : fromDsn || fromOwn || fromText;
    }
  }
  // A bare DSN diagnostic gains from the text's fuller sentence when it is only a code.
  if (first && first === fromDsn && first.length < 24) {
    fromOwn ??= squeezed(own);
    if (fromOwn && !fromOwn.includes(first)) return `${first} ${fromOwn}`;
  }
  return first || null;
}
