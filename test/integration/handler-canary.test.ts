/**
 * The canary Lambda handler, invoked with the EventBridge Scheduler input against local
 * stand-ins: smtp-server (STARTTLS, AUTH) as the provider, dynalite as the table, an SNS
 * endpoint as the alert topic, a Secrets Manager endpoint holding the SMTP password.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDynamoDbStore } from '#adapters/dynamodb-store.ts';
import { decodeAlertMessage } from '#core/alert/sns.ts';
import { newCanaryId } from '#core/canary-id.ts';
import { parseConfig } from '#core/config.ts';
import type { Store } from '#core/ports.ts';
import { deployedConfig } from '../../lib/mail-health-stack.ts';
import { startDynalite, type DynaliteHandle } from '../helpers/dynalite.ts';
import { closeAll, closedPort, makePki, PASSWORD, SERVERNAME, startSmtpServer, USER, type TestSmtpServer } from '../helpers/smtp.ts';
import {
  captureOutput,
  handlerEnv,
  lambdaContext,
  loadHandler,
  startSecretsManager,
  startSns,
  type OutputCapture,
  type SecretsStandIn,
  type SnsStandIn,
  writeDeployedConfig,
} from './handler-stand-ins.ts';

type CanaryModule = typeof import('../../functions/canary/index.ts');

const TOPIC = 'arn:aws:sns:us-east-1:123456789012:mail-health-alerts';
const SECRET = 'mail-health/shop-smtp';
const MISSING_SECRET = 'mail-health/not-created';
const SHARED_SECRET = 'mail-health/smtp-passwords';
const BOUNCE_DOMAIN = 'bounces.example.jp';
const timeouts = { connectMs: 2_000, stepMs: 2_000, probeMs: 500 };

describe('canary handler', () => {
  let smtp: TestSmtpServer;
  let ddb: DynaliteHandle;
  let sns: SnsStandIn;
  let secrets: SecretsStandIn;
  let dir: string;
  let store: Store;
  let canary: CanaryModule;
  let restoreEnv: () => void;
  let out: OutputCapture;
  /** A round started by hand (`{"target":…}`): one target, the canary message sent. */
  const round = async (target: string, context?: Parameters<CanaryModule['handler']>[1]) => {
    const { rounds } = await canary.handler({ target }, context);
    expect(rounds).toHaveLength(1);
    return rounds[0]!;
  };

  beforeAll(async () => {
    const pki = makePki();
    smtp = await startSmtpServer(pki);
    ddb = await startDynalite();
    const tableName = await ddb.createTable();
    store = createDynamoDbStore({ client: ddb.client, tableName });
    sns = await startSns();
    secrets = await startSecretsManager({ [SECRET]: PASSWORD, [SHARED_SECRET]: JSON.stringify({ clinic: PASSWORD, other: 'not-this-one' }) });
    dir = await mkdtemp(join(tmpdir(), 'mail-health-canary-'));
    const caPath = join(dir, 'private-ca.pem');
    await writeFile(caPath, pki.caPem);

    const config = parseConfig(
      {
        language: 'en',
        bounceDomain: BOUNCE_DOMAIN,
        deliveryTimeoutMinutes: 15,
        targets: [
          {
            name: 'shop',
            host: '127.0.0.1',
            port: smtp.port,
            servername: SERVERNAME,
            ca: caPath,
            auth: { user: USER, secretName: SECRET },
            from: USER,
            to: [`canary@${BOUNCE_DOMAIN}`],
            probePorts: [smtp.port],
            timeouts,
          },
          { name: 'down', host: '127.0.0.1', port: await closedPort(), from: USER, to: [`canary@${BOUNCE_DOMAIN}`], probePorts: [], timeouts },
          {
            name: 'clinic',
            host: '127.0.0.1',
            port: smtp.port,
            servername: SERVERNAME,
            ca: caPath,
            auth: { user: USER, secretName: SHARED_SECRET, secretKey: 'clinic' },
            from: USER,
            to: [`canary@${BOUNCE_DOMAIN}`],
            probePorts: [],
            timeouts,
          },
          { name: 'nokey', host: '127.0.0.1', port: smtp.port, auth: { user: USER, secretName: SHARED_SECRET, secretKey: 'absent' }, from: USER, to: [`canary@${BOUNCE_DOMAIN}`], probePorts: [], timeouts },
          { name: 'nosecret', host: '127.0.0.1', port: smtp.port, auth: { user: USER, secretName: MISSING_SECRET }, from: USER, to: [`canary@${BOUNCE_DOMAIN}`], probePorts: [], timeouts },
        ],
        alerts: { failureThreshold: 2, recoveryThreshold: 2 },
      },
      { locale: 'en' },
    );
    // Exactly what the stack puts into the bundle's config file, except the CA path, which points
    // at the test's file instead of ca/shop.pem beside the config.
    const deployed = deployedConfig(config);
    const targets = deployed.targets.map((t) => (t.ca ? { ...t, ca: caPath } : t));
    const env = handlerEnv(
      { dynamodb: ddb.endpoint, sns: sns.endpoint, secretsManager: secrets.endpoint },
      { MAILHEALTH_CONFIG_FILE: writeDeployedConfig({ ...deployed, targets }), TABLE_NAME: tableName, ALERT_TOPIC_ARN: TOPIC },
    );
    const loaded = await loadHandler<CanaryModule>('../../functions/canary/index.ts', env);
    canary = loaded.module;
    restoreEnv = loaded.restore;
  });

  afterAll(async () => {
    restoreEnv?.();
    await closeAll();
    await Promise.all([ddb?.close(), sns?.close(), secrets?.close()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  beforeEach(() => {
    out = captureOutput();
  });
  afterEach(() => {
    out.restore();
  });

  it('runs a round for the scheduled target, records its canary and reports success', async () => {
    // Act
    const outcome = await round('shop');

    // Assess
    expect(outcome).toMatchObject({ target: 'shop', status: 'ok', alerts: 0 });
    const sent = smtp.received.at(-1)!;
    expect(sent.from).toBe(`bounce+${outcome.canaryId}@${BOUNCE_DOMAIN}`);
    expect(sent.raw).toContain(`X-Mail-Health-Canary: ${outcome.canaryId}`);
    expect(await store.getCanary(outcome.canaryId)).toMatchObject({ target: 'shop', recipients: [`canary@${BOUNCE_DOMAIN}`], deliveredAt: null });
    expect((await store.getHealth('shop'))?.value).toBeDefined();
    expect(smtp.authAttempts.at(-1)).toEqual({ method: 'PLAIN', secure: true });
  });

  it('writes the per-step timings, session time and certificate into one log line, and one metric per target', async () => {
    // Act
    const outcome = await round('shop', lambdaContext('MailHealthStack-CanaryFunction', 'c0ffee00-0000-4000-8000-000000000001'));

    // Assess
    const line = out.logs().find((l) => l.message === 'canary round');
    expect(line).toMatchObject({
      target: 'shop',
      status: 'ok',
      canaryId: outcome.canaryId,
      roundTrip: true,
      accepted: true,
      service: 'mail-health',
      function_name: 'MailHealthStack-CanaryFunction',
      function_request_id: 'c0ffee00-0000-4000-8000-000000000001',
    });
    const stepMs = line!.stepMs as Record<string, number>;
    expect(Object.keys(stepMs).sort()).toEqual(['auth', 'connect', 'data', 'ehlo', 'greeting', 'mail', 'quit', 'rcpt', 'starttls']);
    expect(line!.sessionMs).toBe(Object.values(stepMs).reduce((a, b) => a + b, 0));
    expect((line!.tls as { certDaysLeft: number }).certDaysLeft).toBeGreaterThan(0);

    // Each distinct metric is billed per month: a round adds CanarySuccess and nothing else.
    expect(out.metrics()).toEqual([{ name: 'CanarySuccess', unit: 'Count', value: 1, namespace: 'MailHealth', dimensions: { service: 'mail-health', Target: 'shop' } }]);
  });

  it('checks only the login on a scheduled round that is not the round trip, and sends the message on the one that is', async () => {
    // Prepare: with rate(5 minutes) and an hourly round trip, one of twelve consecutive rounds is the round trip.
    const received = smtp.received.length;
    const start = Date.parse('2026-01-05T09:00:00Z');
    const times = Array.from({ length: 12 }, (_, i) => new Date(start + i * 300_000).toISOString());

    // Act
    const outcomes: Awaited<ReturnType<CanaryModule['handler']>>['rounds'][number][] = [];
    for (const scheduledTime of times) outcomes.push(...(await canary.handler({ targets: ['shop', 'clinic'], scheduledTime })).rounds);

    // Assess
    const trips = (name: string) => outcomes.filter((o) => o.target === name && o.roundTrip);
    expect(outcomes).toHaveLength(24);
    expect(outcomes.every((o) => o.status === 'ok')).toBe(true);
    expect(trips('shop')).toHaveLength(1);
    expect(trips('clinic')).toHaveLength(1);
    expect(smtp.received.length - received).toBe(2);
    const loginOnly = out.logs().filter((l) => l.message === 'canary round' && l.roundTrip === false);
    expect(loginOnly).toHaveLength(22);
    expect(Object.keys(loginOnly[0]!.stepMs as object).sort()).toEqual(['auth', 'connect', 'ehlo', 'greeting', 'quit', 'starttls']);
    // The ports are probed on the round trip only (from Lambda, port 25 would cost every round its probe timeout).
    const shopRounds = out.logs().filter((l) => l.message === 'canary round' && l.target === 'shop');
    expect(shopRounds.filter((l) => Object.keys(l.ports as object).length > 0).map((l) => l.roundTrip)).toEqual([true]);
    for (const o of outcomes.filter((x) => !x.roundTrip)) expect(await store.getCanary(o.canaryId)).toBeNull();
    expect(out.metrics().filter((m) => m.name === 'CanarySuccess').map((m) => m.value)).toEqual(Array(24).fill(1));
  });

  it('runs the other targets of a shared schedule when one of them fails, then fails the invocation', async () => {
    // Prepare
    const received = smtp.received.length;

    // Act
    const run = canary.handler({ targets: ['nosecret', 'shop'] });

    // Assess
    await expect(run).rejects.toThrow(MISSING_SECRET);
    expect(smtp.received.length - received).toBe(1);
    expect(out.logs().find((l) => l.message === 'round failed')).toMatchObject({ level: 'ERROR', target: 'nosecret' });
  });

  it('reads the SMTP password from Secrets Manager once per cold start and never writes it out', async () => {
    // Act
    await round('shop');
    await round('shop');

    // Assess
    expect(secrets.requests.filter((id) => id === SECRET)).toHaveLength(1);
    expect(out.text()).not.toContain(PASSWORD);
    expect(out.text()).not.toContain(Buffer.from(`\0${USER}\0${PASSWORD}`).toString('base64'));
  });

  it('publishes one failing alert once the target failed failureThreshold rounds in a row', async () => {
    // Prepare
    const before = sns.published.length;

    // Act
    const first = await round('down');
    const second = await round('down');
    const third = await round('down');

    // Assess
    expect([first.status, second.status, third.status]).toEqual(['critical', 'critical', 'critical']);
    const published = sns.published.slice(before);
    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({ topicArn: TOPIC, attributes: { kind: 'failing', status: 'critical' } });
    const alert = decodeAlertMessage(published[0]!.message, { now: new Date(), random: (n) => new Uint8Array(n) });
    expect(alert).toMatchObject({ kind: 'failing', target: 'down', failedStep: 'connect', canaryId: second.canaryId });
    expect(out.metrics().filter((m) => m.name === 'CanarySuccess').map((m) => m.value)).toEqual([0, 0, 0]);
    const findingLine = out.logs().find((l) => (l.finding as { code?: string } | undefined)?.code === 'PORT_UNREACHABLE');
    expect(findingLine).toMatchObject({ level: 'WARN', target: 'down', finding: { severity: 'critical' } });
  });

  it('raises CANARY_NOT_DELIVERED once for a canary not seen within the delivery timeout', async () => {
    // Prepare
    const sentAt = new Date(Date.now() - 20 * 60_000);
    const lost = newCanaryId(sentAt.getTime(), new Uint8Array(10).fill(7));
    await store.putCanary({ id: lost, target: 'shop', sentAt: sentAt.toISOString(), recipients: [`canary@${BOUNCE_DOMAIN}`], deliveredAt: null });
    const before = sns.published.length;

    // Act
    await round('shop');
    await round('shop');

    // Assess
    const published = sns.published.slice(before);
    expect(published).toHaveLength(1);
    const alert = decodeAlertMessage(published[0]!.message, { now: new Date(), random: (n) => new Uint8Array(n) });
    expect(alert).toMatchObject({ kind: 'undelivered', target: 'shop', canaryId: lost, findings: [{ code: 'CANARY_NOT_DELIVERED' }] });
    expect(out.logs().filter((l) => (l.finding as { code?: string } | undefined)?.code === 'CANARY_NOT_DELIVERED')).toHaveLength(1);
  });

  it("logs in with the target's field of a secret that holds the passwords of several targets", async () => {
    // Act
    const outcome = await round('clinic');
    const missing = round('nokey');

    // Assess
    expect(outcome).toMatchObject({ target: 'clinic', status: 'ok' });
    expect(smtp.authAttempts.at(-1)).toEqual({ method: 'PLAIN', secure: true });
    await expect(missing).rejects.toThrow(`target nokey: the secret ${SHARED_SECRET} has no field absent`);
    expect(secrets.requests.filter((id) => id === SHARED_SECRET)).toHaveLength(1);
  });

  it('fails naming the secret when the SMTP secret does not exist, before any mail is sent', async () => {
    // Prepare
    const received = smtp.received.length;

    // Act
    const run = round('nosecret');

    // Assess
    await expect(run).rejects.toThrow(MISSING_SECRET);
    expect(smtp.received).toHaveLength(received);
  });

  it('fails with a ConfigError naming the target when the schedule names an unknown one', async () => {
    await expect(round('nope')).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining('nope') });
  });

  it('refuses an event that is not the scheduler input, without echoing it', async () => {
    // Act
    const run = canary.handler({ detail: { secret: 'do-not-print' } });

    // Assess
    await expect(run).rejects.toMatchObject({ code: 'INPUT_UNREADABLE', message: expect.stringContaining('target') });
    await expect(run).rejects.not.toThrow('do-not-print');
  });
});
