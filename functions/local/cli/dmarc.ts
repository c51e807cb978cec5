/**
 * `mailhealth dmarc FILE_OR_DIR...|- [--json] [--domain D] [--state DIR] [--dns-server HOST[:PORT]] [--no-ptr]`:
 * read DMARC aggregate reports (.xml, .xml.gz, .zip) and SMTP TLS reports (.json, .json.gz), or
 * the mails that carried them (.eml), and say per domain who sends as it and whether it passes:
 * every source with its reverse name and organisation, the domain's own mail apart from the
 * others, the findings with what to do, and the DMARC policy to publish next.
 * Exit codes: 0 all pass, 1 failures from unknown sources only (or TLS failures),
 * 2 a source of the domain's own mail fails, 3 bad usage or no input could be read (a file
 * that cannot be read is listed with its error; the others are still read).
 */
import { existsSync } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import { basename, join, relative, resolve } from 'node:path';
import { createDnsLookup, parseDnsServer } from '#adapters/dns-client.ts';
import { createDmarcFileStore } from '#adapters/dmarc-file-store.ts';
import { packingOf } from '#adapters/report-archive.ts';
import { readReportFile, readReportMail, type ReadReport } from '#adapters/report-reader.ts';
import { lookupName } from '#core/auth/dns.ts';
import { reportDomains, type ParsedReport } from '#core/dmarc/model.ts';
import { DEFAULT_REPORT_LIMITS, problem, type ReportProblem } from '#core/dmarc/problems.ts';
import { reverseNames } from '#core/dmarc/ptr.ts';
import { knownKeys } from '#core/dmarc/state.ts';
import { summarizeReports, type DomainSummary } from '#core/dmarc/summary.ts';
import { UsageError } from '#core/errors.ts';
import { exitCodeOf, worstStatus, type Finding, type Language, type Status } from '#core/findings.ts';
import type { DnsLookup } from '#core/ports.ts';
import { parseCommandArgs, usageLine } from './commands.ts';
import { FINDING_LABELS } from './finding-labels.ts';
import { languageFromEnv, padDisplay, styler, writeJson, type CliIO, type Command } from './io.ts';

const USAGE = usageLine('dmarc');
// What a folder is searched for: report files and saved report mails.
const REPORT_FILE = /\.(xml|gz|gzip|zip|json|eml)$/i;
// Folders deeper than this are not searched (a symlink loop, or the wrong folder given).
const MAX_DIR_DEPTH = 8;

/** What the command needs from outside; tests point it at their own DNS server. */
export interface DmarcCommandDeps {
  /** Builds the lookup from `--dns-server` (undefined: the system's resolvers). @default createDnsLookup */
  readonly lookup?: (servers: readonly string[] | undefined) => DnsLookup;
  /** @default the real time */
  readonly now?: () => Date;
}

/** One input as the `reports` list of `--json` shows it. */
interface ReportEntry {
  readonly file: string;
  readonly report: ParsedReport | null;
  readonly problem: ReportProblem | null;
}

interface Input {
  readonly name: string;
  readonly path: string | null;
}

async function walk(dir: string, depth: number): Promise<string[]> {
  if (depth > MAX_DIR_DEPTH) return [];
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const out: string[] = [];
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const path = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(path, depth + 1)));
    else if (e.isFile() && REPORT_FILE.test(e.name)) out.push(path);
  }
  return out;
}

/** Reads at most `max` bytes of a file; null when it is larger (never reads a gigabyte to refuse it). */
async function readBounded(path: string, max: number): Promise<Uint8Array | null> {
  const fh = await open(path, 'r');
  try {
    const size = (await fh.stat()).size;
    if (size > max) return null;
    const buf = Buffer.alloc(size);
    let at = 0;
    while (at < size) {
      const { bytesRead } = await fh.read(buf, at, size - at, at);
      if (bytesRead === 0) break;
      at += bytesRead;
    }
    return buf.subarray(0, at);
  } finally {
    await fh.close();
  }
}

