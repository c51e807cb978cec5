/**
 * `mailhealth dns` and the cross-domain authorisation of DMARC reports (RFC 7489 §7.1): a
 * domain whose rua points at the monitor's bounce domain gets its reports only when the bounce
 * domain publishes `<domain>._report._dmarc.<bounce domain>` TXT "v=DMARC1". Against a DNS
 * server on 127.0.0.1.
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDnsCommand } from '#local/cli/dns.ts';
import type { CliIO } from '#local/cli/io.ts';
import { expectContract } from '#local/cli/json-contracts.ts';
import { startDnsServer, type DnsServer } from '#local/dns-server.ts';

function fakeIO(env: NodeJS.ProcessEnv = { LANG: 'C' }): CliIO & { out: () => string } {
  const chunks: string[] = [];
  const stdout = new Writable({
    write(chunk: Buffer | string, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return { stdout, stderr: new Writable({ write: (_c, _e, d) => d() }), env, cwd: '/', out: () => chunks.join('') };
}

const spf = { type: 'TXT' as const, data: 'v=spf1 -all' };
const mx = { type: 'MX' as const, data: { exchange: 'mx.example.test', priority: 10 } };

describe('mailhealth dns: where DMARC reports go', () => {
  let dns: DnsServer;
  beforeAll(async () => {
    dns = await startDnsServer({
      zone: {
        'shop.test': [spf, mx],
        '_dmarc.shop.test': [{ type: 'TXT', data: 'v=DMARC1; p=none; rua=mailto:dmarc@bounces.monitor.test,mailto:me@shop.test' }],
        'shop.test._report._dmarc.bounces.monitor.test': [{ type: 'TXT', data: 'v=DMARC1' }],
        'clinic.test': [spf, mx],
        '_dmarc.clinic.test': [{ type: 'TXT', data: 'v=DMARC1; p=none; rua=mailto:dmarc@bounces.monitor.test' }],
      },
    });
  });
  afterAll(async () => {
    await dns?.close();
  });

  it('says the reports to the bounce domain are authorised, and names the destinations', async () => {
    const io = fakeIO();
    const code = await createDnsCommand()(['shop.test', '--json', '--dns-server', dns.address], io);
    const doc = JSON.parse(io.out()) as { domains: { records: { dmarc: { reports: unknown[] } }; findings: { code: string }[] }[] };
    expect(code).toBe(0);
    expectContract('dns', '--json', doc);
    expect(doc.domains[0]!.records.dmarc.reports).toEqual([
      { tag: 'rua', address: 'dmarc@bounces.monitor.test', domain: 'bounces.monitor.test', external: true, recordName: 'shop.test._report._dmarc.bounces.monitor.test', authorized: true },
      { tag: 'rua', address: 'me@shop.test', domain: 'shop.test', external: false, recordName: null, authorized: null },
    ]);
    expect(doc.domains[0]!.findings.map((f) => f.code)).not.toContain('DMARC_REPORT_UNAUTHORIZED');
    const text = fakeIO();
    await createDnsCommand()(['shop.test', '--dns-server', dns.address], text);
    expect(text.out()).toContain('rua    dmarc@bounces.monitor.test  ✓ authorised by the receiving domain (shop.test._report._dmarc.bounces.monitor.test)');
  });

  it('warns when the bounce domain does not authorise the reports, with the record to publish', async () => {
    const io = fakeIO();
    await createDnsCommand()(['clinic.test', '--json', '--dns-server', dns.address], io);
    const doc = JSON.parse(io.out()) as { domains: { findings: { code: string; severity: string; remedy: { en: string } }[] }[] };
    const finding = doc.domains[0]!.findings.find((f) => f.code === 'DMARC_REPORT_UNAUTHORIZED');
    expect(finding).toMatchObject({ severity: 'warning' });
    expect(finding!.remedy.en).toBe('Publish TXT "v=DMARC1" at clinic.test._report._dmarc.bounces.monitor.test (in the DNS of bounces.monitor.test), or send the reports to an address at clinic.test.');
  });
});
