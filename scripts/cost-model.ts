/**
 * What a deployment costs a month, at list prices: the structure (schedules, alarms and their
 * metrics, dashboards, keys, secrets, memory sizes, schedule rates) is read from the synthesized
 * template and the deployed config; the usage per round, round trip and sweep is the documented
 * estimate below. Used by scripts/cost.ts (the README table) and test/cdk/cost.test.ts.
 */
import { PER_TARGET_METRICS } from '../functions/lambda/observe.ts';

/** List prices, us-east-1 (ap-northeast-1 is the same or within a few percent for these items). */
export const PRICES = {
  asOf: 'AWS list prices for us-east-1 as published in 2025 (pricing pages of each service); table computed 2026-12-01',
  lambdaGbSecond: 0.0000133334, // arm64
  lambdaRequest: 0.2 / 1e6,
  schedulerInvocation: 1.0 / 1e6, // after 14 million free a month
  metric: 0.3, // per custom metric a month (first 10,000)
  alarmMetric: 0.1, // per metric of a standard-resolution alarm a month
  dashboard: 3.0, // per dashboard a month (the first 3 of an account are free)
  logsIngestGb: 0.5,
  logsStoreGbMonth: 0.03,
  ddbWrite: 0.625 / 1e6, // on demand, per write request unit
  ddbRead: 0.125 / 1e6, // on demand, per read request unit
  ddbStorageGbMonth: 0.25,
  ddbPitrGbMonth: 0.2,
  s3Put: 0.005 / 1000,
  s3Get: 0.0004 / 1000,
  s3StorageGbMonth: 0.023,
  sesInboundMessage: 0.1 / 1000,
  sesInboundChunk: 0.09 / 1000, // per 256 KB of each received message
  kmsKey: 1.0,
  secret: 0.4,
  sqsRequest: 0.4 / 1e6, // standard queue, per request (64 KB), after the first million a month
} as const;

/**
 * The usage estimates: what one round, round trip and sweep does. Durations are what a
 * submission server on the internet answers in (TLS and AUTH within about a second); from Lambda
 * port 25 never answers, so a round that probes the ports waits the probe timeout (3 s).
 */
export const USAGE = {
  daysPerMonth: 30,
  /** A round that checks up to AUTH only: connect, greeting, EHLO, STARTTLS, EHLO, AUTH, QUIT, plus the table. */
  loginRoundSeconds: 1.2,
  /** A round trip's round: the port probes (3 s timeout for port 25) beside the whole session. */
  roundTripRoundSeconds: 3.5,
  /** The bounce Lambda reading one delivered canary from S3. */
  bounceSeconds: 0.6,
  /** The sweeper: its start and state, plus the health reads (25 at a time, ~10 ms a batch). */
  sweepSeconds: 0.3,
  sweepSecondsPerTarget: 0.0004,
  /** The bounce Lambda's scheduled look for bounce digests whose window closed (one table query). */
  digestFlushSeconds: 0.3,
  /** Log bytes: a login round's lines (round line, EMF point, Lambda START/END/REPORT). */
  loginRoundLogBytes: 1_500,
  /** A round trip's round adds the port findings' lines (PORT25_BLOCKED, info). */
  roundTripRoundLogBytes: 3_000,
  bounceLogBytes: 3_000,
  sweepLogBytes: 1_000,
  /** DynamoDB per round: health read, undelivered query; health write, history item (~2 KB). */
  roundReads: 2,
  roundWrites: 3,
  /** Per round trip: the canary record (2 items), its delivery, the canary lookup. */
  roundTripReads: 1,
  roundTripWrites: 3,
  /** Per sweep: the sweeper's own state (read, write); per target one health read. */
  sweepFixedReads: 1,
  sweepFixedWrites: 1,
  sweepReadsPerTarget: 1,
  /** History kept 35 days (retention.historyDays), ~2 KB a round. */
  historyDays: 35,
  historyBytesPerRound: 2_000,
  /** A canary message as received (S3 object, SES chunk). */
  canaryBytes: 5_000,
  rawMailDays: 30,
  /**
   * The alert queue: Lambda polls an SQS event source with about 5 pollers, each a long poll of
   * 20 s when the queue is empty; the alerts themselves are a few requests each.
   */
  queuePollers: 5,
  queueLongPollSeconds: 20,
} as const;

