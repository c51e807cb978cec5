/**
 * The report's "DMARC and TLS reports" section: per domain the receivers report on, its target,
 * the DMARC pass rate per day (bars, newest last), its senders (the domain's own mail and the
 * others, with messages and how many passed), TLS sessions, and what the latest reports found.
 * Read from the state directory's DMARC store (`<state>/dmarc/`); the findings' texts and
 * remedies are in the alerts and in `mailhealth dmarc`.
 */
import { createDmarcFileStore } from '#adapters/dmarc-file-store.ts';
import type { DmarcReportRecord } from '#core/dmarc/record.ts';
import type { Language } from '#core/findings.ts';
import { barChartSvg, esc, TONE_COLOURS } from './svg.ts';

/** One domain of the section. */
export interface DmarcDomainView {
  readonly domain: string;
  readonly target: string | null;
  /** Oldest first. */
  readonly days: readonly { readonly day: string; readonly messages: number; readonly passed: number }[];
  /** Known first, then the busiest. */
  readonly senders: readonly { readonly sender: string; readonly known: boolean; readonly messages: number; readonly passed: number }[];
  readonly tls: { readonly successful: number; readonly failed: number } | null;
  /** Finding codes of the reports of the latest day, worst first. */
  readonly latestFindings: readonly string[];
  readonly reports: number;
  readonly reporters: readonly string[];
}

// The days and reports a domain shows: a month of reports from a handful of receivers.
const DAYS_SHOWN = 30;
const RECORDS_READ = 400;
const SENDERS_SHOWN = 12;

/**
 * Reads the section's data from a state directory; empty when no report was ever read.
 * @example const domains = await collectDmarcSection('.mailhealth');
 */
export async function collectDmarcSection(stateDir: string): Promise<DmarcDomainView[]> {
  const store = createDmarcFileStore({ dir: stateDir });
  const out: DmarcDomainView[] = [];
  for (const domain of await store.listDomains()) out.push(viewOf(domain, await store.listReports(domain, RECORDS_READ)));
  return out.sort((a, b) => Number(b.target !== null) - Number(a.target !== null) || a.domain.localeCompare(b.domain));
}

function viewOf(domain: string, records: readonly DmarcReportRecord[]): DmarcDomainView {
  const days = new Map<string, { messages: number; passed: number }>();
  const senders = new Map<string, { sender: string; known: boolean; messages: number; passed: number }>();
  const tlsCount = { successful: 0, failed: 0, reports: 0 };
  for (const r of records) {
    if (r.kind === 'dmarc') {
      const d = days.get(r.day) ?? days.set(r.day, { messages: 0, passed: 0 }).get(r.day)!;
      d.messages += r.messages;
      d.passed += r.passed;
      for (const s of r.sources) {
        const acc = senders.get(s.sender) ?? senders.set(s.sender, { sender: s.sender, known: false, messages: 0, passed: 0 }).get(s.sender)!;
        acc.known ||= s.known;
        acc.messages += s.count;
        if (s.dmarc === 'pass') acc.passed += s.count;
      }
    } else if (r.tls) {
      tlsCount.successful += r.tls.successful;
      tlsCount.failed += r.tls.failed;
      tlsCount.reports++;
    }
  }
  const latestDay = records[0]?.day ?? '';
  const rank = { critical: 0, warning: 1, info: 2 } as const;
  const latestFindings = [...new Set(records.filter((r) => r.day === latestDay).flatMap((r) => r.findings).sort((a, b) => rank[a.severity] - rank[b.severity]).map((f) => f.code))];
  return {
    domain,
    target: records.find((r) => r.target !== null)?.target ?? null,
    days: [...days.entries()].sort(([a], [b]) => a.localeCompare(b)).slice(-DAYS_SHOWN).map(([day, d]) => ({ day, ...d })),
    senders: [...senders.values()].sort((a, b) => Number(b.known) - Number(a.known) || b.messages - a.messages).slice(0, SENDERS_SHOWN),
    tls: tlsCount.reports > 0 ? { successful: tlsCount.successful, failed: tlsCount.failed } : null,
    latestFindings,
    reports: records.length,
    reporters: [...new Set(records.map((r) => r.org))].sort(),
  };
}

