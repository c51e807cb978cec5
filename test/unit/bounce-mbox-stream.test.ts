import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createMailboxSplitter, splitMailbox } from '#core/bounce/mbox.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);
const BIG = 10 * 1024 * 1024;

/** Feeds `raw` to a streaming splitter in chunks of the given sizes (cycled). */
function splitInChunks(raw: Uint8Array, sizes: readonly number[], maxMessageBytes = BIG): string[] {
  const splitter = createMailboxSplitter({ maxMessageBytes });
  const out: Uint8Array[] = [];
  let at = 0;
  for (let k = 0; at < raw.length; k++) {
    const size = Math.max(1, sizes[k % sizes.length]!);
    out.push(...splitter.push(raw.subarray(at, at + size)));
    at += size;
  }
  out.push(...splitter.end());
  return out.map(dec);
}

const SEPARATORS = ['From MAILER-DAEMON  Thu Apr 29 23:34:45 2015', 'From postmaster@example.jp Fri Apr 30 01:02:03 2015', 'From a@b Tue Apr  1 09:00:00 2025'];
const LINES = ['Subject: x', '', 'From the desk of the postmaster:', 'body', 'x'.repeat(300), '\r', 'From me to you', 'From: MAILER-DAEMON'];

describe('createMailboxSplitter', () => {
  it('gives the same messages as splitMailbox, however the file is cut into chunks', () => {
    // Prepare: mailboxes made of separators, blank lines and look-alike body lines, LF or CRLF.
    const mailbox = fc
      .tuple(
        fc.array(fc.tuple(fc.constantFrom(...SEPARATORS), fc.array(fc.constantFrom(...LINES), { maxLength: 8 })), { minLength: 1, maxLength: 6 }),
        fc.boolean(),
        fc.boolean(),
      )
      .map(([messages, crlf, mailboxStart]) => {
        const eol = crlf ? '\r\n' : '\n';
        const text = messages.map(([sep, lines]) => [sep, ...lines, ''].join(eol)).join(eol);
        return mailboxStart ? text : `Subject: not a mailbox${eol}${eol}${text}`;
      });
    fc.assert(
      fc.property(mailbox, fc.array(fc.integer({ min: 1, max: 400 }), { minLength: 1, maxLength: 5 }), (text, sizes) => {
        // Act
        const streamed = splitInChunks(enc(text), sizes);
        // Assess
        expect(streamed).toEqual(splitMailbox(enc(text)).map(dec));
      }),
      { numRuns: 300 },
    );
  });

  it('splits a real-looking export one byte at a time', () => {
    const mbox = 'From MAILER-DAEMON  Thu Apr 29 23:34:45 2015\nSubject: one\n\nFrom the desk:\n\nFrom postmaster@example.jp Fri Apr 30 01:02:03 2015\nSubject: two\n\nbody two\n';
    expect(splitInChunks(enc(mbox), [1])).toEqual([
      'From MAILER-DAEMON  Thu Apr 29 23:34:45 2015\nSubject: one\n\nFrom the desk:\n\n',
      'From postmaster@example.jp Fri Apr 30 01:02:03 2015\nSubject: two\n\nbody two\n',
    ]);
  });

  it('keeps one byte past the cap of a huge message and still finds the next one', () => {
    // Prepare: a 100 kB message (one long line, then short ones) before a small one.
    const huge = `From a@b Tue Apr  1 09:00:00 2025\nSubject: huge\n\n${'y'.repeat(60_000)}\n${'z\n'.repeat(20_000)}\n`;
    const small = 'From a@b Tue Apr  1 09:05:00 2025\nSubject: small\n\nok\n';
    // Act
    const messages = splitInChunks(enc(huge + small), [4096], 1000);
    // Assess
    expect(messages.map((m) => m.length)).toEqual([1001, small.length]);
    expect(messages[0]).toBe(huge.slice(0, 1001));
    expect(messages[1]).toBe(small);
  });

  it('gives nothing for an empty input and one message for text that is not a mailbox', () => {
    expect(splitInChunks(new Uint8Array(0), [10])).toEqual([]);
    expect(splitInChunks(enc('<a@b>: 550 5.1.1 unknown'), [3])).toEqual(['<a@b>: 550 5.1.1 unknown']);
  });
});
