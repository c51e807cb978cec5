/**
 * The local loop against real stand-ins on 127.0.0.1: a provider (smtp-server with STARTTLS
 * and AUTH), the embedded bounce listener, a bounce folder, and the file store in a temporary
 * state directory. Time is injected where the round trip needs minutes to pass.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, type Config } from '#core/config.ts';
import { buildCanaryMessage } from '#core/probe/canary-message.ts';
import { createRunCommand } from '#local/cli/run.ts';
import { buildDsn } from '#local/demo/dsn.ts';
import type { IntakeOutcome } from '#local/intake.ts';
import { createLocalRuntime, readRunMeta, runLoop, type LocalRuntime, type LocalRuntimeOptions, type LoopEvent } from '#local/loop.ts';
import { intervalSchedule } from '#local/schedule.ts';
import { closeAll, HOST, makePki, PASSWORD, SERVERNAME, smtpError, startSmtpServer, USER, type TestPki } from '../helpers/smtp.ts';

const BOUNCE_DOMAIN = 'bounces.example.jp';

let pki: TestPki;
const dirs: string[] = [];
const runtimes: LocalRuntime[] = [];

beforeAll(() => {
  pki = makePki();
});

afterEach(async () => {
  for (const r of runtimes.splice(0)) await r.close();
  await closeAll();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mh-loop-'));
  dirs.push(dir);
  return dir;
}

function configInput(port: number, extra: { to?: string[] } = {}) {
  return {
    language: 'en',
    bounceDomain: BOUNCE_DOMAIN,
    targets: [
      {
        name: 'shop',
        host: HOST,
        port,
        servername: SERVERNAME,
        auth: { user: USER, passwordEnv: 'UNUSED_IN_TESTS' },
        from: USER,
        to: extra.to ?? ['owner@example.jp'],
        probePorts: [],
        timeouts: { connectMs: 2_000, stepMs: 2_000, probeMs: 500 },
      },
    ],
  };
}

function configFor(port: number, extra: { to?: string[]; local?: Record<string, unknown> } = {}): Config {
  return parseConfig({
    language: 'en',
    bounceDomain: BOUNCE_DOMAIN,
    targets: [
      {
        name: 'shop',
        host: HOST,
        port,
        servername: SERVERNAME,
        auth: { user: USER, passwordEnv: 'UNUSED_IN_TESTS' },
        from: USER,
        to: extra.to ?? ['owner@example.jp'],
        probePorts: [],
        timeouts: { connectMs: 2_000, stepMs: 2_000, probeMs: 500 },
      },
    ],
    ...(extra.local ? { local: extra.local } : {}),
  });
}

async function runtimeFor(config: Config, stateDir: string, events: LoopEvent[], more: Partial<LocalRuntimeOptions> = {}): Promise<LocalRuntime> {
  const runtime = await createLocalRuntime({
    config,
    stateDir,
    notifiers: [],
    secrets: { shop: { password: PASSWORD, ca: pki.caPem } },
    report: (e) => events.push(e),
    reportPath: null,
    ...more,
  });
  runtimes.push(runtime);
  return runtime;
}

const intakeOf = (events: readonly LoopEvent[]): IntakeOutcome[] => events.flatMap((e) => (e.kind === 'intake' ? [e.outcome] : []));
const alertsOf = (events: readonly LoopEvent[]) => events.flatMap((e) => (e.kind === 'alert' ? [e.event] : []));

/** Sends raw bytes to an SMTP server the way an MTA returns a bounce (null sender by default). */
function sendRaw(port: number, to: string, raw: string, from: string | false = false): Promise<void> {
  return new Promise((resolve, reject) => {
    const conn = new SMTPConnection({ host: HOST, port, ignoreTLS: true, connectionTimeout: 5_000, greetingTimeout: 5_000, socketTimeout: 5_000 });
    conn.on('error', reject);
    conn.connect((err) => {
      if (err) return reject(err);
      conn.send({ from, to: [to] }, raw, (sendErr) => {
        if (sendErr) {
          conn.close();
          return reject(sendErr);
        }
        conn.quit();
        resolve();
      });
    });
  });
}

