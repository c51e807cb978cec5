/**
 * The three handlers together, the way AWS wires them: the canary Lambda sends a canary through
 * the provider (smtp-server); the copy addressed to the bounce domain arrives through SES intake
 * (stored in s3rver, then the bounce Lambda); the provider's bounce for the other recipient
 * arrives the same way; the alert the bounce Lambda publishes reaches the alert Lambda as an
 * SNS event and goes out to Slack and email.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoDbStore } from '#adapters/dynamodb-store.ts';
import { parseConfig } from '#core/config.ts';
import type { Store } from '#core/ports.ts';
import { deployedConfig } from '../../lib/mail-health-stack.ts';
import { startDynalite, type DynaliteHandle } from '../helpers/dynalite.ts';
import { startHttpCapture, type HttpCapture } from '../helpers/http-capture.ts';
import { startSesLocal, type SesLocalHandle } from '../helpers/ses-local.ts';
import { closeAll, makePki, PASSWORD, SERVERNAME, startSmtpServer, USER, type TestSmtpServer } from '../helpers/smtp.ts';
import {
  asReceived,
  captureOutput,
  handlerEnv,
  loadHandler,
  mailboxFullReport,
  sesEvent,
  sesMessageId,
  fromTopic,
  startS3,
  startSecretsManager,
  startSns,
  type OutputCapture,
  type S3StandIn,
  type SecretsStandIn,
  type SnsStandIn,
  writeDeployedConfig,
} from './handler-stand-ins.ts';

type CanaryModule = typeof import('../../functions/canary/index.ts');
type BounceModule = typeof import('../../functions/bounce/index.ts');
type AlertModule = typeof import('../../functions/alert/index.ts');

const TOPIC = 'arn:aws:sns:us-east-1:123456789012:mail-health-alerts';
const BUCKET = 'mail-health-raw-mail';
const BOUNCE_DOMAIN = 'bounces.example.jp';
const CANARY_MAILBOX = `canary@${BOUNCE_DOMAIN}`;

describe('canary, bounce and alert handlers', () => {
  let smtp: TestSmtpServer;
  let ddb: DynaliteHandle;
  let s3: S3StandIn;
  let sns: SnsStandIn;
  let ses: SesLocalHandle;
  let secrets: SecretsStandIn;
  let slack: HttpCapture;
  let store: Store;
  const restore: (() => void)[] = [];
  let canary: CanaryModule;
  let bounce: BounceModule;
  let alert: AlertModule;
  let out: OutputCapture;
  let dir: string | undefined;

  beforeAll(async () => {
    const pki = makePki();
    smtp = await startSmtpServer(pki);
    ddb = await startDynalite();
    const tableName = await ddb.createTable();
    store = createDynamoDbStore({ client: ddb.client, tableName });
    s3 = await startS3([BUCKET]);
    sns = await startSns();
    ses = await startSesLocal();
    slack = await startHttpCapture();
    secrets = await startSecretsManager({ 'mail-health/shop-smtp': PASSWORD, 'mail-health/slack-webhook': `${slack.url}/services/T1/B1/round-trip` });

    dir = await mkdtemp(join(tmpdir(), 'mail-health-rt-'));
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
            to: [CANARY_MAILBOX, 'owner@example.jp'],
            probePorts: [],
            timeouts: { connectMs: 2_000, stepMs: 2_000, probeMs: 500 },
          },
        ],
        alerts: { slack: { secretName: 'mail-health/slack-webhook' }, email: { from: 'monitor@example.jp', to: ['owner@example.jp'] } },
      },
      { locale: 'en' },
    );
    const deployed = deployedConfig(config);
    const env = handlerEnv(
      { dynamodb: ddb.endpoint, s3: s3.endpoint, sns: sns.endpoint, secretsManager: secrets.endpoint, sesv2: ses.endpoint },
      {
        MAILHEALTH_CONFIG_FILE: writeDeployedConfig({ ...deployed, targets: deployed.targets.map((t) => ({ ...t, ca: caPath })) }),
        TABLE_NAME: tableName,
        ALERT_TOPIC_ARN: TOPIC,
        RAW_MAIL_BUCKET: BUCKET,
        RAW_MAIL_PREFIX: 'raw/',
        SLACK_SECRET_ID: 'mail-health/slack-webhook',
      },
    );
    for (const [entry, set] of [
      ['../../functions/canary/index.ts', (m: unknown) => (canary = m as CanaryModule)],
      ['../../functions/bounce/index.ts', (m: unknown) => (bounce = m as BounceModule)],
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
    await Promise.all([ddb?.close(), s3?.close(), sns?.close(), ses?.close(), secrets?.close(), slack?.close()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('follows a canary from the provider back through SES intake, and its bounce out to Slack and email', async () => {
    // Act 1: the scheduled round.
    const [round] = (await canary.handler({ target: 'shop' })).rounds;
    const sent = smtp.received.at(-1)!;

    // Act 2: SES receives the copy for the bounce domain's mailbox and stores it, then invokes the bounce Lambda.
    const deliveredId = sesMessageId();
    await s3.put(BUCKET, `raw/${deliveredId}`, asReceived(sent.raw, sent.from));
    await bounce.handler(sesEvent(deliveredId, { from: sent.from, to: CANARY_MAILBOX, subject: `mail-health canary ${round!.canaryId}` }));

    // Act 3: the provider returns the copy for owner@example.jp: mailbox full.
    const bounceId = sesMessageId();
    await s3.put(BUCKET, `raw/${bounceId}`, asReceived(mailboxFullReport(round!.canaryId, 'owner@example.jp', BOUNCE_DOMAIN), ''));
    await bounce.handler(sesEvent(bounceId, { from: 'MAILER-DAEMON@smtp.example.jp', to: sent.from, subject: 'Undelivered Mail Returned to Sender' }));

    // Act 4: SNS hands what was published to the alert Lambda.
    for (const p of sns.published) await alert.handler(fromTopic(p.message));

    // Assess
    expect(round!.status).toBe('ok');
    expect(sent.to).toEqual([CANARY_MAILBOX, 'owner@example.jp']);
    expect((await store.getCanary(round!.canaryId))?.deliveredAt).not.toBeNull();
    expect(await store.listUndelivered('shop', { sentAfter: '2000-01-01T00:00:00.000Z', sentBefore: '2999-01-01T00:00:00.000Z', limit: 10 })).toEqual([]);
    const delivered = out.logs().find((l) => l.message === 'canary delivered');
    expect(delivered).toMatchObject({ target: 'shop', canaryId: round!.canaryId, first: true });
    expect(delivered!.roundTripSeconds as number).toBeLessThan(10);
    expect(sns.published.map((p) => p.attributes.kind)).toEqual(['bounce']);
    expect(slack.requests).toHaveLength(1);
    expect(slack.requests[0]!.json<{ text: string }>().text).toContain('owner@example.jp');
    const emails = await ses.emails();
    expect(emails).toHaveLength(1);
    expect(emails[0]!.body.text).toContain(round!.canaryId);
  });
});