const T = {
  heading: { en: 'DMARC and TLS reports (who sends as your domains)', ja: 'DMARC・TLS レポート（あなたのドメインを名乗って送っているのは誰か）' },
  help: {
    en: "What receivers reported about each domain: the share of its mail that passed DMARC per day, the senders of your own mail (they passed before) and the others, and TLS sessions to your mail servers. Run `mailhealth dmarc` on the report files for every source and what to do.",
    ja: '受信側が各ドメインについて報告した内容です。日ごとの DMARC 合格率、自社のメールの送信元（以前合格したもの）とその他、メールサーバーへの TLS 接続。送信元の詳細と対処方法は `mailhealth dmarc` で確認できます。',
  },
  noTarget: { en: 'not a target: shown, never alerted', ja: '監視対象外（表示のみ、通知なし）' },
  own: { en: 'your own mail', ja: '自社のメール' },
  other: { en: 'others', ja: 'その他' },
  reports: { en: 'reports', ja: '件のレポート' },
  tls: { en: 'TLS sessions', ja: 'TLS 接続' },
  failed: { en: 'failed', ja: '失敗' },
  latest: { en: 'Latest day', ja: '最新日' },
  clean: { en: 'all passed', ja: 'すべて合格' },
} as const;

/**
 * The section's HTML; empty when there is nothing to show.
 * @example dmarcSection(await collectDmarcSection(stateDir), 'en')
 */
export function dmarcSection(domains: readonly DmarcDomainView[], lang: Language): string {
  if (domains.length === 0) return '';
  const blocks = domains.map((d) => {
    const bars = d.days.map((day) => {
      const share = day.messages > 0 ? day.passed / day.messages : 1;
      return { label: `${day.day} (${day.passed}/${day.messages})`, value: Math.round(share * 100), colour: share >= 1 ? TONE_COLOURS.ok : share >= 0.9 ? TONE_COLOURS.warning : TONE_COLOURS.critical };
    });
    const senders = d.senders
      .map((s) => `<tr><td>${esc(s.sender)}</td><td>${esc(s.known ? T.own[lang] : T.other[lang])}</td><td class="num">${s.messages}</td><td class="num">${s.passed}</td></tr>`)
      .join('');
    const findings = d.latestFindings.length > 0 ? d.latestFindings.map((c) => `<span class="badge tone-${c === 'DMARC_REPORT_UNKNOWN_SOURCE' ? 'warning' : 'critical'}">${esc(c)}</span>`).join(' ') : `<span class="badge tone-ok">${esc(T.clean[lang])}</span>`;
    const tls = d.tls ? `<p>${esc(`${T.tls[lang]}: ${d.tls.successful + d.tls.failed}, ${T.failed[lang]} ${d.tls.failed}`)}</p>` : '';
    const who = d.target ? esc(d.target) : `<span class="muted">${esc(T.noTarget[lang])}</span>`;
    return `<article class="dmarc-domain" data-domain="${esc(d.domain)}"><h3>${esc(d.domain)} · ${who}</h3><p class="muted">${esc(`${d.reports} ${T.reports[lang]} · ${d.reporters.join(', ')}`)}</p><p>${esc(T.latest[lang])}: ${findings}</p>${bars.length > 0 ? barChartSvg(bars, `${d.domain} DMARC %`) : ''}${senders ? `<div class="scroll"><table><thead><tr><th>${lang === 'ja' ? '送信元' : 'Sender'}</th><th></th><th>${lang === 'ja' ? 'メール数' : 'Messages'}</th><th>${lang === 'ja' ? '合格' : 'Passed'}</th></tr></thead><tbody>${senders}</tbody></table></div>` : ''}${tls}</article>`;
  });
  return `<section id="dmarc"><h2>${esc(T.heading[lang])}</h2><p class="muted">${esc(T.help[lang])}</p>${blocks.join('')}</section>`;
}

/** What `mailhealth status` shows of a target's DMARC and TLS reports. */
export interface DmarcStatusCell {
  /** Its domains with reports. */
  readonly domains: readonly string[];
  /** The latest report day among them. */
  readonly day: string | null;
  /** The finding codes of that day's reports, worst first (empty: all passed). */
  readonly findings: readonly string[];
}

/**
 * Per target, its reports' latest findings (targets without reports are absent).
 * @example (await dmarcStatusByTarget('.mailhealth')).get('shop') // { domains: ['example.jp'], day: '2026-03-02', findings: ['DMARC_REPORT_FAIL'] }
 */
export async function dmarcStatusByTarget(stateDir: string): Promise<Map<string, DmarcStatusCell>> {
  const out = new Map<string, DmarcStatusCell>();
  const store = createDmarcFileStore({ dir: stateDir });
  for (const domain of await store.listDomains()) {
    const [latest] = await store.listReports(domain, 1);
    if (!latest?.target) continue;
    const sameDay = (await store.listReports(domain, 50)).filter((r) => r.day === latest.day);
    const findings = viewOf(domain, sameDay).latestFindings;
    const prev = out.get(latest.target);
    const day = prev?.day && prev.day > latest.day ? prev.day : latest.day;
    out.set(latest.target, { domains: [...(prev?.domains ?? []), domain], day, findings: [...new Set([...(prev?.findings ?? []), ...findings])] });
  }
  return out;
}
