import { describe, expect, it } from 'vitest';
import { createMailParser } from '#adapters/mail-parser.ts';
import { analyzeBounce } from '#core/bounce/analyze.ts';
import { classifyReason, commandIn } from '#core/bounce/classify.ts';
import { addressOfTyped, isHostNameDomain } from '#core/bounce/fields.ts';
import { splitAtOriginal } from '#core/bounce/scrape.ts';
import { ORIGINAL_MARKERS } from '#core/bounce/tables.ts';

/**
 * The classes of misreading of issue 26, each as a class: the returned original read as the
 * explanation, a plain statement that the recipient does not exist losing to a vaguer word or
 * a status class, a recipient dropped because its domain is not a host name, and read receipts
 * and challenge-response requests taken for bounces. Whole notices of each class are in the own
 * set (test/fixtures/bounces-wild, bounce-wild.test.ts); these hold the rules themselves.
 */

const parsers = [
  ['the fast splitter', createMailParser()],
  ['mailparser alone', createMailParser({ fastPath: false })],
] as const;
const message = (lines: readonly string[]) => new TextEncoder().encode(lines.join('\r\n'));

// An original's header block as a returning system writes it: trace fields, an authentication
// result, a signature. Its words ("dkim", "spf", status-like numbers in addresses) say nothing
// about the failure.
const RETURNED_HEADERS = [
  'Received: from mail-pw0-f45.example.com (mail-pw0-f45.example.com [209.85.210.45])',
  '        by mx.example.net with ESMTP id k4si1187563; Tue, 1 Apr 2025 09:00:01 +0900',
  'Authentication-Results: mx.example.net; spf=pass (example.net: domain of shop@example.jp designates 209.85.210.45 as permitted sender); dkim=pass header.i=@example.jp',
  'DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.jp; s=s1;',
  '        h=from:to:subject:date; bh=Ym9keQ==; b=c2ln',
  'From: Example Shop <shop@example.jp>',
  'To: mori@example.net',
  'Subject: Your order 1024 has shipped',
  'Message-ID: <20250401090000.1024@shop.example.jp>',
];

