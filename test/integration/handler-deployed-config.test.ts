/**
 * The settings of the config file reach the canary Lambda as the stack deploys them
 * (`deployedConfig`): its own resolvers and blocklist zones (a DNS server on 127.0.0.1 that
 * records what it is asked) and the history's retention (the TTL of what it writes to dynalite).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoDbStore } from '#adapters/dynamodb-store.ts';
import { sesVerdicts } from '#core/auth/canary.ts';
import { recordDelivery } from '#core/auth/round.ts';
import { newCanaryId } from '#core/canary-id.ts';
import { parseConfig } from '#core/config.ts';
import { startDnsServer, type DnsServer } from '#local/dns-server.ts';
import { deployedConfig } from '../../lib/mail-health-stack.ts';
import { authWorld, DNSBL, IPS } from '../helpers/auth-zone.ts';
import { startDynalite, type DynaliteHandle } from '../helpers/dynalite.ts';
import { closeAll, makePki, PASSWORD, SERVERNAME, startSmtpServer, USER, type TestSmtpServer } from '../helpers/smtp.ts';
import { captureOutput, handlerEnv, loadHandler, startSecretsManager, startSns, type OutputCapture, type SecretsStandIn, type SnsStandIn, writeDeployedConfig } from './handler-stand-ins.ts';

type CanaryModule = typeof import('../../functions/canary/index.ts');

const TOPIC = 'arn:aws:sns:us-east-1:123456789012:mail-health-alerts';
const SECRET = 'mail-health/shop-smtp';
const BOUNCE_DOMAIN = 'bounces.clean.test';
const HISTORY_DAYS = 3;

describe('the deployed config in the canary Lambda', () => {
  let smtp: TestSmtpServer;
  let dns: DnsServer;
  let ddb: DynaliteHandle;
  let sns: SnsStandIn;
  let secrets: SecretsStandIn;
  let dir: string;
  let tableName: string;
  let canary: CanaryModule;
  let restoreEnv: () => void;
  let out: OutputCapture;

  beforeAll(async () => {
    const pki = makePki();
    smtp = await startSmtpServer(pki);
    dns = await startDnsServer({ zone: authWorld().zone });
    ddb = await startDynalite();
    tableName = await ddb.createTable();
    sns = await startSns();
    secrets = await startSecretsManager({ [SECRET]: PASSWORD });
    dir = await mkdtemp(join(tmpdir(), 'mail-health-deployed-'));
    const caPath = join(dir, 'private-ca.pem');
    await writeFile(caPath, pki.caPem);

    // The provider is on 127.0.0.1; the from domain and the sending server are in the test zone.
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
            auth: { user: USER, secretName: SECRET },
            from: 'shop@clean.test',
            to: [`canary@${BOUNCE_DOMAIN}`],
            probePorts: [],
            timeouts: { connectMs: 2_000, stepMs: 2_000, probeMs: 500 },
          },
        ],
        dnsServers: [dns.address],
        dnsbl: [DNSBL.lists],
        retention: { historyDays: HISTORY_DAYS },
      },
      { locale: 'en' },
    );
    // The delivered canary SES saw came from a server on the test blocklist.
    const store = createDynamoDbStore({ client: ddb.client, tableName });
    const verdicts = sesVerdicts({ spfVerdict: { status: 'PASS' }, dkimVerdict: { status: 'PASS' }, dmarcVerdict: { status: 'PASS' } }, { fromDomain: 'clean.test', envelopeDomain: BOUNCE_DOMAIN, ip: IPS.listed, helo: 'mail.listed.test' });
    await recordDelivery('shop', { canaryId: newCanaryId(Date.now() - 3_600_000, new Uint8Array(10).fill(3)), at: new Date(Date.now() - 3_600_000).toISOString(), verdicts }, { store });

    const deployed = deployedConfig(config);
    const env = handlerEnv(
      { dynamodb: ddb.endpoint, sns: sns.endpoint, secretsManager: secrets.endpoint },
      { MAILHEALTH_CONFIG_FILE: writeDeployedConfig({ ...deployed, targets: deployed.targets.map((t) => ({ ...t, ca: caPath })) }), TABLE_NAME: tableName, ALERT_TOPIC_ARN: TOPIC },
    );
    const loaded = await loadHandler<CanaryModule>('../../functions/canary/index.ts', env);
    canary = loaded.module;
    restoreEnv = loaded.restore;
    out = captureOutput();
  });

  afterAll(async () => {
    out?.restore();
    restoreEnv?.();
    await closeAll();
    await Promise.all([dns?.close(), ddb?.close(), sns?.close(), secrets?.close()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("asks the config's resolvers about the from domain and the config's blocklist about the sending server", async () => {
    // Act
    const [round] = (await canary.handler({ target: 'shop' })).rounds;

    // Assess
    expect(round).toMatchObject({ target: 'shop' });
    const asked = dns.queries.map((q) => `${q.type} ${q.name}`);
    expect(asked).toEqual(expect.arrayContaining(['TXT clean.test', 'TXT _dmarc.clean.test', `A 99.2.0.192.${DNSBL.lists}`]));
    // Only the configured zone: none of the default lists was asked.
    expect(asked.filter((q) => q.startsWith('A 99.2.0.192.'))).toEqual([`A 99.2.0.192.${DNSBL.lists}`]);
    const listed = out.logs().find((l) => (l.finding as { code?: string } | undefined)?.code === 'DNSBL_LISTED');
    expect(listed).toMatchObject({ target: 'shop' });
  });

  it("keeps the history for the config's retention.historyDays", async () => {
    // Act
    const before = Math.floor(Date.now() / 1000);
    await canary.handler({ target: 'shop' });
    const after = Math.floor(Date.now() / 1000);
    const { Items = [] } = await ddb.client.send(new ScanCommand({ TableName: tableName }));

    // Assess
    const rounds = Items.filter((i) => i.sk?.S?.startsWith('ROUND#'));
    expect(rounds.length).toBeGreaterThan(0);
    for (const r of rounds) {
      const ttl = Number(r.ttl?.N);
      expect(ttl).toBeGreaterThanOrEqual(before + HISTORY_DAYS * 86_400);
      expect(ttl).toBeLessThanOrEqual(after + HISTORY_DAYS * 86_400 + 60);
    }
  });
});
