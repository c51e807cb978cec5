import { describe, expect, it } from 'vitest';
import { checkMailServer, diagnoseAddress, withMailServerCheck } from '#core/address/index.ts';
import type { Resolver } from '#core/ports.ts';

type Mx = { exchange: string; priority: number };
/** A zone: name → records; a missing name is NXDOMAIN, a missing type NODATA; `fail` answers every query with that error code. */
type Zone = Record<string, { MX?: Mx[]; A?: string[]; AAAA?: string[]; fail?: string }>;

function dnsError(code: string, name: string): Error {
  return Object.assign(new Error(`query ${code} ${name}`), { code });
}

/** A declarative resolver that fails like node:dns: ENOTFOUND for an unknown name, ENODATA for a missing type. */
function zoneResolver(zone: Zone, asked: string[] = []): Resolver {
  function resolve(name: string, rrtype: 'MX'): Promise<Mx[]>;
  function resolve(name: string, rrtype: 'A' | 'AAAA'): Promise<string[]>;
  async function resolve(name: string, rrtype: 'MX' | 'A' | 'AAAA'): Promise<Mx[] | string[]> {
    asked.push(`${rrtype} ${name}`);
    const entry = zone[name];
    if (!entry) throw dnsError('ENOTFOUND', name);
    if (entry.fail) throw dnsError(entry.fail, name);
    const records = entry[rrtype];
    if (!records || records.length === 0) throw dnsError('ENODATA', name);
    return records;
  }
  return resolve;
}

const ZONE: Zone = {
  'example.jp': { MX: [{ exchange: 'mx.example.jp', priority: 10 }] },
  'a-only.example.jp': { A: ['192.0.2.10'] },
  'aaaa-only.example.jp': { AAAA: ['2001:db8::10'] },
  'txt-only.example.jp': {},
  'null-mx.example.jp': { MX: [{ exchange: '', priority: 0 }], A: ['192.0.2.11'] },
  'broken.example.jp': { fail: 'ESERVFAIL' },
  'xn--r8jz45g.jp': { MX: [{ exchange: 'mx.example.jp', priority: 10 }] },
  'gmail.com': { MX: [{ exchange: 'gmail-smtp-in.l.google.com', priority: 5 }] },
};

describe('checkMailServer', () => {
  it.each([
    ['example.jp', null],
    ['a-only.example.jp', null],
    ['aaaa-only.example.jp', null],
    ['EXAMPLE.JP.', null],
    ['例え.jp', null],
  ])('finds a mail server for %s', async (domain, expected) => {
    // Act
    const finding = await checkMailServer(domain, zoneResolver(ZONE));

    // Assess
    expect(finding).toBe(expected);
  });

  it.each([
    ['no-such-domain.example.jp', /does not exist/, /存在しません/],
    ['txt-only.example.jp', /no mail server/, /メールサーバーがありません/],
    ['null-mx.example.jp', /accepts no mail/, /受け付けない/],
  ])('reports NO_MAIL_SERVER as critical for %s', async (domain, en, ja) => {
    // Act
    const finding = await checkMailServer(domain, zoneResolver(ZONE));

    // Assess
    expect(finding).toMatchObject({ code: 'NO_MAIL_SERVER', severity: 'critical' });
    expect(finding?.message.en).toMatch(en);
    expect(finding?.message.ja).toMatch(ja);
  });

  it('says "not checked" as an info note when DNS itself fails', async () => {
    const finding = await checkMailServer('broken.example.jp', zoneResolver(ZONE));
    expect(finding).toMatchObject({ code: 'NO_MAIL_SERVER', severity: 'info' });
    expect(finding?.message.en).toMatch(/ESERVFAIL/);
  });

  it('falls back to A and AAAA only when there is no MX, and skips IP literals', async () => {
    // Prepare
    const asked: string[] = [];

    // Act
    await checkMailServer('example.jp', zoneResolver(ZONE, asked));
    await checkMailServer('a-only.example.jp', zoneResolver(ZONE, asked));
    const literal = await checkMailServer('[192.0.2.1]', zoneResolver(ZONE, asked));

    // Assess
    expect(asked).toEqual(['MX example.jp', 'MX a-only.example.jp', 'A a-only.example.jp', 'AAAA a-only.example.jp']);
    expect(literal).toBeNull();
  });
});

describe('withMailServerCheck', () => {
  it('adds NO_MAIL_SERVER with the typo suggestion to a diagnosis', async () => {
    // Act
    const d = await withMailServerCheck(diagnoseAddress('info@gmial.com'), zoneResolver(ZONE));

    // Assess
    expect(d.ok).toBe(false);
    expect(d.findings.map((f) => `${f.code}:${f.severity}`)).toEqual(['NO_MAIL_SERVER:critical', 'DOMAIN_TYPO:warning']);
    expect(d.findings[0]?.suggestion).toBe('info@gmail.com');
    expect(d.findings[0]?.message.en).toMatch(/Did you mean info@gmail\.com\?/);
  });

  it('leaves a deliverable address as it was', async () => {
    const before = diagnoseAddress('Taro@Example.jp');
    const after = await withMailServerCheck(before, zoneResolver(ZONE));
    expect(after).toEqual(before);
  });

  it('keeps a valid quoted address valid unless its domain takes no mail', async () => {
    const served = await withMailServerCheck(diagnoseAddress('"first last"@example.jp'), zoneResolver(ZONE));
    const unserved = await withMailServerCheck(diagnoseAddress('"first last"@no-such-domain.example'), zoneResolver(ZONE));
    expect(served.ok).toBe(true);
    expect(unserved.ok).toBe(false);
    expect(unserved.findings.map((f) => f.code)).toEqual(['NO_MAIL_SERVER', 'UNUSUAL_CHARACTER']);
  });

  it('does not look up addresses that could not be normalized', async () => {
    const asked: string[] = [];
    const d = await withMailServerCheck(diagnoseAddress('no at sign'), zoneResolver(ZONE, asked));
    expect(asked).toEqual([]);
    expect(d.findings.map((f) => f.code).sort()).toEqual(['MISSING_AT', 'WHITESPACE']);
  });

  it('looks up the normalized domain, not the typed one', async () => {
    const asked: string[] = [];
    const d = await withMailServerCheck(diagnoseAddress('shop＠EXAMPLE．jp'), zoneResolver(ZONE, asked));
    expect(asked).toEqual(['MX example.jp']);
    expect(d.findings.map((f) => f.code)).toEqual(['FULLWIDTH_CHARACTER', 'MIXED_CASE']);
  });
});
