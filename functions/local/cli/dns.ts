/**
 * `mailhealth dns [DOMAIN...] [--selector NAME]... [--ip ADDR]... [--dnsbl ZONE]...
 * [--dns-server HOST[:PORT]] [--json]`: a sending domain's published mail authentication (SPF,
 * DMARC, DKIM keys, MX) and a sending server's reverse DNS and blocklist listings, as the
 * receivers that decide whether mail arrives read them. Exit codes like `check`: 0 OK,
 * 1 WARNING, 2 CRITICAL, 3 UNKNOWN (bad usage, or DNS that could not answer).
 */
import { createDnsLookup, parseDnsServer } from '#adapters/dns-client.ts';
import { lookupName } from '#core/auth/dns.ts';
import { checkDomain, type DomainReport } from '#core/auth/domain.ts';
import { canonicalIp } from '#core/auth/ip-text.ts';
import { checkSendingIp, DEFAULT_DNSBL_ZONES, type IpReport } from '#core/auth/ip.ts';
import { UsageError } from '#core/errors.ts';
import { exitCodeOf, worstStatus, type Finding, type Language, type Status } from '#core/findings.ts';
import type { DnsLookup } from '#core/ports.ts';
import { parseCommandArgs, usageLine } from './commands.ts';
import { FINDING_LABELS, type FindingLabels } from './finding-labels.ts';
import { languageFromEnv, styler, writeJson, type CliIO, type Command } from './io.ts';

const USAGE = usageLine('dns');

/** What the command needs from outside; tests point it at their own DNS server instead. */
export interface DnsCommandDeps {
  /** Builds the lookup from `--dns-server` (undefined: the system's resolvers). @default createDnsLookup */
  readonly lookup?: (servers: readonly string[] | undefined) => DnsLookup;
}

interface DnsArgs {
  readonly domains: readonly string[];
  readonly selectors: readonly string[];
  readonly ips: readonly string[];
  readonly dnsbl: readonly string[] | undefined;
  readonly server: string | undefined;
  readonly json: boolean;
}

function parse(argv: readonly string[]): DnsArgs {
  const { values: options, positionals } = parseCommandArgs('dns', argv, { allowPositionals: true });
  const ips = options.texts('ip');
  if (positionals.length === 0 && ips.length === 0) throw new UsageError(`dns needs a domain or --ip ADDR\n${USAGE}`);
  const domains = positionals.map((d) => {
    const name = lookupName(d);
    if (name === null || name.includes('@') || !name.includes('.')) throw new UsageError(`not a domain name: "${d}" (give the part after @ of your sending address, e.g. example.jp)\n${USAGE}`);
    return name;
  });
  for (const ip of ips) if (canonicalIp(ip) === null) throw new UsageError(`not an IP address: "${ip}" (e.g. --ip 192.0.2.25)\n${USAGE}`);
  const selectors = options.texts('selector').map((s) => {
    if (!/^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/i.test(s)) throw new UsageError(`not a DKIM selector: "${s}" (the s= of your DKIM signature, e.g. --selector mail2025)\n${USAGE}`);
    return s;
  });
  const zones = options.texts('dnsbl');
  const dnsbl = (zones.length > 0 ? zones : undefined)?.map((z) => {
    const name = lookupName(z);
    if (name === null || !name.includes('.')) throw new UsageError(`not a blocklist zone: "${z}" (e.g. --dnsbl zen.spamhaus.org)\n${USAGE}`);
    return name;
  });
  const server = options.text('dns-server');
  if (server !== undefined) {
    try {
      parseDnsServer(server);
    } catch (err) {
      throw new UsageError(`--dns-server: ${(err as Error).message}\n${USAGE}`, { cause: err });
    }
  }
  if (dnsbl !== undefined && ips.length === 0) throw new UsageError(`--dnsbl goes with --ip ADDR (the blocklists are asked about an address)\n${USAGE}`);
  return { domains, selectors, ips, dnsbl, server, json: options.flag('json') };
}

function findingJson(f: Finding) {
  return { code: f.code, severity: f.severity, message: f.message, remedy: f.remedy };
}

/** The `dns --json` document exactly as docs/REFERENCE.md documents it. */
export function dnsJson(report: { status: Status; domains: readonly DomainReport[]; ips: readonly IpReport[] }): unknown {
  return {
    status: report.status,
    domains: report.domains.map((d) => ({ domain: d.domain, status: d.status, records: d.records, findings: d.findings.map(findingJson) })),
    ips: report.ips.map((i) => ({ ip: i.ip, status: i.status, records: i.records, findings: i.findings.map(findingJson) })),
  };
}

