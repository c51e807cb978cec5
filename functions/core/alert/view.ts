/**
 * What an alert says, decided once for every channel: title, summary, facts, causes with
 * remedies, step timings. The Slack and email renderers only lay it out and escape it.
 */
import { reasonText } from '../bounce/findings.ts';
import type { Finding, Language, SmtpStep, Status } from '../findings.ts';
import type { BounceReason, StepResult } from '../results.ts';
import type { AlertEvent, DmarcAlert } from './event.ts';

/** Rendering options shared by every channel. */
export interface FormatOptions {
  /**
   * IANA time zone for the times shown.
   * @default 'Asia/Tokyo' for Japanese, 'UTC' for English
   */
  readonly timeZone?: string;
}

/** The tone of an alert: decides its emoji and colour. */
export type AlertTone = 'critical' | 'warning' | 'ok' | 'neutral';

/** One finding as an alert shows it, in the alert's language. */
export interface AlertCause {
  readonly code: string;
  readonly severity: Finding['severity'];
  readonly step: string | null;
  readonly recipient: string | null;
  readonly reply: string | null;
  readonly message: string;
  readonly remedy: string;
}

/** A heading and its lines (plain text; the renderers escape them). */
export interface AlertList {
  readonly heading: string;
  readonly lines: readonly string[];
}

/** The localized content of one alert, before layout and escaping. */
export interface AlertView {
  readonly tone: AlertTone;
  readonly emoji: string;
  readonly title: string;
  readonly subject: string;
  readonly summary: string;
  readonly facts: readonly (readonly [label: string, value: string])[];
  /** Lines under headings, e.g. the targets of a group of alerts by kind (functions/core/alert/group.ts). */
  readonly lists?: readonly AlertList[];
  readonly causesHeading: string;
  readonly causes: readonly AlertCause[];
  /** "… and 3 more" when findings were left out; null otherwise. */
  readonly moreCauses: string | null;
  readonly stepsHeading: string;
  readonly steps: readonly string[];
  readonly labels: { readonly reply: string; readonly remedy: string };
  readonly footer: string;
  readonly lang: Language;
}

/** At most this many findings per alert: the first ones are the worst, the rest is noise. */
export const MAX_CAUSES = 5;

/** At most this many silent targets named in the text of an alert; the count says the rest. */
const SILENT_NAMED = 10;

const STATUS_LABEL: Record<Status, Record<Language, string>> = {
  ok: { en: 'OK', ja: '正常' },
  warning: { en: 'WARNING', ja: '警告' },
  critical: { en: 'CRITICAL', ja: '障害' },
  unknown: { en: 'UNKNOWN', ja: '不明' },
};

const STEP_LABEL: Record<SmtpStep, Record<Language, string>> = {
  connect: { en: 'connect', ja: '接続 (connect)' },
  greeting: { en: 'greeting', ja: 'グリーティング (greeting)' },
  ehlo: { en: 'EHLO', ja: 'EHLO' },
  starttls: { en: 'STARTTLS', ja: 'STARTTLS' },
  auth: { en: 'AUTH', ja: '認証 (AUTH)' },
  mail: { en: 'MAIL FROM', ja: 'MAIL FROM' },
  rcpt: { en: 'RCPT TO', ja: 'RCPT TO' },
  data: { en: 'DATA', ja: 'DATA' },
  quit: { en: 'QUIT', ja: 'QUIT' },
};

const BOUNCE_LABEL: Record<string, Record<Language, string>> = {
  BOUNCE_MAILBOX_FULL: { en: 'mailbox full', ja: 'メールボックスの容量超過' },
  BOUNCE_INVALID_ADDRESS: { en: 'invalid address', ja: '宛先アドレスが存在しない' },
  BOUNCE_MESSAGE_TOO_LARGE: { en: 'message too large', ja: 'メールのサイズ超過' },
  BOUNCE_BLOCKED: { en: 'blocked by the receiving server', ja: '受信側での拒否' },
  BOUNCE_TRANSIENT: { en: 'temporary failure', ja: '一時的なエラー' },
  BOUNCE_OTHER: { en: 'other failure', ja: 'その他のエラー' },
};

