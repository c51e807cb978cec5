/**
 * The alert Lambda handler, invoked with SQS events of the alert queue (alert events as the
 * canary, bounce and sweeper Lambdas publish them, and CloudWatch alarm notifications, carried
 * by SNS with raw message delivery) against local stand-ins: a local HTTP server as the Slack
 * webhooks, aws-ses-v2-local for email, dynalite for the table, a Secrets Manager endpoint
 * holding the webhook URLs and an SQS endpoint recording the retry waits.
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
import { captureOutput, handlerEnv, loadHandler, sqsEvent, startSecretsManager, startSqs, writeDeployedConfig, type OutputCapture, type SecretsStandIn, type SqsStandIn } from './handler-stand-ins.ts';

type AlertModule = typeof import('../../functions/alert/index.ts');

const TOPIC = 'arn:aws:sns:ap-northeast-1:123456789012:mail-health-alerts';
const QUEUE = 'arn:aws:sqs:ap-northeast-1:123456789012:mail-health-alert-queue';
const ROUTE_SLACK_SECRET = 'mail-health/clinic-slack';
const ROUTE_WEBHOOK_PATH = '/services/T0000/B1111/CLINIC';
const SLACK_SECRET = 'mail-health/slack-webhook';
const EMPTY_SECRET = 'mail-health/slack-webhook-unset';
const WEBHOOK_PATH = '/services/T0000/B0000/XXXXXXXXXXXXXXXXXXXXXXXX';

const queued = (message: string, receiveCount = 1) => sqsEvent(QUEUE, [{ body: message, receiveCount }]);

let keys = 0;

/** A failing alert as the canary's health state machine raises it (unique key per call). */
function failingAlert(target = 'shop'): HealthAlert {
  const r = round('critical', at(10), { canaryId: canaryAt(10) });
  return {
    kind: 'failing',
    key: `health#${target}#${canaryAt(5, ++keys)}#failing`,
    incidentId: canaryAt(5, keys),
    target,
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
      targets: [
        { name: 'shop', host: 'smtp.example.jp', auth: { user: 'shop@example.jp', secretName: 'mail-health/shop-smtp' }, from: 'shop@example.jp', to: ['canary@bounces.example.jp'] },
        { name: 'clinic', host: 'smtp.example.jp', from: 'clinic@example.jp', to: ['canary@bounces.example.jp'], route: 'clinic-desk' },
      ],
      alerts: {
        slack: { secretName: SLACK_SECRET },
        email: { from: 'monitor@example.jp', to: ['owner@example.jp'] },
        routes: [{ name: 'clinic-desk', language: 'en', slack: { secretName: ROUTE_SLACK_SECRET }, email: { to: ['desk@clinic.example.jp'] } }],
      },
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
  let sqs: SqsStandIn;
  let slackStatus = 200;
  let tableName: string;
  let store: Store;
  let alert: AlertModule;
  let restoreEnv: () => void;
  let out: OutputCapture;
  const posts = (path: string, from = 0) => slack.requests.slice(from).filter((r) => r.path === path);

  beforeAll(async () => {
    ddb = await startDynalite();
    tableName = await ddb.createTable();
    store = createDynamoDbStore({ client: ddb.client, tableName });
    ses = await startSesLocal();
    sqs = await startSqs();
    slack = await startHttpCapture(() => ({ status: slackStatus, body: slackStatus === 200 ? 'ok' : 'invalid_token' }));
    secrets = await startSecretsManager({ [SLACK_SECRET]: `${slack.url}${WEBHOOK_PATH}`, [ROUTE_SLACK_SECRET]: `${slack.url}${ROUTE_WEBHOOK_PATH}`, [EMPTY_SECRET]: '' });
    const env = handlerEnv(
      { dynamodb: ddb.endpoint, secretsManager: secrets.endpoint, sesv2: ses.endpoint, sqs: sqs.endpoint },
      { MAILHEALTH_CONFIG_FILE: deployedEnvConfig(), TABLE_NAME: tableName, SLACK_SECRET_ID: SLACK_SECRET, ALERT_QUEUE_URL: `${sqs.endpoint}/123456789012/alerts` },
    );
    const loaded = await loadHandler<AlertModule>('../../functions/alert/index.ts', env);
    alert = loaded.module;
    restoreEnv = loaded.restore;
  });

  afterAll(async () => {
    restoreEnv?.();
    await Promise.all([ddb?.close(), ses?.close(), secrets?.close(), slack?.close(), sqs?.close()]);
  });

  beforeEach(async () => {
    slackStatus = 200;
    await ses.clear();
    out = captureOutput();
  });
  afterEach(() => {
    out.restore();
  });

  it('delivers an alert event from the queue to Slack and email and records it', async () => {
    // Prepare
    const event = failingAlert();
    const slackBefore = slack.requests.length;

    // Act
    const answer = await alert.handler(queued(alertMessageBody(event)));

    // Assess
    expect(answer).toEqual({ batchItemFailures: [] });
    const sent = slack.requests.slice(slackBefore);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.path).toBe(WEBHOOK_PATH);
    const body = sent[0]!.json<{ text: string; blocks: unknown[] }>();
    expect(body.blocks.length).toBeGreaterThan(0);
    expect(body.text).toContain('shop');
    const emails = await ses.emails();
    expect(emails).toHaveLength(1);
    expect(emails[0]).toMatchObject({ from: 'monitor@example.jp', destination: { to: ['owner@example.jp'] } });
    expect(emails[0]!.subject).toContain('shop');
    const [recorded] = await store.listAlerts('shop', 10);
    expect(recorded).toMatchObject({ event: { key: event.key }, outcomes: [{ channel: 'slack', ok: true }, { channel: 'email', ok: true }] });
  });

  it("delivers a route's alert to that route's webhook and recipients only, in its language", async () => {
    // Prepare
    const event = failingAlert('clinic');
    const slackBefore = slack.requests.length;

    // Act
    await alert.handler(queued(alertMessageBody(event)));

    // Assess
    expect(posts(ROUTE_WEBHOOK_PATH, slackBefore)).toHaveLength(1);
    expect(posts(WEBHOOK_PATH, slackBefore)).toHaveLength(0);
    expect(posts(ROUTE_WEBHOOK_PATH, slackBefore)[0]!.json<{ text: string }>().text).toMatch(/clinic/);
    const emails = await ses.emails();
    expect(emails.map((e) => e.destination.to)).toEqual([['desk@clinic.example.jp']]);
    // The route speaks English; the config's own language is Japanese.
    expect(emails[0]!.subject).toMatch(/[A-Za-z]{4,}/);
    expect(emails[0]!.subject).not.toMatch(/[\u3040-\u30ff]/);
  });

  it('puts the health alerts of one batch that go to one destination into one post, a bounce alert apart, and records each alert', async () => {
    // Prepare: four targets on the default channels fail at once (a provider down), and a bounce.
    const targets = ['shop', 'shop-outlet', 'shop-blog', 'shop-news'];
    const failing = targets.map((t) => failingAlert(t));
    const slackBefore = slack.requests.length;

    // Act: the queue hands them over in one batch.
    const answer = await alert.handler(sqsEvent(QUEUE, [...failing, bounceAlert()].map((e) => ({ body: alertMessageBody(e) }))));

    // Assess: two posts (the group, then the bounce), two emails; every alert is in the history.
    expect(answer).toEqual({ batchItemFailures: [] });
    const sent = posts(WEBHOOK_PATH, slackBefore).map((r) => JSON.stringify(r.json()));
    expect(sent).toHaveLength(2);
    for (const t of targets) expect(sent[0]).toContain(t);
    const emails = await ses.emails();
    expect(emails).toHaveLength(2);
    for (const t of targets) expect(emails[0]!.body.text).toContain(t);
    for (const [i, t] of targets.entries()) {
      const history = await store.listAlerts(t, 10);
      expect(history.map((h) => h.event.key)).toContain(failing[i]!.key);
    }
  });

  it('delivers a message the queue gives twice only once', async () => {
    // Prepare
    const message = alertMessageBody(bounceAlert());
    const slackBefore = slack.requests.length;

    // Act
    await alert.handler(queued(message));
    await alert.handler(sqsEvent(QUEUE, [{ body: message }, { body: message }]));

    // Assess
    expect(slack.requests.length - slackBefore).toBe(1);
    expect(await ses.emails()).toHaveLength(1);
    expect(out.logs().filter((l) => l.message === 'alert already delivered to this destination; not sent again')).toHaveLength(4);
  });

  it('formats a CloudWatch alarm notification like any other alert', async () => {
    // Prepare
    const slackBefore = slack.requests.length;

    // Act
    await alert.handler(queued(JSON.stringify(alarmNotification)));

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
    await alert.handler(queued(JSON.stringify(canaryResultsAlarm)));

    // Assess
    expect(slack.requests.length).toBe(slackBefore);
    expect(await ses.emails()).toHaveLength(emailsBefore);
    expect(out.logs().find((l) => String(l.message).startsWith('alarm on a target'))).toMatchObject({ kind: 'alarm', target: 'shop' });
  });

  it('sends the email when Slack fails, retries the message later, and then posts Slack only: the email is never sent twice', async () => {
    // Prepare
    slackStatus = 500;
    const message = alertMessageBody(failingAlert());
    const slackBefore = slack.requests.length;
    const changesBefore = sqs.changes.length;

    // Act
    const first = await alert.handler(sqsEvent(QUEUE, [{ body: message, messageId: 'm-1', receiptHandle: 'rh-1', receiveCount: 3 }]));
    slackStatus = 200;
    const second = await alert.handler(sqsEvent(QUEUE, [{ body: message, messageId: 'm-1', receiptHandle: 'rh-2', receiveCount: 4 }]));

    // Assess
    expect(first).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }] });
    // The third try failed: hidden for 4 minutes (1, 2, 4, … up to an hour).
    expect(sqs.changes.slice(changesBefore)).toEqual([{ receiptHandle: 'rh-1', seconds: 240 }]);
    expect(second).toEqual({ batchItemFailures: [] });
    expect(slack.requests.length - slackBefore).toBe(2);
    expect(await ses.emails()).toHaveLength(1);
    const failure = out.logs().find((l) => l.message === 'alert not delivered; tried again later');
    expect(failure).toMatchObject({ level: 'ERROR', channel: 'slack', destination: 'slack', error: expect.stringContaining('500') });
    expect(out.text()).not.toContain(WEBHOOK_PATH);
  });

  it("waits as long as Slack's Retry-After asks when that is longer than the backoff", async () => {
    // Prepare
    const limited = await startHttpCapture(() => ({ status: 429, headers: { 'retry-after': '900' }, body: 'rate_limited' }));
    const limitedSecrets = await startSecretsManager({ [SLACK_SECRET]: `${limited.url}${WEBHOOK_PATH}` });
    const env = handlerEnv(
      { dynamodb: ddb.endpoint, secretsManager: limitedSecrets.endpoint, sesv2: ses.endpoint, sqs: sqs.endpoint },
      { MAILHEALTH_CONFIG_FILE: deployedEnvConfig(), TABLE_NAME: tableName, SLACK_SECRET_ID: SLACK_SECRET, ALERT_QUEUE_URL: `${sqs.endpoint}/123456789012/alerts` },
    );
    const loaded = await loadHandler<AlertModule>('../../functions/alert/index.ts', env);
    const changesBefore = sqs.changes.length;
    try {
      // Act
      await loaded.module.handler(sqsEvent(QUEUE, [{ body: alertMessageBody(failingAlert()), receiptHandle: 'rh-429' }]));
    } finally {
      loaded.restore();
      await Promise.all([limited.close(), limitedSecrets.close()]);
    }

    // Assess
    expect(sqs.changes.slice(changesBefore)).toEqual([{ receiptHandle: 'rh-429', seconds: 900 }]);
  });

  it('reads each Slack webhook secret once per cold start', async () => {
    // Act
    const before = secrets.requests.length;
    await alert.handler(queued(alertMessageBody(failingAlert())));
    await alert.handler(queued(alertMessageBody(failingAlert())));

    // Assess
    expect(secrets.requests.slice(before).filter((id) => id === SLACK_SECRET).length).toBeLessThanOrEqual(1);
  });

  it('drops a message that is neither an alert nor an alarm, with a warning', async () => {
    // Prepare
    const slackBefore = slack.requests.length;

    // Act
    const answer = await alert.handler(queued('{"hello":"world"}'));

    // Assess
    expect(answer).toEqual({ batchItemFailures: [] });
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

  it('refuses an event that is not an SQS event', async () => {
    await expect(alert.handler({ Records: [{ eventSource: 'aws:sns' }] })).rejects.toMatchObject({ code: 'INPUT_UNREADABLE' });
  });

  describe('with every channel broken', () => {
    let broken: AlertModule;
    let restoreBroken: () => void;

    beforeAll(async () => {
      // An empty Slack secret (not filled in after deploy) and nothing listening for SES.
      const env = handlerEnv(
        { dynamodb: ddb.endpoint, secretsManager: secrets.endpoint, sesv2: `http://127.0.0.1:${await closedPort()}`, sqs: sqs.endpoint },
        { MAILHEALTH_CONFIG_FILE: deployedEnvConfig(), TABLE_NAME: tableName, SLACK_SECRET_ID: EMPTY_SECRET, ALERT_QUEUE_URL: `${sqs.endpoint}/123456789012/alerts` },
      );
      const loaded = await loadHandler<AlertModule>('../../functions/alert/index.ts', env);
      broken = loaded.module;
      restoreBroken = loaded.restore;
    });
    afterAll(() => restoreBroken?.());

    it('reports the message as a batch item failure after trying both channels, naming them', async () => {
      // Act
      const answer = await broken.handler(sqsEvent(QUEUE, [{ body: alertMessageBody(failingAlert()), messageId: 'm-broken' }]));

      // Assess
      expect(answer).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-broken' }] });
      const failures = out.logs().filter((l) => l.message === 'alert not delivered; tried again later');
      expect(failures.map((l) => l.channel).sort()).toEqual(['email', 'slack']);
      expect(failures.find((l) => l.channel === 'slack')?.error).toContain(EMPTY_SECRET);
    });

    it("lets the queue's retry deliver an alert that no channel took the first time", async () => {
      // Prepare: the first attempt fails on every channel.
      const message = alertMessageBody(failingAlert());
      expect((await broken.handler(queued(message))).batchItemFailures).toHaveLength(1);
      const slackBefore = slack.requests.length;

      // Act: the queue gives the same message again once the channels work.
      const answer = await alert.handler(queued(message, 2));

      // Assess
      expect(answer).toEqual({ batchItemFailures: [] });
      expect(slack.requests.length - slackBefore).toBe(1);
      expect(await ses.emails()).toHaveLength(1);
    });
  });
});
