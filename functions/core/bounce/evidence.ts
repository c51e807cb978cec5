/**
 * Step 3 of reading a bounce: the verdict for one recipient. The evidence is weighed in one
 * order, each step only when the ones before left the cause open or the step is known to say
 * more than they did:
 * 1. what the report's structure already decided (a failed pipe, SES's subtype, a complaint);
 * 2. the recipient's own words and codes (classify.ts: phrase tables, RFC 3463 status, reply
 *    code, the SMTP stage), then the rest of the explanation when those name no cause;
 * 3. what a known reporter's or receiving system's wording means (its conventions);
 * 4. the failure line of a report returned inside this one (a bounce of a bounce);
 * 5. the reporter's own verdict line or vendor category, which know the cause best.
 * When nothing names a cause the verdict is `onhold` (it failed, for no stated reason) or
 * `undefined` (nothing to read at all).
 */
import type { BouncedRecipient, BounceReason } from '../results.ts';
import { classifyReason, commandIn, isHard, normalizeText, replyCodeIn, serverReplyIn, statusIn } from './classify.ts';
import { isHostNameDomain } from './fields.ts';
import type { MessageHeader } from './message.ts';
import { MAX_DIAGNOSTIC_CHARS, type Draft } from './recipients.ts';
import { MAX_EXPLANATION_CHARS, type Report } from './report.ts';
import { scrapeRecipients, splitAtOriginal, type ScrapedRecipient } from './scrape.ts';
import { REMOTE_HOST_CONVENTIONS, REPORTER_CONVENTIONS, REPORTER_VERDICTS, type RemoteHostConvention, type ReporterConvention, type ReporterVerdict } from './tables.ts';

/** What the whole report says beyond one recipient's lines, consulted while weighing each recipient. */
export interface ReportEvidence {
  readonly report: Report;
  /** The reporter's conventions (recognized lazily: only when a reason they rewrite came up). */
  readonly conventions: () => readonly ReporterConvention[];
  /** The reporter's own verdict line, when it wrote one. */
  readonly verdict: ReporterVerdict | undefined;
  /** The failure line for a recipient in a report returned inside this one. */
  readonly innerFailure: (recipient: string) => string | undefined;
}

/** Gathers what the whole report says, once per report. */
export function reportEvidence(report: Report): ReportEvidence {
  const { head, original } = report;
  let known: ReporterConvention[] | undefined;
  // A gateway that bounces an earlier report (InterScan returning a Sendmail notice) may name the
  // recipient without a cause; the returned report's own failure line for that recipient has it.
  let innerFailures: readonly ScrapedRecipient[] | undefined;
  return {
    report,
    conventions: () => (known ??= reporterConventions(report.message.headers, report.dsnParts, report.explanation)),
    verdict: REPORTER_VERDICTS.find((v) => v.pattern.test(head.length > 4000 ? head.slice(0, 4000) : head)),
    innerFailure: (recipient) => {
      innerFailures ??= original ? scrapeRecipients(splitAtOriginal(original.length > MAX_EXPLANATION_CHARS ? original.slice(0, MAX_EXPLANATION_CHARS) : original).explanation, new Set()).filter((s) => /(?:^|\s)[45]\d\d[\s-]/.test(s.diagnostic)) : [];
      return innerFailures.find((s) => s.recipient.toLowerCase() === recipient.toLowerCase())?.diagnostic;
    },
  };
}

// Every reason some reporter convention rewrites.
const CONVENTION_REASONS: ReadonlySet<BounceReason> = new Set(REPORTER_CONVENTIONS.flatMap((c) => c.from));

/**
 * The verdict for one recipient of a report, from all its evidence (see the module comment).
 * `all` are the report's recipients, `d` among them: the others' own lines are not this one's context.
 */
export function weighEvidence(d: Draft, all: readonly Draft[], evidence: ReportEvidence): BouncedRecipient {
  let reason: BounceReason;
  let hard = false;
  let status = d.status;
  let replyCode = d.replyCode;
  let diagnostic = d.diagnostic;
  const permanent = () => !/^4/.test(status ?? '') && !/^delayed/.test(d.action ?? '');
  // 1. The structure decided.
  if (d.reason) reason = d.reason;
  else {
    // 2. The recipient's own words and codes, then the rest of the explanation.
    const context = [d.own ?? '', contextFor(d, all, evidence.report)].join('\n');
    const c = classifyReason({ diagnostic: d.diagnostic, status, replyCode, action: d.action, command: d.command ?? null, context, program: d.program ?? false });
    reason = c.reason;
    hard = c.hard;
    // 3. A known reporter's or receiving system's conventions.
    const convention = d.command === 'RCPT' || !CONVENTION_REASONS.has(reason) ? undefined : evidence.conventions().find((r) => r.from.includes(reason) && (c.basis !== 'status' || r.overStatus) && !(r.withoutStatus && (status || statusIn(context))));
    const remote = convention ? undefined : remoteHostConvention(d, reason);
    const rewritten = convention?.to ?? remote?.to;
    if (rewritten) {
      reason = rewritten;
      hard = isHard(reason, hard);
    }
    // 4. The returned report's own failure line.
    const inner = reason === 'onhold' || reason === 'undefined' ? evidence.innerFailure(d.recipient) : undefined;
    const innerClass = inner ? classifyReason({ diagnostic: inner, command: commandIn(inner), action: d.action }) : undefined;
    if (inner && innerClass && innerClass.reason !== 'onhold' && innerClass.reason !== 'undefined') {
      ({ reason, hard } = innerClass);
      status ??= statusIn(serverReplyIn(inner) ?? inner);
      replyCode ??= replyCodeIn(inner);
      diagnostic = inner; // the outer report's own words named no cause
    }
    // 5. The reporter's own words, then its vendor category, know the cause better than the relayed text.
    const own = evidence.verdict?.reason ?? (d.vendorReason !== reason ? d.vendorReason : undefined);
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
    canaryId: evidence.report.canaryId,
    ...(d.inferred ? { recipientInferred: true } : {}),
    ...(isHostNameDomain(d.recipient) ? {} : { recipientDomainInvalid: true }),
  };
}

/**
 * The explanation as context for one recipient: all of it when the report is about this one
 * alone (or names nobody). In a report about several, a recipient with words or a status of its
 * own reads those alone; one without gets the explanation less the lines the others own, so
 * that one recipient's cause is not lent to another.
 */
// See contextFor.
const MAX_CONTEXT_RECIPIENTS = 100;

function contextFor(d: Draft, all: readonly Draft[], report: Report): string {
  if (all.length <= 1 || d.inferred) return report.context();
  if (d.diagnostic || d.status) return '';
  // Taking every other recipient's lines out costs a pass over the text per recipient: beyond
  // this many, the shared text is no context for one of them.
  if (all.length > MAX_CONTEXT_RECIPIENTS) return '';
  let text = normalizeText(report.context());
  for (const o of all) {
    if (o === d) continue;
    const own = o.own ? normalizeText(o.own) : '';
    if (own.length >= 8) text = text.split(own).join(' ');
    text = text.split(o.recipient.toLowerCase()).join(' ');
  }
  return text;
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
