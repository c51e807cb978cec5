import { createHash } from 'node:crypto';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import type { Finding } from '#core/findings.ts';
import type { BounceRecord, CanaryRecord } from '#core/health/records.ts';
import type { TargetResult } from '#core/results.ts';
import { compareFleetRows } from '#core/health/fleet.ts';
import { initialHealthState, type HealthState } from '#core/health/state.ts';
import { reportTargetOf, type ReportData, type ReportTarget } from '#local/report/data.ts';
import { MAX_BUCKETS, summarizeRounds } from '#local/report/history.ts';
import { renderReportHtml, reportTime } from '#local/report/html.ts';
import { PAGE_SCRIPT, PAGE_SCRIPT_SOURCE } from '#local/report/script.ts';
import { barChartSvg, esc } from '#local/report/svg.ts';
import type { ChartData } from '#local/report/target.ts';

const HOSTILE = '<script>alert("x")</script>&<img src=x onerror=alert(1)>';

/** The page script's chart functions, run without a browser. */
const MH = runInNewContext(`${PAGE_SCRIPT};MH`) as {
  timeline(runs: readonly (readonly [string, number, string])[]): string;
  line(series: readonly (readonly [string, string, readonly (number | null)[]])[], n: number, x: readonly string[], unit: string): string;
  charts(d: ChartData): { tl?: string; lat?: string; rt?: string };
  tick(step: number, k: number): string;
};

const unescapeHtml = (s: string) => s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

/** The numbers a target's details carry for its charts, and the charts the page's script draws from them. */
function chartsOf(html: string, name: string): { data: ChartData; svg: { tl?: string; lat?: string; rt?: string } } {
  const m = new RegExp(`<details class="target" id="t-${name}"[^>]* data-charts='([^']*)'`).exec(html);
  if (!m) throw new Error(`no details of ${name}`);
  const data = JSON.parse(unescapeHtml(m[1]!)) as ChartData;
  return { data, svg: MH.charts(data) };
}

const authFailed = (hostile: string): Finding => ({
  code: 'AUTH_FAILED',
  severity: 'critical',
  step: 'auth',
  reply: `535 5.7.8 ${hostile}`,
  message: { en: 'The server refused the user name or password.', ja: 'サーバーがユーザー名またはパスワードを拒否しました。' },
  remedy: { en: 'Check the password.', ja: 'パスワードを確認してください。' },
});

function round(startedAt: string, status: TargetResult['status'], findings: Finding[] = []): TargetResult {
  return {
    name: 'shop',
    status,
    canaryId: `01JGZ8W5V4N6K2M3P7Q9R1S0${startedAt.slice(17, 19)}`,
    startedAt,
    steps: [
      { step: 'connect', ok: true, ms: 3 },
      { step: 'greeting', ok: true, ms: 120, reply: '220 ready' },
      { step: 'auth', ok: status !== 'critical', ms: 40 },
    ],
    ports: { '25': 'timeout', '587': 'open' },
    extensions: { SIZE: 5_000_000 },
    findings,
  };
}

const bounceOf = (hostile: string): BounceRecord => ({
  at: '2026-01-05T09:00:05Z',
  target: 'shop',
  canaryId: '01JGZ8W5V4N6K2M3P7Q9R1S000',
  recipient: { recipient: 'full@customers.test', reason: 'mailboxfull', status: '5.2.2', replyCode: 552, hard: false, diagnostic: `552 5.2.2 ${hostile}`, remoteMta: 'mx.customers.test', canaryId: '01JGZ8W5V4N6K2M3P7Q9R1S000' },
  finding: {
    code: 'BOUNCE_MAILBOX_FULL',
    severity: 'warning',
    recipient: 'full@customers.test',
    message: { en: 'The mailbox of full@customers.test is full.', ja: 'full@customers.test のメールボックスが満杯です。' },
    remedy: { en: 'Ask the recipient to delete old mail.', ja: '受信者に古いメールの削除を依頼してください。' },
  },
});

const NOW = new Date('2026-01-05T09:01:00Z');

