/**
 * One voice per incident, in AWS form: the canary, sweeper and alert handlers against local
 * stand-ins (smtp-server as the provider, dynalite, an SNS endpoint, Secrets Manager, Slack as an
 * HTTP capture, aws-ses-v2-local). An outage of three rounds and its recovery reach Slack as
 * exactly one failure and one recovery, however the topic redelivers and whatever CloudWatch
 * alarms on the target's canary results publish beside them.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '#core/config.ts';
import { deployedConfig } from '../../lib/mail-health-stack.ts';
import { startDynalite, type DynaliteHandle } from '../helpers/dynalite.ts';
import { startHttpCapture, type HttpCapture } from '../helpers/http-capture.ts';
import { startSesLocal, type SesLocalHandle } from '../helpers/ses-local.ts';
import { closeAll, makePki, PASSWORD, SERVERNAME, smtpError, startSmtpServer, USER, type TestSmtpServer } from '../helpers/smtp.ts';
import {
  captureOutput,
  handlerEnv,
  loadHandler,
  fromTopic,
  startSecretsManager,
  startSns,
  type OutputCapture,
  type SecretsStandIn,
  type SnsStandIn,
  writeDeployedConfig,
} from './handler-stand-ins.ts';

type CanaryModule = typeof import('../../functions/canary/index.ts');
type SweeperModule = typeof import('../../functions/sweeper/index.ts');
type AlertModule = typeof import('../../functions/alert/index.ts');

const TOPIC = 'arn:aws:sns:ap-northeast-1:123456789012:mail-health-alerts';
const BOUNCE_DOMAIN = 'bounces.example.jp';

/**
 * A CloudWatch alarm's state change on the target's `CanarySuccess`, as the alarm action
 * publishes it to the topic (the message body of an AWS alarm notification): such an alarm is
 * what earlier versions of the stack had per target, and what a user may add.
 */
function canaryAlarm(name: string, state: 'ALARM' | 'OK', old: 'ALARM' | 'OK', at: string, trigger: { statistic: string; missing: string }): string {
  return JSON.stringify({
    AlarmName: name,
    AlarmDescription: 'The mail-health canary for shop found no successful round in 2 consecutive periods of 5 min.',
    AWSAccountId: '123456789012',
    AlarmConfigurationUpdatedTimestamp: '2026-01-04T23:00:00.000+0000',
    NewStateValue: state,
    NewStateReason:
      state === 'ALARM'
        ? 'Threshold Crossed: 2 out of the last 2 datapoints [0.0 (05/01/26 00:30:00), 0.0 (05/01/26 00:25:00)] were less than the threshold (1.0) (minimum 2 datapoints for OK -> ALARM transition).'
        : 'Threshold Crossed: 1 datapoint [1.0 (05/01/26 00:50:00)] was not less than the threshold (1.0).',
    StateChangeTime: at,
    Region: 'Asia Pacific (Tokyo)',
    AlarmArn: `arn:aws:cloudwatch:ap-northeast-1:123456789012:alarm:${name}`,
    OldStateValue: old,
    OKActions: [TOPIC],
    AlarmActions: [TOPIC],
    InsufficientDataActions: [],
    Trigger: {
      MetricName: 'CanarySuccess',
      Namespace: 'MailHealth',
      StatisticType: 'Statistic',
      Statistic: trigger.statistic,
      Unit: null,
      Dimensions: [
        { value: 'mail-health', name: 'service' },
        { value: 'shop', name: 'Target' },
      ],
      Period: 300,
      EvaluationPeriods: 2,
      DatapointsToAlarm: 2,
      ComparisonOperator: 'LessThanThreshold',
      Threshold: 1.0,
      TreatMissingData: trigger.missing,
      EvaluateLowSampleCountPercentile: '',
    },
  });
}

/** The queue's event of an alarm notification (SNS → SQS, raw delivery: the body is the alarm's JSON). */
function alarmEvent(message: string): unknown {
  return fromTopic(message);
}

