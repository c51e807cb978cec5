import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFileStore } from '#adapters/file-store.ts';
import { alarmAlertFromCloudWatch, decodeAlertMessage, encodeAlertMessage } from '#core/alert/sns.ts';
import { recordAlarm, recordRound } from '#core/health/record.ts';
import { at, countingRandom, round, T0 } from '../helpers/alert-fixtures.ts';

const deps = { now: new Date(T0 + 40 * 60_000), random: countingRandom() };

const alarmMessage = {
  AlarmName: 'mail-health-canary-not-reporting',
  AlarmDescription: null,
  AWSAccountId: '123456789012',
  NewStateValue: 'ALARM',
  NewStateReason: 'Threshold Crossed: no datapoints were received for 2 periods and 2 missing datapoints were treated as [Breaching].',
  StateChangeTime: '2026-01-05T00:35:00.000+0000',
  Region: 'Asia Pacific (Tokyo)',
  AlarmArn: 'arn:aws:cloudwatch:ap-northeast-1:123456789012:alarm:mail-health-canary-not-reporting',
  OldStateValue: 'OK',
  Trigger: { MetricName: 'CanarySuccess', Namespace: 'MailHealth', Dimensions: [{ value: 'shop', name: 'Target' }] },
};

describe('decodeAlertMessage', () => {
  it('reads back an alert event published by a canary Lambda', async () => {
    // Prepare
    const dir = await mkdtemp(join(tmpdir(), 'mailhealth-sns-'));
    try {
      const [event] = await recordRound(round('critical', at(0)), {
        store: createFileStore({ dir, now: () => T0 }),
        clock: () => new Date(T0),
        random: countingRandom(),
        config: { failureThreshold: 1, recoveryThreshold: 1, reminderMinutes: 0 },
      });
      if (!event) throw new Error('an alert was expected');

      // Act
      const decoded = decodeAlertMessage(encodeAlertMessage(event), deps);

      // Assess
      expect(decoded).toEqual(event);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('turns a CloudWatch alarm notification into an alarm alert', () => {
    // Prepare / Act
    const event = decodeAlertMessage(JSON.stringify(alarmMessage), deps);

    // Assess
    expect(event).toMatchObject({
      kind: 'alarm',
      target: 'shop',
      status: 'critical',
      startedAt: '2026-01-05T00:35:00.000Z',
      at: '2026-01-05T00:40:00.000Z',
      key: `alarm#${alarmMessage.AlarmArn}#2026-01-05T00:35:00.000Z#ALARM`,
      alarm: { name: alarmMessage.AlarmName, state: 'ALARM', previousState: 'OK', metric: 'MailHealth/CanarySuccess', description: null },
    });
  });

  it('maps OK and INSUFFICIENT_DATA alarm states to ok and unknown', () => {
    expect(alarmAlertFromCloudWatch({ ...alarmMessage, NewStateValue: 'OK', OldStateValue: 'ALARM' }, deps)?.status).toBe('ok');
    expect(alarmAlertFromCloudWatch({ ...alarmMessage, NewStateValue: 'INSUFFICIENT_DATA' }, deps)?.status).toBe('unknown');
  });

  it('returns null for a message that is neither', () => {
    expect(decodeAlertMessage('not json', deps)).toBeNull();
    expect(decodeAlertMessage(JSON.stringify({ hello: 'world' }), deps)).toBeNull();
    expect(decodeAlertMessage(JSON.stringify({ kind: 'failing', key: 'k' }), deps)).toBeNull();
  });
});

describe('recordAlarm', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mailhealth-alarm-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('raises a redelivered alarm notification once', async () => {
    // Prepare
    const store = createFileStore({ dir, now: () => T0 });
    const first = alarmAlertFromCloudWatch(alarmMessage, deps);
    const redelivered = alarmAlertFromCloudWatch(alarmMessage, { ...deps, now: new Date(T0 + 41 * 60_000) });
    if (!first || !redelivered) throw new Error('alarm not recognised');

    // Act
    const raised = [...(await recordAlarm(first, { store })), ...(await recordAlarm(redelivered, { store }))];

    // Assess
    expect(raised).toHaveLength(1);
  });
});
