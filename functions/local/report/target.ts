/**
 * One target's details in the report, one click away from its row of the fleet table: its
 * health, the success timeline, the SMTP step times and the round trip (downsampled: at most
 * history.ts's MAX_BUCKETS points each), and the latest findings with what to do. The charts
 * travel as numbers on the `<details>` (`data-charts`) and the page's script (script.ts) draws
 * them when the details open.
 */
import { SMTP_STEPS, type Finding, type Language, type SmtpStep } from '#core/findings.ts';
import { worstFirst } from '#core/health/state.ts';
import type { ReportTarget } from './data.ts';
import { detailsId } from './fleet.ts';
import { badge, durationText, fillText, HEALTH_LABEL, HEALTH_TONE, reportTime, secondsText, SEVERITY_LABEL, shortTime, STATUS_LABEL, type RenderOptions } from './format.ts';
import { MAX_BUCKETS, type RoundBucket } from './history.ts';
import { esc } from './svg.ts';

const T = {
  heading: { en: 'Targets', ja: '対象ごとの詳細' },
  help: {
    en: 'Success timeline: one square per round (or per run of rounds, oldest on the left), coloured by the worst of them: green OK, amber warning, red critical, grey unknown. Long histories are drawn in at most %d points.',
    ja: '送信チェックの推移: 1 回のチェック（または連続した数回分、左が古い順）を 1 マスで、その中で最も悪い結果の色で表示します。緑: 正常、黄: 警告、赤: 重大、灰: 不明。長い履歴は最大 %d 点にまとめて描きます。',
  },
  health: { en: 'Health', ja: '監視状態' },
  lastRound: { en: 'Last round', ja: '最終チェック' },
  successRate: { en: 'Rounds OK or warning', ja: '送信成功の割合' },
  since: { en: 'since', ja: '発生' },
  canary: { en: 'Canary', ja: 'テストメール ID' },
  timelineHeading: { en: 'Success timeline', ja: '送信チェックの推移' },
  latencyHeading: { en: 'SMTP step latency', ja: 'SMTP ステップごとの所要時間' },
  roundTripHeading: { en: 'Round trip', ja: '往復確認（テストメールの到着）' },
  roundTripHelp: {
    en: 'Canaries sent to a mailbox of the bounce domain, from the provider accepting them to their arrival. A gap in the line is a canary that did not arrive.',
    ja: 'バウンス用ドメインのメールボックス宛てのテストメールについて、プロバイダーが受け付けてから到着するまでの時間です。線の切れ目は届かなかったテストメールです。',
  },
  roundTripFacts: {
    en: 'Canaries that must arrive: %d · arrived: %d · median %s · latest %s · not delivered: %d · on the way: %d',
    ja: '到着を確認するテストメール: %d 通 · 到着: %d 通 · 中央値 %s · 最新 %s · 未着: %d 通 · 配送中: %d 通',
  },
  noRoundTrip: {
    en: 'No canary of this target goes to a mailbox of the bounce domain, so its round trip is not measured (add one to `to`).',
    ja: 'この対象のテストメールはバウンス用ドメインのメールボックスに送られていないため、往復確認をしていません（`to` に追加してください）。',
  },
  findingsHeading: { en: 'Latest findings and what to do', ja: '最新の診断結果と対処方法' },
  noFindings: { en: 'No problems found in the last round.', ja: '最新のチェックでは問題は見つかりませんでした。' },
  noRounds: { en: 'No round recorded yet.', ja: 'まだチェックの記録がありません。' },
  remedy: { en: 'What to do', ja: '対処方法' },
  rounds: { en: '%d rounds', ja: '%d 回' },
  ms: { en: 'ms', ja: 'ミリ秒' },
  sent: { en: 'Sent', ja: '送信' },
  recipient: { en: 'Recipient', ja: '宛先' },
  finding: { en: 'Finding', ja: '診断' },
} as const satisfies Record<string, Record<Language, string>>;

/** Colours of the SMTP steps in the section's one legend; the page's script draws the lines in the same (script.ts `STEP`). */
export const STEP_COLOURS: Record<SmtpStep, string> = {
  connect: '#1f77b4',
  greeting: '#ff7f0e',
  ehlo: '#2ca02c',
  starttls: '#d62728',
  auth: '#9467bd',
  mail: '#8c564b',
  rcpt: '#e377c2',
  data: '#17becf',
  quit: '#bcbd22',
};

/** Fleets this small show every target's details open; larger ones open a target on a click. */
const OPEN_UP_TO = 6;

/** What the page's script draws for a target (script.ts `charts`): numbers and ready-made labels. */
export interface ChartData {
  /** Timeline runs: tone, how many buckets, tooltip. */
  readonly tl?: readonly (readonly [string, number, string])[];
  /** Buckets of the latency chart, its three x labels (first, middle, last) and its unit. */
  readonly n?: number;
  readonly x?: readonly string[];
  readonly ms?: string;
  /** Per SMTP step present, the median ms of each bucket (null: not in those rounds). */
  readonly lat?: Readonly<Partial<Record<SmtpStep, readonly (number | null)[]>>>;
  /** The round trip: median seconds per bucket, its three x labels, its unit. */
  readonly rt?: { readonly name: string; readonly v: readonly (number | null)[]; readonly x: readonly string[]; readonly u: string };
}

