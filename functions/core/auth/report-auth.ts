/**
 * Where a domain's DMARC reports go, and whether they may go there. A `rua=`/`ruf=` address at
 * another organisation's domain (the monitor's bounce domain, a reporting service) receives
 * reports only when that domain publishes `<domain>._report._dmarc.<destination>` TXT
 * "v=DMARC1" (RFC 7489 §7.1): receivers check it and send nothing otherwise, without a word.
 */
import type { Finding } from '../findings.ts';
import type { DnsLookup } from '../resolver.ts';
import { fetchRecords, lookupName, txtText, type DnsTrouble } from './dns.ts';
import { parseDmarc } from './dmarc.ts';

/** One report destination of a DMARC record. */
export interface ReportDestination {
  /** `rua` (aggregate) or `ruf` (failure). */
  readonly tag: 'rua' | 'ruf';
  readonly address: string;
  readonly domain: string;
  /** At another organisation's domain: it must authorise the reports. */
  readonly external: boolean;
  /** The authorisation record's name (external destinations). */
  readonly recordName: string | null;
  /** Whether that record says v=DMARC1; null when not external or DNS did not answer. */
  readonly authorized: boolean | null;
}

// Second-level labels under which country TLDs register names (co.jp, ne.jp, co.uk, …).
const SECOND_LEVEL = new Set(['co', 'ne', 'or', 'ac', 'go', 'ad', 'ed', 'gr', 'lg', 'com', 'net', 'org', 'edu', 'gov']);

/** The organisational domain, as far as it can be told without the public suffix list. */
function organisational(domain: string): string {
  const labels = domain.split('.');
  const n = labels.length >= 3 && labels.at(-1)!.length === 2 && SECOND_LEVEL.has(labels.at(-2)!) ? 3 : 2;
  return labels.slice(-n).join('.');
}

/** The mailto: destinations of a DMARC record. */
export function reportDestinations(record: string): { tag: 'rua' | 'ruf'; address: string; domain: string }[] {
  const parsed = parseDmarc(record);
  if (!parsed.ok) return [];
  const out: { tag: 'rua' | 'ruf'; address: string; domain: string }[] = [];
  for (const tag of ['rua', 'ruf'] as const) {
    for (const uri of (parsed.tags[tag] ?? '').split(',')) {
      const m = /^\s*mailto:([^!\s]+)/i.exec(uri);
      const address = m?.[1] ? decodeURIComponent(m[1]) : null;
      const domain = address ? lookupName(address.slice(address.lastIndexOf('@') + 1)) : null;
      if (address && domain) out.push({ tag, address, domain });
    }
  }
  return out;
}

/**
 * Checks the report destinations of a domain's DMARC record: every destination at another
 * organisation's domain needs its authorisation record.
 * @example (await checkReportDestinations('example.jp', 'v=DMARC1; p=none; rua=mailto:dmarc@bounces.monitor.example', { lookup })).destinations[0].authorized // true
 */
export async function checkReportDestinations(domain: string, record: string | null, deps: { readonly lookup: DnsLookup }): Promise<{ destinations: ReportDestination[]; troubles: DnsTrouble[] }> {
  if (record === null) return { destinations: [], troubles: [] };
  const troubles: DnsTrouble[] = [];
  const destinations: ReportDestination[] = [];
  for (const d of reportDestinations(record)) {
    const external = organisational(d.domain) !== organisational(domain);
    if (!external) {
      destinations.push({ ...d, external, recordName: null, authorized: null });
      continue;
    }
    const recordName = `${domain}._report._dmarc.${d.domain}`;
    const txt = await fetchRecords(deps.lookup, recordName, 'TXT');
    if (txt.kind === 'error') troubles.push({ name: recordName, type: 'TXT', code: txt.code });
    const authorized = txt.kind === 'error' ? null : txt.kind === 'records' && txt.records.map(txtText).some((t) => /^\s*v\s*=\s*DMARC1\s*(;|$)/i.test(t));
    destinations.push({ ...d, external, recordName, authorized });
  }
  return { destinations, troubles };
}

/**
 * DMARC_REPORT_UNAUTHORIZED for each external destination whose authorisation record is missing.
 * @example reportDestinationFindings('example.jp', destinations).map((f) => f.code) // ['DMARC_REPORT_UNAUTHORIZED']
 */
export function reportDestinationFindings(domain: string, destinations: readonly ReportDestination[]): Finding[] {
  return destinations
    .filter((d) => d.external && d.authorized === false)
    .map((d) => ({
      code: 'DMARC_REPORT_UNAUTHORIZED' as const,
      severity: 'warning' as const,
      message: {
        en: `The DMARC record of ${domain} sends its ${d.tag === 'rua' ? 'aggregate' : 'failure'} reports to ${d.address}, at another domain, and ${d.domain} does not authorise them (no TXT "v=DMARC1" at ${d.recordName}): receivers send those reports nowhere.`,
        ja: `${domain} の DMARC レコードは${d.tag === 'rua' ? '集計' : '失敗'}レポートを別ドメインの ${d.address} に送るよう指定していますが、${d.domain} 側の許可（${d.recordName} の TXT「v=DMARC1」）がありません。受信側はこのレポートを送りません。`,
      },
      remedy: {
        en: `Publish TXT "v=DMARC1" at ${d.recordName} (in the DNS of ${d.domain}), or send the reports to an address at ${domain}.`,
        ja: `${d.domain} の DNS に ${d.recordName} の TXT レコード「v=DMARC1」を登録するか、${domain} のアドレスにレポートを送るようにしてください。`,
      },
    }));
}
