import { describe, expect, it } from 'vitest';
import { cachedLookup } from '#core/auth/cache.ts';
import { parseDkimKey, rsaKeyBits } from '#core/auth/dkim.ts';
import { parseDmarc } from '#core/auth/dmarc.ts';
import { checkDomain } from '#core/auth/domain.ts';
import { canonicalIp, expandIPv6, ptrName, reversedIp } from '#core/auth/ip-text.ts';
import { dnsblAnswerKind } from '#core/auth/ip.ts';
import { checkSpf, parseSpf } from '#core/auth/spf.ts';
import { AUTH_CODES } from '#core/findings.ts';
import { AUTH_TEXTS } from '#core/auth/texts.ts';
import type { DnsAnswer, DnsLookup, DnsRecordData, DnsRecordType } from '#core/ports.ts';
import { dkimKeyPair } from '../helpers/auth-zone.ts';

type ZoneData = Record<string, Partial<{ [T in DnsRecordType]: DnsRecordData[T][] }>>;

/** A declarative zone as a DnsLookup that rejects like DNS does (ENOTFOUND / ENODATA). */
function zoneLookup(zone: ZoneData, asked: string[] = []): DnsLookup {
  return async <T extends DnsRecordType>(name: string, type: T): Promise<DnsAnswer<T>> => {
    asked.push(`${type} ${name}`);
    const node = zone[name];
    if (!node) throw Object.assign(new Error('NXDOMAIN'), { code: 'ENOTFOUND' });
    const records = node[type] as DnsRecordData[T][] | undefined;
    if (!records || records.length === 0) throw Object.assign(new Error('NODATA'), { code: 'ENODATA' });
    return { records, ttl: 300 };
  };
}

describe('parseSpf', () => {
  it.each([
    'v=spf1 -all',
    'v=spf1 include:_spf.example.jp ip4:192.0.2.0/24 ip6:2001:db8::/32 a mx/24 a:mail.example.jp//64 ~all',
    'v=spf1 exists:%{i}.spf.example.jp redirect=_spf.example.jp',
    'V=SPF1 ?all',
    'v=spf1 ptr:example.jp exp=explain.example.jp -all',
    'v=spf1',
  ])('accepts %s', (record) => {
    expect(parseSpf(record).ok).toBe(true);
  });

  it.each([
    ['v=spf1 ip4:192.0.2.300 -all', 'ip4:192.0.2.300'],
    ['v=spf1 ip4:192.0.2.1/33 -all', 'ip4:192.0.2.1/33'],
    ['v=spf1 ip6:2001:db8:::1 -all', 'ip6:2001:db8:::1'],
    ['v=spf1 include -all', 'include'],
    ['v=spf1 include:example -all', 'include:example'],
    ['v=spf1 ipv4:192.0.2.1 -all', 'ipv4:192.0.2.1'],
    ['v=spf1 all:foo', 'all:foo'],
    ['v=spf1 redirect=a.example.jp redirect=b.example.jp', 'redirect=b.example.jp'],
    ['v=spf1 exists:%{z}.example.jp -all', 'exists:%{z}.example.jp'],
  ])('refuses %s at %s', (record, term) => {
    const parsed = parseSpf(record);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.term).toBe(term);
  });
});

