/**
 * Issue 17 in its AWS form, with the handler stand-ins: 500 SES receipt events reach the bounce
 * Lambda at once (the raw DSNs in s3rver, dynalite as the table, an SNS endpoint as the alert
 * topic); what it publishes goes through the alert Lambda to a Slack stand-in that takes one
 * post a second (429 with Retry-After beyond). The first bounce alerts, the rest waits in the
 * table's digest window, and the scheduled digest flush sends one digest once the window
 * closed: a handful of posts, not 500, and every bounce recorded (the suppression list read
 * from the table has each address).
 */
import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createDynamoDbStore } from '#adapters/dynamodb-store.ts';
import { parseConfig } from '#core/config.ts';
import type { Store } from '#core/ports.ts';
import { createSuppressionsCommand } from '#local/cli/suppressions.ts';
import { deployedConfig } from '../../lib/mail-health-stack.ts';
import { startDynalite, type DynaliteHandle } from '../helpers/dynalite.ts';
import { SHOP_RETURN_PATH, STORM_BOUNCE_DOMAIN, stormMessages } from '../helpers/storm-messages.ts';
import { rateLimitedSlack } from '../helpers/storm.ts';
import {
  asReceived,
  captureOutput,
  handlerEnv,
  loadHandler,
  sesEvent,
  sesMessageId,
  fromTopic,
  startS3,
  startSecretsManager,
  startSns,
  writeDeployedConfig,
  type OutputCapture,
  type S3StandIn,
  type SecretsStandIn,
  type SnsStandIn,
} from './handler-stand-ins.ts';

type BounceModule = typeof import('../../functions/bounce/index.ts');
type AlertModule = typeof import('../../functions/alert/index.ts');

const TOPIC = 'arn:aws:sns:us-east-1:123456789012:mail-health-alerts';
const BUCKET = 'mail-health-raw-mail';
const PREFIX = 'raw/';
const SLACK_SECRET = 'mail-health/slack-webhook';
const STORM = 500;
/** What the digest schedule sends the bounce Lambda (lib/bounce-intake.ts `DigestFlush`). */
const flushEvent = (scheduledTime: string) => ({ flushDigests: true, scheduledTime });

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void) {
    this.text += chunk.toString('utf8');
    cb();
  }
}

describe('a bounce storm at the Lambdas (handler stand-ins)', () => {
  let ddb: DynaliteHandle;
  let s3: S3StandIn;
  let sns: SnsStandIn;
  let secrets: SecretsStandIn;
  let slack: Awaited<ReturnType<typeof rateLimitedSlack>>;
  let store: Store;
  let tableName: string;
  let bounce: BounceModule;
  let alert: AlertModule;
  let restoreEnv: () => void;
  let out: OutputCapture;

  beforeAll(async () => {
    ddb = await startDynalite();
    tableName = await ddb.createTable();
    store = createDynamoDbStore({ client: ddb.client, tableName });
    s3 = await startS3([BUCKET]);
    sns = await startSns();
    slack = await rateLimitedSlack(1000);
    secrets = await startSecretsManager({ [SLACK_SECRET]: `${slack.url}/services/T0/B0/storm` });
    const config = parseConfig(
      {
        language: 'en',
        bounceDomain: STORM_BOUNCE_DOMAIN,
        targets: [{ name: 'shop', host: 'smtp.shop.example', auth: { user: 'shop@shop.example', secretName: 'mail-health/shop-smtp' }, from: 'shop@shop.example', to: [`canary@${STORM_BOUNCE_DOMAIN}`] }],
        alerts: { slack: { secretName: SLACK_SECRET } },
      },
      { locale: 'en' },
    );
    // One environment for both functions, as the stack's contract gives each what it reads.
    const env = handlerEnv(
      { dynamodb: ddb.endpoint, s3: s3.endpoint, sns: sns.endpoint, secretsManager: secrets.endpoint },
      { MAILHEALTH_CONFIG_FILE: writeDeployedConfig(deployedConfig(config)), TABLE_NAME: tableName, ALERT_TOPIC_ARN: TOPIC, RAW_MAIL_BUCKET: BUCKET, RAW_MAIL_PREFIX: PREFIX, SLACK_SECRET_ID: SLACK_SECRET },
    );
    bounce = (await loadHandler<BounceModule>('../../functions/bounce/index.ts', env)).module;
    const loaded = await loadHandler<AlertModule>('../../functions/alert/index.ts', env);
    alert = loaded.module;
    restoreEnv = loaded.restore;
  });

  afterAll(async () => {
    restoreEnv?.();
    await Promise.all([ddb?.close(), s3?.close(), sns?.close(), secrets?.close(), slack?.close()]);
  });

  afterEach(() => {
    out?.restore();
    vi.useRealTimers();
  });

  /** SNS delivers each published message to the alert Lambda, all at once. */
  async function deliverPublished(from: number): Promise<void> {
    await Promise.all(sns.published.slice(from).map((p) => alert.handler(fromTopic(p.message))));
  }

  it('turns 500 SES events at once into at most 5 Slack posts (the first bounce, then one digest) and records every bounce', { timeout: 120_000 }, async () => {
    // Prepare: the storm's DSNs where the receipt rule's S3 action puts them.
    const messages = stormMessages(STORM);
    const events = await Promise.all(
      messages.map(async (m) => {
        const id = sesMessageId();
        await s3.put(BUCKET, `${PREFIX}${id}`, asReceived(m.raw, ''));
        return sesEvent(id, { from: 'MAILER-DAEMON@mta.shop.example', to: SHOP_RETURN_PATH, subject: 'Undelivered Mail Returned to Sender' });
      }),
    );
    out = captureOutput();

    // Act: 500 invocations at once (each its own Lambda instance as far as the table sees:
    // nothing is shared but the table); SNS hands what they published to the alert Lambda.
    await Promise.all(events.map((e) => bounce.handler(e)));
    const publishedByStorm = sns.published.length;
    await deliverPublished(0);
    // The scheduled flush after the window (alerts.bounceDigestMinutes, 10) closed.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 11 * 60_000);
    await bounce.handler(flushEvent(new Date().toISOString()));
    await bounce.handler(flushEvent(new Date().toISOString()));
    vi.useRealTimers();
    await deliverPublished(publishedByStorm);
    out.restore();

    // Assess: one alert for the first bounce during the storm, one digest after it.
    expect(publishedByStorm).toBe(1);
    expect(sns.published.map((p) => JSON.parse(p.message) as { kind: string }).map((m) => m.kind)).toEqual(['bounce', 'digest']);
    expect(slack.accepted()).toBeGreaterThanOrEqual(2);
    expect(slack.accepted()).toBeLessThanOrEqual(5);
    const texts = slack.requests.map((r) => r.json<{ text: string }>().text);
    expect(texts.some((t) => /Bounce digest/.test(t) && t.includes(`${STORM - 1}`))).toBe(true);
    // Every bounce recorded, and each address on the suppression list read from the table.
    const recorded = await store.listBounces(null, Number.POSITIVE_INFINITY);
    expect(new Set(recorded.map((r) => r.recipient.recipient)).size).toBe(STORM);
    const stdout = new Capture();
    const code = await createSuppressionsCommand({ dynamoClient: () => ddb.client })(['--table', tableName, '--json'], { stdout, stderr: new Capture(), env: { LANG: 'C' }, cwd: process.cwd() });
    expect(code).toBe(0);
    const listed = (JSON.parse(stdout.text) as { addresses: { address: string }[] }).addresses.map((a) => a.address);
    expect(new Set(listed)).toEqual(new Set(messages.map((m) => m.address)));
  });
});
