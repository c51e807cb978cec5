import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, UsageError } from '#core/errors.ts';
import type { SessionTranscript } from '#core/probe/types.ts';
import { createCheckCommand, type CheckCommandDeps } from '#local/cli/check.ts';
import type { CliIO } from '#local/cli/io.ts';

const PASSWORD = 'pa55-word-never-printed';

class Capture extends Writable {
  text = '';
  isTTY = false;
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString('utf8');
    done();
  }
}

function fakeIO(cwd: string, env: NodeJS.ProcessEnv = {}): CliIO & { out: Capture; err: Capture } {
  const out = new Capture();
  const err = new Capture();
  return { stdout: out, stderr: err, env: { SHOP_SMTP_PASSWORD: PASSWORD, ...env }, cwd, out, err };
}

const steps = (rcptReply: string): SessionTranscript => ({
  steps: [
    { step: 'connect', ms: 3 },
    { step: 'greeting', ms: 20, reply: '220 smtp.example.jp ESMTP' },
    { step: 'ehlo', ms: 4, reply: '250-smtp.example.jp\n250 STARTTLS' },
    { step: 'starttls', ms: 30, reply: '220 Ready' },
    { step: 'ehlo', ms: 4, reply: '250-smtp.example.jp\n250-AUTH PLAIN LOGIN\n250 SIZE 20971520' },
    { step: 'auth', ms: 9, reply: '235 ok', command: 'AUTH PLAIN' },
    { step: 'mail', ms: 2, reply: '250 ok' },
    { step: 'rcpt', ms: 2, reply: rcptReply, recipient: 'owner@example.jp' },
    ...(rcptReply.startsWith('2') ? [{ step: 'data' as const, ms: 12, reply: '250 queued' }] : []),
    { step: 'quit', ms: 1, reply: '221 bye' },
  ],
  tls: { version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', authorized: true, certValidTo: '2026-05-30T09:00:00Z' },
});

function deps(transcript: SessionTranscript): CheckCommandDeps {
  return {
    openSession: async () => transcript,
    probePort: async (_h, port) => (port === 25 ? 'timeout' : 'open'),
    clock: () => new Date('2026-03-01T09:00:00Z'),
    random: (n) => new Uint8Array(n).fill(1),
  };
}

const config = (extra: Record<string, unknown> = {}) => ({
  bounceDomain: 'bounces.example.jp',
  targets: [
    {
      name: 'shop',
      host: 'smtp.example.jp',
      auth: { user: 'shop@example.jp', passwordEnv: 'SHOP_SMTP_PASSWORD' },
      from: 'shop@example.jp',
      to: ['owner@example.jp'],
    },
  ],
  ...extra,
});

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mailhealth-check-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function writeConfig(doc: unknown, name = 'config.json'): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(doc));
  return path;
}