const L = {
  target: { en: 'Target', ja: '対象' },
  status: { en: 'Status', ja: '状態' },
  failedStep: { en: 'Failed step', ja: '失敗したステップ' },
  step: { en: 'Step', ja: '該当ステップ' },
  started: { en: 'Started', ja: '発生' },
  duration: { en: 'Duration', ja: '継続時間' },
  recovered: { en: 'Recovered', ja: '復旧' },
  canary: { en: 'Canary', ja: 'テストメール ID' },
  recipient: { en: 'Recipient', ja: '宛先' },
  recipients: { en: 'Recipients', ja: '宛先' },
  reason: { en: 'Reason', ja: '理由' },
  dsnStatus: { en: 'Status code', ja: 'ステータスコード' },
  remoteMta: { en: 'Remote server', ja: '相手サーバー' },
  sent: { en: 'Sent', ja: '送信' },
  alarm: { en: 'Alarm', ja: 'アラーム' },
  state: { en: 'State', ja: '状態' },
  metric: { en: 'Metric', ja: 'メトリクス' },
  region: { en: 'Region', ja: 'リージョン' },
  changed: { en: 'Changed', ja: '変化した時刻' },
  causes: { en: 'Cause and what to do', ja: '原因と対処方法' },
  stillOpen: { en: 'Still worth a look', ja: '引き続き確認が必要な点' },
  steps: { en: 'Step timings', ja: '各ステップの所要時間' },
  reply: { en: 'Server reply', ja: 'サーバーの応答' },
  remedy: { en: 'What to do', ja: '対処方法' },
  incident: { en: 'incident', ja: 'インシデント' },
  window: { en: 'Window', ja: '集計期間' },
  bounces: { en: 'Bounces', ja: '返送の件数' },
  byReason: { en: 'By reason', ja: '理由別' },
  domains: { en: 'Top recipient domains', ja: '宛先ドメイン（上位）' },
  firstAddresses: { en: 'First addresses', ja: '最初の宛先' },
  seeRest: { en: 'All of them', ja: 'すべての返送の確認先' },
  others: { en: 'others', ja: 'その他' },
  ownMail: { en: 'your own mail', ja: '通常のメール' },
  canaries: { en: 'canaries', ja: 'テストメール' },
  unknownTarget: { en: '(unknown)', ja: '（不明）' },
  silentTargets: { en: 'Not reporting', ja: '報告のない対象' },
  lastRound: { en: 'Last round', ja: '最後のチェック' },
  never: { en: 'never', ja: 'なし' },
  silentAfter: { en: 'Silent after', ja: '判定の基準' },
  domain: { en: 'Domain', ja: 'ドメイン' },
  day: { en: 'Day (UTC)', ja: '対象日（UTC）' },
  reporter: { en: 'Reported by', ja: 'レポート送信元' },
  sender: { en: 'Sender', ja: '送信元' },
  senders: { en: 'Senders', ja: '送信元' },
  messages: { en: 'Messages', ja: 'メール数' },
  sessions: { en: 'TLS sessions failed', ja: '失敗した TLS 接続' },
  policy: { en: 'DMARC policy', ja: 'DMARC ポリシー' },
  sources: { en: 'Sources', ja: '送信元 IP' },
} as const satisfies Record<string, Record<Language, string>>;

const ZONE_ABBREVIATION: Record<string, string> = { UTC: 'UTC', 'Etc/UTC': 'UTC', 'Asia/Tokyo': 'JST' };

/** An ISO time as `2026-01-05 09:30 JST` in the given zone (deterministic, no locale words). */
export function formatTime(iso: string, lang: Language, options: FormatOptions = {}): string {
  const timeZone = options.timeZone ?? (lang === 'ja' ? 'Asia/Tokyo' : 'UTC');
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(date);
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '';
  return `${part('year')}-${part('month')}-${part('day')} ${part('hour')}:${part('minute')} ${ZONE_ABBREVIATION[timeZone] ?? timeZone}`;
}