/** What the template and config say that the cost depends on. */
export interface Structure {
  readonly targets: number;
  /** Targets with an SMTP secret of their own (not shared through auth.secretKey). */
  readonly ownSecrets: number;
  /** Secrets besides the targets' (the Slack webhook's). */
  readonly otherSecrets: number;
  readonly canarySchedules: number;
  readonly intervalMinutes: number;
  readonly roundTripMinutes: number;
  readonly sweepMinutes: number;
  /** How often the bounce Lambda is invoked to send due bounce digests; null: never. */
  readonly digestFlushMinutes: number | null;
  readonly memoryMb: { readonly canary: number; readonly bounce: number; readonly sweeper: number };
  /** Per-target custom metrics (CanarySuccess). */
  readonly metricsPerTarget: number;
  /** Metrics of all alarms together (a metric-math alarm counts each metric it reads). */
  readonly alarmMetrics: number;
  readonly dashboards: number;
  readonly kmsKeys: number;
  /** SQS queues a Lambda polls (the alert queue). */
  readonly polledQueues: number;
}

/** One priced line: its fixed part and its part per target. */
export interface CostLine {
  readonly item: string;
  readonly usage: string;
  readonly fixed: number;
  readonly perTarget: number;
}

const GB = 1024 ** 3;

/**
 * The month's cost lines of a deployment. Per-target parts are averages (the total of the line
 * divided by the targets): with shared schedules a target's share of the invocations shrinks.
 * @example costLines(structureOf(template, config)).reduce((s, l) => s + l.fixed, 0)
 */
