/**
 * The DMARC and TLS reports of the demo world: what receivers (a "google.com" and an
 * "Enterprise Outlook" of the demo) mail to `dmarc@`/`tlsrpt@` the bounce domain about the
 * demo's sending domains, written in their formats (RFC 7489 appendix C, RFC 8460) and gzipped.
 * The story: shop's newsletter service (SendGrid, by its reverse name in the demo DNS) passed
 * DMARC the day before yesterday, signing as shop's domain; yesterday it signed as itself, so
 * shop's own mail fails (DMARC_REPORT_FAIL), and a stranger sends as shop
 * (DMARC_REPORT_UNKNOWN_SOURCE). clinic's mail passes everywhere, and its TLS reports are clean.
 * All addresses are documentation ranges (RFC 5737); nothing here exists outside the demo.
 */
import { gzipSync } from 'node:zlib';

/** The newsletter service's sending address (its PTR in the demo DNS names SendGrid). */
export const DEMO_NEWSLETTER_IP = '203.0.113.10';
/** The reverse name the demo DNS gives it. */
export const DEMO_NEWSLETTER_PTR = 'o1.demo.sendgrid.net';
/** The demo provider's outgoing address as receivers saw it. */
export const DEMO_PROVIDER_IP = '203.0.113.25';
/** A stranger sending as shop's domain (no reverse name). */
export const DEMO_SPOOFER_IP = '198.51.100.200';

interface Row {
  readonly ip: string;
  readonly count: number;
  readonly dkimAligned: boolean;
  readonly spfAligned: boolean;
  readonly dkimDomain: string | null;
  readonly spfDomain: string;
  readonly spfPass: boolean;
}

function day(now: Date, daysAgo: number): { begin: number; end: number; name: string } {
  const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()) - daysAgo * 86_400_000;
  return { begin: midnight / 1000, end: midnight / 1000 + 86_399, name: new Date(midnight).toISOString().slice(0, 10) };
}

function aggregateXml(org: string, email: string, reportId: string, domain: string, policy: string, when: { begin: number; end: number }, rows: readonly Row[]): string {
  const records = rows.map(
    (r) => `  <record>
    <row>
      <source_ip>${r.ip}</source_ip>
      <count>${r.count}</count>
      <policy_evaluated>
        <disposition>none</disposition>
        <dkim>${r.dkimAligned ? 'pass' : 'fail'}</dkim>
        <spf>${r.spfAligned ? 'pass' : 'fail'}</spf>
      </policy_evaluated>
    </row>
    <identifiers>
      <header_from>${domain}</header_from>
    </identifiers>
    <auth_results>
${r.dkimDomain ? `      <dkim>
        <domain>${r.dkimDomain}</domain>
        <result>pass</result>
      </dkim>
` : ''}      <spf>
        <domain>${r.spfDomain}</domain>
        <result>${r.spfPass ? 'pass' : 'fail'}</result>
      </spf>
    </auth_results>
  </record>
`,
  );
  return `<?xml version="1.0" encoding="UTF-8" ?>
<feedback>
  <report_metadata>
    <org_name>${org}</org_name>
    <email>${email}</email>
    <report_id>${reportId}</report_id>
    <date_range>
      <begin>${when.begin}</begin>
      <end>${when.end}</end>
    </date_range>
  </report_metadata>
  <policy_published>
    <domain>${domain}</domain>
    <adkim>r</adkim>
    <aspf>r</aspf>
    <p>${policy}</p>
    <pct>100</pct>
  </policy_published>
${records.join('')}</feedback>
`;
}

function mail(from: string, to: string, subject: string, file: { readonly name: string; readonly type: string; readonly data: Buffer }, extra: readonly string[] = []): Buffer {
  const boundary = `----=_demo_report_${file.name.length}`;
  const body = (gzipSync(file.data).toString('base64').match(/.{1,76}/g) ?? []).join('\r\n');
  const head = [`From: ${from}`, `To: ${to}`, `Subject: ${subject}`, 'MIME-Version: 1.0', ...extra, `Content-Type: ${extra.length > 0 ? `multipart/report; report-type="tlsrpt"` : 'multipart/mixed'}; boundary="${boundary}"`];
  return Buffer.from(
    `${head.join('\r\n')}\r\n\r\n--${boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThis is a report (mail-health demo).\r\n--${boundary}\r\nContent-Type: ${file.type}; name="${file.name}"\r\nContent-Disposition: attachment; filename="${file.name}"\r\nContent-Transfer-Encoding: base64\r\n\r\n${body}\r\n--${boundary}--\r\n`,
  );
}

/** A report mail of the demo, ready to hand to the relay. */
export interface DemoReportMail {
  readonly from: string;
  readonly to: readonly string[];
  readonly raw: Buffer;
}

