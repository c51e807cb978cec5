/**
 * The local report as one self-contained HTML page: inline CSS, inline SVG and one inline
 * script (the fleet table's search and filter, the targets' charts: script.ts), nothing loaded from anywhere:
 * a Content-Security-Policy says so to the browser and allows that script by its hash only.
 * It opens with the fleet table, worst first; each target's details follow (target.ts), then
 * what the whole state directory shares: bounces, authentication, alerts, kept messages,
 * retention. Pure: data in, text out. Every value from the history is escaped (`esc`),
 * including the server replies and addresses that come from outside.
 */
import { alertView } from '#core/alert/view.ts';
import { reasonText } from '#core/bounce/findings.ts';
import type { Language } from '#core/findings.ts';
import type { AlertRecord, BounceRecord } from '#core/health/records.ts';
import type { BounceReason } from '#core/results.ts';
import { authenticationSection } from './auth-section.ts';
import { dmarcSection } from './dmarc-section.ts';
import type { ReportData } from './data.ts';
import { fleetSection } from './fleet.ts';
import { badge, fillText, reportTime, type RenderOptions } from './format.ts';
import { barChartSvg, esc, TONE_COLOURS, type Bar } from './svg.ts';
import { PAGE_SCRIPT, PAGE_SCRIPT_SOURCE } from './script.ts';
import { targetsSection } from './target.ts';

export { reportTime, type RenderOptions } from './format.ts';

const T = {
  title: { en: 'mail-health report', ja: 'mail-health レポート' },
  generated: { en: 'Generated', ja: '作成日時' },
  stateDir: { en: 'State directory', ja: '状態ディレクトリ' },
  bouncesHeading: { en: 'Bounces by reason', ja: '理由別の返送（バウンス）' },
  latestBounces: { en: 'Latest bounces', ja: '最近の返送' },
  alertsHeading: { en: 'Alerts', ja: 'アラート' },
  keptHeading: { en: 'Kept messages (not understood)', ja: '保管したメッセージ（解析できなかったもの）' },
  keptHelp: {
    en: 'These arrived but are neither a bounce nor a canary that could be read. They are kept, not deleted: have a look at them.',
    ja: '受信したものの、バウンスとしてもテストメールとしても読み取れなかったメッセージです。削除せずに保管しています。内容を確認してください。',
  },
  noDataHeading: { en: 'Targets', ja: '対象' },
  noData: { en: 'No rounds recorded yet. Run `mailhealth run` (or `npm start`) first.', ja: 'まだ記録がありません。先に `mailhealth run`（または `npm start`）を実行してください。' },
  noBounces: { en: 'No bounces recorded.', ja: '返送は記録されていません。' },
  noAlerts: { en: 'No alerts raised.', ja: 'アラートはありません。' },
  unmatched: { en: '(no canary)', ja: '（該当なし）' },
  time: { en: 'Time', ja: '日時' },
  target: { en: 'Target', ja: '対象' },
  recipient: { en: 'Recipient', ja: '宛先' },
  reason: { en: 'Reason', ja: '理由' },
  status: { en: 'Status', ja: 'ステータス' },
  finding: { en: 'Finding', ja: '診断' },
  kind: { en: 'Kind', ja: '種類' },
  alert: { en: 'Alert', ja: '内容' },
  delivery: { en: 'Delivery', ja: '通知' },
  noChannel: { en: 'no channel configured', ja: '通知先なし' },
  reply: { en: 'Server reply', ja: 'サーバーの応答' },
  file: { en: 'File', ja: 'ファイル' },
  why: { en: 'Why', ja: '理由' },
  canaryBouncesHeading: { en: 'Canary bounces (the sending path)', ja: 'テストメールの返送（送信経路の状態）' },
  ownBouncesHeading: { en: "Bounces of your own mail (your list's health)", ja: '通常のメールの返送（配信リストの状態）' },
  ownBouncesHelp: {
    en: '`mailhealth suppressions` lists the addresses to stop mailing or fix (hard bounces, mailboxes that stay full), as JSON or CSV for your mailing tool.',
    ja: '配信を止めるか修正すべき宛先（存在しない宛先、容量超過が続く宛先）は `mailhealth suppressions` で一覧できます（JSON・CSV 出力あり）。',
  },
  noOwnBounces: { en: 'No bounce of your own mail recorded.', ja: '通常のメールの返送は記録されていません。' },
  noCanaryBounces: { en: 'No canary bounced.', ja: 'テストメールの返送はありません。' },
  raw: { en: 'Raw message', ja: '受信したメッセージ' },
  rawGone: { en: 'removed (retention)', ja: '削除済み（保存期間）' },
  retentionHeading: { en: 'Retention', ja: '保存期間' },
  retentionKeeps: {
    en: 'Kept: raw received messages %d days (raw/), history %d days and at most %d records per target and list.',
    ja: '保存: 受信したメッセージ %d 日（raw/）、履歴 %d 日（対象・種類ごとに最大 %d 件）。',
  },
  retentionUnknown: { en: 'The retention settings are those of the config `retention` (run `mailhealth run` to show them here).', ja: '保存期間は設定ファイルの `retention` のとおりです（`mailhealth run` の実行後にここに表示されます）。' },
  noRemovals: { en: 'Nothing has been removed so far.', ja: 'これまでに削除したものはありません。' },
  noTargetName: { en: 'mail without a target', ja: '対象なしのメール' },
  outboxPending: { en: '%d alert(s) wait in the outbox for their channel.', ja: '%d 件のアラートが送信待ちです。' },
  footer: {
    en: 'Made by mail-health from the local history. Nothing on this page was loaded from the network.',
    ja: 'mail-health がローカルの履歴から作成しました。このページはネットワークから何も読み込みません。',
  },
} as const satisfies Record<string, Record<Language, string>>;

