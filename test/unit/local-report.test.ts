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
        bounces: [bounce],
        alerts: [],
      },
    ],
    unmatchedBounces: [{ ...bounce, target: null, canaryId: null, recipient: { ...bounce.recipient, recipient: `x${hostile}@example.test`, canaryId: null } }],
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
    expect(html).not.toMatch(/<script|<link|\ssrc=|\shref=|url\(|@import/i);
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`);
  });

  it('shows the status, the timeline, the latency chart, the bounces by reason and the findings with their remedies', () => {
    const html = renderReportHtml(data(), { language: 'en' });
    for (const id of ['status', 'timeline', 'latency', 'bounces', 'findings', 'alerts', 'kept']) expect(html).toContain(`<section id="${id}">`);
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
