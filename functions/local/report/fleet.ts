/**
 * The report's fleet view: a table of every target, worst first (health, since when, the step
 * or finding it fails at, the latest round trip, placement, the latest round), each row linking
 * to the target's details further down; a search box and a filter by health, run by the page's
 * script (script.ts); without it the table and the details are there, the controls stay hidden.
 */
import type { Language } from '#core/findings.ts';
import { fleetCounts, type FleetHealth, type FleetRow } from '#core/health/fleet.ts';
import type { ReportData } from './data.ts';
import { badge, durationText, fillText, HEALTH_LABEL, HEALTH_TONE, reportTime, secondsText, STATUS_LABEL, type RenderOptions } from './format.ts';
import { esc } from './svg.ts';

const T = {
  heading: { en: 'Fleet: every target, worst first', ja: '全対象の状態（問題のあるものから順に）' },
  help: {
    en: 'Click a target for its details: timeline, SMTP step times, round trip and what to do.',
    ja: '対象名をクリックすると詳細（推移、SMTP ステップの所要時間、往復確認、対処方法）を表示します。',
  },
  search: { en: 'Search targets, steps, findings', ja: '対象・ステップ・診断を検索' },
  all: { en: 'All', ja: 'すべて' },
  shown: { en: '%d of %d shown', ja: '%d / %d 件を表示' },
  none: { en: 'No target matches.', ja: '該当する対象はありません。' },
  target: { en: 'Target', ja: '対象' },
  health: { en: 'Health', ja: '監視状態' },
  since: { en: 'Since', ja: 'いつから' },
  problem: { en: 'Failing step or finding', ja: '失敗したステップ・診断' },
  roundTrip: { en: 'Last round trip', ja: '最新の往復確認' },
  placement: { en: 'Placement', ja: '受信箱到達' },
  lastRound: { en: 'Last round', ja: '最終チェック' },
  late: { en: 'not delivered', ja: '未着' },
  onTheWay: { en: 'on the way', ja: '配送中' },
  summary: { en: '%d targets: %d failing, %d not checked yet, %d warning, %d OK', ja: '対象 %d 件: 障害中 %d 件、未実行 %d 件、警告中 %d 件、正常 %d 件' },
} as const satisfies Record<string, Record<Language, string>>;

const FILTERS: readonly FleetHealth[] = ['failing', 'unknown', 'warning', 'ok'];

/** The id of a target's details (names are letters, digits, `-` and `_`). */
export const detailsId = (name: string): string => `t-${name}`;

function roundTripCell(row: FleetRow, lang: Language): string {
  const rt = row.roundTrip;
  if (!rt) return '<span class="muted">–</span>';
  if (rt.state === 'arrived') return esc(secondsText(rt.seconds, lang));
  return rt.state === 'late' ? badge('critical', T.late[lang]) : `<span class="muted">${esc(T.onTheWay[lang])}</span>`;
}

function rowHtml(row: FleetRow, now: number, o: RenderOptions): string {
  const lang = o.language;
  const since = row.since ? `${esc(reportTime(row.since, lang, o.timeZone))} <span class="muted">(${esc(durationText(now - Date.parse(row.since), lang))})</span>` : '–';
  const problem = row.problem ? `${row.problem.step ? `${esc(row.problem.step)} · ` : ''}<code>${esc(row.problem.code)}</code>` : '';
  const placement = row.placement ? badge(row.placement.status, row.placement.summary) : '<span class="muted">–</span>';
  const last = row.lastRoundAt ? `${badge(row.lastRoundStatus ?? 'unknown', STATUS_LABEL[row.lastRoundStatus ?? 'unknown'][lang])} ${esc(reportTime(row.lastRoundAt, lang, o.timeZone))}` : '–';
  return `<tr data-health="${row.health}" data-name="${esc(row.name)}"><td><a href="#${esc(detailsId(row.name))}">${esc(row.name)}</a></td><td>${badge(HEALTH_TONE[row.health], HEALTH_LABEL[row.health][lang])}</td><td>${since}</td><td>${problem}</td><td>${roundTripCell(row, lang)}</td><td>${placement}</td><td>${last}</td></tr>`;
}

/**
 * The fleet section's HTML (the rows in the order of `data.targets`, worst first).
 * @example fleetSection(data, { language: 'en' })
 */
export function fleetSection(data: ReportData, o: RenderOptions): string {
  const lang = o.language;
  const rows = data.targets.map((t) => t.row);
  const counts = fleetCounts(rows);
  const now = Date.parse(data.generatedAt);
  const filters = [
    `<label><input type="radio" name="fleet-filter" value="all" checked> ${esc(T.all[lang])} (${rows.length})</label>`,
    ...FILTERS.filter((h) => counts[h] > 0).map((h) => `<label><input type="radio" name="fleet-filter" value="${h}"> ${esc(HEALTH_LABEL[h][lang])} (${counts[h]})</label>`),
  ].join(' ');
  const head = [T.target, T.health, T.since, T.problem, T.roundTrip, T.placement, T.lastRound].map((h) => `<th>${esc(h[lang])}</th>`).join('');
  return `<section id="fleet"><h2>${esc(T.heading[lang])}</h2>
<p>${esc(fillText(T.summary[lang], rows.length, counts.failing, counts.unknown, counts.warning, counts.ok))}</p>
<div id="fleet-controls" class="controls" hidden><input type="search" id="fleet-search" placeholder="${esc(T.search[lang])}" aria-label="${esc(T.search[lang])}"> <span class="filter">${filters}</span> <span id="fleet-shown" class="muted" aria-live="polite" data-template="${esc(T.shown[lang])}"></span></div>
<p class="muted">${esc(T.help[lang])}</p>
<div class="scroll"><table id="fleet-table"><thead><tr>${head}</tr></thead><tbody>${rows.map((r) => rowHtml(r, now, o)).join('')}</tbody></table></div>
<p id="fleet-none" class="muted" hidden>${esc(T.none[lang])}</p></section>`;
}