describe('checkSpf', () => {
  it('counts DNS-querying terms through includes and redirects, and reads the ending through the redirect', async () => {
    // Prepare: 1 (include) + 2 (a, mx inside) + 1 (redirect) + 1 (exists in the target) = 5; ip4/all free.
    const zone: ZoneData = {
      'example.jp': { TXT: [['v=spf1 include:_a.example.jp ip4:192.0.2.1 redirect=_r.example.jp']] },
      '_a.example.jp': { TXT: [['v=spf1 a mx -all']] },
      '_r.example.jp': { TXT: [['v=spf1 exists:%{i}.x.example.jp ~all']] },
    };

    // Act
    const spf = await checkSpf('example.jp', { lookup: zoneLookup(zone) });

    // Assess
    expect(spf).toMatchObject({ lookups: 5, ending: '~all', problems: [], troubles: [] });
  });

  it('ignores redirect= when the record has an all, as receivers do', async () => {
    const zone: ZoneData = { 'example.jp': { TXT: [['v=spf1 -all redirect=_r.example.jp']] } };
    const asked: string[] = [];
    const spf = await checkSpf('example.jp', { lookup: zoneLookup(zone, asked) });
    expect(spf).toMatchObject({ lookups: 0, ending: '-all', problems: [] });
    expect(asked).toEqual(['TXT example.jp']);
  });

  it('stops at an include loop and reports it instead of walking for ever', async () => {
    const zone: ZoneData = {
      'example.jp': { TXT: [['v=spf1 include:_a.example.jp -all']] },
      '_a.example.jp': { TXT: [['v=spf1 include:example.jp -all']] },
    };
    const spf = await checkSpf('example.jp', { lookup: zoneLookup(zone) });
    expect(spf.problems).toEqual([{ kind: 'loop', domain: 'example.jp', via: '_a.example.jp' }]);
  });

  it('joins TXT character-strings without spaces and ignores other TXT records', async () => {
    const zone: ZoneData = { 'example.jp': { TXT: [['google-site-verification=abc'], ['v=spf1 ip4:192.0.2.1', ' -all']] } };
    const spf = await checkSpf('example.jp', { lookup: zoneLookup(zone) });
    expect(spf.records).toEqual(['v=spf1 ip4:192.0.2.1 -all']);
    expect(spf.problems).toEqual([]);
  });
});

describe('parseDmarc', () => {
  it('reads the policy, the subdomain policy and pct', () => {
    expect(parseDmarc('v=DMARC1; p=quarantine; sp=reject; pct=50; rua=mailto:a@example.jp,mailto:b@example.jp!10m;')).toMatchObject({
      ok: true,
      policy: 'quarantine',
      subdomainPolicy: 'reject',
      pct: 50,
    });
  });

  it.each([
    ['v=DMARC1; p=rejet', 'p=rejet: expected none, quarantine or reject'],
    ['v=DMARC1; rua=mailto:a@example.jp; p=none', 'p= must come right after v=DMARC1 (found rua= there)'],
    ['v=DMARC1', 'the policy tag p= is missing'],
    ['v=dmarc1; p=none', 'the record must start with v=DMARC1'],
    ['v=DMARC1; p=none; pct=150', 'pct=150: expected a whole number from 0 to 100'],
    ['v=DMARC1; p=none; rua=dmarc@example.jp', 'rua=dmarc@example.jp: expected comma-separated URIs such as mailto:dmarc@example.jp'],
    ['v=DMARC1; p=none;; adkim=s', 'an empty part between semicolons'],
  ])('refuses %s: %s', (record, problem) => {
    expect(parseDmarc(record)).toEqual({ ok: false, problem });
  });

  it("applies a parent domain's sp= to a subdomain", async () => {
    const zone: ZoneData = { '_dmarc.example.jp': { TXT: [['v=DMARC1; p=reject; sp=none']] }, 'shop.example.jp': {} };
    const report = await checkDomain('shop.example.jp', {}, { lookup: zoneLookup(zone) });
    expect(report.records.dmarc).toEqual({ record: 'v=DMARC1; p=reject; sp=none', foundAt: 'example.jp', policy: 'none' });
    expect(report.findings.map((f) => f.code)).toContain('DMARC_POLICY_NONE');
  });
});