describe('the returned original is never the explanation', () => {
  it.each([
    '   ----- Message header follows -----',
    "------ This is a copy of the message's headers. ------",
    '--- Enclosed is a copy of the message.',
    '|------------------------- Message text follows: ------------------------|',
    '---- Header of the source mail attached ----',
    'Intestazioni originali del messaggio:',
    '-----Message d\'origine-----',
    '-----Ursprüngliche Nachricht-----',
  ])('recognizes the heading "%s" as the start of the returned original', (line) => {
    expect(ORIGINAL_MARKERS.some((re) => re.test(line.trim()))).toBe(true);
  });

  it.each([
    'The original message was received at Tue, 1 Apr 2025 09:00:00 +0900',
    'The original message follows as a separate attachment.',
    'delete your own text from the attached returned message.',
    'Undeliverable message',
  ])('does not take the sentence "%s" for a heading', (line) => {
    expect(ORIGINAL_MARKERS.some((re) => re.test(line.trim()))).toBe(false);
  });

  it('splits at a header block that follows the explanation without a marker line', () => {
    // Prepare
    const text = ['Delivery to the following recipient failed permanently:', '', '     mori@example.net', '', 'The error that the other server returned was: 550 No such user', '', ...RETURNED_HEADERS, '', 'Body'].join('\n');
    // Act
    const split = splitAtOriginal(text);
    // Assess
    expect(split.explanation).not.toMatch(/Received:|dkim/i);
    expect(split.original?.startsWith('Received: from mail-pw0-f45')).toBe(true);
  });

  it('keeps an echo of the subject and date in the explanation (no trace field: not a returned message)', () => {
    const text = ['Your message', '', 'Subject: Your order', 'Date: Tue, 1 Apr 2025 09:00:00 +0900', 'To: mori@example.net', '', 'did not reach the following recipient(s):', 'mori@example.net'].join('\n');
    expect(splitAtOriginal(text)).toEqual({ explanation: text, original: null });
  });

  it.each(parsers)('reads the cause from the notice, not from the original\'s headers after it (%s)', async (_name, parse) => {
    // Prepare: the remote reply is weak wording; the headers below it hold "dkim" and "spf"
    const raw = message([
      'From: Mail Delivery Subsystem <mailer-daemon@mx.example.jp>',
      'To: shop@example.jp',
      'Subject: Delivery Status Notification (Failure)',
      'Content-Type: text/plain',
      '',
      'Delivery to the following recipient failed permanently:',
      '',
      '     mori@example.net',
      '',
      'The error that the other server returned was: 550 Requested action not taken: mailbox unavailable',
      '',
      ...RETURNED_HEADERS,
      '',
      'Thank you for your order.',
    ]);
    // Act
    const analysis = await analyzeBounce(raw, { parse });
    // Assess
    expect(analysis.recipients).toMatchObject([{ recipient: 'mori@example.net', reason: 'userunknown', hard: true }]);
    expect(analysis.recipients[0]!.diagnostic).not.toMatch(/dkim|spf|Received/i);
  });

  it.each(parsers)('does not read the words of an echoed subject as the cause (%s)', async (_name, parse) => {
    // Prepare
    const raw = message([
      'From: System Administrator <postmaster@mail.example.net>',
      'To: shop@example.jp',
      'Subject: Undeliverable: Your DMARC report',
      'Content-Type: text/plain',
      '',
      'Your message did not reach some or all of the intended recipients.',
      '',
      '      Subject:\tYour DMARC and SPF report',
      '      Sent:\t4/1/2025 9:00 AM',
      '',
      'The following recipient(s) could not be reached:',
      '',
      '      taro@example.net on 4/1/2025 9:00 AM',
      '            <mail.example.net #5.0.0 smtp;550 Requested action not taken: mailbox unavailable>',
    ]);
    // Act
    const analysis = await analyzeBounce(raw, { parse });
    // Assess
    expect(analysis.recipients).toMatchObject([{ recipient: 'taro@example.net', reason: 'userunknown' }]);
  });

  it.each(parsers)('reads a text part holding the original\'s headers as the original (%s)', async (_name, parse) => {
    // Prepare
    const raw = message([
      'From: Mail Administrator <postmaster@relay.example.net>',
      'To: shop@example.jp',
      'Subject: Mail delivery failed',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="B"',
      '',
      '--B',
      'Content-Type: text/plain',
      '',
      'Your message could not be delivered to the following recipient:',
      '',
      '   ume@example.net',
      '',
      'The remote server answered: 550 Requested action not taken: mailbox unavailable',
      '',
      '--B',
      'Content-Type: text/plain; name="headers.txt"',
      'Content-Disposition: attachment; filename="headers.txt"',
      '',
      ...RETURNED_HEADERS,
      '',
      '--B--',
    ]);
    // Act
    const analysis = await analyzeBounce(raw, { parse });
    // Assess
    expect(analysis.recipients).toMatchObject([{ recipient: 'ume@example.net', reason: 'userunknown' }]);
  });
});

describe('the most specific statement about the recipient decides', () => {
  it.each([
    // [diagnostic, status, what a vaguer word or the status class made of it]
    ['550 5.7.1 <chiba@example.org>: Recipient address rejected: No such user', '5.7.1', 'filtered'],
    ['550 5.2.1 <ueda@example.jp>... Mailbox not found', '5.2.1', 'filtered'],
    ['550 5.7.1 <ota@example.net>: Recipient address rejected', '5.7.1', 'securityerror'],
    ['550 5.7.1 The user you are trying to reach does not exist here', '5.7.1', 'securityerror'],
    ['554 5.7.1 Delivery not authorized, message refused: invalid mailbox', '5.7.1', 'securityerror'],
    ['501 5.5.4 <sano@example.org>: the mailbox could not be found', '5.5.4', 'syntaxerror'],
    ['553 5.5.4 <sano@example.org>... Recipient address rejected', '5.5.4', 'syntaxerror'],
    ['550 User not found (LDAP lookup)', null, 'systemerror'],
    ['550 5.0.0 <hara@example.com>: User not found in LDAP directory', '5.0.0', 'systemerror'],
    ['550 Mailbox unavailable: no such user (policy rejection)', null, 'policyviolation'],
    ['550 Address kubo@example.net does not exist', null, 'hostunknown'],
    ['550 Invalid recipient: worms@example.net', null, 'virusdetected'],
    ['550 User taro was not found', '5.7.1', 'securityerror'],
  ])('reads "%s" (status %s) as userunknown, not %s', (diagnostic, status, _before) => {
    // Act
    const result = classifyReason({ diagnostic, status, command: commandIn(diagnostic) });
    // Assess
    expect(result).toMatchObject({ reason: 'userunknown', hard: true });
  });

  it('keeps the terse stock "User unknown" under a mailbox-disabled status the recipient\'s filter (an access-table refusal)', () => {
    expect(classifyReason({ diagnostic: '550 5.2.1 <neko@example.jp>... User Unknown', status: '5.2.1' }).reason).toBe('filtered');
  });

  it('reads even a plain statement as the recipient\'s filter when the server said it after DATA', () => {
    expect(classifyReason({ diagnostic: '550 kijitora@example.org... No such user', command: 'DATA' }).reason).toBe('filtered');
  });

  it('leaves a temporary directory failure to the system, whatever it says of the user', () => {
    expect(classifyReason({ diagnostic: '451 4.3.0 LDAP lookup failed: user not found', status: '4.3.0' }).reason).toBe('systemerror');
  });

  it('still reads "Domain example.net does not exist" as a missing domain', () => {
    expect(classifyReason({ diagnostic: '550 5.1.2 Domain example.net does not exist', status: '5.1.2' }).reason).toBe('hostunknown');
    expect(classifyReason({ diagnostic: '550 example.net does not exist' }).reason).toBe('hostunknown');
  });
});

