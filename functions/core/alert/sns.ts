/**
 * Alerts on the SNS alert topic. Two kinds of message arrive there: the AlertEvents the canary
 * and bounce Lambdas publish (`encodeAlertMessage`), and CloudWatch alarm state changes. Both
 * decode into an AlertEvent, so the alert Lambda formats and delivers them the same way.
 * Pure: the time and randomness for an alarm's incident id are inputs.
 */
// zod/mini: the same checks as zod at a fraction of the bundle (this module ships in Lambdas).
import * as z from 'zod/mini';
import { newCanaryId } from '../canary-id.ts';
import { ADDRESS_CODES, AUTH_CODES, BOUNCE_CODES, DMARC_REPORT_CODES, PROBE_CODES, SMTP_STEPS } from '../findings.ts';
import type { RandomSource } from '../ports.ts';
import { BOUNCE_REASONS } from '../results.ts';
import type { AlarmAlert, AlertEvent } from './event.ts';

const localized = z.object({ en: z.string(), ja: z.string() });
const finding = z.object({
  code: z.enum([...PROBE_CODES, ...BOUNCE_CODES, ...ADDRESS_CODES, ...AUTH_CODES, ...DMARC_REPORT_CODES]),
  severity: z.enum(['info', 'warning', 'critical']),
  step: z.optional(z.enum(SMTP_STEPS)),
  recipient: z.optional(z.string()),
  reply: z.optional(z.string()),
  message: localized,
  remedy: localized,
});
const status = z.enum(['ok', 'warning', 'critical', 'unknown']);
const base = {
  key: z.string().check(z.minLength(1)),
  incidentId: z.string().check(z.minLength(1)),
  target: z.nullable(z.string()),
  at: z.string(),
  startedAt: z.string(),
  status,
  findings: z.array(finding),
};
const step = z.object({
  step: z.enum(SMTP_STEPS),
  ok: z.boolean(),
  ms: z.number(),
  reply: z.optional(z.string()),
  recipient: z.optional(z.string()),
});
const alarmState = z.enum(['ALARM', 'OK', 'INSUFFICIENT_DATA']);

const alertEventSchema = z.discriminatedUnion('kind', [
  z.object({
    ...base,
    kind: z.enum(['failing', 'warning', 'reminder', 'recovered']),
    target: z.string(),
    canaryId: z.string(),
    failedStep: z.nullable(z.enum(SMTP_STEPS)),
    steps: z.array(step),
    durationMs: z.number(),
    recoveredFrom: z.optional(z.enum(['failing', 'warning'])),
    reminder: z.optional(z.int()),
  }),
  z.object({
    ...base,
    kind: z.literal('bounce'),
    canaryId: z.nullable(z.string()),
    bounce: z.object({
      recipient: z.string(),
      reason: z.enum(BOUNCE_REASONS),
      status: z.nullable(z.string()),
      replyCode: z.nullable(z.number()),
      hard: z.boolean(),
      diagnostic: z.nullable(z.string()),
      remoteMta: z.nullable(z.string()),
      canaryId: z.nullable(z.string()),
    }),
  }),
  z.object({
    ...base,
    kind: z.literal('digest'),
    windowStart: z.string(),
    windowEnd: z.string(),
    total: z.int(),
    canary: z.int(),
    customer: z.int(),
    byReason: z.array(z.object({ reason: z.enum(BOUNCE_REASONS), count: z.int() })),
    topDomains: z.array(z.object({ domain: z.string(), count: z.int() })),
    otherDomains: z.int(),
    sample: z.array(z.string()),
    alertedAtOnce: z.array(z.string()),
    seeAlso: z.object({ command: z.string(), report: z.optional(z.string()), dashboard: z.optional(z.string()) }),
  }),
  z.object({
    ...base,
    kind: z.literal('undelivered'),
    target: z.string(),
    canaryId: z.string(),
    sentAt: z.string(),
    recipients: z.array(z.string()),
    timeoutMinutes: z.number(),
  }),
  z.object({
    ...base,
    kind: z.literal('silent'),
    phase: z.enum(['started', 'reminder', 'ended']),
    silent: z.array(z.object({ target: z.string(), lastRoundAt: z.nullable(z.string()) })),
    silentCount: z.number(),
    targetCount: z.number(),
    silentAfterMinutes: z.number(),
    durationMs: z.number(),
    reminder: z.optional(z.int()),
  }),
  z.object({
    ...base,
    kind: z.literal('dmarc'),
    target: z.string(),
    change: z.enum(['failing', 'passing', 'unknown', 'tls-failing', 'tls-ok']),
    domain: z.string(),
    day: z.string(),
    reporter: z.string(),
    sender: z.nullable(z.string()),
    senders: z.array(z.string()),
    sources: z.array(z.object({ ip: z.string(), ptr: z.nullable(z.string()), count: z.number(), spf: z.string(), dkim: z.string(), disposition: z.string() })),
    messages: z.number(),
    policy: z.nullable(z.string()),
  }),
  z.object({
    ...base,
    kind: z.literal('alarm'),
    alarm: z.object({
      name: z.string(),
      description: z.nullable(z.string()),
      state: alarmState,
      previousState: z.nullable(alarmState),
      reason: z.string(),
      region: z.nullable(z.string()),
      metric: z.nullable(z.string()),
    }),
  }),
]);

