/**
 * Messages that come back to a sender without being delivery reports, and the one kind of them
 * that still reports a failure:
 * - message disposition notifications (read receipts, RFC 8098 and its predecessor RFC 2298):
 *   "displayed", "dispatched", "processed" and "denied" say the message arrived; "deleted",
 *   "failed" and the "error" modifier say it never reached its reader;
 * - challenge-response requests ("please confirm you are a person"): the message is held
 *   until the sender proves to be one; nothing failed yet.
 */
import type { BounceReason } from '../results.ts';
import { classifyReason } from './classify.ts';
import { addressOfTyped, parseFieldBlocks, valueOf } from './fields.ts';
import { draft, type Draft } from './recipients.ts';
import type { Report } from './report.ts';
import { addressesIn } from './scrape.ts';
import { CHALLENGE_SUBJECTS, CHALLENGE_TEXT, NOT_READ_SUBJECTS, READ_SUBJECTS } from './tables.ts';

/** What a disposition notification says. */
export type ReceiptReading = { readonly kind: 'receipt' } | { readonly kind: 'bounce'; readonly drafts: Draft[] };

// RFC 2298 disposition modifiers that name why a message was deleted unread.
const MODIFIER_REASONS: Readonly<Record<string, BounceReason>> = {
  expired: 'expired', // deleted when its retention ran out, unread
  'mailbox-terminated': 'suspend', // deleted with the mailbox, which was closed
};

/**
 * Reads a disposition notification (a `message/disposition-notification` part, a
 * `report-type=disposition-notification` report, or a read-receipt subject on a message
 * without either); null when the message is none.
 * @example readReceipt(report)?.kind // 'receipt' for "Disposition: manual-action/MDN-sent-manually; displayed"
 */
export function readReceipt(report: Report): ReceiptReading | null {
  const { message, subject } = report;
  const declared = message.contentTypeParams['report-type']?.toLowerCase() === 'disposition-notification';
  if (!report.mdnParts.length && !declared) {
    // A receipt some clients send as plain text ("Read: …", "Not read: …"), when its text does
    // not report a delivery failure itself.
    if (report.dsnParts.length || report.bounceSender) return null;
    if (READ_SUBJECTS.test(subject)) return { kind: 'receipt' };
    if (NOT_READ_SUBJECTS.test(subject)) {
      const who = addressesIn(report.from)[0];
      return { kind: 'bounce', drafts: who ? [draft(who, { reason: 'onhold', diagnostic: subject.trim() })] : [] };
    }
    return null;
  }
  const fields = parseFieldBlocks(report.mdnParts.join('\n\n')).flat();
  const disposition = valueOf(fields, 'disposition') ?? '';
  // "manual-action/MDN-sent-manually; displayed", "automatic-action/…; deleted/expired", "…; processed/error"
  const m = /;\s*([a-z-]+)\s*(?:\/\s*([a-z0-9, -]+))?/i.exec(disposition);
  const type = m?.[1]?.toLowerCase() ?? '';
  const modifiers = (m?.[2] ?? '').toLowerCase().split(',').map((s) => s.trim()).filter(Boolean);
  const failed = type === 'deleted' || type === 'failed' || modifiers.includes('error') || modifiers.includes('failed');
  if (!failed) return { kind: 'receipt' };
  const recipient =
    addressOfTyped(valueOf(fields, 'final-recipient') ?? '') ?? addressOfTyped(valueOf(fields, 'original-recipient') ?? '') ?? addressOfTyped(valueOf(fields, 'final-recipient') ?? '', true) ?? addressesIn(report.from)[0];
  if (!recipient) return { kind: 'bounce', drafts: [] };
  // The notice's own words on the failure (RFC 2298 Failure:/Error:/Warning:, RFC 8098 Error:),
  // else its text for people (Dovecot's LDA rejects with a "deleted" MDN whose text says why).
  const field = ['failure', 'error', 'warning'].map((name) => valueOf(fields, name)).find((v) => v?.trim());
  const words = (field ?? (report.global() || statementOf(report.context()))).replace(/\s+/g, ' ').trim();
  const byModifier = modifiers.map((x) => MODIFIER_REASONS[x]).find((r) => r !== undefined);
  const stated = words !== '' && !['onhold', 'undefined'].includes(classifyReason({ diagnostic: words, action: 'failed' }).reason);
  // Deleted unread by the recipient's own system (a rule, a filter) with no cause stated: the
  // recipient's filtering. Deleted by the person, or failed with nothing said: it failed, for
  // no stated reason.
  const automatic = /^\s*automatic-action/i.test(disposition);
  const reason = byModifier ?? (stated ? undefined : type === 'deleted' && automatic ? 'filtered' : 'onhold');
  const diagnostic = [words, `Disposition: ${disposition}`].filter(Boolean).join(' ');
  return { kind: 'bounce', drafts: [draft(recipient, { ...(reason ? { reason } : {}), diagnostic, action: 'failed' })] };
}

// The lines of a notice's text that say what became of the message ("was deleted without being
// read", "was automatically rejected: / Quota exceeded"): the first line that says so and the
// rest of its paragraph; else the first line.
function statementOf(text: string): string {
  const lines = text.split('\n', 100).map((l) => l.trim());
  const at = lines.findIndex((l) => /\b(?:deleted|discarded|not (?:been )?(?:read|displayed|stored|delivered)|without being (?:read|displayed)|fail\w*|could not|unable|error|refused|rejected)\b/i.test(l));
  if (at < 0) return (lines.find(Boolean) ?? '').slice(0, 500);
  const out: string[] = [];
  for (let i = at; i < lines.length && i < at + 4 && lines[i]; i++) out.push(lines[i]!);
  return out.join(' ').slice(0, 500);
}

/**
 * Whether a message is a challenge-response request: it holds the sender's message until the
 * sender confirms being a person (TMDA, Spam Arrest, Boxbe, Mailinblack, ChoiceMail and the
 * like). A report with delivery-status fields is a delivery report, whatever else it says.
 * @example isChallenge(report) // true for "Please confirm your message … is being held until you verify"
 */
export function isChallenge(report: Report): boolean {
  if (report.dsnParts.length || report.feedbackParts.length || report.mdnParts.length) return false;
  const head = (report.head.length > 4000 ? report.head.slice(0, 4000) : report.head).replace(/\s+/g, ' ');
  return CHALLENGE_TEXT.test(head) || CHALLENGE_TEXT.test(report.subject) || (CHALLENGE_SUBJECTS.test(report.subject) && !report.bounceSender);
}
