import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createMailParser } from '#adapters/mail-parser.ts';
import { analyzeBounce, readBounce } from '#core/bounce/analyze.ts';
import type { ParsedMessage } from '#core/bounce/message.ts';
import type { MessageParser } from '#core/ports.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'bounces');

interface FixtureEntry {
  file: string;
  mta: string;
  kind?: string;
  canaryId: string | null;
  deliveredCanaryId?: string;
  recipients: { recipient: string; reason: string; status: string | null; replyCode: number | null; hard: boolean }[];
}

const manifest = JSON.parse(readFileSync(join(FIXTURES, 'manifest.json'), 'utf8')) as { messages: FixtureEntry[] };
const bytes = (file: string) => new Uint8Array(readFileSync(join(FIXTURES, file)));

describe('analyzeBounce', () => {
  describe.each([
    ['the fast splitter', createMailParser()],
    ['mailparser alone', createMailParser({ fastPath: false })],
  ])('on the fixture messages, parsed by %s', (_name, parse) => {
    it.each(manifest.messages.map((m) => [m.file, m] as const))('reads %s as its manifest says', async (file, expected) => {
      // Prepare
      const raw = bytes(file);
      // Act
      const analysis = await analyzeBounce(raw, { parse });
      // Assess
      const got = analysis.recipients.map(({ recipient, reason, status, replyCode, hard }) => ({ recipient, reason, status, replyCode, hard }));
      expect(got).toEqual(expected.recipients);
      expect(analysis.canaryId).toBe(expected.canaryId);
      expect(analysis.kind).toBe(expected.kind ?? 'bounce');
      expect(analysis.deliveredCanaryId).toBe(expected.deliveredCanaryId ?? null);
    });
  });

  it('covers every MTA family and charset the issue names', () => {
    const mtas = manifest.messages.map((m) => m.mta).join(' | ');
    for (const family of ['Postfix', 'Sendmail', 'Exim', 'qmail', 'Exchange', 'Gmail', 'Yahoo', 'Domino', 'Courier', 'KDDI', 'docomo', 'SoftBank', 'OCN', 'BIGLOBE', 'm-FILTER', 'ARF', 'auto-reply']) {
      expect(mtas).toContain(family);
    }
    const charsets = manifest.messages.map((m) => (m as { charset?: string }).charset ?? '').join(' ');
    for (const charset of ['ISO-2022-JP', 'Shift_JIS', 'EUC-JP']) expect(charsets).toContain(charset);
  });

  it('recognizes a delivered canary that is not a bounce', async () => {
    const analysis = await analyzeBounce(bytes('delivered-canary.eml'), { parse: createMailParser() });
    expect(analysis).toMatchObject({ isBounce: false, kind: 'none', recipients: [], deliveredCanaryId: '01JDQ7Z3K4M5N6P7Q8R9S0T1V2', canaryId: null });
  });

  it('reads only the first part of a message over the size cap, and says so', async () => {
    // Prepare: a real bounce followed by a huge returned attachment
    const head = bytes('postfix-userunknown.eml');
    const filler = new TextEncoder().encode(`${'x'.repeat(999)}\n`.repeat(200));
    const raw = new Uint8Array(head.length + filler.length);
    raw.set(head);
    raw.set(filler, head.length);
    // Act
    const analysis = await analyzeBounce(raw, { parse: createMailParser(), maxBytes: head.length + 50_000 });
    // Assess
    expect(analysis.truncated).toBe(true);
    expect(analysis.notes.join(' ')).toMatch(/read the first part only/);
    expect(analysis.recipients[0]?.reason).toBe('userunknown');
  });

  it('still gives a result when the parser itself fails', async () => {
    // Prepare
    const broken: MessageParser = async () => {
      throw new Error('parser exploded');
    };
    // Act
    const analysis = await analyzeBounce(bytes('qmail-two-recipients.eml'), { parse: broken });
    // Assess
    expect(analysis.notes.join(' ')).toMatch(/parser failed \(parser exploded\)/);
    expect(analysis.recipients.map((r) => r.recipient)).toContain('ichiro@qmail.example.com');
  });

  it('shows the returned report\'s failure line when a gateway\'s own notice names no cause', async () => {
    // Act
    const analysis = await analyzeBounce(bytes('interscan-returned-bounce.eml'), { parse: createMailParser() });
    // Assess
    expect(analysis.recipients[0]?.diagnostic).toMatch(/550 5\.1\.1 <momo@partner\.example\.net>\.\.\. Invalid recipient/);
  });

  it('returns "not a bounce" for an ordinary message', async () => {
    const raw = new TextEncoder().encode('From: friend@example.com\nTo: shop@example.jp\nSubject: Hello\n\nSee you tomorrow.\n');
    const analysis = await analyzeBounce(raw, { parse: createMailParser() });
    expect(analysis).toMatchObject({ isBounce: false, kind: 'none', recipients: [], deliveredCanaryId: null });
  });

  it('gives reason onhold, not an exception, for a failure whose stated cause it cannot read', async () => {
    const raw = new TextEncoder().encode('From: MAILER-DAEMON@mx.example.net\nTo: shop@example.jp\nSubject: Undelivered Mail\n\n<hana@example.net>: something went sideways\n');
    const analysis = await analyzeBounce(raw, { parse: createMailParser() });
    expect(analysis.isBounce).toBe(true);
    expect(analysis.recipients).toMatchObject([{ recipient: 'hana@example.net', reason: 'onhold', status: null, hard: false }]);
  });

  it('gives reason undefined when the report says nothing at all about the recipient', async () => {
    const raw = new TextEncoder().encode(
      'From: MAILER-DAEMON@mx.example.net\nTo: shop@example.jp\nSubject: Undelivered Mail Returned to Sender\nContent-Type: multipart/report; report-type=delivery-status; boundary="b"\n\n--b\nContent-Type: text/plain\n\n--- Delivery report unavailable ---\n--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.net\n--b\nContent-Type: text/rfc822-headers\n\nFrom: shop@example.jp\nTo: hana@example.net\nSubject: Your order\n--b--\n',
    );
    const analysis = await analyzeBounce(raw, { parse: createMailParser() });
    expect(analysis.isBounce).toBe(true);
    expect(analysis.recipients).toMatchObject([{ recipient: 'hana@example.net', reason: 'undefined', status: null }]);
  });
});

