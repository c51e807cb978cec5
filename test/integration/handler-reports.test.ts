/**
 * Report mails through the bounce Lambda, as SES inbound hands them over (the raw message in
 * s3rver, the receipt event headers only), with dynalite as the table, an SNS endpoint as the
 * alert topic and a DNS server on 127.0.0.1 for the reverse names: one alert per change, a
 * repeated SES event raises nothing, the dashboard's log line per report, bad report mails
 * logged by name, and a bounce after them classified as always.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDmarcDynamoDbStore } from '#adapters/dmarc-dynamodb-store.ts';
import type { DmarcAlert } from '#core/alert/event.ts';
import { decodeAlertMessage } from '#core/alert/sns.ts';
import { parseConfig } from '#core/config.ts';
import { startDnsServer, type DnsServer } from '#local/dns-server.ts';
import { deployedConfig } from '../../lib/mail-health-stack.ts';
import { FIXTURE_PTRS } from '../helpers/dmarc-store-contract.ts';
import { startDynalite, type DynaliteHandle } from '../helpers/dynalite.ts';
import { fixture, gzip, reportMail, zip } from '../helpers/report-files.ts';
import { captureOutput, handlerEnv, loadHandler, sesEvent, sesMessageId, startS3, startSns, writeDeployedConfig, type OutputCapture, type S3StandIn, type SnsStandIn } from './handler-stand-ins.ts';

type BounceModule = typeof import('../../functions/bounce/index.ts');

const TOPIC = 'arn:aws:sns:us-east-1:123456789012:mail-health-alerts';
const BUCKET = 'mail-health-raw-mail';
const PREFIX = 'raw/';
const BOUNCE_DOMAIN = 'bounces.example.jp';
const G = 'google.com!example.jp!1772323200!1772409599';
const M = 'enterprise.protection.outlook.com!example.jp!1772409600!1772495999';

describe('bounce handler: DMARC and TLS report mails', () => {
  let ddb: DynaliteHandle;
  let s3: S3StandIn;
  let sns: SnsStandIn;
  let dns: DnsServer;
  let tableName: string;
  let bounce: BounceModule;
  let restoreEnv: () => void;
  let out: OutputCapture;

  beforeAll(async () => {
    ddb = await startDynalite();
    tableName = await ddb.createTable();
    s3 = await startS3([BUCKET]);
    sns = await startSns();
    dns = await startDnsServer({ zone: Object.fromEntries(Object.entries(FIXTURE_PTRS).filter(([ip]) => !ip.includes(':')).map(([ip, name]) => [`${ip.split('.').reverse().join('.')}.in-addr.arpa`, [{ type: 'PTR' as const, data: name }]])) });
    const config = parseConfig(
      {
        language: 'en',
        bounceDomain: BOUNCE_DOMAIN,
        dnsServers: [dns.address],
        targets: [{ name: 'shop', host: 'smtp.example.jp', auth: { user: 'shop@example.jp', secretName: 'mail-health/shop-smtp' }, from: 'shop@example.jp', to: [`canary@${BOUNCE_DOMAIN}`] }],
      },
      { locale: 'en' },
    );
    const env = handlerEnv(
      { dynamodb: ddb.endpoint, s3: s3.endpoint, sns: sns.endpoint },
      // deployedConfig leaves dnsServers out (issue-29 completes it); the Lambda must ask this server only.
      { MAILHEALTH_CONFIG_FILE: writeDeployedConfig({ ...deployedConfig(config), dnsServers: [dns.address] }), TABLE_NAME: tableName, ALERT_TOPIC_ARN: TOPIC, RAW_MAIL_BUCKET: BUCKET, RAW_MAIL_PREFIX: PREFIX },
    );
    const loaded = await loadHandler<BounceModule>('../../functions/bounce/index.ts', env);
    bounce = loaded.module;
    restoreEnv = loaded.restore;
  });
  afterAll(async () => {
    restoreEnv?.();
    await Promise.all([ddb?.close(), s3?.close(), sns?.close(), dns?.close()]);
  });
  beforeEach(() => {
    out = captureOutput();
  });
  afterEach(() => {
    out.restore();
  });

  async function deliver(raw: Buffer, to = `dmarc@${BOUNCE_DOMAIN}`) {
    const messageId = sesMessageId();
    await s3.put(BUCKET, `${PREFIX}${messageId}`, raw.toString('latin1'));
    return sesEvent(messageId, { from: 'noreply@reporter.example', to, subject: 'Report Domain: example.jp' });
  }

  it('records the reports of Google and Microsoft, alerts each change once, and logs a line per report for the dashboard', async () => {
    // Prepare
    const google = await deliver(reportMail({ to: `dmarc@${BOUNCE_DOMAIN}`, singlePart: true, attachments: [{ filename: `${G}.zip`, contentType: 'application/zip', data: zip([{ name: `${G}.xml`, data: fixture(`${G}.xml`) }]) }] }));
    const microsoft = await deliver(reportMail({ to: `dmarc@${BOUNCE_DOMAIN}`, attachments: [{ filename: `${M}.xml.gz`, contentType: 'application/gzip', data: gzip(fixture(`${M}.xml`)) }] }));

    // Act: SES may deliver an event twice.
    await bounce.handler(google);
    await bounce.handler(microsoft);
    await bounce.handler(microsoft);

    // Assess
    const alerts = sns.published.map((p) => decodeAlertMessage(p.message, { now: new Date(), random: (n) => new Uint8Array(n) }) as DmarcAlert);
    expect(alerts.map((a) => [a.kind, a.change, a.target, a.sender])).toEqual([
      ['dmarc', 'unknown', 'shop', null],
      ['dmarc', 'failing', 'shop', 'SendGrid'],
    ]);
    expect(alerts[1]!.sources[0]).toMatchObject({ ip: '167.89.100.1', ptr: 'o1.ptr2035.example.sendgrid.net' });
    const lines = out.logs().filter((l) => l.message === 'dmarc report');
    expect(lines.map((l) => [l.org, l.domain, l.target, l.day, l.messages, l.findings])).toEqual([
      ['google.com', 'example.jp', 'shop', '2026-03-01', 153, ['DMARC_REPORT_UNKNOWN_SOURCE']],
      ['Enterprise Outlook', 'example.jp', 'shop', '2026-03-02', 20, ['DMARC_REPORT_FAIL']],
    ]);
    expect(out.logs().filter((l) => l.message === 'report read before')).toHaveLength(1);
    const records = await createDmarcDynamoDbStore({ client: ddb.client, tableName }).listReports('example.jp', 10);
    expect(records.map((r) => [r.org, r.source?.startsWith(PREFIX)])).toEqual([
      ['Enterprise Outlook', true],
      ['google.com', true],
    ]);
  });

  it('logs a bad report mail by name (a gzip bomb) and raises nothing', async () => {
    const before = sns.published.length;
    const bomb = await deliver(reportMail({ to: `dmarc@${BOUNCE_DOMAIN}`, attachments: [{ filename: 'bomb.xml.gz', contentType: 'application/gzip', data: gzip(Buffer.alloc(16 * 1024 * 1024, 0x20)) }] }));
    await bounce.handler(bomb);
    expect(out.logs().filter((l) => l.message === 'report not readable').map((l) => l.code)).toEqual(['RATIO_EXCEEDED']);
    expect(sns.published.length).toBe(before);
  });
});
