/**
 * The alert Lambda handler, invoked with SNS events (alert events as the canary and bounce
 * Lambdas publish them, and CloudWatch alarm notifications) against local stand-ins: a local
 * HTTP server as the Slack webhook, aws-ses-v2-local for email, dynalite for the table and a
 * Secrets Manager endpoint holding the webhook URL.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createDynamoDbStore } from '#adapters/dynamodb-store.ts';
import { alertMessageBody } from '#adapters/sns-alert-topic.ts';
import type { BounceAlert, HealthAlert } from '#core/alert/event.ts';
import { parseConfig } from '#core/config.ts';
import type { Store } from '#core/ports.ts';
import { deployedConfig } from '../../lib/mail-health-stack.ts';
import { at, authFailed, bounced, canaryAt, mailboxFull, round } from '../helpers/alert-fixtures.ts';
import { startDynalite, type DynaliteHandle } from '../helpers/dynalite.ts';
import { startHttpCapture, type HttpCapture } from '../helpers/http-capture.ts';
import { startSesLocal, type SesLocalHandle } from '../helpers/ses-local.ts';
import { closedPort } from '../helpers/smtp.ts';
import { captureOutput, handlerEnv, loadHandler, snsEvent, startSecretsManager, writeDeployedConfig, type OutputCapture, type SecretsStandIn } from './handler-stand-ins.ts';

type AlertModule = typeof import('../../functions/alert/index.ts');

const TOPIC = 'arn:aws:sns:ap-northeast-1:123456789012:mail-health-alerts';
const SLACK_SECRET = 'mail-health/slack-webhook';
const EMPTY_SECRET = 'mail-health/slack-webhook-unset';
const WEBHOOK_PATH = '/services/T0000/B0000/XXXXXXXXXXXXXXXXXXXXXXXX';

const snsEventOf = (message: string) => snsEvent(TOPIC, message);

let keys = 0;

/** A failing alert as the canary's health state machine raises it (unique key per call). */
function failingAlert(): HealthAlert {
  const r = round('critical', at(10), { canaryId: canaryAt(10) });
  return {
    kind: 'failing',
    key: `health#shop#${canaryAt(5, ++keys)}#failing`,
    incidentId: canaryAt(5, keys),
    target: 'shop',
    at: at(10),
    startedAt: at(5),
    status: 'critical',
    findings: [authFailed],
    canaryId: r.canaryId,
    failedStep: 'auth',
    steps: r.steps,
    durationMs: 5 * 60_000,
  };
}

function bounceAlert(): BounceAlert {
  const recipient = bounced();
  return {
    kind: 'bounce',
    key: `bounce#${recipient.canaryId}#${recipient.recipient}#${++keys}`,
    incidentId: canaryAt(20, keys),
    target: 'shop',
    at: at(20),
    startedAt: at(20),
    status: 'warning',
    findings: [mailboxFull],
    canaryId: recipient.canaryId,
    bounce: recipient,
  };
}

/** A CloudWatch alarm state change as the alarm action publishes it: the canary Lambda failed. */
const alarmNotification = {
  AlarmName: 'MailHealthStack-canary-errors',
  AlarmDescription: 'The mail-health canary Lambda failed (an exception, timeout or out of memory). Its log group has the stack trace.',
  AWSAccountId: '123456789012',
  AlarmConfigurationUpdatedTimestamp: '2026-01-04T23:00:00.000+0000',
  NewStateValue: 'ALARM',
  NewStateReason: 'Threshold Crossed: 1 out of the last 1 datapoints [1.0 (05/01/26 00:30:00)] was greater than or equal to the threshold (1.0).',
  StateChangeTime: '2026-01-05T00:35:00.123+0000',
  Region: 'Asia Pacific (Tokyo)',
  AlarmArn: 'arn:aws:cloudwatch:ap-northeast-1:123456789012:alarm:MailHealthStack-canary-errors',
  OldStateValue: 'OK',
  OKActions: [],
  AlarmActions: [TOPIC],
  InsufficientDataActions: [],
  Trigger: {
    MetricName: 'Errors',
    Namespace: 'AWS/Lambda',
    StatisticType: 'Statistic',
    Statistic: 'SUM',
    Unit: null,
    Dimensions: [{ value: 'MailHealthStack-CanaryFunction', name: 'FunctionName' }],
    Period: 300,
    EvaluationPeriods: 1,
    ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    Threshold: 1.0,
    TreatMissingData: 'notBreaching',
    EvaluateLowSampleCountPercentile: '',
  },
};