describe('readBounce', () => {
  it('works on the parsed shape alone, whatever parser produced it', () => {
    // Prepare: a hand-made parsed message, as any other parser could produce it
    const message: ParsedMessage = {
      headers: [
        { name: 'from', value: 'MAILER-DAEMON@mx.example.net' },
        { name: 'to', value: 'bounce+01JDQ7Z3K4M5N6P7Q8R9S0T1V2@bounces.example.jp' },
        { name: 'subject', value: 'Delivery Status Notification (Failure)' },
      ],
      contentType: 'multipart/report',
      contentTypeParams: { 'report-type': 'delivery-status' },
      parts: [
        { type: 'text/plain', text: 'Delivery failed.' },
        { type: 'message/delivery-status', text: 'Reporting-MTA: dns; mx.example.net\n\nFinal-Recipient: rfc822; ken@example.org\nAction: failed\nStatus: 5.2.2\nDiagnostic-Code: smtp; 552 5.2.2 Mailbox full\n' },
      ],
      parser: 'test',
      notes: [],
    };
    // Act
    const analysis = readBounce(message);
    // Assess
    expect(analysis.recipients).toEqual([
      { recipient: 'ken@example.org', reason: 'mailboxfull', status: '5.2.2', replyCode: 552, hard: false, diagnostic: '552 5.2.2 Mailbox full', remoteMta: null, canaryId: '01JDQ7Z3K4M5N6P7Q8R9S0T1V2' },
    ]);
  });
});

describe('readBounce with a reporter\'s conventions', () => {
  const gatewayNotice = (stage: string): ParsedMessage => ({
    headers: [
      { name: 'from', value: '<MAILER-DAEMON@gw.example.com>' },
      { name: 'subject', value: 'Undeliverable mail' },
      { name: 'x-mailer', value: 'SurfControl E-mail Filter' },
    ],
    contentType: 'text/plain',
    contentTypeParams: {},
    parts: [{ type: 'text/plain', text: `Your message could not be delivered.\n\n<ume@example.com>\n    550 ume@example.com... No such user${stage}\n` }],
    parser: 'hand-made',
    notes: [],
  });

  it('reads a filtering gateway\'s "no such user" as the filter\'s refusal', () => {
    // Act
    const analysis = readBounce(gatewayNotice(''));
    // Assess
    expect(analysis.recipients).toMatchObject([{ recipient: 'ume@example.com', reason: 'filtered', hard: false }]);
  });

  it('keeps it a missing mailbox when the gateway shows the refusal came at RCPT TO', () => {
    // Act
    const analysis = readBounce(gatewayNotice(' (in reply to RCPT TO command)'));
    // Assess
    expect(analysis.recipients).toMatchObject([{ recipient: 'ume@example.com', reason: 'userunknown', hard: true }]);
  });

  it('leaves the same text from an unknown reporter a missing mailbox', () => {
    // Prepare
    const message = gatewayNotice('');
    const plain: ParsedMessage = { ...message, headers: message.headers.filter((h) => h.name !== 'x-mailer') };
    // Act
    const analysis = readBounce(plain);
    // Assess
    expect(analysis.recipients).toMatchObject([{ recipient: 'ume@example.com', reason: 'userunknown' }]);
  });
});

