import { randomBytes } from 'node:crypto';
import type { LookupFunction } from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createPortProber } from '#adapters/port-probe.ts';
import { createSmtpSession } from '#adapters/smtp-session.ts';
import { runCanaryRound } from '#core/probe/round.ts';
import { HOST, PASSWORD, closeAll, closedPort, makePki, startRawServer, startSilentServer, startSmtpServer, testTarget, type TestPki } from '../helpers/smtp.ts';

let pki: TestPki;
beforeAll(() => {
  pki = makePki();
});
afterEach(async () => {
  await closeAll();
});

const probe = createPortProber();
const opts = { timeoutMs: 300, implicitTls: false };

describe('createPortProber', () => {
  it('calls a port open only when an SMTP greeting arrives', async () => {
    const server = await startSmtpServer(pki);
    expect(await probe(HOST, server.port, opts)).toBe('open');
  });

  it('calls an implicit-TLS port open when the TLS handshake completes', async () => {
    const server = await startSmtpServer(pki, { secure: true });
    expect(await probe(HOST, server.port, { timeoutMs: 1000, implicitTls: true })).toBe('open');
  });

  it('calls a port that accepts TCP but stays silent a timeout, not open', async () => {
    const silent = await startSilentServer();
    const started = Date.now();
    expect(await probe(HOST, silent.port, opts)).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it('calls a port nothing listens on refused', async () => {
    expect(await probe(HOST, await closedPort(), opts)).toBe('refused');
  });

  it('does not call a non-SMTP service open', async () => {
    const raw = await startRawServer((socket) => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
    expect(await probe(HOST, raw.port, opts)).toBe('refused');
  });

  it('calls a name that does not resolve unreachable', async () => {
    const failingDns: LookupFunction = (hostname, _options, callback) =>
      process.nextTick(() => callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), '', 4));
    const withFakeDns = createPortProber({ lookup: failingDns });
    expect(await withFakeDns('smtp.nowhere.invalid', 587, opts)).toBe('unreachable');
  });
});

describe('port probe in a canary round (OP25B)', () => {
  async function roundWith(ports: Record<number, number>, target = testTarget({ probePorts: [25, 587, 465] })) {
    return runCanaryRound(
      target,
      { bounceDomain: 'bounces.example.jp', password: PASSWORD, ca: pki.caPem },
      { openSession: createSmtpSession(), probePort: createPortProber(), clock: () => new Date(), random: (n) => randomBytes(n), portOverrides: ports },
    );
  }

  it('diagnoses a silent 25 next to an answering 587 as PORT25_BLOCKED (info), status stays ok', async () => {
    const [silent, submission, closed] = [await startSilentServer(), await startSmtpServer(pki), await closedPort()];
    const result = await roundWith({ 25: silent.port, 587: submission.port, 465: closed });
    expect(result.ports).toEqual({ '25': 'timeout', '587': 'open', '465': 'refused' });
    expect(result.findings).toMatchObject([{ code: 'PORT25_BLOCKED', severity: 'info' }]);
    expect(result.findings[0]?.remedy.en).toMatch(/587 with STARTTLS/);
    expect(result.status).toBe('ok');
  });

  it('concludes OP25B from the session itself when submission runs on a port outside probePorts (10587)', async () => {
    // Prepare: port 25 silent, nothing else probed answers, submission on the non-standard 10587
    const [silent, submission, closed] = [await startSilentServer(), await startSmtpServer(pki), await closedPort()];
    const target = testTarget({ port: 10587, probePorts: [25, 587, 465] });

    // Act
    const result = await roundWith({ 25: silent.port, 587: closed, 465: closed, 10587: submission.port }, target);

    // Assess
    expect(result.ports).toEqual({ '25': 'timeout', '587': 'refused', '465': 'refused' });
    expect(result.findings).toMatchObject([{ code: 'PORT25_BLOCKED', severity: 'info', step: 'connect' }]);
    expect(result.findings[0]?.message.en).toContain('while port 10587 answers');
    expect(result.status).toBe('ok');
    expect(submission.received).toHaveLength(1);
  });

  it('does not call a refused 25 OP25B: that host just does not listen on 25', async () => {
    const [submission, closed] = [await startSmtpServer(pki), await closedPort()];
    const result = await roundWith({ 25: closed, 587: submission.port, 465: closed });
    expect(result.findings.map((f) => f.code)).not.toContain('PORT25_BLOCKED');
    expect(result.findings).toMatchObject([{ code: 'PORT_UNREACHABLE', severity: 'info' }]);
    expect(result.findings[0]?.message.en).toMatch(/does not take mail on port 25; it is not port 25 blocking/);
    expect(result.status).toBe('ok');
  });

  it('confirms OP25B against a reference host whose port 25 is silent too', async () => {
    const [silent, submission] = [await startSilentServer(), await startSmtpServer(pki)];
    const target = testTarget({ probePorts: [25, 587], port25ReferenceHost: HOST });
    const result = await roundWith({ 25: silent.port, 587: submission.port }, target);
    expect(result.findings).toMatchObject([{ code: 'PORT25_BLOCKED', severity: 'info' }]);
    expect(result.findings[0]?.message.en).toMatch(/confirms it/);
  });

  it('makes no OP25B claim when nothing on the host answers', async () => {
    const [silent, closed] = [await startSilentServer(), await closedPort()];
    const result = await roundWith({ 25: silent.port, 587: closed, 465: closed });
    expect(result.findings.map((f) => f.code)).toEqual(['PORT_UNREACHABLE']);
    expect(result.findings[0]).toMatchObject({ severity: 'critical', step: 'connect' });
  });
});
