import { describe, expect, it } from 'vitest';
import { createMailParser } from '#adapters/mail-parser.ts';
import { analyzeBounce } from '#core/bounce/analyze.ts';
import { buildCanaryMessage } from '#core/probe/canary-message.ts';
import { buildDsn } from '#local/demo/dsn.ts';

const CANARY = '01JGZ8W5V4N6K2M3P7Q9R1S0TX';
const date = new Date('2026-01-05T09:08:07Z');
const original = buildCanaryMessage({ canaryId: CANARY, from: 'shop@demo.test', to: ['full@customers.test', 'nobody@customers.test'], date });

function dsn(overrides: Partial<Parameters<typeof buildDsn>[0]> = {}) {
  return buildDsn({
    reportingMta: 'smtp.demo.test',
    returnTo: `bounce+${CANARY}@bounces.demo.test`,
    arrivalDate: date,
    date: new Date('2026-01-05T09:08:09Z'),
    recipients: [
      { recipient: 'full@customers.test', action: 'failed', status: '5.2.2', remoteMta: 'mx.customers.test', diagnostic: '552 5.2.2 <full@customers.test>: Mailbox full, quota exceeded', inReplyTo: 'RCPT TO' },
      { recipient: 'nobody@customers.test', action: 'failed', status: '5.1.1', remoteMta: 'mx.customers.test', diagnostic: '550 5.1.1 <nobody@customers.test>: User unknown', inReplyTo: 'RCPT TO' },
    ],
    original,
    token: 'A1B2C3',
    ...overrides,
  });
}

describe('buildDsn', () => {
  it('writes an RFC 3464 report with the fields an MTA writes', () => {
    // Act
    const text = dsn();

    // Assess
    expect(text).toMatch(/^Content-Type: multipart\/report; report-type=delivery-status;\r\n\tboundary="A1B2C3\.\d+\/smtp\.demo\.test"/m);
    expect(text).toContain('Content-Type: message/delivery-status');
    expect(text).toContain('Reporting-MTA: dns; smtp.demo.test');
    expect(text).toContain('Arrival-Date: Mon, 05 Jan 2026 09:08:07 +0000');
    expect(text).toContain('Final-Recipient: rfc822; full@customers.test');
    expect(text).toContain('Action: failed');
    expect(text).toContain('Remote-MTA: dns; mx.customers.test');
    expect(text).toContain('Diagnostic-Code: smtp; 552 5.2.2 <full@customers.test>: Mailbox full, quota');
    expect(text).toContain('Content-Type: text/rfc822-headers');
    expect(text).toContain(`X-Mail-Health-Canary: ${CANARY}`);
    // Only the returned headers, never the body.
    expect(text).not.toContain('You can delete it');
    expect(text.split('\r\n').every((l) => l.length <= 998)).toBe(true);
    expect(text).not.toMatch(/[^\r]\n/);
  });

  it('is read back by the bounce classifier: reason, status, remote MTA and canary per recipient', async () => {
    // Act
    const analysis = await analyzeBounce(Buffer.from(dsn(), 'utf8'), { parse: createMailParser() });

    // Assess
    expect(analysis.kind).toBe('bounce');
    expect(analysis.canaryId).toBe(CANARY);
    expect(analysis.recipients).toMatchObject([
      { recipient: 'full@customers.test', reason: 'mailboxfull', status: '5.2.2', replyCode: 552, remoteMta: 'mx.customers.test', canaryId: CANARY },
      { recipient: 'nobody@customers.test', reason: 'userunknown', status: '5.1.1', replyCode: 550, hard: true, canaryId: CANARY },
    ]);
  });

  it('says "delayed" for a recipient still being retried', async () => {
    const text = dsn({ recipients: [{ recipient: 'slow@customers.test', action: 'delayed', status: '4.4.1', remoteMta: null, diagnostic: 'connect to mx.customers.test: timed out' }] });
    expect(text).toContain('Subject: Delayed Mail (still being retried)');
    expect(text).toContain('Action: delayed');
    expect(text).toContain('Diagnostic-Code: X-mail-health; connect to mx.customers.test: timed out');
    const analysis = await analyzeBounce(Buffer.from(text, 'utf8'), { parse: createMailParser() });
    expect(analysis.recipients[0]).toMatchObject({ recipient: 'slow@customers.test', status: '4.4.1', hard: false });
  });
});
