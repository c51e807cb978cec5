/**
 * Fault injection in the Lambda sandbox: the synthesized bundles on Node.js 24 (warm processes,
 * test/e2e/helpers/lambda-sandbox.ts) against the stand-ins (dynalite, s3rver, SNS, Secrets
 * Manager, aws-ses-v2-local, HTTP Slack webhooks), with the alert queue's settings read from the
 * synthesized template (maxReceiveCount, visibility timeout, batch size) and the sweeper's
 * schedule. No npm package speaks SQS on Node 20 with a clock a test can move (fauxqs needs
 * Node 22.5 and real time), so a small simulator below plays the queue: it takes what the
 * topic got (raw delivery), hands batches to the alert function, keeps the messages it reports
 * as failures hidden for the wait the function sets (ChangeMessageVisibility, answered by an
 * SQS stand-in), retries a whole batch after the visibility timeout when an invocation fails,
 * and dead-letters a message after maxReceiveCount receives. Time is simulated: the clock jumps
 * to the next visible message or sweep, the faults read it, the sweeper gets it as its
 * scheduled time. Per fault: alerts decided (their outbox claims in the table), delivered per
 * destination, lost and duplicated, printed as a table (the README's figures).
 */
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoDbStore } from '#adapters/dynamodb-store.ts';
import { newCanaryId } from '#core/canary-id.ts';
import { parseConfig, type Config } from '#core/config.ts';
import type { MailHealthStack } from '../../lib/mail-health-stack.ts';
import { synthStack } from '../cdk/helpers.ts';
import { startDynalite, type DynaliteHandle } from '../helpers/dynalite.ts';
import { startHttpCapture, type CapturedRequest, type HttpCapture } from '../helpers/http-capture.ts';
import { startSesLocal, type SesLocalHandle } from '../helpers/ses-local.ts';
import { closedPort } from '../helpers/smtp.ts';
import {
  handlerEnv,
  mailboxFullReport,
  sesEvent,
  sesMessageId,
  sqsEvent,
  startS3,
  startSecretsManager,
  startSns,
  startSqs,
  type S3StandIn,
  type SecretsStandIn,
  type SnsStandIn,
  type SqsStandIn,
} from '../integration/handler-stand-ins.ts';
import { linkAwsSdk, NODE24, startWarm, type SandboxTask, type WarmFunction } from './helpers/lambda-sandbox.ts';

const TOPIC = 'arn:aws:sns:us-east-1:123456789012:MailHealthStack-AlertTopic';
const QUEUE_ARN = 'arn:aws:sqs:us-east-1:123456789012:MailHealthStack-AlertQueue';
const BUCKET = 'mailhealthstack-rawmail';
const BOUNCE_DOMAIN = 'bounces.example.jp';
const DEFAULT_HOOK = '/services/T1/B1/DEFAULT';
const SHOP_HOOK = '/services/T1/B2/SHOPDESK';
const HOUR = 3_600_000;

type Resources = Record<string, { Type: string; Properties: Record<string, any>; Metadata?: Record<string, unknown> }>;

/** A fault: what fails, from when to when (simulated ms after the start). */
interface Fault {
  readonly name: string;
  readonly slack?: { readonly status: 500 | 429; readonly untilMs: number };
  readonly sesThrottleUntilMs?: number;
  readonly snsFailUntilMs?: number;
  readonly dynamoThrottleUntilMs?: number;
  readonly killCanary?: boolean;
  readonly sqsTwice?: boolean;
}

const FAULTS: readonly Fault[] = [
  { name: 'Slack answers 500 for 2 hours', slack: { status: 500, untilMs: 2 * HOUR } },
  { name: 'Slack answers 429 for 2 hours', slack: { status: 429, untilMs: 2 * HOUR } },
  { name: 'SES throttles for 1 hour', sesThrottleUntilMs: HOUR },
  { name: 'SNS publish fails for 1 hour', snsFailUntilMs: HOUR },
  { name: 'DynamoDB throttles (every other request) for 30 minutes', dynamoThrottleUntilMs: HOUR / 2 },
  { name: 'canary killed between deciding and publishing', killCanary: true },
  { name: 'SQS delivers every message twice', sqsTwice: true },
];