/** The fields of a CloudWatch alarm notification this module reads (AWS sends more). */
const cloudWatchAlarmSchema = z.object({
  AlarmName: z.string().check(z.minLength(1)),
  AlarmDescription: z.nullish(z.string()),
  NewStateValue: alarmState,
  OldStateValue: z.nullish(alarmState),
  NewStateReason: z.string(),
  StateChangeTime: z.string(),
  Region: z.nullish(z.string()),
  AlarmArn: z.nullish(z.string()),
  Trigger: z.nullish(
    z.object({
      MetricName: z.nullish(z.string()),
      Namespace: z.nullish(z.string()),
      Dimensions: z.nullish(z.array(z.object({ name: z.string(), value: z.string() }))),
    }),
  ),
});

/** The SNS message body of an AlertEvent (what `decodeAlertMessage` reads back). */
export function encodeAlertMessage(event: AlertEvent): string {
  return JSON.stringify(event);
}

// CloudWatch writes `2026-01-05T00:30:12.345+0000`; ISO 8601 parsers want `+00:00`.
function isoOf(time: string): string | null {
  const ms = Date.parse(time.replace(/([+-]\d\d)(\d\d)$/, '$1:$2'));
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

/**
 * The AlertEvent of a CloudWatch alarm state change (the SNS message JSON of an alarm action),
 * or null when the document is not one. The key is the same for a redelivered notification,
 * so `recordAlarm` raises it once.
 * @example alarmAlertFromCloudWatch(JSON.parse(record.Sns.Message), { now: clock(), random })
 */
export function alarmAlertFromCloudWatch(doc: unknown, deps: { readonly now: Date; readonly random: RandomSource }): AlarmAlert | null {
  const parsed = cloudWatchAlarmSchema.safeParse(doc);
  if (!parsed.success) return null;
  const a = parsed.data;
  const changedAt = isoOf(a.StateChangeTime) ?? deps.now.toISOString();
  const target = a.Trigger?.Dimensions?.find((d) => d.name.toLowerCase() === 'target')?.value ?? null;
  const metric = a.Trigger?.MetricName ? [a.Trigger.Namespace, a.Trigger.MetricName].filter(Boolean).join('/') : null;
  return {
    kind: 'alarm',
    key: `alarm#${a.AlarmArn ?? a.AlarmName}#${changedAt}#${a.NewStateValue}`,
    incidentId: newCanaryId(Date.parse(changedAt), deps.random(10)),
    target,
    at: deps.now.toISOString(),
    startedAt: changedAt,
    status: a.NewStateValue === 'ALARM' ? 'critical' : a.NewStateValue === 'OK' ? 'ok' : 'unknown',
    findings: [],
    alarm: {
      name: a.AlarmName,
      description: a.AlarmDescription ?? null,
      state: a.NewStateValue,
      previousState: a.OldStateValue ?? null,
      reason: a.NewStateReason,
      region: a.Region ?? null,
      metric,
    },
  };
}

/**
 * Reads an SNS message of the alert topic: an encoded AlertEvent or a CloudWatch alarm.
 * Null when it is neither (the handler logs and drops it; it is not a bug of ours).
 * @example
 * for (const record of event.Records) {
 *   const alert = decodeAlertMessage(record.Sns.Message, { now: clock(), random });
 *   if (alert) await deliverAlert(alert, notifiers, config.language);
 * }
 */
export function decodeAlertMessage(message: string, deps: { readonly now: Date; readonly random: RandomSource }): AlertEvent | null {
  let doc: unknown;
  try {
    doc = JSON.parse(message);
  } catch {
    return null;
  }
  const ours = alertEventSchema.safeParse(doc);
  if (ours.success) return ours.data as AlertEvent;
  return alarmAlertFromCloudWatch(doc, deps);
}
