/**
 * Grouping health alerts per destination. When a provider many targets share goes down, every
 * one of them fails in the same round: one post per target would be a hundred Slack posts at a
 * post a second, with the recoveries queued behind them. So the health alerts that are ready
 * for one destination when it may send again go out as one post naming the targets (at most
 * MAX_GROUP), each target with its own line; bounce alerts, digests and alarms always go alone.
 *
 * Pure: which alerts make a post (`nextPost`, `planPosts`) and what the post says
 * (`alertGroupView`; slack.ts and email.ts lay it out). The shells decide when a post goes.
 */
import type { Finding, Language, Status } from '../findings.ts';
import type { AlertEvent, HealthAlert, UndeliveredAlert } from './event.ts';
import type { AlertDestination } from './routes.ts';
import { alertView, formatDuration, formatTime, MAX_CAUSES, stepLabel, type AlertCause, type AlertView, type FormatOptions } from './view.ts';

/** At most this many alerts (targets) in one post: a screenful, and a few posts for a hundred. */
export const MAX_GROUP = 25;

/** The alerts that are grouped: one target's health, each with a line of its own in a group. */
export type GroupedAlert = HealthAlert | UndeliveredAlert;

const GROUPED_KINDS: readonly GroupedAlert['kind'][] = ['failing', 'reminder', 'warning', 'undelivered', 'recovered'];

/**
 * Whether an alert may share a post with others: a target's health alerts (failing, warning,
 * reminder, recovered, canary not delivered). Bounces and digests (grouped by the digest),
 * alarms and silence alerts (one per incident already) go alone.
 */
export function isGroupable(event: AlertEvent): event is GroupedAlert {
  return (GROUPED_KINDS as readonly string[]).includes(event.kind);
}

/**
 * The order alerts go out in: health alerts (0) before bounce alerts and digests (1), whatever
 * was queued first, so a bounce storm never holds back the news that sending broke.
 */
export function alertPriority(event: AlertEvent): 0 | 1 {
  return event.kind === 'bounce' || event.kind === 'digest' ? 1 : 0;
}

/**
 * The alerts of the next post to one destination, from those ready for it in sending order
 * (priority, then queue order): the first one, and when it is a health alert, every other ready
 * health alert after it, up to `max`. A bounce alert or an alarm goes alone.
 * @example nextPost(ready, (r) => r.entry.event) // [first, …up to MAX_GROUP health alerts]
 */
export function nextPost<T>(ready: readonly T[], eventOf: (item: T) => AlertEvent, max: number = MAX_GROUP): T[] {
  if (ready.length === 0) return [];
  const first = ready[0] as T;
  if (!isGroupable(eventOf(first))) return [first];
  const post: T[] = [first];
  for (const item of ready.slice(1)) {
    if (post.length >= max) break;
    if (isGroupable(eventOf(item))) post.push(item);
  }
  return post;
}

/** One post to one destination: its alerts (one, or a group of health alerts) in its route's language. */
export interface AlertPost<D extends { readonly id: string } = AlertDestination> {
  readonly destination: D;
  readonly language: Language;
  readonly events: readonly AlertEvent[];
}

/**
 * The posts that deliver `events` at once (`mailhealth check --state`): per destination and
 * language, health alerts first and grouped (at most `max` per post), then the rest one by one.
 * `route` resolves an alert's route: `(e) => routeOf(e, config)`, or a shell's own version of it
 * holding only the destinations it has a channel for.
 * @example for (const post of planPosts(events, (e) => routeOf(e, config))) await send(post);
 */
export function planPosts<D extends { readonly id: string }>(
  events: readonly AlertEvent[],
  route: (event: AlertEvent) => { readonly language: Language; readonly destinations: readonly D[] },
  options: { readonly max?: number } = {},
): AlertPost<D>[] {
  const ordered = events.map((event, i) => ({ event, i })).sort((a, b) => alertPriority(a.event) - alertPriority(b.event) || a.i - b.i);
  const queues = new Map<string, { destination: D; language: Language; events: AlertEvent[] }>();
  for (const { event } of ordered) {
    const { language, destinations } = route(event);
    for (const destination of destinations) {
      const key = `${destination.id}|${language}`;
      const queue = queues.get(key) ?? { destination, language, events: [] };
      queue.events.push(event);
      queues.set(key, queue);
    }
  }
  const posts: AlertPost<D>[] = [];
  for (const { destination, language, events: queue } of queues.values()) {
    let rest = queue;
    while (rest.length > 0) {
      const post = nextPost(rest, (e) => e, options.max);
      const taken = new Set(post);
      posts.push({ destination, language, events: post });
      rest = rest.filter((e) => !taken.has(e));
    }
  }
  return posts;
}

