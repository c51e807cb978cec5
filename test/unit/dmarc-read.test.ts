import { describe, expect, it } from 'vitest';
import { readReportFile } from '#adapters/report-reader.ts';
import type { DmarcAggregateReport, TlsReport } from '#core/dmarc/model.ts';
import { reportDay } from '#core/dmarc/model.ts';
import { DEFAULT_REPORT_LIMITS } from '#core/dmarc/problems.ts';
import { fixture, gzip, zip } from '../helpers/report-files.ts';

const NOW = new Date('2026-03-05T00:00:00Z');
const read = (bytes: Uint8Array, name: string, limits = DEFAULT_REPORT_LIMITS) => readReportFile(bytes, name, { now: NOW, limits });

describe('readReportFile: the big reporters', () => {
  it("reads Google's report (no <version>, np, selector after result) from a zip", async () => {
    // Prepare
    const xml = fixture('google.com!example.jp!1772323200!1772409599.xml');

    // Act
    const { reports, problems } = await read(zip([{ name: 'google.com!example.jp!1772323200!1772409599.xml', data: xml }]), 'google.zip');

    // Assess
    expect(problems).toEqual([]);
    const r = reports[0]!.report as DmarcAggregateReport;
    expect(reports[0]!.name).toBe('google.zip › google.com!example.jp!1772323200!1772409599.xml');
    expect(r).toMatchObject({ kind: 'dmarc', org: 'google.com', reportId: '12814692475316957703', domain: 'example.jp', begin: '2026-03-01T00:00:00.000Z', end: '2026-03-01T23:59:59.000Z' });
    expect(r.policy).toEqual({ p: 'none', sp: 'none', pct: 100, adkim: 'r', aspf: 'r' });
    expect(r.rows.map((x) => [x.sourceIp, x.count, x.dkimAligned, x.spfAligned])).toEqual([
      ['209.85.220.41', 120, true, true],
      ['167.89.100.1', 30, true, false],
      ['198.51.100.77', 3, false, false],
    ]);
    expect(r.rows[1]!.spf).toEqual([{ domain: 'em1234.sendgrid.net', scope: null, result: 'pass' }]);
    expect(reportDay(r)).toBe('2026-03-01');
  });

  it("reads Microsoft's report (namespaces declared, version, envelope_to, IPv6 source) from .xml.gz", async () => {
    const { reports, problems } = await read(gzip(fixture('enterprise.protection.outlook.com!example.jp!1772409600!1772495999.xml')), 'enterprise.protection.outlook.com!example.jp!1772409600!1772495999.xml.gz');
    expect(problems).toEqual([]);
    const r = reports[0]!.report as DmarcAggregateReport;
    expect(r.org).toBe('Enterprise Outlook');
    expect(r.rows[0]).toMatchObject({ sourceIp: '167.89.100.1', envelopeTo: 'outlook.jp', envelopeFrom: 'em1234.sendgrid.net', dkim: [{ domain: 'sendgrid.net', selector: 'smtpapi', result: 'pass' }] });
    expect(r.rows[1]!.sourceIp).toBe('2a01:111:f400:7e1a::201');
  });

  it("reads Yahoo's report with an override reason, and Mail.ru's with two DKIM results", async () => {
    const yahoo = (await read(fixture('yahoo.com!example.jp!1772409600!1772495999.xml'), 'yahoo.xml')).reports[0]!.report as DmarcAggregateReport;
    expect(yahoo.rows[1]!.reasons).toEqual([{ type: 'forwarded', comment: 'looks forwarded' }]);
    const mailru = (await read(gzip(fixture('mail.ru!example.jp!1772409600!1772495999.xml')), 'mailru.xml.gz')).reports[0]!.report as DmarcAggregateReport;
    expect(mailru.org).toBe('Mail.Ru');
    expect(mailru.rows[0]!.dkim.map((d) => d.domain)).toEqual(['example.jp', 'gappssmtp.com']);
  });

  it('reads a DMARCbis report in its namespace, and prefixed element names', async () => {
    const bis = (await read(fixture('dmarcbis-namespace.xml'), 'bis.xml')).reports[0]!.report as DmarcAggregateReport;
    expect(bis).toMatchObject({ org: 'Example Receiver', domain: 'example.jp', rows: [{ sourceIp: '209.85.220.41', count: 7 }] });
    const prefixed = fixture('dmarcbis-namespace.xml').toString().replace('<feedback xmlns="urn:ietf:params:xml:ns:dmarc-2.0">', '<d:feedback xmlns:d="urn:ietf:params:xml:ns:dmarc-2.0">').replace('</feedback>', '</d:feedback>');
    expect(((await read(Buffer.from(prefixed), 'p.xml')).reports[0]!.report as DmarcAggregateReport).reportId).toBe('bis-2026-03-03');
  });

  it('reads TLS reports of Google (.json.gz) and Microsoft (failure details, enforce)', async () => {
    const google = (await read(gzip(fixture('google.com!example.jp!1772323200!1772409599!001.json')), 'google.json.gz')).reports[0]!.report as TlsReport;
    expect(google).toMatchObject({ kind: 'tlsrpt', org: 'Google Inc.', policies: [{ type: 'sts', domain: 'example.jp', mode: 'testing', successful: 230, failed: 0, failures: [] }] });
    const ms = (await read(fixture('microsoft.com!example.jp!1772409600!1772495999.json'), 'ms.json')).reports[0]!.report as TlsReport;
    expect(ms.policies[0]).toMatchObject({ mode: 'enforce', mxHosts: ['mx1.example.jp'], failed: 4, failures: [{ resultType: 'certificate-expired', receivingMx: 'mx1.example.jp', count: 4 }] });
  });
});

