/**
 * The terminal face of `mailhealth run`: one block per round (each target's status, ports and
 * findings with their remedies, the bounces and canaries that came back, the alerts sent), and
 * a spinner with what is going on while a round runs or the loop waits. The spinner and the
 * colours appear only on a TTY; piped output is plain lines.
 */
import { alertGroupView } from '#core/alert/group.ts';
import type { AlertDestination } from '#core/alert/routes.ts';
import { alertView } from '#core/alert/view.ts';
import type { AlertEvent } from '#core/alert/event.ts';
import type { Finding, Language, Status } from '#core/findings.ts';
import type { TargetResult } from '#core/results.ts';
import { padDisplay, styler, type CliIO } from './cli/io.ts';
import type { IntakeOutcome } from './intake.ts';
import { reportOutcomeLines } from './report-intake.ts';
import type { LoopEvent, LoopReporter } from './loop.ts';
import { reportTime } from './report/html.ts';

/** How the terminal output looks. */
export interface TerminalOptions {
  readonly language: Language;
  /** Names of the alert channels as shown, e.g. `{ slack: 'Slack (demo capture)' }`. */
  readonly channelNames?: Partial<Record<'slack' | 'email', string>>;
  /** `host:port` per target name, shown after the name. */
  readonly endpoints?: Readonly<Record<string, string>>;
  /** For the countdown while waiting. @default real time */
  readonly now?: () => Date;
}