/** The labels of a chart's first, middle and last point. */
function threeLabels(froms: readonly string[], o: RenderOptions): string[] {
  const n = froms.length;
  return [0, Math.floor((n - 1) / 2), n - 1].map((i) => (froms[i] ? shortTime(froms[i]!, o.language, o.timeZone) : ''));
}

function timelineRuns(buckets: readonly RoundBucket[], o: RenderOptions): [string, number, string][] {
  const lang = o.language;
  const runs: [string, number, string][] = [];
  let run: RoundBucket[] = [];
  const flush = () => {
    if (run.length === 0) return;
    const first = run[0]!;
    const last = run[run.length - 1]!;
    const rounds = run.reduce((n, b) => n + b.rounds, 0);
    const label = STATUS_LABEL[first.worst][lang];
    const title = rounds === 1 ? `${reportTime(first.from, lang, o.timeZone)} ${label}` : `${reportTime(first.from, lang, o.timeZone)} – ${reportTime(last.to, lang, o.timeZone)}: ${label} (${fillText(T.rounds[lang], rounds)})`;
    runs.push([first.worst, run.length, title]);
    run = [];
  };
  for (const b of buckets) {
    if (run.length > 0 && run[0]!.worst !== b.worst) flush();
    run.push(b);
  }
  flush();
  return runs;
}

/** The numbers of a target's charts. */
export function chartData(t: ReportTarget, o: RenderOptions): ChartData {
  const lang = o.language;
  const buckets = t.history.buckets;
  const lat: Partial<Record<SmtpStep, (number | null)[]>> = {};
  for (const step of SMTP_STEPS) {
    if (!buckets.some((b) => b.stepMs[step] !== undefined)) continue;
    lat[step] = buckets.map((b) => (b.stepMs[step] === undefined ? null : Math.round(b.stepMs[step]!)));
  }
  const rt = t.roundTrip.buckets;
  return {
    ...(buckets.length ? { tl: timelineRuns(buckets, o), n: buckets.length, x: threeLabels(buckets.map((b) => b.from), o), ms: T.ms[lang], lat } : {}),
    ...(rt.length
      ? { rt: { name: t.name, v: rt.map((b) => (b.seconds === null ? null : Math.round(b.seconds * 10) / 10)), x: threeLabels(rt.map((b) => b.from), o), u: lang === 'ja' ? '秒' : 's' } }
      : {}),
  };
}

/**
 * JSON for a single-quoted attribute: its double quotes stay as they are (a third of the bytes
 * `&quot;` would add); `&`, `'`, `<` and `>` are escaped.
 */
