/**
 * The Lambda-only helpers: env readers, event validation, what a round logs and counts, the
 * EMF sink, lazy construction.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createEmfMetricsSink } from '#adapters/emf-metrics.ts';
import type { MetricsSink } from '#core/ports.ts';
import { readDeployedConfig, requiredEnv } from '../../functions/lambda/env.ts';
import { parseEvent, schedulerInputSchema, sesReceiptEventSchema } from '../../functions/lambda/events.ts';
import { onceAsync } from '../../functions/lambda/lazy.ts';
import { observeRound, stepTimings } from '../../functions/lambda/observe.ts';
import { at, authFailed, certExpiring, port25Blocked, round } from '../helpers/alert-fixtures.ts';
import { captureOutput, type OutputCapture } from '../integration/handler-stand-ins.ts';

/** A Logger stand-in that keeps what it was given. */
function recordingLogger(): { logger: Logger; lines: { level: string; message: string; fields: Record<string, unknown> }[] } {
  const lines: { level: string; message: string; fields: Record<string, unknown> }[] = [];
  const at = (level: string) => (message: string, fields: Record<string, unknown> = {}) => void lines.push({ level, message, fields });
  return { logger: { info: at('INFO'), warn: at('WARN'), error: at('ERROR') } as unknown as Logger, lines };
}

function recordingSink(): MetricsSink & { points: { name: string; value: number; unit: string; dimensions?: Record<string, string> }[] } {
  const points: { name: string; value: number; unit: string; dimensions?: Record<string, string> }[] = [];
  return { points, add: (name, value, unit, dimensions) => void points.push({ name, value, unit, ...(dimensions ? { dimensions } : {}) }) };
}

describe('requiredEnv and readDeployedConfig', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'mail-health-env-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('names the variable that is missing', () => {
    expect(() => requiredEnv('TABLE_NAME', {})).toThrow(/TABLE_NAME is not set/);
    expect(() => readDeployedConfig({})).toThrow(/MAILHEALTH_CONFIG_FILE is not set/);
  });

  it('names the file when it is missing, not JSON or not a resolved config', () => {
    // Prepare
    writeFileSync(join(dir, 'broken.json'), '{"targets":');
    writeFileSync(join(dir, 'empty.json'), JSON.stringify({ bounceDomain: 'b.example.jp', targets: [] }));
    const env = (file: string) => ({ MAILHEALTH_CONFIG_FILE: file, LAMBDA_TASK_ROOT: dir });
    // Assess
    expect(() => readDeployedConfig(env('absent.json'))).toThrow(`the config file ${join(dir, 'absent.json')} (MAILHEALTH_CONFIG_FILE) cannot be read: ENOENT`);
    expect(() => readDeployedConfig(env('broken.json'))).toThrow(/broken\.json is not JSON/);
    expect(() => readDeployedConfig(env('empty.json'))).toThrow(/language, deliveryTimeoutMinutes, alerts, retention, targets/);
  });

  it('reads the file relative to the task root and resolves CA paths against it', () => {
    // Prepare: a config of 500 targets, far beyond what a 4 KB environment holds
    const target = (i: number) => ({ name: `t${i}`, host: 'smtp.example.jp', timeouts: { connectMs: 1, stepMs: 1, probeMs: 1 }, ...(i === 0 ? { ca: 'ca/t0.pem' } : {}) });
    const doc = { language: 'en', bounceDomain: 'b.example.jp', deliveryTimeoutMinutes: 15, alerts: {}, retention: { historyDays: 35 }, targets: Array.from({ length: 500 }, (_, i) => target(i)) };
    writeFileSync(join(dir, 'mailhealth.config.json'), JSON.stringify(doc));
    // Act
    const config = readDeployedConfig({ MAILHEALTH_CONFIG_FILE: 'mailhealth.config.json', LAMBDA_TASK_ROOT: dir });
    // Assess
    expect(config.targets).toHaveLength(500);
    expect(config.targets[0]!.ca).toBe(join(dir, 'ca', 't0.pem'));
    expect(config.targets[1]!.ca).toBeUndefined();
  });
});

describe('parseEvent', () => {
  it('returns the declared fields of a valid event', () => {
    expect(parseEvent(schedulerInputSchema, { target: 'shop', extra: 1 }, 'scheduler input')).toEqual({ target: 'shop' });
  });

  it('says which fields are wrong without quoting the event', () => {
    const event = { Records: [{ eventSource: 'aws:ses', ses: { mail: { messageId: '../../etc/passwd' }, receipt: { recipients: [] } } }] };
    expect(() => parseEvent(sesReceiptEventSchema, event, 'SES receipt event')).toThrow(/not a SES receipt event: Records\.0\.ses\.mail\.messageId: invalid_format/);
    expect(() => parseEvent(sesReceiptEventSchema, event, 'SES receipt event')).not.toThrow(/passwd/);
  });
});