/** An alarm on one target's canary results (earlier stacks had one per target; a user may add one). */
const canaryResultsAlarm = {
  ...alarmNotification,
  AlarmName: 'MailHealthStack-canary-not-reporting-shop',
  AlarmArn: 'arn:aws:cloudwatch:ap-northeast-1:123456789012:alarm:MailHealthStack-canary-not-reporting-shop',
  Trigger: {
    ...alarmNotification.Trigger,
    MetricName: 'CanarySuccess',
    Namespace: 'MailHealth',
    Statistic: 'SAMPLE_COUNT',
    Dimensions: [
      { value: 'mail-health', name: 'service' },
      { value: 'shop', name: 'Target' },
    ],
    ComparisonOperator: 'LessThanThreshold',
    TreatMissingData: 'breaching',
  },
};

function deployedEnvConfig(): string {
  const config = parseConfig(
    {
      language: 'ja',
      bounceDomain: 'bounces.example.jp',
      targets: [{ name: 'shop', host: 'smtp.example.jp', auth: { user: 'shop@example.jp', secretName: 'mail-health/shop-smtp' }, from: 'shop@example.jp', to: ['canary@bounces.example.jp'] }],
      alerts: { slack: { secretName: SLACK_SECRET }, email: { from: 'monitor@example.jp', to: ['owner@example.jp'] } },
    },
    { locale: 'ja' },
  );
  return writeDeployedConfig(deployedConfig(config));
}