describe('a recipient whose domain is not a host name', () => {
  it.each([
    ['taro@example.jp', true],
    ['taro@mail.example.co.jp', true],
    ['taro@[192.0.2.1]', true],
    ['taro@xn--eckwd4c7c.xn--zckzah', true],
    ['sato@mail_gw.example.org', false],
    ['kato@example.q', false],
    ['userx@sims-ms-daemon', false],
    ['a@-bad.example.jp', false],
    ['a@example.123', false],
  ])('%s is a host-name domain: %s', (address, valid) => {
    expect(isHostNameDomain(address)).toBe(valid);
  });

  it('is read from a DSN recipient field as written, and only there when asked', () => {
    expect(addressOfTyped('rfc822; sato@mail_gw.example.org')).toBeNull();
    expect(addressOfTyped('rfc822; sato@mail_gw.example.org', true)).toBe('sato@mail_gw.example.org');
  });

  it.each(parsers)('is kept as written, flagged, with the cause the report gives (%s)', async (_name, parse) => {
    // Prepare: a Sendmail-style text notice, the address in brackets and in the transcript
    const raw = message([
      'From: Mail Delivery Subsystem <MAILER-DAEMON@relay.example.jp>',
      'To: <shop@example.jp>',
      'Subject: Returned mail: see transcript for details',
      '',
      '   ----- The following addresses had permanent fatal errors -----',
      '<kato@example.q>',
      '    (reason: 550 5.1.1 <kato@example.q>... User unknown)',
      '',
      '   ----- Transcript of session follows -----',
      '... while talking to mx.example.q.:',
      '>>> RCPT To:<kato@example.q>',
      '<<< 550 5.1.1 <kato@example.q>... User unknown',
    ]);
    // Act
    const analysis = await analyzeBounce(raw, { parse });
    // Assess
    expect(analysis.recipients).toEqual([expect.objectContaining({ recipient: 'kato@example.q', reason: 'userunknown', status: '5.1.1', hard: true, recipientDomainInvalid: true })]);
  });

  it('gives way to the Original-Recipient when the Final-Recipient names an internal channel', async () => {
    // Prepare
    const raw = message([
      'From: Internet Mail Delivery <postmaster@example.com>',
      'To: shop@example.jp',
      'Subject: Delivery Notification: Delivery has failed',
      'MIME-Version: 1.0',
      'Content-Type: multipart/report; report-type=delivery-status; boundary="B"',
      '',
      '--B',
      'Content-Type: text/plain',
      '',
      'This report relates to a message you sent.',
      '',
      '--B',
      'Content-Type: message/delivery-status',
      '',
      'Reporting-MTA: dns;mta.example.com',
      '',
      'Original-recipient: rfc822;hana@example.com',
      'Final-recipient: rfc822;hana@ims-ms-daemon',
      'Action: failed',
      'Status: 5.2.2 (Mailbox full)',
      '',
      '--B--',
    ]);
    // Act
    const analysis = await analyzeBounce(raw, { parse: createMailParser() });
    // Assess
    expect(analysis.recipients).toEqual([expect.objectContaining({ recipient: 'hana@example.com', reason: 'mailboxfull' })]);
    expect(analysis.recipients[0]).not.toHaveProperty('recipientDomainInvalid');
  });
});

