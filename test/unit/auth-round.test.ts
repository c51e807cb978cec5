import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createFileStore } from '#adapters/file-store.ts';
import { cachedLookup } from '#core/auth/cache.ts';
import type { DeliveryVerdicts } from '#core/auth/canary.ts';
import { checkDomain } from '#core/auth/domain.ts';
import { isInternalAddress, recordDelivery, roundAuthentication, senderAuthentication } from '#core/auth/round.ts';
import { targetSchema } from '#core/config.ts';
import type { DnsAnswer, DnsLookup, DnsRecordData, DnsRecordType } from '#core/ports.ts';
import { runCanaryRound, type CanaryRoundDeps } from '#core/probe/round.ts';

type ZoneData = Record<string, Partial<{ [T in DnsRecordType]: DnsRecordData[T][] }>>;

function zoneLookup(zone: ZoneData): DnsLookup {
  return async <T extends DnsRecordType>(name: string, type: T): Promise<DnsAnswer<T>> => {
    const records = zone[name]?.[type] as DnsRecordData[T][] | undefined;
    if (!zone[name]) throw Object.assign(new Error('NXDOMAIN'), { code: 'ENOTFOUND' });
    if (!records) throw Object.assign(new Error('NODATA'), { code: 'ENODATA' });
    return { records, ttl: 300 };
  };
}

const target = targetSchema.parse({ name: 'shop', host: 'smtp.example.jp', from: 'shop@example.jp', to: ['canary@bounces.example.jp'] });

const failedCanary: DeliveryVerdicts = {
  source: 'local',
  fromDomain: 'example.jp',
  ip: '192.0.2.25',
  helo: 'smtp.example.jp',
  spf: { result: 'fail', domain: 'example.jp', aligned: true },
  dkim: [],
  dmarc: { result: 'fail', policy: 'reject' },
};

describe('roundAuthentication', () => {
  it('joins the domain, delivered-canary and sending-server findings and keeps the facts for the report', async () => {
    // Prepare
    const lookup = zoneLookup({ 'example.jp': { TXT: [['v=spf1 ip4:198.51.100.7 -all']], MX: [{ exchange: 'mx.example.jp', priority: 10 }] }, '_dmarc.example.jp': { TXT: [['v=DMARC1; p=reject']] } });
    const domain = await checkDomain('example.jp', { selectors: ['s1'] }, { lookup });

    // Act
    const { findings, facts } = roundAuthentication({ domain, delivery: { canaryId: '01K', at: '2026-03-01T09:00:05Z', verdicts: failedCanary }, ip: null });

    // Assess
    expect(findings.map((f) => f.code)).toEqual(['DKIM_KEY_MISSING', 'CANARY_DMARC_FAIL', 'CANARY_SPF_FAIL', 'CANARY_DKIM_FAIL']);
    expect(facts).toMatchObject({ domain: 'example.jp', domainStatus: 'critical', published: { spf: '-all', spfLookups: 0, dmarcPolicy: 'reject', dkim: { s1: 'missing' } }, sendingIp: null });
    expect(facts.delivery?.canaryId).toBe('01K');
  });
});

