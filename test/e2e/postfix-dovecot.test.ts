/**
 * End to end against a provider built like a real one: a private Postfix for submission on a
 * non-standard port (STARTTLS required before AUTH, a private CA), SASL AUTH answered by a
 * private Dovecot, Postfix handing mailbox mail to Dovecot over LMTP, Dovecot refusing a
 * mailbox over its quota (so the full-mailbox DSN carries Dovecot's own words), and a port 25
 * that accepts and never answers (OP25B as seen through a silent relay).
 * Everything listens on 127.0.0.1 on ports found free at run time; Postfix never looks up DNS.
 * Skipped, saying why, only where Postfix or Dovecot (or root, which private instances need)
 * is missing.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '#core/config.ts';
import { createCheckCommand } from '#local/cli/check.ts';
import type { CliIO } from '#local/cli/io.ts';
import type { IntakeOutcome, IntakeRecipient } from '#local/intake.ts';
import { createLocalRuntime, type LocalRuntime, type LoopEvent } from '#local/loop.ts';
import { dovecotUnavailable, startDovecot, type DovecotInstance } from './helpers/dovecot.ts';
import { freePort, plainSession, postfixUnavailable, PROVIDER_HOSTNAME, startPostfix, type PostfixInstance } from './helpers/postfix.ts';

const unavailable = postfixUnavailable() ?? dovecotUnavailable();
if (unavailable) console.log(`SKIPPED test/e2e/postfix-dovecot.test.ts: ${unavailable}`);

const BOUNCE_DOMAIN = 'bounces.test';
const MAILBOX_DOMAIN = 'mailbox.test';
const SHOP_USER = 'shop@provider.test';
// Made at run time: never a password in the repository.
const SHOP_PASSWORD = randomBytes(12).toString('hex');
// Postfix writes the DSNs within a second or two; this bounds the wait if it never does.
const DSN_WAIT_MS = 45_000;

class Capture extends Writable {
  text = '';
  isTTY = false;
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString('utf8');
    done();
  }
}

describe.skipIf(unavailable !== null)('real Postfix + Dovecot as the provider (SASL, LMTP, quota)', () => {
  let dovecot: DovecotInstance | undefined;
  let postfix: PostfixInstance | undefined;
  let runtime: LocalRuntime | undefined;
  let silent25: net.Server | undefined;
  const silentSockets = new Set<net.Socket>();
  let dir: string;
  let configPath: string;
  let ports: Record<number, number>;
  const events: LoopEvent[] = [];

  beforeAll(async () => {
    // Prepare: Dovecot with a login and three mailboxes (one over its 1 KB quota), Postfix using
    // it, a port 25 that accepts and stays silent, and nothing at all on the probed 587 and 465.
    dovecot = await startDovecot({
      hostname: 'store.provider.test',
      users: [
        { address: SHOP_USER, password: SHOP_PASSWORD },
        { address: `ok@${MAILBOX_DOMAIN}`, password: randomBytes(8).toString('hex') },
        { address: `owner@${MAILBOX_DOMAIN}`, password: randomBytes(8).toString('hex') },
        { address: `full@${MAILBOX_DOMAIN}`, password: randomBytes(8).toString('hex'), quota: '*:storage=1K', prefillBytes: 4096 },
      ],
    });
    const listenerPort = await freePort();
    postfix = await startPostfix({
      bounceDomain: BOUNCE_DOMAIN,
      listenerPort,
      dovecot: { authSocket: dovecot.authSocket, lmtpPort: dovecot.lmtpPort, domains: [MAILBOX_DOMAIN] },
    });
    silent25 = net.createServer((socket) => {
      silentSockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => silentSockets.delete(socket));
    });
    await new Promise<void>((resolve) => silent25!.listen(0, '127.0.0.1', () => resolve()));
    ports = { 25: (silent25.address() as net.AddressInfo).port, 587: await freePort(), 465: await freePort() };

    dir = await mkdtemp(join(tmpdir(), 'mh-dovecot-'));
    const caFile = join(dir, 'ca.pem');
    await writeFile(caFile, postfix.caPem);
    const target = (name: string, port: number, to: string[], extra: Record<string, unknown> = {}) => ({
      name,
      host: '127.0.0.1',
      port,
      servername: PROVIDER_HOSTNAME,
      tls: 'starttls',
      ca: caFile,
      auth: { user: SHOP_USER, passwordEnv: 'SHOP_SMTP_PASSWORD' },
      from: SHOP_USER,
      to,
      probePorts: [],
      maxMessageBytes: 1_000_000,
      timeouts: { connectMs: 5_000, stepMs: 10_000, probeMs: 1_000 },
      slowStepMs: 5_000,
      ...extra,
    });
    const submission = postfix.authSubmissionPort!;
    const doc = {
      language: 'en',
      bounceDomain: BOUNCE_DOMAIN,
      targets: [
        target('shop', submission, [`ok@${MAILBOX_DOMAIN}`, `owner@${MAILBOX_DOMAIN}`], { probePorts: [25, 587, 465] }),
        target('wrong-password', submission, [`ok@${MAILBOX_DOMAIN}`], { auth: { user: SHOP_USER, passwordEnv: 'WRONG_PASSWORD' } }),
        target('implicit-on-starttls', submission, [`ok@${MAILBOX_DOMAIN}`], { tls: 'implicit' }),
        target('starttls-on-smtps', postfix.smtpsPort!, [`ok@${MAILBOX_DOMAIN}`], { timeouts: { connectMs: 5_000, stepMs: 2_000, probeMs: 2_000 } }),
        target('mailboxes', submission, [`full@${MAILBOX_DOMAIN}`, `nobody@${MAILBOX_DOMAIN}`, `someone@unrouted.example`, `canary@${BOUNCE_DOMAIN}`]),
      ],
      local: { bounceListener: { host: '127.0.0.1', port: listenerPort } },
    };
    configPath = join(dir, 'mailhealth.config.json');
    await writeFile(configPath, JSON.stringify(doc));
    // The loop runs only the target whose mail comes back; the others are for `check`.
    runtime = await createLocalRuntime({
      config: parseConfig({ ...doc, targets: doc.targets.filter((t) => t.name === 'mailboxes') }),
      stateDir: join(dir, 'state'),
      notifiers: [],
      secrets: { mailboxes: { password: SHOP_PASSWORD, ca: postfix.caPem } },
      report: (e) => events.push(e),
      reportPath: null,
    });
  }, 120_000);

  afterAll(async () => {
    await runtime?.close();
    for (const socket of silentSockets) socket.destroy();
    await new Promise<void>((resolve) => (silent25 ? silent25.close(() => resolve()) : resolve()));
    await postfix?.stop();
    await dovecot?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 60_000);

  /** `mailhealth check --target NAME --json` as a user runs it, the probe's logical ports mapped. */
  async function check(name: string) {
    const out = new Capture();
    const err = new Capture();
    const io: CliIO = { stdout: out, stderr: err, env: { SHOP_SMTP_PASSWORD: SHOP_PASSWORD, WRONG_PASSWORD: 'not-the-password' }, cwd: dir };
    const code = await createCheckCommand({ portOverrides: ports })(['--config', configPath, '--target', name, '--json'], io);
    const doc = JSON.parse(out.text) as { targets: { canaryId: string; status: string; steps: Record<string, unknown>[]; ports: Record<string, string>; findings: Record<string, unknown>[] }[] };
    return { code, target: doc.targets[0]!, logs: async () => `Postfix:\n${await postfix!.log()}\nDovecot:\n${await dovecot!.log()}` };
  }

  it('logs in through Dovecot after STARTTLS on a non-standard submission port, delivers over LMTP, and calls the silent 25 OP25B', async () => {
    // Act
    const { code, target, logs } = await check('shop');

    // Assess: a clean session, every step as documented, the RCPT steps naming their recipients
    expect(target.status, `${JSON.stringify(target.findings)}\n${await logs()}`).toBe('ok');
    expect(code).toBe(0);
    expect(target.steps.map((s) => s.step)).toEqual(['connect', 'greeting', 'ehlo', 'starttls', 'ehlo', 'auth', 'mail', 'rcpt', 'rcpt', 'data', 'quit']);
    expect(target.steps.find((s) => s.step === 'auth')).toMatchObject({ ok: true, reply: expect.stringMatching(/^235 2\.7\.0/) });
    expect(target.steps.filter((s) => s.step === 'rcpt').map((s) => s.recipient)).toEqual([`ok@${MAILBOX_DOMAIN}`, `owner@${MAILBOX_DOMAIN}`]);

    // Assess: OP25B concluded from the session's own port, which is not among the probed ones
    expect(target.ports).toEqual({ '25': 'timeout', '587': 'refused', '465': 'refused' });
    expect(target.findings.map((f) => f.code)).toEqual(['PORT25_BLOCKED']);
    expect((target.findings[0]!.message as { en: string }).en).toContain(`while port ${postfix!.authSubmissionPort} answers`);

    // Assess: the canary went through Postfix and Dovecot's LMTP into both mailboxes
    const deadline = Date.now() + DSN_WAIT_MS;
    const delivered = async () => (await dovecot!.messages(`owner@${MAILBOX_DOMAIN}`)).some((m) => m.includes(`X-Mail-Health-Canary: ${target.canaryId}`));
    while (!(await delivered()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    expect(await delivered(), await logs()).toBe(true);
    expect((await dovecot!.messages(`ok@${MAILBOX_DOMAIN}`)).join('\n')).toContain(`by store.provider.test with LMTP`);
  }, 60_000);

  it('reports a wrong password as AUTH_FAILED with the refusal Postfix got from Dovecot, and sends nothing', async () => {
    // Act
    const { code, target } = await check('wrong-password');

    // Assess
    expect(code).toBe(2);
    expect(target.findings).toMatchObject([{ code: 'AUTH_FAILED', severity: 'critical', step: 'auth', reply: expect.stringMatching(/^535 5\.7\.8 /) }]);
    expect(target.steps.map((s) => s.step)).toEqual(['connect', 'greeting', 'ehlo', 'starttls', 'ehlo', 'auth', 'quit']);
    expect(await postfix!.log()).toMatch(/SASL PLAIN authentication failed/);
    expect(JSON.stringify(target)).not.toContain('not-the-password');
  }, 30_000);

  it('offers AUTH only after STARTTLS, and relays nothing before it', async () => {
    // Act: a plain-text session that tries to log in and send without STARTTLS
    const plain = Buffer.from(`\u0000${SHOP_USER}\u0000${SHOP_PASSWORD}`).toString('base64');
    const replies = await plainSession(postfix!.authSubmissionPort!, ['EHLO client.test', `AUTH PLAIN ${plain}`, `MAIL FROM:<${SHOP_USER}>`, 'QUIT']);

    // Assess
    expect(replies[1]).toMatch(/STARTTLS/);
    expect(replies[1]).not.toMatch(/AUTH/);
    expect(replies[2]).toMatch(/^5\d\d /);
    expect(replies[3]).toMatch(/^530 5\.7\.0 .*STARTTLS/);
  });

  it('calls implicit TLS on the STARTTLS port, and STARTTLS on the implicit-TLS port, TLS_MODE_MISMATCH', async () => {
    // Act
    const [implicit, starttls] = await Promise.all([check('implicit-on-starttls'), check('starttls-on-smtps')]);

    // Assess
    expect(implicit.target.findings).toMatchObject([{ code: 'TLS_MODE_MISMATCH', severity: 'critical', step: 'connect' }]);
    expect((implicit.target.findings[0]!.remedy as { en: string }).en).toMatch(/"tls": "starttls"/);
    expect(starttls.target.findings).toMatchObject([{ code: 'TLS_MODE_MISMATCH', severity: 'critical', step: 'greeting' }]);
    expect((starttls.target.findings[0]!.remedy as { en: string }).en).toMatch(/"tls": "implicit"/);
    expect([implicit.code, starttls.code]).toEqual([2, 2]);
  }, 30_000);

  it("returns Dovecot's quota refusal as a DSN classified mailboxfull, and keeps every MTA off the network", async () => {
    // Act: one round of the local loop, then wait (bounded) for the DSNs and the round trip
    const summary = await runtime!.runRound();
    const outcomes = () => events.flatMap((e) => (e.kind === 'intake' ? [e.outcome] : []));
    const bounced = (): IntakeRecipient[] => outcomes().flatMap((o: IntakeOutcome) => (o.kind === 'bounce' ? o.recipients : []));
    const wanted = [`full@${MAILBOX_DOMAIN}`, `nobody@${MAILBOX_DOMAIN}`, 'someone@unrouted.example'];
    const complete = () => wanted.every((r) => bounced().some((b) => b.recipient.recipient === r)) && outcomes().some((o) => o.kind === 'delivered');
    const deadline = Date.now() + DSN_WAIT_MS;
    while (!complete() && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      await runtime!.intake.drain();
    }

    // Assess: the session went through (the refusals come later, from Dovecot)
    const [result] = summary.results;
    expect(result?.status, JSON.stringify(result?.findings)).toBe('ok');
    const logs = `Postfix:\n${await postfix!.log()}\nDovecot:\n${await dovecot!.log()}`;
    expect(complete(), `the DSNs never all came back\n${logs}`).toBe(true);
    const of = (address: string) => bounced().find((b) => b.recipient.recipient === address)!;

    // Assess: Dovecot's own words, classified and matched to the canary
    const full = of(`full@${MAILBOX_DOMAIN}`);
    expect(full.recipient).toMatchObject({ reason: 'mailboxfull', status: '5.2.2', replyCode: 552, canaryId: result!.canaryId });
    expect(full.recipient.diagnostic).toMatch(/Quota exceeded \(mailbox for user is full\)/);
    expect(full.finding?.code).toBe('BOUNCE_MAILBOX_FULL');
    const nobody = of(`nobody@${MAILBOX_DOMAIN}`);
    expect(nobody.recipient).toMatchObject({ reason: 'userunknown', status: '5.1.1', canaryId: result!.canaryId });
    expect(nobody.recipient.diagnostic).toMatch(/User doesn't exist/);

    // Assess: a domain outside the test's routes is refused by the error transport, never looked up
    expect(of('someone@unrouted.example').recipient.diagnostic).toMatch(/no route outside the test/);
    expect(await postfix!.log()).not.toMatch(/Host or domain name not found|Name service error|DNS/i);

    // Assess: the round trip, and nothing kept or lost
    expect(outcomes().find((o) => o.kind === 'delivered')).toMatchObject({ canaryId: result!.canaryId, target: 'mailboxes' });
    expect(outcomes().filter((o) => o.kind === 'kept' || o.kind === 'failed')).toEqual([]);
    console.log('Dovecot DSNs as mail-health classified them:\n' + JSON.stringify([full, nobody].map((b) => b.recipient), null, 2));
  }, 90_000);
});