/** A duration as `1 h 5 min` / `1時間5分` (minutes precision; under a minute said so). */
export function formatDuration(ms: number, lang: Language): string {
  const totalMinutes = Math.floor(ms / 60_000);
  if (totalMinutes < 1) return lang === 'ja' ? '1分未満' : 'less than a minute';
  const days = Math.floor(totalMinutes / 1440);
  const hours = Math.floor((totalMinutes % 1440) / 60);
  const minutes = totalMinutes % 60;
  if (lang === 'ja') return `${days ? `${days}日` : ''}${hours ? `${hours}時間` : ''}${minutes ? `${minutes}分` : ''}`;
  return [days ? `${days} d` : '', hours ? `${hours} h` : '', minutes ? `${minutes} min` : ''].filter(Boolean).join(' ');
}

/** The display name of an SMTP step. */
export function stepLabel(step: SmtpStep, lang: Language): string {
  return STEP_LABEL[step][lang];
}

/** One monospace line per timed step: `✓ RCPT TO      9 ms  a@example.jp` / `✗ AUTH  230 ms  535 …`. */
export function stepLines(steps: readonly StepResult[]): string[] {
  return steps.map((s) => {
    const name = STEP_LABEL[s.step].en.padEnd(10);
    const ms = `${Math.round(s.ms)} ms`.padStart(9);
    const notes = [s.step === 'rcpt' ? s.recipient : undefined, !s.ok ? s.reply : undefined].filter((x): x is string => Boolean(x));
    return `${s.ok ? '✓' : '✗'} ${name}${ms}${notes.length ? `  ${notes.join('  ')}` : ''}`;
  });
}

/** Columns a string takes in a monospace font: East Asian wide and full-width characters take two. */
export function displayWidth(s: string): number {
  let w = 0;
  for (const ch of s) w += /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/.test(ch) ? 2 : 1;
  return w;
}

function causesOf(findings: readonly Finding[], lang: Language): AlertCause[] {
  return findings.slice(0, MAX_CAUSES).map((f) => ({
    code: f.code,
    severity: f.severity,
    step: f.step ? stepLabel(f.step, lang) : null,
    recipient: f.recipient ?? null,
    reply: f.reply ?? null,
    message: f.message[lang],
    remedy: f.remedy[lang],
  }));
}

function moreOf(findings: readonly Finding[], lang: Language): string | null {
  const more = findings.length - MAX_CAUSES;
  if (more <= 0) return null;
  return lang === 'ja' ? `ほか ${more} 件` : `… and ${more} more`;
}

function toneOf(status: Status): AlertTone {
  return status === 'ok' ? 'ok' : status === 'warning' ? 'warning' : 'critical';
}

const EMOJI: Record<AlertTone, string> = { critical: '🔴', warning: '🟡', ok: '✅', neutral: '⚪' };

/**
 * Builds the localized content of an alert.
 * @example const view = alertView(event, 'ja', { timeZone: 'Asia/Tokyo' });
 */