describe('readReportFile: bad input, each refusal named', () => {
  const google = fixture('google.com!example.jp!1772323200!1772409599.xml').toString();

  it('refuses an entity bomb at its DOCTYPE, expanding nothing', async () => {
    const bomb = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">${Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i || ''};`.repeat(10)}">`).join('')}]><feedback>&lol9;</feedback>`;
    const { reports, problems } = await read(Buffer.from(bomb), 'bomb.xml');
    expect(reports).toEqual([]);
    expect(problems[0]!.problem.code).toBe('XML_DOCTYPE');
  });

  it('refuses nesting deeper than the limit', async () => {
    const deep = `<feedback>${'<a>'.repeat(5000)}${'</a>'.repeat(5000)}</feedback>`;
    const { problems } = await read(Buffer.from(deep), 'deep.xml');
    expect(problems[0]!.problem).toMatchObject({ code: 'XML_TOO_DEEP' });
    expect(problems[0]!.problem.message).toContain('deeper than 16');
  });

  it('names malformed XML with its line and column', async () => {
    const { problems } = await read(Buffer.from(google.replace('</policy_published>', '</policy_publishd>')), 'broken.xml');
    expect(problems[0]!.problem.code).toBe('XML_MALFORMED');
    expect(problems[0]!.problem.message).toMatch(/\d+:\d+/);
  });

  it('refuses periods that cannot be: reversed, before 2000, in the future', async () => {
    const swap = google.replace('<begin>1772323200</begin>', '<begin>1772409599</begin>').replace('<end>1772409599</end>', '<end>1772323200</end>');
    const old = google.replace('<begin>1772323200</begin>', '<begin>86400</begin>').replace('<end>1772409599</end>', '<end>172799</end>');
    const future = google.replace('<begin>1772323200</begin>', '<begin>1900000000</begin>').replace('<end>1772409599</end>', '<end>1900086399</end>');
    const words = google.replace('<begin>1772323200</begin>', '<begin>yesterday</begin>');
    for (const [text, says] of [[swap, 'before it begins'], [old, 'before 2000'], [future, 'in the future'], [words, 'not a time']] as const) {
      const { problems } = await read(Buffer.from(text), 'dates.xml');
      expect(problems[0]!.problem.code).toBe('DATES_INVALID');
      expect(problems[0]!.problem.message).toContain(says);
    }
  });

  it('keeps the readable records of a report and names the ones it skipped', async () => {
    const text = google.replace('<source_ip>198.51.100.77</source_ip>', '<source_ip>not-an-ip</source_ip>');
    const r = (await read(Buffer.from(text), 'x.xml')).reports[0]!.report as DmarcAggregateReport;
    expect(r.rows).toHaveLength(2);
    expect(r.skipped).toEqual(['record 3: source_ip "not-an-ip" is not an IP address']);
  });

  it('refuses what is no report: another XML, another JSON, plain text, a report without its id', async () => {
    expect((await read(Buffer.from('<html><body>hi</body></html>'), 'a.xml')).problems[0]!.problem.code).toBe('NOT_A_REPORT');
    expect((await read(Buffer.from('{"hello": 1}'), 'a.json')).problems[0]!.problem.code).toBe('NOT_A_REPORT');
    expect((await read(Buffer.from('just text'), 'a.txt')).problems[0]!.problem.code).toBe('NOT_A_REPORT');
    expect((await read(Buffer.from('{"policies": [}'), 'a.json')).problems[0]!.problem.code).toBe('JSON_MALFORMED');
    const noId = (await read(Buffer.from(google.replace(/<report_id>.*<\/report_id>/, '')), 'a.xml')).problems[0]!.problem;
    expect(noId).toEqual({ code: 'REPORT_INVALID', message: 'the report has no report_metadata/report_id' });
  });

  it('stops a gzip bomb at the ratio limit without holding its output', async () => {
    // 16 MiB of zeros pack to about 16 KiB: 1,000:1, as bombs do.
    const bomb = gzip(Buffer.alloc(16 * 1024 * 1024));
    const before = process.memoryUsage().arrayBuffers;
    const { problems } = await read(bomb, 'bomb.xml.gz');
    expect(problems[0]!.problem.code).toBe('RATIO_EXCEEDED');
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(12 * 1024 * 1024);
  });

  it('refuses a zip entry that declares a gigabyte before inflating it', async () => {
    const archive = zip([{ name: 'huge.xml', data: google, declaredSize: 1024 * 1024 * 1024 }]);
    const { problems } = await read(archive, 'huge.zip');
    expect(problems[0]!.problem).toMatchObject({ code: 'TOO_LARGE' });
    expect(problems[0]!.problem.message).toContain('declares 1073741824 bytes');
  });

  it('cuts off a zip bomb that lies about its size', async () => {
    const archive = zip([{ name: 'small.xml', data: Buffer.alloc(8 * 1024 * 1024, 0x20), declaredSize: 2000 }]);
    const { problems } = await read(archive, 'liar.zip');
    expect(problems[0]!.problem.code).toBe('RATIO_EXCEEDED');
  });

  it('reads a zip slip name as a name only, and refuses encrypted, unknown-method, damaged and nested archives by name', async () => {
    const slip = await read(zip([{ name: '../../../../etc/cron.d/evil\u0007.xml', data: google }]), 'slip.zip');
    expect(slip.problems).toEqual([]);
    expect(slip.reports[0]!.name).toBe('slip.zip › ../../../../etc/cron.d/evil?.xml');
    const bad = await read(
      zip([
        { name: 'secret.xml', data: google, encrypted: true },
        { name: 'bz.xml', data: google, method: 'bzip2' },
        { name: 'crc.xml', data: google, badCrc: true },
        { name: 'inner.zip', data: zip([{ name: 'a.xml', data: google }]), method: 'store' },
        { name: 'ok.xml.gz', data: gzip(google), method: 'store' },
      ]),
      'mixed.zip',
    );
    expect(bad.problems.map((p) => p.problem.code)).toEqual(['ARCHIVE_UNSUPPORTED', 'ARCHIVE_UNSUPPORTED', 'ARCHIVE_CORRUPT', 'ARCHIVE_UNSUPPORTED']);
    expect(bad.reports.map((r) => r.name)).toEqual(['mixed.zip › ok.xml.gz']);
  });

  it('refuses a zip with too many entries, and a truncated zip or gzip', async () => {
    const many = zip(Array.from({ length: 40 }, (_, i) => ({ name: `r${i}.xml`, data: google })));
    expect((await read(many, 'many.zip')).problems[0]!.problem.code).toBe('TOO_MANY_ENTRIES');
    expect((await read(zip([{ name: 'a.xml', data: google }]).subarray(0, 200), 'cut.zip')).problems[0]!.problem.code).toBe('ARCHIVE_CORRUPT');
    expect((await read(gzip(google).subarray(0, 100), 'cut.gz')).problems[0]!.problem.code).toBe('ARCHIVE_CORRUPT');
  });

  it('refuses an unpacked report over the size limit', async () => {
    const limits = { ...DEFAULT_REPORT_LIMITS, reportBytes: 1000 };
    expect((await read(Buffer.from(google), 'big.xml', limits)).problems[0]!.problem.code).toBe('TOO_LARGE');
  });
});