const LABELS: Record<Language, FindingLabels & { lookups: string; missing: string; notListed: string; listed: string; unavailable: string; confirmed: string; notConfirmed: string; nullMx: string; revoked: string; unchecked: string; partlyUnchecked: string; foundAt: string }> = {
  en: {
    ...FINDING_LABELS.en,
    lookups: '%d of 10 DNS lookups',
    missing: '(none)',
    notListed: 'not listed',
    listed: 'LISTED',
    unavailable: 'no answer',
    confirmed: 'resolves back',
    notConfirmed: 'does not resolve back',
    nullMx: 'null MX: receives no mail',
    revoked: 'revoked',
    unchecked: 'not checked',
    partlyUnchecked: 'Not everything could be checked: a DNS lookup failed (the records marked "not checked"), so nothing is known about them yet. Check the DNS server (--dns-server) and run again.',
    foundAt: 'from',
  },
  ja: {
    ...FINDING_LABELS.ja,
    lookups: 'DNS 参照 %d 回（上限 10）',
    missing: '（なし）',
    notListed: '掲載なし',
    listed: '掲載あり',
    unavailable: '応答なし',
    confirmed: '正引き一致',
    notConfirmed: '正引き不一致',
    nullMx: 'null MX（受信しない）',
    revoked: '失効',
    unchecked: '未確認',
    partlyUnchecked: 'すべては確認できませんでした。DNS の問い合わせに失敗した項目（「未確認」）については、まだ何もわかっていません。DNS サーバー（--dns-server）を確認して、もう一度実行してください。',
    foundAt: '参照元',
  },
};

const REPORTS: Record<Language, { authorized: string; unauthorized: string }> = {
  en: { authorized: 'authorised by the receiving domain', unauthorized: 'not authorised: no reports arrive' },
  ja: { authorized: '受信側ドメインが許可済み', unauthorized: '許可なし: レポートは届きません' },
};

type Style = ReturnType<typeof styler>;

function statusColour(s: Style, status: Status): (t: string) => string {
  return status === 'ok' ? s.green : status === 'warning' ? s.yellow : s.red;
}

function findingLines(findings: readonly Finding[], status: Status, lang: Language, s: Style): string[] {
  const L = LABELS[lang];
  // A lookup that failed leaves its record unknown: "no problems" would claim what was not checked.
  const unchecked = status === 'unknown' ? [`  ${s.yellow(L.partlyUnchecked)}`] : [];
  if (findings.length === 0) return unchecked.length ? unchecked : [`  ${s.green(L.none)}`];
  const out = [...unchecked, `  ${s.bold(L.findings)}`];
  for (const f of findings) {
    const colour = f.severity === 'critical' ? s.red : f.severity === 'warning' ? s.yellow : s.cyan;
    out.push(`  ${colour(`[${L.severity[f.severity]}]`)} ${s.bold(f.code)}`, `    ${f.message[lang]}`, `    ${s.cyan('→')} ${L.remedy} ${f.remedy[lang]}`);
  }
  return out;
}

