import { randomBytes } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createPortProber } from '#adapters/port-probe.ts';
import { createSmtpSession } from '#adapters/smtp-session.ts';
import type { TargetConfig } from '#core/config.ts';
import type { Finding } from '#core/findings.ts';
import { runCanaryRound } from '#core/probe/round.ts';
import type { TargetResult } from '#core/results.ts';
import {
  PASSWORD,
  USER,
  closeAll,
  closedPort,
  makePki,
  smtpError,
  startRawServer,
  startSilentServer,
  startSmtpServer,
  testTarget,
  type TestPki,
} from '../helpers/smtp.ts';

const BOUNCE_DOMAIN = 'bounces.example.jp';
let pki: TestPki;

beforeAll(() => {
  pki = makePki();
});

afterEach(async () => {
  await closeAll();
});

/** One round against `port` standing in for 587. */
async function round(port: number, target: TargetConfig = testTarget(), extra: { ca?: string; password?: string; ports?: Record<number, number> } = {}): Promise<TargetResult> {
  return runCanaryRound(
    target,
    { bounceDomain: BOUNCE_DOMAIN, password: extra.password ?? PASSWORD, ca: extra.ca ?? pki.caPem },
    {
      openSession: createSmtpSession(),
      probePort: createPortProber(),
      clock: () => new Date(),
      random: (n) => randomBytes(n),
      portOverrides: { 587: port, 465: port, ...extra.ports },
    },
  );
}

function only(result: TargetResult): Finding {
  const problems = result.findings.filter((f) => f.severity !== 'info');
  expect(problems, JSON.stringify(result.findings.map((f) => f.code))).toHaveLength(1);
  return problems[0]!;
}

