/**
 * Sample round results, findings and bounces for health and alert tests: small, deterministic,
 * in both languages. The finding texts here are test data, not the probe's real wording.
 *
 * @example
 * const result = round('critical', at(0), { canaryId: canaryAt(0) });
 */
import type { Finding, Status } from '#core/findings.ts';
import type { BouncedRecipient, StepResult, TargetResult } from '#core/results.ts';
import { newCanaryId } from '#core/canary-id.ts';

/** 2026-01-05T00:00:00Z, a Monday morning in Tokyo. */
export const T0 = Date.parse('2026-01-05T00:00:00.000Z');

/** The ISO time `minutes` after T0. */
export function at(minutes: number): string {
  return new Date(T0 + minutes * 60_000).toISOString();
}

/** A deterministic canary id for the round `minutes` after T0. */
export function canaryAt(minutes: number, salt = 0): string {
  return newCanaryId(T0 + minutes * 60_000, new Uint8Array(10).fill(salt));
}

/** A RandomSource that counts up, so incident ids differ but tests repeat exactly. */
export function countingRandom(): (n: number) => Uint8Array {
  let i = 0;
  return (n) => {
    i++;
    return Uint8Array.from({ length: n }, (_, k) => (i * 31 + k) & 0xff);
  };
}

export const authFailed: Finding = {
  code: 'AUTH_FAILED',
  severity: 'critical',
  step: 'auth',
  reply: '535 5.7.8 Authentication credentials invalid',
  message: { en: 'The server refused the user name or password.', ja: 'サーバーがユーザー名またはパスワードを拒否しました。' },
  remedy: { en: 'Check the SMTP password in the mail settings.', ja: 'メール設定の SMTP パスワードを確認してください。' },
};

export const certExpiring: Finding = {
  code: 'TLS_CERT_EXPIRING',
  severity: 'warning',
  step: 'starttls',
  message: { en: 'The server certificate expires in 9 days.', ja: 'サーバー証明書の有効期限まであと 9 日です。' },
  remedy: { en: 'Ask the provider to renew the certificate.', ja: 'プロバイダーに証明書の更新を依頼してください。' },
};

export const port25Blocked: Finding = {
  code: 'PORT25_BLOCKED',
  severity: 'info',
  message: { en: 'Port 25 is blocked here (OP25B).', ja: 'ここではポート 25 が遮断されています（OP25B）。' },
  remedy: { en: 'Send through port 587 with authentication.', ja: '認証付きでポート 587 から送信してください。' },
};

export const mailboxFull: Finding = {
  code: 'BOUNCE_MAILBOX_FULL',
  severity: 'warning',
  recipient: 'owner@example.jp',
  reply: '552 5.2.2 Mailbox full',
  message: { en: "The recipient's mailbox is full.", ja: '受信者のメールボックスが容量の上限に達しています。' },
  remedy: { en: 'Ask the recipient to delete old mail.', ja: '受信者に古いメールの削除を依頼してください。' },
};

const okSteps: StepResult[] = [
  { step: 'connect', ok: true, ms: 12 },
  { step: 'greeting', ok: true, ms: 30, reply: '220 smtp.example.jp ESMTP' },
  { step: 'ehlo', ok: true, ms: 8 },
  { step: 'starttls', ok: true, ms: 41 },
  { step: 'ehlo', ok: true, ms: 7 },
  { step: 'auth', ok: true, ms: 55 },
  { step: 'mail', ok: true, ms: 6 },
  { step: 'rcpt', ok: true, ms: 9, recipient: 'canary@bounces.example.jp' },
  { step: 'data', ok: true, ms: 120 },
  { step: 'quit', ok: true, ms: 3 },
];

const authFailSteps: StepResult[] = [
  ...okSteps.slice(0, 5),
  { step: 'auth', ok: false, ms: 230, reply: '535 5.7.8 Authentication credentials invalid' },
];

/** A round of target `shop` with the given status; its findings and steps match the status. */
export function round(status: Status, startedAt: string, options: { canaryId?: string; name?: string } = {}): TargetResult {
  const findings = status === 'critical' ? [port25Blocked, authFailed] : status === 'warning' ? [certExpiring] : [port25Blocked];
  return {
    name: options.name ?? 'shop',
    status,
    canaryId: options.canaryId ?? newCanaryId(Date.parse(startedAt), new Uint8Array(10)),
    startedAt,
    steps: status === 'critical' ? authFailSteps : okSteps,
    ports: { '25': 'timeout', '587': 'open', '465': 'open' },
    extensions: { SIZE: 10485760, AUTH: ['PLAIN', 'LOGIN'], PIPELINING: true },
    findings: status === 'unknown' ? [] : findings,
  };
}

export function bounced(overrides: Partial<BouncedRecipient> = {}): BouncedRecipient {
  return {
    recipient: 'owner@example.jp',
    reason: 'mailboxfull',
    status: '5.2.2',
    replyCode: 552,
    hard: false,
    diagnostic: '552 5.2.2 <owner@example.jp>: Mailbox full',
    remoteMta: 'mx.example.jp',
    canaryId: canaryAt(0),
    ...overrides,
  };
}