/**
 * The demo's report mails, dated the two days before `now` (UTC).
 * @example for (const m of demoReportMails({ now: new Date(), bounceDomain, shopDomain, clinicDomain })) relay.relay(m);
 */
export function demoReportMails(options: { readonly now: Date; readonly bounceDomain: string; readonly shopDomain: string; readonly clinicDomain: string }): DemoReportMail[] {
  const { now, bounceDomain, shopDomain, clinicDomain } = options;
  const before = day(now, 2);
  const yesterday = day(now, 1);
  const dmarcTo = `dmarc@${bounceDomain}`;
  const newsletter = (signedAs: string, count: number): Row => ({ ip: DEMO_NEWSLETTER_IP, count, dkimAligned: signedAs === shopDomain, spfAligned: false, dkimDomain: signedAs, spfDomain: 'em4421.sendgrid.net', spfPass: true });
  const google = aggregateXml('google.com', 'noreply-dmarc-support@google.com', `demo-g-${before.name}`, shopDomain, 'quarantine', before, [newsletter(shopDomain, 42)]);
  const outlook = aggregateXml('Enterprise Outlook', 'dmarcreport@microsoft.com', `demo-o-${yesterday.name}`, shopDomain, 'quarantine', yesterday, [
    newsletter('sendgrid.net', 17),
    { ip: DEMO_SPOOFER_IP, count: 4, dkimAligned: false, spfAligned: false, dkimDomain: null, spfDomain: shopDomain, spfPass: false },
  ]);
  const clinic = aggregateXml('google.com', 'noreply-dmarc-support@google.com', `demo-gc-${yesterday.name}`, clinicDomain, 'reject', yesterday, [
    { ip: DEMO_PROVIDER_IP, count: 9, dkimAligned: true, spfAligned: true, dkimDomain: clinicDomain, spfDomain: clinicDomain, spfPass: true },
  ]);
  const tls = JSON.stringify({
    'organization-name': 'Google Inc.',
    'date-range': { 'start-datetime': `${yesterday.name}T00:00:00Z`, 'end-datetime': `${yesterday.name}T23:59:59Z` },
    'contact-info': 'smtp-tls-reporting@google.com',
    'report-id': `${yesterday.name}T00:00:00Z_${clinicDomain}`,
    policies: [{ policy: { 'policy-type': 'sts', 'policy-string': ['version: STSv1', 'mode: testing', `mx: mx.${clinicDomain}`, 'max_age: 86400'], 'policy-domain': clinicDomain }, summary: { 'total-successful-session-count': 9, 'total-failure-session-count': 0 } }],
  });
  const name = (org: string, domain: string, when: { begin: number; end: number }, ext: string) => `${org}!${domain}!${when.begin}!${when.end}${ext}`;
  return [
    { from: 'noreply-dmarc-support@google.com', to: [dmarcTo], raw: mail('noreply-dmarc-support@google.com', dmarcTo, `Report domain: ${shopDomain} Submitter: google.com Report-ID: demo-g-${before.name}`, { name: name('google.com', shopDomain, before, '.xml.gz'), type: 'application/gzip', data: Buffer.from(google) }) },
    { from: 'dmarcreport@microsoft.com', to: [dmarcTo], raw: mail('dmarcreport@microsoft.com', dmarcTo, `Report Domain: ${shopDomain} Submitter: enterprise.protection.outlook.com Report-ID: <demo-o-${yesterday.name}>`, { name: name('enterprise.protection.outlook.com', shopDomain, yesterday, '.xml.gz'), type: 'application/gzip', data: Buffer.from(outlook) }) },
    { from: 'noreply-dmarc-support@google.com', to: [dmarcTo], raw: mail('noreply-dmarc-support@google.com', dmarcTo, `Report domain: ${clinicDomain} Submitter: google.com Report-ID: demo-gc-${yesterday.name}`, { name: name('google.com', clinicDomain, yesterday, '.xml.gz'), type: 'application/gzip', data: Buffer.from(clinic) }) },
    {
      from: 'smtp-tls-reporting@google.com',
      to: [`tlsrpt@${bounceDomain}`],
      raw: mail('smtp-tls-reporting@google.com', `tlsrpt@${bounceDomain}`, `Report Domain: ${clinicDomain} Submitter: google.com Report-ID: <${yesterday.name}T00:00:00Z_${clinicDomain}>`, { name: name('google.com', clinicDomain, yesterday, '.json.gz'), type: 'application/tlsrpt+gzip', data: Buffer.from(tls) }, [`TLS-Report-Domain: ${clinicDomain}`, 'TLS-Report-Submitter: google.com']),
    },
  ];
}