const KIND_TEXT: Record<GroupedAlert['kind'], { heading: Record<Language, string>; title: Record<Language, string>; subject: Record<Language, string>; count: Record<Language, string> }> = {
  failing: {
    heading: { en: 'Failing (%d)', ja: '送信できない対象（%d 件）' },
    title: { en: 'Mail sending is failing: %d targets', ja: 'メールを送信できません: %d 件の対象' },
    subject: { en: 'FAILING', ja: '障害' },
    count: { en: '%d failing', ja: '障害 %d 件' },
  },
  reminder: {
    heading: { en: 'Still failing (%d)', ja: '障害が続いている対象（%d 件）' },
    title: { en: 'Still failing: %d targets', ja: '障害が続いています: %d 件の対象' },
    subject: { en: 'STILL FAILING', ja: '障害継続' },
    count: { en: '%d still failing', ja: '障害継続 %d 件' },
  },
  warning: {
    heading: { en: 'Needs attention (%d)', ja: '注意が必要な対象（%d 件）' },
    title: { en: 'Mail sending needs attention: %d targets', ja: 'メール送信に注意が必要です: %d 件の対象' },
    subject: { en: 'WARNING', ja: '警告' },
    count: { en: '%d warning', ja: '警告 %d 件' },
  },
  undelivered: {
    heading: { en: 'Canary not delivered (%d)', ja: 'テストメールが届かない対象（%d 件）' },
    title: { en: 'Canary not delivered: %d targets', ja: 'テストメールが届きません: %d 件の対象' },
    subject: { en: 'NOT DELIVERED', ja: '未着' },
    count: { en: '%d not delivered', ja: '未着 %d 件' },
  },
  recovered: {
    heading: { en: 'Recovered (%d)', ja: '復旧した対象（%d 件）' },
    title: { en: 'Recovered: %d targets', ja: '復旧しました: %d 件の対象' },
    subject: { en: 'RECOVERED', ja: '復旧' },
    count: { en: '%d recovered', ja: '復旧 %d 件' },
  },
};

/** A sentence per kind of a group; English has a singular form. */
const SUMMARY: Record<GroupedAlert['kind'], { en: readonly [one: string, many: string]; ja: string }> = {
  failing: {
    en: [
      'The canary rounds of 1 target keep failing (since %s). Its recovery is reported when it comes.',
      'The canary rounds of %d targets keep failing (the first since %s). When many fail at once, a provider or network they share may be down. Each target reports its own recovery.',
    ],
    ja: '%d 件の対象で送信チェックが続けて失敗しています（最初は %s から）。多くの対象が同時に失敗するときは、共通のプロバイダーやネットワークの障害が考えられます。復旧は対象ごとに通知します。',
  },
  reminder: { en: ['1 target is still failing.', '%d targets are still failing.'], ja: '%d 件の対象で障害が続いています。' },
  warning: {
    en: ['Mail from 1 target still goes out, but something needs attention.', 'Mail from %d targets still goes out, but something needs attention.'],
    ja: '%d 件の対象は送信できていますが、注意が必要な状態です。',
  },
  undelivered: {
    en: ['The canary of 1 target did not arrive at the bounce domain in time.', 'The canaries of %d targets did not arrive at the bounce domain in time.'],
    ja: '%d 件の対象のテストメールが時間内に届きませんでした。',
  },
  recovered: { en: ['Mail sending works again for 1 target.', 'Mail sending works again for %d targets.'], ja: '%d 件の対象でメール送信が復旧しました。' },
};

function summaryOf(kind: GroupedAlert['kind'], events: readonly GroupedAlert[], lang: Language, time: (iso: string) => string): string {
  const n = events.length;
  const template = lang === 'ja' ? SUMMARY[kind].ja : SUMMARY[kind].en[n === 1 ? 0 : 1];
  if (kind !== 'failing') return fill(template, n);
  const first = time(events.map((e) => e.startedAt).sort()[0]!);
  return lang === 'en' && n === 1 ? fill(template, first) : fill(template, n, first);
}

