/**
 * Amazon SES notifications delivered by mail (SNS e-mail subscriptions): a JSON document,
 * possibly inside an SNS envelope, instead of an RFC 3464 report.
 */
import { untyped } from './fields.ts';
import { statusIn } from './classify.ts';
import { draft, refineCodes, type Draft } from './recipients.ts';
import type { BounceKind } from './report.ts';
import { SES_BOUNCE_SUBTYPES } from './tables.ts';

/** What an SES notification reports. */
export interface SesResult {
  readonly kind: BounceKind;
  readonly drafts: Draft[];
  readonly feedbackType: string | null;
}

/** Amazon SES bounce / complaint / delivery notifications (JSON, possibly inside an SNS envelope); null when the text is none. */
export function readSesNotification(text: string): SesResult | null {
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
