import { describe, expect, it } from 'vitest';
import { failureOf } from '#adapters/smtp-session.ts';
import { portStateOfError } from '#adapters/port-probe.ts';
import { targetSchema } from '#core/config.ts';
import { ConfigError } from '#core/errors.ts';
import type { PortProber } from '#core/ports.ts';
import { runCanaryRound, type CanaryRoundDeps } from '#core/probe/round.ts';
import type { SessionRequest, SessionTranscript } from '#core/probe/types.ts';
import type { PortState } from '#core/results.ts';

const NOW = new Date('2026-03-01T09:00:00Z');
const target = targetSchema.parse({
  name: 'shop',
  host: 'smtp.example.jp',
  auth: { user: 'shop@example.jp', passwordEnv: 'SHOP_SMTP_PASSWORD' },
  from: 'shop@example.jp',
  to: ['canary@bounces.example.jp'],
});

const cleanSession: SessionTranscript = {
  steps: [
    { step: 'connect', ms: 3 },
    { step: 'greeting', ms: 20, reply: '220 smtp.example.jp ESMTP' },
    { step: 'ehlo', ms: 4, reply: '250-smtp.example.jp\n250 STARTTLS' },
    { step: 'starttls', ms: 30, reply: '220 Ready' },
    { step: 'ehlo', ms: 4, reply: '250-smtp.example.jp\n250-AUTH PLAIN\n250 SIZE 52428800' },
    { step: 'auth', ms: 9, reply: '235 ok' },
    { step: 'mail', ms: 2, reply: '250 ok' },
    { step: 'rcpt', ms: 2, reply: '250 ok', recipient: 'canary@bounces.example.jp' },
    { step: 'data', ms: 12, reply: '250 queued' },
    { step: 'quit', ms: 1, reply: '221 bye' },
  ],
  tls: { version: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256', authorized: true, certValidTo: '2026-05-30T09:00:00Z' },
};

/** A prober answering from a map of "host:port" → state, recording what it was asked. */
function fakeProber(states: Record<string, PortState>, calls: string[] = []): PortProber {
  return async (host, port, options) => {
    calls.push(`${host}:${port}${options.implicitTls ? ' tls' : ''}`);
    return states[`${host}:${port}`] ?? 'refused';
  };
}

function deps(overrides: Partial<CanaryRoundDeps> = {}, seen: SessionRequest[] = []): CanaryRoundDeps {
  return {
    openSession: async (request) => {
      seen.push(request);
      return cleanSession;
    },
    probePort: fakeProber({ 'smtp.example.jp:25': 'timeout', 'smtp.example.jp:587': 'open', 'smtp.example.jp:465': 'open' }),
    clock: () => NOW,
    random: (n) => new Uint8Array(n).fill(7),
    ...overrides,
  };
}

describe('runCanaryRound', () => {
  it('sends the canary with a VERP sender and headers carrying the same time-sortable id', async () => {
    // Prepare
    const seen: SessionRequest[] = [];

    // Act
    const result = await runCanaryRound(target, { bounceDomain: 'bounces.example.jp', password: 's3cret' }, deps({}, seen));

    // Assess
    const request = seen[0]!;
    expect(result.canaryId).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(request.envelope).toEqual({ from: `bounce+${result.canaryId}@bounces.example.jp`, to: ['canary@bounces.example.jp'] });
    expect(request.message).toContain(`Message-ID: <${result.canaryId}@mail-health>`);
    expect(request.message).toContain('Date: Sun, 01 Mar 2026 09:00:00 +0000');
    expect(request).toMatchObject({ host: 'smtp.example.jp', port: 587, tls: 'starttls', auth: { user: 'shop@example.jp', password: 's3cret' }, timeouts: { connectMs: 10_000, stepMs: 15_000 } });
    expect(result.startedAt).toBe('2026-03-01T09:00:00.000Z');
  });

  it('returns the check --json shapes: steps, ports by logical port, TLS facts, extensions, findings and status', async () => {
    const result = await runCanaryRound(target, { bounceDomain: 'bounces.example.jp', password: 'x' }, deps());
    expect(result.ports).toEqual({ '25': 'timeout', '587': 'open', '465': 'open' });
    expect(result.tls).toEqual({ version: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256', authorized: true, certDaysLeft: 90 });
    expect(result.extensions).toEqual({ AUTH: ['PLAIN'], SIZE: 52428800, STARTTLS: true });
    expect(result.findings.map((f) => f.code)).toEqual(['PORT25_BLOCKED']);
    expect(result.status).toBe('ok');
  });

  it('dials mapped ports but reports logical ones (demo and tests)', async () => {
    const calls: string[] = [];
    const seen: SessionRequest[] = [];
    const result = await runCanaryRound(
      target,
      { bounceDomain: 'bounces.example.jp', password: 'x' },
      deps({ probePort: fakeProber({ 'smtp.example.jp:40025': 'timeout', 'smtp.example.jp:40587': 'open' }, calls), portOverrides: { 25: 40025, 587: 40587, 465: 40465 } }, seen),
    );
    expect(calls.sort()).toEqual(['smtp.example.jp:40025', 'smtp.example.jp:40465 tls', 'smtp.example.jp:40587']);
    expect(seen[0]?.port).toBe(40587);
    expect(Object.keys(result.ports).sort()).toEqual(['25', '465', '587']);
  });

  it('probes the reference host on 25 only when the target was silent there', async () => {
    const calls: string[] = [];
    const withRef = targetSchema.parse({ ...target, auth: undefined, port25ReferenceHost: 'mx.example.net' });
    await runCanaryRound(withRef, { bounceDomain: 'b.example.jp' }, deps({ probePort: fakeProber({ 'smtp.example.jp:25': 'timeout', 'smtp.example.jp:587': 'open' }, calls) }));
    expect(calls).toContain('mx.example.net:25');
    calls.length = 0;
    await runCanaryRound(withRef, { bounceDomain: 'b.example.jp' }, deps({ probePort: fakeProber({ 'smtp.example.jp:25': 'refused' }, calls) }));
    expect(calls).not.toContain('mx.example.net:25');
  });

  it('raises DNS_NOT_FOUND once and no port findings when the host does not resolve', async () => {
    const result = await runCanaryRound(target, { bounceDomain: 'b.example.jp', password: 'x' }, deps({
      probePort: fakeProber({}),
      openSession: async () => ({ steps: [{ step: 'connect', ms: 2, failure: { kind: 'dns', detail: 'ENOTFOUND' } }] }),
    }));
    expect(result.findings.map((f) => f.code)).toEqual(['DNS_NOT_FOUND']);
    expect(result.status).toBe('critical');
  });

  it('asks the port once in the other TLS mode when the session failed like a wrong "tls" setting', async () => {
    // Prepare: implicit TLS configured on 587, whose server greets in plain text
    const calls: string[] = [];
    const implicit = targetSchema.parse({ ...target, auth: undefined, tls: 'implicit', probePorts: [] });
    const session = async (): Promise<SessionTranscript> => ({ steps: [{ step: 'connect', ms: 3, failure: { kind: 'tls-handshake', detail: 'ERR_SSL_WRONG_VERSION_NUMBER' } }] });

    // Act
    const result = await runCanaryRound(implicit, { bounceDomain: 'b.example.jp' }, deps({ openSession: session, probePort: fakeProber({ 'smtp.example.jp:587': 'open' }, calls) }));

    // Assess
    expect(calls).toEqual(['smtp.example.jp:587']);
    expect(result.findings.map((f) => f.code)).toEqual(['TLS_MODE_MISMATCH']);
    expect(result.status).toBe('critical');
  });

  it('does not probe the other TLS mode after a session that went through', async () => {
    const calls: string[] = [];
    await runCanaryRound(targetSchema.parse({ ...target, probePorts: [] }), { bounceDomain: 'b.example.jp', password: 'x' }, deps({ probePort: fakeProber({}, calls) }));
    expect(calls).toEqual([]);
  });

  it('runs the preflight hook first and keeps its findings', async () => {
    const result = await runCanaryRound(target, { bounceDomain: 'b.example.jp', password: 'x' }, deps({
      preflight: () => [{ code: 'DOT_BEFORE_AT', severity: 'warning', message: { en: 'm', ja: 'm' }, remedy: { en: 'r', ja: 'r' } }],
    }));
    expect(result.findings[0]?.code).toBe('DOT_BEFORE_AT');
    expect(result.status).toBe('warning');
  });

  it('refuses to run a target with auth but no password (bad configuration, not a finding)', async () => {
    await expect(runCanaryRound(target, { bounceDomain: 'b.example.jp' }, deps())).rejects.toBeInstanceOf(ConfigError);
  });
});

describe('adapter error mapping', () => {
  const err = (code: string, originalCode?: string) => Object.assign(new Error(`${code} ${originalCode ?? ''}`), { code, ...(originalCode ? { originalCode } : {}) });

  it('maps nodemailer and TLS errors to failure kinds', () => {
    expect(failureOf(err('ESOCKET', 'ECONNREFUSED')).kind).toBe('refused');
    expect(failureOf(err('EDNS', 'ENOTFOUND')).kind).toBe('dns');
    expect(failureOf(err('ETIMEDOUT')).kind).toBe('timeout');
    expect(failureOf(err('ESOCKET', 'CERT_HAS_EXPIRED'))).toEqual({ kind: 'tls-expired', detail: 'CERT_HAS_EXPIRED' });
    expect(failureOf(err('ESOCKET', 'ERR_TLS_CERT_ALTNAME_INVALID')).kind).toBe('tls-hostname');
    expect(failureOf(err('ESOCKET', 'DEPTH_ZERO_SELF_SIGNED_CERT')).kind).toBe('tls-untrusted');
    expect(failureOf(err('ESOCKET', 'ERR_SSL_WRONG_VERSION_NUMBER')).kind).toBe('tls-handshake');
    expect(failureOf(err('ECONNECTION')).kind).toBe('closed');
    expect(failureOf(err('ESOCKET', 'EHOSTUNREACH')).kind).toBe('unreachable');
    expect(failureOf(err('EWHATEVER')).kind).toBe('error');
  });

  it('maps socket errors to port states', () => {
    expect(portStateOfError(err('ECONNREFUSED'))).toBe('refused');
    expect(portStateOfError(err('ETIMEDOUT'))).toBe('timeout');
    expect(portStateOfError(err('ENETUNREACH'))).toBe('unreachable');
    expect(portStateOfError(err('ENOTFOUND'))).toBe('unreachable');
  });
});
