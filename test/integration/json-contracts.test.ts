/**
 * The machine-readable output of every command, as it really comes out, against its contract
 * (functions/local/cli/json-contracts.ts, shown in docs/REFERENCE.md): strict, so a field added,
 * renamed or typed differently in a command fails here until the contract says so. Each command
 * runs in-process against a real counterpart on 127.0.0.1 (an SMTP server, a DNS server) or real
 * files (bounce fixtures, a state directory the recording path wrote).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFileStore } from '#adapters/file-store.ts';
import { bounceFinding } from '#core/bounce/findings.ts';
import { recordBounce } from '#core/health/record.ts';
import { createAddressCommand } from '#local/cli/address.ts';
import { bounceCommand } from '#local/cli/bounce.ts';
import { createCheckCommand } from '#local/cli/check.ts';
import { createDnsCommand } from '#local/cli/dns.ts';
import type { CliIO, Command } from '#local/cli/io.ts';
import { expectContract } from '#local/cli/json-contracts.ts';
import { createSuppressionsCommand } from '#local/cli/suppressions.ts';
import { startDnsServer, type DnsServer } from '#local/dns-server.ts';
import { bounced, canaryAt, countingRandom, T0 } from '../helpers/alert-fixtures.ts';
import { authWorld, DNSBL, IPS } from '../helpers/auth-zone.ts';
import { HOST, PASSWORD, SERVERNAME, USER, closeAll, makePki, smtpError, startSmtpServer, type TestPki } from '../helpers/smtp.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'bounces');
// The project's own set: notices in many formats, some naming a recipient whose domain is no host name.
const WILD = join(import.meta.dirname, '..', 'fixtures', 'bounces-wild');

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString('utf8');
    done();
  }
}

async function run(command: Command, argv: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string }> {
  const stdout = new Capture();
  const io: CliIO = { stdout, stderr: new Capture(), env: { LANG: 'C', ...env }, cwd };
  const code = await command(argv, io);
  return { code, stdout: stdout.text };
}

let dir: string;
let pki: TestPki;
let dns: DnsServer;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mailhealth-contracts-'));
  pki = makePki();
  writeFileSync(join(dir, 'ca.pem'), pki.caPem);
  dns = await startDnsServer({ zone: authWorld().zone });
});
afterAll(async () => {
  await closeAll();
  await dns?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the output contracts, on real output', () => {
  it('check --json: a clean round over STARTTLS and one refused at RCPT, with the ports probed', async () => {
    // Prepare: a server that takes owner@ and refuses nobody@
    const server = await startSmtpServer(pki, { size: 1024 * 1024, onRcptTo: (a, _s, cb) => cb(a.address.startsWith('nobody@') ? smtpError(550, '5.1.1 User unknown') : undefined) });
    const config = join(dir, 'check.json');
    const target = (name: string, to: string) => ({ name, host: HOST, servername: SERVERNAME, port: server.port, ca: 'ca.pem', auth: { user: USER, passwordEnv: 'PW' }, from: USER, to: [to], probePorts: [server.port], timeouts: { connectMs: 2000, stepMs: 2000, probeMs: 500 } });
    writeFileSync(config, JSON.stringify({ bounceDomain: 'bounces.example.jp', targets: [target('shop', 'owner@example.jp'), target('clinic', 'nobody@example.jp')] }));
    // Act
    const { code, stdout } = await run(createCheckCommand(), ['--config', config, '--json'], dir, { PW: PASSWORD });
    // Assess
    const doc = JSON.parse(stdout);
    expect(code).toBe(2);
    expect(doc.targets[0].tls).toBeDefined();
    expect(doc.targets[1].findings.some((f: { reply?: string }) => f.reply)).toBe(true);
    expectContract('check', '--json', doc);
  });

  it('bounce --json and --jsonl over every fixture', async () => {
    const json = await run(bounceCommand, [FIXTURES, '--json'], dir);
    const jsonl = await run(bounceCommand, [FIXTURES, '--jsonl'], dir);
    expectContract('bounce', '--json', JSON.parse(json.stdout));
    const lines = jsonl.stdout.trim().split('\n');
    expect(lines.length).toBeGreaterThan(20);
    for (const line of lines) expectContract('bounce', '--jsonl', JSON.parse(line));
  });

  it('bounce --json over the own set: read receipts, challenges and recipients with no host-name domain', async () => {
    const { stdout } = await run(bounceCommand, [WILD, '--json'], dir);
    const doc = JSON.parse(stdout);
    expectContract('bounce', '--json', doc);
    expect(doc.messages.some((m: { recipients: { recipientDomainInvalid?: true }[] }) => m.recipients.some((r) => r.recipientDomainInvalid))).toBe(true);
  });

  it('dns --json: domains with DKIM keys and findings, and addresses with reverse DNS and blocklists', async () => {
    const { stdout } = await run(createDnsCommand(), ['clean.test', 'keys.test', 'bare.test', '--selector', 's2048', '--selector', 'old', '--ip', IPS.clean, '--ip', IPS.listed, '--dnsbl', DNSBL.lists, '--dnsbl', DNSBL.refuses, '--dns-server', dns.address, '--json'], dir);
    const doc = JSON.parse(stdout);
    expect(doc.domains[0].records.dkim).toBeDefined();
    expect(doc.ips[1].findings.length).toBeGreaterThan(0);
    expectContract('dns', '--json', doc);
  });

  it('address --json: fine, doubtful and broken addresses, one with a suggestion', async () => {
    const { stdout } = await run(createAddressCommand(), ['a@example.jp', 'taro.@docomo.ne.jp', 'info@gmial.com', 'shop＠example．jp', '--json'], dir);
    const doc = JSON.parse(stdout);
    expect(doc.addresses.some((a: { findings: { suggestion?: string }[] }) => a.findings.some((f) => f.suggestion))).toBe(true);
    expectContract('address', '--json', doc);
  });

  it('suppressions --json: hard bounces of a target and of mail without one', async () => {
    // Prepare: bounces recorded by the real recording path
    const state = join(dir, 'state');
    const store = createFileStore({ dir: state });
    await store.putCanary({ id: canaryAt(0), target: 'shop', sentAt: new Date(T0).toISOString(), recipients: [], deliveredAt: null });
    const random = countingRandom();
    for (const [recipient, canaryId] of [['nobody@example.jp', canaryAt(0)], ['old@example.com', null]] as const) {
      const r = bounced({ recipient, reason: 'userunknown', status: '5.1.1', hard: true, canaryId });
      await recordBounce(r, bounceFinding(r), { store, clock: () => new Date(T0), random, source: `raw/${recipient}.eml` });
    }
    // Act
    const { code, stdout } = await run(createSuppressionsCommand(), ['--state', state, '--json'], dir);
    // Assess
    const doc = JSON.parse(stdout);
    expect(code).toBe(0);
    expect(doc.addresses).toHaveLength(2);
    expectContract('suppressions', '--json', doc);
  });

  it('fails on a field the contract does not have', () => {
    expect(() => expectContract('address', '--json', { addresses: [{ input: 'a@example.jp', normalized: null, ok: true, findings: [], extra: 1 }] })).toThrow(/addresses\.0: Unrecognized key: "extra"/);
  });
});