function formatDomain(d: DomainReport, lang: Language, s: Style): string {
  const L = LABELS[lang];
  const r = d.records;
  const out = [`${s.bold(d.domain)}  ${statusColour(s, d.status)(L.status[d.status])}`];
  const spf = r.spf.error ? s.yellow(`${L.unchecked}: ${r.spf.error}`) : r.spf.records.length === 0 ? s.dim(L.missing) : `${r.spf.records.join(' | ')}  ${s.dim(`(${L.lookups.replace('%d', String(r.spf.lookups))})`)}`;
  out.push(`  SPF    ${spf}`);
  const dmarc = r.dmarc.error
    ? s.yellow(`${L.unchecked}: ${r.dmarc.error}`)
    : r.dmarc.record === null
      ? s.dim(L.missing)
      : `${r.dmarc.record}${r.dmarc.foundAt && r.dmarc.foundAt !== d.domain ? s.dim(`  (${L.foundAt} _dmarc.${r.dmarc.foundAt})`) : ''}`;
  out.push(`  DMARC  ${dmarc}`);
  // Where the reports go, and whether the other domain lets them go there (RFC 7489 §7.1).
  for (const d of r.dmarc.reports ?? []) {
    const verdict = !d.external ? '' : d.authorized === true ? s.green(`  ✓ ${REPORTS[lang].authorized} (${d.recordName})`) : d.authorized === false ? s.red(`  ✗ ${REPORTS[lang].unauthorized} (${d.recordName})`) : s.yellow(`  ${L.unchecked} (${d.recordName})`);
    out.push(`  ${d.tag.padEnd(5)}  ${d.address}${verdict}`);
  }
  for (const [selector, key] of Object.entries(r.dkim ?? {})) {
    const text = key.error
      ? s.yellow(`${L.unchecked}: ${key.error}`)
      : key.record === null
        ? s.dim(L.missing)
        : key.revoked
          ? s.red(L.revoked)
          : key.keyType
            ? `${key.keyType}${key.bits ? ` ${key.bits} bits` : ''}`
            : key.record.slice(0, 60);
    out.push(`  DKIM   ${selector}: ${text}`);
  }
  const mx = r.mx.error
    ? s.yellow(`${L.unchecked}: ${r.mx.error}`)
    : r.mx.nullMx
      ? s.red(L.nullMx)
      : r.mx.exchanges.length === 0
        ? s.dim(L.missing)
        : r.mx.exchanges.map((m) => `${m.priority} ${m.exchange}`).join(' · ');
  out.push(`  MX     ${mx}`, '');
  out.push(...findingLines(d.findings, d.status, lang, s));
  return out.join('\n');
}

function formatIp(i: IpReport, lang: Language, s: Style): string {
  const L = LABELS[lang];
  const out = [`${s.bold(i.ip)}  ${statusColour(s, i.status)(L.status[i.status])}`];
  const ptr = i.records.ptr;
  const ptrText = ptr.error
    ? s.yellow(`${L.unchecked}: ${ptr.error}`)
    : ptr.names.length === 0
      ? s.red(L.missing)
      : `${ptr.names.join(', ')}  ${ptr.confirmed ? s.green(`✓ ${L.confirmed}`) : s.yellow(`✗ ${L.notConfirmed}`)}`;
  out.push(`  PTR    ${ptrText}`);
  for (const l of i.records.dnsbl) {
    const verdict = l.listed === null ? s.dim(`${L.unavailable}${l.error ? ` (${l.error})` : ''}`) : l.listed ? s.red(`${L.listed} ${l.codes.join(', ')}`) : s.green(L.notListed);
    out.push(`  DNSBL  ${l.zone}: ${verdict}`);
  }
  out.push('');
  out.push(...findingLines(i.findings, i.status, lang, s));
  return out.join('\n');
}

/** Builds the `dns` command; `dnsCommand` is this with the real DNS client. */
export function createDnsCommand(deps: DnsCommandDeps = {}): Command {
  return async (argv, io: CliIO) => {
    const args = parse(argv);
    const servers = args.server === undefined ? undefined : [args.server];
    const lookup = (deps.lookup ?? ((s) => createDnsLookup(s ? { servers: s } : {})))(servers);
    const [domains, ips] = await Promise.all([
      Promise.all(args.domains.map((d) => checkDomain(d, { selectors: args.selectors }, { lookup }))),
      Promise.all(args.ips.map((ip) => checkSendingIp(ip, { dnsbl: args.dnsbl ?? DEFAULT_DNSBL_ZONES }, { lookup }))),
    ]);
    const status = worstStatus([...domains.map((d) => d.status), ...ips.map((i) => i.status)]);
    if (args.json) writeJson(io, dnsJson({ status, domains, ips }));
    else {
      const lang = languageFromEnv(io.env);
      const s = styler(io);
      const blocks = [...domains.map((d) => formatDomain(d, lang, s)), ...ips.map((i) => formatIp(i, lang, s))];
      const L = LABELS[lang];
      io.stdout.write(`${blocks.join('\n\n')}\n\n${s.bold(`${L.overall}: ${statusColour(s, status)(L.status[status])} (exit ${exitCodeOf(status)})`)}\n`);
    }
    return exitCodeOf(status);
  };
}

/** `mailhealth dns [DOMAIN...] [--selector NAME]... [--ip ADDR]... [--dnsbl ZONE]... [--dns-server HOST[:PORT]] [--json]`. */
export const dnsCommand: Command = createDnsCommand();