describe('stepTimings', () => {
  it('adds up steps that occur more than once (EHLO twice, RCPT per recipient)', () => {
    const { sessionMs, stepMs } = stepTimings(round('ok', at(0)).steps);
    expect(stepMs.ehlo).toBe(8 + 7);
    expect(sessionMs).toBe(12 + 30 + 8 + 41 + 7 + 55 + 6 + 9 + 120 + 3);
  });
});

describe('observeRound', () => {
  it('logs every finding, info ones at INFO, and counts none of them as a metric', () => {
    // Prepare
    const result = { ...round('critical', at(0)), findings: [port25Blocked, authFailed, certExpiring] };
    const { logger, lines } = recordingLogger();
    const sink = recordingSink();

    // Act
    observeRound(result, { logger, sink, language: 'ja' });

    // Assess
    expect(sink.points.map((p) => p.name)).toEqual(['CanarySuccess']);
    const findingLines = lines.filter((l) => l.fields.finding !== undefined);
    expect(findingLines.map((l) => [l.level, (l.fields.finding as { code: string }).code])).toEqual([
      ['INFO', 'PORT25_BLOCKED'],
      ['WARN', 'AUTH_FAILED'],
      ['WARN', 'TLS_CERT_EXPIRING'],
    ]);
    expect(findingLines[1]!.message).toBe(authFailed.message.ja);
    const roundLine = lines.find((l) => l.message === 'canary round')!;
    expect(roundLine.fields.findings).toEqual(['PORT25_BLOCKED', 'AUTH_FAILED', 'TLS_CERT_EXPIRING']);
  });

  it('emits CanarySuccess only, 0 for a critical round and 1 for a login-only round that went through; the session time goes into the log line', () => {
    // Prepare
    const sink = recordingSink();
    const { logger, lines } = recordingLogger();
    const loginOnly = { ...round('ok', at(0)), steps: round('ok', at(0)).steps.filter((s) => !['mail', 'rcpt', 'data'].includes(s.step)) };

    // Act
    observeRound(round('critical', at(0)), { logger, sink, language: 'en' });
    observeRound(loginOnly, { logger, sink, language: 'en', roundTrip: false });

    // Assess
    expect(sink.points).toEqual([
      { name: 'CanarySuccess', value: 0, unit: 'Count', dimensions: { Target: 'shop' } },
      { name: 'CanarySuccess', value: 1, unit: 'Count', dimensions: { Target: 'shop' } },
    ]);
    const [critical, login] = lines.filter((l) => l.message === 'canary round');
    expect(critical!.fields).toMatchObject({ sessionMs: 12 + 30 + 8 + 41 + 7 + 230, roundTrip: true });
    expect(login!.fields).toMatchObject({ roundTrip: false, accepted: false, status: 'ok' });
  });
});

describe('createEmfMetricsSink', () => {
  let out: OutputCapture;
  afterEach(() => out?.restore());

  it('writes one EMF line per dimension set, with service on each, and nothing before flush', () => {
    // Prepare
    out = captureOutput();
    const sink = createEmfMetricsSink(new Metrics({ namespace: 'MailHealth', serviceName: 'mail-health' }));

    // Act
    sink.add('CanarySuccess', 1, 'Count', { Target: 'shop' });
    sink.add('TlsCertDaysLeft', 80, 'None', { Target: 'shop' });
    sink.add('Bounces', 1, 'Count', { Reason: 'mailboxfull' });
    sink.add('Bounces', 1, 'Count', { Reason: 'mailboxfull' });
    const before = out.metrics().length;
    sink.flush();
    sink.flush();

    // Assess
    expect(before).toBe(0);
    expect(out.json().filter((l) => l._aws !== undefined)).toHaveLength(2);
    expect(out.metrics()).toEqual([
      { name: 'CanarySuccess', unit: 'Count', value: 1, namespace: 'MailHealth', dimensions: { service: 'mail-health', Target: 'shop' } },
      { name: 'TlsCertDaysLeft', unit: 'None', value: 80, namespace: 'MailHealth', dimensions: { service: 'mail-health', Target: 'shop' } },
      { name: 'Bounces', unit: 'Count', value: 1, namespace: 'MailHealth', dimensions: { service: 'mail-health', Reason: 'mailboxfull' } },
      { name: 'Bounces', unit: 'Count', value: 1, namespace: 'MailHealth', dimensions: { service: 'mail-health', Reason: 'mailboxfull' } },
    ]);
  });
});

describe('onceAsync', () => {
  it('keeps the first success and retries after a failure', async () => {
    // Prepare
    let calls = 0;
    const get = onceAsync(async () => {
      calls++;
      if (calls === 1) throw new Error('cold');
      return calls;
    });

    // Act
    const first = await get().catch((e: Error) => e.message);
    const second = await get();
    const third = await get();

    // Assess
    expect([first, second, third, calls]).toEqual(['cold', 2, 2, 2]);
  });
});
