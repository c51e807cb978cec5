import { describe, expect, it } from 'vitest';
import { createMailParser } from '#adapters/mail-parser.ts';
import { analyzeBounce, analyzeBounceText } from '#core/bounce/analyze.ts';
import { looksHeaderless } from '#core/bounce/headerless.ts';

const parse = createMailParser();
const enc = (s: string) => new TextEncoder().encode(s);

describe('analyzeBounceText (a notice pasted from a mail program)', () => {
  it('reads the body of a Postfix notice without its headers', async () => {
    // Prepare: what a mail program shows of a Postfix bounce
    const text = [
      'This is the mail system at host mail.example.jp.',
      '',
      "I'm sorry to have to inform you that your message could not",
      'be delivered to one or more recipients. It\'s attached below.',
      '',
      '                   The mail system',
      '',
      '<hana@example.net>: host mx.example.net[192.0.2.25] said: 552 5.2.2',
      '    <hana@example.net>: Recipient address rejected: Mailbox full (in reply to',
      '    RCPT TO command)',
    ].join('\n');
    // Act
    const analysis = await analyzeBounceText(text, { parse });
    // Assess
    expect(analysis.kind).toBe('bounce');
    expect(analysis.recipients).toMatchObject([{ recipient: 'hana@example.net', reason: 'mailboxfull', status: '5.2.2', replyCode: 552 }]);
    expect(analysis.recipients[0]!.recipientInferred).toBeUndefined();
  });

  it('reads a stored body that still shows its MIME parts (a delivery-status part among them)', async () => {
    // Prepare: the body of a multipart/report, cut from its headers
    const body = [
      'This is a MIME-encapsulated message.',
      '',
      '--B0UND',
      'Content-Type: text/plain; charset=us-ascii',
      '',
      'Delivery to the following recipient failed permanently.',
      '',
      '--B0UND',
      'Content-Type: message/delivery-status',
      '',
      'Reporting-MTA: dns; mx.example.net',
      '',
      'Final-Recipient: rfc822; ken@example.org',
      'Action: failed',
      'Status: 5.1.1',
      'Diagnostic-Code: smtp; 550 5.1.1 No such user',
      '',
      '--B0UND--',
      '',
    ].join('\r\n');
    // Act: a file without headers goes through the ordinary entry point, too
    const analysis = await analyzeBounce(enc(body), { parse });
    // Assess
    expect(analysis.recipients).toMatchObject([{ recipient: 'ken@example.org', reason: 'userunknown', status: '5.1.1', hard: true }]);
    expect(analysis.notes.join(' ')).toMatch(/no headers/);
  });

  it('decodes a quoted-printable body that lost the header saying so', async () => {
    const body = 'Your message to ume@example.fr could not be delivered =E2=80=94 the recipient=E2=80=99s=\n mailbox is full.\n';
    const analysis = await analyzeBounceText(body, { parse });
    expect(analysis.recipients).toMatchObject([{ recipient: 'ume@example.fr', reason: 'mailboxfull' }]);
  });

  it('does not call an ordinary text a bounce', async () => {
    const analysis = await analyzeBounce(enc('Hello Hana,\n\nsee you at the shop tomorrow.\nken@example.org\n'), { parse });
    expect(analysis).toMatchObject({ isBounce: false, kind: 'none', recipients: [] });
  });

  it('reads pasted text that kept its headers as the message it is', async () => {
    const message = 'From: MAILER-DAEMON@mx.example.net\nSubject: failure notice\n\nHi. This is the qmail-send program at mx.example.net.\n\n<ume@example.com>:\nSorry, no mailbox here by that name. (#5.1.1)\n';
    const analysis = await analyzeBounceText(message, { parse });
    expect(analysis.recipients).toMatchObject([{ recipient: 'ume@example.com', reason: 'userunknown' }]);
  });
});

describe('looksHeaderless', () => {
  it('tells a header block from a body and from a pasted delivery-status block', () => {
    expect(looksHeaderless(enc('Received: from x\nFrom: a@example.jp\nSubject: s\n\nbody'))).toBe(false);
    expect(looksHeaderless(enc('From MAILER-DAEMON Thu Jul 11 15:53:40 2002\nFrom: a@example.jp\n\nbody'))).toBe(false);
    expect(looksHeaderless(enc('Your message could not be delivered.\n'))).toBe(true);
    expect(looksHeaderless(enc('Final-Recipient: rfc822; a@example.jp\nAction: failed\nStatus: 5.1.1\n'))).toBe(true);
    expect(looksHeaderless(enc('\n\nThis is a multi-part message in MIME format.\n'))).toBe(true);
  });
});