/** What retention removed, said per reason. */
const REMOVED_HISTORY = {
  age: { en: '%s: removed %d %s of %s older than the history days (up to %s)', ja: '%s: %s の%s %d 件を削除（保存日数超過、%s まで）' },
  count: { en: '%s: removed %d %s of %s beyond the most records kept (up to %s)', ja: '%s: %s の%s %d 件を削除（最大件数超過、%s まで）' },
  unreadable: { en: '%s: removed %d unreadable line(s) of the %s of %s (cut short by a crash)%s', ja: '%s: %s の%s の読めない行 %d 件を削除（異常終了で途切れた行）%s' },
} as const;
const REMOVED_RAW = { en: '%s: removed %d raw message(s) of %s (older than %d days)', ja: '%s: %s の受信メッセージ %d 件を削除（%d 日超過）' } as const;
const LIST_NAMES = {
  rounds: { en: 'rounds', ja: 'チェック結果' },
  bounces: { en: 'bounces', ja: '返送' },
  alerts: { en: 'alerts', ja: 'アラート' },
} as const;

const KIND_LABEL: Record<string, Record<Language, string>> = {
  failing: { en: 'failing', ja: '障害' },
  warning: { en: 'warning', ja: '警告' },
  reminder: { en: 'reminder', ja: 'リマインダー' },
  recovered: { en: 'recovered', ja: '復旧' },
  bounce: { en: 'bounce', ja: '返送' },
  digest: { en: 'bounce digest', ja: '返送のまとめ' },
  undelivered: { en: 'not delivered', ja: '未着' },
  alarm: { en: 'alarm', ja: 'アラーム' },
};

const REASON_GROUP_COLOUR = (reason: BounceReason): string =>
  reason === 'mailboxfull'
    ? TONE_COLOURS.warning
    : ['userunknown', 'hostunknown', 'hasmoved', 'notaccept'].includes(reason)
      ? TONE_COLOURS.critical
      : ['mesgtoobig', 'exceedlimit'].includes(reason)
        ? '#6a1b9a'
        : ['vacation', 'feedback', 'delivered'].includes(reason)
          ? TONE_COLOURS.unknown
          : '#455a64';

function rawCell(b: BounceRecord, data: ReportData, lang: Language): string {
  const source = b.source;
  if (!source) return '–';
  const href = data.rawLinks?.[source];
  if (href) return `<a class="mono" href="${esc(href)}">${esc(source)}</a>`;
  return source.startsWith('raw/') ? `<span class="muted">${esc(T.rawGone[lang])}</span>` : `<span class="mono">${esc(source)}</span>`;
}

