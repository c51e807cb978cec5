import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createMailParser } from '#adapters/mail-parser.ts';
import { analyzeBounce, type BounceAnalysis } from '#core/bounce/analyze.ts';
import { BOUNCE_REASONS } from '#core/results.ts';

// A hang detector, not a speed figure: a normal message takes well under a millisecond. Counted
// in this process's CPU time (vitest runs each test file in its own forked process), so that
// other programs busy on a shared machine do not count as the classifier hanging.
const PER_MESSAGE_LIMIT_MS = 2_000;
const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'bounces');
const fixtures = readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.eml'))
  .map((f) => new Uint8Array(readFileSync(join(FIXTURES, f))));
const parsers = [createMailParser(), createMailParser({ fastPath: false })];
const reasons = new Set<string>(BOUNCE_REASONS);
const enc = (s: string) => new TextEncoder().encode(s);

/** Analyses with both parser setups; fails on an exception, a malformed result or a hang. */
async function survives(raw: Uint8Array): Promise<void> {
  for (const parse of parsers) {
    const started = process.cpuUsage();
    const analysis: BounceAnalysis = await analyzeBounce(raw, { parse });
    const used = process.cpuUsage(started);
    const elapsed = (used.user + used.system) / 1000;
    expect(elapsed).toBeLessThan(PER_MESSAGE_LIMIT_MS);
    expect(typeof analysis.isBounce).toBe('boolean');
    for (const r of analysis.recipients) {
      expect(reasons.has(r.reason)).toBe(true);
      expect(typeof r.recipient).toBe('string');
      expect(typeof r.hard).toBe('boolean');
    }
  }
}

// Pieces real (and broken) bounces are made of.
const headerLine = fc.oneof(
  fc.constantFrom(
    'From: MAILER-DAEMON@mx.example.net',
    'Subject: Undelivered Mail Returned to Sender',
    'Subject: =?ISO-2022-JP?B?GyRCR1s/LiQHJC0kXiQ7JHMbKEI=?=',
    'Subject: =?x-bogus?Q?=ZZ?=',
    'X-Failed-Recipients: a@example.jp',
    'Auto-Submitted: auto-replied',
    'Content-Transfer-Encoding: base64',
    'Content-Transfer-Encoding: quoted-printable',
    'Content-Transfer-Encoding: x-uuencode',
  ),
  fc.tuple(
    fc.constantFrom('multipart/report', 'multipart/mixed', 'text/plain', 'message/rfc822', 'text/html', 'multipart/alternative'),
    fc.constantFrom('', '; boundary="b"', '; boundary=b', '; boundary=""', '; boundary="b"; report-type=delivery-status', '; charset=iso-2022-jp', '; charset=shift_jis', '; charset=bogus'),
  ).map(([t, p]) => `Content-Type: ${t}${p}`),
  fc.string({ maxLength: 60 }).map((s) => `X-Random: ${s}`),
);
const bodyLine = fc.oneof(
  fc.constantFrom(
    '--b',
    '--b--',
    '--',
    '',
    'Content-Type: message/delivery-status',
    'Final-Recipient: rfc822; taro@example.jp',
    'Final-Recipient: rfc822;',
    'Original-Recipient: <>',
    'Action: failed',
    'Action: delayed',
    'Status: 5.1.1',
    'Status: 9.9.9999',
    'Diagnostic-Code: smtp; 550 5.1.1 <taro@example.jp>... User unknown',
    'Diagnostic-Code: smtp; 552-5.7.0 continued',
    '<taro@example.jp>: host mx said: 550 Unknown user (in reply to end of DATA command)',
    '>>> DATA',
    '<<< 550 5.2.2 Mailbox full',
    '----- Original message -----',
    'X-Mail-Health-Canary: 01JDQ7Z3K4M5N6P7Q8R9S0T1V2',
    '{"notificationType":"Bounce","bounce":{"bouncedRecipients":[{"emailAddress":5}]}}',
    '=?UTF-8?B?broken',
    '=E3=81=',
  ),
  fc.string({ maxLength: 80 }),
  fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b).toString('latin1')),
);
const message = fc
  .tuple(fc.array(headerLine, { maxLength: 8 }), fc.array(bodyLine, { maxLength: 40 }), fc.constantFrom('\n', '\r\n', '\r'), fc.option(fc.nat(), { nil: undefined }))
  .map(([headers, body, eol, cut]) => {
    const text = `${headers.join(eol)}${eol}${eol}${body.join(eol)}`;
    const bytes = Buffer.from(text, 'latin1');
    return new Uint8Array(cut === undefined ? bytes : bytes.subarray(0, cut % (bytes.length + 1)));
  });

describe('analyzeBounce on hostile input', () => {
  it('survives random bytes', async () => {
    await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 4096 }), survives), { numRuns: 150 });
  });

  it('survives malformed MIME: broken boundaries, wrong charsets and encodings, truncation', async () => {
    await fc.assert(fc.asyncProperty(message, survives), { numRuns: 300 });
  });

  it('survives real bounces with bytes flipped, cut or spliced in', async () => {
    const mutated = fc
      .tuple(fc.constantFrom(...fixtures), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 20 }), fc.nat(), fc.uint8Array({ maxLength: 64 }))
      .map(([raw, flips, cut, splice]) => {
        const copy = new Uint8Array(raw);
        for (const [at, byte] of flips) copy[at % copy.length] = byte;
        const end = cut % (copy.length + 1);
        const out = new Uint8Array(end + splice.length);
        out.set(copy.subarray(0, end));
        out.set(splice, end);
        return out;
      });
    await fc.assert(fc.asyncProperty(mutated, survives), { numRuns: 200 });
  });

  it('survives structures built to be slow: deep nesting, many parts, one endless line', async () => {
    const deep = enc(`${Array.from({ length: 60 }, (_, i) => `Content-Type: multipart/mixed; boundary="b${i}"\n\n--b${i}\n`).join('')}550 5.1.1 x\n`);
    const wide = enc(`Content-Type: multipart/mixed; boundary="w"\n\n${'--w\nContent-Type: text/plain\n\n550 Unknown user a@example.jp\n'.repeat(5000)}--w--\n`);
    const longLine = enc(`From: MAILER-DAEMON@example.net\nSubject: failure notice\n\n<a@example.jp>: ${'550 5.1.1 '.repeat(200_000)}\n`);
    const manyRcpts = enc(`From: MAILER-DAEMON@example.net\nSubject: failure notice\n\n${Array.from({ length: 5_000 }, (_, i) => `<u${i}@example.jp>:\n>>> DATA\n<<< 550 x\n`).join('')}`);
    for (const raw of [deep, wide, longLine, manyRcpts]) await survives(raw);
  });

  it('reads a message far over the size cap from its first part, flagged', async () => {
    // Prepare: 12 MB, over the 10 MB cap
    const head = enc('From: MAILER-DAEMON@example.net\nSubject: Undelivered Mail\nContent-Type: multipart/mixed; boundary="big"\n\n--big\nContent-Type: text/plain\n\n<a@example.jp>: 552 5.2.2 Mailbox full\n--big\nContent-Type: message/rfc822\n\n');
    const raw = new Uint8Array(12 * 1024 * 1024);
    raw.fill(0x41);
    raw.set(head);
    for (let i = head.length + 100; i < raw.length; i += 100) raw[i] = 0x0a;
    // Act
    const analysis = await analyzeBounce(raw, { parse: createMailParser() });
    // Assess
    expect(analysis.truncated).toBe(true);
    expect(analysis.recipients).toMatchObject([{ recipient: 'a@example.jp', reason: 'mailboxfull' }]);
  });
});
