/**
 * Stand-ins and plumbing for the Lambda handler tests (test/integration/handler-*.test.ts):
 * S3 (s3rver), SNS and Secrets Manager (small servers speaking their wire protocols, built on
 * http-capture), the handler environment pointing every AWS client at 127.0.0.1, a fresh import
 * of a handler under that environment, and a capture of what it writes (Powertools log lines
 * and EMF metric lines). Everything listens on 127.0.0.1 only.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, vi } from 'vitest';
import type { Config } from '#core/config.ts';
import { startHttpCapture, type CaptureReply, type HttpCapture } from '../helpers/http-capture.ts';

/** s3rver's built-in account: it checks SigV4 signatures against these. */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;
export const REGION = 'us-east-1';

// ---------------------------------------------------------------------------------------------
// S3

interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
type S3rverClass = new (options: Record<string, unknown>) => S3rverInstance;

export interface S3StandIn {
  readonly endpoint: string;
  readonly client: S3Client;
  /** Stores a message as the SES S3 action does: `<bucket>/<key>`. */
  put(bucket: string, key: string, body: string | Uint8Array): Promise<void>;
  close(): Promise<void>;
}

/** s3rver on a free port of 127.0.0.1 with its files in a temporary directory; creates `buckets`. */
export async function startS3(buckets: readonly string[]): Promise<S3StandIn> {
  const S3rver = createRequire(import.meta.url)('s3rver') as S3rverClass;
  const directory = await mkdtemp(join(tmpdir(), 'mail-health-s3rver-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, resetOnClose: true });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new S3Client({ endpoint, region: REGION, forcePathStyle: true, credentials: S3RVER_CREDENTIALS, maxAttempts: 1 });
  for (const Bucket of buckets) await client.send(new CreateBucketCommand({ Bucket }));
  return {
    endpoint,
    client,
    async put(Bucket, Key, Body) {
      await client.send(new PutObjectCommand({ Bucket, Key, Body, ContentType: 'message/rfc822' }));
    },
    async close() {
      client.destroy();
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// SNS (query protocol: form-encoded request, XML answer)

export interface PublishedMessage {
  readonly topicArn: string;
  readonly message: string;
  readonly attributes: Readonly<Record<string, string>>;
}

export interface SnsStandIn {
  readonly endpoint: string;
  readonly published: PublishedMessage[];
  close(): Promise<void>;
}

/** An SNS endpoint that answers Publish (and records it); `fail` makes it answer 500 instead. */
export async function startSns(options: { fail?: () => boolean } = {}): Promise<SnsStandIn> {
  const published: PublishedMessage[] = [];
  let next = 0;
  const http: HttpCapture = await startHttpCapture((req): CaptureReply => {
    const form = new URLSearchParams(req.body);
    if (form.get('Action') !== 'Publish') return snsError(400, 'InvalidAction', `unsupported action ${form.get('Action')}`);
    if (options.fail?.()) return snsError(500, 'InternalError', 'stand-in told to fail');
    const attributes: Record<string, string> = {};
    for (let i = 1; form.has(`MessageAttributes.entry.${i}.Name`); i++) {
      attributes[form.get(`MessageAttributes.entry.${i}.Name`)!] = form.get(`MessageAttributes.entry.${i}.Value.StringValue`) ?? '';
    }
    published.push({ topicArn: form.get('TopicArn') ?? '', message: form.get('Message') ?? '', attributes });
    const id = `00000000-0000-4000-8000-${String(++next).padStart(12, '0')}`;
    return {
      status: 200,
      headers: { 'content-type': 'text/xml' },
      body: `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>${id}</MessageId></PublishResult><ResponseMetadata><RequestId>req-${next}</RequestId></ResponseMetadata></PublishResponse>`,
    };
  });
  return { endpoint: http.url, published, close: () => http.close() };
}

function snsError(status: number, code: string, message: string): CaptureReply {
  return {
    status,
    headers: { 'content-type': 'text/xml' },
    body: `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>err</RequestId></ErrorResponse>`,
  };
}

// ---------------------------------------------------------------------------------------------
// SQS (the JSON protocol): what the alert Lambda calls on its queue

/** One ChangeMessageVisibility call: the message hidden for `seconds`. */
export interface VisibilityChange {
  readonly receiptHandle: string;
  readonly seconds: number;
}

export interface SqsStandIn {
  readonly endpoint: string;
  readonly changes: VisibilityChange[];
  close(): Promise<void>;
}

/** An SQS endpoint answering ChangeMessageVisibility (and recording it); `onChange` sees each call. */
export async function startSqs(options: { onChange?: (change: VisibilityChange) => void } = {}): Promise<SqsStandIn> {
  const changes: VisibilityChange[] = [];
  const json = (status: number, doc: unknown): CaptureReply => ({ status, headers: { 'content-type': 'application/x-amz-json-1.0' }, body: JSON.stringify(doc) });
  const http = await startHttpCapture((req) => {
    if (req.headers['x-amz-target'] !== 'AmazonSQS.ChangeMessageVisibility') return json(400, { __type: 'com.amazonaws.sqs#InvalidAction', message: `unsupported ${String(req.headers['x-amz-target'])}` });
    const input = req.json<{ ReceiptHandle: string; VisibilityTimeout: number }>();
    const change = { receiptHandle: input.ReceiptHandle, seconds: input.VisibilityTimeout };
    changes.push(change);
    options.onChange?.(change);
    return json(200, {});
  });
  return { endpoint: http.url, changes, close: () => http.close() };
}

let sqsIds = 0;

/** The alert queue's ARN in the handler tests. */
export const ALERT_QUEUE_ARN = `arn:aws:sqs:${'us-east-1'}:123456789012:mail-health-alerts`;

/**
 * What the alert queue hands the alert Lambda for a message of the alert topic (SNS → SQS with
 * raw message delivery: the body is the message).
 */
export function fromTopic(message: string, receiveCount = 1): unknown {
  return sqsEvent(ALERT_QUEUE_ARN, [{ body: message, receiveCount }]);
}

/** An SQS event as Lambda's event source mapping delivers it: one record per body. */
export function sqsEvent(queueArn: string, messages: readonly (string | { readonly body: string; readonly messageId?: string; readonly receiveCount?: number; readonly receiptHandle?: string })[]): unknown {
  return {
    Records: messages.map((m) => {
      const msg = typeof m === 'string' ? { body: m } : m;
      const id = msg.messageId ?? `5b1c2d3e-0000-4000-8000-${String(++sqsIds).padStart(12, '0')}`;
      return {
        messageId: id,
        receiptHandle: msg.receiptHandle ?? `AQEB${id}`,
        body: msg.body,
        attributes: { ApproximateReceiveCount: String(msg.receiveCount ?? 1), SentTimestamp: String(Date.now()), SenderId: 'AIDAEXAMPLE', ApproximateFirstReceiveTimestamp: String(Date.now()) },
        messageAttributes: {},
        md5OfBody: 'x',
        eventSource: 'aws:sqs',
        eventSourceARN: queueArn,
        awsRegion: REGION,
      };
    }),
  };
}

// ---------------------------------------------------------------------------------------------
// Secrets Manager (JSON 1.1 protocol)

export interface SecretsStandIn {
  readonly endpoint: string;
  /** The SecretId of every GetSecretValue request, in order. */
  readonly requests: string[];
  close(): Promise<void>;
}

/** A Secrets Manager endpoint answering GetSecretValue from `secrets` (name → plain-text value). */
export async function startSecretsManager(secrets: Readonly<Record<string, string>>): Promise<SecretsStandIn> {
  const requests: string[] = [];
  const json = (status: number, doc: unknown): CaptureReply => ({ status, headers: { 'content-type': 'application/x-amz-json-1.1' }, body: JSON.stringify(doc) });
  const http = await startHttpCapture((req) => {
    if (req.headers['x-amz-target'] !== 'secretsmanager.GetSecretValue') return json(400, { __type: 'InvalidRequestException', message: 'unsupported operation' });
    const id = req.json<{ SecretId: string }>().SecretId;
    requests.push(id);
    const value = secrets[id];
    if (value === undefined) return json(400, { __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." });
    return json(200, { ARN: `arn:aws:secretsmanager:${REGION}:123456789012:secret:${id}-AbCdEf`, Name: id, SecretString: value, VersionId: 'v1', VersionStages: ['AWSCURRENT'], CreatedDate: 1_700_000_000 });
  });
  return { endpoint: http.url, requests, close: () => http.close() };
}

// ---------------------------------------------------------------------------------------------
// The handler environment

const configDirs: string[] = [];
afterAll(() => {
  for (const dir of configDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/**
 * Writes a deployed config (as `deployedConfig` makes it) the way the stack puts it into a
 * bundle, in a temporary directory removed after the test file, and returns its absolute path
 * for `MAILHEALTH_CONFIG_FILE`.
 */
export function writeDeployedConfig(config: Config): string {
  const dir = mkdtempSync(join(tmpdir(), 'mail-health-config-'));
  configDirs.push(dir);
  const path = join(dir, 'mailhealth.config.json');
  writeFileSync(path, JSON.stringify(config));
  return path;
}

/** Endpoints of the stand-ins a handler talks to. */
export interface Endpoints {
  readonly dynamodb?: string;
  readonly s3?: string;
  readonly sns?: string;
  readonly secretsManager?: string;
  readonly sesv2?: string;
  readonly sqs?: string;
}

/**
 * The Lambda environment of the stack's contract, with the standard SDK variables pointing every
 * client at a stand-in. A client without a stand-in gets a refused local port, never AWS.
 */
export function handlerEnv(endpoints: Endpoints, contract: Readonly<Record<string, string>>): Record<string, string> {
  const nowhere = 'http://127.0.0.1:9';
  return {
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
    AWS_CONFIG_FILE: '/nonexistent/aws-config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_MAX_ATTEMPTS: '1',
    AWS_ENDPOINT_URL: nowhere,
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb ?? nowhere,
    AWS_ENDPOINT_URL_S3: endpoints.s3 ?? nowhere,
    AWS_ENDPOINT_URL_SNS: endpoints.sns ?? nowhere,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoints.secretsManager ?? nowhere,
    AWS_ENDPOINT_URL_SESV2: endpoints.sesv2 ?? nowhere,
    AWS_ENDPOINT_URL_SQS: endpoints.sqs ?? nowhere,
    // The SQS client sends to the queue URL's host: the URL must be the stand-in's (or nowhere).
    ALERT_QUEUE_URL: `${endpoints.sqs ?? nowhere}/123456789012/mail-health-alerts`,
    POWERTOOLS_SERVICE_NAME: 'mail-health',
    POWERTOOLS_METRICS_NAMESPACE: 'MailHealth',
    POWERTOOLS_LOG_LEVEL: 'INFO',
    ...contract,
  };
}

/**
 * Imports a handler module afresh under `env` (set before the import, as Lambda sets it before
 * the init phase). Returns the module and a function restoring the previous environment.
 */
export async function loadHandler<M>(entry: string, env: Readonly<Record<string, string>>): Promise<{ module: M; restore: () => void }> {
  const previous = new Map<string, string | undefined>();
  for (const [k, v] of Object.entries(env)) {
    previous.set(k, process.env[k]);
    process.env[k] = v;
  }
  vi.resetModules();
  const module = (await import(entry)) as M;
  return {
    module,
    restore() {
      for (const [k, v] of previous) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------
// What a handler writes

/** An EMF metric as CloudWatch would read it from a log line. */
export interface EmfMetric {
  readonly name: string;
  readonly unit: string;
  readonly value: number;
  readonly namespace: string;
  /** Dimension name → value, `service` included. */
  readonly dimensions: Readonly<Record<string, string>>;
}

export interface OutputCapture {
  /** Every line written to stdout and stderr since the start (or the last clear). */
  readonly text: () => string;
  /** The lines that are JSON objects. */
  readonly json: () => Record<string, unknown>[];
  /** The Powertools log lines (JSON with `level` and `message`). */
  readonly logs: () => Record<string, unknown>[];
  /** The metrics of the EMF lines, one entry per value. */
  readonly metrics: () => EmfMetric[];
  clear(): void;
  restore(): void;
}

/** Captures stdout and stderr (where Powertools writes logs and EMF) without passing them on. */
export function captureOutput(): OutputCapture {
  let chunks: string[] = [];
  const spy = (stream: NodeJS.WriteStream) =>
    vi.spyOn(stream, 'write').mockImplementation(((chunk: string | Uint8Array, ...rest: unknown[]) => {
      chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      const callback = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      callback?.();
      return true;
    }) as typeof stream.write);
  const spies = [spy(process.stdout), spy(process.stderr)];
  const text = () => chunks.join('');
  const json = () =>
    text()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as Record<string, unknown>];
        } catch {
          return [];
        }
      });
  return {
    text,
    json,
    logs: () => json().filter((j) => typeof j.level === 'string' && 'message' in j),
    metrics: () =>
      json().flatMap((line) => {
        const aws = line._aws as { CloudWatchMetrics?: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] } | undefined;
        if (!aws?.CloudWatchMetrics) return [];
        return aws.CloudWatchMetrics.flatMap((d) => {
          const dimensions = Object.fromEntries((d.Dimensions[0] ?? []).map((name) => [name, String(line[name])]));
          return d.Metrics.flatMap((m) => {
            const raw = line[m.Name];
            const values = Array.isArray(raw) ? raw : [raw];
            return values.map((value) => ({ name: m.Name, unit: m.Unit, value: Number(value), namespace: d.Namespace, dimensions }));
          });
        });
      }),
    clear() {
      chunks = [];
    },
    restore() {
      for (const s of spies) s.mockRestore();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Events and messages as AWS delivers them

let messages = 0;

/** An SES message id (lower-case letters and digits, as SES makes them). */
export function sesMessageId(): string {
  return `o3vrnil0e2ic28trm7dfhrc2v0${String(++messages).padStart(4, '0')}cl9lambda`;
}

/** The SES receipt event of a Lambda action: headers only, the message itself is in S3. */
export function sesEvent(messageId: string, options: { from: string; to: string; subject: string; timestamp?: string }): unknown {
  const timestamp = options.timestamp ?? new Date().toISOString();
  return {
    Records: [
      {
        eventSource: 'aws:ses',
        eventVersion: '1.0',
        ses: {
          mail: {
            timestamp,
            source: options.from,
            messageId,
            destination: [options.to],
            headersTruncated: false,
            headers: [
              { name: 'From', value: options.from },
              { name: 'To', value: options.to },
              { name: 'Subject', value: options.subject },
            ],
            commonHeaders: { returnPath: options.from, from: [options.from], to: [options.to], subject: options.subject },
          },
          receipt: {
            timestamp,
            processingTimeMillis: 412,
            recipients: [options.to],
            spamVerdict: { status: 'PASS' },
            virusVerdict: { status: 'PASS' },
            spfVerdict: { status: 'PASS' },
            dkimVerdict: { status: 'GRAY' },
            dmarcVerdict: { status: 'GRAY' },
            action: { type: 'Lambda', functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:MailHealthStack-BounceFunction', invocationType: 'Event' },
          },
        },
      },
    ],
  };
}

let received = 0;

/** What SES stores: the message as received, with the receiving MTA's trace headers on top. */
export function asReceived(message: string, envelopeFrom: string): string {
  return [`Return-Path: <${envelopeFrom}>`, `Received: from smtp.example.jp (smtp.example.jp [203.0.113.5]) by inbound-smtp.us-east-1.amazonaws.com with SMTP id ${++received}; ${new Date().toUTCString()}`, message].join('\r\n');
}

/** A Postfix non-delivery report for a canary whose recipient's mailbox was full. */
export function mailboxFullReport(canaryId: string, recipient: string, bounceDomain: string): string {
  const verp = `bounce+${canaryId}@${bounceDomain}`;
  return [
    'Date: Mon,  5 Jan 2026 09:00:05 +0900 (JST)',
    'From: MAILER-DAEMON@smtp.example.jp (Mail Delivery System)',
    'Subject: Undelivered Mail Returned to Sender',
    `To: ${verp}`,
    'Auto-Submitted: auto-replied',
    'MIME-Version: 1.0',
    'Content-Type: multipart/report; report-type=delivery-status; boundary="B0UNCE.1767571205/smtp.example.jp"',
    '',
    'This is a MIME-encapsulated message.',
    '',
    '--B0UNCE.1767571205/smtp.example.jp',
    'Content-Description: Notification',
    'Content-Type: text/plain; charset=us-ascii',
    '',
    'This is the mail system at host smtp.example.jp.',
    '',
    "I'm sorry to have to inform you that your message could not",
    'be delivered to one or more recipients.',
    '',
    `<${recipient}>: host mx.example.net[198.51.100.7] said: 552 5.2.2 <${recipient}>:`,
    '    Mailbox full (in reply to RCPT TO command)',
    '',
    '--B0UNCE.1767571205/smtp.example.jp',
    'Content-Description: Delivery report',
    'Content-Type: message/delivery-status',
    '',
    'Reporting-MTA: dns; smtp.example.jp',
    `X-Postfix-Sender: rfc822; ${verp}`,
    '',
    `Final-Recipient: rfc822; ${recipient}`,
    'Action: failed',
    'Status: 5.2.2',
    'Remote-MTA: dns; mx.example.net',
    `Diagnostic-Code: smtp; 552 5.2.2 <${recipient}>: Mailbox full`,
    '',
    '--B0UNCE.1767571205/smtp.example.jp',
    'Content-Description: Undelivered Message Headers',
    'Content-Type: text/rfc822-headers',
    '',
    `Return-Path: <${verp}>`,
    `Message-ID: <${canaryId}@mail-health>`,
    `X-Mail-Health-Canary: ${canaryId}`,
    'From: shop@example.jp',
    `To: ${recipient}`,
    `Subject: mail-health canary ${canaryId}`,
    '',
    '--B0UNCE.1767571205/smtp.example.jp--',
    '',
  ].join('\r\n');
}

let snsIds = 0;

/** An SNS event as Lambda receives it from a topic subscription. */
export function snsEvent(topicArn: string, message: string): unknown {
  const id = `3a1b2c3d-0000-4000-8000-${String(++snsIds).padStart(12, '0')}`;
  return {
    Records: [
      {
        EventSource: 'aws:sns',
        EventVersion: '1.0',
        EventSubscriptionArn: `${topicArn}:0f1e2d3c-aaaa-bbbb-cccc-000000000001`,
        Sns: {
          Type: 'Notification',
          MessageId: id,
          TopicArn: topicArn,
          Subject: null,
          Message: message,
          Timestamp: new Date().toISOString(),
          SignatureVersion: '1',
          Signature: 'EXAMPLE',
          SigningCertUrl: 'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem',
          UnsubscribeUrl: `https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${topicArn}:x`,
          MessageAttributes: {},
        },
      },
    ],
  };
}

/** The Lambda context of an invocation, as the runtime passes it. */
export function lambdaContext(functionName: string, requestId: string): { functionName: string; functionVersion: string; invokedFunctionArn: string; memoryLimitInMB: string; awsRequestId: string } {
  return {
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${REGION}:123456789012:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: requestId,
  };
}