describe('readBounce with what a receiving system\'s words mean', () => {
  const relayed = (recipient: string, remote: string, status: string, stage: string): ParsedMessage => ({
    headers: [
      { name: 'from', value: 'MAILER-DAEMON@mail.example.jp (Mail Delivery System)' },
      { name: 'subject', value: 'Undelivered Mail Returned to Sender' },
    ],
    contentType: 'multipart/report',
    contentTypeParams: { 'report-type': 'delivery-status' },
    parts: [
      { type: 'text/plain', text: `<${recipient}>: 550 Unknown user ${recipient}${stage}\n` },
      { type: 'message/delivery-status', text: `Reporting-MTA: dns; mail.example.jp\n\nFinal-Recipient: rfc822; ${recipient}\nAction: failed\nStatus: ${status}\n${remote ? `Remote-MTA: dns; ${remote}\n` : ''}Diagnostic-Code: smtp; 550 Unknown user ${recipient}\n` },
    ],
    parser: 'hand-made',
    notes: [],
  });

  it('reads docomo\'s "Unknown user" after DATA as its reception settings refusing the sender', () => {
    // Act
    const analysis = readBounce(relayed('hana@docomo.ne.jp', 'mfsmax.docomo.ne.jp', '5.0.0', ' (in reply to end of DATA command)'));
    // Assess
    expect(analysis.recipients).toMatchObject([{ recipient: 'hana@docomo.ne.jp', reason: 'rejected', hard: false }]);
  });

  it('keeps it the mailbox\'s filter when the reporting MTA filed it under a mailbox status', () => {
    // Act
    const analysis = readBounce(relayed('hana@docomo.ne.jp', 'mfsmax.docomo.ne.jp', '5.2.0', ' (in reply to end of DATA command)'));
    // Assess
    expect(analysis.recipients).toMatchObject([{ reason: 'filtered' }]);
  });

  it('does not call a docomo address missing when the report does not say at which stage', () => {
    // Act
    const docomo = readBounce(relayed('hana@docomo.ne.jp', '', '5.0.0', ''));
    const elsewhere = readBounce(relayed('hana@mail.example.net', 'mx.example.net', '5.0.0', ''));
    // Assess
    expect(docomo.recipients).toMatchObject([{ reason: 'filtered', hard: false }]);
    expect(elsewhere.recipients).toMatchObject([{ reason: 'userunknown', hard: true }]);
  });

  it('gives each recipient of a Sendmail V5 transcript its own lines, not the next host\'s', () => {
    // Prepare: Sendmail writes "NNN host (smtp)... status" above the recipient line it belongs to
    const text = [
      '   ----- Transcript of session follows -----',
      'While talking to mx.example.edu:',
      '>>> DATA',
      '<<< 554 Transaction failed',
      '421 mx.example.edu (smtp)... Deferred: Connection reset by peer during result wait with mx.example.edu',
      '554 <ken@example.edu>... Remote protocol error: Connection reset by peer during result wait with mx.example.edu',
      '550 example.or.jp (smtp)... 550 Host unknown',
      '554 <yui@example.or.jp>... 550 Host unknown (Authoritative answer from name server)',
    ].join('\n');
    const message: ParsedMessage = {
      headers: [
        { name: 'from', value: 'Mail Delivery Subsystem <MAILER-DAEMON@example.com>' },
        { name: 'subject', value: 'Returned mail: Host unknown' },
      ],
      contentType: 'text/plain',
      contentTypeParams: {},
      parts: [{ type: 'text/plain', text }],
      parser: 'hand-made',
      notes: [],
    };
    // Act
    const analysis = readBounce(message);
    // Assess
    const ken = analysis.recipients.find((r) => r.recipient === 'ken@example.edu');
    expect(ken?.reason).not.toBe('hostunknown');
    expect(ken?.diagnostic).not.toContain('Host unknown');
    expect(analysis.recipients.find((r) => r.recipient === 'yui@example.or.jp')).toMatchObject({ reason: 'hostunknown' });
  });
});