/** The terminal reporter: a LoopReporter plus a way to print story lines between its own. */
export interface TerminalReporter extends LoopReporter {
  /** Prints a line (keeping the spinner below it). */
  line(text: string): void;
  /** Stops the spinner. */
  close(): void;
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
/** Bounce lines shown one by one per round; a storm beyond that is summed up. */
const DETAILED_BOUNCES = 20;
const QUIET_SUMMARY_MS = 2_000;
/** Targets a grouped post's line names; the count says the rest. */
const NAMED_TARGETS = 10;
const SPIN_MS = 100;

const L = {
  round: { en: 'round', ja: 'ラウンド' },
  status: {
    ok: { en: 'OK', ja: 'OK（正常）' },
    warning: { en: 'WARNING', ja: 'WARNING（警告）' },
    critical: { en: 'CRITICAL', ja: 'CRITICAL（重大）' },
    unknown: { en: 'UNKNOWN', ja: 'UNKNOWN（不明）' },
  },
  sent: { en: 'canary sent in %d ms', ja: 'テストメール送信 %d ms' },
  remedy: { en: 'What to do:', ja: '対処:' },
  state: { en: 'state', ja: '状態の保存先' },
  listener: { en: 'bounce listener', ja: 'バウンス受信' },
  folder: { en: 'bounce folder', ja: 'バウンスフォルダー' },
  report: { en: 'report', ja: 'レポート' },
  next: { en: 'next round at %s · Ctrl-C stops', ja: '次のラウンド %s · Ctrl-C で停止' },
  stopping: { en: 'Ctrl-C: stopping after this round…', ja: 'Ctrl-C: このラウンドが終わったら停止します…' },
  draining: {
    en: 'waiting up to %s s for what round %d sent to come back (%s) · --drain SECONDS changes this',
    ja: 'ラウンド %d で送ったメールの戻りを最大 %s 秒待ちます（%s）· 待ち時間は --drain 秒数 で変更できます',
  },
  drainingWhat: {
    en: { some: '%d canary(s) on the way, and the bounces', none: 'the last bounces' },
    ja: { some: '到着待ちのテストメール %d 通とバウンス', none: '残りのバウンス' },
  },
  drainedAll: { en: 'everything the last round sent is back (waited %s s)', ja: '最後のラウンドで送ったメールはすべて戻りました（%s 秒待機）' },
  drainedMissing: {
    en: 'stopped waiting after %s s: %s not arrived yet (a later run raises CANARY_NOT_DELIVERED once deliveryTimeoutMinutes have passed)',
    ja: '%s 秒で待機を終了しました: %s が未着です（deliveryTimeoutMinutes を過ぎると次回の実行で CANARY_NOT_DELIVERED になります）',
  },
  stopped: { en: 'stopped after %d round(s). The state stays in %s; run again to continue.', ja: '%d ラウンドで停止しました。状態は %s に残っています。再実行すると続きから再開します。' },
  noChannel: { en: 'alert (no channel configured)', ja: 'アラート（通知先の設定なし）' },
  unmatched: { en: 'your own mail: canary id %s is not one of ours', ja: 'テストメールではない通常のメール（カナリア ID %s はこのマシンのものではありません）' },
  ownMail: { en: 'your own mail, not a canary', ja: 'テストメールではない通常のメール' },
  digested: { en: 'counted in the bounce digest of %s (due %s)', ja: '%s の返送まとめに集計（%s に送信）' },
  noTarget: { en: 'your own mail', ja: '通常のメール' },
  quiet: {
    en: '… %d more bounce(s) (%s): %d counted in the digests, %d held back · `mailhealth suppressions` lists the addresses',
    ja: '… ほか %d 件の返送（%s）: %d 件を返送まとめに集計、%d 件は通知を保留 · 宛先一覧は `mailhealth suppressions` で確認できます',
  },
  retry: { en: 'retry at %s', ja: '%s に再送' },
  route: { en: '(route %s)', ja: '（ルート %s）' },
  andMore: { en: ' and %d more', ja: ' ほか %d 件' },
  outboxLeft: {
    en: '%d alert(s) still wait in the outbox (%s): they go out at the next start',
    ja: '%d 件のアラートが送信待ちです（%s）。次回の起動時に送信します',
  },
  arrived: { en: 'arrived', ja: '到着' },
  after: { en: 'after %s s', ja: '%s 秒後' },
  again: { en: 'arrived again (already counted)', ja: '再到着（記録済み）' },
  unknownCanary: { en: 'a canary not sent from this state directory', ja: 'この状態ディレクトリから送信したものではないテストメール' },
  kept: { en: 'kept', ja: '保管' },
  held: {
    en: 'held back: %s for %s was alerted less than alerts.reminderMinutes ago; the next alert for it not before %s (recorded all the same)',
    ja: '通知を保留: %s（%s）は alerts.reminderMinutes 以内に通知済みです。次の通知は %s 以降です（記録はしています）',
  },
  failed: { en: 'could not process %s: %s (it stays in the inbox and is tried again next round)', ja: '%s を処理できませんでした: %s（受信箱に残し、次のラウンドで再試行します）' },
  couldNotRun: { en: 'could not run', ja: '実行できませんでした' },
  note: { en: 'note', ja: '注意' },
} as const;

function fill(template: string, ...values: (string | number)[]): string {
  let i = 0;
  return template.replace(/%[ds]/g, () => String(values[i++] ?? ''));
}

/**
 * Creates the reporter that prints a run's events to `io.stdout`.
 * @example const out = createTerminalReporter(io, { language: 'ja' }); await runLoop(runtime, { schedule, report: out });
 */
export function createTerminalReporter(io: CliIO, options: TerminalOptions): TerminalReporter {
  const s = styler(io);
  const lang = options.language;
  const now = options.now ?? (() => new Date());
  const tty = s.enabled;
  const explained = new Set<string>();
  let spinner: (() => string) | null = null;
  let frame = 0;
  let shown = false;
  let timer: NodeJS.Timeout | null = null;

  const render = () => {
    if (!spinner) return;
    io.stdout.write(`\r\u001b[2K${s.cyan(FRAMES[frame % FRAMES.length]!)} ${s.dim(spinner())}`);
    shown = true;
  };
  const clear = () => {
    if (shown) io.stdout.write('\r\u001b[2K');
    shown = false;
  };
  const spin = (text: (() => string) | null) => {
    if (!tty) return;
    spinner = text;
    if (text && !timer) {
      timer = setInterval(() => {
        frame++;
        clear();
        render();
      }, SPIN_MS);
      timer.unref();
    }
    if (!text && timer) {
      clearInterval(timer);
      timer = null;
    }
    clear();
    render();
  };
  const line = (text: string) => {
    clear();
    io.stdout.write(`${text}\n`);
    render();
  };

  const colourOf = (status: Status) => (status === 'ok' ? s.green : status === 'warning' ? s.yellow : s.red);
  const time = (iso: string) => reportTime(iso, lang).slice(11);

  const finding = (f: Finding, target: string, indent = '  ') => {
    const colour = f.severity === 'critical' ? s.red : f.severity === 'warning' ? s.yellow : s.cyan;
    const where = [f.step, f.recipient].filter(Boolean).join(', ');
    line(`${indent}${colour(`[${f.severity}]`)} ${s.bold(f.code)}${where ? s.dim(` (${where})`) : ''}  ${f.message[lang]}`);
    // A remedy is shown the first time its finding appears for a target; after that the code says it.
    const key = `${target}|${f.code}`;
    if (!explained.has(key)) {
      explained.add(key);
      line(`${indent}  ${s.cyan('→')} ${L.remedy[lang]} ${f.remedy[lang]}`);
    }
  };

  const target = (r: TargetResult) => {
    const ports = Object.entries(r.ports).map(([port, state]) => `${port} ${state === 'open' ? s.green(state) : state === 'timeout' ? s.yellow(state) : s.red(state)}`);
    const failed = r.steps.find((st) => !st.ok);
    const data = r.steps.find((st) => st.step === 'data' && st.ok);
    const total = r.steps.reduce((sum, st) => sum + st.ms, 0);
    const session = failed
      ? s.red(`${failed.step} ✗ ${failed.reply?.split('\n')[0] ?? ''}`.trim())
      : data
        ? s.dim(fill(L.sent[lang], total))
        : '';
    const endpoint = options.endpoints?.[r.name];
    const parts = [
      `${s.bold(padDisplay(r.name, 8))}${endpoint ? ` ${s.dim(endpoint)}` : ''}`,
      colourOf(r.status)(L.status[r.status][lang]),
      ...(ports.length ? [ports.join(' · ')] : []),
      ...(session ? [session] : []),
    ];
    line(parts.join('  '));
    for (const f of r.findings) finding(f, r.name);
  };

  // A storm's bounces beyond the first DETAILED_BOUNCES of a round are summed up.
  let detailed = 0;
  let quiet = { count: 0, digest: 0, held: 0, reasons: new Map<string, number>() };
  let lastSummary = 0;
  const flushQuiet = () => {
    if (quiet.count === 0) return;
    const reasons = [...quiet.reasons.entries()].sort((a, b) => b[1] - a[1]).map(([r, n]) => `${r} ${n}`).join(', ');
    line(`  ${s.yellow(fill(L.quiet[lang], quiet.count, reasons, quiet.digest, quiet.held))}`);
    quiet = { count: 0, digest: 0, held: 0, reasons: new Map() };
    lastSummary = Date.now();
  };

  const intake = (o: IntakeOutcome) => {
    switch (o.kind) {
      case 'bounce':
        for (const r of o.recipients) {
          const b = r.recipient;
          if (detailed >= DETAILED_BOUNCES) {
            quiet.count++;
            if (r.digestAt) quiet.digest++;
            if (r.heldUntil) quiet.held++;
            quiet.reasons.set(b.reason, (quiet.reasons.get(b.reason) ?? 0) + 1);
            continue;
          }
          detailed++;
          const code = [b.replyCode, b.status].filter((x) => x !== null).join(' ');
          const whose = r.target ? `${r.target}, canary ${b.canaryId ?? '?'}` : `${b.canaryId === null ? L.ownMail[lang] : L.unmatched[lang].replace('%s', b.canaryId)}, ${o.source}`;
          const arrow = r.finding ? ` → ${s.bold(r.finding.code)}` : '';
          // Success DSNs, complaints and auto-replies come in here too; only failures are "bounce".
          const label = o.messageKind === 'bounce' ? 'bounce ←' : `${o.messageKind} ←`;
          line(`  ${s.yellow(label)} ${b.recipient}  ${b.reason}${code ? ` ${code}` : ''}${arrow}  ${s.dim(`(${whose})`)}`);
          // The same bounce every round says nothing new after the first explanation.
          if (r.finding && !explained.has(`${r.target ?? ''}|${r.finding.code}|${b.recipient}`)) {
            explained.add(`${r.target ?? ''}|${r.finding.code}|${b.recipient}`);
            finding(r.finding, r.target ?? '', '    ');
          }
          if (r.finding && r.heldUntil) line(`    ${s.dim(fill(L.held[lang], r.finding.code, b.recipient, reportTime(r.heldUntil, lang)))}`);
          if (r.digestAt) line(`    ${s.dim(fill(L.digested[lang], r.target ?? L.noTarget[lang], time(r.digestAt)))}`);
        }
        if (quiet.count > 0 && Date.now() - lastSummary >= QUIET_SUMMARY_MS) flushQuiet();
        break;
      case 'delivered': {
        const where = o.recipients.length ? ` → ${o.recipients.join(', ')}` : '';
        const detail =
          o.target === null ? L.unknownCanary[lang] : o.seconds === null ? L.again[lang] : fill(L.after[lang], o.seconds.toFixed(1));
        line(`  ${s.green(`${L.arrived[lang]} ←`)} canary ${o.canaryId}${o.target ? ` (${o.target})` : ''}${where}  ${s.dim(detail)}`);
        break;
      }
      case 'kept':
        line(`  ${s.yellow(`${L.kept[lang]} ✗`)} ${o.source}: ${o.why} ${s.dim(`→ ${o.keptAs}`)}`);
        break;
      case 'reports':
        for (const l of reportOutcomeLines(o, o.source, lang)) line(l);
        break;
      case 'failed':
        line(`  ${s.red('✗')} ${fill(L.failed[lang], o.source, o.error)}`);
        break;
    }
  };

  /** The channel as shown, and the route when it is not the default channels'. */
  const where = (d: AlertDestination) => {
    const name = options.channelNames?.[d.channel] ?? (d.channel === 'slack' ? 'Slack' : 'email');
    return d.route === null ? name : `${name} ${fill(L.route[lang], d.route)}`;
  };
  /** A post's title in the terminal's language; a group names its first targets. */
  const postTitle = (events: readonly AlertEvent[]) => {
    const view = alertGroupView(events, lang);
    if (events.length === 1) return `${view.emoji} ${view.title}`;
    const names = events
      .map((ev) => ev.target ?? '?')
      .sort()
      .slice(0, NAMED_TARGETS);
    const more = events.length > NAMED_TARGETS ? fill(L.andMore[lang], events.length - NAMED_TARGETS) : '';
    return `${view.emoji} ${view.title} ${s.dim(`(${names.join(', ')}${more})`)}`;
  };

  const reporter = ((e: LoopEvent) => {
    switch (e.kind) {
      case 'start': {
        const facts = [
          `${L.state[lang]}: ${e.stateDir}`,
          ...(e.listener ? [`${L.listener[lang]}: ${e.listener.host}:${e.listener.port}`] : []),
          ...(e.bounceDir ? [`${L.folder[lang]}: ${e.bounceDir}`] : []),
          ...(e.reportPath ? [`${L.report[lang]}: ${e.reportPath}`] : []),
        ];
        line(s.dim(facts.join(' · ')));
        break;
      }
      case 'round-start':
        flushQuiet();
        detailed = 0;
        line('');
        line(s.bold(`── ${L.round[lang]} ${e.round} · ${time(e.at)} ${'─'.repeat(40)}`));
        break;
      case 'progress':
        spin(e.text === null ? null : () => e.text ?? '');
        break;
      case 'target':
        target(e.result);
        break;
      case 'target-error':
        line(`${s.bold(padDisplay(e.target, 8))}  ${s.red(`${L.couldNotRun[lang]}: ${e.error}`)}`);
        break;
      case 'alert': {
        // What was sent is printed per post ('alert-sent'); an alert no channel could take is said here.
        if (e.outcomes.length > 0) break;
        const view = alertView(e.event, lang);
        line(`  ${s.bold(L.noChannel[lang])}: ${view.emoji} ${view.title}`);
        break;
      }
      case 'alert-sent': {
        const title = postTitle(e.events);
        const name = where(e.destination);
        line(e.outcome.ok ? `  ${s.bold(`alert → ${name}`)}: ${title}` : `  ${s.red(`alert → ${name} ✗ ${e.outcome.error}`)}: ${title}`);
        break;
      }
      case 'alert-retry':
        line(`  ${s.yellow(`alert → ${where(e.destination)} ✗ ${e.error}`)}: ${postTitle(e.events)} ${s.dim(`(${fill(L.retry[lang], time(e.retryAt))})`)}`);
        break;
      case 'outbox-left':
        line(s.yellow(fill(L.outboxLeft[lang], e.count, 'outbox/')));
        break;
      case 'intake':
        intake(e.outcome);
        break;
      case 'report':
        line(s.dim(`  ${L.report[lang]} → ${e.path}`));
        break;
      case 'round-end':
        flushQuiet();
        break;
      case 'waiting': {
        const until = e.until;
        if (tty) {
          spin(() => {
            const left = Math.max(0, Math.ceil((Date.parse(until) - now().getTime()) / 1000));
            return `${fill(L.next[lang], time(until))} (${left} s)`;
          });
        } else line(s.dim(fill(L.next[lang], time(until))));
        break;
      }
      case 'stopping':
        line(s.yellow(L.stopping[lang]));
        break;
      case 'draining': {
        const seconds = String(Math.round(e.maxMs / 1000));
        const what = e.canaries > 0 ? fill(L.drainingWhat[lang].some, e.canaries) : L.drainingWhat[lang].none;
        line(s.dim(lang === 'ja' ? fill(L.draining.ja, e.round, seconds, what) : fill(L.draining.en, seconds, e.round, what)));
        spin(() => (lang === 'ja' ? 'メールの戻りを待っています…' : 'waiting for the last round’s mail…'));
        break;
      }
      case 'drained': {
        flushQuiet();
        spin(null);
        const seconds = (e.waitedMs / 1000).toFixed(1);
        if (e.missing.length === 0) line(s.dim(fill(L.drainedAll[lang], seconds)));
        else line(s.yellow(fill(L.drainedMissing[lang], seconds, e.missing.map((id) => `canary ${id}`).join(', '))));
        break;
      }
      case 'stopped':
        flushQuiet();
        spin(null);
        break;
      case 'note':
        line(s.yellow(`${L.note[lang]}: ${e.text}`));
        break;
    }
  }) as TerminalReporter;
  reporter.line = line;
  reporter.close = () => {
    flushQuiet();
    spin(null);
  };
  return reporter;
}