async function readStdin(io: CliIO, max: number): Promise<Uint8Array | null> {
  if (!io.stdin) return new Uint8Array();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of io.stdin) {
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += b.length;
    if (size > max) return null;
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

/** A saved mail rather than a report file: header lines at the start. */
function looksLikeMail(bytes: Uint8Array): boolean {
  if (packingOf(bytes) !== 'none') return false;
  const head = Buffer.from(bytes.subarray(0, 2000)).toString('latin1');
  return /^(?:[A-Za-z][A-Za-z0-9-]*:[^\r\n]*\r?\n)+/.test(head) && !/^\s*[<{]/.test(head);
}

async function readInput(bytes: Uint8Array, name: string, now: Date): Promise<{ reports: readonly ReadReport[]; problems: readonly { name: string; problem: ReportProblem }[] }> {
  if (looksLikeMail(bytes)) {
    const got = await readReportMail(bytes, { now, bounceDomain: null, name });
    return got ?? { reports: [], problems: [{ name, problem: problem('NOT_A_REPORT', `${name} is a mail that carries no report file`) }] };
  }
  return readReportFile(bytes, name, { now });
}

function findingJson(f: Finding) {
  return { code: f.code, severity: f.severity, message: f.message, remedy: f.remedy };
}

/** The `dmarc --json` document, with the extra fields the summary has. */
export function dmarcJson(status: Status, entries: readonly ReportEntry[], domains: readonly DomainSummary[]): unknown {
  return {
    status,
    reports: entries.map((e) => {
      const r = e.report;
      if (!r) return { file: e.file, kind: /\.json(\.gz)?$/i.test(e.file) ? 'tlsrpt' : 'dmarc', org: null, reportId: null, domain: null, begin: null, end: null, error: e.problem?.message ?? 'unreadable', code: e.problem?.code ?? 'UNREADABLE' };
      return { file: e.file, kind: r.kind, org: r.org, reportId: r.reportId, domain: reportDomains(r)[0] ?? null, begin: r.begin, end: r.end, ...(r.kind === 'dmarc' && r.skipped.length > 0 ? { skipped: r.skipped } : {}) };
    }),
    domains: domains.map((d) => ({
      domain: d.domain,
      status: d.status,
      messages: d.messages,
      passed: d.passed,
      reporters: d.reporters,
      policy: d.policy,
      days: d.days,
      senders: d.senders.map((s) => ({ sender: s.sender, org: s.org, known: s.known, messages: s.messages, passed: s.passed, failed: s.failed, ips: s.ips })),
      sources: d.sources.map((s) => ({ ip: s.ip, ptr: s.ptr, org: s.org, sender: s.sender, count: s.count, spf: s.spf, dkim: s.dkim, dmarc: s.dmarc, spfAligned: s.spfAligned, dkimAligned: s.dkimAligned, disposition: s.disposition, known: s.known, forwarded: s.forwarded, days: s.days, reporters: s.reporters })),
      tls: d.tls,
      findings: d.findings.map(findingJson),
      recommendation: d.recommendation,
    })),
  };
}

const TEXT = {
  en: {
    messages: (n: number, p: number) => `${n} messages, ${p} passed DMARC${n > 0 ? ` (${Math.round((p / n) * 100)}%)` : ''}`,
    own: 'Your own mail (senders that passed DMARC)',
    others: 'Others (never passed: forgery, or a service not set up)',
    day: 'day',
    msgs: 'messages',
    passed: 'passed',
    tls: (ok: number, failed: number) => `TLS sessions to your mail servers: ${ok + failed}, failed ${failed}`,
    policy: 'DMARC policy',
    reports: (read: number, bad: number) => `Reports: ${read} read${bad > 0 ? `, ${bad} not readable` : ''}`,
    forwarded: 'forwarded',
    none: 'No report about this domain.',
  },
  ja: {
    messages: (n: number, p: number) => `メール ${n} 通、DMARC 合格 ${p} 通${n > 0 ? `（${Math.round((p / n) * 100)}%）` : ''}`,
    own: '自社のメール（DMARC に合格したことのある送信元）',
    others: 'その他（一度も合格していない: なりすまし、または未設定のサービス）',
    day: '日付',
    msgs: 'メール数',
    passed: '合格',
    tls: (ok: number, failed: number) => `メールサーバーへの TLS 接続: ${ok + failed} 回、失敗 ${failed} 回`,
    policy: 'DMARC ポリシー',
    reports: (read: number, bad: number) => `レポート: ${read} 件読み込み${bad > 0 ? `、${bad} 件読めず` : ''}`,
    forwarded: '転送',
    none: 'このドメインのレポートはありません。',
  },
} as const;

type Style = ReturnType<typeof styler>;

function formatDomain(d: DomainSummary, lang: Language, s: Style): string {
  const T = TEXT[lang];
  const L = FINDING_LABELS[lang];
  const colour = d.status === 'ok' ? s.green : d.status === 'warning' ? s.yellow : s.red;
  const period = d.days.length > 0 ? ` · ${d.days[0]!.day}${d.days.length > 1 ? ` – ${d.days.at(-1)!.day}` : ''}` : '';
  const out = [`${s.bold(d.domain)}  ${colour(L.status[d.status])}`, `  ${T.messages(d.messages, d.passed)}${d.policy?.p ? ` · p=${d.policy.p}` : ''}${period} · ${d.reporters.join(', ')}`];
  if (d.days.length > 1) {
    out.push(`  ${s.dim(`${T.day.padEnd(10)}  ${T.msgs.padStart(8)}  ${T.passed.padStart(8)}`)}`);
    for (const day of d.days) {
      const share = day.messages > 0 ? day.passed / day.messages : 1;
      const bar = '█'.repeat(Math.round(share * 20)) + '░'.repeat(20 - Math.round(share * 20));
      out.push(`  ${day.day}  ${String(day.messages).padStart(8)}  ${String(day.passed).padStart(8)}  ${share < 1 ? s.yellow(bar) : s.green(bar)}`);
    }
  }
  const line = (x: DomainSummary['sources'][number]) => {
    const mark = x.dmarc === 'pass' ? s.green('✓') : x.forwarded ? s.dim('↪') : s.red('✗');
    const aligned = x.dmarc === 'pass' ? `DMARC pass (${[x.spfAligned && 'SPF', x.dkimAligned && 'DKIM'].filter(Boolean).join('+')})` : `DMARC fail${x.forwarded ? ` (${T.forwarded})` : ''}`;
    return `    ${mark} ${padDisplay(x.sender, 18)} ${padDisplay(x.ip, 25)} ${padDisplay(x.ptr ?? '-', 40)} ${String(x.count).padStart(6)}  SPF ${x.spf}  DKIM ${x.dkim}  ${aligned}${x.disposition !== 'none' ? `  ${x.disposition}` : ''}`;
  };
  const own = d.sources.filter((x) => x.known);
  const others = d.sources.filter((x) => !x.known);
  if (own.length > 0) out.push(`  ${s.bold(T.own)}`, ...own.map(line));
  if (others.length > 0) out.push(`  ${s.bold(T.others)}`, ...others.map(line));
  if (d.tls) {
    out.push(`  ${T.tls(d.tls.successful, d.tls.failed)}`);
    for (const f of d.tls.failures.slice(0, 5)) out.push(`    ${s.red('✗')} ${f.resultType}${f.mx ? ` @ ${f.mx}` : ''}: ${f.count}`);
  }
  if (d.findings.length === 0) out.push(`  ${s.green(L.none)}`);
  else {
    out.push(`  ${s.bold(L.findings)}`);
    for (const f of d.findings) {
      const c = f.severity === 'critical' ? s.red : f.severity === 'warning' ? s.yellow : s.cyan;
      out.push(`  ${c(`[${L.severity[f.severity]}]`)} ${s.bold(f.code)}`, `    ${f.message[lang]}`, `    ${s.cyan('→')} ${L.remedy} ${f.remedy[lang]}`);
    }
  }
  if (d.recommendation) out.push(`  ${s.bold(T.policy)}: p=${d.recommendation.current} → p=${d.recommendation.suggested}`, `    ${d.recommendation.message[lang]}`);
  return out.join('\n');
}

/** Builds the `dmarc` command; `dmarcCommand` is this with the real DNS client and clock. */
export function createDmarcCommand(deps: DmarcCommandDeps = {}): Command {
  return async (argv, io: CliIO) => {
    const { values, positionals } = parseCommandArgs('dmarc', argv, { allowPositionals: true });
    if (positionals.length === 0) throw new UsageError(`dmarc: give one or more report files or folders, or - for stdin\n${USAGE}`);
    if (positionals.filter((p) => p === '-').length > 1) throw new UsageError(`dmarc: stdin (-) can be read once\n${USAGE}`);
    const domainText = values.text('domain');
    const domain = domainText === undefined ? undefined : lookupName(domainText);
    if (domain === null || (domain !== undefined && !domain.includes('.'))) throw new UsageError(`dmarc: not a domain name: "${domainText}" (e.g. --domain example.jp)\n${USAGE}`);
    const server = values.text('dns-server');
    if (server !== undefined) {
      try {
        parseDnsServer(server);
      } catch (err) {
        throw new UsageError(`dmarc: --dns-server: ${(err as Error).message}\n${USAGE}`, { cause: err });
      }
    }
    const stateText = values.text('state');
    const stateDir = stateText === undefined ? undefined : resolve(io.cwd, stateText);
    if (stateDir !== undefined && !existsSync(stateDir)) throw new UsageError(`dmarc: no state directory ${stateDir}\n${USAGE}`);
    const now = (deps.now ?? (() => new Date()))();
    const limit = DEFAULT_REPORT_LIMITS.messageBytes;

    // Inputs: files, folders (searched), stdin.
    const inputs: Input[] = [];
    const entries: ReportEntry[] = [];
    for (const p of positionals) {
      if (p === '-') {
        inputs.push({ name: '-', path: null });
        continue;
      }
      const path = resolve(io.cwd, p);
      const info = await stat(path).catch(() => null);
      if (!info) entries.push({ file: p, report: null, problem: problem('UNREADABLE', `${p}: no such file or folder`) });
      else if (info.isDirectory()) for (const f of await walk(path, 0)) inputs.push({ name: relative(io.cwd, f) || basename(f), path: f });
      else inputs.push({ name: p, path });
    }
    const reports: ParsedReport[] = [];
    for (const input of inputs) {
      let bytes: Uint8Array | null;
      try {
        bytes = input.path === null ? await readStdin(io, limit) : await readBounded(input.path, limit);
      } catch (err) {
        entries.push({ file: input.name, report: null, problem: problem('UNREADABLE', `${input.name}: ${(err as Error).message}`) });
        continue;
      }
      if (bytes === null) {
        entries.push({ file: input.name, report: null, problem: problem('TOO_LARGE', `${input.name} is larger than ${limit} bytes (the most a report mail may be)`) });
        continue;
      }
      const got = await readInput(bytes, input.name, now);
      for (const r of got.reports) {
        entries.push({ file: r.name, report: r.report, problem: null });
        reports.push(r.report);
      }
      for (const p of got.problems) entries.push({ file: p.name, report: null, problem: p.problem });
    }

    const wanted = domain === undefined ? reports : reports.filter((r) => reportDomains(r).includes(domain));
    const shown = domain === undefined ? entries : entries.filter((e) => e.report === null || reportDomains(e.report).includes(domain));
    const ips = wanted.flatMap((r) => (r.kind === 'dmarc' ? r.rows.map((x) => x.sourceIp) : []));
    const ptrs = values.flag('no-ptr') || ips.length === 0 ? new Map<string, string | null>() : await reverseNames(ips, { lookup: (deps.lookup ?? ((s) => createDnsLookup(s ? { servers: s } : {})))(server === undefined ? undefined : [server]) });
    const memory = stateDir === undefined ? null : createDmarcFileStore({ dir: stateDir });
    const known = new Map<string, Set<string>>();
    if (memory) for (const d of new Set(wanted.flatMap(reportDomains))) known.set(d, knownKeys((await memory.getDomainState(d))?.value ?? null));
    const domains = summarizeReports(wanted, { ptrOf: (ip) => ptrs.get(ip) ?? null, knownOf: (d) => known.get(d) ?? new Set() }).filter((d) => domain === undefined || d.domain === domain);

    const read = shown.filter((e) => e.report !== null).length;
    const bad = shown.length - read;
    // UNKNOWN (exit 3) only when nothing at all could be read.
    const status: Status = entries.some((e) => e.report !== null) ? worstStatus(domains.map((d) => d.status)) : 'unknown';
    if (values.flag('json')) writeJson(io, dmarcJson(status, shown, domains));
    else {
      const lang = languageFromEnv(io.env);
      const s = styler(io);
      const T = TEXT[lang];
      const blocks = domains.map((d) => formatDomain(d, lang, s));
      if (domains.length === 0 && domain !== undefined) blocks.push(`${s.bold(domain)}  ${T.none}`);
      const problems = shown.filter((e) => e.problem).map((e) => `  ${s.red('✗')} ${e.file}: ${e.problem!.code} ${e.problem!.message}`);
      const L = FINDING_LABELS[lang];
      const colour = status === 'ok' ? s.green : status === 'warning' ? s.yellow : s.red;
      io.stdout.write(`${[...blocks, [T.reports(read, bad), ...problems].join('\n')].join('\n\n')}\n\n${s.bold(`${L.overall}: ${colour(L.status[status])} (exit ${exitCodeOf(status)})`)}\n`);
    }
    return exitCodeOf(status);
  };
}

/** `mailhealth dmarc FILE_OR_DIR...|- [--json] [--domain D] [--state DIR] [--dns-server HOST[:PORT]] [--no-ptr]`. */
export const dmarcCommand: Command = createDmarcCommand();