describe('read receipts and challenge-response requests', () => {
  const receipt = (disposition: string, extra: readonly string[] = []) =>
    message([
      'From: Hanako Suzuki <hanako@example.net>',
      'To: shop@example.jp',
      'Subject: Read: Your order 1024 has shipped',
      'MIME-Version: 1.0',
      'Content-Type: multipart/report; report-type=disposition-notification; boundary="R"',
      '',
      '--R',
      'Content-Type: text/plain',
      '',
      'This is a receipt for the mail you sent to hanako@example.net.',
      '',
      '--R',
      'Content-Type: message/disposition-notification',
      '',
      'Reporting-UA: mail.example.net; Example Mail',
      'Final-Recipient: rfc822;hanako@example.net',
      'Original-Message-ID: <20250401090000.1024@shop.example.jp>',
      `Disposition: ${disposition}`,
      ...extra,
      '',
      '--R--',
    ]);

  it.each(parsers)('reads "displayed", "dispatched", "processed" and "denied" as no bounce (%s)', async (_name, parse) => {
    for (const disposition of ['manual-action/MDN-sent-manually; displayed', 'automatic-action/MDN-sent-automatically; dispatched', 'automatic-action/MDN-sent-automatically; processed', 'manual-action/MDN-sent-manually; denied']) {
      // Act
      const analysis = await analyzeBounce(receipt(disposition), { parse });
      // Assess
      expect(analysis, disposition).toMatchObject({ isBounce: false, kind: 'receipt', recipients: [] });
    }
  });

  it.each(parsers)('reads a receipt that reports the message deleted unread or failed as a bounce (%s)', async (_name, parse) => {
    // Act
    const automatic = await analyzeBounce(receipt('automatic-action/MDN-sent-automatically; deleted'), { parse });
    const manual = await analyzeBounce(receipt('manual-action/MDN-sent-manually; deleted'), { parse });
    const expired = await analyzeBounce(receipt('automatic-action/MDN-sent-automatically; deleted/expired'), { parse });
    const failed = await analyzeBounce(receipt('automatic-action/MDN-sent-automatically; failed', ['Failure: mailbox quota exceeded']), { parse });
    const error = await analyzeBounce(receipt('automatic-action/MDN-sent-automatically; processed/error', ['Error: the mailbox has been disabled']), { parse });
    // Assess
    expect(automatic).toMatchObject({ isBounce: true, kind: 'bounce', recipients: [{ recipient: 'hanako@example.net', reason: 'filtered' }] });
    expect(manual.recipients).toMatchObject([{ recipient: 'hanako@example.net', reason: 'onhold' }]);
    expect(expired.recipients).toMatchObject([{ reason: 'expired' }]);
    expect(failed.recipients).toMatchObject([{ recipient: 'hanako@example.net', reason: 'mailboxfull' }]);
    expect(error.recipients).toMatchObject([{ reason: 'suspend' }]);
  });

  it('reads a plain-text read receipt as no bounce', async () => {
    const raw = message(['From: Saburo Ito <saburo@example.net>', 'To: shop@example.jp', 'Subject: Return Receipt: Your order 1033', '', 'Your document: Your order 1033', 'was received by: Saburo Ito', 'at: 2025/04/01 11:14:58']);
    expect(await analyzeBounce(raw, { parse: createMailParser() })).toMatchObject({ isBounce: false, kind: 'receipt' });
  });

  it.each(parsers)('reads a challenge-response request as no bounce, even from a mail system with a failure subject (%s)', async (_name, parse) => {
    // Prepare
    const raw = message([
      'From: Mail Filter <postmaster@example.net>',
      'To: shop@example.jp',
      'Subject: Undelivered mail: please confirm you are a person',
      'Content-Type: text/plain',
      '',
      'Your message to nishi@example.net has not been delivered yet.',
      'The recipient accepts mail only from senders who have proved once that they are people, not spam robots.',
    ]);
    // Act
    const analysis = await analyzeBounce(raw, { parse });
    // Assess
    expect(analysis).toMatchObject({ isBounce: false, kind: 'challenge', recipients: [] });
  });

  it('does not take a list moderator\'s "held for approval" notice for a challenge', async () => {
    const raw = message([
      'From: postmaster@example.com',
      'To: shop@example.jp',
      'Subject: Non-Delivery: Your message to sale-list awaits moderator approval',
      '',
      'The email below could not be delivered to the following user:',
      '',
      '"nakano@example.com" <nakano@example.com>',
      '',
      'Your mail to sale-list is being held until the list moderator can review it for approval.',
    ]);
    expect((await analyzeBounce(raw, { parse: createMailParser() })).kind).not.toBe('challenge');
  });
});
