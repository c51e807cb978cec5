import { describe, expect, it } from 'vitest';
import type { AlertEvent, HealthAlert } from '#core/alert/event.ts';
import { escapeHtml, formatEmail, formatEmailPost } from '#core/alert/email.ts';
import { MAX_GROUP } from '#core/alert/group.ts';
import { escapeMrkdwn, formatSlack, formatSlackPost } from '#core/alert/slack.ts';
import { alarmAlertFromCloudWatch } from '#core/alert/sns.ts';
import { formatDuration, formatTime } from '#core/alert/view.ts';
import { bounceFinding as bounceFindingOf } from '#core/bounce/findings.ts';
import { canaryNotDeliveredFinding } from '#core/health/canary.ts';
import { advanceHealth, initialHealthState, type HealthState } from '#core/health/state.ts';
import type { Language, Status } from '#core/findings.ts';
import { at, bounced, canaryAt, mailboxFull, round, T0 } from '../helpers/alert-fixtures.ts';

/** The events of a sequence of rounds, five minutes apart (deterministic incident ids). */
function healthEvents(statuses: Status[], reminderMinutes = 60): HealthAlert[] {
  let state: HealthState = initialHealthState('shop');
  const out: HealthAlert[] = [];
  statuses.forEach((status, i) => {
    const step = advanceHealth(state, round(status, at(i * 5), { canaryId: canaryAt(i * 5) }), {
      now: new Date(T0 + i * 5 * 60_000 + 10_000),
      thresholds: { failureThreshold: 2, recoveryThreshold: 2, reminderMinutes },
      newIncidentId: () => '01KE5R0000INCIDENT0000000A',
    });
    if (step.kind !== 'applied') throw new Error(step.kind);
    state = step.state;
    out.push(...step.events);
  });
  return out;
}

const cloudWatchAlarm = {
  AlarmName: 'mail-health-shop-canary-failing',
  AlarmDescription: 'The canary of shop failed in 2 of the last 2 periods.',
  AWSAccountId: '123456789012',
  NewStateValue: 'ALARM',
  NewStateReason:
    'Threshold Crossed: 2 out of the last 2 datapoints [0.0 (05/01/26 00:25:00), 0.0 (05/01/26 00:20:00)] were less than the threshold (1.0).',
  StateChangeTime: '2026-01-05T00:30:12.345+0000',
  Region: 'Asia Pacific (Tokyo)',
  AlarmArn: 'arn:aws:cloudwatch:ap-northeast-1:123456789012:alarm:mail-health-shop-canary-failing',
  OldStateValue: 'OK',
  Trigger: {
    MetricName: 'CanarySuccess',
    Namespace: 'MailHealth',
    StatisticType: 'Statistic',
    Statistic: 'MINIMUM',
    Dimensions: [{ value: 'shop', name: 'Target' }],
    Period: 300,
    EvaluationPeriods: 2,
    ComparisonOperator: 'LessThanThreshold',
    Threshold: 1.0,
    TreatMissingData: 'breaching',
  },
};

function alarmEvent(): AlertEvent {
  const event = alarmAlertFromCloudWatch(cloudWatchAlarm, { now: new Date(T0 + 31 * 60_000), random: (n) => new Uint8Array(n) });
  if (!event) throw new Error('alarm not recognised');
  return event;
}

const [failing, reminder1] = healthEvents(Array.from({ length: 14 }, () => 'critical' as Status));
const recovered = healthEvents(['critical', 'critical', 'critical', 'ok', 'ok'])[1];
const [warning, warningCleared] = healthEvents(['warning', 'warning', 'ok', 'ok']);

const { reply: _reply, ...bounceFinding } = mailboxFull;

