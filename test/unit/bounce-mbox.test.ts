import { describe, expect, it } from 'vitest';
import { splitMailbox } from '#core/bounce/mbox.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

describe('splitMailbox', () => {
  it('splits an mbox export at its envelope lines', () => {
    // Prepare
    const mbox = 'From MAILER-DAEMON  Thu Apr 29 23:34:45 2015\nSubject: one\n\nbody one\n\nFrom postmaster@example.jp Fri Apr 30 01:02:03 2015\nSubject: two\n\nbody two\n';
    // Act
    const messages = splitMailbox(enc(mbox)).map(dec);
    // Assess
    expect(messages).toHaveLength(2);
    expect(messages[0]).toMatch(/^From MAILER-DAEMON[^]*body one\n\n$/);
    expect(messages[1]).toMatch(/^From postmaster@example\.jp[^]*body two\n$/);
  });

  it('does not split at a body line that merely starts with "From "', () => {
    const mbox = 'From MAILER-DAEMON  Thu Apr 29 23:34:45 2015\nSubject: one\n\nFrom the desk of the postmaster:\n\nFrom me to you\n';
    expect(splitMailbox(enc(mbox))).toHaveLength(1);
  });

  it('leaves a single message (no envelope line) whole', () => {
    const raw = enc('Subject: x\n\nFrom MAILER-DAEMON  Thu Apr 29 23:34:45 2015\n');
    expect(splitMailbox(raw)).toEqual([raw]);
  });

  it('accepts CRLF line ends', () => {
    const mbox = 'From a@example.jp Thu Apr 29 23:34:45 2015\r\nSubject: one\r\n\r\nx\r\n\r\nFrom b@example.jp Thu Apr 29 23:34:46 2015\r\nSubject: two\r\n\r\ny\r\n';
    expect(splitMailbox(enc(mbox))).toHaveLength(2);
  });
});