export function alertView(event: AlertEvent, lang: Language, options: FormatOptions = {}): AlertView {
  const t = (s: Record<Language, string>) => s[lang];
  const time = (iso: string) => formatTime(iso, lang, options);
  const target = event.target ?? t(L.unknownTarget);
  const status = STATUS_LABEL[event.status][lang];
  const common = {
    lang,
    causesHeading: t(L.causes),
    causes: causesOf(event.findings, lang),
    moreCauses: moreOf(event.findings, lang),
    stepsHeading: t(L.steps),
    steps: [] as string[],
    labels: { reply: t(L.reply), remedy: t(L.remedy) },
    footer: `mail-health · ${t(L.incident)} ${event.incidentId}`,
  };
  const pre = '[mail-health]';

  switch (event.kind) {
    case 'failing':
    case 'warning':
    case 'reminder':
    case 'recovered': {
      const step = event.failedStep ? stepLabel(event.failedStep, lang) : null;
      const worst = event.findings[0];
      const duration = formatDuration(event.durationMs, lang);
      const start = time(event.startedAt);
      const facts: [string, string][] = [
        [t(L.target), target],
        [t(L.status), status],
      ];
      if (step && event.kind !== 'recovered') facts.push([t(event.kind === 'warning' ? L.step : L.failedStep), step]);
      facts.push([t(L.started), start]);
      // The outage ended when the first good round started, not when the alert went out.
      if (event.kind === 'recovered') facts.push([t(L.recovered), time(new Date(Date.parse(event.startedAt) + event.durationMs).toISOString())]);
      if (event.kind === 'recovered' || event.kind === 'reminder') facts.push([t(L.duration), duration]);
      facts.push([t(L.canary), event.canaryId]);
      const cause = worst ? (step ? `${worst.code} @ ${step}` : worst.code) : status;
      const steps = stepLines(event.steps);

      if (event.kind === 'recovered') {
        const openFindings = event.findings.filter((f) => f.severity !== 'info');
        const fromWarning = event.recoveredFrom === 'warning';
        return {
          ...common,
          tone: 'ok',
          emoji: EMOJI.ok,
          title: lang === 'ja' ? `復旧しました: ${target}` : `Recovered: ${target}`,
          subject:
            lang === 'ja'
              ? `${pre} 復旧 ${target}（${duration}続きました）`
              : `${pre} RECOVERED ${target} (lasted ${duration})`,
          summary: fromWarning
            ? lang === 'ja'
              ? `${target} の警告は解消しました。${start} に始まり、${duration}続きました。`
              : `The warning for ${target} has cleared. It started ${start} and lasted ${duration}.`
            : lang === 'ja'
              ? `${target} からのメール送信が復旧しました。障害は ${start} に始まり、${duration}続きました。`
              : `Mail sending from ${target} works again. The outage started ${start} and lasted ${duration}.`,
          facts,
          causesHeading: t(L.stillOpen),
          causes: causesOf(openFindings, lang),
          moreCauses: moreOf(openFindings, lang),
          steps,
        };
      }
      if (event.kind === 'warning') {
        return {
          ...common,
          tone: 'warning',
          emoji: EMOJI.warning,
          title: lang === 'ja' ? `メール送信に注意が必要です: ${target}` : `Mail sending needs attention: ${target}`,
          subject: lang === 'ja' ? `${pre} 警告 ${target}: ${cause}` : `${pre} WARNING ${target}: ${cause}`,
          summary:
            lang === 'ja'
              ? `${target} からのメールは送信できていますが、${start} から注意が必要な状態が続いています。`
              : `Mail from ${target} still goes out, but since ${start} something needs attention.`,
          facts,
          steps,
        };
      }
      if (event.kind === 'reminder') {
        return {
          ...common,
          tone: toneOf(event.status) === 'ok' ? 'critical' : toneOf(event.status),
          emoji: EMOJI.critical,
          title: lang === 'ja' ? `障害が続いています: ${target}（${duration}）` : `Still failing: ${target} (${duration})`,
          subject:
            lang === 'ja'
              ? `${pre} 障害継続 ${target}: ${duration}（${cause}）`
              : `${pre} STILL FAILING ${target} for ${duration}: ${cause}`,
          summary:
            lang === 'ja'
              ? `${target} の障害が ${start} から ${duration}続いています（リマインダー ${event.reminder ?? 1} 回目）。`
              : `${target} has been failing for ${duration}, since ${start} (reminder ${event.reminder ?? 1}).`,
          facts,
          steps,
        };
      }
      return {
        ...common,
        tone: 'critical',
        emoji: EMOJI.critical,
        title: lang === 'ja' ? `メールを送信できません: ${target}` : `Mail sending is failing: ${target}`,
        subject: lang === 'ja' ? `${pre} 障害 ${target}: ${cause}` : `${pre} FAILING ${target}: ${cause}`,
        summary:
          lang === 'ja'
            ? `${start} から ${target} の送信チェックが続けて失敗しています。お客様にメールが届いていない可能性があります。`
            : `The canary rounds for ${target} have failed since ${start}. Your customers may not be receiving your mail.`,
        facts,
        steps,
      };
    }

    case 'bounce': {
      const b = event.bounce;
      const worst = event.findings[0];
      const label = worst ? BOUNCE_LABEL[worst.code]?.[lang] : undefined;
      const reason = label ? `${label} (${b.reason})` : b.reason;
      // The shop's own mail that matched no target has no target to name.
      const facts: [string, string][] = [...(event.target === null && event.canaryId === null ? [] : [[t(L.target), target] as [string, string]]), [t(L.recipient), b.recipient], [t(L.reason), reason]];
      const code = [b.replyCode, b.status].filter((x) => x !== null).join(' ');
      if (code) facts.push([t(L.dsnStatus), code]);
      if (b.remoteMta) facts.push([t(L.remoteMta), b.remoteMta]);
      facts.push([t(L.started), time(event.startedAt)]);
      if (event.canaryId) facts.push([t(L.canary), event.canaryId]);
      const tone = toneOf(event.status);
      const what = label ?? b.reason;
      // A bounce of the shop's own mail is about its customer list, not about the sending path.
      const own = event.canaryId === null;
      const from = event.target ? (lang === 'ja' ? `${event.target} から` : ` from ${event.target}`) : '';
      return {
        ...common,
        tone,
        emoji: '📨',
        title: own
          ? lang === 'ja'
            ? `${b.recipient} 宛てのメールが返送されました: ${what}`
            : `A message to ${b.recipient} bounced: ${what}`
          : lang === 'ja'
            ? `テストメールが返送されました: ${b.recipient}`
            : `Canary bounced: ${b.recipient}`,
        subject:
          lang === 'ja'
            ? `${pre} 返送 ${b.recipient}: ${what}`
            : `${pre} BOUNCE ${b.recipient}: ${what}`,
        summary: own
          ? lang === 'ja'
            ? `${from}${b.recipient} 宛てに送ったメール（テストメールではない通常のメール）が返送されました（${what}）。`
            : `A message${from} to ${b.recipient} (your own mail, not a canary) came back: ${what}.`
          : lang === 'ja'
            ? `${target} から ${b.recipient} へ送ったテストメールが返送されました（${what}）。`
            : `A canary from ${target} to ${b.recipient} came back: ${what}.`,
        facts,
        // The diagnostic is what the remote server said; it reads like a reply.
        causes: common.causes.map((c, i) => (i === 0 && c.reply === null && b.diagnostic ? { ...c, reply: b.diagnostic } : c)),
      };
    }

    case 'digest': {
      const n = event.total;
      const span = formatDuration(Date.parse(event.windowEnd) - Date.parse(event.windowStart), lang);
      const who = event.target ?? t(L.ownMail);
      const reasonLine = (r: { readonly reason: BounceReason; readonly count: number }) => `${reasonText(r.reason)[lang]} (${r.reason}): ${r.count}`;
      const domains = [...event.topDomains.map((d) => `${d.domain} ${d.count}`), ...(event.otherDomains > 0 ? [`${t(L.others)} ${event.otherDomains}`] : [])];
      const where = [event.seeAlso.command, ...(event.seeAlso.report ? [event.seeAlso.report] : []), ...(event.seeAlso.dashboard ? [event.seeAlso.dashboard] : [])];
      const split = `${t(L.ownMail)} ${event.customer} · ${t(L.canaries)} ${event.canary}`;
      const facts: [string, string][] = [
        [t(L.target), target],
        [t(L.window), `${time(event.windowStart)} – ${time(event.windowEnd)}`],
        [t(L.bounces), `${n} (${split})`],
        [t(L.byReason), event.byReason.map(reasonLine).join('\n')],
        [t(L.domains), domains.join(', ')],
        [t(L.firstAddresses), `${event.sample.join(', ')}${n > event.sample.length ? ' …' : ''}`],
        [t(L.seeRest), where.join('\n')],
      ];
      const top = event.byReason[0];
      const topText = top ? reasonText(top.reason)[lang] : '';
      return {
        ...common,
        tone: toneOf(event.status),
        emoji: '📬',
        title: lang === 'ja' ? `返送のまとめ: ${who}（${span}で ${n} 件）` : `Bounce digest for ${who}: ${n} more in ${span}`,
        subject: lang === 'ja' ? `${pre} 返送のまとめ ${who}: ${n} 件（最多: ${topText}）` : `${pre} BOUNCE DIGEST ${who}: ${n} bounces (most: ${topText})`,
        summary:
          lang === 'ja'
            ? `各種類の最初の返送はすぐに通知しました。その後 ${time(event.windowStart)} から ${span}の間に、さらに ${n} 件が返送されました（1 件ずつの通知は送っていません）。無効なアドレスは配信リストから外すか修正してください。`
            : `The first bounce of each kind was alerted at once; in the ${span} from ${time(event.windowStart)}, ${n} more came back (not alerted one by one). Remove or fix the invalid addresses in your lists.`,
        facts,
      };
    }

    case 'undelivered': {
      const facts: [string, string][] = [
        [t(L.target), target],
        [t(L.status), status],
        [t(L.sent), time(event.sentAt)],
        [t(L.recipients), event.recipients.join(', ')],
        [t(L.canary), event.canaryId],
      ];
      return {
        ...common,
        tone: toneOf(event.status),
        emoji: '📭',
        title: lang === 'ja' ? `テストメールが届きません: ${target}` : `Canary not delivered: ${target}`,
        subject:
          lang === 'ja'
            ? `${pre} 未着 ${target}: ${event.timeoutMinutes} 分以内に届きませんでした`
            : `${pre} NOT DELIVERED ${target}: no arrival within ${event.timeoutMinutes} min`,
        summary:
          lang === 'ja'
            ? `${time(event.sentAt)} に ${target} から送ったテストメールが、${event.timeoutMinutes} 分以内に届きませんでした。`
            : `A canary sent from ${target} at ${time(event.sentAt)} did not arrive within ${event.timeoutMinutes} minutes.`,
        facts,
      };
    }

    case 'silent': {
      const duration = formatDuration(event.durationMs, lang);
      const start = time(event.startedAt);
      const listed = event.silent.slice(0, SILENT_NAMED);
      const names = listed.map((s) => s.target).join(', ') + (event.silentCount > listed.length ? (lang === 'ja' ? ` ほか ${event.silentCount - listed.length} 件` : ` and ${event.silentCount - listed.length} more`) : '');
      const who = event.silentCount === 1 ? (listed[0]?.target ?? target) : lang === 'ja' ? `${event.targetCount} 件中 ${event.silentCount} 件` : `${event.silentCount} of ${event.targetCount} targets`;
      const facts: [string, string][] = [];
      if (event.phase !== 'ended') {
        facts.push([t(L.silentTargets), names]);
        const last = listed[0];
        if (last) facts.push([t(L.lastRound), last.lastRoundAt ? time(last.lastRoundAt) : t(L.never)]);
        facts.push([t(L.silentAfter), lang === 'ja' ? `${event.silentAfterMinutes} 分以上チェック結果がない` : `no round for ${event.silentAfterMinutes} min`]);
      }
      facts.push([t(L.started), start]);
      if (event.phase !== 'started') facts.push([t(L.duration), duration]);
      // What to check is the same for one target or all: the machinery, not the mail server.
      const remedy =
        lang === 'ja'
          ? 'canary Lambda のエラー（CloudWatch の canary-errors アラームとロググループ）、EventBridge Scheduler のスケジュールが有効か、対象のシークレットを読めるかを確認してください。'
          : "Check the canary Lambda's errors (the canary-errors alarm and its log group), that its EventBridge Scheduler schedules are enabled, and that it can read the targets' secrets.";
      if (event.phase === 'ended') {
        return {
          ...common,
          tone: 'ok',
          emoji: EMOJI.ok,
          title: lang === 'ja' ? '送信チェックが再開しました' : 'Canary rounds are reporting again',
          subject: lang === 'ja' ? `${pre} 再開 送信チェック（${duration}停止）` : `${pre} REPORTING AGAIN after ${duration}`,
          summary:
            lang === 'ja'
              ? `${start} から止まっていた送信チェックが、すべての対象で再び記録されています（停止 ${duration}）。`
              : `Every target reports its canary rounds again; they had stopped at ${start} (${duration}).`,
          facts,
        };
      }
      const still = event.phase === 'reminder';
      return {
        ...common,
        tone: 'critical',
        emoji: '🔕',
        title:
          lang === 'ja'
            ? `${still ? '送信チェックが止まったままです' : '送信チェックが止まっています'}: ${who}`
            : `${still ? 'Canary still not reporting' : 'Canary not reporting'}: ${who}`,
        subject: lang === 'ja' ? `${pre} ${still ? '停止継続' : '停止'} 送信チェック: ${who}` : `${pre} ${still ? 'STILL NOT REPORTING' : 'NOT REPORTING'}: ${who}`,
        summary:
          lang === 'ja'
            ? `${names} の送信チェックが ${event.silentAfterMinutes} 分以上記録されていません。この間のメール送信の問題は検知できません。${remedy}`
            : `No canary round has been recorded for ${names} for more than ${event.silentAfterMinutes} minutes, so mail problems there would go unseen. ${remedy}`,
        facts,
      };
    }

    case 'dmarc':
      return { ...common, ...dmarcView(event, lang, options) };

    case 'alarm': {
      const a = event.alarm;
      const tone: AlertTone = a.state === 'ALARM' ? 'critical' : a.state === 'OK' ? 'ok' : 'neutral';
      const facts: [string, string][] = [
        [t(L.alarm), a.name],
        [t(L.state), a.previousState ? `${a.previousState} → ${a.state}` : a.state],
      ];
      if (event.target) facts.push([t(L.target), event.target]);
      if (a.metric) facts.push([t(L.metric), a.metric]);
      if (a.region) facts.push([t(L.region), a.region]);
      facts.push([t(L.changed), time(event.startedAt)]);
      const summary = a.description ? `${a.description}\n${a.reason}` : a.reason;
      return {
        ...common,
        tone,
        emoji: a.state === 'ALARM' ? '🔔' : EMOJI[tone],
        title: lang === 'ja' ? `CloudWatch アラーム: ${a.name} が ${a.state}` : `CloudWatch alarm: ${a.name} is ${a.state}`,
        subject: `${pre} ${a.state} ${a.name}`,
        summary,
        facts,
      };
    }
  }
}