const events: Record<string, AlertEvent> = {
  failing: failing!,
  reminder: reminder1!,
  recovered: recovered!,
  warning: warning!,
  'warning cleared': warningCleared!,
  bounce: {
    kind: 'bounce',
    key: `bounce#${canaryAt(0)}#owner@example.jp`,
    incidentId: '01KE5R0000INCIDENT0000000B',
    target: 'shop',
    at: at(12),
    startedAt: at(12),
    status: 'warning',
    // The bounce module's finding carries no reply; the DSN diagnostic stands in for it.
    findings: [bounceFinding],
    canaryId: canaryAt(0),
    bounce: bounced(),
  },
  'customer bounce': {
    kind: 'bounce',
    key: 'bounce#unmatched:raw/2026-01-05/x.eml#taro@example.com',
    incidentId: '01KE5R0000INCIDENT0000000D',
    target: null,
    at: at(12),
    startedAt: at(12),
    status: 'critical',
    findings: [bounceFindingOf(bounced({ recipient: 'taro@example.com', reason: 'userunknown', status: '5.1.1', replyCode: 550, hard: true, canaryId: null, diagnostic: '550 5.1.1 <taro@example.com>: User unknown' }))!],
    canaryId: null,
    bounce: bounced({ recipient: 'taro@example.com', reason: 'userunknown', status: '5.1.1', replyCode: 550, hard: true, canaryId: null, diagnostic: '550 5.1.1 <taro@example.com>: User unknown' }),
  },
  digest: {
    kind: 'digest',
    key: `digest#shop#${at(12)}`,
    incidentId: '01KE5R0000INCIDENT0000000E',
    target: 'shop',
    at: at(22),
    startedAt: at(12),
    status: 'critical',
    findings: [],
    windowStart: at(12),
    windowEnd: at(22),
    total: 1234,
    canary: 0,
    customer: 1234,
    byReason: [
      { reason: 'userunknown', count: 1100 },
      { reason: 'hostunknown', count: 100 },
      { reason: 'mailboxfull', count: 34 },
    ],
    topDomains: [
      { domain: 'docomo.ne.jp', count: 400 },
      { domain: 'ezweb.ne.jp', count: 300 },
      { domain: 'gmail.com', count: 200 },
      { domain: 'yahoo.co.jp', count: 100 },
      { domain: 'example.com', count: 50 },
    ],
    otherDomains: 184,
    sample: ['a@docomo.ne.jp', 'b@ezweb.ne.jp', 'c@gmail.com', 'd@docomo.ne.jp', 'e@yahoo.co.jp'],
    alertedAtOnce: ['BOUNCE_INVALID_ADDRESS', 'BOUNCE_MAILBOX_FULL'],
    seeAlso: { command: 'mailhealth suppressions --state /var/lib/mailhealth', report: '/var/lib/mailhealth/report.html' },
  },
  undelivered: {
    kind: 'undelivered',
    key: `undelivered#${canaryAt(0)}`,
    incidentId: '01KE5R0000INCIDENT0000000C',
    target: 'shop',
    at: at(16),
    startedAt: at(0),
    status: 'critical',
    findings: [
      canaryNotDeliveredFinding(
        { id: canaryAt(0), target: 'shop', sentAt: at(0), recipients: ['canary@bounces.example.jp'], deliveredAt: null },
        15,
      ),
    ],
    canaryId: canaryAt(0),
    sentAt: at(0),
    recipients: ['canary@bounces.example.jp'],
    timeoutMinutes: 15,
  },
  alarm: alarmEvent(),
};

