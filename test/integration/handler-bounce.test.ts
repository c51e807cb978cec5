/**
 * The bounce Lambda handler, invoked with SES receipt events (headers only) while the raw
 * messages sit in s3rver where the receipt rule's S3 action would have put them; dynalite as
 * the table, an SNS endpoint as the alert topic.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDynamoDbAlertOutbox, createDynamoDbStore } from '#adapters/dynamodb-store.ts';
import { decodeAlertMessage } from '#core/alert/sns.ts';
import { newCanaryId } from '#core/canary-id.ts';
import { deliveryFindings } from '#core/auth/canary.ts';
import { parseConfig, type Config } from '#core/config.ts';
import type { Store } from '#core/ports.ts';
import { buildCanaryMessage } from '#core/probe/canary-message.ts';
import { DELIVERED_CANARIES_QUERY } from '../../lib/dashboard-queries.ts';
import { deployedConfig } from '../../lib/mail-health-stack.ts';
import { startDynalite, type DynaliteHandle } from '../helpers/dynalite.ts';
import { tableRows } from '../helpers/logs-insights.ts';
import {
  asReceived,
  captureOutput,
  handlerEnv,
  loadHandler,
  mailboxFullReport,
  sesEvent,
  sesMessageId,
  startS3,
  startSns,
  type OutputCapture,
  type S3StandIn,
  type SnsStandIn,
  writeDeployedConfig,
} from './handler-stand-ins.ts';

type BounceModule = typeof import('../../functions/bounce/index.ts');

const TOPIC = 'arn:aws:sns:us-east-1:123456789012:mail-health-alerts';
const BUCKET = 'mail-health-raw-mail';
const PREFIX = 'raw/';
const BOUNCE_DOMAIN = 'bounces.example.jp';

/** An out-of-office reply: a report about nothing that failed. */
const vacationReply = [
  'From: Taro Yamada <taro@customer.example.com>',
  `To: shop@example.jp`,
  'Subject: Out of office: your order',
  'Auto-Submitted: auto-replied',
  'Date: Mon, 05 Jan 2026 09:00:07 +0900',
  'Content-Type: text/plain; charset=utf-8',
  '',
  'I am out of the office until January 13 and will answer your message when I am back.',
  '',
].join('\r\n');

