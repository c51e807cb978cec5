import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, type Config } from '#core/config.ts';
import { DELIVERED_CANARIES_QUERY } from '../../lib/dashboard-queries.ts';
import type { MailHealthStack } from '../../lib/mail-health-stack.ts';
import { alarmFirings, sumWithMissing, type AlarmProperties } from './alarm-model.ts';
import { asList, exampleConfig, iamStatements, joinToString, synthStack } from './helpers.ts';

type Resources = Record<string, { Type: string; Properties: Record<string, any>; DependsOn?: string[]; Metadata?: Record<string, unknown> }>;

// One real synth (with esbuild bundling) shared by the whole file: bundling is the slow part.
let config: Config;
let stack: MailHealthStack;
let outdir: string;
let template: Template;
let resources: Resources;

function only(type: string): [string, Resources[string]] {
  const found = Object.entries(resources).filter(([, r]) => r.Type === type);
  expect(found, type).toHaveLength(1);
  return found[0]!;
}

function functionByDescription(word: string): [string, Resources[string]] {
  const found = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function' && String(r.Properties.Description).includes(word));
  expect(found, word).toHaveLength(1);
  return found[0]!;
}

function logicalId(construct: { node: { defaultChild?: unknown } } | undefined): string {
  return stack.getLogicalId(construct!.node.defaultChild as never);
}

beforeAll(async () => {
  config = await exampleConfig();
  let app;
  ({ app, stack, template } = synthStack(config, {}, { bundling: true }));
  outdir = app.outdir;
  resources = template.toJSON().Resources as Resources;
  // esbuild for four functions; on a busy machine, beside other bundling synths, over a minute.
}, 240_000);