describe('formatSlack and formatEmail', () => {
  for (const [kind, event] of Object.entries(events)) {
    for (const lang of ['en', 'ja'] as Language[]) {
      it(`formats a ${kind} alert in ${lang}`, () => {
        // Prepare / Act
        const slack = formatSlack(event, lang);
        const email = formatEmail(event, lang);

        // Assess
        expect(slack).toMatchSnapshot('slack');
        expect(email.subject).toMatchSnapshot('subject');
        expect(email.text).toMatchSnapshot('text');
        expect(email.html).toMatchSnapshot('html');
      });
    }
  }

  it('names the target, the status, the failing step, the cause, the remedy and the timings', () => {
    // Prepare / Act
    const text = formatEmail(events.failing!, 'en').text;
    const slack = JSON.stringify(formatSlack(events.failing!, 'ja'));

    // Assess
    for (const part of ['shop', 'CRITICAL', 'AUTH', 'The server refused the user name or password.', 'Check the SMTP password', '230 ms', '2026-01-05 00:00 UTC']) {
      expect(text).toContain(part);
    }
    for (const part of ['障害', '認証 (AUTH)', 'サーバーがユーザー名またはパスワードを拒否しました。', 'SMTP パスワードを確認', '2026-01-05 09:00 JST']) {
      expect(slack).toContain(part);
    }
  });

  it("says that a bounce of the shop's own mail is not a canary's", () => {
    expect(formatEmail(events['customer bounce']!, 'en').text).toContain('A message to taro@example.com bounced: invalid address');
    expect(formatEmail(events['customer bounce']!, 'en').text).toContain('(your own mail, not a canary)');
    expect(formatEmail(events['customer bounce']!, 'en').text).not.toContain('Canary bounced');
    expect(formatSlack(events['customer bounce']!, 'ja').text).toContain('taro@example.com 宛てのメールが返送されました');
    expect(formatSlack(events.bounce!, 'en').text).toContain('Canary bounced: owner@example.jp');
  });

  it('gives a digest its counts, top domains, first addresses and where to see the rest', () => {
    const text = formatEmail(events.digest!, 'en').text;
    expect(formatEmail(events.digest!, 'en').subject).toBe('[mail-health] BOUNCE DIGEST shop: 1234 bounces (most: no such mailbox)');
    for (const part of ['1234', 'docomo.ne.jp 400', 'others 184', 'a@docomo.ne.jp, b@ezweb.ne.jp', 'mailhealth suppressions --state /var/lib/mailhealth', '/var/lib/mailhealth/report.html']) {
      expect(text).toContain(part);
    }
  });

  it('says how long a recovered outage lasted', () => {
    expect(formatEmail(events.recovered!, 'en').subject).toBe('[mail-health] RECOVERED shop (lasted 15 min)');
    expect(formatEmail(events.recovered!, 'ja').subject).toBe('[mail-health] 復旧 shop（15分続きました）');
  });

  it('escapes HTML and Slack control characters coming from a server reply', () => {
    // Prepare: a hostile reply and remedy
    const base = events.failing as HealthAlert;
    const hostile: HealthAlert = {
      ...base,
      target: 'shop',
      findings: [
        {
          ...base.findings[0]!,
          reply: '550 <script>alert("x")</script> & <!channel> <http://evil.example|click>',
          message: { en: 'Mailbox "a" & <b>', ja: 'メールボックス "a" & <b>' },
        },
      ],
    };

    // Act
    const html = formatEmail(hostile, 'en').html;
    const slack = JSON.stringify(formatSlack(hostile, 'en').blocks);

    // Assess
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;!channel&gt;');
    expect(html).toContain('Mailbox &quot;a&quot; &amp; &lt;b&gt;');
    expect(slack).not.toContain('<!channel>');
    expect(slack).not.toContain('<http://evil.example|click>');
    expect(slack).toContain('&lt;!channel&gt; &lt;http://evil.example|click&gt;');
  });

  it('keeps the subject on one line even when a target name carries a line break', () => {
    const subject = formatEmail({ ...(events.failing as HealthAlert), target: 'shop\r\nBcc: victim@example.jp' }, 'en').subject;
    expect(subject).not.toMatch(/[\r\n]/);
  });

  it("stays within Slack's block limits for long texts", () => {
    // Prepare
    const long = 'x'.repeat(5000);
    const base = events.failing as HealthAlert;
    const event: HealthAlert = { ...base, target: long, findings: Array.from({ length: 9 }, () => ({ ...base.findings[0]!, message: { en: long, ja: long } })) };

    // Act
    const { blocks } = formatSlack(event, 'en');

    // Assess
    const header = blocks[0];
    expect(header?.type === 'header' && [...header.text.text].length).toBeLessThanOrEqual(150);
    for (const b of blocks) {
      if (b.type === 'section' && 'text' in b) expect(b.text.text.length).toBeLessThanOrEqual(3000);
      if (b.type === 'section' && 'fields' in b) expect(b.fields.length).toBeLessThanOrEqual(10);
    }
    expect(blocks.length).toBeLessThanOrEqual(50);
    expect(JSON.stringify(blocks)).toContain('… and 4 more');
  });
});

/** The same alert for other targets (a provider they share went down). */
function forTargets<E extends AlertEvent>(event: E, names: string[]): E[] {
  return names.map((target, i) => ({ ...event, key: `${event.key}#${target}`, target, startedAt: new Date(Date.parse(event.startedAt) + i * 60_000).toISOString() }));
}