function bounceTable(list: readonly BounceRecord[], data: ReportData, o: RenderOptions, heading: string): string {
  const lang = o.language;
  const counts = new Map<BounceReason, number>();
  for (const b of list) counts.set(b.recipient.reason, (counts.get(b.recipient.reason) ?? 0) + 1);
  const bars: Bar[] = [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([reason, value]) => ({ label: `${reason} (${reasonText(reason)[lang]})`, value, colour: REASON_GROUP_COLOUR(reason) }));
  const rows = list.slice(0, 20).map((b: BounceRecord) => {
    const r = b.recipient;
    const code = [r.replyCode, r.status].filter((x) => x !== null).join(' ');
    return `<tr><td>${esc(reportTime(b.at, lang, o.timeZone))}</td><td>${esc(b.target ?? T.unmatched[lang])}</td><td>${esc(r.recipient)}</td><td>${esc(r.reason)}</td><td>${esc(code)}</td><td>${b.finding ? `<code>${esc(b.finding.code)}</code>` : ''}</td><td class="mono">${esc(r.diagnostic ?? '')}</td><td>${rawCell(b, data, lang)}</td></tr>`;
  });
  return `${barChartSvg(bars, heading)}
<h4>${esc(T.latestBounces[lang])}</h4>
<div class="scroll"><table><thead><tr><th>${esc(T.time[lang])}</th><th>${esc(T.target[lang])}</th><th>${esc(T.recipient[lang])}</th><th>${esc(T.reason[lang])}</th><th>${esc(T.status[lang])}</th><th>${esc(T.finding[lang])}</th><th>${esc(T.reply[lang])}</th><th>${esc(T.raw[lang])}</th></tr></thead><tbody>${rows.join('')}</tbody></table></div>`;
}

function bounceSection(data: ReportData, o: RenderOptions): string {
  const lang = o.language;
  const all = [...data.targets.flatMap((t) => t.bounces), ...data.unmatchedBounces].sort((a, b) => b.at.localeCompare(a.at));
  if (all.length === 0) return `<p class="muted">${esc(T.noBounces[lang])}</p>`;
  // A canary's bounce tells about the sending path; the shop's own mail about its list.
  const canary = all.filter((b) => b.canaryId !== null);
  const own = all.filter((b) => b.canaryId === null);
  return `<div class="row" id="canary-bounces"><h3>${esc(T.canaryBouncesHeading[lang])}</h3>${canary.length ? bounceTable(canary, data, o, T.canaryBouncesHeading[lang]) : `<p class="muted">${esc(T.noCanaryBounces[lang])}</p>`}</div>
<div class="row" id="own-bounces"><h3>${esc(T.ownBouncesHeading[lang])}</h3><p class="muted">${esc(T.ownBouncesHelp[lang])}</p>${own.length ? bounceTable(own, data, o, T.ownBouncesHeading[lang]) : `<p class="muted">${esc(T.noOwnBounces[lang])}</p>`}</div>`;
}

function retentionSection(data: ReportData, o: RenderOptions): string {
  const lang = o.language;
  const r = data.retention;
  const settings = r?.settings;
  const keeps = settings ? fillText(T.retentionKeeps[lang], settings.rawMailDays, settings.historyDays, settings.historyMaxRecords) : T.retentionUnknown[lang];
  const items: { at: string; text: string }[] = [];
  for (const { target, note } of r?.history ?? []) {
    const when = reportTime(note.at, lang, o.timeZone);
    const who = target ?? T.noTargetName[lang];
    const list = LIST_NAMES[note.list][lang];
    const upTo = note.upTo ? reportTime(note.upTo, lang, o.timeZone) : '';
    const text =
      lang === 'ja'
        ? note.reason === 'unreadable'
          ? fillText(REMOVED_HISTORY.unreadable.ja, when, who, list, note.removed, '')
          : fillText(REMOVED_HISTORY[note.reason].ja, when, who, list, note.removed, upTo)
        : note.reason === 'unreadable'
          ? fillText(REMOVED_HISTORY.unreadable.en, when, note.removed, list, who, '')
          : fillText(REMOVED_HISTORY[note.reason].en, when, note.removed, list, who, upTo);
    items.push({ at: note.at, text });
  }
  for (const note of r?.raw ?? []) {
    const days = note.days.length > 1 ? `${note.days[0]} – ${note.days[note.days.length - 1]}` : (note.days[0] ?? '');
    const when = reportTime(note.at, lang, o.timeZone);
    const text = lang === 'ja' ? fillText(REMOVED_RAW.ja, when, days, note.files, note.rawMailDays) : fillText(REMOVED_RAW.en, when, note.files, days, note.rawMailDays);
    items.push({ at: note.at, text });
  }
  items.sort((a, b) => b.at.localeCompare(a.at));
  const list = items.length ? `<ul class="removals">${items.slice(0, 30).map((i) => `<li>${esc(i.text)}</li>`).join('')}</ul>` : `<p class="muted">${esc(T.noRemovals[lang])}</p>`;
  return `<p>${esc(keeps)}</p>${list}`;
}

