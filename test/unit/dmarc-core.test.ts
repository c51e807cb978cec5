import { describe, expect, it } from 'vitest';
import { isReportAttachment, isReportAddress, reportHint } from '#core/dmarc/mail.ts';
import { recommendPolicy } from '#core/dmarc/policy.ts';
import { reverseNames } from '#core/dmarc/ptr.ts';
import { baseDomain, organisationOf, senderOf } from '#core/dmarc/sources.ts';
import { targetOfDomain } from '#core/dmarc/targets.ts';
import type { DnsLookup } from '#core/ports.ts';

describe('reportHint: which received messages are report mails', () => {
  const B = 'bounces.example.jp';
  it('takes mail to a report mailbox of the bounce domain, and mail marked as a report', () => {
    expect(reportHint(`Delivered-To: dmarc@${B}\r\nSubject: anything`, B)).toBe('report');
    expect(reportHint(`To: "DMARC" <TLSRPT@${B.toUpperCase()}>`, B)).toBe('report');
    expect(reportHint('Subject: Report Domain: example.jp Submitter: google.com Report-ID: 1', B)).toBe('report');
    expect(reportHint('TLS-Report-Domain: example.jp', B)).toBe('report');
    expect(reportHint('Content-Type: multipart/report; report-type="tlsrpt";\r\n boundary="x"', B)).toBe('report');
  });
  it('never takes a DSN, a canary, or mail to another mailbox or domain as a report', () => {
    expect(reportHint(`To: dmarc@${B}\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=x`, B)).toBe('no');
    expect(reportHint(`To: ok@${B}\r\nContent-Type: text/plain`, B)).toBe('no');
    expect(reportHint('To: dmarc@other.example', B)).toBe('no');
    expect(isReportAddress(`dmarc@${B}`, B)).toBe(true);
    expect(isReportAddress(`bounce+01ABC@${B}`, B)).toBe(false);
  });
  it('looks into multipart mail and single files for report attachments', () => {
    expect(reportHint('Content-Type: multipart/mixed; boundary=x', B)).toBe('maybe');
    expect(reportHint('Content-Type: application/zip; name="r.zip"', B)).toBe('maybe');
    expect(isReportAttachment('application/octet-stream', 'google.com!example.jp!1!2.zip')).toBe(true);
    expect(isReportAttachment('application/octet-stream', 'invoice.pdf')).toBe(false);
    expect(isReportAttachment('application/tlsrpt+gzip', null)).toBe(true);
  });
});

describe('senders: organisations and the keys they are remembered by', () => {
  it('names the organisation from the reverse name, and the network when there is none or it names a line', () => {
    expect(organisationOf('mail-sor-f41.google.com')).toBe('Google');
    expect(organisationOf('a8-31.smtp-out.ap-northeast-1.amazonses.com')).toBe('Amazon SES');
    expect(organisationOf('mail-ty2jpn01on2201.outbound.protection.outlook.com.')).toBe('Microsoft 365');
    expect(organisationOf('evilgoogle.com')).toBeNull();
    expect(senderOf('192.0.2.7', null)).toEqual({ label: '192.0.2.0/24', org: null, keys: ['net:192.0.2.0/24'] });
    expect(senderOf('192.0.2.7', 'p7-ipngn2.tokyo.ocn.ne.jp').keys).toEqual(['net:192.0.2.0/24']);
    expect(senderOf('192.0.2.7', 'mail.shop-platform.co.jp')).toEqual({ label: 'shop-platform.co.jp', org: null, keys: ['ptr:shop-platform.co.jp', 'net:192.0.2.0/24'] });
    expect(baseDomain('o1.mail.example.com')).toBe('example.com');
  });
});

describe('recommendPolicy', () => {
  const policy = (p: string, pct: number | null = 100) => ({ p, sp: null, pct, adkim: null, aspf: null });
  const own = (dmarc: 'pass' | 'fail', sender = 'SendGrid') => ({ known: true, dmarc, forwarded: false, sender });
  it('keeps p=none while the domain\'s own mail fails, and says a strict policy junks it now', () => {
    expect(recommendPolicy({ domain: 'example.jp', policy: policy('none'), sources: [own('pass', 'Google'), own('fail')], days: 10 })).toMatchObject({ current: 'none', suggested: 'none' });
    const strict = recommendPolicy({ domain: 'example.jp', policy: policy('quarantine'), sources: [own('pass', 'Google'), own('fail')], days: 10 });
    expect(strict.suggested).toBe('none');
    expect(strict.message.en).toContain('receivers junk or refuse it now');
  });
  it('moves to quarantine after a clean week, then to reject; pct first', () => {
    expect(recommendPolicy({ domain: 'example.jp', policy: policy('none'), sources: [own('pass')], days: 3 }).suggested).toBe('none');
    expect(recommendPolicy({ domain: 'example.jp', policy: policy('none'), sources: [own('pass')], days: 7 }).suggested).toBe('quarantine');
    expect(recommendPolicy({ domain: 'example.jp', policy: policy('quarantine', 25), sources: [own('pass')], days: 7 }).message.en).toContain('raise pct=25 to 100');
    expect(recommendPolicy({ domain: 'example.jp', policy: policy('quarantine'), sources: [own('pass')], days: 7 }).suggested).toBe('reject');
    expect(recommendPolicy({ domain: 'example.jp', policy: policy('reject'), sources: [own('pass')], days: 7 }).suggested).toBe('reject');
  });
  it('asks for SPF and DKIM first when nothing passes', () => {
    expect(recommendPolicy({ domain: 'example.jp', policy: policy('none'), sources: [{ known: false, dmarc: 'fail', forwarded: false, sender: 'x' }], days: 9 }).message.en).toContain('Set up SPF and DKIM');
  });
});

describe('reverseNames', () => {
  it('asks each address once and stops asking once DNS has stopped answering', async () => {
    const asked: string[] = [];
    const dead: DnsLookup = async (name) => {
      asked.push(name);
      throw Object.assign(new Error('timeout'), { code: 'ETIMEOUT' });
    };
    const ips = Array.from({ length: 50 }, (_, i) => `192.0.2.${i}`);
    const names = await reverseNames([...ips, ...ips], { lookup: dead }, { concurrency: 1, giveUpAfter: 3 });
    expect(asked).toHaveLength(3);
    expect(names.size).toBe(50);
    expect([...names.values()].every((n) => n === null)).toBe(true);
  });
});

describe('targetOfDomain', () => {
  it('finds the target by its from domain, exact first, then a subdomain of the report domain', () => {
    const targets = [
      { name: 'news', from: 'news@mail.example.jp' },
      { name: 'shop', from: 'shop@example.jp' },
    ];
    expect(targetOfDomain(targets, 'example.jp')).toBe('shop');
    expect(targetOfDomain(targets, 'mail.example.jp')).toBe('news');
    expect(targetOfDomain(targets, 'other.example')).toBeNull();
  });
});