const groups: Record<string, AlertEvent[]> = {
  failing: forTargets(events.failing!, ['shop', 'clinic', 'school']),
  recovered: [...forTargets(events.recovered!, ['shop', 'clinic']), ...forTargets(events['warning cleared']!, ['bakery'])],
  mixed: [
    ...forTargets(events.failing!, ['shop', 'clinic']),
    ...forTargets(events.reminder!, ['school']),
    ...forTargets(events.warning!, ['bakery']),
    ...forTargets(events.undelivered!, ['florist']),
    ...forTargets(events.recovered!, ['dentist']),
  ],
};

describe('formatSlackPost and formatEmailPost', () => {
  for (const [kind, group] of Object.entries(groups)) {
    for (const lang of ['en', 'ja'] as Language[]) {
      it(`formats a group of ${kind} alerts in ${lang}`, () => {
        // Prepare / Act
        const slack = formatSlackPost(group, lang);
        const email = formatEmailPost(group, lang);

        // Assess
        expect(slack).toMatchSnapshot('slack');
        expect(email.subject).toMatchSnapshot('subject');
        expect(email.text).toMatchSnapshot('text');
        expect(email.html).toMatchSnapshot('html');
      });
    }
  }

  it('formats a post of one alert exactly as that alert alone', () => {
    expect(formatSlackPost([events.bounce!], 'ja')).toEqual(formatSlack(events.bounce!, 'ja'));
    expect(formatEmailPost([events.failing!], 'en')).toEqual(formatEmail(events.failing!, 'en'));
  });

  it("names every target of a group on a line of its own, each recovery included, and the shared cause once", () => {
    // Prepare
    const names = Array.from({ length: MAX_GROUP }, (_, i) => `customer-${String(i).padStart(2, '0')}`);

    // Act
    const failing = formatEmailPost(forTargets(events.failing!, names), 'en');
    const recovered = formatSlackPost(forTargets(events.recovered!, names), 'ja');

    // Assess
    expect(failing.subject).toBe('[mail-health] FAILING 25 targets: customer-00, customer-01, customer-02 and 22 more');
    for (const name of names) expect(failing.text).toMatch(new RegExp(`^- ${name} · AUTH_FAILED @ AUTH · since `, 'm'));
    expect(failing.text.match(/\[AUTH_FAILED\] 25 targets/g)).toHaveLength(1);
    const recoveredText = JSON.stringify(recovered.blocks);
    for (const name of names) expect(recoveredText).toContain(`• ${name} · `);
    expect(recovered.blocks[0]).toMatchObject({ type: 'header', text: { text: '✅ 復旧しました: 25 件の対象' } });
  });

  it("stays within Slack's block limits for a full group of long target names", () => {
    const names = Array.from({ length: MAX_GROUP }, (_, i) => `${'x'.repeat(200)}-${i}`);
    const { blocks } = formatSlackPost(forTargets(events.failing!, names), 'en');
    for (const b of blocks) if (b.type === 'section' && 'text' in b) expect(b.text.text.length).toBeLessThanOrEqual(3000);
    expect(blocks.length).toBeLessThanOrEqual(50);
    for (const name of names) expect(JSON.stringify(blocks)).toContain(name);
  });

  it('refuses to put a bounce alert into a group', () => {
    expect(() => formatSlackPost([events.failing!, events.bounce!], 'en')).toThrow(/only health alerts/);
  });
});

describe('formatTime and formatDuration', () => {
  it('shows Tokyo time for Japanese and UTC for English unless a zone is given', () => {
    expect(formatTime('2026-01-05T15:30:00Z', 'ja')).toBe('2026-01-06 00:30 JST');
    expect(formatTime('2026-01-05T15:30:00Z', 'en')).toBe('2026-01-05 15:30 UTC');
    expect(formatTime('2026-01-05T15:30:00Z', 'en', { timeZone: 'Europe/Berlin' })).toBe('2026-01-05 16:30 Europe/Berlin');
  });

  it('reads durations in days, hours and minutes', () => {
    expect(formatDuration(30_000, 'en')).toBe('less than a minute');
    expect(formatDuration(65 * 60_000, 'en')).toBe('1 h 5 min');
    expect(formatDuration((26 * 60 + 5) * 60_000, 'ja')).toBe('1日2時間5分');
    expect(formatDuration(2 * 3600_000, 'ja')).toBe('2時間');
  });

  it('escapes exactly the characters each format needs', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    expect(escapeMrkdwn('a & <b> *c*')).toBe('a &amp; &lt;b&gt; *c*');
  });
});