describe('alert handler', () => {
  let ddb: DynaliteHandle;
  let ses: SesLocalHandle;
  let secrets: SecretsStandIn;
  let slack: HttpCapture;
  let slackStatus = 200;
  let tableName: string;
  let store: Store;
  let alert: AlertModule;
  let restoreEnv: () => void;
  let out: OutputCapture;

  beforeAll(async () => {
    ddb = await startDynalite();
    tableName = await ddb.createTable();
    store = createDynamoDbStore({ client: ddb.client, tableName });
    ses = await startSesLocal();
    slack = await startHttpCapture(() => ({ status: slackStatus, body: slackStatus === 200 ? 'ok' : 'invalid_token' }));
    secrets = await startSecretsManager({ [SLACK_SECRET]: `${slack.url}${WEBHOOK_PATH}`, [EMPTY_SECRET]: '' });
    const env = handlerEnv(
      { dynamodb: ddb.endpoint, secretsManager: secrets.endpoint, sesv2: ses.endpoint },
      { MAILHEALTH_CONFIG_FILE: deployedEnvConfig(), TABLE_NAME: tableName, SLACK_SECRET_ID: SLACK_SECRET },
    );
    const loaded = await loadHandler<AlertModule>('../../functions/alert/index.ts', env);
    alert = loaded.module;
    restoreEnv = loaded.restore;
  });

  afterAll(async () => {
    restoreEnv?.();
    await Promise.all([ddb?.close(), ses?.close(), secrets?.close(), slack?.close()]);
  });

  beforeEach(async () => {
    slackStatus = 200;
    await ses.clear();
    out = captureOutput();
  });
  afterEach(() => {
    out.restore();
  });

  it('delivers an alert event from the topic to Slack and email and records it', async () => {
    // Prepare
    const event = failingAlert();
    const slackBefore = slack.requests.length;

    // Act
    await alert.handler(snsEventOf(alertMessageBody(event)));

    // Assess
    const posts = slack.requests.slice(slackBefore);
    expect(posts).toHaveLength(1);
    expect(posts[0]!.path).toBe(WEBHOOK_PATH);
    const body = posts[0]!.json<{ text: string; blocks: unknown[] }>();
    expect(body.blocks.length).toBeGreaterThan(0);
    expect(body.text).toContain('shop');
    const emails = await ses.emails();
    expect(emails).toHaveLength(1);
    expect(emails[0]).toMatchObject({ from: 'monitor@example.jp', destination: { to: ['owner@example.jp'] } });
    expect(emails[0]!.subject).toContain('shop');
    const [recorded] = await store.listAlerts('shop', 10);
    expect(recorded).toMatchObject({ event: { key: event.key }, outcomes: [{ channel: 'slack', ok: true }, { channel: 'email', ok: true }] });
  });

  it('delivers an SNS redelivery of the same alert only once', async () => {
    // Prepare
    const message = alertMessageBody(bounceAlert());
    const slackBefore = slack.requests.length;

    // Act
    await alert.handler(snsEventOf(message));
    await alert.handler(snsEventOf(message));

    // Assess
    expect(slack.requests.length - slackBefore).toBe(1);
    expect(await ses.emails()).toHaveLength(1);
    expect(out.logs().filter((l) => l.message === 'alert already delivered; duplicate dropped')).toHaveLength(1);
  });

  it('formats a CloudWatch alarm notification like any other alert', async () => {
    // Prepare
    const slackBefore = slack.requests.length;

    // Act
    await alert.handler(snsEventOf(JSON.stringify(alarmNotification)));

    // Assess
    const post = slack.requests.slice(slackBefore)[0]!.json<{ text: string }>();
    expect(post.text).toContain('MailHealthStack-canary-errors');
    const [email] = await ses.emails();
    expect(email?.subject).toContain('MailHealthStack-canary-errors');
  });

  it("does not deliver an alarm on a target's canary results: the health state machine speaks for the target", async () => {
    // Prepare
    const slackBefore = slack.requests.length;
    const emailsBefore = (await ses.emails()).length;

    // Act
    await alert.handler(snsEventOf(JSON.stringify(canaryResultsAlarm)));

    // Assess
    expect(slack.requests.length).toBe(slackBefore);
    expect(await ses.emails()).toHaveLength(emailsBefore);
    expect(out.logs().find((l) => String(l.message).startsWith('alarm on a target'))).toMatchObject({ kind: 'alarm', target: 'shop' });
  });

  it('still sends the email when Slack refuses, and logs the failure without the webhook URL', async () => {
    // Prepare
    slackStatus = 403;

    // Act
    await alert.handler(snsEventOf(alertMessageBody(failingAlert())));

    // Assess
    expect(await ses.emails()).toHaveLength(1);
    const failure = out.logs().find((l) => l.message === 'alert not delivered');
    expect(failure).toMatchObject({ level: 'ERROR', channel: 'slack', error: expect.stringContaining('403') });
    expect(out.text()).not.toContain(WEBHOOK_PATH);
  });

  it('reads the Slack webhook secret once per cold start', async () => {
    // Act
    await alert.handler(snsEventOf(alertMessageBody(failingAlert())));
    await alert.handler(snsEventOf(alertMessageBody(failingAlert())));

    // Assess
    expect(secrets.requests.filter((id) => id === SLACK_SECRET)).toHaveLength(1);
  });

  it('drops a message that is neither an alert nor an alarm, with a warning', async () => {
    // Prepare
    const slackBefore = slack.requests.length;

    // Act
    await alert.handler(snsEventOf('{"hello":"world"}'));

    // Assess
    expect(slack.requests.length).toBe(slackBefore);
    expect(await ses.emails()).toHaveLength(0);
    expect(out.logs().find((l) => l.message === 'not an alert or alarm message; dropped')).toMatchObject({ level: 'WARN' });
  });

  it('fails at cold start naming SLACK_SECRET_ID when Slack is configured but the variable is missing', async () => {
    // Prepare
    const saved = process.env.SLACK_SECRET_ID;
    delete process.env.SLACK_SECRET_ID;
    vi.resetModules();
    try {
      // Act
      const init = import('../../functions/alert/index.ts');

      // Assess
      await expect(init).rejects.toThrow(/SLACK_SECRET_ID is not set/);
    } finally {
      process.env.SLACK_SECRET_ID = saved;
    }
  });

  it('refuses an event that is not an SNS event', async () => {
    await expect(alert.handler({ Records: [{ eventSource: 'aws:ses' }] })).rejects.toMatchObject({ code: 'INPUT_UNREADABLE' });
  });

  describe('with every channel broken', () => {
    let broken: AlertModule;
    let restoreBroken: () => void;

    beforeAll(async () => {
      // An empty Slack secret (not filled in after deploy) and nothing listening for SES.
      const env = handlerEnv(
        { dynamodb: ddb.endpoint, secretsManager: secrets.endpoint, sesv2: `http://127.0.0.1:${await closedPort()}` },
        { MAILHEALTH_CONFIG_FILE: deployedEnvConfig(), TABLE_NAME: tableName, SLACK_SECRET_ID: EMPTY_SECRET },
      );
      const loaded = await loadHandler<AlertModule>('../../functions/alert/index.ts', env);
      broken = loaded.module;
      restoreBroken = loaded.restore;
    });
    afterAll(() => restoreBroken?.());

    it('fails the invocation after trying both channels, naming the alert', async () => {
      // Prepare
      const event = failingAlert();

      // Act
      const run = broken.handler(snsEventOf(alertMessageBody(event)));

      // Assess
      await expect(run).rejects.toMatchObject({ code: 'DELIVERY_FAILED', message: expect.stringContaining(event.key) });
      const failures = out.logs().filter((l) => l.message === 'alert not delivered');
      expect(failures.map((l) => l.channel).sort()).toEqual(['email', 'slack']);
      expect(failures.find((l) => l.channel === 'slack')?.error).toContain(EMPTY_SECRET);
    });

    it('lets the topic\'s retry deliver an alert that no channel took the first time', async () => {
      // Prepare: the first attempt fails on every channel.
      const message = alertMessageBody(failingAlert());
      await expect(broken.handler(snsEventOf(message))).rejects.toMatchObject({ code: 'DELIVERY_FAILED' });
      const slackBefore = slack.requests.length;

      // Act: SNS retries the same message once the channels work again.
      await alert.handler(snsEventOf(message));

      // Assess
      expect(slack.requests.length - slackBefore).toBe(1);
      expect(await ses.emails()).toHaveLength(1);
    });
  });
});