function alertRows(records: readonly AlertRecord[], o: RenderOptions): string {
  const lang = o.language;
  if (records.length === 0) return `<p class="muted">${esc(T.noAlerts[lang])}</p>`;
  const rows = records.slice(0, 30).map((a) => {
    const view = alertView(a.event, lang, o.timeZone ? { timeZone: o.timeZone } : {});
    const outcomes = a.outcomes.length
      ? // The destination names the route (`slack@shop-owner`); records from before routes only have the channel.
        a.outcomes.map((x) => (x.ok ? `${x.destination ?? x.channel} ✓` : `${x.destination ?? x.channel} ✗ ${x.error}`)).join(', ')
      : T.noChannel[lang];
    const tone = a.event.kind === 'recovered' ? 'ok' : a.event.status;
    return `<tr><td>${esc(reportTime(a.at, lang, o.timeZone))}</td><td>${badge(tone, KIND_LABEL[a.event.kind]?.[lang] ?? a.event.kind)}</td><td>${esc(a.event.target ?? T.unmatched[lang])}</td><td>${esc(view.title)}</td><td>${esc(outcomes)}</td></tr>`;
  });
  return `<div class="scroll"><table><thead><tr><th>${esc(T.time[lang])}</th><th>${esc(T.kind[lang])}</th><th>${esc(T.target[lang])}</th><th>${esc(T.alert[lang])}</th><th>${esc(T.delivery[lang])}</th></tr></thead><tbody>${rows.join('')}</tbody></table></div>`;
}

const CSS = `
:root{--ok:${TONE_COLOURS.ok};--warning:${TONE_COLOURS.warning};--critical:${TONE_COLOURS.critical};--unknown:${TONE_COLOURS.unknown}}
*{box-sizing:border-box}
body{margin:0;font-family:system-ui,-apple-system,"Segoe UI","Noto Sans CJK JP","Noto Sans JP",sans-serif;color:#1d1d1f;background:#f5f6f8;line-height:1.5}
header,main,footer{max-width:1100px;margin:0 auto;padding:16px 24px}
header{padding-top:24px}
h1{margin:0 0 4px;font-size:26px}
h2{font-size:19px;margin:0 0 12px;border-bottom:1px solid #dde;padding-bottom:6px}
h3{font-size:15px;margin:12px 0 6px}
section{background:#fff;border-radius:10px;padding:16px 20px;margin:0 0 18px;box-shadow:0 1px 2px rgba(0,0,0,.06)}
.muted{color:#666;font-size:13px}
.controls{display:flex;flex-wrap:wrap;gap:8px 14px;align-items:center;margin:0 0 8px}
.controls[hidden],[hidden]{display:none}
#fleet-search{font:inherit;padding:4px 8px;min-width:260px;border:1px solid #ccd;border-radius:6px}
.filter label{margin-right:10px;white-space:nowrap;font-size:13px}
#fleet-table td{white-space:nowrap}
details.target{border:1px solid #e3e4e8;border-radius:8px;margin:0 0 8px;background:#fff}
details.target>summary{cursor:pointer;padding:6px 12px;list-style-position:inside}
details.target[open]>summary{border-bottom:1px solid #eee}
details.target:target{outline:2px solid #174a7c}
.chart-slot.tl{min-height:26px}.chart-slot.lat,.chart-slot.rt{min-height:120px}
.detail{padding:6px 14px 10px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 12px;margin:0}
dt{color:#555;font-size:13px}
dd{margin:0;overflow-wrap:anywhere}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;color:#fff;font-size:12px;font-weight:600}
.tone-ok{background:var(--ok)}.tone-warning{background:var(--warning);color:#222}.tone-critical{background:var(--critical)}.tone-unknown{background:var(--unknown)}
.legend{list-style:none;padding:0;margin:4px 0 0;display:flex;flex-wrap:wrap;gap:12px;font-size:12px}
.swatch{display:inline-block;width:12px;height:12px;border-radius:2px;margin-right:4px;vertical-align:-1px}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #eee;vertical-align:top}
th{background:#fafafa}
.scroll{overflow-x:auto}
.mono,code{font-family:ui-monospace,"SFMono-Regular",Menlo,Consolas,monospace;font-size:12px}
.mono{white-space:pre-wrap;word-break:break-all;color:#333}
.findings{list-style:none;padding:0;margin:0}
.finding{border-left:4px solid var(--unknown);padding:6px 12px;margin:0 0 10px;background:#fbfbfc}
.finding.sev-warning{border-color:var(--warning)}.finding.sev-critical{border-color:var(--critical)}
.finding p{margin:4px 0}
.remedy{color:#174a7c}
h4{font-size:14px;margin:10px 0 4px}
.facts{margin:4px 0 8px}
.removals{margin:0;padding-left:20px;font-size:13px}
a{color:#174a7c}
.code{font-weight:700}
footer{color:#777;font-size:12px}
`;

