/**
 * The behaviour every DmarcStore adapter must have, as vitest cases, with the report flow on
 * top (recordReport over the adapter and a Store for the claims). Call it inside a `describe`
 * with a factory of fresh, empty stores.
 *
 * @example
 * describe('createDmarcFileStore', () => {
 *   dmarcStoreContract(async () => { const dir = await freshDir(); return { reports: createDmarcFileStore({ dir }), store: createFileStore({ dir }) }; });
 * });
 */
import { expect, it } from 'vitest';
import { readReportFile } from '#adapters/report-reader.ts';
import type { DmarcAlert } from '#core/alert/event.ts';
import type { ParsedReport } from '#core/dmarc/model.ts';
import { recordReport, type DmarcReportRecord } from '#core/dmarc/record.ts';
import { emptyDomainState } from '#core/dmarc/state.ts';
import type { DmarcStore, Store } from '#core/ports.ts';
import { fixture } from './report-files.ts';

/** A fresh pair: the DMARC store and the Store whose claims make alerts once-only. */
export type DmarcStoreFactory = () => Promise<{ readonly reports: DmarcStore; readonly store: Store }>;

/** Reverse names of the fixtures' sources, as a test DNS would answer. */
export const FIXTURE_PTRS: Readonly<Record<string, string>> = {
  '209.85.220.41': 'mail-sor-f41.google.com',
  '167.89.100.1': 'o1.ptr2035.example.sendgrid.net',
  '2a01:111:f400:7e1a::201': 'mail-ty2jpn01on2201.outbound.protection.outlook.com',
};

const NOW = new Date('2026-03-04T00:00:00Z');

/** A fixture read into its report (the test fails when it gives none). */
export async function fixtureReport(name: string): Promise<ParsedReport> {
  const { reports, problems } = await readReportFile(fixture(name), name, { now: NOW });
  expect(problems).toEqual([]);
  return reports[0]!.report;
}

function record(key: string, day: string, domain = 'example.jp'): DmarcReportRecord {
  return { key, kind: 'dmarc', domain, target: 'shop', day, begin: `${day}T00:00:00.000Z`, end: `${day}T23:59:59.000Z`, org: 'google.com', reportId: key, receivedAt: `${day}T09:00:00.000Z`, source: null, messages: 3, passed: 2, policy: 'none', sources: [], tls: null, findings: [] };
}