describe('DKIM keys', () => {
  it.each([1024, 2048, 3072])('reads the size of a %i-bit key from its DER encoding', (bits) => {
    const key = dkimKeyPair(bits);
    expect(rsaKeyBits(key.publicKeyBase64)).toBe(bits);
  });

  it('reads a bare PKCS#1 key as well', async () => {
    const { createPublicKey } = await import('node:crypto');
    const key = dkimKeyPair(1024);
    const pkcs1 = createPublicKey({ key: Buffer.from(key.publicKeyBase64, 'base64'), format: 'der', type: 'spki' }).export({ type: 'pkcs1', format: 'der' }).toString('base64');
    expect(rsaKeyBits(pkcs1)).toBe(1024);
  });

  it('tells a revoked key, a cut-off key and an unknown key type apart', () => {
    const key = dkimKeyPair(1024).publicKeyBase64;
    expect(parseDkimKey('v=DKIM1; p=')).toMatchObject({ ok: true, revoked: true });
    expect(parseDkimKey(`v=DKIM1; k=rsa; p=${key.slice(0, 100)}`)).toMatchObject({ ok: false });
    expect(parseDkimKey(`k=dsa; p=${key}`)).toEqual({ ok: false, problem: 'k=dsa is not a key type verifiers know (rsa, ed25519)' });
    expect(parseDkimKey(`v=DKIM1; t=y; p=${key.slice(0, 40)} ${key.slice(40)}`)).toMatchObject({ ok: true, bits: 1024, testing: true });
  });
});

describe('IP address text', () => {
  it('reverses IPv4 and IPv6 for PTR and blocklist names', () => {
    expect(ptrName('192.0.2.4')).toBe('4.2.0.192.in-addr.arpa');
    expect(reversedIp('2001:db8::1')).toBe('1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2');
    expect(expandIPv6('::ffff:192.0.2.1')).toBe('0000:0000:0000:0000:0000:ffff:c000:0201');
    expect(canonicalIp('2001:DB8:0:0::1')).toBe(canonicalIp('2001:db8::1'));
    expect(canonicalIp('192.0.2.256')).toBeNull();
    expect(canonicalIp('01.2.3.4')).toBeNull();
  });

  it.each([
    ['127.0.0.2', 'listed'],
    ['127.0.0.11', 'listed'],
    ['127.255.255.254', 'refused'],
    ['127.255.255.252', 'refused'],
    ['192.0.2.1', 'bogus'],
  ] as const)('reads the blocklist answer %s as %s', (answer, kind) => {
    expect(dnsblAnswerKind(answer)).toBe(kind);
  });
});

describe('cachedLookup', () => {
  it('reuses answers for at least an hour, negative ones too, and asks again after', async () => {
    // Prepare
    let now = Date.parse('2025-01-01T00:00:00Z');
    const asked: string[] = [];
    const lookup = cachedLookup(zoneLookup({ 'example.jp': { TXT: [['v=spf1 -all']] } }, asked), { clock: () => new Date(now) });

    // Act: twice within the hour (a 300 s TTL is stretched to the hour), then after it.
    await lookup('example.jp', 'TXT');
    await expect(lookup('nope.example.jp', 'TXT')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    now += 59 * 60_000;
    await lookup('Example.JP.', 'TXT');
    await expect(lookup('nope.example.jp', 'TXT')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    now += 2 * 60_000;
    await lookup('example.jp', 'TXT');

    // Assess
    expect(asked).toEqual(['TXT example.jp', 'TXT nope.example.jp', 'TXT example.jp']);
  });

  it('keeps an answer as long as its TTL when that is longer, and never remembers a failure', async () => {
    let now = 0;
    let calls = 0;
    const flaky: DnsLookup = async <T extends DnsRecordType>(): Promise<DnsAnswer<T>> => {
      calls++;
      if (calls === 1) throw Object.assign(new Error('timeout'), { code: 'ETIMEOUT' });
      return { records: [['v=spf1 -all']] as unknown as DnsRecordData[T][], ttl: 7200 };
    };
    const lookup = cachedLookup(flaky, { clock: () => new Date(now) });
    await expect(lookup('example.jp', 'TXT')).rejects.toMatchObject({ code: 'ETIMEOUT' });
    await lookup('example.jp', 'TXT');
    now += 90 * 60_000;
    await lookup('example.jp', 'TXT');
    expect(calls).toBe(2);
    now += 31 * 60_000;
    await lookup('example.jp', 'TXT');
    expect(calls).toBe(3);
  });
});

describe('authentication texts', () => {
  it('exist for every code of the closed list, in both languages', () => {
    expect(Object.keys(AUTH_TEXTS).sort()).toEqual([...AUTH_CODES].sort());
  });
});
