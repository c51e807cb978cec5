import { describe, expect, it } from 'vitest';
import type { Finding } from '#core/findings.ts';
import type { BounceRecord } from '#core/health/records.ts';
import type { TargetResult } from '#core/results.ts';
import type { ReportData } from '#local/report/data.ts';
import { renderReportHtml, reportTime } from '#local/report/html.ts';
import { barChartSvg, esc, lineChartSvg, timelineSvg } from '#local/report/svg.ts';

const HOSTILE = '<script>alert("x")</script>&<img src=x onerror=alert(1)>';

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

/** A history; `hostile` is what the outside world put in replies, addresses and file names. */
function data(hostile = HOSTILE): ReportData {
  const bounce = bounceOf(hostile);
  return {
    generatedAt: '2026-01-05T09:01:00Z',
    stateDir: '/tmp/state',
    targets: [
      {
        name: 'shop',
        health: null,
        rounds: [round('2026-01-05T09:00:00Z', 'ok'), round('2026-01-05T09:00:10Z', 'critical', [authFailed(hostile)])],
        bounces: [{ ...bounce, source: 'raw/2026-01-05/a.eml' }],
        alerts: [],
        canaries: [
          { id: '01JGZ8W5V4N6K2M3P7Q9R1S000', target: 'shop', sentAt: '2026-01-05T08:30:00.000Z', recipients: ['c@bounces.test'], deliveredAt: null },
          { id: '01JGZ8W5V4N6K2M3P7Q9R1S001', target: 'shop', sentAt: '2026-01-05T08:35:00.000Z', recipients: ['c@bounces.test'], deliveredAt: '2026-01-05T08:35:00.400Z' },
          { id: '01JGZ8W5V4N6K2M3P7Q9R1S002', target: 'shop', sentAt: '2026-01-05T08:40:00.000Z', recipients: ['c@bounces.test'], deliveredAt: '2026-01-05T08:40:01.200Z' },
          { id: '01JGZ8W5V4N6K2M3P7Q9R1S003', target: 'shop', sentAt: '2026-01-05T09:00:00.000Z', recipients: ['c@bounces.test'], deliveredAt: null },
        ],
      },
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

describe('renderReportHtml', () => {
  it('escapes everything that came from outside', () => {
    // Act
    const html = renderReportHtml(data(), { language: 'en' });

    // Assess: the hostile text shows as text, never as markup.
    expect(html).not.toContain('<script');
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&lt;img src=x onerror=alert(1)&gt;');
  });

  it('is self-contained: no script, no external resource, a policy that forbids loading any', () => {
    const html = renderReportHtml(data('plain text'), { language: 'en' });
    expect(html).not.toMatch(/<script|<link|\ssrc=|url\(|@import/i);
    // The only links are to raw messages beside the page (relative, no scheme).
    expect([...html.matchAll(/\shref="([^"]*)"/g)].map((m) => m[1])).toEqual(['raw/2026-01-05/a.eml']);
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`);
  });

  it('shows the status, the timeline, the latency chart, the bounces by reason and the findings with their remedies', () => {
    const html = renderReportHtml(data(), { language: 'en' });
    for (const id of ['status', 'timeline', 'latency', 'roundtrip', 'bounces', 'findings', 'alerts', 'kept', 'retention']) expect(html).toContain(`<section id="${id}">`);
    expect(html).toMatch(/<svg class="chart timeline"[^>]*>(<rect [^>]*fill="#2e7d32">.*?<\/rect>)(<rect [^>]*fill="#c62828">)/);
    expect(html).toContain('<svg class="chart line"');
    expect(html).toContain('<polyline');
    expect(html).toContain('mailboxfull (mailbox full)');
    expect(html).toContain('AUTH_FAILED');
    expect(html).toContain('Check the password.');
    expect(html).toContain('BOUNCE_MAILBOX_FULL');
    expect(html).toContain('Ask the recipient to delete old mail.');
    expect(html).toContain('50% (1/2)');
  });

  it('shows the round trip as figures and over time, with the canaries that did not arrive', () => {
    const html = renderReportHtml(data(), { language: 'en' });
    const section = html.slice(html.indexOf('<section id="roundtrip">'), html.indexOf('</section>', html.indexOf('<section id="roundtrip">')));
    expect(section).toContain('Canaries that must arrive: 4 · arrived: 2 · median 0.8 s · latest 1.2 s · not delivered: 1 · on the way: 1');
    expect(section).toContain('<svg class="chart line"');
    expect(section.match(/<circle/g)).toHaveLength(2);
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
    expect(html).toContain('対象ごとの状態');
    expect(html).toContain('パスワードを確認してください。');
    expect(html).toContain('2026-01-05 18:01:00 JST');
  });

  it('says what to do when there is no history yet', () => {
    const html = renderReportHtml({ ...data(), targets: [], unmatchedBounces: [], kept: [] }, { language: 'en' });
    expect(html).toContain('No rounds recorded yet');
    expect(html).not.toContain('<svg');
  });
});

describe('report charts', () => {
  it('escapes labels and titles', () => {
    expect(timelineSvg([{ tone: 'ok', title: HOSTILE }], HOSTILE)).not.toContain('<script');
    expect(lineChartSvg([{ name: HOSTILE, colour: '#000', values: [1, null, 3] }], ['a', 'b', 'c'], 'ms', HOSTILE)).not.toContain('<script');
    expect(barChartSvg([{ label: HOSTILE, value: 2, colour: '#000' }], HOSTILE)).not.toContain('<script');
    expect(esc(`"'<>&`)).toBe('&quot;&#39;&lt;&gt;&amp;');
  });

  it('breaks a line where a round has no value for the step', () => {
    const svg = lineChartSvg([{ name: 'auth', colour: '#000', values: [1, 2, null, 4, 5] }], ['1', '2', '3', '4', '5'], 'ms', 'x');
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