describe('the local loop', () => {
  it('continues from the stored state after a restart: the second failing round raises the alert', async () => {
    // Prepare: a provider that refuses the password, and one state directory for two processes.
    const server = await startSmtpServer(pki, { onAuth: (_a, _s, cb) => cb(smtpError(535, '5.7.8 Authentication credentials invalid')) });
    const stateDir = await tempDir();
    const config = configFor(server.port);
    const first: LoopEvent[] = [];
    const second: LoopEvent[] = [];

    // Act: one round, stop, start again on the same directory, one more round.
    const runtime1 = await runtimeFor(config, stateDir, first);
    await runLoop(runtime1, { schedule: intervalSchedule(60), rounds: 1, report: (e) => first.push(e) });
    await runtime1.close();
    runtimes.splice(runtimes.indexOf(runtime1), 1);
    const runtime2 = await runtimeFor(config, stateDir, second);
    await runLoop(runtime2, { schedule: intervalSchedule(60), rounds: 1, report: (e) => second.push(e) });

    // Assess
    expect(alertsOf(first)).toEqual([]);
    expect(alertsOf(second)).toMatchObject([{ kind: 'failing', target: 'shop', findings: [{ code: 'AUTH_FAILED' }] }]);
    expect(second.find((e) => e.kind === 'round-start')).toMatchObject({ round: 2 });
    expect((await runtime2.store.getHealth('shop'))?.value).toMatchObject({ state: 'failing', badStreak: 2 });
    expect(await runtime2.store.listRounds('shop', 10)).toHaveLength(2);
    expect(await readRunMeta(stateDir)).toMatchObject({ rounds: 2, language: 'en', targets: ['shop'] });
  });

  it('keeps a malformed message from the bounce folder, reports it, and records the real bounce beside it', async () => {
    // Prepare: a canary round whose bounce sits in the folder next to a message nobody can read.
    const server = await startSmtpServer(pki);
    const stateDir = await tempDir();
    const bounceDir = join(await tempDir(), 'bounces');
    await mkdir(bounceDir);
    const events: LoopEvent[] = [];
    const runtime = await runtimeFor(configFor(server.port, { local: { bounceDir: 'unused' } }), stateDir, events, { bounceDir, reportPath: join(stateDir, 'report.html') });
    const first = await runtime.runRound();
    const canaryId = first.results[0]!.canaryId;
    const original = server.received[0]!.raw;
    await writeFile(
      join(bounceDir, 'returned.eml'),
      buildDsn({
        reportingMta: 'smtp.example.jp',
        returnTo: `bounce+${canaryId}@${BOUNCE_DOMAIN}`,
        arrivalDate: new Date(),
        date: new Date(),
        recipients: [{ recipient: 'owner@example.jp', action: 'failed', status: '5.2.2', remoteMta: 'mx.example.jp', diagnostic: '552 5.2.2 Mailbox full' }],
        original,
        token: 'T1',
      }),
    );
    await writeFile(join(bounceDir, 'garbage.eml'), Buffer.from([0x00, 0xff, 0x13, 0x37, 0x0a, 0x68, 0x69, 0x0a]));

    // Act: the next round reads the folder; the one after must not read the same files again.
    await runtime.runRound();
    const afterSecond = intakeOf(events).length;
    await runtime.runRound();

    // Assess
    const outcomes = intakeOf(events);
    expect(outcomes).toHaveLength(2);
    expect(intakeOf(events).length).toBe(afterSecond);
    const kept = outcomes.find((o) => o.kind === 'kept');
    expect(kept).toMatchObject({ kind: 'kept', source: 'garbage.eml', why: expect.stringMatching(/not understood/) });
    const keptAs = (kept as Extract<IntakeOutcome, { kind: 'kept' }>).keptAs;
    expect(keptAs.startsWith(join(stateDir, 'kept'))).toBe(true);
    expect(await readFile(keptAs)).toEqual(await readFile(join(bounceDir, 'garbage.eml')));
    expect(JSON.parse(await readFile(`${keptAs}.json`, 'utf8'))).toMatchObject({ source: 'garbage.eml', why: expect.any(String) });
    expect(existsSync(join(bounceDir, 'garbage.eml'))).toBe(true);
    expect(outcomes.find((o) => o.kind === 'bounce')).toMatchObject({
      recipients: [{ target: 'shop', recipient: { recipient: 'owner@example.jp', reason: 'mailboxfull', canaryId }, finding: { code: 'BOUNCE_MAILBOX_FULL' } }],
    });
    expect(alertsOf(events)).toMatchObject([{ kind: 'bounce', target: 'shop', canaryId }]);
    expect(await readFile(join(stateDir, 'report.html'), 'utf8')).toContain('garbage.eml');
  });

  it('finishes the round it is in when stopped (Ctrl-C), then stops', async () => {
    // Prepare: the stop arrives while the provider is in the middle of the session.
    const stop = new AbortController();
    const server = await startSmtpServer(pki, {
      onAuth(auth, _s, cb) {
        stop.abort();
        cb(null, { user: auth.username });
      },
    });
    const stateDir = await tempDir();
    const events: LoopEvent[] = [];
    const runtime = await runtimeFor(configFor(server.port), stateDir, events);

    // Act
    const result = await runLoop(runtime, { schedule: intervalSchedule(3600), signal: stop.signal, report: (e) => events.push(e) });

    // Assess: the round was completed and recorded, and no other began.
    expect(result).toMatchObject({ rounds: 1, stopped: true });
    const kinds = events.map((e) => e.kind);
    expect(kinds.indexOf('stopping')).toBeLessThan(kinds.indexOf('round-end'));
    expect(kinds.filter((k) => k === 'round-start')).toHaveLength(1);
    expect(kinds).not.toContain('waiting');
    expect(await runtime.store.listRounds('shop', 10)).toHaveLength(1);
    expect(server.received).toHaveLength(1);
  });

  it('stops at once when stopped while waiting for the next round', async () => {
    // Prepare: an hour between rounds; the stop comes as soon as the loop starts waiting.
    const server = await startSmtpServer(pki);
    const stop = new AbortController();
    const events: LoopEvent[] = [];
    const runtime = await runtimeFor(configFor(server.port), await tempDir(), events);

    // Act
    const result = await runLoop(runtime, {
      schedule: intervalSchedule(3600),
      signal: stop.signal,
      report: (e) => {
        events.push(e);
        if (e.kind === 'waiting') stop.abort();
      },
    });

    // Assess
    expect(result).toMatchObject({ rounds: 1, stopped: true });
    expect(events.at(-1)).toEqual({ kind: 'stopped', rounds: 1 });
  });

  it('raises CANARY_NOT_DELIVERED once for a canary that never reaches the bounce domain, and none for one that does; the report shows both', async () => {
    // Prepare: the provider accepts everything and relays nothing; the clock moves 16 minutes per round.
    const server = await startSmtpServer(pki);
    let now = Date.parse('2026-03-01T00:00:00Z');
    const events: LoopEvent[] = [];
    const config = configFor(server.port, { to: [`canary@${BOUNCE_DOMAIN}`], local: { bounceListener: { host: HOST, port: 2525 } } });
    const stateDir = await tempDir();
    const runtime = await runtimeFor(config, stateDir, events, { clock: () => new Date(now), storeNow: () => now, listenerPort: 0, reportPath: join(stateDir, 'report.html') });

    // Act: round 1's canary is lost; round 2's canary arrives through the bounce listener.
    const r1 = await runtime.runRound();
    now += 16 * 60_000;
    const r2 = await runtime.runRound();
    await sendRaw(runtime.listener!.port, `canary@${BOUNCE_DOMAIN}`, server.received[1]!.raw, `bounce+${r2.results[0]!.canaryId}@${BOUNCE_DOMAIN}`);
    await runtime.intake.drain();
    now += 16 * 60_000;
    await runtime.runRound();

    // Assess
    const undelivered = alertsOf(events).filter((a) => a.kind === 'undelivered');
    expect(undelivered).toHaveLength(1);
    expect(undelivered[0]).toMatchObject({ canaryId: r1.results[0]!.canaryId, findings: [{ code: 'CANARY_NOT_DELIVERED' }] });
    expect(intakeOf(events)).toMatchObject([{ kind: 'delivered', canaryId: r2.results[0]!.canaryId, target: 'shop', seconds: 0 }]);
    const html = await readFile(join(stateDir, 'report.html'), 'utf8');
    const details = html.indexOf('<details class="target" id="t-shop"');
    const roundTrip = html.slice(html.indexOf('<h4>Round trip</h4>', details), html.indexOf('</details>', details));
    expect(roundTrip).toMatch(/Canaries that must arrive: 3 · arrived: 1 · median 0\.0 s · latest 0\.0 s · not delivered: 1 · on the way: 1/);
    expect(roundTrip).toContain(r1.results[0]!.canaryId);
    expect(roundTrip).toContain('CANARY_NOT_DELIVERED');
  });

  it('keeps every message it received in raw/ where the history points, links it from the report, and removes it after retention.rawMailDays saying so', async () => {
    // Prepare: a round whose canary will bounce; the clock is ours.
    const server = await startSmtpServer(pki);
    let now = Date.parse('2026-03-01T00:00:00Z');
    const stateDir = await tempDir();
    const events: LoopEvent[] = [];
    const config = parseConfig({ ...configInput(server.port), local: { bounceListener: { host: HOST, port: 2525 } }, retention: { rawMailDays: 2 } });
    const runtime = await runtimeFor(config, stateDir, events, { clock: () => new Date(now), storeNow: () => now, listenerPort: 0, reportPath: join(stateDir, 'report.html') });
    const { results } = await runtime.runRound();
    const canaryId = results[0]!.canaryId;
    const dsn = buildDsn({
      reportingMta: 'smtp.example.jp',
      returnTo: `bounce+${canaryId}@${BOUNCE_DOMAIN}`,
      arrivalDate: new Date(now),
      date: new Date(now),
      recipients: [{ recipient: 'owner@example.jp', action: 'failed', status: '5.1.1', remoteMta: 'mx.example.jp', diagnostic: '550 5.1.1 User unknown' }],
      original: server.received[0]!.raw,
      token: 'R1',
    });

    // Act: the DSN comes in through the listener; a round writes the report; three days later another round.
    await sendRaw(runtime.listener!.port, `bounce+${canaryId}@${BOUNCE_DOMAIN}`, dsn);
    await runtime.intake.drain();
    now += 60_000;
    await runtime.runRound();
    const [record] = await runtime.store.listBounces('shop', 10);
    const kept = record?.source ? await readFile(join(stateDir, record.source), 'utf8').catch(() => null) : null;
    const before = await readFile(join(stateDir, 'report.html'), 'utf8');
    now += 3 * 86_400_000;
    await runtime.runRound();
    const after = await readFile(join(stateDir, 'report.html'), 'utf8');

    // Assess: the inbox is empty, the record points at the kept message, the report linked it.
    expect(await readdir(join(stateDir, 'inbox'))).toEqual([]);
    expect(record?.source).toMatch(/^raw\/2026-03-01\/20260301T000000\d{3}Z-.*\.eml$/);
    expect(kept).toContain(dsn.slice(0, 200));
    expect(kept).toMatch(/^Return-Path: <>\r\nDelivered-To: bounce\+/);
    expect(before).toContain(`href="${record!.source}"`);
    // Retention removed it, the record stays and says so, and the report tells what went.
    expect(existsSync(join(stateDir, record!.source!))).toBe(false);
    expect(after).not.toContain(`href="${record!.source}"`);
    expect(after).toContain('removed (retention)');
    expect(after).toMatch(/removed 1 raw message\(s\) of 2026-03-01 \(older than 2 days\)/);
    expect(await runtime.store.listBounces('shop', 10)).toHaveLength(1);
  });

  it('writes what the bounce listener accepts to disk first, and a restart processes what was left', async () => {
    // Prepare: a round whose canary will bounce; the intake of the first process is held, as if it died.
    const server = await startSmtpServer(pki);
    const stateDir = await tempDir();
    const events: LoopEvent[] = [];
    const config = configFor(server.port, { local: { bounceListener: { host: HOST, port: 2525 } } });
    const runtime1 = await runtimeFor(config, stateDir, events, { listenerPort: 0 });
    const { results } = await runtime1.runRound();
    const canaryId = results[0]!.canaryId;
    runtime1.intake.hold();
    const dsn = buildDsn({
      reportingMta: 'smtp.example.jp',
      returnTo: `bounce+${canaryId}@${BOUNCE_DOMAIN}`,
      arrivalDate: new Date(),
      date: new Date(),
      recipients: [{ recipient: 'owner@example.jp', action: 'failed', status: '5.1.1', remoteMta: 'mx.example.jp', diagnostic: '550 5.1.1 User unknown' }],
      original: buildCanaryMessage({ canaryId, from: USER, to: ['owner@example.jp'], date: new Date() }),
      token: 'T2',
    });

    // Act: the listener says 250; the process goes away before processing; a new one starts.
    await sendRaw(runtime1.listener!.port, `bounce+${canaryId}@${BOUNCE_DOMAIN}`, dsn);
    const inbox = await readdir(join(stateDir, 'inbox'));
    await runtime1.close();
    runtimes.splice(runtimes.indexOf(runtime1), 1);
    expect(intakeOf(events)).toEqual([]);
    const runtime2 = await runtimeFor(config, stateDir, events, { listenerPort: 0 });
    await runtime2.runRound();

    // Assess
    expect(inbox).toHaveLength(1);
    expect(intakeOf(events)).toMatchObject([{ kind: 'bounce', source: `inbox/${inbox[0]}`, recipients: [{ target: 'shop', recipient: { reason: 'userunknown', canaryId } }] }]);
    expect(await readdir(join(stateDir, 'inbox'))).toEqual([]);
  });

  it('waits after the last of --rounds for what that round sent: the canary arrives and its bounce is matched', async () => {
    // Prepare: a provider whose queue holds each message a second before it delivers the canary
    // to the bounce listener and returns a DSN for the other recipient.
    let runtime: LocalRuntime | undefined;
    const relayed: Promise<void>[] = [];
    const server = await startSmtpServer(pki, {
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          const sender = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
          const dsn = buildDsn({
            reportingMta: 'smtp.example.jp',
            returnTo: sender,
            arrivalDate: new Date(),
            date: new Date(),
            recipients: [{ recipient: 'owner@example.jp', action: 'failed', status: '5.1.1', remoteMta: 'mx.example.jp', diagnostic: '550 5.1.1 User unknown' }],
            original: raw,
            token: 'Q1',
          });
          const port = runtime!.listener!.port;
          relayed.push(
            new Promise<void>((r) => setTimeout(r, 1_000)).then(async () => {
              await sendRaw(port, `canary@${BOUNCE_DOMAIN}`, raw, sender);
              await sendRaw(port, sender, dsn);
            }),
          );
          callback();
        });
      },
    });
    const events: LoopEvent[] = [];
    const config = configFor(server.port, { to: [`canary@${BOUNCE_DOMAIN}`, 'owner@example.jp'], local: { bounceListener: { host: HOST, port: 2525 } } });
    runtime = await runtimeFor(config, await tempDir(), events, { listenerPort: 0 });

    // Act
    const result = await runLoop(runtime, { schedule: intervalSchedule(60), rounds: 1, drainMs: 20_000, report: (e) => events.push(e) });
    await Promise.all(relayed);

    // Assess: the loop returned only once both were in, and said so.
    const canaryId = result.last!.results[0]!.canaryId;
    const kinds = events.map((e) => e.kind);
    expect(kinds.indexOf('draining')).toBeGreaterThan(kinds.indexOf('round-end'));
    expect(kinds.indexOf('drained')).toBeLessThan(kinds.indexOf('stopped'));
    expect(events.find((e) => e.kind === 'drained')).toMatchObject({ missing: [] });
    const outcomes = intakeOf(events);
    expect(outcomes.find((o) => o.kind === 'delivered')).toMatchObject({ canaryId, target: 'shop', seconds: expect.closeTo(1, 0) });
    expect(outcomes.find((o) => o.kind === 'bounce')).toMatchObject({ recipients: [{ target: 'shop', recipient: { recipient: 'owner@example.jp', canaryId } }] });
    expect(kinds.lastIndexOf('intake')).toBeLessThan(kinds.indexOf('drained'));
  });

  it('says which setting is wrong when the bounce listener cannot listen', async () => {
    // Prepare: the port is taken.
    const taken = net.createServer();
    const port = await new Promise<number>((resolve) => taken.listen(0, HOST, () => resolve((taken.address() as net.AddressInfo).port)));
    try {
      // Act + Assess
      const config = configFor(1, { local: { bounceListener: { host: HOST, port } } });
      await expect(runtimeFor(config, await tempDir(), [])).rejects.toThrow(new RegExp(`local\\.bounceListener: cannot listen on 127\\.0\\.0\\.1:${port} \\(EADDRINUSE\\)`));
    } finally {
      await new Promise<void>((r) => taken.close(() => r()));
    }
  });

  it('refuses mail for other domains at the bounce listener', async () => {
    const server = await startSmtpServer(pki);
    const runtime = await runtimeFor(configFor(server.port, { local: { bounceListener: { host: HOST, port: 2525 } } }), await tempDir(), [], { listenerPort: 0 });
    await expect(sendRaw(runtime.listener!.port, 'someone@elsewhere.example', 'Subject: hi\r\n\r\nhi\r\n')).rejects.toMatchObject({ responseCode: 550 });
  });
});

