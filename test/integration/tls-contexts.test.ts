/**
 * One TLS context per distinct extra CA: 500 targets naming the same private CA must not build
 * 500 copies of the root store (issue 24: a gigabyte and rounds of 20-40 s). Real smtp-servers
 * on 127.0.0.1 with certificates of two different private CAs.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createPortProber } from '#adapters/port-probe.ts';
import { createSmtpSession, createTlsContexts, type TlsContexts } from '#adapters/smtp-session.ts';
import { runCanaryRound } from '#core/probe/round.ts';
import type { TargetResult } from '#core/results.ts';
import { createCertificateAuthority } from '#local/certs.ts';
import { closeAll, HOST, makePki, PASSWORD, SERVERNAME, startSmtpServer, testTarget, type TestPki } from '../helpers/smtp.ts';

let pki: TestPki;
let otherCa: ReturnType<typeof createCertificateAuthority>;

beforeAll(() => {
  pki = makePki();
  otherCa = createCertificateAuthority({ commonName: 'another private CA' });
});

afterEach(async () => {
  await closeAll();
});

function round(port: number, ca: string, contexts: TlsContexts): Promise<TargetResult> {
  return runCanaryRound(
    testTarget(),
    { bounceDomain: 'bounces.example.jp', password: PASSWORD, ca },
    { openSession: createSmtpSession({ tlsContexts: contexts }), probePort: createPortProber(), clock: () => new Date(), random: (n) => randomBytes(n), portOverrides: { 587: port } },
  );
}

describe('TLS contexts of the SMTP session', () => {
  it('builds one context for many sessions naming the same CA, and one more for another CA', async () => {
    // Prepare
    const contexts = createTlsContexts();
    const first = await startSmtpServer(pki);
    const second = await startSmtpServer(pki, { certificate: otherCa.issue({ hosts: [SERVERNAME, HOST] }) });

    // Act
    const sameCa = await Promise.all(Array.from({ length: 6 }, () => round(first.port, pki.caPem, contexts)));
    const builtForOne = contexts.built;
    const otherCaRound = await round(second.port, otherCa.certPem, contexts);

    // Assess
    expect(sameCa.map((r) => r.status)).toEqual(Array(6).fill('ok'));
    expect(builtForOne).toBe(1);
    expect(otherCaRound.status).toBe('ok');
    expect(contexts.built).toBe(2);
  });

  it('keeps each CA to its own sessions: a server of another CA stays untrusted', async () => {
    // Prepare: the context of the first CA exists already
    const contexts = createTlsContexts();
    const first = await startSmtpServer(pki);
    const second = await startSmtpServer(pki, { certificate: otherCa.issue({ hosts: [SERVERNAME, HOST] }) });
    expect((await round(first.port, pki.caPem, contexts)).status).toBe('ok');

    // Act: the second server's certificate, checked against the first CA
    const result = await round(second.port, pki.caPem, contexts);

    // Assess
    expect(result.status).toBe('critical');
    expect(result.findings.map((f) => f.code)).toContain('TLS_CERT_INVALID');
    expect(second.authAttempts).toEqual([]);
  });
});
