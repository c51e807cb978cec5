/**
 * Inbox placement in the canary Lambda handler, against local stand-ins: the demo provider
 * (STARTTLS, AUTH) files what it takes for the seed into a real IMAP mailbox over TLS, dynalite
 * is the table, an SNS endpoint the alert topic, a Secrets Manager endpoint holds the SMTP and
 * the seeds' passwords (one of them revoked at the seed).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPlacementDynamoDbStore } from '#adapters/placement-dynamodb-store.ts';
import { decodeAlertMessage } from '#core/alert/sns.ts';
import { parseConfig } from '#core/config.ts';
import type { PlacementStore } from '#core/ports.ts';
import { startDemoProvider, DEMO_HOSTNAME, type DemoProvider } from '#local/demo/provider.ts';
import { startSeedMailbox, type SeedMailbox } from '#local/demo/seed-mailbox.ts';
import { deployedConfig } from '../../lib/mail-health-stack.ts';
import { startDynalite, type DynaliteHandle } from '../helpers/dynalite.ts';
import { captureOutput, handlerEnv, loadHandler, startSecretsManager, startSns, type SecretsStandIn, type SnsStandIn, writeDeployedConfig } from './handler-stand-ins.ts';

type CanaryModule = typeof import('../../functions/canary/index.ts');

const TOPIC = 'arn:aws:sns:us-east-1:123456789012:mail-health-alerts';
const SEED = 'shop.seed@seed.test';
const SEED_PASSWORD = 'seed-app-password';

describe('canary handler with seeds', () => {
  let provider: DemoProvider;
  let box: SeedMailbox;
  let ddb: DynaliteHandle;
  let sns: SnsStandIn;
  let secrets: SecretsStandIn;
  let dir: string;
  let placements: PlacementStore;
  let canary: CanaryModule;
  let restoreEnv: () => void;

  beforeAll(async () => {
    provider = await startDemoProvider({
      to: ['owner@example.jp'],
      onMessage(m) {
        if (!m.to.includes(SEED)) return;
        box.file(`Authentication-Results: mx.seed.test; spf=pass smtp.mailfrom=demo.mail-health.test; dkim=none; dmarc=fail header.from=demo.mail-health.test\r\nReceived: from smtp ([127.0.0.1]) by mx.seed.test; ${new Date().toUTCString()}\r\n${m.raw.toString('latin1')}`, box.junkPath);
      },
    });
    box = await startSeedMailbox({ user: SEED, password: SEED_PASSWORD, tls: provider.ca.issue({ hosts: ['imap.seed.test', '127.0.0.1'] }) });
    ddb = await startDynalite();
    const tableName = await ddb.createTable();
    placements = createPlacementDynamoDbStore({ client: ddb.client, tableName });
    sns = await startSns();
    secrets = await startSecretsManager({ 'mail-health/shop-smtp': provider.password, 'mail-health/seed': SEED_PASSWORD, 'mail-health/old-seed': 'revoked-long-ago' });
    dir = await mkdtemp(join(tmpdir(), 'mail-health-canary-seeds-'));
    const caPath = join(dir, 'ca.pem');
    await writeFile(caPath, provider.caPem);
    const imap = (user: string, secretName: string) => ({ host: '127.0.0.1', port: box.port, servername: 'imap.seed.test', ca: caPath, auth: { user, secretName }, timeoutMs: 3_000 });
    const config = parseConfig(
      {
        language: 'en',
        bounceDomain: 'bounces.example.jp',
        targets: [
          {
            name: 'shop',
            host: '127.0.0.1',
            port: provider.ports[587],
            servername: DEMO_HOSTNAME,
            ca: caPath,
            auth: { user: provider.target.auth!.user, secretName: 'mail-health/shop-smtp' },
            from: provider.target.from,
            to: ['owner@example.jp'],
            probePorts: [],
            timeouts: { connectMs: 2_000, stepMs: 2_000, probeMs: 500 },
          },
        ],
        seeds: [
          { name: 'seed', address: SEED, imap: imap(SEED, 'mail-health/seed') },
          { name: 'old', address: 'old.seed@seed.test', imap: imap('old.seed@seed.test', 'mail-health/old-seed') },
        ],
        alerts: { failureThreshold: 2, recoveryThreshold: 2 },
      },
      { locale: 'en' },
    );
    // What the stack deploys, the CA paths pointed at the test's file instead of the bundle's.
    const deployed = deployedConfig(config);
    const env = handlerEnv(
      { dynamodb: ddb.endpoint, sns: sns.endpoint, secretsManager: secrets.endpoint },
      {
        MAILHEALTH_CONFIG_FILE: writeDeployedConfig({
          ...deployed,
          targets: deployed.targets.map((t) => ({ ...t, ca: caPath })),
          seeds: deployed.seeds!.map((s) => ({ ...s, imap: { ...s.imap, ca: caPath } })),
        }),
        TABLE_NAME: tableName,
        ALERT_TOPIC_ARN: TOPIC,
      },
    );
    const loaded = await loadHandler<CanaryModule>('../../functions/canary/index.ts', env);
    canary = loaded.module;
    restoreEnv = loaded.restore;
  });

  afterAll(async () => {
    restoreEnv?.();
    await Promise.all([provider?.close(), box?.close(), ddb?.close(), sns?.close(), secrets?.close()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('sends the canary to the seeds, reads them in the next round and raises PLACEMENT_SPAM; a revoked seed alerts once', async () => {
    // Act: three rounds started by hand (each one a round trip).
    const out = captureOutput();
    let rounds;
    try {
      rounds = [];
      for (let i = 0; i < 3; i++) rounds.push((await canary.handler({ target: 'shop' })).rounds[0]!);
    } finally {
      out.restore();
    }

    // Assess: the first canary went to both seeds (one RCPT each), and landed in spam.
    expect(provider.received[0]!.to).toEqual(['owner@example.jp', SEED, 'old.seed@seed.test']);
    expect(rounds.map((r) => r.status)).toEqual(['ok', 'critical', 'critical']);
    const records = await placements.listPlacements('shop', { sentAfter: '2000-01-01T00:00:00.000Z', limit: 10 });
    const first = records.filter((r) => r.canaryId === rounds[0]!.canaryId);
    expect(first.map((r) => [r.seed, r.verdict])).toEqual([
      ['seed', 'spam'],
      ['old', 'pending'],
    ]);
    expect(first[0]).toMatchObject({ folder: 'Junk', receiverAuth: { authservId: 'mx.seed.test', dmarc: 'fail' } });
    // One log line per decided canary, for the dashboard's table.
    expect(out.logs().filter((l) => l.message === 'placement').map((l) => [l.seed, l.verdict, l.folder, l.dmarc])).toEqual([
      ['seed', 'spam', 'Junk', 'fail'],
      ['seed', 'spam', 'Junk', 'fail'],
    ]);
    // The alerts: the incident (two critical rounds) and, once, the revoked seed.
    const published = sns.published.map((p) => decodeAlertMessage(p.message, { now: new Date(), random: (n) => new Uint8Array(n) }));
    expect(published.map((e) => `${e?.kind}:${e?.findings[0]?.code}`)).toEqual(['seed:SEED_LOGIN_FAILED', 'failing:PLACEMENT_SPAM']);
    // The canaries read are gone from the seed.
    expect(box.messages(box.junkPath)).toHaveLength(1);
  });
});