/** A target's part of the report from its history (lists newest first, as the store gives them). */
function target(name: string, parts: { health?: HealthState | null; rounds?: TargetResult[]; bounces?: BounceRecord[]; canaries?: CanaryRecord[] } = {}): ReportTarget {
  return reportTargetOf(
    { name, health: parts.health ?? null, rounds: parts.rounds ?? [], bounces: parts.bounces ?? [], alerts: [], canaries: parts.canaries ?? [] },
    { now: NOW, deliveryTimeoutMinutes: 15 },
  );
}

/** A history; `hostile` is what the outside world put in replies, addresses and file names. */
function data(hostile = HOSTILE): ReportData {
  const bounce = bounceOf(hostile);
  return {
    generatedAt: NOW.toISOString(),
    stateDir: '/tmp/state',
    targets: [
      target('shop', {
        rounds: [round('2026-01-05T09:00:10Z', 'critical', [authFailed(hostile)]), round('2026-01-05T09:00:00Z', 'ok')],
        bounces: [{ ...bounce, source: 'raw/2026-01-05/a.eml' }],
        canaries: [
          { id: '01JGZ8W5V4N6K2M3P7Q9R1S003', target: 'shop', sentAt: '2026-01-05T09:00:00.000Z', recipients: ['c@bounces.test'], deliveredAt: null },
          { id: '01JGZ8W5V4N6K2M3P7Q9R1S002', target: 'shop', sentAt: '2026-01-05T08:40:00.000Z', recipients: ['c@bounces.test'], deliveredAt: '2026-01-05T08:40:01.200Z' },
          { id: '01JGZ8W5V4N6K2M3P7Q9R1S001', target: 'shop', sentAt: '2026-01-05T08:35:00.000Z', recipients: ['c@bounces.test'], deliveredAt: '2026-01-05T08:35:00.400Z' },
          { id: '01JGZ8W5V4N6K2M3P7Q9R1S000', target: 'shop', sentAt: '2026-01-05T08:30:00.000Z', recipients: ['c@bounces.test'], deliveredAt: null },
        ],
      }),
    ],
    rawLinks: { 'raw/2026-01-05/a.eml': 'raw/2026-01-05/a.eml' },
    retention: {
      settings: { rawMailDays: 30, historyDays: 35, historyMaxRecords: 100000 },
      history: [{ target: 'shop', note: { at: '2026-01-05T09:00:00Z', list: 'bounces', removed: 120, reason: 'age', upTo: '2025-11-30T00:00:00Z' } }],
      raw: [{ at: '2026-01-05T08:00:00Z', days: ['2025-12-01', '2025-12-05'], files: 340, rawMailDays: 30 }],
    },
    unmatchedBounces: [{ ...bounce, target: null, canaryId: null, source: 'raw/2025-11-01/old.eml', recipient: { ...bounce.recipient, recipient: `x${hostile}@example.test`, canaryId: null } }],
    otherAlerts: [],
    kept: [{ file: `/tmp/state/kept/${hostile}.eml`, at: '2026-01-05T09:00:30Z', source: 'inbox/a.eml', why: 'neither a bounce nor a canary: not understood', notes: [] }],
  };
}

/** The health of a target in `state` since `since`. */
function health(name: string, state: HealthState['state'], since: string): HealthState {
  const base = initialHealthState(name);
  if (state === 'failing') return { ...base, state, badStreak: 3, badSince: since, incident: { id: 'i', kind: 'failing', startedAt: since, lastAlertAt: since, reminders: 0 } };
  if (state === 'warning') return { ...base, state, warnStreak: 3, warnSince: since, incident: { id: 'w', kind: 'warning', startedAt: since, lastAlertAt: since, reminders: 0 } };
  return { ...base, goodSince: since, okSince: since };
}