describe('bounce handler', () => {
  let ddb: DynaliteHandle;
  let s3: S3StandIn;
  let sns: SnsStandIn;
  let store: Store;
  let tableName: string;
  let bounce: BounceModule;
  let restoreEnv: () => void;
  let out: OutputCapture;
  let configFile: string;

  beforeAll(async () => {
    ddb = await startDynalite();
    tableName = await ddb.createTable();
    store = createDynamoDbStore({ client: ddb.client, tableName });
    s3 = await startS3([BUCKET]);
    sns = await startSns();
    const config = parseConfig(
      {
        language: 'en',
        bounceDomain: BOUNCE_DOMAIN,
        targets: [{ name: 'shop', host: 'smtp.example.jp', auth: { user: 'shop@example.jp', secretName: 'mail-health/shop-smtp' }, from: 'shop@example.jp', to: [`canary@${BOUNCE_DOMAIN}`, 'owner@example.jp'] }],
      },
      { locale: 'en' },
    );
    configFile = writeDeployedConfig(deployedConfig(config));
    const env = handlerEnv(
      { dynamodb: ddb.endpoint, s3: s3.endpoint, sns: sns.endpoint },
      { MAILHEALTH_CONFIG_FILE: configFile, TABLE_NAME: tableName, ALERT_TOPIC_ARN: TOPIC, RAW_MAIL_BUCKET: BUCKET, RAW_MAIL_PREFIX: PREFIX },
    );
    const loaded = await loadHandler<BounceModule>('../../functions/bounce/index.ts', env);
    bounce = loaded.module;
    restoreEnv = loaded.restore;
  });

  afterAll(async () => {
    restoreEnv?.();
    await Promise.all([ddb?.close(), s3?.close(), sns?.close()]);
  });

  beforeEach(() => {
    out = captureOutput();
  });
  afterEach(() => {
    out.restore();
  });

  /** Puts a canary record for target shop, sent `secondsAgo` ago, and returns its id. */
  async function sentCanary(secondsAgo: number, salt: number): Promise<{ id: string; sentAt: Date }> {
    const sentAt = new Date(Date.now() - secondsAgo * 1000);
    const id = newCanaryId(sentAt.getTime(), new Uint8Array(10).fill(salt));
    await store.putCanary({ id, target: 'shop', sentAt: sentAt.toISOString(), recipients: [`canary@${BOUNCE_DOMAIN}`], deliveredAt: null });
    return { id, sentAt };
  }

  it('records a delivered canary and its round trip (sent to received by SES, not to processed) once, however often the message is processed', async () => {
    // Prepare: SES took the canary 3.5 s after the provider accepted it; the Lambda reads it 42 s after.
    const { id, sentAt } = await sentCanary(42, 1);
    const messageId = sesMessageId();
    const canaryMail = buildCanaryMessage({ canaryId: id, from: 'shop@example.jp', to: [`canary@${BOUNCE_DOMAIN}`], date: sentAt });
    await s3.put(BUCKET, `${PREFIX}${messageId}`, asReceived(canaryMail, `bounce+${id}@${BOUNCE_DOMAIN}`));
    const receivedAt = new Date(sentAt.getTime() + 3_500).toISOString();
    const event = sesEvent(messageId, { from: `bounce+${id}@${BOUNCE_DOMAIN}`, to: `canary@${BOUNCE_DOMAIN}`, subject: `mail-health canary ${id}`, timestamp: receivedAt });

    // Act
    await bounce.handler(event);
    await bounce.handler(event);

    // Assess
    expect((await store.getCanary(id))?.deliveredAt).not.toBeNull();
    expect((await store.getCanary(id))?.deliveredAt).toBe(receivedAt);
    // The dashboard's round-trip table reads this line; a metric per target would be billed every month.
    const lines = out.logs().filter((l) => l.message === 'canary delivered');
    expect(lines.map((l) => [l.target, l.roundTripSeconds, l.first])).toEqual([
      ['shop', 3.5, true],
      [undefined, undefined, false],
    ]);
    expect(sns.published).toHaveLength(0);
    expect(out.metrics()).toEqual([]);
  });

  it('keeps the authentication verdicts SES gave a delivered canary, with the sending server of its Received header', async () => {
    // Prepare: SES found no DKIM signature and DMARC failing under p=quarantine.
    const { id, sentAt } = await sentCanary(30, 2);
    const messageId = sesMessageId();
    const canaryMail = buildCanaryMessage({ canaryId: id, from: 'shop@example.jp', to: [`canary@${BOUNCE_DOMAIN}`], date: sentAt });
    await s3.put(BUCKET, `${PREFIX}${messageId}`, asReceived(canaryMail, `bounce+${id}@${BOUNCE_DOMAIN}`));
    const event = sesEvent(messageId, { from: `bounce+${id}@${BOUNCE_DOMAIN}`, to: `canary@${BOUNCE_DOMAIN}`, subject: `mail-health canary ${id}` }) as {
      Records: { ses: { receipt: Record<string, unknown> } }[];
    };
    Object.assign(event.Records[0]!.ses.receipt, { dkimVerdict: { status: 'GRAY' }, dmarcVerdict: { status: 'FAIL' }, dmarcPolicy: 'QUARANTINE' });

    // Act
    await bounce.handler(event);

    // Assess
    const { delivery } = await store.getSenderAuth('shop');
    expect(delivery).toMatchObject({
      canaryId: id,
      verdicts: { source: 'ses', fromDomain: 'example.jp', ip: '203.0.113.5', helo: 'smtp.example.jp', dkim: [], dmarc: { result: 'fail', policy: 'quarantine' } },
    });
    // SPF passed for the VERP sender at the bounce domain, a subdomain of example.jp: the mail is
    // authenticated (so the missing signature is a warning), yet DMARC failed.
    expect(deliveryFindings(delivery!.verdicts).map((f) => `${f.code}:${f.severity}`)).toEqual(['CANARY_DMARC_FAIL:critical', 'CANARY_DKIM_FAIL:warning']);
    expect(out.logs().some((l) => l.message === 'canary authentication' && l.dmarc === 'fail')).toBe(true);
  });

  it("fills every column of the dashboard's delivered-canary table, DKIM included, from its log lines", async () => {
    // Prepare: the table's query (test/cdk/stack.test.ts finds it in the dashboard); two
    // canaries, one signed (SES: DKIM PASS), one not (GRAY).
    const query = DELIVERED_CANARIES_QUERY.join('\n| ');
    const ids: string[] = [];
    for (const [salt, dkim] of [[4, 'PASS'], [5, 'GRAY']] as const) {
      const { id, sentAt } = await sentCanary(20, salt);
      ids.push(id);
      const messageId = sesMessageId();
      await s3.put(BUCKET, `${PREFIX}${messageId}`, asReceived(buildCanaryMessage({ canaryId: id, from: 'shop@example.jp', to: [`canary@${BOUNCE_DOMAIN}`], date: sentAt }), `bounce+${id}@${BOUNCE_DOMAIN}`));
      const event = sesEvent(messageId, { from: `bounce+${id}@${BOUNCE_DOMAIN}`, to: `canary@${BOUNCE_DOMAIN}`, subject: `mail-health canary ${id}` }) as { Records: { ses: { receipt: Record<string, unknown> } }[] };
      Object.assign(event.Records[0]!.ses.receipt, { spfVerdict: { status: 'PASS' }, dkimVerdict: { status: dkim }, dmarcVerdict: { status: dkim === 'PASS' ? 'PASS' : 'FAIL' } });
      // Act
      await bounce.handler(event);
    }
    const rows = tableRows(query, out.logs());
    // Assess
    expect(rows.map(({ '@timestamp': at, ...row }) => (expect(at).toEqual(expect.any(String)), row))).toEqual([
      { target: 'shop', spf: 'pass', dkim: 'pass', dmarc: 'pass', canaryId: ids[0] },
      { target: 'shop', spf: 'pass', dkim: 'none', dmarc: 'fail', canaryId: ids[1] },
    ]);
  });

  it('raises one bounce alert for a bounce processed twice, counted once by reason', async () => {
    // Prepare
    const { id } = await sentCanary(120, 2);
    const messageId = sesMessageId();
    await s3.put(BUCKET, `${PREFIX}${messageId}`, asReceived(mailboxFullReport(id, 'owner@example.jp', BOUNCE_DOMAIN), ''));
    const event = sesEvent(messageId, { from: 'MAILER-DAEMON@smtp.example.jp', to: `bounce+${id}@${BOUNCE_DOMAIN}`, subject: 'Undelivered Mail Returned to Sender' });
    const before = sns.published.length;

    // Act
    await bounce.handler(event);
    await bounce.handler(event);

    // Assess
    const published = sns.published.slice(before);
    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({ topicArn: TOPIC, attributes: { kind: 'bounce', status: 'warning' } });
    const alert = decodeAlertMessage(published[0]!.message, { now: new Date(), random: (n) => new Uint8Array(n) });
    expect(alert).toMatchObject({ kind: 'bounce', target: 'shop', canaryId: id, bounce: { recipient: 'owner@example.jp', reason: 'mailboxfull', status: '5.2.2' } });
    expect(await store.listBounces('shop', 10)).toEqual([expect.objectContaining({ canaryId: id, source: `${PREFIX}${messageId}` })]);
    expect(out.metrics().filter((m) => m.name === 'Bounces')).toEqual([expect.objectContaining({ value: 1, dimensions: { service: 'mail-health', Reason: 'mailboxfull' } })]);
    const findingLines = out.logs().filter((l) => (l.finding as { code?: string } | undefined)?.code === 'BOUNCE_MAILBOX_FULL');
    expect(findingLines[0]).toMatchObject({ level: 'WARN', target: 'shop', canaryId: id, finding: { severity: 'warning', recipient: 'owner@example.jp' } });
  });

  it('alerts on a bounce that matches no known canary, with no target', async () => {
    // Prepare
    const stranger = newCanaryId(Date.parse('2025-12-01T00:00:00Z'), new Uint8Array(10).fill(3));
    const messageId = sesMessageId();
    await s3.put(BUCKET, `${PREFIX}${messageId}`, asReceived(mailboxFullReport(stranger, 'hanako@example.org', BOUNCE_DOMAIN), ''));
    const before = sns.published.length;

    // Act
    await bounce.handler(sesEvent(messageId, { from: 'MAILER-DAEMON@smtp.example.jp', to: `bounce+${stranger}@${BOUNCE_DOMAIN}`, subject: 'Undelivered Mail Returned to Sender' }));

    // Assess
    const published = sns.published.slice(before);
    expect(published).toHaveLength(1);
    expect(decodeAlertMessage(published[0]!.message, { now: new Date(), random: (n) => new Uint8Array(n) })).toMatchObject({ kind: 'bounce', target: null });
    const findingLine = out.logs().find((l) => l.finding !== undefined);
    expect(findingLine).toMatchObject({ canaryId: stranger, finding: { code: 'BOUNCE_MAILBOX_FULL' } });
    // Powertools drops null fields: the findings table shows an empty target.
    expect(findingLine).not.toHaveProperty('target');
  });

  it('records an auto-reply without raising an alert', async () => {
    // Prepare
    const messageId = sesMessageId();
    await s3.put(BUCKET, `${PREFIX}${messageId}`, asReceived(vacationReply, 'taro@customer.example.com'));
    const before = sns.published.length;

    // Act
    await bounce.handler(sesEvent(messageId, { from: 'taro@customer.example.com', to: `canary@${BOUNCE_DOMAIN}`, subject: 'Out of office: your order' }));

    // Assess
    expect(sns.published.length).toBe(before);
    expect(out.logs().find((l) => l.message === 'message read')).toMatchObject({ messageId, spam: 'PASS', virus: 'PASS', kind: 'vacation', recipients: 1 });
    expect(out.metrics().filter((m) => m.name === 'Bounces').map((m) => m.dimensions.Reason)).toEqual(['vacation']);
  });

  it('reads a read receipt and a challenge-response request as no bounce: logged with their kind and canary, no alert, no bounce recorded', async () => {
    // Prepare: both about a canary of ours
    const { id } = await sentCanary(60, 4);
    const wild = join(import.meta.dirname, '..', 'fixtures', 'bounces-wild');
    const before = sns.published.length;
    const bouncesBefore = (await store.listBounces('shop', 50)).length;
    for (const [file, kind] of [
      ['mdn-displayed.eml', 'receipt'],
      ['challenge-tmda.eml', 'challenge'],
    ] as const) {
      const messageId = sesMessageId();
      const raw = readFileSync(join(wild, file), 'utf8').replace(/<2025040109\d+\.\d+@shop\.example\.jp>/g, `<${id}@mail-health>`);
      await s3.put(BUCKET, `${PREFIX}${messageId}`, asReceived(raw, 'hanako@example.net'));

      // Act
      await bounce.handler(sesEvent(messageId, { from: 'hanako@example.net', to: `bounce+${id}@${BOUNCE_DOMAIN}`, subject: 'Read: Your order 1024 has shipped' }));

      // Assess
      expect(out.logs().find((l) => l.message === 'message read' && l.messageId === messageId)).toMatchObject({ kind, recipients: 0, canaryId: id });
    }
    expect(sns.published.length).toBe(before);
    expect((await store.listBounces('shop', 50)).length).toBe(bouncesBefore);
    expect(out.metrics().filter((m) => m.name === 'Bounces')).toEqual([]);
  });

  it('fails naming the object key when the raw message is not in the bucket', async () => {
    // Prepare
    const messageId = sesMessageId();

    // Act
    const run = bounce.handler(sesEvent(messageId, { from: 'a@example.com', to: `canary@${BOUNCE_DOMAIN}`, subject: 'x' }));

    // Assess
    await expect(run).rejects.toMatchObject({ code: 'INPUT_UNREADABLE', message: expect.stringContaining(`s3://${BUCKET}/${PREFIX}${messageId}`) });
  });

  it('refuses an event that is not an SES receipt event', async () => {
    await expect(bounce.handler({ Records: [{ eventSource: 'aws:s3', s3: {} }] })).rejects.toMatchObject({ code: 'INPUT_UNREADABLE' });
  });

  it('never reads a message SES flagged as a virus', async () => {
    // Prepare: nothing in S3 under its key; reading it would fail the invocation.
    const messageId = sesMessageId();
    const event = sesEvent(messageId, { from: 'MAILER-DAEMON@smtp.example.jp', to: `bounce+X@${BOUNCE_DOMAIN}`, subject: 'Undelivered Mail Returned to Sender' }) as { Records: { ses: { receipt: { virusVerdict: { status: string } } } }[] };
    event.Records[0]!.ses.receipt.virusVerdict = { status: 'FAIL' };

    // Act
    await bounce.handler(event);

    // Assess
    expect(out.logs().find((l) => l.message === 'message flagged as a virus by SES; not read')).toMatchObject({ level: 'WARN', messageId, virus: 'FAIL' });
    expect(out.logs().find((l) => l.message === 'message read')).toBeUndefined();
  });

  describe('with the alert topic failing', () => {
    let failing: BounceModule;
    let failingSns: SnsStandIn;
    let restoreFailing: () => void;

    beforeAll(async () => {
      failingSns = await startSns({ fail: () => true });
      // Every bounce alerts on its own here (no digest grouping): this is about publishing.
      const deployed = JSON.parse(readFileSync(configFile, 'utf8')) as Config;
      const ungrouped = writeDeployedConfig({ ...deployed, alerts: { ...deployed.alerts, bounceDigestMinutes: 0 } });
      const env = handlerEnv(
        { dynamodb: ddb.endpoint, s3: s3.endpoint, sns: failingSns.endpoint },
        { MAILHEALTH_CONFIG_FILE: ungrouped, TABLE_NAME: tableName, ALERT_TOPIC_ARN: TOPIC, RAW_MAIL_BUCKET: BUCKET, RAW_MAIL_PREFIX: PREFIX },
      );
      const loaded = await loadHandler<BounceModule>('../../functions/bounce/index.ts', env);
      failing = loaded.module;
      restoreFailing = loaded.restore;
    });
    afterAll(async () => {
      restoreFailing?.();
      await failingSns?.close();
    });

    it('fails the invocation, logs the alert it could not publish and keeps it in the outbox', async () => {
      // Prepare
      const { id } = await sentCanary(60, 4);
      const messageId = sesMessageId();
      await s3.put(BUCKET, `${PREFIX}${messageId}`, asReceived(mailboxFullReport(id, 'jiro@example.jp', BOUNCE_DOMAIN), ''));

      // Act
      const run = failing.handler(sesEvent(messageId, { from: 'MAILER-DAEMON@smtp.example.jp', to: `bounce+${id}@${BOUNCE_DOMAIN}`, subject: 'Undelivered Mail Returned to Sender' }));

      // Assess
      await expect(run).rejects.toMatchObject({ code: 'DELIVERY_FAILED' });
      expect(out.logs().find((l) => l.message === 'alert not published')).toMatchObject({ level: 'ERROR', kind: 'bounce', target: 'shop', outbox: 'kept for the sweeper' });
      const kept = await createDynamoDbAlertOutbox({ client: ddb.client, tableName }).unsent(new Date(Date.now() + 60_000).toISOString(), 10);
      expect(kept.map((e) => e.key)).toContain(`bounce#${id}#jiro@example.jp`);
    });
  });
});
