/**
 * `mailhealth dmarc` over report files written from the big reporters' formats, packed as they
 * pack them (.zip, .xml.gz, .json.gz, a saved report mail), with reverse names from a DNS server
 * on 127.0.0.1: the JSON contract, the known/other split, the findings, the exit codes, bad
 * input beside good input, stdin, --domain and --state.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDmarcFileStore } from '#adapters/dmarc-file-store.ts';
import { createFileStore } from '#adapters/file-store.ts';
import { recordReport } from '#core/dmarc/record.ts';
import { UsageError } from '#core/errors.ts';
import { createDmarcCommand } from '#local/cli/dmarc.ts';
import type { CliIO } from '#local/cli/io.ts';
import { expectContract } from '#local/cli/json-contracts.ts';
import { startDnsServer, type DnsServer } from '#local/dns-server.ts';
import { FIXTURE_PTRS, fixtureReport } from '../helpers/dmarc-store-contract.ts';
import { fixture, gzip, reportMail, zip } from '../helpers/report-files.ts';

const NOW = new Date('2026-03-04T00:00:00Z');

function fakeIO(cwd: string, env: NodeJS.ProcessEnv = { LANG: 'C' }, stdin?: Buffer): CliIO & { out: () => string } {
  const chunks: string[] = [];
  const stdout = new Writable({
    write(chunk: Buffer | string, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return { stdout, stderr: new Writable({ write: (_c, _e, d) => d() }), env, cwd, ...(stdin ? { stdin: Readable.from([stdin]) } : {}), out: () => chunks.join('') };
}

interface Doc {
  status: string;
  reports: { file: string; kind: string; org: string | null; reportId: string | null; domain: string | null; begin: string | null; end: string | null; error?: string; code?: string }[];
  domains: {
    domain: string;
    status: string;
    messages: number;
    passed: number;
    senders: { sender: string; known: boolean; failed: number }[];
    sources: { ip: string; ptr: string | null; org: string | null; count: number; spf: string; dkim: string; dmarc: string; known: boolean; forwarded: boolean }[];
    tls: { successful: number; failed: number } | null;
    findings: { code: string; severity: string; message: { en: string; ja: string }; remedy: { en: string; ja: string } }[];
    recommendation: { current: string; suggested: string } | null;
  }[];
}

const reverse = (ip: string) => (ip.includes(':') ? null : `${ip.split('.').reverse().join('.')}.in-addr.arpa`);

describe('mailhealth dmarc', () => {
  let dns: DnsServer;
  let dir: string;
  const run = async (argv: string[], options: { env?: NodeJS.ProcessEnv; stdin?: Buffer } = {}) => {
    const io = fakeIO(dir, options.env, options.stdin);
    const code = await createDmarcCommand({ now: () => NOW })([...argv, '--dns-server', dns.address], io);
    return { code, out: io.out() };
  };
  const runJson = async (...argv: string[]) => {
    const { code, out } = await run([...argv, '--json']);
    const doc = JSON.parse(out) as Doc;
    // Every document the tests see keeps to the contract of docs/REFERENCE.md (strict).
    expectContract('dmarc', '--json', doc);
    return { code, doc };
  };

  beforeAll(async () => {
    const zone: Record<string, { type: 'PTR'; data: string }[]> = {};
    for (const [ip, name] of Object.entries(FIXTURE_PTRS)) {
      const r = reverse(ip);
      if (r) zone[r] = [{ type: 'PTR', data: name }];
    }
    dns = await startDnsServer({ zone });
    dir = await mkdtemp(join(tmpdir(), 'mailhealth-dmarc-cli-'));
    await mkdir(join(dir, 'reports'));
    const g = 'google.com!example.jp!1772323200!1772409599';
    await writeFile(join(dir, 'reports', `${g}.zip`), zip([{ name: `${g}.xml`, data: fixture(`${g}.xml`) }]));
    await writeFile(join(dir, 'reports', 'enterprise.protection.outlook.com!example.jp!1772409600!1772495999.xml.gz'), gzip(fixture('enterprise.protection.outlook.com!example.jp!1772409600!1772495999.xml')));
    await writeFile(join(dir, 'reports', `${g}!001.json.gz`), gzip(fixture(`${g}!001.json`)));
    // Yahoo's report as the mail that carried it (a zip, multipart/mixed).
    const y = 'yahoo.com!example.jp!1772409600!1772495999';
    await writeFile(join(dir, 'reports', 'yahoo-report.eml'), reportMail({ to: 'dmarc@bounces.example.jp', from: 'noreply@dmarc.yahoo.com', attachments: [{ filename: `${y}.zip`, contentType: 'application/zip', data: zip([{ name: `${y}.xml`, data: fixture(`${y}.xml`) }]) }] }));
    await mkdir(join(dir, 'bad'));
    await writeFile(join(dir, 'bad', 'bomb.xml'), '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]><feedback>&a;</feedback>');
    await writeFile(join(dir, 'bad', 'broken.xml.gz'), gzip('<feedback><report_metadata>'));
  });
  afterAll(async () => {
    await dns?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('reads a folder of .zip, .xml.gz, .json.gz and a report mail: sources with reverse names and organisations, own mail apart from others', async () => {
    // Act
    const { code, doc } = await runJson('reports');

    // Assess
    expect(code).toBe(2);
    expect(doc.status).toBe('critical');
    expect(doc.reports.map((r) => [r.kind, r.org, r.domain])).toEqual([
      ['dmarc', 'Enterprise Outlook', 'example.jp'],
      ['tlsrpt', 'Google Inc.', 'example.jp'],
      ['dmarc', 'google.com', 'example.jp'],
      ['dmarc', 'Yahoo', 'example.jp'],
    ]);
    const [d] = doc.domains;
    expect(d).toMatchObject({ domain: 'example.jp', status: 'critical', messages: 216, passed: 199 });
    const google = d!.sources.find((s) => s.ip === '209.85.220.41')!;
    expect(google).toMatchObject({ ptr: 'mail-sor-f41.google.com', org: 'Google', count: 161, spf: 'pass', dkim: 'pass', dmarc: 'pass', known: true });
    expect(d!.sources.find((s) => s.ip === '2a01:111:f400:7e1a::201')).toMatchObject({ ptr: null, org: null, known: true });
    expect(d!.senders.map((s) => [s.sender, s.known, s.failed])).toEqual([
      ['Google', true, 0],
      ['SendGrid', true, 12],
      ['2a01:0111:f400::/48', true, 0],
      ['198.51.100.0/24', false, 3],
      ['192.0.2.0/24', false, 0],
    ]);
    expect(d!.sources.find((s) => s.ip === '192.0.2.200')).toMatchObject({ forwarded: true, known: false });
    expect(d!.findings.map((f) => `${f.code}:${f.severity}`)).toEqual(['DMARC_REPORT_FAIL:critical', 'DMARC_REPORT_UNKNOWN_SOURCE:warning']);
    expect(d!.findings[0]!.message.en).toContain('from SendGrid (167.89.100.1; 12 messages)');
    expect(d!.findings[0]!.remedy.ja).toContain('SendGrid');
    expect(d!.recommendation).toMatchObject({ current: 'none', suggested: 'none' });
    expect(d!.tls).toMatchObject({ successful: 230, failed: 0 });
  });

  it('exits 1 when only unknown senders fail, 0 when everything passes', async () => {
    const dmarcbis = join(dir, 'bis.xml');
    await writeFile(dmarcbis, fixture('dmarcbis-namespace.xml'));
    const onlyGoogle = join(dir, 'g.xml');
    await writeFile(onlyGoogle, fixture('google.com!example.jp!1772323200!1772409599.xml'));
    expect((await runJson('g.xml')).code).toBe(1);
    const pass = await runJson('bis.xml');
    expect(pass.code).toBe(0);
    expect(pass.doc.domains[0]!.findings).toEqual([]);
  });

  it('lists unreadable files with their named error beside the reports that were read', async () => {
    const { code, doc } = await runJson('reports', 'bad', 'missing.xml');
    expect(code).toBe(2);
    expect(doc.reports.filter((r) => r.error).map((r) => [r.file, r.code])).toEqual([
      ['missing.xml', 'UNREADABLE'],
      ['bad/bomb.xml', 'XML_DOCTYPE'],
      ['bad/broken.xml.gz', 'XML_MALFORMED'],
    ]);
    expect(doc.reports.filter((r) => !r.error)).toHaveLength(4);
  });

  it('exits 3 when nothing could be read, and for bad usage', async () => {
    const { code, doc } = await runJson('bad');
    expect(code).toBe(3);
    expect(doc.status).toBe('unknown');
    await expect(run([])).rejects.toBeInstanceOf(UsageError);
    await expect(run(['reports', '--domain', 'not a domain'])).rejects.toBeInstanceOf(UsageError);
    await expect(run(['reports', '--state', 'no-such-dir'])).rejects.toBeInstanceOf(UsageError);
  });

  it('reads a report mail from stdin, and keeps to --domain', async () => {
    const mail = reportMail({ to: 'dmarc@bounces.example.jp', singlePart: true, attachments: [{ filename: 'google.zip', contentType: 'application/zip', data: zip([{ name: 'g.xml', data: fixture('google.com!example.jp!1772323200!1772409599.xml') }]) }] });
    const io = fakeIO(dir, { LANG: 'C' }, mail);
    const code = await createDmarcCommand({ now: () => NOW })(['-', '--json', '--no-ptr'], io);
    const doc = JSON.parse(io.out()) as Doc;
    expect(code).toBe(1);
    expect(doc.reports.map((r) => r.file)).toEqual(['- › google.zip › g.xml']);
    const other = await runJson('reports', '--domain', 'other.example');
    expect(other).toMatchObject({ code: 0, doc: { domains: [], reports: [] } });
  });

  it("with --state, counts as own mail the senders the monitor's history knows", async () => {
    // Prepare: the state has seen the unknown network pass (say, the shop's new copier, now set up).
    const state = join(dir, 'state');
    const google = await fixtureReport('google.com!example.jp!1772323200!1772409599.xml');
    const fixed = { ...google, reportId: 'earlier', rows: google.kind === 'dmarc' ? google.rows.map((r) => (r.sourceIp === '198.51.100.77' ? { ...r, spfAligned: true } : r)) : [] };
    await recordReport(fixed, { store: createFileStore({ dir: state }), reports: createDmarcFileStore({ dir: state }), clock: () => NOW, random: (n) => new Uint8Array(n), ptrOf: () => null, targetOf: () => 'shop' });

    // Act
    const { code, doc } = await runJson('g.xml', '--state', 'state');

    // Assess: the copier's failing mail is now the domain's own mail failing.
    expect(code).toBe(2);
    expect(doc.domains[0]!.findings.map((f) => f.code)).toEqual(['DMARC_REPORT_FAIL']);
  });

  it('prints a human report in English and Japanese', async () => {
    const en = await run(['reports'], { env: { LANG: 'en_US.UTF-8' } });
    expect(en.code).toBe(2);
    expect(en.out).toContain('Your own mail (senders that passed DMARC)');
    expect(en.out).toMatch(/✗ SendGrid\s+167\.89\.100\.1\s+o1\.ptr2035\.example\.sendgrid\.net\s+12/);
    expect(en.out).toContain('DMARC policy: p=none → p=none');
    expect(en.out).toContain('Overall: CRITICAL (exit 2)');
    const ja = await run(['reports'], { env: { LANG: 'ja_JP.UTF-8' } });
    expect(ja.out).toContain('自社のメール（DMARC に合格したことのある送信元）');
    expect(ja.out).toContain('SendGrid (167.89.100.1、12 通) から example.jp として送られたメールが DMARC に失敗しました');
    expect(ja.out).toContain('SendGrid の設定（「ドメイン認証」');
  });
});
