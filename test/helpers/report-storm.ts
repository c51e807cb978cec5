/**
 * Many report mails at once, as a monitored fleet receives them after midnight UTC: for each
 * report, a reporter (Google's single-part zip, Microsoft's multipart gzip, Yahoo's zip, a
 * TLS-RPT multipart/report), a domain among `domains`, a day (report i covers the day
 * floor(i / domains) of 20 ending at `lastDay`), and `records` sources (the shop's
 * platform passing, its newsletter service passing or, on some days, failing, strangers).
 * Deterministic: the same arguments give the same bytes.
 */
import { gzip, reportMail, zip } from './report-files.ts';

/** What the storm is made of. */
export interface StormOptions {
  /** Sources (records) per DMARC report. @default 20 */
  readonly records?: number;
  /** Domains the reports are about. @default 50 */
  readonly domains?: number;
  /** The last day the reports cover (UTC `YYYY-MM-DD`); they go back from it. @default '2026-03-03' */
  readonly lastDay?: string;
  /** The bounce domain the mails go to. @default 'bounces.example.jp' */
  readonly bounceDomain?: string;
}

/** The domain of report i's domain index. */
export const stormDomain = (d: number) => `shop${d}.example.jp`;

function aggregate(org: string, email: string, id: string, domain: string, begin: number, rows: string[]): string {
  return `<?xml version="1.0" encoding="UTF-8" ?>\n<feedback>\n<report_metadata><org_name>${org}</org_name><email>${email}</email><report_id>${id}</report_id><date_range><begin>${begin}</begin><end>${begin + 86_399}</end></date_range></report_metadata>\n<policy_published><domain>${domain}</domain><adkim>r</adkim><aspf>r</aspf><p>none</p><sp>none</sp><pct>100</pct></policy_published>\n${rows.join('\n')}\n</feedback>\n`;
}

function row(ip: string, count: number, dkim: string | null, dkimAligned: boolean, spfDomain: string, spfAligned: boolean, spfResult: string, domain: string): string {
  return `<record><row><source_ip>${ip}</source_ip><count>${count}</count><policy_evaluated><disposition>none</disposition><dkim>${dkimAligned ? 'pass' : 'fail'}</dkim><spf>${spfAligned ? 'pass' : 'fail'}</spf></policy_evaluated></row><identifiers><header_from>${domain}</header_from></identifiers><auth_results>${dkim ? `<dkim><domain>${dkim}</domain><selector>s1</selector><result>pass</result></dkim>` : ''}<spf><domain>${spfDomain}</domain><scope>mfrom</scope><result>${spfResult}</result></spf></auth_results></record>`;
}

/**
 * `n` report mails.
 * @example const mails = stormReports(1000); // Buffer[]
 */
export function stormReports(n: number, options: StormOptions = {}): Buffer[] {
  const records = options.records ?? 20;
  const domains = options.domains ?? 50;
  const bounceDomain = options.bounceDomain ?? 'bounces.example.jp';
  const last = Date.parse(`${options.lastDay ?? '2026-03-03'}T00:00:00Z`) / 1000;
  const out: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const domain = stormDomain(i % domains);
    // Forward in time, as reports arrive day after day (20 days, then again from the first).
    const begin = last - (19 - (Math.floor(i / domains) % 20)) * 86_400;
    const kind = i % 4;
    if (kind === 3) {
      const day = new Date(begin * 1000).toISOString().slice(0, 10);
      const failed = i % 7 === 0 ? 3 : 0;
      const json = JSON.stringify({
        'organization-name': 'Google Inc.',
        'date-range': { 'start-datetime': `${day}T00:00:00Z`, 'end-datetime': `${day}T23:59:59Z` },
        'contact-info': 'smtp-tls-reporting@google.com',
        'report-id': `${day}T00:00:00Z_${domain}_${i}`,
        policies: [{ policy: { 'policy-type': 'sts', 'policy-string': ['version: STSv1', 'mode: testing', `mx: mx.${domain}`], 'policy-domain': domain }, summary: { 'total-successful-session-count': 100, 'total-failure-session-count': failed }, ...(failed ? { 'failure-details': [{ 'result-type': 'certificate-expired', 'receiving-mx-hostname': `mx.${domain}`, 'failed-session-count': failed }] } : {}) }],
      });
      out.push(reportMail({ to: `tlsrpt@${bounceDomain}`, from: 'smtp-tls-reporting@google.com', tlsrpt: { domain, submitter: 'google.com' }, attachments: [{ filename: `google.com!${domain}!${begin}!${begin + 86_399}!${i}.json.gz`, contentType: 'application/tlsrpt+gzip', data: gzip(json) }] }));
      continue;
    }
    const rows: string[] = [];
    // The platform: always passes.
    rows.push(row(`209.85.220.${(i % 200) + 1}`, 100 + (i % 50), domain, true, domain, true, 'pass', domain));
    // The newsletter service: passes, but stops signing on every fifth day.
    const broken = Math.floor(begin / 86_400) % 5 === 0;
    rows.push(row(`167.89.${i % 4}.${(i % 250) + 1}`, 30, broken ? 'sendgrid.net' : domain, !broken, 'em1.sendgrid.net', false, 'pass', domain));
    for (let r = 2; r < records; r++) rows.push(row(`198.51.${(r + i) % 200}.${(r * 7 + i) % 250}`, 1 + (r % 3), null, false, domain, false, 'fail', domain));
    const org = kind === 0 ? 'google.com' : kind === 1 ? 'Enterprise Outlook' : 'Yahoo';
    const id = `${org}-${i}-${begin}`;
    const xml = aggregate(org, 'dmarc@reporter.example', id, domain, begin, rows);
    const file = `${kind === 1 ? 'enterprise.protection.outlook.com' : kind === 0 ? 'google.com' : 'yahoo.com'}!${domain}!${begin}!${begin + 86_399}`;
    const attachment =
      kind === 1 ? { filename: `${file}.xml.gz`, contentType: 'application/gzip', data: gzip(xml) } : { filename: `${file}.zip`, contentType: 'application/zip', data: zip([{ name: `${file}.xml`, data: xml }]) };
    out.push(reportMail({ to: `dmarc@${bounceDomain}`, subject: `Report Domain: ${domain} Submitter: ${org} Report-ID: <${id}>`, singlePart: kind === 0, attachments: [attachment] }));
  }
  return out;
}