describe('runCanaryRound with the authentication check', () => {
  const deps = (authentication: CanaryRoundDeps['authentication']): CanaryRoundDeps => ({
    openSession: async () => ({ steps: [{ step: 'connect', ms: 1 }, { step: 'greeting', ms: 1, reply: '220 ok' }, { step: 'ehlo', ms: 1, reply: '250 ok' }, { step: 'mail', ms: 1, reply: '250 ok' }, { step: 'rcpt', ms: 1, reply: '250 ok', recipient: 'canary@bounces.example.jp' }, { step: 'data', ms: 1, reply: '250 ok' }, { step: 'quit', ms: 1, reply: '221 bye' }] }),
    probePort: async () => 'open',
    clock: () => new Date('2026-03-01T09:00:00Z'),
    random: (n) => new Uint8Array(n).fill(7),
    ...(authentication ? { authentication } : {}),
  });

  it('adds the authentication findings to the round, so they raise incidents like any other', async () => {
    // Prepare
    const lookup = zoneLookup({ 'example.jp': { MX: [{ exchange: 'mx.example.jp', priority: 10 }] } });
    const authentication = async () => roundAuthentication({ domain: await checkDomain('example.jp', {}, { lookup }), delivery: null, ip: null });

    // Act
    const result = await runCanaryRound(target, { bounceDomain: 'bounces.example.jp' }, deps(authentication));

    // Assess
    expect(result.findings.map((f) => f.code)).toEqual(['SPF_MISSING', 'DMARC_MISSING']);
    expect(result.status).toBe('warning');
    expect(result.authentication).toMatchObject({ domain: 'example.jp', published: { spf: null, dmarcPolicy: null } });
  });

  it('runs the round without it when the check itself breaks', async () => {
    const result = await runCanaryRound(target, { bounceDomain: 'bounces.example.jp' }, deps(async () => Promise.reject(new Error('bug'))));
    expect(result.status).toBe('ok');
    expect(result.authentication).toBeUndefined();
  });
});

describe('senderAuthentication', () => {
  it('checks the sending server of the latest delivered canary at most once an hour, and the domain from the cache', async () => {
    // Prepare
    const dir = await mkdtemp(join(tmpdir(), 'mh-auth-round-'));
    try {
      let now = Date.parse('2026-03-01T09:00:00Z');
      const clock = () => new Date(now);
      const store = createFileStore({ dir, now: () => now });
      const asked: string[] = [];
      const zone = zoneLookup({
        'example.jp': { TXT: [['v=spf1 ip4:192.0.2.25 -all']], MX: [{ exchange: 'mx.example.jp', priority: 10 }] },
        '_dmarc.example.jp': { TXT: [['v=DMARC1; p=reject']] },
        '25.2.0.192.in-addr.arpa': { PTR: ['smtp.example.jp'] },
        'smtp.example.jp': { A: ['192.0.2.25'] },
      });
      const lookup = cachedLookup(async (name, type) => {
        asked.push(`${type} ${name}`);
        return zone(name, type);
      }, { clock });
      const deps = { lookup, store, clock, dnsbl: ['bl.example.test'] };
      const passed = { ...failedCanary, spf: { ...failedCanary.spf, result: 'pass' as const }, dmarc: { result: 'pass' as const, policy: 'reject' } };
      await recordDelivery('shop', { canaryId: '01K1', at: '2026-03-01T08:59:00Z', verdicts: passed }, { store });

      // Act: three rounds, 30 minutes apart
      const first = await senderAuthentication(target, deps);
      const askedFirst = asked.length;
      now += 30 * 60_000;
      await senderAuthentication(target, deps);
      const askedSecond = asked.length;
      now += 31 * 60_000;
      await senderAuthentication(target, deps);

      // Assess
      expect(first.findings.map((f) => `${f.code}:${f.severity}`)).toEqual(['CANARY_DKIM_FAIL:warning']);
      expect(first.facts.sendingIp).toEqual({ ip: '192.0.2.25', status: 'ok', ptr: ['smtp.example.jp'], listedOn: [] });
      expect(askedFirst).toBeGreaterThan(0);
      expect(askedSecond).toBe(askedFirst);
      // After the hour: the PTR and the list are asked again.
      expect(asked.slice(askedSecond)).toEqual(expect.arrayContaining(['PTR 25.2.0.192.in-addr.arpa', 'A 25.2.0.192.bl.example.test']));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('does not check a sending server at an internal address (a hop inside a network)', () => {
    expect(['10.1.2.3', '127.0.0.1', '172.20.0.1', '192.168.1.1', '::1', 'fd00::1', 'fe80::1'].filter(isInternalAddress)).toHaveLength(7);
    expect(['192.0.2.25', '8.8.8.8', '2001:db8::1', '172.32.0.1'].filter(isInternalAddress)).toEqual([]);
  });
});
