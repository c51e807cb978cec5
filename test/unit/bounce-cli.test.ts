import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFileStore } from '#adapters/file-store.ts';
import { bounceCommand } from '#local/cli/bounce.ts';
import { UsageError } from '#core/errors.ts';
import type { CliIO } from '#local/cli/io.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'bounces');
const CANARY = '01JDQ7Z3K4M5N6P7Q8R9S0T1V2';

function capture(env: NodeJS.ProcessEnv = {}, cwd = process.cwd(), extra: Partial<CliIO> & { stderrIsTTY?: boolean } = {}): { io: CliIO; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  const sink = (append: (s: string) => void) =>
    new Writable({
      write(chunk: Buffer | string, _enc, done) {
        append(chunk.toString());
        done();
      },
    });
  const stderr = Object.assign(sink((s) => (err += s)), { isTTY: extra.stderrIsTTY ?? false });
  return {
    io: { stdout: sink((s) => (out += s)), stderr, env, cwd, ...(extra.stdin ? { stdin: extra.stdin } : {}) },
    out: () => out,
    err: () => err,
  };
}

describe('bounceCommand', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mailhealth-bounce-'));
    copyFileSync(join(FIXTURES, 'qmail-two-recipients.eml'), join(dir, 'a.eml'));
    copyFileSync(join(FIXTURES, 'delivered-canary.eml'), join(dir, 'b.eml'));
    writeFileSync(join(dir, 'notes.txt'), 'not a message');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('prints the JSON contract: one entry per message, one per bounced recipient', async () => {
    // Prepare
    const { io, out, err } = capture({}, dir);
    // Act
    const code = await bounceCommand(['.', '--json'], io);
    // Assess
    expect(code).toBe(2);
    expect(err()).toBe('');
    const doc = JSON.parse(out()) as { messages: { file: string; isBounce: boolean; recipients: Record<string, unknown>[] }[] };
    expect(doc.messages.map((m) => [m.file, m.isBounce, m.recipients.length])).toEqual([
      ['a.eml', true, 2],
      ['b.eml', false, 0],
    ]);
    expect(Object.keys(doc.messages[0]!.recipients[0]!).sort()).toEqual(['canaryId', 'diagnostic', 'hard', 'reason', 'recipient', 'remoteMta', 'replyCode', 'status']);
    expect(doc.messages[0]!.recipients[1]).toMatchObject({ recipient: 'jiro@qmail.example.com', reason: 'mailboxfull', status: '5.2.2', replyCode: 552, hard: false });
  });

  it('keeps a recipient whose domain is no host name, flagged, and reports a read receipt as no bounce', async () => {
    // Prepare
    const wild = join(import.meta.dirname, '..', 'fixtures', 'bounces-wild');
    const own = mkdtempSync(join(tmpdir(), 'mailhealth-bounce-'));
    copyFileSync(join(wild, 'postfix-underscore-domain.eml'), join(own, 'a.eml'));
    copyFileSync(join(wild, 'mdn-displayed.eml'), join(own, 'b.eml'));
    const { io, out } = capture({}, own);
    try {
      // Act
      const code = await bounceCommand(['.', '--json'], io);
      // Assess
      expect(code).toBe(2);
      const doc = JSON.parse(out()) as { messages: { file: string; isBounce: boolean; recipients: Record<string, unknown>[] }[] };
      expect(doc.messages).toEqual([
        { file: 'a.eml', isBounce: true, recipients: [expect.objectContaining({ recipient: 'sato@mail_gw.example.org', reason: 'hostunknown', status: '5.4.4', hard: true, recipientDomainInvalid: true })] },
        { file: 'b.eml', isBounce: false, recipients: [] },
      ]);
    } finally {
      rmSync(own, { recursive: true, force: true });
    }
  });

  it('prints a table of file, recipient, reason, status and diagnostic for people', async () => {
    const { io, out } = capture({ LANG: 'C' }, dir);
    const code = await bounceCommand(['a.eml', 'b.eml'], io);
    const lines = out().trimEnd().split('\n');
    expect(code).toBe(2);
    expect(lines[0]).toMatch(/^FILE\s+RECIPIENT\s+REASON\s+STATUS\s+DIAGNOSTIC$/);
    expect(lines[1]).toMatch(/^a\.eml\s+ichiro@qmail\.example\.com\s+userunknown\s+5\.1\.1\s+Sorry, no mailbox here by that name/);
    expect(lines[3]).toMatch(/^b\.eml\s+-\s+\(delivered canary 01JDQ7Z3K4M5N6P7Q8R9S0T1V2\)/);
    expect(out()).not.toContain('\u001b[');
  });

  it('speaks Japanese when LANG says so', async () => {
    writeFileSync(join(dir, 'c.eml'), 'Subject: hello\n\njust a note\n');
    const { io, out } = capture({ LANG: 'ja_JP.UTF-8' }, dir);
    await bounceCommand(['b.eml', 'c.eml'], io);
    expect(out()).toMatch(/^ファイル\s+宛先\s+理由/);
    expect(out()).toContain('（配達されたカナリア 01JDQ7Z3K4M5N6P7Q8R9S0T1V2）');
    expect(out()).toContain('（バウンスではありません）');
  });

  it('exits 3 and names an input that cannot be read, after reading the rest', async () => {
    const { io, out, err } = capture({}, dir);
    const code = await bounceCommand(['missing.eml', 'a.eml', '--json'], io);
    expect(code).toBe(3);
    expect(err()).toContain('cannot read missing.eml');
    expect(JSON.parse(out()).messages).toHaveLength(1);
  });

  it('treats a malformed message as a result, not an error', async () => {
    writeFileSync(join(dir, 'garbage.eml'), Buffer.from([0xff, 0x00, 0x1b, 0x24, 0x42, 0x0a, 0x2d, 0x2d]));
    const { io, out } = capture({}, dir);
    expect(await bounceCommand(['garbage.eml', '--json'], io)).toBe(0);
    expect(JSON.parse(out()).messages[0]).toMatchObject({ file: 'garbage.eml', isBounce: false, recipients: [] });
  });

  it('gives one entry per message of a mailbox (mbox) file', async () => {
    // Prepare
    const mbox = [
      'From MAILER-DAEMON  Tue Apr  1 09:00:00 2025',
      'From: MAILER-DAEMON@mx.example.net',
      'Subject: Undelivered Mail Returned to Sender',
      '',
      '<one@example.net>: host mx.example.net said: 552 5.2.2 Mailbox full',
      '',
      'From MAILER-DAEMON  Tue Apr  1 09:05:00 2025',
      'From: MAILER-DAEMON@mx.example.net',
      'Subject: Undelivered Mail Returned to Sender',
      '',
      '<two@example.net>: host mx.example.net said: 550 5.1.1 User unknown',
      '',
    ].join('\n');
    writeFileSync(join(dir, 'bounces.mbox'), mbox);
    const { io, out } = capture({}, dir);
    // Act
    const code = await bounceCommand(['bounces.mbox', '--json'], io);
    // Assess
    expect(code).toBe(2);
    const messages = JSON.parse(out()).messages as { file: string; recipients: { recipient: string; reason: string }[] }[];
    expect(messages.map((m) => [m.file, m.recipients[0]?.recipient, m.recipients[0]?.reason])).toEqual([
      ['bounces.mbox', 'one@example.net', 'mailboxfull'],
      ['bounces.mbox', 'two@example.net', 'userunknown'],
    ]);
  });

  it('refuses to run without an input (usage error, exit 3 through the dispatcher)', async () => {
    const { io } = capture();
    await expect(bounceCommand(['--json'], io)).rejects.toThrow(UsageError);
    await expect(bounceCommand(['--nope', 'a.eml'], io)).rejects.toThrow(UsageError);
  });
  it('exits 0 when nothing failed, 1 for only temporary failures, 2 for a failure to act on, 3 for an unreadable input', async () => {
    // Prepare
    for (const f of ['postfix-delayed.eml', 'postfix-userunknown.eml', 'vacation-autoreply.eml']) copyFileSync(join(FIXTURES, f), join(dir, f));
    const codeOf = async (...args: string[]) => bounceCommand([...args, '--json'], capture({}, dir).io);
    // Act + Assess
    expect(await codeOf('b.eml', 'vacation-autoreply.eml')).toBe(0);
    expect(await codeOf('b.eml', 'postfix-delayed.eml')).toBe(1);
    expect(await codeOf('postfix-delayed.eml', 'postfix-userunknown.eml')).toBe(2);
    expect(await codeOf('postfix-userunknown.eml', 'missing.eml')).toBe(3);
  });

  it('prints one JSON line per message with --jsonl, the same entries as --json', async () => {
    const lines = capture({}, dir);
    const doc = capture({}, dir);
    await bounceCommand(['.', '--jsonl'], lines.io);
    await bounceCommand(['.', '--json'], doc.io);
    const parsed = lines.out().trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(parsed).toEqual(JSON.parse(doc.out()).messages);
    expect(parsed).toHaveLength(2);
  });

  it('writes an empty but valid document when there is no message, and exits 3: nothing was read', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'mailhealth-bounce-empty-'));
    try {
      const { io, out } = capture({}, empty);
      expect(await bounceCommand(['.', '--json'], io)).toBe(3);
      expect(JSON.parse(out())).toEqual({ messages: [] });
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('reads a bounce pasted on stdin, headers or bare body text', async () => {
    // Prepare: only the body of a Postfix bounce, as a mail client shows it.
    const pasted = 'This is the mail system at host mail.example.jp.\n\n<hanako@example.com>: host mx.example.com said: 552 5.2.2 Mailbox full\n';
    const { io, out } = capture({}, dir, { stdin: Readable.from([Buffer.from(pasted)]) });
    // Act
    const code = await bounceCommand(['-', '--json'], io);
    // Assess
    expect(code).toBe(2);
    expect(JSON.parse(out()).messages).toEqual([
      expect.objectContaining({ file: '-', isBounce: true, recipients: [expect.objectContaining({ recipient: 'hanako@example.com', reason: 'mailboxfull', status: '5.2.2', replyCode: 552 })] }),
    ]);
  });

  it('reads a whole message from stdin as it is', async () => {
    const raw = readFileSync(join(FIXTURES, 'postfix-userunknown.eml'));
    const { io, out } = capture({}, dir, { stdin: Readable.from([raw.subarray(0, 100), raw.subarray(100)]) });
    expect(await bounceCommand(['-', '--jsonl'], io)).toBe(2);
    const viaFile = capture({}, FIXTURES);
    await bounceCommand(['postfix-userunknown.eml', '--jsonl'], viaFile.io);
    expect(JSON.parse(out()).recipients).toEqual(JSON.parse(viaFile.out()).recipients);
  });

  it('streams a large mbox: every message, in order, the same verdicts as the files one by one', async () => {
    // Prepare: 600 messages (about 2 MB, past the size read whole) from three real bounces.
    const names = ['postfix-userunknown.eml', 'sendmail-mailboxfull.eml', 'exim-mesgtoobig.eml'];
    const bodies = names.map((n) => readFileSync(join(FIXTURES, n), 'latin1').replace(/\r\n/g, '\n').replace(/^From /gm, '>From '));
    let mbox = '';
    for (let i = 0; i < 600; i++) mbox += `From MAILER-DAEMON  Tue Apr  1 09:00:00 2025\n${bodies[i % 3]}\n\n`;
    writeFileSync(join(dir, 'big.mbox'), Buffer.from(mbox, 'latin1'));
    const one = await Promise.all(
      names.map(async (n) => {
        const c = capture({}, FIXTURES);
        await bounceCommand([n, '--jsonl'], c.io);
        return (JSON.parse(c.out()) as { recipients: { reason: string }[] }).recipients.map((r) => r.reason);
      }),
    );
    const { io, out } = capture({}, dir);
    // Act
    const code = await bounceCommand(['big.mbox', '--json'], io);
    // Assess
    expect(code).toBe(2);
    const messages = JSON.parse(out()).messages as { file: string; recipients: { reason: string }[] }[];
    expect(messages).toHaveLength(600);
    expect(messages.every((m) => m.file === 'big.mbox')).toBe(true);
    expect(messages.map((m) => m.recipients.map((r) => r.reason))).toEqual(Array.from({ length: 600 }, (_, i) => one[i % 3]));
  });

  it('prints the table then a summary for a large input, and only the summary with --summary', async () => {
    // Prepare: 250 bounces, past the rows a table is sized for.
    const many = mkdtempSync(join(tmpdir(), 'mailhealth-bounce-many-'));
    try {
      for (let i = 0; i < 250; i++) copyFileSync(join(FIXTURES, i % 2 ? 'postfix-userunknown.eml' : 'sendmail-mailboxfull.eml'), join(many, `m${String(i).padStart(3, '0')}.eml`));
      const table = capture({ LANG: 'C' }, many);
      const summary = capture({ LANG: 'C' }, many);
      // Act
      await bounceCommand(['.'], table.io);
      await bounceCommand(['.', '--summary'], summary.io);
      // Assess
      const lines = table.out().split('\n');
      expect(lines[0]).toMatch(/^FILE\s+RECIPIENT\s+REASON/);
      expect(lines.filter((l) => /^m\d{3}\.eml /.test(l))).toHaveLength(250);
      expect(table.out()).toContain('\n250 messages, 250 recipients\n');
      expect(summary.out()).toMatch(/^250 messages, 250 recipients\n/);
      expect(summary.out()).toMatch(/by reason\n  mailboxfull\s+125\n  userunknown\s+125\n/);
      expect(summary.out()).toMatch(/top 2 recipient domains\n/);
      expect(summary.out()).not.toContain('.eml');
    } finally {
      rmSync(many, { recursive: true, force: true });
    }
  });

  it('keeps a small table without a summary', async () => {
    const { io, out } = capture({ LANG: 'C' }, dir);
    await bounceCommand(['a.eml'], io);
    expect(out()).not.toContain('messages,');
  });

  it('shows progress on stderr only when it is a terminal, and never with --json or --quiet', async () => {
    const tty = capture({}, dir, { stderrIsTTY: true });
    const json = capture({}, dir, { stderrIsTTY: true });
    const quiet = capture({}, dir, { stderrIsTTY: true });
    const pipe = capture({}, dir, { stderrIsTTY: false });
    await bounceCommand(['.'], tty.io);
    await bounceCommand(['.', '--json'], json.io);
    await bounceCommand(['.', '--quiet'], quiet.io);
    await bounceCommand(['.'], pipe.io);
    expect(tty.err()).toMatch(/^\r\u001b\[2K1\/2 files · 1 messages · \d+ msg\/s · \d+% · .+ left/);
    // The line is erased at the end: stdout's table is not interleaved with it.
    expect(tty.err().endsWith('\r\u001b[2K')).toBe(true);
    expect(json.err()).toBe('');
    expect(quiet.err()).toBe('');
    expect(pipe.err()).toBe('');
  });

  it('refuses a state directory that does not exist, naming it', async () => {
    await expect(bounceCommand(['a.eml', '--state', 'nowhere'], capture({}, dir).io)).rejects.toThrow(/no state directory .*nowhere[^]*usage: mailhealth bounce/);
  });
  it('names the recipient from the canary record of --state when the report names none', async () => {
    // Prepare: a state directory that knows the canary, and a notice naming only its canary.
    const state = join(dir, 'state');
    await createFileStore({ dir: state }).putCanary({ id: CANARY, target: 'shop', sentAt: '2026-11-30T00:00:00Z', recipients: ['hanako@customer.example.com'], deliveredAt: null });
    writeFileSync(
      join(dir, 'no-recipient.eml'),
      `From: MAILER-DAEMON@mx.example.net\nTo: bounce+${CANARY}@bounces.example.jp\nSubject: Undelivered Mail Returned to Sender\n\nYour message could not be delivered: the mailbox is full (552 5.2.2).\n`,
    );
    const without = capture({}, dir);
    const withState = capture({}, dir);
    // Act
    await bounceCommand(['no-recipient.eml', '--jsonl'], without.io);
    const code = await bounceCommand(['no-recipient.eml', '--jsonl', '--state', 'state'], withState.io);
    // Assess
    expect(JSON.parse(without.out()).recipients).toEqual([]);
    expect(code).toBe(2);
    expect(JSON.parse(withState.out()).recipients).toEqual([
      expect.objectContaining({ recipient: 'hanako@customer.example.com', reason: 'mailboxfull', canaryId: CANARY, recipientInferred: true }),
    ]);
  });
});
