/**
 * The dead-man in AWS form: the sweeper handler against dynalite, an SNS endpoint and the alert
 * handler with Slack as an HTTP capture. One target's schedule is broken (its canary is never
 * invoked), the other reports: the sweep raises one "not reporting" incident naming the broken
 * one, and one "reporting again" once its rounds come back, each delivered once although SNS
 * delivers every message twice.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeAlertMessage } from '#core/alert/sns.ts';
import { parseConfig } from '#core/config.ts';
import { deployedConfig } from '../../lib/mail-health-stack.ts';
import { startDynalite, type DynaliteHandle } from '../helpers/dynalite.ts';
import { startHttpCapture, type HttpCapture } from '../helpers/http-capture.ts';
import { closeAll, makePki, PASSWORD, SERVERNAME, startSmtpServer, USER, type TestSmtpServer } from '../helpers/smtp.ts';
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

const TOPIC = 'arn:aws:sns:us-east-1:123456789012:mail-health-alerts';
const BOUNCE_DOMAIN = 'bounces.example.jp';
// The stack derives this from the interval (about 17 minutes at rate(5 minutes)); seconds keep the test short
// and still leave a round on a loaded machine far inside it.
const SILENT_AFTER_SECONDS = 4;

describe('sweeper handler (the dead-man)', () => {
  let smtp: TestSmtpServer;
  let ddb: DynaliteHandle;
  let sns: SnsStandIn;
  let secrets: SecretsStandIn;
  let slack: HttpCapture;
  const restore: (() => void)[] = [];
  let canary: CanaryModule;
  let sweeper: SweeperModule;
  let alert: AlertModule;
  let out: OutputCapture;
  let dir: string | undefined;

  beforeAll(async () => {
    const pki = makePki();
    smtp = await startSmtpServer(pki);
    ddb = await startDynalite();
    const tableName = await ddb.createTable();
    sns = await startSns();
    slack = await startHttpCapture();
    secrets = await startSecretsManager({ 'mail-health/smtp': PASSWORD, 'mail-health/slack-webhook': `${slack.url}/services/T1/B1/sweeper` });
    dir = await mkdtemp(join(tmpdir(), 'mail-health-sweeper-'));
    const caPath = join(dir, 'ca.pem');
    await writeFile(caPath, pki.caPem);
    const target = (name: string) => ({
      name,
      host: '127.0.0.1',
      port: smtp.port,
      servername: SERVERNAME,
      ca: caPath,
      auth: { user: USER, secretName: 'mail-health/smtp' },
      from: USER,
      to: [`canary@${BOUNCE_DOMAIN}`],
      probePorts: [],
      timeouts: { connectMs: 2_000, stepMs: 2_000, probeMs: 500 },
    });
    const config = parseConfig(
      { language: 'en', bounceDomain: BOUNCE_DOMAIN, targets: [target('shop'), target('clinic')], alerts: { slack: { secretName: 'mail-health/slack-webhook' } } },
      { locale: 'en' },
    );
    const deployed = deployedConfig(config);
    const env = handlerEnv(
      { dynamodb: ddb.endpoint, sns: sns.endpoint, secretsManager: secrets.endpoint },
      {
        MAILHEALTH_CONFIG_FILE: writeDeployedConfig({ ...deployed, targets: deployed.targets.map((t) => ({ ...t, ca: caPath })) }),
        TABLE_NAME: tableName,
        ALERT_TOPIC_ARN: TOPIC,
        SLACK_SECRET_ID: 'mail-health/slack-webhook',
        SILENT_AFTER_SECONDS: String(SILENT_AFTER_SECONDS),
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
    await Promise.all([ddb?.close(), sns?.close(), secrets?.close(), slack?.close()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("raises one incident for a target whose schedule is broken and ends it when its rounds come back", async () => {
    // Prepare
    const sweep = () => sweeper.handler({ scheduledTime: new Date().toISOString() });

    // Act 1: shop reports; clinic's schedule never invokes the canary.
    await canary.handler({ targets: ['shop'] });
    const first = await sweep();
    await sleep(SILENT_AFTER_SECONDS * 1000 + 300);
    await canary.handler({ targets: ['shop'] });
    const silent = await sweep();
    const again = await sweep();
    // Act 2: clinic's schedule works again.
    await canary.handler({ targets: ['clinic', 'shop'] });
    const back = await sweep();
    // Act 3: SNS hands every message to the alert Lambda, twice.
    for (const p of sns.published) {
      const event = fromTopic(p.message);
      await alert.handler(event);
      await alert.handler(event);
    }

    // Assess
    expect(first).toEqual({ targets: 2, silent: [], alerts: 0, republished: 0 });
    expect(silent).toEqual({ targets: 2, silent: ['clinic'], alerts: 1, republished: 0 });
    expect(again).toEqual({ targets: 2, silent: ['clinic'], alerts: 0, republished: 0 });
    expect(back).toEqual({ targets: 2, silent: [], alerts: 1, republished: 0 });
    const alerts = sns.published.map((p) => decodeAlertMessage(p.message, { now: new Date(), random: (n) => new Uint8Array(n) }));
    expect(alerts).toEqual([
      expect.objectContaining({ kind: 'silent', phase: 'started', target: 'clinic', silentCount: 1, targetCount: 2, silent: [{ target: 'clinic', lastRoundAt: null }] }),
      expect.objectContaining({ kind: 'silent', phase: 'ended', silentCount: 0 }),
    ]);
    const posts = slack.requests.map((r) => r.json<{ text: string }>().text);
    expect(posts).toHaveLength(2);
    expect(posts[0]).toContain('Canary not reporting: clinic');
    expect(posts[1]).toContain('reporting again');
    const line = out.logs().filter((l) => l.message === 'sweep').at(1);
    expect(line).toMatchObject({ targets: 2, ok: 1, unseen: 1, silentCount: 1, silent: ['clinic'] });
  });
});