export function costLines(s: Structure): CostLine[] {
  const u = USAGE;
  const p = PRICES;
  const minutes = u.daysPerMonth * 24 * 60;
  const rounds = minutes / s.intervalMinutes;
  const trips = minutes / s.roundTripMinutes;
  const loginRounds = Math.max(0, rounds - trips);
  const sweeps = minutes / s.sweepMinutes;
  const flushes = s.digestFlushMinutes === null ? 0 : minutes / s.digestFlushMinutes;
  const n = s.targets;
  const gbs = (mb: number, seconds: number) => (mb / 1024) * seconds;

  const canaryGbs = gbs(s.memoryMb.canary, loginRounds * u.loginRoundSeconds + trips * u.roundTripRoundSeconds);
  const canaryInvocations = s.canarySchedules * rounds;
  const bounceGbs = gbs(s.memoryMb.bounce, trips * u.bounceSeconds);
  const sweepGbsFixed = gbs(s.memoryMb.sweeper, sweeps * u.sweepSeconds) + gbs(s.memoryMb.bounce, flushes * u.digestFlushSeconds);
  const sweepGbsPerTarget = gbs(s.memoryMb.sweeper, sweeps * u.sweepSecondsPerTarget);

  const logBytesPerTarget = loginRounds * u.loginRoundLogBytes + trips * (u.roundTripRoundLogBytes + u.bounceLogBytes);
  const logBytesFixed = sweeps * u.sweepLogBytes;
  const logPrice = (bytes: number) => (bytes / GB) * (p.logsIngestGb + p.logsStoreGbMonth);

  const readsPerTarget = rounds * u.roundReads + trips * u.roundTripReads + sweeps * u.sweepReadsPerTarget;
  const writesPerTarget = rounds * u.roundWrites + trips * u.roundTripWrites;
  const storedPerTarget = (u.historyDays * 24 * 60) / s.intervalMinutes * u.historyBytesPerRound;

  return [
    {
      item: 'Lambda (arm64)',
      usage: `canary: ${fmt(rounds)} rounds a target (${fmt(trips)} round trips), ${s.memoryMb.canary} MB, ${u.loginRoundSeconds} s / ${u.roundTripRoundSeconds} s; bounce: ${fmt(trips)} runs, ${s.memoryMb.bounce} MB; sweeper: ${fmt(sweeps)} runs, ${s.memoryMb.sweeper} MB; bounce digest flush: ${fmt(flushes)} runs`,
      fixed: sweepGbsFixed * p.lambdaGbSecond + (sweeps + flushes) * p.lambdaRequest,
      perTarget:
        (canaryGbs + bounceGbs + sweepGbsPerTarget) * p.lambdaGbSecond + ((canaryInvocations / n) + trips) * p.lambdaRequest,
    },
    {
      item: 'EventBridge Scheduler',
      usage: `${s.canarySchedules} canary schedule${s.canarySchedules === 1 ? '' : 's'} × ${fmt(rounds)} + ${fmt(sweeps)} sweeps`,
      fixed: sweeps * p.schedulerInvocation,
      perTarget: (canaryInvocations / n) * p.schedulerInvocation,
    },
    { item: 'CloudWatch custom metrics', usage: `${s.metricsPerTarget} per target (${PER_TARGET_METRICS.join(', ')}); Bounces {Reason} only in hours with bounces`, fixed: 0, perTarget: s.metricsPerTarget * p.metric },
    { item: 'CloudWatch alarms', usage: `${s.alarmMetrics} alarm metrics, none per target`, fixed: s.alarmMetrics * p.alarmMetric, perTarget: 0 },
    { item: 'CloudWatch dashboard', usage: `${s.dashboards}, the same widgets for any number of targets`, fixed: s.dashboards * p.dashboard, perTarget: 0 },
    {
      item: 'CloudWatch Logs',
      usage: `${fmt(logBytesPerTarget / 1e6)} MB a target, ${fmt(logBytesFixed / 1e6)} MB fixed, ingested and kept a month`,
      fixed: logPrice(logBytesFixed),
      perTarget: logPrice(logBytesPerTarget),
    },
    {
      item: 'DynamoDB on demand + PITR',
      usage: `${fmt(writesPerTarget)} writes, ${fmt(readsPerTarget)} reads, ${fmt(storedPerTarget / 1e6)} MB a target`,
      fixed: sweeps * (u.sweepFixedReads * p.ddbRead + u.sweepFixedWrites * p.ddbWrite) + flushes * p.ddbRead,
      perTarget: writesPerTarget * p.ddbWrite + readsPerTarget * p.ddbRead + (storedPerTarget / GB) * (p.ddbStorageGbMonth + p.ddbPitrGbMonth),
    },
    {
      item: 'S3 (raw mail)',
      usage: `${fmt(trips)} PUTs and GETs a target, kept ${u.rawMailDays} days`,
      fixed: 0,
      perTarget: trips * (p.s3Put + p.s3Get) + ((trips * u.canaryBytes * u.rawMailDays) / u.daysPerMonth / GB) * p.s3StorageGbMonth,
    },
    { item: 'SES inbound', usage: `${fmt(trips)} messages (1 chunk each) a target`, fixed: 0, perTarget: trips * (p.sesInboundMessage + p.sesInboundChunk) },
    { item: 'KMS key (alert and alarm topics)', usage: `${s.kmsKeys} customer managed key`, fixed: s.kmsKeys * p.kmsKey, perTarget: 0 },
    {
      item: 'SQS (alert queue)',
      usage: `${fmt((s.polledQueues * u.queuePollers * minutes * 60) / u.queueLongPollSeconds / 1e6)} million empty long polls (the first million of an account are free); alerts, their retries and the dead-letter queue add a few requests each`,
      fixed: ((s.polledQueues * u.queuePollers * minutes * 60) / u.queueLongPollSeconds) * p.sqsRequest,
      perTarget: 0,
    },
    {
      item: 'Secrets Manager',
      usage: `${s.otherSecrets} fixed (Slack webhooks: the default and each route's); ${s.ownSecrets} SMTP secret${s.ownSecrets === 1 ? '' : 's'} for ${n} target${n === 1 ? '' : 's'}`,
      fixed: s.otherSecrets * p.secret,
      perTarget: (s.ownSecrets * p.secret) / n,
    },
  ];
}

/** Sums of the lines: fixed, per target, and the month's total. */
export function costTotals(lines: readonly CostLine[], targets: number): { readonly fixed: number; readonly perTarget: number; readonly total: number } {
  const fixed = lines.reduce((s, l) => s + l.fixed, 0);
  const perTarget = lines.reduce((s, l) => s + l.perTarget, 0);
  return { fixed, perTarget, total: fixed + perTarget * targets };
}