const G = {
  targets: { en: 'Targets', ja: '対象' },
  status: { en: 'Status', ja: '状態' },
  firstStarted: { en: 'First started', ja: '最初の発生' },
  causes: { en: 'Causes and what to do', ja: '原因と対処方法' },
  nTargets: { en: '%d targets', ja: '%d 件の対象' },
  oneTarget: { en: '1 target', ja: '1 件の対象' },
  mixedTitle: { en: 'Mail health of %d targets: %s', ja: '%d 件の対象の状態: %s' },
  since: { en: 'since %s', ja: '%s から' },
  lasting: { en: 'for %s', ja: '%s継続' },
  recoveredAt: { en: 'recovered %s, lasted %s', ja: '%s 復旧、%s続きました' },
  warningCleared: { en: 'warning cleared %s, lasted %s', ja: '%s 警告解消、%s続きました' },
  undelivered: { en: 'canary %s sent %s, not arrived within %d min', ja: 'テストメール %s（%s 送信）が %d 分以内に未着' },
  andMore: { en: ' and %d more', ja: ' ほか %d 件' },
  footer: { en: 'mail-health · %d alerts that fell due together, in one message', ja: 'mail-health · 同時に発生した %d 件のアラートをまとめて通知' },
} as const satisfies Record<string, Record<Language, string>>;

const STATUS_LABEL: Record<Status, Record<Language, string>> = {
  ok: { en: 'OK', ja: '正常' },
  warning: { en: 'WARNING', ja: '警告' },
  critical: { en: 'CRITICAL', ja: '障害' },
  unknown: { en: 'UNKNOWN', ja: '不明' },
};

const RANK: Record<Status, number> = { ok: 0, unknown: 1, warning: 2, critical: 3 };
const SEVERITY_RANK: Record<Finding['severity'], number> = { info: 0, warning: 1, critical: 2 };

function fill(template: string, ...values: (string | number)[]): string {
  let i = 0;
  return template.replace(/%[ds]/g, () => String(values[i++] ?? ''));
}

/** What one target's line says: the worst finding and where, or the status. */
function causeOf(event: GroupedAlert, lang: Language): string {
  const worst = event.findings[0];
  const step = event.kind !== 'undelivered' && event.failedStep ? stepLabel(event.failedStep, lang) : null;
  if (!worst) return STATUS_LABEL[event.status][lang];
  return step ? `${worst.code} @ ${step}` : worst.code;
}

function lineOf(event: GroupedAlert, lang: Language, options: FormatOptions): string {
  const time = (iso: string) => formatTime(iso, lang, options);
  switch (event.kind) {
    case 'failing':
    case 'warning':
      return `${event.target} · ${causeOf(event, lang)} · ${fill(G.since[lang], time(event.startedAt))}`;
    case 'reminder':
      return `${event.target} · ${causeOf(event, lang)} · ${fill(G.lasting[lang], formatDuration(event.durationMs, lang))}`;
    case 'recovered': {
      const end = time(new Date(Date.parse(event.startedAt) + event.durationMs).toISOString());
      const template = event.recoveredFrom === 'warning' ? G.warningCleared : G.recoveredAt;
      return `${event.target} · ${fill(template[lang], end, formatDuration(event.durationMs, lang))}`;
    }
    case 'undelivered':
      return `${event.target} · ${fill(G.undelivered[lang], event.canaryId, time(event.sentAt), event.timeoutMinutes)}`;
  }
}

/** The findings behind a group, once per code: how many targets each explains, worst first. */
function groupCauses(events: readonly GroupedAlert[], lang: Language): AlertCause[] {
  const byCode = new Map<string, { finding: Finding; targets: number }>();
  for (const e of events) {
    if (e.kind === 'recovered') continue;
    const worst = e.findings[0];
    if (!worst) continue;
    const seen = byCode.get(worst.code);
    byCode.set(worst.code, { finding: seen?.finding ?? worst, targets: (seen?.targets ?? 0) + 1 });
  }
  return [...byCode.values()]
    .sort((a, b) => SEVERITY_RANK[b.finding.severity] - SEVERITY_RANK[a.finding.severity] || b.targets - a.targets || a.finding.code.localeCompare(b.finding.code))
    .map(({ finding, targets }) => ({
      code: finding.code,
      severity: finding.severity,
      // The "where" of a group's cause is how many of its targets it explains.
      step: targets === 1 ? G.oneTarget[lang] : fill(G.nTargets[lang], targets),
      recipient: null,
      // Replies differ from server to server: the targets' own alerts in the history keep them.
      reply: null,
      message: finding.message[lang],
      remedy: finding.remedy[lang],
    }));
}

