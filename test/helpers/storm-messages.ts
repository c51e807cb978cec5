/**
 * The DSNs of a bounce storm (issue 17): a shop's newsletter to an old list comes back from
 * its customers' mail servers. Shared by the storm e2e test and the intake benchmarks.
 */
import { buildDsn } from '#local/demo/dsn.ts';

export const STORM_BOUNCE_DOMAIN = 'bounces.shop.example';
/** The shop's own Return-Path on the bounce domain (not a canary's VERP address). */
export const SHOP_RETURN_PATH = `newsletter@${STORM_BOUNCE_DOMAIN}`;

/** One DSN of the storm: the customer address that bounced and the message. */
export interface StormMessage {
  readonly address: string;
  readonly raw: string;
}

/**
 * `count` DSNs for a newsletter sent to an old list: one recipient each, spread over 40
 * domains; most "no such user" (Postfix's wording of a 550 5.1.1), one in ten "no such domain"
 * (Postfix's DNS failure, 5.1.2). All are hard bounces: each address belongs on the suppression list.
 */
export function stormMessages(count: number, now = new Date()): StormMessage[] {
  const out: StormMessage[] = [];
  for (let i = 0; i < count; i++) {
    const domain = `customers${i % 40}.example`;
    const address = `member${String(i).padStart(5, '0')}@${domain}`;
    const noDomain = i % 10 === 9;
    const original = [
      `From: Shop News <news@shop.example>`,
      `To: ${address}`,
      'Subject: Spring sale',
      `Message-ID: <news-2026-03-${i}@shop.example>`,
      `Return-Path: <${SHOP_RETURN_PATH}>`,
      '',
      'Hello',
      '',
    ].join('\r\n');
    const raw = buildDsn({
      reportingMta: 'mta.shop.example',
      returnTo: SHOP_RETURN_PATH,
      arrivalDate: now,
      date: now,
      token: `S${i}`,
      recipients: [
        noDomain
          ? { recipient: address, action: 'failed', status: '5.1.2', remoteMta: null, diagnostic: `Host or domain name not found. Name service error for name=${domain} type=MX: Host not found` }
          : { recipient: address, action: 'failed', status: '5.1.1', remoteMta: `mx.${domain}`, diagnostic: `550 5.1.1 <${address}>: Recipient address rejected: User unknown in virtual mailbox table`, inReplyTo: 'RCPT TO' },
      ],
      original,
    });
    out.push({ address, raw });
  }
  return out;
}