export function dmarcStoreContract(make: DmarcStoreFactory): void {
  const deps = (pair: Awaited<ReturnType<DmarcStoreFactory>>) => ({
    ...pair,
    clock: () => NOW,
    random: (n: number) => new Uint8Array(n),
    ptrOf: (ip: string) => FIXTURE_PTRS[ip] ?? null,
    targetOf: (d: string) => (d === 'example.jp' ? 'shop' : null),
  });

  it('writes the memory only at the version it was read', async () => {
    const { reports } = await make();
    const state = emptyDomainState('example.jp', NOW.toISOString());
    expect(await reports.getDomainState('example.jp')).toBeNull();
    expect(await reports.putDomainState('example.jp', state, null)).toBe(true);
    expect(await reports.putDomainState('example.jp', state, null)).toBe(false);
    expect(await reports.putDomainState('example.jp', { ...state, updatedAt: 'x' }, 1)).toBe(true);
    expect(await reports.putDomainState('example.jp', state, 1)).toBe(false);
    expect(await reports.getDomainState('example.jp')).toEqual({ value: { ...state, updatedAt: 'x' }, version: 2 });
    expect(await reports.listDomains()).toEqual(['example.jp']);
  });

  it('lets one of several concurrent writers of the same version win', async () => {
    const { reports } = await make();
    await reports.putDomainState('example.jp', emptyDomainState('example.jp', 'a'), null);
    const wins = await Promise.all(Array.from({ length: 5 }, (_, i) => reports.putDomainState('example.jp', emptyDomainState('example.jp', String(i)), 1)));
    expect(wins.filter(Boolean)).toHaveLength(1);
  });

  it('keeps a report record once, lists the newest day first, and each domain apart', async () => {
    const { reports } = await make();
    await reports.appendReport(record('a', '2026-03-01'));
    await reports.appendReport(record('b', '2026-03-02'));
    await reports.appendReport(record('b', '2026-03-02'));
    await reports.appendReport(record('c', '2026-03-02', 'other.example'));
    expect((await reports.listReports('example.jp', 10)).map((r) => r.key)).toEqual(['b', 'a']);
    expect((await reports.listReports('example.jp', 1)).map((r) => r.key)).toEqual(['b']);
    expect((await reports.listReports('other.example', 10)).map((r) => r.key)).toEqual(['c']);
    expect(await reports.listReports('nothing.example', 10)).toEqual([]);
  });

  it('alerts once per change: unknown senders, then a known sender failing; a report read twice raises nothing', async () => {
    // Prepare
    const pair = await make();
    const d = deps(pair);
    const google = await fixtureReport('google.com!example.jp!1772323200!1772409599.xml');
    const microsoft = await fixtureReport('enterprise.protection.outlook.com!example.jp!1772409600!1772495999.xml');

    // Act
    const day1 = await recordReport(google, { ...d, source: 'raw/2026-03-02/g.eml' });
    const day2 = await recordReport(microsoft, d);
    const again = await recordReport(microsoft, d);

    // Assess: day 1 knows Google and SendGrid (both pass) and meets an unknown network.
    expect(day1.events.map((e) => [(e as DmarcAlert).change, (e as DmarcAlert).senders, e.findings.map((f) => f.code)])).toEqual([['unknown', ['198.51.100.0/24'], ['DMARC_REPORT_UNKNOWN_SOURCE']]]);
    // Day 2: SendGrid, known, now signs as sendgrid.net: its mail fails.
    const failing = day2.events as DmarcAlert[];
    expect(failing.map((e) => [e.change, e.sender, e.target, e.day, e.messages, e.status])).toEqual([['failing', 'SendGrid', 'shop', '2026-03-02', 12, 'critical']]);
    expect(failing[0]!.findings[0]!.message.en).toContain('it was signed for sendgrid.net, not for example.jp');
    expect(again).toEqual({ first: false, events: [], summaries: [] });
    const kept = await pair.reports.listReports('example.jp', 10);
    expect(kept.map((r) => [r.org, r.day, r.messages, r.passed])).toEqual([
      ['Enterprise Outlook', '2026-03-02', 20, 8],
      ['google.com', '2026-03-01', 153, 150],
    ]);
    expect(kept[1]!.source).toBe('raw/2026-03-02/g.eml');
  });

  it('says when a failing sender passes again, and never reopens it with an older day', async () => {
    const pair = await make();
    const d = deps(pair);
    const google = await fixtureReport('google.com!example.jp!1772323200!1772409599.xml');
    const microsoft = await fixtureReport('enterprise.protection.outlook.com!example.jp!1772409600!1772495999.xml');
    const day3 = { ...google, reportId: 'day3', begin: '2026-03-03T00:00:00.000Z', end: '2026-03-03T23:59:59.000Z' } as ParsedReport;
    await recordReport(google, d);
    await recordReport(microsoft, d);

    const passing = await recordReport(day3, d);
    const lateOld = await recordReport({ ...microsoft, reportId: 'late', org: 'Late Receiver' } as ParsedReport, d);

    expect((passing.events as DmarcAlert[]).map((e) => [e.change, e.sender, e.status])).toEqual([['passing', 'SendGrid', 'ok']]);
    expect(lateOld.events).toEqual([]);
  });

  it('keeps and summarises a report for a domain that is no target, and never alerts it', async () => {
    const pair = await make();
    const google = (await fixtureReport('google.com!example.jp!1772323200!1772409599.xml')) as Extract<ParsedReport, { kind: 'dmarc' }>;
    const foreign = { ...google, domain: 'not-a-target.example' };
    const got = await recordReport(foreign, deps(pair));
    expect(got.events).toEqual([]);
    expect(got.summaries.map((s) => [s.domain, s.target, s.findings.map((f) => f.code)])).toEqual([['not-a-target.example', null, ['DMARC_REPORT_UNKNOWN_SOURCE']]]);
    expect((await pair.reports.listReports('not-a-target.example', 5)).map((r) => r.target)).toEqual([null]);
  });

  it('alerts when TLS sessions start failing (MTA-STS enforce: critical), once', async () => {
    const pair = await make();
    const d = deps(pair);
    const ok = await fixtureReport('google.com!example.jp!1772323200!1772409599!001.json');
    const failing = await fixtureReport('microsoft.com!example.jp!1772409600!1772495999.json');
    expect((await recordReport(ok, d)).events).toEqual([]);
    const events = (await recordReport(failing, d)).events as DmarcAlert[];
    expect(events.map((e) => [e.change, e.messages, e.status, e.findings[0]!.code])).toEqual([['tls-failing', 4, 'critical', 'TLSRPT_FAILURE']]);
    expect(events[0]!.findings[0]!.remedy.en).toContain('Renew the TLS certificate of mx1.example.jp');
  });
}
