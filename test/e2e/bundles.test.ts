/**
 * The bundles as AWS runs them. The stack is synthesized with bundling; each function's asset is
 * taken from cdk.out as it would be uploaded (index.mjs, its source map, the deployed config,
 * the target's CA) and run on Node.js 24 (tools/node24) in a process of its own, like a Lambda
 * sandbox: LAMBDA_TASK_ROOT is the asset, the environment is the function's from the template,
 * and beside it is only the AWS SDK v3 (with its own dependencies), as in the nodejs24.x
 * runtime. Every AWS endpoint is a loopback stand-in (AWS_ENDPOINT_URL_*): dynalite, s3rver,
 * SNS, Secrets Manager, aws-ses-v2-local; Slack is an HTTP capture; the provider is smtp-server.
 *
 * The chain: two scheduled canary rounds (a round trip and a login check), a DSN for the
 * canary stored in S3 and announced by an SES receipt event, the bounce alert the bounce
 * function publishes handed twice by the alert queue (SNS → SQS) to the alert function: one
 * Slack post, one email; then a scheduled sweep that finds the target reporting. The target has
 * a seed mailbox (inbox placement, an IMAP server over TLS on 127.0.0.1): the round trip's canary
 * goes to it too, and the next round reads it there with the bundled IMAP client.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, type Config } from '#core/config.ts';
import { isRoundTripRound } from '#core/round-trip.ts';
import type { MailHealthStack } from '../../lib/mail-health-stack.ts';
import { synthStack } from '../cdk/helpers.ts';
import { linkAwsSdk, NODE24 } from './helpers/lambda-sandbox.ts';
import { startSeedMailbox, type SeedMailbox } from '#local/demo/seed-mailbox.ts';
import { startDynalite, type DynaliteHandle } from '../helpers/dynalite.ts';
import { startHttpCapture, type HttpCapture } from '../helpers/http-capture.ts';
import { startSesLocal, type SesLocalHandle } from '../helpers/ses-local.ts';
import { closeAll, makePki, PASSWORD, SERVERNAME, startSmtpServer, USER, type TestSmtpServer } from '../helpers/smtp.ts';
import {
  handlerEnv,
  mailboxFullReport,
  sesEvent,
  sesMessageId,
  fromTopic,
  startS3,
  startSecretsManager,
  startSns,
  startSqs,
  type SqsStandIn,
  type S3StandIn,
  type SecretsStandIn,
  type SnsStandIn,
} from '../integration/handler-stand-ins.ts';

const TOPIC = 'arn:aws:sns:us-east-1:123456789012:MailHealthStack-AlertTopic';
const BUCKET = 'mailhealthstack-rawmail';
const BOUNCE_DOMAIN = 'bounces.example.jp';
const SMTP_SECRET = 'mail-health/shop-smtp';
const SLACK_SECRET = 'mail-health/slack-webhook';
const SEED_SECRET = 'mail-health/seed';
const SEED = 'seed@seed.test';
/** One invocation may take this long (a cold start on a loaded machine included). */
const INVOKE_TIMEOUT_MS = 60_000;

type Resources = Record<string, { Type: string; Properties: Record<string, any>; Metadata?: Record<string, unknown> }>;

/** What the runtime stand-in reports for one invocation. */
interface Invocation {
  readonly ok: boolean;
  readonly result?: any;
  readonly error?: string;
  /** From spawn to the handler module being loaded (the init phase). */
  readonly initMs: number;
  /** stdout and stderr, as they came. */
  readonly output: string;
  readonly stdout: string;
  readonly stderr: string;
}

// The Lambda runtime's part: load the handler once (init), invoke it with the event, report.
const RUNTIME = `
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
const [eventFile, reportFile] = process.argv.slice(2);
const started = Number(process.env.MH_SPAWNED_AT);
const { handler } = await import(pathToFileURL(join(process.env.LAMBDA_TASK_ROOT, 'index.mjs')).href);
const initMs = Date.now() - started;
const context = { functionName: process.env.AWS_LAMBDA_FUNCTION_NAME, functionVersion: '$LATEST', invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:' + process.env.AWS_LAMBDA_FUNCTION_NAME, memoryLimitInMB: '256', awsRequestId: crypto.randomUUID() };
try {
  const result = await handler(JSON.parse(readFileSync(eventFile, 'utf8')), context);
  writeFileSync(reportFile, JSON.stringify({ ok: true, result: result ?? null, initMs }));
} catch (err) {
  writeFileSync(reportFile, JSON.stringify({ ok: false, error: String(err && err.stack || err), initMs }));
}
`;