describe('SMTP canary session (real smtp-server on 127.0.0.1)', () => {
  it('runs every step over STARTTLS with AUTH and delivers the canary with its id', async () => {
    // Prepare
    const server = await startSmtpServer(pki, { size: 20 * 1024 * 1024 });

    // Act
    const result = await round(server.port);

    // Assess
    expect(result.status).toBe('ok');
    expect(result.findings).toEqual([]);
    expect(result.steps.map((s) => s.step)).toEqual(['connect', 'greeting', 'ehlo', 'starttls', 'ehlo', 'auth', 'mail', 'rcpt', 'data', 'quit']);
    expect(result.steps.every((s) => s.ok && s.ms >= 0)).toBe(true);
    expect(result.tls).toMatchObject({ version: expect.stringMatching(/^TLSv1\.[23]$/), authorized: true, certDaysLeft: 89 });
    expect(result.extensions).toMatchObject({ SIZE: 20 * 1024 * 1024, AUTH: ['PLAIN', 'LOGIN'], STARTTLS: true, PIPELINING: true, '8BITMIME': true, SMTPUTF8: true });
    expect(server.authAttempts).toEqual([{ method: 'PLAIN', secure: true }]);
    const [message] = server.received;
    expect(message?.from).toBe(`bounce+${result.canaryId}@${BOUNCE_DOMAIN}`);
    expect(message?.raw).toContain(`Message-ID: <${result.canaryId}@mail-health>`);
    expect(message?.raw).toContain(`X-Mail-Health-Canary: ${result.canaryId}`);
  });

  it('checks the login only, sending no envelope and no message, when the round is login-only', async () => {
    // Prepare
    const server = await startSmtpServer(pki);

    // Act
    const result = await runCanaryRound(
      testTarget(),
      { bounceDomain: BOUNCE_DOMAIN, password: PASSWORD, ca: pki.caPem, loginOnly: true },
      { openSession: createSmtpSession(), probePort: createPortProber(), clock: () => new Date(), random: (n) => randomBytes(n), portOverrides: { 587: server.port, 465: server.port } },
    );

    // Assess
    expect(result.status).toBe('ok');
    expect(result.steps.map((s) => s.step)).toEqual(['connect', 'greeting', 'ehlo', 'starttls', 'ehlo', 'auth', 'quit']);
    expect(server.authAttempts).toEqual([{ method: 'PLAIN', secure: true }]);
    expect(server.received).toEqual([]);
  });

  it('never lets the password or the AUTH exchange into the result', async () => {
    const server = await startSmtpServer(pki);
    const result = await round(server.port, testTarget({ auth: { user: USER, password: PASSWORD } }));
    const text = JSON.stringify(result);
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain(Buffer.from(`\u0000${USER}\u0000${PASSWORD}`).toString('base64'));
    expect(text).not.toContain(Buffer.from(USER).toString('base64'));
    expect(server.received).toHaveLength(1);
  });

  it('speaks implicit TLS on a 465-style port', async () => {
    const server = await startSmtpServer(pki, { secure: true });
    const result = await round(server.port, testTarget({ port: 465, tls: 'implicit' }));
    expect(result.status).toBe('ok');
    expect(result.steps.map((s) => s.step)).toEqual(['connect', 'greeting', 'ehlo', 'auth', 'mail', 'rcpt', 'data', 'quit']);
    expect(result.tls?.authorized).toBe(true);
  });

  it('reports implicit TLS against a STARTTLS port as TLS_MODE_MISMATCH, not as an outdated TLS version', async () => {
    // Prepare: a STARTTLS server (plain greeting first), the target set to implicit TLS
    const server = await startSmtpServer(pki);

    // Act
    const result = await round(server.port, testTarget({ port: 465, tls: 'implicit' }));

    // Assess
    const f = only(result);
    expect(f).toMatchObject({ code: 'TLS_MODE_MISMATCH', severity: 'critical', step: 'connect' });
    expect(f.message.en).toMatch(/speaks plain SMTP first/);
    expect(f.remedy.en).toMatch(/"tls": "starttls"/);
    expect(f.remedy.en).toMatch(/port 465/);
    expect(f.remedy.en).not.toMatch(/outdated/);
    expect(server.authAttempts).toEqual([]);
  });

  it('reports STARTTLS against an implicit-TLS port (it never greets in plain text) as TLS_MODE_MISMATCH', async () => {
    // Prepare: a server that speaks TLS from the first byte, the target set to STARTTLS
    const server = await startSmtpServer(pki, { secure: true });

    // Act
    const result = await round(server.port, testTarget({ timeouts: { connectMs: 1_000, stepMs: 500, probeMs: 1_000 } }));

    // Assess
    const f = only(result);
    expect(f).toMatchObject({ code: 'TLS_MODE_MISMATCH', severity: 'critical', step: 'greeting' });
    expect(f.message.en).toMatch(/never greets in plain text/);
    expect(f.remedy.en).toMatch(/"tls": "implicit"/);
    expect(server.received).toEqual([]);
  });

  it('keeps TLS_HANDSHAKE_FAILED for a port that speaks neither TLS nor SMTP', async () => {
    const raw = await startRawServer((socket) => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
    const result = await round(raw.port, testTarget({ port: 465, tls: 'implicit' }));
    expect(only(result)).toMatchObject({ code: 'TLS_HANDSHAKE_FAILED', step: 'connect' });
  });

  it('reports a refused port as PORT_UNREACHABLE at connect', async () => {
    const result = await round(await closedPort());
    expect(only(result)).toMatchObject({ code: 'PORT_UNREACHABLE', severity: 'critical', step: 'connect' });
    expect(result.steps).toEqual([{ step: 'connect', ok: false, ms: expect.any(Number) }]);
  });

  it('reports a port that accepts and never greets as GREETING_TIMEOUT, within the step timeout', async () => {
    const silent = await startSilentServer();
    const started = Date.now();
    const result = await round(silent.port, testTarget({ timeouts: { connectMs: 1000, stepMs: 300, probeMs: 300 } }));
    expect(only(result)).toMatchObject({ code: 'GREETING_TIMEOUT', severity: 'critical', step: 'greeting' });
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('reports a 554 greeting as GREETING_REJECTED with the reply', async () => {
    const server = await startSmtpServer(pki, { onConnect: (_s, cb) => cb(smtpError(554, 'No SMTP service here')) });
    const f = only(await round(server.port));
    expect(f).toMatchObject({ code: 'GREETING_REJECTED', step: 'greeting', reply: '554 No SMTP service here' });
  });

  it('reports a 421 greeting as GREETING_REJECTED (server busy)', async () => {
    const server = await startSmtpServer(pki, { onConnect: (_s, cb) => cb(smtpError(421, 'Too many connections, try later')) });
    const f = only(await round(server.port));
    expect(f).toMatchObject({ code: 'GREETING_REJECTED', step: 'greeting', reply: '421 Too many connections, try later' });
    expect(f.message.en).toMatch(/not accepting connections right now/);
  });

  it('stops with STARTTLS_UNAVAILABLE when STARTTLS is not offered, and never sends AUTH in clear', async () => {
    const server = await startSmtpServer(pki, { disabledCommands: ['STARTTLS'], allowInsecureAuth: true });
    const result = await round(server.port);
    expect(only(result)).toMatchObject({ code: 'STARTTLS_UNAVAILABLE', severity: 'critical', step: 'starttls' });
    expect(result.extensions.STARTTLS).toBeUndefined();
    expect(server.authAttempts).toEqual([]);
    expect(result.steps.some((s) => s.step === 'auth')).toBe(false);
  });

  it('refuses an untrusted (self-signed) certificate: TLS_CERT_INVALID', async () => {
    const server = await startSmtpServer(pki, { certificate: pki.selfSigned });
    const result = await round(server.port);
    const f = only(result);
    expect(f).toMatchObject({ code: 'TLS_CERT_INVALID', step: 'starttls' });
    expect(f.message.en).toMatch(/not from a trusted authority/);
    expect(server.authAttempts).toEqual([]);
  });

  it('refuses a certificate issued for another host name: TLS_CERT_INVALID', async () => {
    const server = await startSmtpServer(pki, { certificate: pki.wrongHost });
    const f = only(await round(server.port));
    expect(f).toMatchObject({ code: 'TLS_CERT_INVALID', step: 'starttls' });
    expect(f.message.en).toMatch(/not issued for smtp\.test/);
  });

  it('refuses an expired certificate: TLS_CERT_INVALID', async () => {
    const server = await startSmtpServer(pki, { certificate: pki.expired });
    const f = only(await round(server.port));
    expect(f).toMatchObject({ code: 'TLS_CERT_INVALID', step: 'starttls' });
    expect(f.message.en).toMatch(/expired/);
  });

  it('warns with TLS_CERT_EXPIRING when the certificate has days left', async () => {
    const server = await startSmtpServer(pki, { certificate: pki.expiring });
    const result = await round(server.port);
    expect(result.status).toBe('warning');
    expect(only(result)).toMatchObject({ code: 'TLS_CERT_EXPIRING', severity: 'warning' });
    expect(result.tls?.certDaysLeft).toBe(4);
  });

  it('reports AUTH_UNAVAILABLE when the server offers no AUTH', async () => {
    const server = await startSmtpServer(pki, { disabledCommands: ['AUTH'] });
    const result = await round(server.port);
    expect(only(result)).toMatchObject({ code: 'AUTH_UNAVAILABLE', step: 'auth' });
    expect(server.received).toEqual([]);
  });

  it('reports AUTH 535 as AUTH_FAILED with the reply', async () => {
    const server = await startSmtpServer(pki);
    const result = await round(server.port, testTarget(), { password: 'wrong password' });
    expect(only(result)).toMatchObject({ code: 'AUTH_FAILED', step: 'auth', reply: '535 5.7.8 Authentication credentials invalid' });
    expect(result.steps.at(-1)?.step).toBe('quit');
  });

  it('reports MAIL FROM 553 as SENDER_REJECTED, not as recipient problems', async () => {
    const server = await startSmtpServer(pki, { onMailFrom: (_a, _s, cb) => cb(smtpError(553, '5.7.1 Sender address rejected: not owned by user')) });
    const f = only(await round(server.port));
    expect(f).toMatchObject({ code: 'SENDER_REJECTED', step: 'mail', reply: '553 5.7.1 Sender address rejected: not owned by user' });
    expect(f.message.en).toContain(`bounce+`);
  });

  it('reports 554 5.7.1 at RCPT as RELAY_DENIED for that recipient', async () => {
    const server = await startSmtpServer(pki, { onRcptTo: (_a, _s, cb) => cb(smtpError(554, '5.7.1 Relay access denied')) });
    const f = only(await round(server.port));
    expect(f).toMatchObject({ code: 'RELAY_DENIED', step: 'rcpt', recipient: 'owner@example.jp', reply: '554 5.7.1 Relay access denied' });
  });

  it('reports RCPT 550 5.1.1 as RECIPIENT_UNKNOWN', async () => {
    const server = await startSmtpServer(pki, { onRcptTo: (_a, _s, cb) => cb(smtpError(550, '5.1.1 <owner@example.jp>: Recipient address rejected: User unknown')) });
    const f = only(await round(server.port));
    expect(f).toMatchObject({ code: 'RECIPIENT_UNKNOWN', severity: 'critical', step: 'rcpt', recipient: 'owner@example.jp' });
    expect(f.reply).toMatch(/^550 5\.1\.1/);
  });

  it('reports RCPT 452 4.2.2 and 552 5.2.2 as MAILBOX_FULL (warning and critical)', async () => {
    const server = await startSmtpServer(pki, {
      onRcptTo: (a, _s, cb) =>
        a.address.startsWith('soon') ? cb(smtpError(452, '4.2.2 Mailbox full, try later')) : cb(smtpError(552, '5.2.2 Mailbox full')),
    });
    const result = await round(server.port, testTarget({ to: ['soon@example.jp', 'full@example.jp'] }));
    expect(result.findings).toMatchObject([
      { code: 'MAILBOX_FULL', severity: 'warning', recipient: 'soon@example.jp', reply: '452 4.2.2 Mailbox full, try later' },
      { code: 'MAILBOX_FULL', severity: 'critical', recipient: 'full@example.jp', reply: '552 5.2.2 Mailbox full' },
    ]);
    expect(result.findings[1]?.remedy.en).toMatch(/delete old mail/);
  });

  it('keeps per-recipient results: one rejected recipient does not hide the accepted one', async () => {
    const server = await startSmtpServer(pki, {
      onRcptTo: (a, _s, cb) => (a.address === 'typo@example.jp' ? cb(smtpError(550, '5.1.1 User unknown')) : cb()),
    });
    const result = await round(server.port, testTarget({ to: ['owner@example.jp', 'typo@example.jp'] }));
    expect(result.steps.filter((s) => s.step === 'rcpt')).toMatchObject([
      { ok: true, recipient: 'owner@example.jp' },
      { ok: false, recipient: 'typo@example.jp', reply: '550 5.1.1 User unknown' },
    ]);
    expect(only(result)).toMatchObject({ code: 'RECIPIENT_UNKNOWN', recipient: 'typo@example.jp' });
    expect(result.steps.find((s) => s.step === 'data')?.ok).toBe(true);
    expect(server.received[0]?.to).toEqual(['owner@example.jp']);
  });

  it('warns SIZE_LIMIT_LOW when the EHLO SIZE is below maxMessageBytes, naming the limit in MB', async () => {
    const server = await startSmtpServer(pki, { size: 5 * 1024 * 1024 });
    const result = await round(server.port, testTarget({ maxMessageBytes: 10 * 1024 * 1024 }));
    const f = only(result);
    expect(f).toMatchObject({ code: 'SIZE_LIMIT_LOW', severity: 'warning' });
    expect(f.message.en).toContain('at most 5 MB');
    expect(f.message.ja).toContain('最大5MB');
    expect(result.status).toBe('warning');
  });

  it('reports DATA 552 5.3.4 as MESSAGE_TOO_LARGE with the announced limit', async () => {
    const server = await startSmtpServer(pki, {
      size: 15 * 1024 * 1024,
      onData: (stream, _s, cb) => {
        stream.resume();
        stream.on('end', () => cb(smtpError(552, '5.3.4 Message too big for system')));
      },
    });
    const result = await round(server.port, testTarget({ maxMessageBytes: 10 * 1024 * 1024 }));
    const f = only(result);
    expect(f).toMatchObject({ code: 'MESSAGE_TOO_LARGE', step: 'data', reply: '552 5.3.4 Message too big for system' });
    expect(f.message.en).toContain('at most 15 MB');
  });

  it('reports 451 at RCPT as TEMPORARY_FAILURE (warning)', async () => {
    const server = await startSmtpServer(pki, { onRcptTo: (_a, _s, cb) => cb(smtpError(451, '4.3.0 Temporary lookup failure')) });
    const result = await round(server.port);
    expect(only(result)).toMatchObject({ code: 'TEMPORARY_FAILURE', severity: 'warning', step: 'rcpt', reply: '451 4.3.0 Temporary lookup failure' });
    expect(result.status).toBe('warning');
  });

  it('reports a connection dropped during DATA as CONNECTION_LOST', async () => {
    let server: Awaited<ReturnType<typeof startSmtpServer>> | undefined;
    server = await startSmtpServer(pki, {
      onData: (stream) => {
        stream.once('data', () => server?.dropConnections());
        stream.resume();
      },
    });
    const f = only(await round(server.port));
    expect(f).toMatchObject({ code: 'CONNECTION_LOST', step: 'data' });
  });

  it('reports a step slower than its timeout as STEP_TIMEOUT, without hanging', async () => {
    // RCPT answers after 6 s; the 1 s step limit ends the session long before (and leaves the
    // TLS handshake room on a busy machine, which a tighter limit turned into a STARTTLS timeout).
    const server = await startSmtpServer(pki, { onRcptTo: (_a, _s, cb) => void setTimeout(() => cb(), 6_000) });
    const started = Date.now();
    const result = await round(server.port, testTarget({ slowStepMs: 5_000, timeouts: { connectMs: 1000, stepMs: 1_000, probeMs: 300 } }));
    expect(only(result)).toMatchObject({ code: 'STEP_TIMEOUT', step: 'rcpt', recipient: 'owner@example.jp' });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('warns SLOW_STEP for a step over slowStepMs that still succeeds', async () => {
    // MAIL FROM held 1.5 s against a 0.8 s limit: far apart, so a busy machine's slow TLS handshake
    // may add its own SLOW_STEP, but never hides this one or turns it into a failure.
    const server = await startSmtpServer(pki, { onMailFrom: (_a, _s, cb) => void setTimeout(() => cb(), 1_500) });
    const result = await round(server.port, testTarget({ slowStepMs: 800, timeouts: { connectMs: 5_000, stepMs: 5_000, probeMs: 300 } }));
    const problems = result.findings.filter((f) => f.severity !== 'info');
    expect(problems.every((f) => f.code === 'SLOW_STEP' && f.severity === 'warning'), JSON.stringify(problems)).toBe(true);
    expect(problems).toContainEqual(expect.objectContaining({ code: 'SLOW_STEP', severity: 'warning', step: 'mail' }));
    expect(result.status).toBe('warning');
    expect(server.received).toHaveLength(1);
  });

  it('does not blame the server for the time this process was too busy to read its reply', async () => {
    // Prepare: the server answers AUTH after 100 ms, but this process is blocked for 1.5 s first
    // (in the handler, which runs here too: as hundreds of handshakes or a report would block it).
    const server = await startSmtpServer(pki, {
      onAuth(auth, _session, callback) {
        const until = performance.now() + 1_500;
        while (performance.now() < until) {
          // busy: nothing else of this process runs
        }
        setTimeout(() => callback(null, { user: auth.username }), 100);
      },
    });

    // Act
    const started = performance.now();
    const result = await round(server.port, testTarget({ slowStepMs: 800, timeouts: { connectMs: 5_000, stepMs: 5_000, probeMs: 300 } }));
    const wall = performance.now() - started;

    // Assess: the round took the 1.6 s, the auth step is the server's 100 ms (give or take), no SLOW_STEP
    expect(wall).toBeGreaterThan(1_500);
    const auth = result.steps.find((s) => s.step === 'auth')!;
    expect(auth.ok).toBe(true);
    // Not all of the server's 100 ms is kept on a loaded machine (its own late ticks count as stalls too), but most is.
    expect(auth.ms).toBeGreaterThanOrEqual(20);
    expect(auth.ms).toBeLessThan(700);
    expect(result.findings.map((f) => f.code)).not.toContain('SLOW_STEP');
  });

  it('treats a non-SMTP banner as a refused greeting, not a success', async () => {
    const raw = await startRawServer((socket) => socket.write('HTTP/1.1 400 Bad Request\r\n\r\n'));
    const result = await round(raw.port);
    expect(only(result)).toMatchObject({ code: 'GREETING_REJECTED', step: 'greeting', reply: 'HTTP/1.1 400 Bad Request' });
    expect(result.steps.find((s) => s.step === 'greeting')?.ok).toBe(false);
  });
});