describe('one voice per incident (canary, sweeper and alert handlers)', () => {
  let smtp: TestSmtpServer;
  let ddb: DynaliteHandle;
  let sns: SnsStandIn;
  let ses: SesLocalHandle;
  let secrets: SecretsStandIn;
  let slack: HttpCapture;
  const restore: (() => void)[] = [];
  let canary: CanaryModule;
  let sweeper: SweeperModule;
  let alert: AlertModule;
  let out: OutputCapture;
  let dir: string | undefined;
  // The provider's outage: while on, it refuses every login (a locked account).
  let outage = false;

  beforeAll(async () => {
    const pki = makePki();
    smtp = await startSmtpServer(pki, {
      onAuth(auth, _session, callback) {
        if (!outage && auth.username === USER && auth.password === PASSWORD) return callback(null, { user: USER });
        callback(smtpError(535, '5.7.8 Authentication credentials invalid'));
      },
    });
    ddb = await startDynalite();
    const tableName = await ddb.createTable();
    sns = await startSns();
    ses = await startSesLocal();
    slack = await startHttpCapture();
    secrets = await startSecretsManager({ 'mail-health/shop-smtp': PASSWORD, 'mail-health/slack-webhook': `${slack.url}/services/T1/B1/one-voice` });

    dir = await mkdtemp(join(tmpdir(), 'mail-health-voice-'));
    const caPath = join(dir, 'ca.pem');
    await writeFile(caPath, pki.caPem);
    const config = parseConfig(
      {
        language: 'en',
        bounceDomain: BOUNCE_DOMAIN,
        targets: [
          {
            name: 'shop',
            host: '127.0.0.1',
            port: smtp.port,
            servername: SERVERNAME,
            ca: caPath,
            auth: { user: USER, secretName: 'mail-health/shop-smtp' },
            from: USER,
            to: [`canary@${BOUNCE_DOMAIN}`],
            probePorts: [],
            timeouts: { connectMs: 2_000, stepMs: 2_000, probeMs: 500 },
          },
        ],
        alerts: {
          failureThreshold: 2,
          recoveryThreshold: 2,
          slack: { secretName: 'mail-health/slack-webhook' },
          email: { from: 'monitor@example.jp', to: ['owner@example.jp'] },
        },
      },
      { locale: 'en' },
    );
    const deployed = deployedConfig(config);
    const env = handlerEnv(
      { dynamodb: ddb.endpoint, sns: sns.endpoint, secretsManager: secrets.endpoint, sesv2: ses.endpoint },
      {
        MAILHEALTH_CONFIG_FILE: writeDeployedConfig({ ...deployed, targets: deployed.targets.map((t) => ({ ...t, ca: caPath })) }),
        TABLE_NAME: tableName,
        ALERT_TOPIC_ARN: TOPIC,
        SLACK_SECRET_ID: 'mail-health/slack-webhook',
        SILENT_AFTER_SECONDS: '900',
      },
    );
    for (const [entry, set] of [
      ['../../functions/canary/index.ts', (m: unknown) => (canary = m as CanaryModule)],
      ['../../functions/sweeper/index.ts', (m: unknown) => (sweeper = m as SweeperModule)],
      ['../../functions/alert/index.ts', (m: unknown) => (alert = m as AlertModule)],
    ] as const) {
      const loaded = await loadHandler<unknown>(entry, env);
      set(loaded.module);
      restore.push(loaded.restore);
    }
    out = captureOutput();
  });

  afterAll(async () => {
    out?.restore();
    for (const r of restore.reverse()) r();
    await closeAll();
    await Promise.all([ddb?.close(), sns?.close(), ses?.close(), secrets?.close(), slack?.close()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('sends one failure and one recovery for an outage of three rounds, whatever the alarms on the canary publish', async () => {
    // Prepare: SNS hands every message of the topic to the alert Lambda, each one twice (at-least-once delivery).
    let delivered = 0;
    const deliverTopic = async () => {
      for (const p of sns.published.slice(delivered)) {
        const event = fromTopic(p.message);
        await alert.handler(event);
        await alert.handler(event);
      }
      delivered = sns.published.length;
    };
    const scheduled = (i: number) => ({ targets: ['shop'], scheduledTime: new Date(Date.parse('2026-01-05T00:00:00Z') + i * 300_000).toISOString() });
    const alarmsBefore = [
      canaryAlarm('MailHealthStack-canary-failing-shop', 'ALARM', 'OK', '2026-01-05T00:35:00.123+0000', { statistic: 'MAXIMUM', missing: 'missing' }),
      canaryAlarm('MailHealthStack-canary-not-reporting-shop', 'ALARM', 'OK', '2026-01-05T00:36:00.456+0000', { statistic: 'SAMPLE_COUNT', missing: 'breaching' }),
    ];
    const alarmsAfter = [
      canaryAlarm('MailHealthStack-canary-failing-shop', 'OK', 'ALARM', '2026-01-05T00:55:00.789+0000', { statistic: 'MAXIMUM', missing: 'missing' }),
      canaryAlarm('MailHealthStack-canary-not-reporting-shop', 'OK', 'ALARM', '2026-01-05T00:56:00.012+0000', { statistic: 'SAMPLE_COUNT', missing: 'breaching' }),
    ];

    // Act 1: a good round, then three rounds of outage; the sweeper runs between them.
    let round = 0;
    await canary.handler(scheduled(round++));
    outage = true;
    for (let i = 0; i < 3; i++) {
      await canary.handler(scheduled(round++));
      await sweeper.handler({ scheduledTime: new Date().toISOString() });
      await deliverTopic();
    }
    // Act 2: the alarms on the target's canary results go off, as AWS publishes them, twice each.
    for (const message of alarmsBefore) {
      const event = alarmEvent(message);
      await alert.handler(event);
      await alert.handler(event);
    }
    // Act 3: the provider is back; two good rounds recover the target; the alarms return to OK.
    outage = false;
    for (let i = 0; i < 2; i++) {
      await canary.handler(scheduled(round++));
      await sweeper.handler({ scheduledTime: new Date().toISOString() });
      await deliverTopic();
    }
    for (const message of alarmsAfter) await alert.handler(alarmEvent(message));

    // Assess
    const posts = slack.requests.map((r) => r.json<{ text: string }>().text);
    expect(posts).toHaveLength(2);
    expect(posts[0]).toMatch(/failing/i);
    expect(posts[0]).toContain('shop');
    expect(posts[1]).toMatch(/recovered/i);
    expect(sns.published.map((p) => p.attributes.kind)).toEqual(['failing', 'recovered']);
    const emails = await ses.emails();
    expect(emails).toHaveLength(2);
    expect(out.logs().filter((l) => String(l.message).startsWith('alarm on a target'))).toHaveLength(alarmsBefore.length * 2 + alarmsAfter.length);
    expect(out.logs().filter((l) => l.message === 'sweep').every((l) => l.silentCount === 0)).toBe(true);
  });
});
