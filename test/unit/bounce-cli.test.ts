import { mkdtempSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bounceCommand } from '#local/cli/bounce.ts';
import { UsageError } from '#core/errors.ts';
import type { CliIO } from '#local/cli/io.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'bounces');

function capture(env: NodeJS.ProcessEnv = {}, cwd = process.cwd()): { io: CliIO; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  const sink = (append: (s: string) => void) =>
    new Writable({
      write(chunk: Buffer | string, _enc, done) {
        append(chunk.toString());
        done();
      },
    });
  return {
    io: { stdout: sink((s) => (out += s)), stderr: sink((s) => (err += s)), env, cwd },
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
    expect(code).toBe(0);
    expect(err()).toBe('');
    const doc = JSON.parse(out()) as { messages: { file: string; isBounce: boolean; recipients: Record<string, unknown>[] }[] };
    expect(doc.messages.map((m) => [m.file, m.isBounce, m.recipients.length])).toEqual([
      ['a.eml', true, 2],
      ['b.eml', false, 0],
    ]);
    expect(Object.keys(doc.messages[0]!.recipients[0]!).sort()).toEqual(['canaryId', 'diagnostic', 'hard', 'reason', 'recipient', 'remoteMta', 'replyCode', 'status']);
    expect(doc.messages[0]!.recipients[1]).toMatchObject({ recipient: 'jiro@qmail.example.com', reason: 'mailboxfull', status: '5.2.2', replyCode: 552, hard: false });
  });

  it('prints a table of file, recipient, reason, status and diagnostic for people', async () => {
    const { io, out } = capture({ LANG: 'C' }, dir);
    const code = await bounceCommand(['a.eml', 'b.eml'], io);
    const lines = out().trimEnd().split('\n');
    expect(code).toBe(0);
    expect(lines[0]).toMatch(/^FILE\s+RECIPIENT\s+REASON\s+STATUS\s+DIAGNOSTIC$/);
    expect(lines[1]).toMatch(/^a\.eml\s+ichiro@qmail\.example\.com\s+userunknown\s+5\.1\.1\s+Sorry, no mailbox here by that name/);
    expect(lines[3]).toMatch(/^b\.eml\s+-\s+\(not a bounce\)/);
    expect(out()).not.toContain('\u001b[');
  });

  it('speaks Japanese when LANG says so', async () => {
    const { io, out } = capture({ LANG: 'ja_JP.UTF-8' }, dir);
    await bounceCommand(['b.eml'], io);
    expect(out()).toMatch(/^ファイル\s+宛先\s+理由/);
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
    expect(code).toBe(0);
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
});