/** A fleet in name order: every third target failing, every seventh warning, the last never checked. */
function fleet(count: number): ReportData {
  const targets = Array.from({ length: count }, (_, i) => {
    const name = `t${String(i).padStart(3, '0')}`;
    if (i === count - 1) return target(name);
    const state = i % 3 === 1 ? 'failing' : i % 7 === 2 ? 'warning' : 'ok';
    const status = state === 'failing' ? 'critical' : state === 'warning' ? 'warning' : 'ok';
    const since = new Date(NOW.getTime() - (i + 1) * 600_000).toISOString();
    return target(name, { health: health(name, state, since), rounds: [{ ...round('2026-01-05T09:00:10Z', status, status === 'critical' ? [authFailed('x')] : []), name }] });
  });
  return { ...data('plain'), targets: targets.sort((a, b) => compareFleetRows(a.row, b.row)), unmatchedBounces: [], kept: [] };
}

describe('renderReportHtml', () => {
  it('escapes everything that came from outside', () => {
    // Act
    const html = renderReportHtml(data(), { language: 'en' });

    // Assess: the hostile text shows as text, never as markup (the page's own script is the only one).
    expect(html.match(/<script/g)).toHaveLength(1);
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&lt;img src=x onerror=alert(1)&gt;');
  });

  it('is self-contained: its one script allowed by its hash, no external resource, a policy that forbids loading any', () => {
    const html = renderReportHtml(data('plain text'), { language: 'en' });
    expect(html).not.toMatch(/<link|\ssrc=|url\(|@import/i);
    expect([...html.matchAll(/<script[^>]*>/g)].map((m) => m[0])).toEqual(['<script>']);
    expect(html).toContain(`<script>${PAGE_SCRIPT}</script>`);
    // The only links are to the targets' details and to raw messages beside the page (relative, no scheme).
    expect([...html.matchAll(/\shref="([^"]*)"/g)].map((m) => m[1])).toEqual(['#t-shop', 'raw/2026-01-05/a.eml']);
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src ${PAGE_SCRIPT_SOURCE}">`);
    expect(PAGE_SCRIPT_SOURCE).toBe(`'sha256-${createHash('sha256').update(PAGE_SCRIPT).digest('base64')}'`);
  });

  it('opens with the fleet table, then the details, the bounces by reason and the findings with their remedies', () => {
    const html = renderReportHtml(data(), { language: 'en' });
    const ids = [...html.matchAll(/<section id="([^"]+)">/g)].map((m) => m[1]);
    expect(ids).toEqual(['fleet', 'targets', 'bounces', 'authentication', 'alerts', 'kept', 'retention']);
    const details = html.slice(html.indexOf('<details class="target" id="t-shop"'), html.indexOf('</details>'));
    const { svg } = chartsOf(html, 'shop');
    expect(svg.tl).toMatch(/<svg class="chart timeline"[^>]*>(<rect [^>]*fill="#2e7d32">.*?<\/rect>)(<rect [^>]*fill="#c62828">)/);
    expect(svg.lat).toContain('<svg class="chart line"');
    expect(svg.lat).toContain('<polyline');
    for (const kind of ['tl', 'lat', 'rt']) expect(details).toContain(`data-chart="${kind}"`);
    expect(details).toContain('AUTH_FAILED');
    expect(details).toContain('Check the password.');
    expect(details).toContain('BOUNCE_MAILBOX_FULL');
    expect(details).toContain('Ask the recipient to delete old mail.');
    expect(details).toContain('50% (1/2)');
    expect(html).toContain('mailboxfull (mailbox full)');
  });

  it('lists every target worst first: failing (the longest first), never checked, warning, OK', () => {
    // Act
    const html = renderReportHtml(fleet(30), { language: 'en' });

    // Assess
    const rows = [...html.matchAll(/<tr data-health="([a-z]+)" data-name="([^"]+)">/g)].map((m) => [m[1]!, m[2]!] as const);
    expect(rows).toHaveLength(30);
    const healths = rows.map((r) => r[0]);
    expect(healths.indexOf('unknown')).toBe(healths.lastIndexOf('failing') + 1);
    expect(healths.lastIndexOf('warning')).toBeLessThan(healths.indexOf('ok'));
    expect(rows.slice(0, 3).map((r) => r[1])).toEqual(['t028', 't025', 't022']);
    const first = html.slice(html.indexOf('<tr data-health="failing" data-name="t028">'), html.indexOf('</tr>', html.indexOf('data-name="t028"')));
    expect(first).toContain('<a href="#t-t028">t028</a>');
    expect(first).toContain('FAILING');
    expect(first).toContain('2026-01-05 04:11:00 UTC');
    expect(first).toContain('(4 h 50 min)');
    expect(first).toContain('auth · <code>AUTH_FAILED</code>');
    expect(html).toContain('30 targets: 10 failing, 1 not checked yet, 3 warning, 16 OK');
    expect(html).toContain('<input type="search" id="fleet-search"');
    expect(html).toContain('value="failing"> FAILING (10)');
    // Each row's details are there, in the same order, closed for a fleet this size.
    const details = [...html.matchAll(/<details class="target" id="t-([^"]+)" data-health="[a-z]+" data-charts='[^']*'( open)?>/g)];
    expect(details.map((m) => m[1])).toEqual(rows.map((r) => r[1]));
    expect(details.every((m) => m[2] === undefined)).toBe(true);
  });

  it('draws at most MAX_BUCKETS points per line and timeline however long the history, keeping every failure', () => {
    // Prepare: 5,000 rounds, one critical among them
    const rounds = Array.from({ length: 5000 }, (_, i) => round(new Date(Date.parse('2026-01-01T00:00:00Z') + i * 300_000).toISOString(), i === 4321 ? 'critical' : 'ok'));

    // Act
    const history = summarizeRounds(rounds);
    const html = renderReportHtml({ ...data('plain'), targets: [target('shop', { rounds: [...rounds].reverse() })] }, { language: 'en' });

    // Assess
    expect(history.buckets).toHaveLength(MAX_BUCKETS);
    expect(history.buckets.reduce((n, b) => n + b.rounds, 0)).toBe(5000);
    expect(history.buckets.filter((b) => b.worst === 'critical')).toHaveLength(1);
    const { data: numbers, svg } = chartsOf(html, 'shop');
    expect(Object.keys(numbers.lat ?? {})).toEqual(['connect', 'greeting', 'auth']);
    const lines = [...(svg.lat ?? '').matchAll(/points="([^"]*)"/g)];
    expect(lines).toHaveLength(3);
    for (const line of lines) expect(line[1]!.split(' ')).toHaveLength(MAX_BUCKETS);
    expect(svg.lat).not.toContain('<circle');
    expect(svg.tl?.match(/fill="#c62828"/g)).toHaveLength(1);
    expect(svg.tl?.match(/<rect/g)).toHaveLength(3);
  });

  it('shows the round trip as figures and over time, with the canaries that did not arrive', () => {
    const html = renderReportHtml(data(), { language: 'en' });
    const section = html.slice(html.indexOf('<h4>Round trip</h4>'), html.indexOf('</details>'));
    expect(section).toContain('Canaries that must arrive: 4 · arrived: 2 · median 0.8 s · latest 1.2 s · not delivered: 1 · on the way: 1');
    const { data: numbers, svg } = chartsOf(html, 'shop');
    expect(numbers.rt?.v).toEqual([null, 0.4, 1.2, null]);
    expect(svg.rt).toContain('<svg class="chart line"');
    expect(svg.rt?.match(/<circle/g)).toHaveLength(2);
    expect(section).toContain('01JGZ8W5V4N6K2M3P7Q9R1S000');
    expect(section).toContain('CANARY_NOT_DELIVERED');
    expect(section).not.toContain('01JGZ8W5V4N6K2M3P7Q9R1S003');
  });

  it("separates canary bounces from the shop's own mail, and links each bounce to its raw message while it is kept", () => {
    const html = renderReportHtml(data('plain'), { language: 'en' });
    const canary = html.slice(html.indexOf('id="canary-bounces"'), html.indexOf('id="own-bounces"'));
    const own = html.slice(html.indexOf('id="own-bounces"'), html.indexOf('</section>', html.indexOf('id="own-bounces"')));
    expect(canary).toContain('full@customers.test');
    expect(canary).toContain('<a class="mono" href="raw/2026-01-05/a.eml">raw/2026-01-05/a.eml</a>');
    expect(own).toContain('xplain@example.test');
    expect(own).not.toContain('full@customers.test');
    expect(own).toContain('removed (retention)');
    expect(own).toContain('mailhealth suppressions');
  });

  it('says how long things are kept and what retention removed', () => {
    const html = renderReportHtml(data(), { language: 'en' });
    expect(html).toContain('Kept: raw received messages 30 days (raw/), history 35 days and at most 100000 records per target and list.');
    expect(html).toContain('2026-01-05 09:00:00 UTC: removed 120 bounces of shop older than the history days (up to 2025-11-30 00:00:00 UTC)');
    expect(html).toContain('2026-01-05 08:00:00 UTC: removed 340 raw message(s) of 2025-12-01 – 2025-12-05 (older than 30 days)');
  });

  it('speaks Japanese when the config says ja, with times in JST', () => {
    const html = renderReportHtml(data(), { language: 'ja' });
    expect(html).toContain('<html lang="ja">');
    expect(html).toContain('全対象の状態（問題のあるものから順に）');
    expect(html).toContain('対象ごとの詳細');
    expect(html).toContain('パスワードを確認してください。');
    expect(html).toContain('2026-01-05 18:01:00 JST');
  });

  it('says what to do when there is no history yet', () => {
    const html = renderReportHtml({ ...data(), targets: [], unmatchedBounces: [], kept: [] }, { language: 'en' });
    expect(html).toContain('No rounds recorded yet');
    expect(html).not.toContain('<svg');
    expect(html).not.toContain('<script');
  });
});

describe('report charts', () => {
  it('escapes labels and titles', () => {
    expect(MH.timeline([['ok', 1, HOSTILE]])).not.toContain('<script');
    expect(MH.line([[HOSTILE, '#000', [1, null, 3]]], 3, ['a', HOSTILE, 'c'], HOSTILE)).not.toContain('<script');
    expect(MH.line([[HOSTILE, '#000', [1, null, 3]]], 3, ['a', HOSTILE, 'c'], HOSTILE)).toContain('&lt;script&gt;');
    expect(barChartSvg([{ label: HOSTILE, value: 2, colour: '#000' }], HOSTILE)).not.toContain('<script');
    expect(esc(`"'<>&`)).toBe('&quot;&#39;&lt;&gt;&amp;');
  });

  it('labels the axis with as many decimals as its step: 0, 0.05, 0.1, 0.15, 0.2', () => {
    // Act
    const svg = MH.line([['rt', '#000', [0.12, 0.18, 0.2]]], 3, ['a', 'b', 'c'], 's');

    // Assess
    const labels = [...svg.matchAll(/<text x="50" [^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
    expect(labels).toEqual(['0', '0.05', '0.1', '0.15', '0.2', 's']);
    expect([0, 1, 2, 3].map((k) => MH.tick(2.5, k))).toEqual(['0', '2.5', '5', '7.5']);
    expect([0, 1, 2].map((k) => MH.tick(500, k))).toEqual(['0', '500', '1000']);
  });

  it('breaks a line where a round has no value for the step', () => {
    const svg = MH.line([['auth', '#000', [1, 2, null, 4, 5]]], 5, ['1', '3', '5'], 'ms');
    expect(svg.match(/<polyline/g)).toHaveLength(2);
    expect(svg.match(/<circle/g)).toHaveLength(4);
  });
});

describe('reportTime', () => {
  it('shows seconds, in UTC for English and JST for Japanese', () => {
    expect(reportTime('2026-01-05T09:08:07Z', 'en')).toBe('2026-01-05 09:08:07 UTC');
    expect(reportTime('2026-01-05T09:08:07Z', 'ja')).toBe('2026-01-05 18:08:07 JST');
  });
});