describe('the Lambda bundles on Node.js 24 with only the AWS SDK beside them', { timeout: 300_000 }, () => {
  const skip = existsSync(NODE24) ? undefined : `SKIPPED: Node 24 not installed at ${NODE24} (npm ci --prefix tools/node24)`;
  let smtp: TestSmtpServer;
  let ddb: DynaliteHandle;
  let s3: S3StandIn;
  let sns: SnsStandIn;
  let sqs: SqsStandIn;
  let ses: SesLocalHandle;
  let secrets: SecretsStandIn;
  let slack: HttpCapture;
  let seedBox: SeedMailbox;
  let work: string;
  let tableName: string;
  let stack: MailHealthStack;
  const tasks: Record<string, { dir: string; env: Record<string, string>; name: string }> = {};
  let sdkPackages = 0;
  let events = 0;
  /** The canary schedule's input as the template has it (the scheduler fills in the time). */
  let scheduleInput: string;
  let sweeperInput: string;

  /** Runs one invocation of a function's bundle in a fresh Node 24 process (a cold start). */
  async function invoke(fn: string, event: unknown): Promise<Invocation> {
    const task = tasks[fn]!;
    const eventFile = join(work, `event-${++events}.json`);
    const reportFile = join(work, `report-${events}.json`);
    writeFileSync(eventFile, JSON.stringify(event));
    const output: string[] = [];
    const streams = { stdout: [] as string[], stderr: [] as string[] };
    const child = spawn(NODE24, ['--enable-source-maps', join(work, 'runtime.mjs'), eventFile, reportFile], {
      cwd: task.dir,
      // Only what Lambda sets: no PATH to the project, no NODE_PATH.
      env: { ...task.env, MH_SPAWNED_AT: String(Date.now()), AWS_LAMBDA_FUNCTION_NAME: task.name, LAMBDA_TASK_ROOT: task.dir, TZ: 'UTC', LANG: 'en_US.UTF-8' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (d: Buffer) => (output.push(d.toString()), streams.stdout.push(d.toString())));
    child.stderr.on('data', (d: Buffer) => (output.push(d.toString()), streams.stderr.push(d.toString())));
    const timer = setTimeout(() => child.kill('SIGKILL'), INVOKE_TIMEOUT_MS);
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    clearTimeout(timer);
    const written = { output: output.join(''), stdout: streams.stdout.join(''), stderr: streams.stderr.join('') };
    if (!existsSync(reportFile)) return { ok: false, error: `exit ${code} without a report`, initMs: -1, ...written };
    return { ...(JSON.parse(readFileSync(reportFile, 'utf8')) as Omit<Invocation, keyof typeof written>), ...written };
  }

  beforeAll(async () => {
    if (skip) return;
    const pki = makePki();
    smtp = await startSmtpServer(pki);
    ddb = await startDynalite();
    tableName = await ddb.createTable();
    s3 = await startS3([BUCKET]);
    sns = await startSns();
    sqs = await startSqs();
    ses = await startSesLocal();
    slack = await startHttpCapture();
    secrets = await startSecretsManager({ [SMTP_SECRET]: PASSWORD, [SLACK_SECRET]: `${slack.url}/services/T1/B1/bundles`, [SEED_SECRET]: 'seed-app-password' });
    seedBox = await startSeedMailbox({ user: SEED, password: 'seed-app-password', tls: pki.good });
    work = mkdtempSync(join(tmpdir(), 'mail-health-bundles-'));
    writeFileSync(join(work, 'runtime.mjs'), RUNTIME);
    writeFileSync(join(work, 'private-ca.pem'), pki.caPem);

    const config: Config = parseConfig(
      {
        language: 'en',
        bounceDomain: BOUNCE_DOMAIN,
        schedule: 'rate(5 minutes)',
        roundTripSchedule: 'rate(1 hour)',
        targets: [
          {
            name: 'shop',
            host: '127.0.0.1',
            port: smtp.port,
            servername: SERVERNAME,
            ca: join(work, 'private-ca.pem'),
            auth: { user: USER, secretName: SMTP_SECRET },
            from: USER,
            to: [`canary@${BOUNCE_DOMAIN}`, 'owner@example.jp'],
            probePorts: [],
            timeouts: { connectMs: 2_000, stepMs: 2_000, probeMs: 500 },
          },
        ],
        alerts: { slack: { secretName: SLACK_SECRET }, email: { from: 'monitor@example.jp', to: ['owner@example.jp'] } },
        seeds: [{ name: 'seed', address: SEED, imap: { host: '127.0.0.1', port: seedBox.port, servername: SERVERNAME, ca: join(work, 'private-ca.pem'), auth: { user: SEED, secretName: SEED_SECRET }, timeoutMs: 5_000 } }],
      },
      { locale: 'en' },
    );
    const synth = synthStack(config, {}, { bundling: true });
    stack = synth.stack;
    const resources = synth.template.toJSON().Resources as Resources;

    scheduleInput = String(resources[stack.getLogicalId(stack.canary.schedules.get('shop')!.node.defaultChild as never)]!.Properties.Target.Input);
    sweeperInput = String(resources[stack.getLogicalId(stack.sweeper.schedule.node.defaultChild as never)]!.Properties.Target.Input);

    // The runtime's SDK sits above the task root, where an import from index.mjs finds it.
    sdkPackages = linkAwsSdk(join(work, 'node_modules'));
    const contract: Record<string, string> = { TABLE_NAME: tableName, ALERT_TOPIC_ARN: TOPIC, RAW_MAIL_BUCKET: BUCKET, SLACK_SECRET_ID: SLACK_SECRET, ALERT_QUEUE_URL: `${sqs.endpoint}/123456789012/alerts` };
    for (const [label, fn] of Object.entries({
      canary: stack.canary.canaryFunction,
      bounce: stack.bounceIntake.bounceFunction,
      alert: stack.alerting.alertFunction,
      sweeper: stack.sweeper.sweeperFunction,
    })) {
      const resource = resources[stack.getLogicalId(fn.function.node.defaultChild as never)]!;
      const dir = join(work, label);
      cpSync(join(synth.app.outdir, String(resource.Metadata?.['aws:asset:path'])), dir, { recursive: true });
      // The template's environment; its references (table, topic, bucket, secret) become the stand-ins'.
      const variables = resource.Properties.Environment.Variables as Record<string, unknown>;
      const env: Record<string, string> = {};
      for (const [k, v] of Object.entries(variables)) {
        if (typeof v === 'string') env[k] = v;
        else if (contract[k] !== undefined) env[k] = contract[k];
        else throw new Error(`${label}: no stand-in value for ${k} (${JSON.stringify(v)})`);
      }
      tasks[label] = { dir, name: `MailHealthStack-${label}`, env: { ...handlerEnv({ dynamodb: ddb.endpoint, s3: s3.endpoint, sns: sns.endpoint, secretsManager: secrets.endpoint, sesv2: ses.endpoint, sqs: sqs.endpoint }, env) } };
    }
  }, 240_000);

  afterAll(async () => {
    if (skip) return;
    await closeAll();
    await Promise.all([ddb?.close(), s3?.close(), sns?.close(), sqs?.close(), ses?.close(), secrets?.close(), slack?.close(), seedBox?.close()]);
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('runs two scheduled canaries, a DSN from S3 and its alert handed twice by the alert queue into one Slack post', async (ctx) => {
    if (skip) {
      console.info(skip);
      ctx.skip();
      return;
    }
    // Prepare: two consecutive scheduled times of the hour, the round trip's and another.
    const slot = (i: number) => new Date(Date.parse('2026-01-05T09:00:00Z') + i * 300_000);
    const periods = { intervalMs: 300_000, roundTripMs: 3_600_000 };
    const trip = Array.from({ length: 12 }, (_, i) => i).find((i) => isRoundTripRound('shop', slot(i), periods))!;
    const other = (trip + 1) % 12;

    // Act 1: the scheduler's two invocations, with the input the schedule's template gives.
    const scheduled = (at: Date): unknown => JSON.parse(scheduleInput.replace('<aws.scheduler.scheduled-time>', at.toISOString()));
    const first = await invoke('canary', scheduled(slot(trip)));
    // The seed's provider files the round trip's canary into the inbox, with its own verdict.
    const sent = smtp.received[0];
    if (sent?.to.includes(SEED)) seedBox.file(`Authentication-Results: seed.test; spf=pass smtp.mailfrom=example.jp; dkim=pass header.d=example.jp; dmarc=pass header.from=example.jp\r\n${sent.raw}`, 'INBOX');
    const second = await invoke('canary', scheduled(slot(other)));

    // Act 2: the provider's DSN for owner@example.jp, stored by SES in S3, announced to the bounce function.
    const canaryId = first.result?.rounds?.[0]?.canaryId as string;
    const messageId = sesMessageId();
    await s3.put(BUCKET, `raw/${messageId}`, mailboxFullReport(canaryId, 'owner@example.jp', BOUNCE_DOMAIN));
    const bounced = await invoke('bounce', sesEvent(messageId, { from: 'MAILER-DAEMON@smtp.example.jp', to: `bounce+${canaryId}@${BOUNCE_DOMAIN}`, subject: 'Undelivered Mail Returned to Sender' }));

    // Act 3: the queue hands what was published to the alert function, twice (at-least-once).
    const published = [...sns.published];
    const deliveries: Invocation[] = [];
    for (const p of published) {
      const event = fromTopic(p.message);
      deliveries.push(await invoke('alert', event), await invoke('alert', event));
    }

    // Act 4: the sweeper's scheduled run finds the target reporting.
    const swept = await invoke('sweeper', JSON.parse(sweeperInput.replace('<aws.scheduler.scheduled-time>', new Date().toISOString())));

    // Assess
    for (const [name, run] of Object.entries({ first, second, bounced, swept, ...Object.fromEntries(deliveries.map((d, i) => [`alert${i}`, d])) })) {
      expect(run.ok, `${name}: ${run.error}\n${run.output.slice(-2000)}`).toBe(true);
    }
    expect(first.result.rounds).toEqual([expect.objectContaining({ target: 'shop', status: 'ok', roundTrip: true })]);
    expect(second.result.rounds).toEqual([expect.objectContaining({ target: 'shop', status: 'ok', roundTrip: false })]);
    expect(swept.result).toEqual({ targets: 1, silent: [], alerts: 0, republished: 0 });
    expect(deliveries.map((d) => d.result)).toEqual(deliveries.map(() => ({ batchItemFailures: [] })));
    expect(smtp.received).toHaveLength(1);
    expect(smtp.received[0]!.from).toBe(`bounce+${canaryId}@${BOUNCE_DOMAIN}`);
    // One RCPT per seed besides the recipients, and the next round found the canary in the seed's inbox.
    expect(smtp.received[0]!.to).toEqual([`canary@${BOUNCE_DOMAIN}`, 'owner@example.jp', SEED]);
    const placed = second.output.split('\n').filter((l) => l.includes('"message":"placement"')).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(placed).toEqual([expect.objectContaining({ target: 'shop', seed: 'seed', canaryId, verdict: 'inbox', folder: 'INBOX', dmarc: 'pass' })]);
    expect(seedBox.messages('INBOX')).toEqual([]);
    expect(published.map((p) => p.attributes.kind)).toEqual(['bounce']);
    expect(slack.requests).toHaveLength(1);
    expect(slack.requests[0]!.json<{ text: string }>().text).toContain('owner@example.jp');
    const emails = await ses.emails();
    expect(emails).toHaveLength(1);
    expect(emails[0]!.body.text).toContain(canaryId);
    // Powertools writes WARN and ERROR lines (a warning or critical finding among them) to stderr,
    // INFO lines and the metrics to stdout. Lambda sends both streams to the log group, which the
    // dashboard reads; a test reading one stream would miss findings.
    const json = (text: string) => text.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, any>);
    expect(json(bounced.stderr).filter((l) => l.finding?.code === 'BOUNCE_MAILBOX_FULL').map((l) => l.level)).toEqual(['WARN']);
    expect(json(bounced.stdout).filter((l) => l.finding)).toEqual([]);
    expect(json(first.stdout).filter((l) => l.message === 'canary round')).toHaveLength(1);
    // Source maps are on, as in the template (NODE_OPTIONS), and nothing was read from the project.
    expect(tasks.canary!.env.NODE_OPTIONS).toBe('--enable-source-maps');
    console.info(
      `bundles on Node 24 with ${sdkPackages} SDK packages beside them: init canary ${first.initMs}/${second.initMs} ms, bounce ${bounced.initMs} ms, alert ${deliveries.map((d) => d.initMs).join('/')} ms, sweeper ${swept.initMs} ms`,
    );
  });
});
