/**
 * The round trip: which canaries must arrive, and the finding for one that did not.
 * Pure; the Store keeps the records (functions/core/health/records.ts).
 */
import type { Finding } from '../findings.ts';
import type { TargetResult } from '../results.ts';
import type { CanaryRecord } from './records.ts';

/**
 * The canary record of a round whose message the provider accepted: it ties later bounces to
 * the target, and lists the recipients at the bounce domain (the mailboxes mail-health itself
 * reads) that the round trip waits for; none when no recipient is there. Null when DATA was
 * not accepted (no message went out, nothing can come back).
 * @example
 * const record = canaryRecordOf(result, { bounceDomain: config.bounceDomain });
 * if (record) await store.putCanary(record);
 */
export function canaryRecordOf(result: TargetResult, options: { readonly bounceDomain: string }): CanaryRecord | null {
  const dataAccepted = result.steps.some((s) => s.step === 'data' && s.ok);
  if (!dataAccepted) return null;
  const domain = options.bounceDomain.toLowerCase();
  const recipients = result.steps
    .filter((s) => s.step === 'rcpt' && s.ok && s.recipient !== undefined)
    .map((s) => s.recipient!)
    .filter((r) => r.toLowerCase().endsWith(`@${domain}`));
  return { id: result.canaryId, target: result.name, sentAt: acceptedAt(result), recipients, deliveredAt: null };
}

/**
 * When the provider took the canary: the round's start plus the SMTP steps up to the accepted
 * DATA. The session starts with the round, beside the port probes, so a silent port's probe
 * timeout is not part of it; the round trip counts from here, not from the round's start.
 */
function acceptedAt(result: TargetResult): string {
  let ms = 0;
  for (const step of result.steps) {
    ms += step.ms;
    if (step.step === 'data') break;
  }
  return new Date(Date.parse(result.startedAt) + Math.round(ms)).toISOString();
}

/**
 * The CANARY_NOT_DELIVERED finding: the provider accepted the canary, yet it never reached the
 * bounce domain's mailbox within the delivery timeout.
 * @example canaryNotDeliveredFinding(record, config.deliveryTimeoutMinutes)
 */
export function canaryNotDeliveredFinding(canary: CanaryRecord, timeoutMinutes: number): Finding {
  const to = canary.recipients.join(', ');
  return {
    code: 'CANARY_NOT_DELIVERED',
    severity: 'critical',
    ...(canary.recipients[0] !== undefined ? { recipient: canary.recipients[0] } : {}),
    message: {
      en: `The provider accepted the test message, but it did not arrive at ${to} within ${timeoutMinutes} minutes. It may be stuck in the provider's queue, dropped by a filter, or the bounce domain may not be receiving mail.`,
      ja: `送信サーバーはテストメールを受け付けましたが、${timeoutMinutes} 分以内に ${to} へ届きませんでした。プロバイダーの送信キューで止まっている、フィルターで破棄された、またはバウンス用ドメインがメールを受信できていない可能性があります。`,
    },
    remedy: {
      en: `Look for this message (Message-ID <${canary.id}@mail-health>) in the provider's sending log or queue, check that the bounce domain's MX record points to the receiving service, and ask the provider whether it holds or filters outgoing mail.`,
      ja: `プロバイダーの送信ログや送信キューでこのメール（Message-ID <${canary.id}@mail-health>）を確認し、バウンス用ドメインの MX レコードが受信サービスを指しているか確かめてください。送信メールの保留やフィルターがないか、プロバイダーにも問い合わせてください。`,
    },
  };
}
