import { describe, expect, it } from 'vitest';
import { createMailParser, splitMessage } from '#adapters/mail-parser.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};
// "配信できません" ("cannot be delivered") in the three Japanese mail encodings, written out as bytes.
const ISO_2022_JP = new Uint8Array([0x1b, 0x24, 0x42, 0x47, 0x5b, 0x3f, 0x2e, 0x24, 0x47, 0x24, 0x2d, 0x24, 0x5e, 0x24, 0x3b, 0x24, 0x73, 0x1b, 0x28, 0x42]);
const SHIFT_JIS = new Uint8Array([0x94, 0x7a, 0x90, 0x4d, 0x82, 0xc5, 0x82, 0xab, 0x82, 0xdc, 0x82, 0xb9, 0x82, 0xf1]);
const EUC_JP = new Uint8Array([0xc7, 0xdb, 0xbf, 0xae, 0xa4, 0xc7, 0xa4, 0xad, 0xa4, 0xde, 0xa4, 0xbb, 0xa4, 0xf3]);
const JA = '配信できません';

describe('splitMessage (the fast path)', () => {
  it('unfolds headers and decodes RFC 2047 words in any charset', () => {
    // Prepare
    const subject = `=?ISO-2022-JP?B?${Buffer.from(ISO_2022_JP).toString('base64')}?= =?UTF-8?Q?=E2=9C=89?=`;
    const raw = enc(`From: MAILER-DAEMON@example.jp\nSubject: ${subject}\nX-Long: one\n two\n\nbody\n`);
    // Act
    const { message, ok } = splitMessage(raw);
    // Assess
    expect(ok).toBe(true);
    expect(message.headers).toContainEqual({ name: 'subject', value: `${JA}✉` });
    expect(message.headers).toContainEqual({ name: 'x-long', value: 'one two' });
  });

  it.each([
    ['ISO-2022-JP', 'iso-2022-jp', ISO_2022_JP],
    ['Shift_JIS', 'Shift_JIS', SHIFT_JIS],
    ['EUC-JP', 'EUC-JP', EUC_JP],
  ])('decodes a %s body', (_name, charset, body) => {
    const raw = concat(enc(`Content-Type: text/plain; charset=${charset}\nContent-Transfer-Encoding: 8bit\n\n`), body, enc('\n'));
    expect(splitMessage(raw).message.parts[0]?.text.trim()).toBe(JA);
  });

  it('guesses Japanese text whose charset was not declared', () => {
    expect(splitMessage(concat(enc('Subject: x\n\n'), EUC_JP)).message.parts[0]?.text).toBe(JA);
    expect(splitMessage(concat(enc('Subject: x\n\n'), SHIFT_JIS)).message.parts[0]?.text).toBe(JA);
    expect(splitMessage(concat(enc('Subject: x\n\n'), ISO_2022_JP)).message.parts[0]?.text).toBe(JA);
  });

  it('undoes quoted-printable and base64', () => {
    const raw = enc(
      'Content-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n550 5.1.1 Recipient not fo=\nund =E2=9C=89\n--b\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n' +
        `${Buffer.from('Mailbox full').toString('base64')}\n--b--\n`,
    );
    const texts = splitMessage(raw).message.parts.map((p) => p.text.trim());
    expect(texts).toEqual(['550 5.1.1 Recipient not found ✉', 'Mailbox full']);
  });

  it('keeps report parts and the returned original apart, in order', () => {
    const raw = enc(
      'Content-Type: multipart/report; report-type=delivery-status; boundary="r"\n\n--r\n\nsee below\n--r\nContent-Type: message/delivery-status\n\nFinal-Recipient: rfc822; a@example.jp\n--r\nContent-Type: text/rfc822-headers\n\nTo: a@example.jp\n--r--\n',
    );
    const { message } = splitMessage(raw);
    expect(message.contentType).toBe('multipart/report');
    expect(message.contentTypeParams['report-type']).toBe('delivery-status');
    expect(message.parts.map((p) => p.type)).toEqual(['text/plain', 'message/delivery-status', 'text/rfc822-headers']);
  });

  it('does not mistake a longer nested boundary for its own', () => {
    const raw = enc('Content-Type: multipart/mixed; boundary="ab"\n\n--ab\nContent-Type: multipart/alternative; boundary="abc"\n\n--abc\n\ninner\n--abc--\n--ab\n\nouter\n--ab--\n');
    expect(splitMessage(raw).message.parts.map((p) => p.text.trim())).toEqual(['inner', 'outer']);
  });

  it('reads the whole body as text when the boundary is missing, and notes it', () => {
    const { message, ok } = splitMessage(enc('Content-Type: multipart/report; boundary="gone"\n\nFinal-Recipient: rfc822; a@example.jp\nStatus: 5.1.1\n'));
    expect(ok).toBe(true);
    expect(message.parts[0]?.text).toContain('Final-Recipient');
    expect(message.notes.join(' ')).toMatch(/boundary not found/);
  });

  it('reads an HTML-only message as its text, and declines charsets it does not know, for mailparser to handle', () => {
    const html = splitMessage(enc('Content-Type: text/html\n\n<p>Recipient:&nbsp;a@example.jp<br>Mailbox &amp; quota full</p>\n'));
    expect(html).toMatchObject({ ok: true });
    expect(html.message.parts[0]).toEqual({ type: 'text/plain', text: 'Recipient: a@example.jp\nMailbox & quota full' });
    expect(splitMessage(enc('Content-Type: text/plain; charset=x-unheard-of\n\nhi \xff\n'))).toMatchObject({ ok: false });
  });
});

describe('createMailParser', () => {
  it('turns an HTML-only bounce into text, through either path', async () => {
    const raw = enc('From: postmaster@example.net\nContent-Type: text/html; charset=utf-8\n\n<html><head><title>x</title></head><body><p>Your message to <b>a@example.jp</b> could not be delivered: mailbox full</p></body></html>\n');
    for (const parse of [createMailParser(), createMailParser({ fastPath: false })]) {
      const message = await parse(raw);
      expect(message.parts[0]?.text).toBe('Your message to a@example.jp could not be delivered: mailbox full');
    }
  });

  it('gives the same shape through either path', async () => {
    const raw = enc('From: MAILER-DAEMON@example.jp\nSubject: Undelivered\nContent-Type: multipart/report; report-type=delivery-status; boundary="z"\n\n--z\nContent-Type: text/plain\n\nfailed\n--z\nContent-Type: message/delivery-status\n\nFinal-Recipient: rfc822; a@example.jp\nStatus: 5.1.1\n--z--\n');
    const fast = await createMailParser()(raw);
    const slow = await createMailParser({ fastPath: false })(raw);
    expect(slow.contentType).toBe(fast.contentType);
    expect(slow.parts.map((p) => p.type)).toEqual(fast.parts.map((p) => p.type));
    expect(slow.parts[1]?.text.trim()).toBe(fast.parts[1]?.text.trim());
    expect(slow.headers.find((h) => h.name === 'subject')).toEqual({ name: 'subject', value: 'Undelivered' });
  });

  it('never loses a body that mailparser cannot place', async () => {
    const message = await createMailParser({ fastPath: false })(enc('Content-Type: multipart/report; boundary="gone"\n\nFinal-Recipient: rfc822; a@example.jp\n'));
    expect(message.parts.map((p) => p.text).join('')).toContain('Final-Recipient');
  });
});