/** An HTTP front that answers some requests itself (the fault) and forwards the rest. */
async function startFaultFront(backend: string, fault: (req: IncomingMessage, body: string) => { status: number; headers?: Record<string, string>; body: string } | null): Promise<{ endpoint: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const injected = fault(req, body);
      if (injected) {
        res.writeHead(injected.status, { 'content-type': 'application/json', ...injected.headers });
        res.end(injected.body);
        return;
      }
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'host' && k !== 'content-length' && k !== 'connection') headers[k] = v;
      fetch(`${backend}${req.url ?? '/'}`, { method: req.method ?? 'GET', headers, ...(req.method === 'GET' || req.method === 'HEAD' ? {} : { body }) })
        .then(async (up) => {
          const text = await up.text();
          const out: Record<string, string> = {};
          up.headers.forEach((v, k) => {
            if (k !== 'content-length' && k !== 'transfer-encoding' && k !== 'connection') out[k] = v;
          });
          res.writeHead(up.status, out);
          res.end(text);
        })
        .catch((err: unknown) => {
          res.writeHead(502);
          res.end(String(err));
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** What a fault's run gave. */
interface FaultRow {
  readonly fault: string;
  readonly decided: number;
  readonly delivered: Record<string, number>;
  readonly lost: number;
  readonly duplicates: number;
  readonly deadLettered: number;
  readonly receives: number;
  readonly simulatedHours: number;
}

describe('alert delivery under faults, in the Lambda sandbox with simulated time', { timeout: 1_800_000 }, () => {
  const skip = existsSync(NODE24) ? undefined : `SKIPPED: Node 24 not installed at ${NODE24} (npm ci --prefix tools/node24)`;
  let ddb: DynaliteHandle;
  let s3: S3StandIn;
  let ses: SesLocalHandle;
  let secrets: SecretsStandIn;
  let slack: HttpCapture;
  let sqs: SqsStandIn;
  let work: string;
  let stack: MailHealthStack;
  let resources: Resources;
  const dirs: Record<string, string> = {};
  const templateEnv: Record<string, Record<string, unknown>> = {};
  /** The simulated clock (ms since the epoch) the faults and the Slack stand-in read. */
  let simNow = 0;
  let startedAt = 0;
  let fault: Fault = FAULTS[0]!;
  const rows: FaultRow[] = [];
  /** The posts the Slack stand-in answered 200. */
  const acceptedPosts: CapturedRequest[] = [];
  let settings: { maxReceiveCount: number; visibilityTimeoutSeconds: number; batchSize: number; sweepMinutes: number; bounceRetries: number };
  let config: Config;

  beforeAll(async () => {
    if (skip) return;
    ddb = await startDynalite();
    s3 = await startS3([BUCKET]);
    ses = await startSesLocal();
    sqs = await startSqs({ onChange: (c) => visibilityChanges.push(c) });
    slack = await startHttpCapture((req) => {
      const f = fault.slack;
      if (f && simNow - startedAt < f.untilMs) return f.status === 429 ? { status: 429, headers: { 'retry-after': '30' }, body: 'rate_limited' } : { status: 500, body: 'internal_error' };
      acceptedPosts.push(req);
      return { status: 200, body: 'ok' };
    });
    secrets = await startSecretsManager({ 'mail-health/slack': `${slack.url}${DEFAULT_HOOK}`, 'mail-health/shop-slack': `${slack.url}${SHOP_HOOK}` });
    work = mkdtempSync(join(tmpdir(), 'mail-health-faults-'));

    config = parseConfig(
      {
        language: 'en',
        bounceDomain: BOUNCE_DOMAIN,
        schedule: 'rate(5 minutes)',
        targets: [
          { name: 'shop', host: 'smtp.example.jp', from: 'shop@example.jp', to: [`canary@${BOUNCE_DOMAIN}`], route: 'shop-desk', probePorts: [] },
          { name: 'clinic', host: 'smtp.example.jp', from: 'clinic@example.jp', to: [`canary@${BOUNCE_DOMAIN}`], probePorts: [] },
          { name: 'kiosk', host: '127.0.0.1', port: await closedPort(), from: 'kiosk@example.jp', to: [`canary@${BOUNCE_DOMAIN}`], probePorts: [], timeouts: { connectMs: 1_000, stepMs: 1_000, probeMs: 500 } },
        ],
        alerts: {
          failureThreshold: 1,
          bounceDigestMinutes: 0,
          slack: { secretName: 'mail-health/slack' },
          email: { from: 'monitor@example.jp', to: ['owner@example.jp'] },
          routes: [{ name: 'shop-desk', language: 'ja', slack: { secretName: 'mail-health/shop-slack' }, email: { to: ['desk@shop.example.jp'] } }],
        },
      },
      { locale: 'en' },
    );
    const synth = synthStack(config, {}, { bundling: true });
    stack = synth.stack;
    resources = synth.template.toJSON().Resources as Resources;
    const idOf = (c: { node: { defaultChild?: unknown } }) => stack.getLogicalId((c.node.defaultChild ?? c) as never);

    // The queue's settings as the template has them.
    const queue = resources[idOf(stack.alerting.delivery.queue)]!.Properties;
    const mapping = Object.values(resources).find((r) => r.Type === 'AWS::Lambda::EventSourceMapping')!.Properties;
    const sweep = resources[idOf(stack.sweeper.schedule)]!.Properties.ScheduleExpression as string;
    const bounceInvoke = Object.values(resources).find((r) => r.Type === 'AWS::Lambda::EventInvokeConfig' && JSON.stringify(r.Properties.FunctionName).includes(idOf(stack.bounceIntake.bounceFunction.function)));
    settings = {
      maxReceiveCount: Number(queue.RedrivePolicy.maxReceiveCount),
      visibilityTimeoutSeconds: Number(queue.VisibilityTimeout),
      batchSize: Number(mapping.BatchSize),
      sweepMinutes: Number(/rate\((\d+) minutes?\)/.exec(sweep)![1]),
      // Lambda retries an asynchronous invocation twice unless the function says otherwise.
      bounceRetries: Number(bounceInvoke?.Properties.MaximumRetryAttempts ?? 2),
    };

    linkAwsSdk(join(work, 'node_modules'));
    for (const [label, fn] of Object.entries({ canary: stack.canary.canaryFunction, bounce: stack.bounceIntake.bounceFunction, alert: stack.alerting.alertFunction, sweeper: stack.sweeper.sweeperFunction })) {
      const resource = resources[idOf(fn.function)]!;
      dirs[label] = join(work, label);
      cpSync(join(synth.app.outdir, String(resource.Metadata?.['aws:asset:path'])), dirs[label]!, { recursive: true });
      templateEnv[label] = resource.Properties.Environment.Variables as Record<string, unknown>;
    }
  }, 600_000);

  afterAll(async () => {
    if (skip) return;
    await Promise.all([ddb?.close(), s3?.close(), ses?.close(), secrets?.close(), slack?.close(), sqs?.close()]);
    if (work) rmSync(work, { recursive: true, force: true });
    if (rows.length > 0) {
      const lines = [
        '| fault | decided | delivered (Slack default / Slack shop-desk / email default / email shop-desk) | lost | duplicates | dead-lettered | alert Lambda receives | simulated hours |',
        '|---|---|---|---|---|---|---|---|',
        ...rows.map((r) => `| ${r.fault} | ${r.decided} | ${r.delivered.slack} / ${r.delivered['slack@shop-desk']} / ${r.delivered.email} / ${r.delivered['email@shop-desk']} | ${r.lost} | ${r.duplicates} | ${r.deadLettered} | ${r.receives} | ${r.simulatedHours.toFixed(1)} |`),
      ];
      console.info(`alert delivery under faults (bundles on Node 24, simulated time):\n${lines.join('\n')}`);
    }
  });

  const visibilityChanges: { receiptHandle: string; seconds: number }[] = [];

  for (const f of FAULTS) {
    it(`delivers every decided alert exactly once per destination: ${f.name}`, async (ctx) => {
      if (skip) {
        console.info(skip);
        ctx.skip();
        return;
      }
      // Prepare: a fresh table, the faults' fronts, the functions warm with the template's environment.
      fault = f;
      startedAt = Date.now();
      simNow = startedAt;
      const inFault = (until: number | undefined) => until !== undefined && simNow - startedAt < until;
      const tableName = await ddb.createTable();
      let ddbRequests = 0;
      const ddbFront = await startFaultFront(ddb.endpoint, () =>
        inFault(f.dynamoThrottleUntilMs) && ++ddbRequests % 2 === 0
          ? { status: 400, body: JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException', message: 'The level of configured provisioned throughput for the table was exceeded.' }) }
          : null,
      );
      const sesFront = await startFaultFront(ses.endpoint, (req) =>
        inFault(f.sesThrottleUntilMs) && req.method === 'POST' && (req.url ?? '').includes('outbound-emails')
          ? { status: 429, headers: { 'x-amzn-errortype': 'TooManyRequestsException' }, body: JSON.stringify({ message: 'Maximum sending rate exceeded.' }) }
          : null,
      );
      let canary: WarmFunction | undefined;
      let killed = false;
      const sns: SnsStandIn = await startSns({
        fail: () => {
          if (f.killCanary && canary && !killed) {
            // The canary decided (its outbox item is written) and dies before SNS answers.
            killed = true;
            canary.kill();
            return true;
          }
          return inFault(f.snsFailUntilMs);
        },
      });
      await ses.clear();
      const slackFrom = acceptedPosts.length;
      const contract: Record<string, string> = { TABLE_NAME: tableName, ALERT_TOPIC_ARN: TOPIC, RAW_MAIL_BUCKET: BUCKET, SLACK_SECRET_ID: 'mail-health/slack', ALERT_QUEUE_URL: `${sqs.endpoint}/123456789012/alerts` };
      const taskOf = (label: string): SandboxTask => {
        const env: Record<string, string> = {};
        for (const [k, v] of Object.entries(templateEnv[label]!)) {
          if (typeof v === 'string') env[k] = v;
          else if (contract[k] !== undefined) env[k] = contract[k];
          else throw new Error(`${label}: no stand-in value for ${k}`);
        }
        const all = handlerEnv({ dynamodb: ddbFront.endpoint, s3: s3.endpoint, sns: sns.endpoint, secretsManager: secrets.endpoint, sesv2: sesFront.endpoint, sqs: sqs.endpoint }, env);
        // The SDK's own retries as in Lambda (the handler tests turn them off for speed).
        delete all.AWS_MAX_ATTEMPTS;
        return { dir: dirs[label]!, env: all, name: `MailHealthStack-${label}` };
      };
      const [bounce, alert, sweeper] = (await Promise.all(['bounce', 'alert', 'sweeper'].map((l) => startWarm(taskOf(l), work)))) as [WarmFunction, WarmFunction, WarmFunction];
      const store = createDynamoDbStore({ client: ddb.client, tableName });

      // Act 1: alerts are decided: two bounces per route (each its own recipient), or the kiosk's failing round.
      const recipients: { recipient: string; target: string }[] = [];
      if (f.killCanary) {
        canary = await startWarm(taskOf('canary'), work);
        const run = await canary.invoke({ target: 'kiosk' }, 60_000);
        expect(run.ok).toBe(false);
      } else {
        for (const [i, target] of ['shop', 'shop', 'clinic', 'clinic'].entries()) {
          const id = newCanaryId(Date.now(), new Uint8Array(10).map(() => Math.floor(Math.random() * 256)));
          const recipient = `r${rows.length}-${i}@customer.example.net`;
          recipients.push({ recipient, target });
          await store.putCanary({ id, target, sentAt: new Date().toISOString(), recipients: [recipient], deliveredAt: null });
          const messageId = sesMessageId();
          await s3.put(BUCKET, `raw/${messageId}`, mailboxFullReport(id, recipient, BOUNCE_DOMAIN));
          const event = sesEvent(messageId, { from: 'MAILER-DAEMON@smtp.example.jp', to: `bounce+${id}@${BOUNCE_DOMAIN}`, subject: 'Undelivered Mail Returned to Sender' });
          // SES invokes asynchronously: Lambda retries a failed invocation (the template's attempts).
          for (let attempt = 0; attempt <= settings.bounceRetries; attempt++) if ((await bounce.invoke(event)).ok) break;
        }
      }

      // Act 2: the queue, simulated. SNS → SQS: what the topic took enters the queue (twice with sqsTwice).
      interface Message { id: string; body: string; receives: number; visibleAt: number; handle: string }
      const queue: Message[] = [];
      const dead: Message[] = [];
      let taken = 0;
      let seq = 0;
      const pull = () => {
        for (const p of sns.published.slice(taken)) {
          for (let copy = 0; copy < (f.sqsTwice ? 2 : 1); copy++) queue.push({ id: `m-${++seq}`, body: p.message, receives: 0, visibleAt: simNow, handle: '' });
        }
        taken = sns.published.length;
      };
      let nextSweep = simNow + settings.sweepMinutes * 60_000;
      let receives = 0;
      const limit = startedAt + 30 * HOUR;
      while (simNow < limit) {
        pull();
        const due = queue.filter((m) => m.visibleAt <= simNow);
        // Past maxReceiveCount a message goes to the dead-letter queue instead of the function.
        for (const m of due.filter((x) => x.receives >= settings.maxReceiveCount)) {
          queue.splice(queue.indexOf(m), 1);
          dead.push(m);
        }
        const batch = due.filter((x) => x.receives < settings.maxReceiveCount).slice(0, settings.batchSize);
        if (batch.length > 0) {
          for (const m of batch) {
            m.receives++;
            m.handle = `${m.id}/${m.receives}`;
            m.visibleAt = simNow + settings.visibilityTimeoutSeconds * 1000;
          }
          receives += batch.length;
          visibilityChanges.length = 0;
          const run = await alert.invoke(sqsEvent(QUEUE_ARN, batch.map((m) => ({ body: m.body, messageId: m.id, receiptHandle: m.handle, receiveCount: m.receives }))));
          for (const c of visibilityChanges) {
            const m = batch.find((x) => x.handle === c.receiptHandle);
            if (m) m.visibleAt = simNow + c.seconds * 1000;
          }
          if (run.ok) {
            const failed = new Set((run.result.batchItemFailures as { itemIdentifier: string }[]).map((x) => x.itemIdentifier));
            for (const m of batch) if (!failed.has(m.id)) queue.splice(queue.indexOf(m), 1);
          }
          continue;
        }
        const outboxLeft = (await ddb.client.send(new ScanCommand({ TableName: tableName, FilterExpression: 'pk = :o', ExpressionAttributeValues: { ':o': { S: 'OUTBOX' } } }))).Count ?? 0;
        const faultOver = [f.slack?.untilMs, f.sesThrottleUntilMs, f.snsFailUntilMs, f.dynamoThrottleUntilMs].every((u) => u === undefined || simNow - startedAt >= u);
        if (queue.length === 0 && outboxLeft === 0 && faultOver) break;
        // Nothing visible: the clock jumps to the next message or sweep.
        simNow = Math.min(nextSweep, ...queue.map((m) => m.visibleAt));
        if (simNow >= nextSweep) {
          await sweeper.invoke({ scheduledTime: new Date(simNow).toISOString() });
          nextSweep += settings.sweepMinutes * 60_000;
        }
      }

      // Assess: every alert decided (its claim in the table) reached each destination of its route once.
      const claims = await ddb.client.send(new ScanCommand({ TableName: tableName, FilterExpression: 'begins_with(pk, :c)', ExpressionAttributeValues: { ':c': { S: 'CLAIM#alert#' } } }));
      const decided = claims.Count ?? 0;
      const okPosts = acceptedPosts.slice(slackFrom);
      const emails = await ses.emails();
      const expected = f.killCanary ? [{ key: 'kiosk', route: 'default' }] : recipients.map((r) => ({ key: r.recipient, route: r.target === 'shop' ? 'shop-desk' : 'default' }));
      const delivered: Record<string, number> = { slack: 0, 'slack@shop-desk': 0, email: 0, 'email@shop-desk': 0 };
      let lost = 0;
      let duplicates = 0;
      for (const e of expected) {
        const hook = e.route === 'shop-desk' ? SHOP_HOOK : DEFAULT_HOOK;
        const to = e.route === 'shop-desk' ? 'desk@shop.example.jp' : 'owner@example.jp';
        const slackCount = okPosts.filter((p) => p.path === hook && p.body.includes(e.key)).length;
        const emailCount = emails.filter((m) => m.destination.to.includes(to) && `${m.subject}\n${m.body.text ?? ''}`.includes(e.key)).length;
        const slackId = e.route === 'shop-desk' ? 'slack@shop-desk' : 'slack';
        const emailId = e.route === 'shop-desk' ? 'email@shop-desk' : 'email';
        delivered[slackId] = (delivered[slackId] ?? 0) + slackCount;
        delivered[emailId] = (delivered[emailId] ?? 0) + emailCount;
        for (const n of [slackCount, emailCount]) {
          if (n === 0) lost++;
          if (n > 1) duplicates += n - 1;
        }
      }
      rows.push({ fault: f.name, decided, delivered, lost, duplicates, deadLettered: dead.length, receives, simulatedHours: (simNow - startedAt) / HOUR });
      await Promise.all([bounce, alert, sweeper, canary].map((fn) => fn?.close()));
      await Promise.all([ddbFront.close(), sesFront.close(), sns.close()]);

      expect(decided, alert.output().slice(-3000)).toBe(expected.length);
      expect(lost, `${alert.output().slice(-3000)}\n${sweeper.output().slice(-2000)}`).toBe(0);
      expect(duplicates).toBe(0);
      expect(dead).toHaveLength(0);
    });
  }
});
