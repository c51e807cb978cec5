/**
 * The HTML report's DMARC section, from the reports a state directory recorded: per domain its
 * target (or that it is none), the pass rate per day, own mail apart from others, TLS sessions,
 * the latest day's findings.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createDmarcFileStore } from '#adapters/dmarc-file-store.ts';
import { createFileStore } from '#adapters/file-store.ts';
import type { ParsedReport } from '#core/dmarc/model.ts';
import { recordReport } from '#core/dmarc/record.ts';
import { collectDmarcSection, dmarcSection } from '#local/report/dmarc-section.ts';
import { FIXTURE_PTRS, fixtureReport } from '../helpers/dmarc-store-contract.ts';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('the report page: DMARC and TLS reports', () => {
  it('shows each domain with its pass rate per day, its senders and the latest findings', async () => {
    // Prepare
    const dir = await mkdtemp(join(tmpdir(), 'mh-dmarc-section-'));
    dirs.push(dir);
    const deps = { store: createFileStore({ dir }), reports: createDmarcFileStore({ dir }), clock: () => new Date('2026-03-04T00:00:00Z'), random: (n: number) => new Uint8Array(n), ptrOf: (ip: string) => FIXTURE_PTRS[ip] ?? null, targetOf: (d: string) => (d === 'example.jp' ? 'shop' : null) };
    const google = await fixtureReport('google.com!example.jp!1772323200!1772409599.xml');
    for (const name of ['google.com!example.jp!1772323200!1772409599.xml', 'enterprise.protection.outlook.com!example.jp!1772409600!1772495999.xml', 'microsoft.com!example.jp!1772409600!1772495999.json']) await recordReport(await fixtureReport(name), deps);
    await recordReport({ ...google, domain: 'elsewhere.example' } as ParsedReport, deps);

    // Act
    const domains = await collectDmarcSection(dir);
    const html = dmarcSection(domains, 'en');

    // Assess
    expect(domains.map((d) => [d.domain, d.target])).toEqual([
      ['example.jp', 'shop'],
      ['elsewhere.example', null],
    ]);
    const shop = domains[0]!;
    expect(shop.days).toEqual([
      { day: '2026-03-01', messages: 153, passed: 150 },
      { day: '2026-03-02', messages: 20, passed: 8 },
    ]);
    expect(shop.senders.map((s) => [s.sender, s.known, s.messages, s.passed])).toEqual([
      ['Google', true, 120, 120],
      ['SendGrid', true, 42, 30],
      ['Microsoft 365', true, 8, 8],
      ['198.51.100.0/24', false, 3, 0],
    ]);
    expect(shop.tls).toEqual({ successful: 17, failed: 4 });
    expect(shop.latestFindings).toEqual(['DMARC_REPORT_FAIL', 'TLSRPT_FAILURE']);
    expect(html).toContain('<section id="dmarc">');
    expect(html).toContain('2026-03-02 (8/20)');
    expect(html).toContain('not a target: shown, never alerted');
    expect(dmarcSection(domains, 'ja')).toContain('自社のメール');
    expect(dmarcSection([], 'en')).toBe('');
  });
});