/**
 * Renders the report page.
 * @example const html = renderReportHtml(await collectReportData(store, { stateDir, now }), { language: 'ja' });
 */
export function renderReportHtml(data: ReportData, o: RenderOptions): string {
  const lang = o.language;
  const empty = data.targets.length === 0;
  const alerts = [...data.targets.flatMap((t) => t.alerts), ...data.otherAlerts].sort((a, b) => b.at.localeCompare(a.at));
  const kept = data.kept.length
    ? `<section id="kept"><h2>${esc(T.keptHeading[lang])}</h2><p class="muted">${esc(T.keptHelp[lang])}</p><div class="scroll"><table><thead><tr><th>${esc(T.time[lang])}</th><th>${esc(T.file[lang])}</th><th>${esc(T.why[lang])}</th></tr></thead><tbody>${data.kept
        .map((k) => `<tr><td>${esc(k.at ? reportTime(k.at, lang, o.timeZone) : '')}</td><td class="mono">${esc(k.file)}</td><td>${esc(k.why)}</td></tr>`)
        .join('')}</tbody></table></div></section>`
    : '';
  const body = empty
    ? `<section id="fleet"><h2>${esc(T.noDataHeading[lang])}</h2><p>${esc(T.noData[lang])}</p></section>${kept}`
    : `${fleetSection(data, o)}
${targetsSection(data.targets, data.generatedAt, o)}
<section id="bounces"><h2>${esc(T.bouncesHeading[lang])}</h2>${bounceSection(data, o)}</section>
${authenticationSection(data.targets, lang, (iso) => reportTime(iso, lang, o.timeZone))}
${dmarcSection(data.dmarc ?? [], lang)}
<section id="alerts"><h2>${esc(T.alertsHeading[lang])}</h2>${data.outboxPending ? `<p>${esc(fillText(T.outboxPending[lang], data.outboxPending))}</p>` : ''}${alertRows(alerts, o)}</section>
${kept}
<section id="retention"><h2>${esc(T.retentionHeading[lang])}</h2>${retentionSection(data, o)}</section>`;
  return `<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src ${PAGE_SCRIPT_SOURCE}">
<title>${esc(T.title[lang])}</title>
<style>${CSS}</style>
</head>
<body>
<header><h1>${esc(T.title[lang])}</h1><p class="muted">${esc(T.generated[lang])}: ${esc(reportTime(data.generatedAt, lang, o.timeZone))} · ${esc(T.stateDir[lang])}: <code>${esc(data.stateDir)}</code></p></header>
<main>
${body}
</main>
<footer>${esc(T.footer[lang])}</footer>
${empty ? '' : `<script>${PAGE_SCRIPT}</script>`}
</body>
</html>
`;
}