describe('mailhealth check', () => {
  it('prints exactly the documented --json document and exits 0 when all is well', async () => {
    // Prepare
    const io = fakeIO(dir);
    const path = writeConfig(config());

    // Act
    const code = await createCheckCommand(deps(steps('250 ok')))(['--config', path, '--json'], io);

    // Assess
    expect(code).toBe(0);
    const doc = JSON.parse(io.out.text);
    expect(Object.keys(doc)).toEqual(['status', 'targets']);
    expect(doc.status).toBe('ok');
    const [t] = doc.targets;
    expect(Object.keys(t)).toEqual(['name', 'status', 'canaryId', 'steps', 'ports', 'tls', 'extensions', 'findings']);
    expect(t.steps[0]).toEqual({ step: 'connect', ok: true, ms: 3 });
    expect(t.steps[1]).toEqual({ step: 'greeting', ok: true, ms: 20, reply: '220 smtp.example.jp ESMTP' });
    // RCPT steps name their recipient, as the text output does; no other step has the field.
    expect(t.steps.find((s: { step: string }) => s.step === 'rcpt')).toEqual({ step: 'rcpt', ok: true, ms: 2, reply: '250 ok', recipient: 'owner@example.jp' });
    expect(t.steps.filter((s: { recipient?: string }) => s.recipient !== undefined).map((s: { step: string }) => s.step)).toEqual(['rcpt']);
    expect(t.ports).toEqual({ '25': 'timeout', '587': 'open', '465': 'open' });
    expect(t.tls).toEqual({ version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', certDaysLeft: 90, authorized: true });
    expect(t.extensions).toEqual({ AUTH: ['PLAIN', 'LOGIN'], SIZE: 20971520, STARTTLS: true });
    expect(Object.keys(t.findings[0])).toEqual(['code', 'severity', 'step', 'message', 'remedy']);
    expect(io.out.text).not.toContain(PASSWORD);
  });

  it('exits 1 on a warning and 2 on a critical finding', async () => {
    const path = writeConfig(config());
    expect(await createCheckCommand(deps(steps('451 4.3.0 later')))(['--config', path, '--json'], fakeIO(dir))).toBe(1);
    const io = fakeIO(dir);
    expect(await createCheckCommand(deps(steps('550 5.1.1 unknown')))(['--config', path, '--json'], io)).toBe(2);
    expect(JSON.parse(io.out.text).targets[0].findings[1]).toMatchObject({ code: 'RECIPIENT_UNKNOWN', recipient: 'owner@example.jp', reply: '550 5.1.1 unknown' });
  });

  it('prints the steps as a table, then findings with remedies, in the config language', async () => {
    const io = fakeIO(dir);
    const code = await createCheckCommand(deps(steps('552 5.2.2 Mailbox full')))(['--config', writeConfig(config({ language: 'ja' }))], io);
    expect(code).toBe(2);
    expect(io.out.text).toMatch(/✓ greeting\s+20 ms\s+220 smtp\.example\.jp ESMTP/);
    expect(io.out.text).toMatch(/✗ rcpt\s+2 ms\s+552 5\.2\.2 Mailbox full <owner@example\.jp>/);
    expect(io.out.text).toContain('診断結果');
    expect(io.out.text).toContain('メールボックスが満杯です');
    expect(io.out.text).toContain('対処:');
    expect(io.out.text).toContain('CRITICAL（重大） (exit 2)');
    expect(io.out.text).not.toMatch(/\u001b\[/);
    expect(io.out.text).not.toContain(PASSWORD);
  });

  it('takes the language from LANG when the config does not set it', async () => {
    const io = fakeIO(dir, { LANG: 'en_US.UTF-8' });
    await createCheckCommand(deps(steps('250 ok')))(['--config', writeConfig(config())], io);
    expect(io.out.text).toContain('Findings');
    expect(io.out.text).toContain('What to do:');
  });

  it('reads ./mailhealth.config.json when --config is not given', async () => {
    writeConfig(config(), 'mailhealth.config.json');
    const io = fakeIO(dir);
    expect(await createCheckCommand(deps(steps('250 ok')))(['--json'], io)).toBe(0);
  });

  it('fails as UNKNOWN (a usage or config error) before sending anything', async () => {
    let sessions = 0;
    const counting: CheckCommandDeps = { ...deps(steps('250 ok')), openSession: async () => (sessions++, steps('250 ok')) };
    const run = (argv: string[], env: NodeJS.ProcessEnv = {}) => createCheckCommand(counting)(argv, fakeIO(dir, env));
    await expect(run(['--json'])).rejects.toBeInstanceOf(UsageError);
    await expect(run(['--bogus'])).rejects.toBeInstanceOf(UsageError);
    await expect(run(['--config', writeConfig(config()), '--target', 'nope'])).rejects.toThrow(/no target named 'nope' \(targets: shop\)/);
    await expect(run(['--config', writeConfig({ ...config(), targets: [{ ...config().targets[0], port: 'x' }] })])).rejects.toThrow(/targets\[0\]\.port/);
    await expect(run(['--config', writeConfig(config())], { SHOP_SMTP_PASSWORD: '' })).rejects.toThrow(/targets\[0\]\.auth\.passwordEnv: environment variable SHOP_SMTP_PASSWORD is not set/);
    const withCa = config({ targets: [{ ...config().targets[0], ca: 'missing-ca.pem' }] });
    await expect(run(['--config', writeConfig(withCa)])).rejects.toBeInstanceOf(ConfigError);
    expect(sessions).toBe(0);
  });

  it('checks only the target named by --target', async () => {
    const two = config({ targets: [config().targets[0], { ...config().targets[0], name: 'backup', host: 'smtp2.example.jp' }] });
    const io = fakeIO(dir);
    await createCheckCommand(deps(steps('250 ok')))(['--config', writeConfig(two), '--target', 'backup', '--json'], io);
    expect(JSON.parse(io.out.text).targets.map((t: { name: string }) => t.name)).toEqual(['backup']);
  });
});