function jsonAttribute(value: unknown): string {
  return JSON.stringify(value).replace(/&/g, '&amp;').replace(/'/g, '&#39;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Where the script draws a chart: a box of the chart's height until then. */
const slot = (kind: 'tl' | 'lat' | 'rt', label: string) => `<div class="chart-slot ${kind}" data-chart="${kind}" role="img" aria-label="${esc(label)}"></div>`;

function roundTripPart(t: ReportTarget, o: RenderOptions): string {
  const lang = o.language;
  const rt = t.roundTrip;
  if (rt.expected === 0) return `<p class="muted">${esc(T.noRoundTrip[lang])}</p>`;
  const facts = fillText(T.roundTripFacts[lang], rt.expected, rt.arrived, secondsText(rt.medianSeconds, lang), secondsText(rt.latestSeconds, lang), rt.late, rt.onTheWay);
  const lateRows = rt.lateCanaries.map(
    (c) => `<tr><td>${esc(reportTime(c.sentAt, lang, o.timeZone))}</td><td><code>${esc(c.id)}</code></td><td>${esc(c.recipients.join(', '))}</td><td>${badge('critical', 'CANARY_NOT_DELIVERED')}</td></tr>`,
  );
  const table = lateRows.length
    ? `<div class="scroll"><table><thead><tr><th>${esc(T.sent[lang])}</th><th>${esc(T.canary[lang])}</th><th>${esc(T.recipient[lang])}</th><th>${esc(T.finding[lang])}</th></tr></thead><tbody>${lateRows.join('')}</tbody></table></div>`
    : '';
  return `<p class="facts">${esc(facts)}</p>${slot('rt', `${t.name}: ${T.roundTripHeading[lang]}`)}${table}`;
}

/** A finding with its reply and what to do. */
export function findingItem(f: Finding, lang: Language): string {
  const where = [f.step, f.recipient].filter((x): x is string => Boolean(x)).join(' · ');
  return `<li class="finding sev-${esc(f.severity)}">
<div>${badge(f.severity === 'info' ? 'unknown' : f.severity, SEVERITY_LABEL[f.severity][lang])} <code class="code">${esc(f.code)}</code>${where ? ` <span class="muted">${esc(where)}</span>` : ''}</div>
<p>${esc(f.message[lang])}</p>
${f.reply ? `<p class="mono">${esc(f.reply)}</p>` : ''}
<p class="remedy"><strong>${esc(T.remedy[lang])}:</strong> ${esc(f.remedy[lang])}</p>
</li>`;
}

function findingsPart(t: ReportTarget, lang: Language): string {
  const findings = t.last ? worstFirst(t.last.findings) : [];
  // The latest bounce of each kind and recipient: what came back, not only what the session saw.
  const seen = new Set<string>();
  const bounceFindings: Finding[] = [];
  for (const b of t.bounces) {
    if (!b.finding) continue;
    const key = `${b.finding.code}|${b.recipient.recipient.toLowerCase()}`;
    if (seen.has(key)) continue;
    seen.add(key);
    bounceFindings.push(b.finding);
  }
  const all = [...findings, ...worstFirst(bounceFindings).slice(0, 10)];
  return all.length ? `<ul class="findings">${all.map((f) => findingItem(f, lang)).join('')}</ul>` : `<p class="muted">${esc(T.noFindings[lang])}</p>`;
}

/** One target's `<details>`. */
export function targetDetails(t: ReportTarget, now: number, open: boolean, o: RenderOptions): string {
  const lang = o.language;
  const row = t.row;
  const last = t.last;
  const rate = t.history.rounds ? `${Math.round((t.history.good / t.history.rounds) * 100)}% (${t.history.good}/${t.history.rounds})` : '–';
  const since = row.since ? ` <span class="muted">${esc(T.since[lang])} ${esc(reportTime(row.since, lang, o.timeZone))} (${esc(durationText(now - Date.parse(row.since), lang))})</span>` : '';
  const problem = row.problem ? ` · ${row.problem.step ? `${esc(row.problem.step)} · ` : ''}<code>${esc(row.problem.code)}</code>` : '';
  const summary = `<summary>${badge(HEALTH_TONE[row.health], HEALTH_LABEL[row.health][lang])} <strong>${esc(t.name)}</strong>${problem}</summary>`;
  const facts = `<dl>
<dt>${esc(T.health[lang])}</dt><dd>${badge(HEALTH_TONE[row.health], HEALTH_LABEL[row.health][lang])}${since}</dd>
<dt>${esc(T.lastRound[lang])}</dt><dd>${last ? `${badge(last.status, STATUS_LABEL[last.status][lang])} <span class="muted">${esc(reportTime(last.startedAt, lang, o.timeZone))}</span>` : '–'}</dd>
<dt>${esc(T.successRate[lang])}</dt><dd>${esc(rate)}</dd>
<dt>${esc(T.canary[lang])}</dt><dd><code>${esc(last?.canaryId ?? '–')}</code></dd>
</dl>`;
  const charts = t.history.rounds
    ? `<h4>${esc(T.timelineHeading[lang])}</h4>${slot('tl', `${t.name}: ${T.timelineHeading[lang]}`)}
<h4>${esc(T.latencyHeading[lang])}</h4>${slot('lat', `${t.name}: ${T.latencyHeading[lang]}`)}`
    : `<p class="muted">${esc(T.noRounds[lang])}</p>`;
  const when = last ? ` <span class="muted">${esc(reportTime(last.startedAt, lang, o.timeZone))}</span>` : '';
  return `<details class="target" id="${esc(detailsId(t.name))}" data-health="${row.health}" data-charts='${jsonAttribute(chartData(t, o))}'${open ? ' open' : ''}>${summary}<div class="detail">${facts}
${charts}
<h4>${esc(T.roundTripHeading[lang])}</h4>${roundTripPart(t, o)}
<h4>${esc(T.findingsHeading[lang])}${when}</h4>${findingsPart(t, lang)}</div></details>`;
}

/**
 * The targets section: the step colours and the chart notes once, then every target's details
 * in the fleet table's order.
 */
export function targetsSection(targets: readonly ReportTarget[], generatedAt: string, o: RenderOptions): string {
  const lang = o.language;
  const now = Date.parse(generatedAt);
  const open = targets.length <= OPEN_UP_TO;
  const legend = SMTP_STEPS.map((step) => `<li><span class="swatch" style="background:${STEP_COLOURS[step]}"></span>${esc(step)}</li>`).join('');

  return `<section id="targets"><h2>${esc(T.heading[lang])}</h2><p class="muted">${esc(fillText(T.help[lang], MAX_BUCKETS))} ${esc(T.roundTripHelp[lang])}</p><ul class="legend">${legend}</ul>
${targets.map((t) => targetDetails(t, now, open, o)).join('\n')}</section>`;
}