describe('mailhealth run --config', () => {
  class Capture extends Writable {
    text = '';
    override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void) {
      this.text += chunk.toString('utf8');
      cb();
    }
  }

  async function writeConfig(dir: string, port: number): Promise<string> {
    await writeFile(join(dir, 'ca.pem'), pki.caPem);
    await mkdir(join(dir, 'returned'));
    const path = join(dir, 'mailhealth.config.json');
    await writeFile(
      path,
      JSON.stringify({
        language: 'en',
        bounceDomain: BOUNCE_DOMAIN,
        targets: [
          {
            name: 'shop',
            host: HOST,
            port,
            servername: SERVERNAME,
            ca: 'ca.pem',
            auth: { user: USER, passwordEnv: 'SHOP_SMTP_PASSWORD' },
            from: USER,
            to: ['owner@example.jp'],
            probePorts: [],
            timeouts: { connectMs: 2_000, stepMs: 2_000, probeMs: 500 },
          },
        ],
        alerts: { slack: { webhookUrlEnv: 'SLACK_WEBHOOK_URL' } },
        local: { bounceDir: 'returned' },
      }),
    );
    return path;
  }

  it('runs one round with --once: the exit code of its status, the state and the report in --state', async () => {
    // Prepare: a config next to its CA file and its bounce folder, read from another working directory.
    const server = await startSmtpServer(pki);
    const dir = await tempDir();
    const config = await writeConfig(dir, server.port);
    const out = new Capture();
    const err = new Capture();
    const cwd = await tempDir();

    // Act
    const code = await createRunCommand()(['--config', config, '--once', '--state', 'state'], { stdout: out, stderr: err, env: { SHOP_SMTP_PASSWORD: PASSWORD, LANG: 'C' }, cwd });

    // Assess
    expect(code).toBe(0);
    expect(out.text).toMatch(/^mailhealth run: shop · every 5 minutes · Ctrl-C stops after the current round$/m);
    expect(out.text).toMatch(/note: Slack alerts off: set SLACK_WEBHOOK_URL/);
    expect(out.text).toContain(`bounce folder: ${join(dir, 'returned')}`);
    expect(out.text).toMatch(/^shop +127\.0\.0\.1:\d+ +OK +canary sent in \d+ ms$/m);
    expect(out.text).not.toContain(PASSWORD);
    expect(existsSync(join(cwd, 'state', 'report.html'))).toBe(true);
    expect(await readRunMeta(join(cwd, 'state'))).toMatchObject({ rounds: 1 });
    expect(server.received).toHaveLength(1);
  });

  it('stops before sending anything when a password is missing (exit 3 through the dispatcher)', async () => {
    const server = await startSmtpServer(pki);
    const config = await writeConfig(await tempDir(), server.port);
    const run = createRunCommand()(['--config', config, '--once'], { stdout: new Capture(), stderr: new Capture(), env: {}, cwd: await tempDir() });
    await expect(run).rejects.toThrow(/targets\[0\]\.auth\.passwordEnv: environment variable SHOP_SMTP_PASSWORD is not set/);
    expect(server.received).toHaveLength(0);
  });
});
