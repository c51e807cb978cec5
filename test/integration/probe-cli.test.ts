import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createCheckCommand } from '#local/cli/check.ts';
import type { CliIO } from '#local/cli/io.ts';
import { createRunCommand } from '#local/cli/run.ts';
import { HOST, PASSWORD, SERVERNAME, USER, closeAll, makePki, smtpError, startSmtpServer, type TestPki } from '../helpers/smtp.ts';

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString('utf8');
    done();
  }
}

function io(cwd: string, env: NodeJS.ProcessEnv = {}): CliIO & { out: Capture } {
  const out = new Capture();
  return { stdout: out, stderr: new Capture(), env: { LANG: 'en_US.UTF-8', ...env }, cwd, out };
}

let pki: TestPki;
let dir: string;
beforeAll(() => {
  pki = makePki();
  dir = mkdtempSync(join(tmpdir(), 'mailhealth-cli-'));
  writeFileSync(join(dir, 'ca.pem'), pki.caPem);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(async () => {
  await closeAll();
});

function configFor(port: number, to: string[] = ['owner@example.jp']): string {
  const path = join(dir, `config-${port}.json`);
  writeFileSync(
    path,
    JSON.stringify({
      bounceDomain: 'bounces.example.jp',
      targets: [
        {
          name: 'shop',
          host: HOST,
          servername: SERVERNAME,
          port,
          ca: 'ca.pem',
          auth: { user: USER, passwordEnv: 'SHOP_SMTP_PASSWORD' },
          from: USER,
          to,
          probePorts: [],
          timeouts: { connectMs: 1000, stepMs: 1000, probeMs: 300 },
        },
      ],
    }),
  );
  return path;
}

async function checkJson(port: number, to?: string[]) {
  const out = io(dir, { SHOP_SMTP_PASSWORD: PASSWORD });
  const code = await createCheckCommand()(['--config', configFor(port, to), '--json'], out);
  return { code, doc: JSON.parse(out.out.text), text: out.out.text };
}

describe('mailhealth check against a real server (127.0.0.1)', () => {
  it('succeeds over STARTTLS with the CA file and the password from the environment', async () => {
    const server = await startSmtpServer(pki, { size: 20 * 1024 * 1024 });
    const { code, doc, text } = await checkJson(server.port);
    expect(code).toBe(0);
    expect(doc.status).toBe('ok');
    expect(doc.targets[0].steps.map((s: { step: string; ok: boolean }) => `${s.step}:${s.ok}`)).toEqual([
      'connect:true', 'greeting:true', 'ehlo:true', 'starttls:true', 'ehlo:true', 'auth:true', 'mail:true', 'rcpt:true', 'data:true', 'quit:true',
    ]);
    expect(text).not.toContain(PASSWORD);
    expect(server.received).toHaveLength(1);
  });

  it('exits 2 with RECIPIENT_UNKNOWN for an unknown recipient', async () => {
    const server = await startSmtpServer(pki, { onRcptTo: (_a, _s, cb) => cb(smtpError(550, '5.1.1 User unknown')) });
    const { code, doc } = await checkJson(server.port);
    expect(code).toBe(2);
    expect(doc.targets[0].findings).toMatchObject([{ code: 'RECIPIENT_UNKNOWN', severity: 'critical', step: 'rcpt', recipient: 'owner@example.jp', reply: '550 5.1.1 User unknown' }]);
  });

  it('exits 1 with MAILBOX_FULL for a temporarily full mailbox', async () => {
    const server = await startSmtpServer(pki, { onRcptTo: (_a, _s, cb) => cb(smtpError(452, '4.2.2 Mailbox full')) });
    const { code, doc } = await checkJson(server.port);
    expect(code).toBe(1);
    expect(doc.targets[0].findings).toMatchObject([{ code: 'MAILBOX_FULL', severity: 'warning' }]);
  });

  it('exits 2 with TLS_CERT_INVALID for an untrusted certificate, without sending the password', async () => {
    const server = await startSmtpServer(pki, { certificate: pki.selfSigned });
    const { code, doc } = await checkJson(server.port);
    expect(code).toBe(2);
    expect(doc.targets[0].findings).toMatchObject([{ code: 'TLS_CERT_INVALID', step: 'starttls' }]);
    expect(server.authAttempts).toEqual([]);
  });
});

describe('mailhealth run --once (no config: the embedded demo)', () => {
  it('runs one round of the demo world: the OP25B diagnosis, and the exit code of the round', async () => {
    const out = io(dir);
    // Round 1 of the demo story has the clinic's login refused: CRITICAL, exit 2.
    const code = await createRunCommand()(['--once'], out);
    expect(code).toBe(2);
    expect(out.out.text).toContain('PORT25_BLOCKED');
    expect(out.out.text).toMatch(/25 timeout · 465 open · 587 open/);
    expect(out.out.text).toContain('AUTH_FAILED');
  });
});