/** The parts of a DMARC report alert's view that differ by change. */
function dmarcView(event: DmarcAlert, lang: Language, options: FormatOptions): Pick<AlertView, 'tone' | 'emoji' | 'title' | 'subject' | 'summary' | 'facts'> {
  const t = (x: Record<Language, string>) => x[lang];
  const pre = '[mail-health]';
  const { domain, day, reporter } = event;
  const ja = lang === 'ja';
  const facts: [string, string][] = [
    [t(L.target), event.target],
    [t(L.domain), domain],
    [t(L.day), day],
    [t(L.reporter), reporter],
  ];
  if (event.sender) facts.push([t(L.sender), event.sender]);
  if (event.senders.length > 0) facts.push([t(L.senders), event.senders.join(', ')]);
  const tls = event.change === 'tls-failing' || event.change === 'tls-ok';
  if (event.messages > 0) facts.push([t(tls ? L.sessions : L.messages), String(event.messages)]);
  if (event.policy) facts.push([t(L.policy), `p=${event.policy}`]);
  if (event.sources.length > 0) facts.push([t(L.sources), event.sources.map((s) => `${s.ip}${s.ptr ? ` (${s.ptr})` : ''}: ${s.count} · SPF ${s.spf} · DKIM ${s.dkim}${s.disposition !== 'none' ? ` · ${s.disposition}` : ''}`).join('\n')]);
  facts.push([t(L.started), formatTime(event.startedAt, lang, options)]);
  const sender = event.sender ?? '';
  switch (event.change) {
    case 'failing':
      return {
        tone: 'critical',
        emoji: EMOJI.critical,
        title: ja ? `自社のメールが DMARC に失敗しています: ${domain}（${sender}）` : `Your own mail fails DMARC: ${sender} for ${domain}`,
        subject: ja ? `${pre} DMARC 失敗 ${domain}: ${sender}` : `${pre} DMARC FAIL ${domain}: ${sender}`,
        summary: ja
          ? `${reporter} のレポートによると、${day} に ${sender} から ${domain} として送られたメール ${event.messages} 通が DMARC に失敗しました。この送信元は以前は合格していたため、あなた自身のメールです。受信側で迷惑メール扱いや拒否になるおそれがあります。`
          : `Reports from ${reporter} show mail sent as ${domain} from ${sender} failing DMARC on ${day} (${event.messages} messages). It passed before, so this is your own mail, and receivers may junk or refuse it.`,
        facts,
      };
    case 'passing':
      return {
        tone: 'ok',
        emoji: EMOJI.ok,
        title: ja ? `DMARC に再び合格しています: ${domain}（${sender}）` : `DMARC passes again: ${sender} for ${domain}`,
        subject: ja ? `${pre} DMARC 復旧 ${domain}: ${sender}` : `${pre} DMARC PASSING ${domain}: ${sender}`,
        summary: ja ? `${reporter} のレポートによると、${day} に ${sender} から送られた ${domain} のメールは DMARC に合格しています。` : `Reports from ${reporter} show mail from ${sender} passing DMARC for ${domain} again on ${day}.`,
        facts,
      };
    case 'unknown': {
      const n = event.senders.length;
      return {
        tone: 'warning',
        emoji: EMOJI.warning,
        title: ja ? `見知らぬ送信元が ${domain} を名乗っています（${n} 件）` : `Unknown senders send as ${domain} (${n})`,
        subject: ja ? `${pre} DMARC 不明な送信元 ${domain}: ${n} 件` : `${pre} DMARC UNKNOWN SENDERS ${domain}: ${n}`,
        summary: ja
          ? `${reporter} のレポートによると、${day} に DMARC に一度も合格したことのない送信元 ${n} 件が ${domain} として ${event.messages} 通を送りました。なりすましか、設定されていないサービスです。`
          : `Reports from ${reporter} show ${n} sender${n === 1 ? '' : 's'} that never passed DMARC sending ${event.messages} messages as ${domain} on ${day}: forgery, or a service nobody set up.`,
        facts,
      };
    }
    case 'tls-failing':
      return {
        tone: toneOf(event.status),
        emoji: '🔓',
        title: ja ? `${domain} への TLS 配送が失敗しています` : `TLS delivery to ${domain} fails`,
        subject: ja ? `${pre} TLS 失敗 ${domain}: ${event.messages} 件` : `${pre} TLS FAILURE ${domain}: ${event.messages} sessions`,
        summary: ja
          ? `${reporter} のレポートによると、${day} に ${domain} のメールサーバーへの TLS 接続が ${event.messages} 回失敗しました。お客様からのメールの受信に関わります。`
          : `Reports from ${reporter} show ${event.messages} TLS sessions to ${domain}'s mail servers failing on ${day}. This is about the mail your customers send you.`,
        facts,
      };
    case 'tls-ok':
      return {
        tone: 'ok',
        emoji: EMOJI.ok,
        title: ja ? `${domain} への TLS 配送が回復しました` : `TLS delivery to ${domain} works again`,
        subject: ja ? `${pre} TLS 復旧 ${domain}` : `${pre} TLS OK ${domain}`,
        summary: ja ? `${reporter} のレポートによると、${day} の ${domain} への TLS 接続はすべて成功しています。` : `Reports from ${reporter} show every TLS session to ${domain} succeeding on ${day}.`,
        facts,
      };
  }
}