function fmt(n: number): string {
  return n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(n >= 10 ? 0 : 1);
}

type Resources = Record<string, { Type: string; Properties?: Record<string, any> }>;

/** How many metrics an alarm bills: one for a plain alarm, each MetricStat of a metric-math or query alarm (at least one). */
export function alarmMetricCount(props: Record<string, any>): number {
  const metrics = props.Metrics as { MetricStat?: unknown; Expression?: string }[] | undefined;
  if (!metrics) return 1;
  return Math.max(1, metrics.filter((m) => m.MetricStat).length);
}

function rateMinutes(expression: string): number {
  const m = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression);
  if (!m) throw new Error(`not a rate expression: ${expression}`);
  return Number(m[1]) * (m[2]!.startsWith('minute') ? 1 : m[2]!.startsWith('hour') ? 60 : 1440);
}

/**
 * Reads the structure from a synthesized template (its Resources) and the deployed config.
 * @example structureOf(template.toJSON().Resources, deployed)
 */
export function structureOf(
  resources: Resources,
  config: {
    readonly targets: readonly { readonly auth?: { readonly secretName?: string; readonly secretKey?: string } }[];
    readonly roundTripSchedule: string;
    readonly alerts: { readonly slack?: unknown; readonly routes?: readonly { readonly slack?: { readonly secretName?: string } }[] };
  },
): Structure {
  const all = Object.values(resources);
  const fn = (word: string) => {
    const found = all.filter((r) => r.Type === 'AWS::Lambda::Function' && String(r.Properties?.Description).includes(word));
    if (found.length !== 1) throw new Error(`expected one ${word} function, found ${found.length}`);
    return found[0]!.Properties!;
  };
  const canary = fn('canary rounds');
  const sweeper = fn('dead-man');
  const bounce = fn('classifies a received bounce');
  const schedules = all.filter((r) => r.Type === 'AWS::Scheduler::Schedule');
  const canarySchedules = schedules.filter((r) => String(r.Properties?.Target?.Input).includes('"targets"'));
  const sweepSchedule = schedules.find((r) => !String(r.Properties?.Target?.Input).includes('"targets"'));
  if (!sweepSchedule) throw new Error('no sweeper schedule');
  const secretNames = new Set<string>();
  let ownSecrets = 0;
  for (const t of config.targets) {
    const name = t.auth?.secretName;
    if (name && !secretNames.has(name)) {
      secretNames.add(name);
      ownSecrets++;
    }
  }
  return {
    targets: config.targets.length,
    ownSecrets,
    otherSecrets: (config.alerts.slack ? 1 : 0) + new Set((config.alerts.routes ?? []).flatMap((r) => (r.slack?.secretName ? [r.slack.secretName] : []))).size,
    canarySchedules: canarySchedules.length,
    intervalMinutes: Number(canary.Environment.Variables.ROUND_INTERVAL_SECONDS) / 60,
    roundTripMinutes: Math.max(rateMinutes(config.roundTripSchedule), Number(canary.Environment.Variables.ROUND_INTERVAL_SECONDS) / 60),
    sweepMinutes: rateMinutes(String(sweepSchedule.Properties!.ScheduleExpression)),
    // EventBridge rules on a schedule are free; what they invoke is not.
    digestFlushMinutes: (() => {
      const rule = all.find((r) => r.Type === 'AWS::Events::Rule' && String(r.Properties?.Description).includes('bounce digests'));
      return rule ? rateMinutes(String(rule.Properties!.ScheduleExpression)) : null;
    })(),
    memoryMb: { canary: Number(canary.MemorySize), bounce: Number(bounce.MemorySize), sweeper: Number(sweeper.MemorySize) },
    metricsPerTarget: PER_TARGET_METRICS.length,
    alarmMetrics: all.filter((r) => r.Type === 'AWS::CloudWatch::Alarm').reduce((s, r) => s + alarmMetricCount(r.Properties ?? {}), 0),
    dashboards: all.filter((r) => r.Type === 'AWS::CloudWatch::Dashboard').length,
    kmsKeys: all.filter((r) => r.Type === 'AWS::KMS::Key').length,
    polledQueues: all.filter((r) => r.Type === 'AWS::Lambda::EventSourceMapping').length,
  };
}