function namesOf(events: readonly GroupedAlert[], lang: Language, shown = 3): string {
  const names = events.slice(0, shown).map((e) => e.target).join(', ');
  return events.length > shown ? `${names}${fill(G.andMore[lang], events.length - shown)}` : names;
}

/**
 * The content of one post for several alerts of one destination: a line per target under a
 * heading per kind (failing, still failing, warning, not delivered, recovered), the causes once
 * each with how many targets they explain. One alert, or one that is not a health alert, gets
 * its own view (alertView).
 * @example formatSlackView(alertGroupView(events, 'ja'))
 */
export function alertGroupView(events: readonly AlertEvent[], lang: Language, options: FormatOptions = {}): AlertView {
  const first = events[0];
  if (first === undefined) throw new Error('alertGroupView: no alerts');
  if (events.length === 1) return alertView(first, lang, options);
  const grouped = events.filter(isGroupable);
  if (grouped.length !== events.length) throw new Error('alertGroupView: only health alerts share a post');

  const byKind = GROUPED_KINDS.map((kind) => ({
    kind,
    events: grouped.filter((e) => e.kind === kind).sort((a, b) => a.target.localeCompare(b.target)),
  })).filter((k) => k.events.length > 0);
  const n = grouped.length;
  const worst = grouped.reduce<Status>((w, e) => (e.kind !== 'recovered' && RANK[e.status] > RANK[w] ? e.status : w), 'ok');
  const open = grouped.filter((e) => e.kind !== 'recovered');
  const firstStart = open.map((e) => e.startedAt).sort()[0] ?? null;
  const time = (iso: string) => formatTime(iso, lang, options);
  const tone = worst === 'critical' || worst === 'unknown' ? 'critical' : worst === 'warning' ? 'warning' : 'ok';
  const only = byKind.length === 1 ? byKind[0]! : null;
  const counts = byKind.map((k) => fill(KIND_TEXT[k.kind].count[lang], k.events.length)).join(lang === 'ja' ? '、' : ', ');
  const title = only ? fill(KIND_TEXT[only.kind].title[lang], n) : fill(G.mixedTitle[lang], n, counts);
  const pre = '[mail-health]';
  const subject = only
    ? `${pre} ${KIND_TEXT[only.kind].subject[lang]} ${fill(G.nTargets[lang], n)}: ${namesOf(only.events, lang)}`
    : `${pre} ${fill(G.nTargets[lang], n)}: ${byKind.map((k) => `${KIND_TEXT[k.kind].subject[lang]} ${k.events.length}`).join(lang === 'ja' ? '、' : ', ')}`;
  const summary = byKind.map((k) => summaryOf(k.kind, k.events, lang, time)).join(lang === 'ja' ? '' : ' ');
  const facts: [string, string][] = [
    [G.targets[lang], String(n)],
    [G.status[lang], STATUS_LABEL[worst][lang]],
  ];
  if (firstStart) facts.push([G.firstStarted[lang], time(firstStart)]);
  const causes = groupCauses(grouped, lang);
  const more = causes.length - MAX_CAUSES;
  return {
    tone,
    emoji: tone === 'critical' ? '🔴' : tone === 'warning' ? '🟡' : '✅',
    title,
    subject,
    summary,
    facts,
    lists: byKind.map((k) => ({ heading: fill(KIND_TEXT[k.kind].heading[lang], k.events.length), lines: k.events.map((e) => lineOf(e, lang, options)) })),
    causesHeading: G.causes[lang],
    causes: causes.slice(0, MAX_CAUSES),
    moreCauses: more > 0 ? (lang === 'ja' ? `ほか ${more} 件` : `… and ${more} more`) : null,
    stepsHeading: '',
    steps: [],
    labels: { reply: lang === 'ja' ? 'サーバーの応答' : 'Server reply', remedy: lang === 'ja' ? '対処方法' : 'What to do' },
    footer: fill(G.footer[lang], n),
    lang,
  };
}