describe('MailHealthStack', { timeout: 120_000 }, () => {
  describe('canary schedule', () => {
    it("schedules each target at the configured rate, spread over a flexible window, with its name and the scheduled time as input", () => {
      // Assess: one canary schedule per target, and the sweeper's
      template.resourceCountIs('AWS::Scheduler::Schedule', config.targets.length + 1);
      template.hasResourceProperties('AWS::Scheduler::Schedule', {
        ScheduleExpression: 'rate(5 minutes)',
        FlexibleTimeWindow: { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 4 },
        State: 'ENABLED',
        Target: {
          Arn: { 'Fn::GetAtt': [logicalId(stack.canary.canaryFunction.function), 'Arn'] },
          Input: JSON.stringify({ targets: ['shop'], scheduledTime: '<aws.scheduler.scheduled-time>' }),
          RetryPolicy: { MaximumEventAgeInSeconds: 300, MaximumRetryAttempts: 3 },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [logicalId(stack.canary.deadLetterQueue), 'Arn'] } },
        },
      });
    });

    it("lets only this account's default schedule group assume the scheduler role, to invoke only the canary and the sweeper", () => {
      // Prepare
      const roleId = logicalId(stack.canary.schedulerRole);
      // Assess
      template.hasResourceProperties('AWS::IAM::Role', {
        AssumeRolePolicyDocument: {
          Statement: [
            {
              Principal: { Service: 'scheduler.amazonaws.com' },
              Condition: {
                StringEquals: {
                  'aws:SourceAccount': { Ref: 'AWS::AccountId' },
                  'aws:SourceArn': Match.objectLike({ 'Fn::Join': ['', Match.arrayWith([':schedule-group/default'])] }),
                },
              },
            },
          ],
        },
      });
      const statements = iamStatements(template).filter((s) => JSON.stringify(resources[s.resource]!.Properties.Roles ?? []).includes(roleId));
      expect(statements.map((s) => s.statement.Action)).toEqual(['lambda:InvokeFunction', 'sqs:SendMessage']);
      expect(statements[0]!.statement.Resource).toEqual([
        { 'Fn::GetAtt': [logicalId(stack.canary.canaryFunction.function), 'Arn'] },
        { 'Fn::GetAtt': [logicalId(stack.sweeper.sweeperFunction.function), 'Arn'] },
      ]);
    });

    it("encrypts the schedules' dead-letter queue and refuses it without TLS", () => {
      template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true, MessageRetentionPeriod: 1_209_600 });
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
      });
    });
  });

  describe('functions', () => {
    it("runs every function on Node.js 24, arm64, with source maps and the Powertools settings", () => {
      // Prepare
      const functions = Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::Function');
      // Assess
      expect(functions).toHaveLength(4);
      for (const fn of functions) {
        expect(fn.Properties.Runtime).toBe('nodejs24.x');
        expect(fn.Properties.Architectures).toEqual(['arm64']);
        expect(fn.Properties.Handler).toBe('index.handler');
        expect(fn.Properties.Environment.Variables).toMatchObject({
          NODE_OPTIONS: '--enable-source-maps',
          POWERTOOLS_SERVICE_NAME: 'mail-health',
          POWERTOOLS_METRICS_NAMESPACE: 'MailHealth',
          POWERTOOLS_LOG_LEVEL: 'INFO',
        });
        expect(fn.Properties.LoggingConfig).toEqual({ LogGroup: { Ref: expect.stringMatching(/Logs/) } });
      }
    });

    it("sizes timeouts and memory per function, the canary's from the slowest target", () => {
      // Prepare: 3 probes × 3 s + connect 10 s + (8 steps + 1 recipient) × 15 s + 20 s overhead
      const canarySeconds = 3 * 3 + 10 + 9 * 15 + 20;
      // Assess
      expect(functionByDescription('canary round')[1].Properties).toMatchObject({ Timeout: canarySeconds, MemorySize: 256 });
      expect(functionByDescription('bounce')[1].Properties).toMatchObject({ Timeout: 60, MemorySize: 512 });
      expect(functionByDescription('alerts')[1].Properties).toMatchObject({ Timeout: 60, MemorySize: 256 });
      expect(functionByDescription('dead-man')[1].Properties).toMatchObject({ Timeout: 60, MemorySize: 128 });
    });

    it("never retries a failed canary round or sweep asynchronously", () => {
      for (const fn of [stack.canary.canaryFunction, stack.sweeper.sweeperFunction]) {
        template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
          FunctionName: { Ref: logicalId(fn.function) },
          MaximumRetryAttempts: 0,
          MaximumEventAgeInSeconds: 300,
        });
      }
      template.resourceCountIs('AWS::Lambda::EventInvokeConfig', 2);
    });

    it("tells the canary the round interval and the sweeper how long silence is normal", () => {
      expect(functionByDescription('canary round')[1].Properties.Environment.Variables.ROUND_INTERVAL_SECONDS).toBe('300');
      // 2 × 5 min + the 4 min window + the canary's 174 s timeout, in whole minutes
      expect(functionByDescription('dead-man')[1].Properties.Environment.Variables.SILENT_AFTER_SECONDS).toBe(String(17 * 60));
    });

    it("keeps each function's logs for a month in its own log group", () => {
      template.resourceCountIs('AWS::Logs::LogGroup', 4);
      template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    });

    it("bundles each handler as an ESM file with its source map", () => {
      for (const fn of Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::Function')) {
        // Prepare
        const bundleDir = join(outdir, String(fn.Metadata?.['aws:asset:path']));
        // Act
        const code = readFileSync(join(bundleDir, 'index.mjs'), 'utf8');
        // Assess
        expect(code.startsWith("import{createRequire as __mhRequire}from'node:module';")).toBe(true);
        expect(code).toMatch(/\/\/# sourceMappingURL=index\.mjs\.map\s*$/);
        expect(existsSync(join(bundleDir, 'index.mjs.map'))).toBe(true);
      }
    });
  });

  describe('environment contract', () => {
    it("gives the handlers the config as a file in their bundle, without secrets, valid against the schema", () => {
      for (const [, fn] of Object.entries(resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function')) {
        // Act
        expect(fn.Properties.Environment.Variables.MAILHEALTH_CONFIG_FILE).toBe('mailhealth.config.json');
        const json = readFileSync(join(outdir, String(fn.Metadata?.['aws:asset:path']), 'mailhealth.config.json'), 'utf8');
        const parsed = parseConfig(JSON.parse(json));
        // Assess
        expect(parsed.targets.map((t) => t.name)).toEqual(['shop']);
        expect(parsed.targets[0]!.auth).toEqual({ user: 'shop@example.jp', secretName: 'mail-health/shop-smtp' });
        expect(parsed.alerts.slack).toEqual({ secretName: 'mail-health/slack-webhook' });
        expect(json).not.toMatch(/password"|passwordEnv|webhookUrlEnv|"local"/);
        expect(JSON.parse(json)).toEqual(parsed);
        expect(fn.Properties.Environment.Variables.MAILHEALTH_CONFIG).toBeUndefined();
        expect(fn.Properties.Environment.Variables.TABLE_NAME).toEqual({ Ref: logicalId(stack.table) });
      }
    });

    it("tells the canary, bounce and sweeper functions where to publish alerts and the bounce function where raw mail is", () => {
      // Prepare
      const topic = { Ref: logicalId(stack.alerting.topic) };
      // Assess
      expect(functionByDescription('canary round')[1].Properties.Environment.Variables.ALERT_TOPIC_ARN).toEqual(topic);
      expect(functionByDescription('dead-man')[1].Properties.Environment.Variables.ALERT_TOPIC_ARN).toEqual(topic);
      expect(functionByDescription('bounce')[1].Properties.Environment.Variables).toMatchObject({
        ALERT_TOPIC_ARN: topic,
        RAW_MAIL_BUCKET: { Ref: logicalId(stack.bounceIntake.bucket) },
        RAW_MAIL_PREFIX: 'raw/',
      });
      expect(functionByDescription('alerts')[1].Properties.Environment.Variables.SLACK_SECRET_ID).toBe('mail-health/slack-webhook');
    });
  });

  describe('IAM', () => {
    it('grants no wildcard action and no resource "*"', () => {
      // Prepare
      const statements = iamStatements(template);
      // Assess
      expect(statements.length).toBeGreaterThan(5);
      for (const { resource, statement } of statements) {
        for (const action of asList(statement.Action as string | string[])) expect(action, `${resource}: ${action}`).not.toContain('*');
        for (const r of asList(statement.Resource)) expect(r, resource).not.toBe('*');
      }
    });

    it("lets the canary read exactly the targets' secrets", () => {
      // Prepare
      const canaryRole = logicalId(stack.canary.canaryFunction.role);
      const canaryStatements = iamStatements(template).filter((s) => JSON.stringify(resources[s.resource]!.Properties.Roles).includes(canaryRole));
      // Act
      const secretStatements = canaryStatements.filter((s) => asList(s.statement.Action as string[]).some((a) => a.startsWith('secretsmanager:')));
      // Assess
      expect(secretStatements).toHaveLength(1);
      expect(secretStatements[0]!.statement.Action).toBe('secretsmanager:GetSecretValue');
      expect(joinToString(secretStatements[0]!.statement.Resource)).toBe(
        'arn:REF(AWS::Partition):secretsmanager:REF(AWS::Region):REF(AWS::AccountId):secret:mail-health/shop-smtp-??????',
      );
    });

    it("lets each function write only to its own log group, without the managed basic execution policy", () => {
      for (const fn of [stack.canary.canaryFunction, stack.bounceIntake.bounceFunction, stack.alerting.alertFunction]) {
        // Prepare
        const role = logicalId(fn.role);
        // Act
        const logStatements = iamStatements(template).filter(
          (s) => JSON.stringify(resources[s.resource]!.Properties.Roles).includes(role) && asList(s.statement.Action as string[]).some((a) => a.startsWith('logs:')),
        );
        // Assess
        expect(logStatements.map((s) => s.statement.Resource)).toEqual([{ 'Fn::GetAtt': [logicalId(fn.logGroup), 'Arn'] }]);
        expect(resources[role]!.Properties.ManagedPolicyArns).toBeUndefined();
      }
    });

    it("lets the alert function send email only from the configured sender", () => {
      // Prepare
      const role = logicalId(stack.alerting.alertFunction.role);
      // Act
      const ses = iamStatements(template).filter(
        (s) => JSON.stringify(resources[s.resource]!.Properties.Roles).includes(role) && asList(s.statement.Action as string[]).some((a) => a.startsWith('ses:')),
      );
      // Assess
      expect(ses).toHaveLength(1);
      expect(ses[0]!.statement.Action).toBe('ses:SendEmail');
      expect(ses[0]!.statement.Condition).toEqual({ StringEquals: { 'ses:FromAddress': 'monitor@example.jp' } });
      expect(asList(ses[0]!.statement.Resource).map(joinToString).sort()).toEqual([
        'arn:REF(AWS::Partition):ses:REF(AWS::Region):REF(AWS::AccountId):identity/example.jp',
        'arn:REF(AWS::Partition):ses:REF(AWS::Region):REF(AWS::AccountId):identity/monitor@example.jp',
      ]);
    });

    it("lets only the canary, bounce and sweeper functions publish alerts, with the two KMS operations SNS needs", () => {
      // Prepare
      const publishers = iamStatements(template).filter((s) => asList(s.statement.Action as string[]).includes('sns:Publish'));
      const kms = iamStatements(template).filter((s) => asList(s.statement.Action as string[]).some((a) => a.startsWith('kms:')));
      // Assess
      expect(publishers.map((s) => s.statement.Resource)).toEqual(Array(3).fill({ Ref: logicalId(stack.alerting.topic) }));
      expect(kms.map((s) => s.statement.Action)).toEqual(Array(3).fill(['kms:Decrypt', 'kms:GenerateDataKey']));
    });
  });

  describe('bounce intake', () => {
    it("encrypts the raw-mail bucket, blocks public access and expires raw mail", () => {
      template.hasResourceProperties('AWS::S3::Bucket', {
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
        LifecycleConfiguration: { Rules: [Match.objectLike({ ExpirationInDays: 30, Status: 'Enabled', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } })] },
      });
    });

    it("enforces TLS on the bucket and lets SES write only from this account's bounce rule", () => {
      // Prepare
      const [, policy] = only('AWS::S3::BucketPolicy');
      const statements = policy.Properties.PolicyDocument.Statement as Record<string, any>[];
      // Act
      const ses = statements.filter((s) => s.Principal?.Service === 'ses.amazonaws.com');
      // Assess
      expect(statements).toContainEqual(expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));
      expect(statements).toContainEqual(expect.objectContaining({ Effect: 'Deny', Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } } }));
      expect(ses).toHaveLength(1);
      expect(ses[0]!.Action).toBe('s3:PutObject');
      expect(joinToString(ses[0]!.Resource)).toBe(`GETATT(${logicalId(stack.bounceIntake.bucket)}.Arn)/raw/*`);
      expect(ses[0]!.Condition.StringEquals['aws:SourceAccount']).toEqual({ Ref: 'AWS::AccountId' });
      expect(joinToString(ses[0]!.Condition.StringEquals['aws:SourceArn'])).toBe(
        'arn:REF(AWS::Partition):ses:REF(AWS::Region):REF(AWS::AccountId):receipt-rule-set/MailHealthStack-bounce-intake:receipt-rule/bounce-intake',
      );
    });

    it("stores each message for the bounce domain in S3, then invokes the bounce function asynchronously", () => {
      // Prepare
      const [ruleId, rule] = only('AWS::SES::ReceiptRule');
      // Assess
      expect(rule.Properties.Rule).toEqual({
        Name: 'bounce-intake',
        Enabled: true,
        Recipients: ['bounces.example.jp'],
        ScanEnabled: true,
        TlsPolicy: 'Optional',
        Actions: [
          { S3Action: { BucketName: { Ref: logicalId(stack.bounceIntake.bucket) }, ObjectKeyPrefix: 'raw/' } },
          { LambdaAction: { FunctionArn: { 'Fn::GetAtt': [logicalId(stack.bounceIntake.bounceFunction.function), 'Arn'] }, InvocationType: 'Event' } },
        ],
      });
      template.hasResourceProperties('AWS::SES::ReceiptRuleSet', { RuleSetName: 'MailHealthStack-bounce-intake' });
      // SES checks its permissions when the rule is created, so the rule must come after them.
      const permissionId = Object.entries(resources).find(([, r]) => r.Type === 'AWS::Lambda::Permission' && r.Properties.Principal === 'ses.amazonaws.com')![0];
      expect(resources[ruleId]!.DependsOn).toEqual(expect.arrayContaining([permissionId, logicalId(stack.bounceIntake.bucket.policy)]));
    });

    it("lets only SES of this account and rule invoke the bounce function", () => {
      template.hasResourceProperties('AWS::Lambda::Permission', {
        Action: 'lambda:InvokeFunction',
        Principal: 'ses.amazonaws.com',
        SourceAccount: { Ref: 'AWS::AccountId' },
        SourceArn: Match.objectLike({ 'Fn::Join': ['', Match.arrayWith([':receipt-rule-set/MailHealthStack-bounce-intake:receipt-rule/bounce-intake'])] }),
      });
    });

    it("invokes the bounce function every 5 minutes to send the bounce digests whose window closed", () => {
      template.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: 'rate(5 minutes)',
        Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [logicalId(stack.bounceIntake.bounceFunction.function), 'Arn'] }, InputTransformer: Match.objectLike({ InputTemplate: Match.stringLikeRegexp('"flushDigests":true') }), RetryPolicy: { MaximumRetryAttempts: 0 } })],
      });
      template.hasResourceProperties('AWS::Lambda::Permission', { Action: 'lambda:InvokeFunction', Principal: 'events.amazonaws.com', SourceArn: { 'Fn::GetAtt': [logicalId(stack.bounceIntake.digestFlush), 'Arn'] } });
    });

    it("leaves the rule set inactive by default", () => {
      expect(Object.values(resources).filter((r) => r.Type.startsWith('Custom::'))).toEqual([]);
    });
  });

  describe('table', () => {
    it("is on demand with pk/sk keys, TTL on ttl, point-in-time recovery and encryption", () => {
      template.hasResourceProperties('AWS::DynamoDB::Table', {
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ],
        TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        // AWS managed key (aws/dynamodb): SSE enabled without a key id of ours.
        SSESpecification: { SSEEnabled: true },
      });
    });
  });

  describe('alerting', () => {
    it("encrypts the alert topic with a rotating key CloudWatch may use, and enforces TLS", () => {
      template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [logicalId(stack.alerting.key), 'Arn'] } });
      template.hasResourceProperties('AWS::KMS::Key', {
        EnableKeyRotation: true,
        KeyPolicy: {
          Statement: Match.arrayWith([
            Match.objectLike({ Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey'] }),
          ]),
        },
      });
      template.hasResourceProperties('AWS::SNS::TopicPolicy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
            Match.objectLike({
              Principal: { Service: 'cloudwatch.amazonaws.com' },
              Action: 'sns:Publish',
              Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } }, ArnLike: { 'aws:SourceArn': Match.anyValue() } },
            }),
          ]),
        },
      });
    });

    it("subscribes the alert queue to the topic (raw messages, SNS of this topic only) and the alert function to the queue with partial batch failures", () => {
      const { queue, deadLetterQueue } = stack.alerting.delivery;
      template.hasResourceProperties('AWS::SNS::Subscription', {
        Protocol: 'sqs',
        RawMessageDelivery: true,
        TopicArn: { Ref: logicalId(stack.alerting.topic) },
        Endpoint: { 'Fn::GetAtt': [logicalId(queue), 'Arn'] },
      });
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Principal: { Service: 'sns.amazonaws.com' }, Action: 'sqs:SendMessage', Condition: { ArnEquals: { 'aws:SourceArn': { Ref: logicalId(stack.alerting.topic) } } } }),
          ]),
        },
      });
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: { 'Fn::GetAtt': [logicalId(queue), 'Arn'] },
        FunctionName: { Ref: logicalId(stack.alerting.alertFunction.function) },
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        // The health alerts of a batch share a post per destination: a whole group's worth, gathered for 5 s.
        BatchSize: 25,
        MaximumBatchingWindowInSeconds: 5,
        ScalingConfig: { MaximumConcurrency: 2 },
      });
      // 30 tries span 24 hours (a minute doubling to an hour), then the dead-letter queue for 14 days.
      template.hasResourceProperties('AWS::SQS::Queue', {
        RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [logicalId(deadLetterQueue), 'Arn'] }, maxReceiveCount: 30 },
        VisibilityTimeout: 360,
        SqsManagedSseEnabled: true,
      });
      template.hasResourceProperties('AWS::SQS::Queue', { MessageRetentionPeriod: 1_209_600, SqsManagedSseEnabled: true });
      expect(resources[logicalId(stack.alerting.alertFunction.function)]!.Properties.Environment.Variables.ALERT_QUEUE_URL).toEqual({ Ref: logicalId(queue) });
    });

    it("alarms as soon as an alert is dead-lettered", () => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Namespace: 'AWS/SQS',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(stack.alerting.delivery.deadLetterQueue), 'QueueName'] } }],
        Threshold: 1,
        AlarmActions: [{ Ref: logicalId(stack.alerting.topic) }, { Ref: logicalId(stack.monitoring.alarmEmailTopic) }],
      });
    });

    it('alarms when an alert has waited an hour in the queue (a channel down), long before it is dead-lettered', () => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: 'MailHealthStack-alerts-waiting',
        MetricName: 'ApproximateAgeOfOldestMessage',
        Namespace: 'AWS/SQS',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(stack.alerting.delivery.queue), 'QueueName'] } }],
        Threshold: 3600,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        AlarmActions: [{ Ref: logicalId(stack.alerting.topic) }, { Ref: logicalId(stack.monitoring.alarmEmailTopic) }],
      });
    });
  });

  describe('alarms', () => {
    it("watches no target: the health state machine and the sweeper speak for them", () => {
      // Assess
      const alarms = Object.values(resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm');
      expect(alarms.filter((a) => a.Properties.MetricName === 'CanarySuccess' || JSON.stringify(a.Properties).includes('"Target"'))).toEqual([]);
    });

    it("alarms when the sweeper was not invoked in two periods of twice its interval, treating missing data as breaching", () => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: 'MailHealthStack-sweeper-not-running',
        Namespace: 'AWS/Lambda',
        MetricName: 'Invocations',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId(stack.sweeper.sweeperFunction.function) } }],
        Statistic: 'Sum',
        Period: 600,
        EvaluationPeriods: 2,
        DatapointsToAlarm: 2,
        ComparisonOperator: 'LessThanThreshold',
        Threshold: 1,
        TreatMissingData: 'breaching',
      });
    });

    it("never fires for a sweeper on schedule whose invocations land up to a minute late, whatever their phase, and fires within three periods once it stops", () => {
      // Prepare: the alarm as synthesized, the sweeper's rate from its schedule.
      const alarm = Object.values(resources).find((r) => r.Type === 'AWS::CloudWatch::Alarm' && r.Properties.AlarmName === 'MailHealthStack-sweeper-not-running')!.Properties as AlarmProperties;
      const schedule = resources[logicalId(stack.sweeper.schedule)]!.Properties;
      const interval = 60 * Number(/^rate\((\d+) minutes?\)$/.exec(schedule.ScheduleExpression as string)![1]);
      expect(schedule.FlexibleTimeWindow).toEqual({ Mode: 'OFF' });
      const horizon = 2 * 86_400;
      const late = 60;
      // Late by 0 and by a minute in turn (the worst case for counts per period), and at random.
      const patterns: ((k: number) => number)[] = [(k) => (k % 2) * late, (k) => ((k + 1) % 2) * late, ...[1, 2, 3].map((seed) => (k: number) => Math.floor(Math.abs(Math.sin(seed * 7919 + k * 104_729)) * late))];
      // Act
      const falseAlarms: string[] = [];
      const slowest: number[] = [];
      for (let phase = 0; phase < interval; phase += 5) {
        for (const [p, delay] of patterns.entries()) {
          const running = Array.from({ length: Math.floor((horizon - phase) / interval) }, (_, k) => phase + k * interval + delay(k));
          const firing = alarmFirings(alarm, running, horizon);
          if (firing.length > 0) falseAlarms.push(`phase ${phase} s, pattern ${p}: fires at ${firing[0]} s`);
          const stoppedAt = horizon / 2;
          const stopped = running.filter((t) => t < stoppedAt);
          const first = alarmFirings(alarm, stopped, horizon).find((t) => t > stoppedAt);
          slowest.push(first === undefined ? Infinity : first - stopped.at(-1)!);
        }
      }
      // Assess
      expect(falseAlarms).toEqual([]);
      expect(Math.max(...slowest)).toBeLessThanOrEqual(3 * alarm.Period);
    });

    it("alarms on a bounce spike with one Metrics Insights query over every failure reason", () => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: 'MailHealthStack-bounce-spike',
        Metrics: [
          Match.objectLike({
            Expression: `SELECT SUM(Bounces) FROM SCHEMA("MailHealth", Reason, service) WHERE Reason != 'delivered' AND Reason != 'vacation' AND Reason != 'feedback'`,
            Period: 3600,
            ReturnData: true,
          }),
        ],
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        Threshold: 5,
        TreatMissingData: 'notBreaching',
      });
    });

    it("alarms on errors of each function", () => {
      for (const label of ['canary', 'bounce', 'alert', 'sweeper']) {
        template.hasResourceProperties('AWS::CloudWatch::Alarm', {
          AlarmName: `MailHealthStack-${label}-errors`,
          Namespace: 'AWS/Lambda',
          MetricName: 'Errors',
          Statistic: 'Sum',
          Threshold: 1,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
          TreatMissingData: 'notBreaching',
        });
      }
    });

    it('alarms on a throttle of one Lambda alone, in a period where the other has no datapoint', () => {
      // Prepare
      const alarm = Object.values(resources).find((r) => r.Type === 'AWS::CloudWatch::Alarm' && r.Properties.AlarmName === 'MailHealthStack-throttles')!;
      const metrics = alarm.Properties.Metrics as { Id: string; Expression?: string; ReturnData?: boolean }[];
      const expression = metrics.find((m) => m.ReturnData !== false && m.Expression)!.Expression!;
      const ids = metrics.filter((m) => !m.Expression).map((m) => m.Id);
      // Act: one period in which each function in turn has 1 throttle and the other no datapoint.
      const values = ids.map((id) => sumWithMissing(expression, { [id]: 1 }));
      // Assess
      expect(ids).toHaveLength(2);
      expect(values).toEqual([1, 1]);
      expect(sumWithMissing(expression, { [ids[0]!]: 2, [ids[1]!]: 3 })).toBe(5);
    });

    it('alarms with one metric-math alarm when the bounce or alert Lambda is throttled', () => {
      // Prepare
      const alarm = Object.values(resources).find((r) => r.Type === 'AWS::CloudWatch::Alarm' && r.Properties.AlarmName === 'MailHealthStack-throttles')!;
      const metrics = alarm.Properties.Metrics as { Id: string; Expression?: string; MetricStat?: { Metric: { MetricName: string; Dimensions: { Value: unknown }[] } } }[];
      // Act
      const watched = metrics.filter((m) => m.MetricStat).map((m) => m.MetricStat!.Metric.Dimensions[0]!.Value);
      // Assess
      expect(metrics.find((m) => m.Expression)?.Expression).toBe('FILL(t0, 0) + FILL(t1, 0)');
      expect(metrics.filter((m) => m.MetricStat).every((m) => m.MetricStat!.Metric.MetricName === 'Throttles')).toBe(true);
      expect(watched).toEqual([{ Ref: logicalId(stack.bounceIntake.bounceFunction.function) }, { Ref: logicalId(stack.alerting.alertFunction.function) }]);
      expect(alarm.Properties).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', TreatMissingData: 'notBreaching' });
    });

    it("sends every alarm to the alert topic and to a topic of their own emailed without the alert Lambda, and the sweeper alarm's recovery too", () => {
      // Prepare
      const alarms = Object.values(resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm');
      const topic = { Ref: logicalId(stack.alerting.topic) };
      const own = { Ref: logicalId(stack.monitoring.alarmEmailTopic) };
      const subscriptionsOf = (t: { Ref: string }) => Object.values(resources).filter((r) => r.Type === 'AWS::SNS::Subscription' && JSON.stringify(r.Properties.TopicArn) === JSON.stringify(t));
      // Assess
      // The sweeper's, the bounce spike, one per function's errors, the throttles, the alert dead letters, alerts waiting.
      expect(alarms).toHaveLength(1 + 1 + 4 + 1 + 1 + 1);
      for (const alarm of alarms) expect(alarm.Properties.AlarmActions).toEqual([topic, own]);
      const withOk = alarms.filter((a) => a.Properties.OKActions);
      expect(withOk.map((a) => a.Properties.AlarmName).sort()).toEqual(['MailHealthStack-alerts-waiting', 'MailHealthStack-sweeper-not-running']);
      for (const alarm of withOk) expect(alarm.Properties.OKActions).toEqual([topic, own]);
      // The second path: SNS emails the alarm itself to alerts.email.to (the default of alerts.alarmEmails); no Lambda on it.
      expect(subscriptionsOf(own).map((s) => [s.Properties.Protocol, s.Properties.Endpoint])).toEqual([['email', 'owner@example.jp']]);
      expect(subscriptionsOf(topic).map((s) => s.Properties.Protocol)).toEqual(['sqs']);
    });

    it("encrypts the alarms' own topic, enforces TLS on it and lets only this account's alarms publish", () => {
      // Prepare
      const ownId = logicalId(stack.monitoring.alarmEmailTopic);
      const policy = Object.values(resources).find((r) => r.Type === 'AWS::SNS::TopicPolicy' && JSON.stringify(r.Properties.Topics) === JSON.stringify([{ Ref: ownId }]))!;
      const statements = policy.Properties.PolicyDocument.Statement as Record<string, any>[];
      // Assess
      expect(resources[ownId]!.Properties.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [logicalId(stack.alerting.key), 'Arn'] });
      expect(statements).toContainEqual(expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));
      const publish = statements.filter((st) => st.Effect === 'Allow');
      expect(publish).toHaveLength(1);
      expect(publish[0]).toMatchObject({ Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: 'sns:Publish', Resource: { Ref: ownId } });
      expect(publish[0]!.Condition.StringEquals).toEqual({ 'aws:SourceAccount': { Ref: 'AWS::AccountId' } });
      expect(joinToString(publish[0]!.Condition.ArnLike['aws:SourceArn'])).toBe('arn:REF(AWS::Partition):cloudwatch:REF(AWS::Region):REF(AWS::AccountId):alarm:*');
    });
  });

  describe('dashboard', () => {
    it("shows the fleet, success per target, step latency, certificate days, bounces, round trips, alarm states and the latest findings", () => {
      // Prepare
      const [, dashboard] = only('AWS::CloudWatch::Dashboard');
      // Act
      const body = JSON.parse(joinToString(dashboard.Properties.DashboardBody)) as { widgets: { type: string; properties: Record<string, any> }[] };
      const titled = (title: string) => body.widgets.find((w) => w.properties.title === title);
      const source = (fn: { logGroup: unknown }) => `SOURCE 'REF(${logicalId(fn.logGroup as never)})'`;
      // Assess
      expect(body.widgets.filter((w) => w.properties.title).map((w) => w.properties.title)).toEqual([
        'Targets by state (sweeper)',
        'Failing now (latest round critical)',
        'Worst 20 targets: canary success',
        'Canary success per target',
        'Alarms',
        'SMTP step latency, all targets (ms)',
        'Slowest 20 targets: SMTP session (ms)',
        'TLS certificates expiring first (days left)',
        'Bounces by reason',
        'Slowest round trips (s)',
        'Mail authentication findings by target (SPF, DKIM, DMARC, reverse DNS, blocklists)',
        'Delivered canaries: SPF, DKIM, DMARC as SES saw them',
        'DMARC and TLS report findings (DMARC_REPORT_FAIL, DMARC_REPORT_UNKNOWN_SOURCE, TLSRPT_FAILURE)',
        'DMARC pass rate per domain and day',
        'Latest findings',
      ]);
      // DMARC and TLS reports from the bounce Lambda's 'dmarc report' lines (lib/dmarc-widgets.ts).
      const reports = titled('DMARC and TLS report findings (DMARC_REPORT_FAIL, DMARC_REPORT_UNKNOWN_SOURCE, TLSRPT_FAILURE)');
      expect(reports?.properties.query).toContain(source(stack.bounceIntake.bounceFunction));
      expect(reports?.properties.query).toContain("filter message = 'dmarc report' and status != 'ok'");
      expect(titled('DMARC pass rate per domain and day')?.properties.query).toContain('stats sum(messages) as messages, sum(passed) as passed, count(*) as reports by domain, day');
      // Authentication findings per target from the finding log lines: no metric per target and code.
      const auth = titled('Mail authentication findings by target (SPF, DKIM, DMARC, reverse DNS, blocklists)');
      expect(auth?.properties.query).toContain("filter finding.code in ['SPF_MISSING'");
      expect(auth?.properties.query).toContain('stats count(*) as rounds, latest(@timestamp) as last by target, finding.code');
      expect(JSON.stringify(titled('Canary success per target')?.properties.metrics)).toContain(`SEARCH('{MailHealth,Target,service} MetricName=\\"CanarySuccess\\"', 'Average', 300)`);
      expect(JSON.stringify(titled('Worst 20 targets: canary success')?.properties.metrics)).toContain(
        'SELECT AVG(CanarySuccess) FROM SCHEMA(\\"MailHealth\\", Target, service) GROUP BY Target ORDER BY AVG() ASC LIMIT 20',
      );
      const fleet = titled('Targets by state (sweeper)');
      expect(fleet?.properties.query).toContain(source(stack.sweeper.sweeperFunction));
      expect(fleet?.properties.query).toContain("filter message = 'sweep'");
      // Per-step timings come from the canary's round log line (a metric per step would be billed per step).
      const steps = titled('SMTP step latency, all targets (ms)');
      expect(steps?.properties.view).toBe('timeSeries');
      expect(steps?.properties.stacked).toBe(true);
      expect(steps?.properties.query).toContain(source(stack.canary.canaryFunction));
      expect(steps?.properties.query).toContain('avg(stepMs.connect) as connect, avg(stepMs.greeting) as greeting');
      expect(steps?.properties.query).toContain('avg(stepMs.quit) as quit by bin(5m)');
      expect(titled('TLS certificates expiring first (days left)')?.properties.query).toContain('stats min(tls.certDaysLeft) as daysLeft by target');
      expect(titled('Slowest round trips (s)')?.properties.query).toContain(source(stack.bounceIntake.bounceFunction));
      expect(JSON.stringify(titled('Bounces by reason')?.properties.metrics)).toContain(`SEARCH('{MailHealth,Reason,service} MetricName=\\"Bounces\\"', 'Sum', 3600)`);
      expect(titled('Alarms')?.type).toBe('alarm');
      expect(titled('Alarms')?.properties.alarms).toHaveLength(7);
      const findings = titled('Latest findings');
      expect(findings?.type).toBe('log');
      expect(findings?.properties.view).toBe('table');
      expect(findings?.properties.query).toContain(source(stack.canary.canaryFunction));
      expect(findings?.properties.query).toContain('fields @timestamp, target, finding.code, finding.severity, message');
    });

    it("gives the header text room for its heading and paragraph on a laptop screen", () => {
      // Prepare
      const [, dashboard] = only('AWS::CloudWatch::Dashboard');
      const body = JSON.parse(joinToString(dashboard.Properties.DashboardBody)) as { widgets: { type: string; width: number; height: number; properties: Record<string, any> }[] };
      // Act
      const header = body.widgets[0]!;
      const blocks = (header.properties.markdown as string).split('\n\n');
      const headings = blocks.filter((b) => b.startsWith('#')).length;
      const text = blocks.filter((b) => !b.startsWith('#')).join(' ').length;
      // Assess: a unit per heading, and a unit per two lines of at most 96 characters at full width.
      expect(header.type).toBe('text');
      expect(header.width).toBe(24);
      expect(header.height).toBeGreaterThanOrEqual(headings + Math.ceil(text / (2 * 96)));
    });

    it("shows a column for each verdict its delivered-canary table names: SPF, DKIM (the first signature of the list) and DMARC", () => {
      // Prepare
      const [, dashboard] = only('AWS::CloudWatch::Dashboard');
      const body = JSON.parse(joinToString(dashboard.Properties.DashboardBody)) as { widgets: { properties: Record<string, any> }[] };
      const table = body.widgets.find((w) => w.properties.title === 'Delivered canaries: SPF, DKIM, DMARC as SES saw them')!;
      // Act
      const fields = /\| fields (.*)/.exec(table.properties.query as string)![1]!.split(/,\s*(?![^(]*\))/).map((f) => f.trim());
      const columns = fields.map((f) => / as (\w+)$/.exec(f)?.[1] ?? f);
      // Assess
      expect(columns).toEqual(['@timestamp', 'target', 'spf', 'dkim', 'dmarc', 'canaryId']);
      expect(fields).toContain("coalesce(dkim.0, 'none') as dkim");
      // The query test/integration/handler-bounce.test.ts runs against the bounce Lambda's log lines.
      expect(table.properties.query.endsWith(`| ${DELIVERED_CANARIES_QUERY.join('\n| ')}`)).toBe(true);
    });
  });

  describe('snapshot', () => {
    it("matches the stored template, asset hashes aside", () => {
      // Act: asset hashes change with every handler edit; the infrastructure must not.
      const stable = JSON.stringify(template.toJSON(), null, 1)
        .replace(/[0-9a-f]{64}(\.zip)?/g, '<asset-hash>')
        .replace(/"aws:asset:path": "[^"]*"/g, '"aws:asset:path": "<asset-path>"');
      // Assess
      expect(JSON.parse(stable)).toMatchSnapshot();
    });
  });
});
