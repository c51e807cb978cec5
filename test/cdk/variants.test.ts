import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, type Config, type TargetConfig } from '#core/config.ts';
import { ConfigError } from '#core/errors.ts';
import { canaryTimeout } from '../../lib/canary.ts';
import { MailFunction, PROJECT_ROOT } from '../../lib/mail-function.ts';
import { deployedConfig, MailHealthStack, rateInterval } from '../../lib/mail-health-stack.ts';
import { Monitoring } from '../../lib/monitoring.ts';
import { appContext, asList, exampleConfig, iamStatements, joinToString, synthStack } from './helpers.ts';

type Resources = Record<string, { Type: string; Properties: Record<string, any>; DependsOn?: string[]; Metadata?: Record<string, unknown> }>;

let example: Config;
let scratch: string;

function withTarget(patch: Partial<TargetConfig>, base: Config = example): Config {
  return { ...base, targets: [{ ...base.targets[0]!, ...patch }] };
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected an exception');
}

beforeAll(async () => {
  example = await exampleConfig();
  scratch = mkdtempSync(join(tmpdir(), 'mail-health-cdk-'));
});

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

describe('MailHealthStack variants', { timeout: 120_000 }, () => {
  it('activates the rule set through a custom resource when activateRuleSet is on', () => {
    // Act
    const { stack, template } = synthStack(example, { activateRuleSet: true });
    const resources = template.toJSON().Resources as Resources;
    // Assess
    const [, custom] = Object.entries(resources).find(([, r]) => r.Type === 'Custom::SesActiveReceiptRuleSet')!;
    expect(custom.Properties.RuleSetName).toBe('MailHealthStack-bounce-intake');
    expect(custom.DependsOn).toContain(stack.getLogicalId(stack.bounceIntake.rule.node.defaultChild as never));
    const activatorRole = stack.getLogicalId(stack.bounceIntake.ruleSetActivation!.handler.role.node.defaultChild as never);
    const ses = iamStatements(template).filter(
      (s) => JSON.stringify(resources[s.resource]!.Properties.Roles).includes(activatorRole) && asList(s.statement.Action as string[]).some((a) => a.startsWith('ses:')),
    );
    expect(ses.map((s) => [s.statement.Action, s.statement.Resource])).toEqual([[['ses:DescribeActiveReceiptRuleSet', 'ses:SetActiveReceiptRuleSet'], '*']]);
    template.hasResourceProperties('AWS::Lambda::Function', { Runtime: 'nodejs24.x', Architectures: ['arm64'], Description: Match.stringLikeRegexp('activates the bounce receipt rule set') });
  });

  it('bundles the rule set activator minified, importing the AWS SDK from the runtime', () => {
    // Act
    const { app, stack, template } = synthStack(example, { activateRuleSet: true }, { bundling: true });
    // Assess
    const fn = (template.toJSON().Resources as Resources)[stack.getLogicalId(stack.bounceIntake.ruleSetActivation!.handler.function.node.defaultChild as never)]!;
    const bundleDir = join(app.outdir, String(fn.Metadata?.['aws:asset:path']));
    const code = readFileSync(join(bundleDir, 'index.mjs'), 'utf8');
    const map = JSON.parse(readFileSync(join(bundleDir, 'index.mjs.map'), 'utf8')) as { sources: string[]; sourcesContent?: unknown };
    expect(code).toMatch(/from"@aws-sdk\/client-ses"/);
    expect(code.split('\n').length).toBeLessThan(10);
    expect(map.sources.some((s) => s.includes('functions/ses-rule-set/index.ts'))).toBe(true);
    expect(map.sources.filter((s) => s.includes('@aws-sdk'))).toEqual([]);
    expect(map.sourcesContent).toBeUndefined();
  });

  it('creates an empty Slack secret for the operator to fill when alerts.slack names none', () => {
    // Prepare
    const config: Config = { ...example, alerts: { ...example.alerts, slack: { webhookUrlEnv: 'SLACK_WEBHOOK_URL' } } };
    // Act
    const { stack, template } = synthStack(config);
    // Assess
    const secrets = template.findResources('AWS::SecretsManager::Secret');
    expect(Object.keys(secrets)).toHaveLength(1);
    const [secretId, secret] = Object.entries(secrets)[0]!;
    expect(secret.Properties.GenerateSecretString).toBeUndefined();
    expect(secret.Properties.SecretString).toBeUndefined();
    template.hasOutput('SlackWebhookSecretArn', { Value: { Ref: secretId } });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ SLACK_SECRET_ID: { Ref: secretId } }) },
    });
    const deployed = JSON.parse(readFileSync(stack.configFile, 'utf8')) as Config;
    expect(deployed.alerts.slack).toEqual({});
  });

  it('gives every target its schedule, no alarm of its own, and reads a secret two targets share once', () => {
    // Prepare
    const second: TargetConfig = { ...example.targets[0]!, name: 'clinic', host: 'mail.example.com' };
    const config: Config = { ...example, targets: [example.targets[0]!, second] };
    // Act
    const { template } = synthStack(config);
    // Assess
    // One per target, and the sweeper's.
    template.resourceCountIs('AWS::Scheduler::Schedule', 3);
    template.hasResourceProperties('AWS::Scheduler::Schedule', { Target: Match.objectLike({ Input: '{"targets":["clinic"],"scheduledTime":"<aws.scheduler.scheduled-time>"}' }) });
    expect(JSON.stringify(template.findResources('AWS::CloudWatch::Alarm'))).not.toContain('clinic');
    const secretStatements = iamStatements(template).filter((s) => asList(s.statement.Action as string[]).includes('secretsmanager:GetSecretValue'));
    // canary (one shared SMTP secret) + alert (Slack)
    expect(secretStatements).toHaveLength(2);
  });

  it("copies a target's private CA into the canary bundle and points the config at it", () => {
    // Prepare
    const caFile = join(scratch, "private ca's.pem");
    writeFileSync(caFile, '-----BEGIN CERTIFICATE-----\nnot a real certificate, only copied\n-----END CERTIFICATE-----\n');
    // Act: with bundling, as the copy is a bundling step
    const { app, stack, template } = synthStack(withTarget({ ca: caFile }), {}, { bundling: true });
    // Assess
    const fn = (template.toJSON().Resources as Resources)[stack.getLogicalId(stack.canary.canaryFunction.function.node.defaultChild as never)]!;
    const bundleDir = join(app.outdir, String(fn.Metadata?.['aws:asset:path']));
    expect(readFileSync(join(bundleDir, 'ca', 'shop.pem'), 'utf8')).toBe(readFileSync(caFile, 'utf8'));
    expect((JSON.parse(readFileSync(join(bundleDir, 'mailhealth.config.json'), 'utf8')) as Config).targets[0]!.ca).toBe('ca/shop.pem');
  });

  it('takes the round interval from canaryInterval with a cron schedule', () => {
    // Act
    const { template } = synthStack({ ...example, schedule: 'cron(0/10 * * * ? *)' }, { canaryInterval: Duration.minutes(10) });
    // Assess
    template.hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: 'cron(0/10 * * * ? *)', FlexibleTimeWindow: { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 9 } });
    template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ ROUND_INTERVAL_SECONDS: '600' }) } });
    template.hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: 'rate(10 minutes)' });
  });

  it('refuses a cron schedule without canaryInterval, naming the field', () => {
    // Act
    const err = thrown(() => synthStack({ ...example, schedule: 'cron(0 * * * ? *)' }));
    // Assess
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).field).toBe('schedule');
    expect((err as Error).message).toMatch(/canaryIntervalMinutes/);
  });

  it('refuses a target with auth but no secretName, naming the field', () => {
    // Prepare
    const config = withTarget({ auth: { user: 'shop@example.jp', passwordEnv: 'SHOP_SMTP_PASSWORD' } });
    // Act
    const err = thrown(() => synthStack(config));
    // Assess
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toMatch(/^targets\[0\]\.auth\.secretName: required for the AWS deployment/);
  });

  it('refuses timeouts a Lambda round cannot fit in 15 minutes, naming the target', () => {
    // Prepare
    const target = { ...example.targets[0]!, timeouts: { connectMs: 10_000, stepMs: 120_000, probeMs: 3_000 } };
    // Act
    const err = thrown(() => canaryTimeout([target]));
    // Assess
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).field).toBe('targets[0].timeouts');
  });

  it('emails the alarms to alerts.alarmEmails when given, besides the alert topic', () => {
    // Prepare
    const config: Config = { ...example, alerts: { ...example.alerts, alarmEmails: ['ops@example.jp', 'night@example.jp'] } };
    // Act
    const { stack, template } = synthStack(config);
    // Assess
    const own = stack.getLogicalId(stack.monitoring.alarmEmailTopic!.node.defaultChild as never);
    const subscriptions = Object.values(template.findResources('AWS::SNS::Subscription', { Properties: { TopicArn: { Ref: own } } }));
    expect(subscriptions.map((r) => [r.Properties.Protocol, r.Properties.Endpoint])).toEqual([
      ['email', 'ops@example.jp'],
      ['email', 'night@example.jp'],
    ]);
    for (const alarm of Object.values(template.findResources('AWS::CloudWatch::Alarm'))) expect(alarm.Properties.AlarmActions).toContainEqual({ Ref: own });
  });

  it.each([
    ['alerts.alarmEmails is empty', (c: Config): Config => ({ ...c, alerts: { ...c.alerts, alarmEmails: [] } })],
    ['there is no alerts.email either', (c: Config): Config => ({ ...c, alerts: { ...c.alerts, email: undefined } })],
  ])('leaves the alarms to the alert topic alone, with a synth warning, when %s', (_case, patch) => {
    // Act
    const { stack, template } = synthStack(patch(example));
    // Assess
    expect(stack.monitoring.alarmEmailTopic).toBeUndefined();
    template.resourceCountIs('AWS::SNS::Topic', 1);
    for (const alarm of Object.values(template.findResources('AWS::CloudWatch::Alarm'))) expect(alarm.Properties.AlarmActions).toHaveLength(1);
    const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('alarms reach only the alert Lambda'));
    expect(warnings).toHaveLength(1);
  });

  it("keeps raw mail for the config's retention.rawMailDays", () => {
    // Act
    const { template } = synthStack({ ...example, retention: { ...example.retention, rawMailDays: 9 } });
    // Assess
    template.hasResourceProperties('AWS::S3::Bucket', { LifecycleConfiguration: { Rules: [Match.objectLike({ ExpirationInDays: 9 })] } });
  });

  it('deploys a config far larger than a Lambda environment holds', () => {
    // Prepare: 20 targets × ~400 bytes, beyond the 4 KB a Lambda environment holds
    const targets = Array.from({ length: 20 }, (_, i) => ({ ...example.targets[0]!, name: `target-${i}` }));
    // Act
    const { stack } = synthStack({ ...example, targets });
    // Assess
    const deployed = readFileSync(stack.configFile, 'utf8');
    expect(deployed.length).toBeGreaterThan(4096);
    expect((JSON.parse(deployed) as Config).targets).toHaveLength(20);
  });
});

describe('deployedConfig', () => {
  it('drops inline passwords, password variables, the Slack variable and the local section', () => {
    // Prepare
    const config = parseConfig({
      bounceDomain: 'bounces.example.jp',
      targets: [{ name: 'a', host: 'smtp.example.jp', from: 'a@example.jp', to: ['c@bounces.example.jp'], auth: { user: 'u', password: 'hunter2', passwordEnv: 'P', secretName: 's' } }],
      alerts: { slack: { webhookUrlEnv: 'W', secretName: 'w' } },
      local: { bounceDir: 'x' },
    });
    // Act
    const json = JSON.stringify(deployedConfig(config));
    // Assess
    expect(json).not.toMatch(/hunter2|passwordEnv|webhookUrlEnv|bounceDir/);
    expect(parseConfig(JSON.parse(json))).toEqual(JSON.parse(json));
  });
});

describe('rateInterval', () => {
  it('reads minutes, hours and days from rate() and nothing from cron()', () => {
    expect(rateInterval('rate(1 minute)')?.toSeconds()).toBe(60);
    expect(rateInterval('rate(5 minutes)')?.toSeconds()).toBe(300);
    expect(rateInterval('rate(2 hours)')?.toSeconds()).toBe(7200);
    expect(rateInterval('rate(1 day)')?.toSeconds()).toBe(86_400);
    expect(rateInterval('cron(0 * * * ? *)')).toBeUndefined();
  });
});

describe('MailFunction', () => {
  it('bundles the AWS SDK into the function when bundleAwsSdk is on', () => {
    // Prepare
    const app = new App({ context: { 'aws:cdk:enable-asset-metadata': true } });
    const stack = new Stack(app, 'S');
    const fn = new MailFunction(stack, 'F', { entry: 'functions/ses-rule-set/index.ts', bundleAwsSdk: true });
    // Act
    const resource = Template.fromStack(stack).toJSON().Resources[stack.getLogicalId(fn.function.node.defaultChild as never)];
    const bundleDir = join(app.outdir, String(resource.Metadata['aws:asset:path']));
    // Assess
    expect(readFileSync(join(bundleDir, 'index.mjs'), 'utf8')).not.toMatch(/from"@aws-sdk\/client-ses"/);
    expect((JSON.parse(readFileSync(join(bundleDir, 'index.mjs.map'), 'utf8')) as { sources: string[] }).sources.some((s) => s.includes('@aws-sdk/client-ses'))).toBe(true);
  });

  it("refuses a timeout above Lambda's 15 minutes", () => {
    // Prepare
    const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'S');
    // Act
    const err = thrown(() => new MailFunction(stack, 'F', { entry: 'functions/alert/index.ts', timeout: Duration.minutes(16) }));
    // Assess
    expect((err as Error).message).toBe("MailFunction F: timeout 960 s exceeds Lambda's limit of 900 s");
  });

  it('refuses an entry that does not exist and an extra file escaping the bundle', () => {
    // Prepare
    const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'S');
    // Act
    const missing = thrown(() => new MailFunction(stack, 'A', { entry: 'functions/nope/index.ts' }));
    const escaping = thrown(() => new MailFunction(stack, 'B', { entry: 'functions/alert/index.ts', extraFiles: { '../x.pem': join(PROJECT_ROOT, 'package.json') } }));
    // Assess
    expect((missing as Error).message).toMatch(/^MailFunction A: entry .*functions\/nope\/index\.ts does not exist$/);
    expect((escaping as Error).message).toBe('MailFunction B: extra file ../x.pem must be a relative path inside the bundle');
  });
});

describe('Monitoring', () => {
  it('refuses an interval that is no whole number of minutes', () => {
    // Prepare
    const { stack } = synthStack(example);
    // Act
    const err = thrown(
      () =>
        new Monitoring(stack, 'Other', {
          targetCount: 1,
          interval: Duration.seconds(90),
          roundTripInterval: Duration.hours(1),
          alarmTopic: stack.alerting.topic,
          functions: {},
          sweeper: { function: stack.sweeper.sweeperFunction.function, interval: Duration.minutes(5), logGroup: stack.sweeper.sweeperFunction.logGroup },
          findingsLogGroups: [],
          canaryLogGroup: stack.canary.canaryFunction.logGroup,
          bounceLogGroup: stack.bounceIntake.bounceFunction.logGroup,
        }),
    );
    // Assess
    expect((err as Error).message).toMatch(/^Monitoring: interval 90 s must be whole minutes/);
  });
});

describe('Monitoring: the per-target success graph', () => {
  const graphs = new Map<number, { title: string; expressions: string[] }>();

  beforeAll(() => {
    // Prepare: one stack, a Monitoring per fleet size around the limits.
    const app = new App({ context: appContext({ bundling: false }) });
    const stack = new MailHealthStack(app, 'MailHealthStack', { config: example });
    const sizes = [400, 401, 501];
    // A stack each: alarm names are unique per stack.
    const built = sizes.map(
      (targetCount) =>
        new Monitoring(new Stack(app, `Fleet${targetCount}`), 'Monitoring', {
          targetCount,
          interval: Duration.minutes(5),
          roundTripInterval: Duration.hours(1),
          alarmTopic: stack.alerting.topic,
          functions: {},
          sweeper: { function: stack.sweeper.sweeperFunction.function, interval: Duration.minutes(5), logGroup: stack.sweeper.sweeperFunction.logGroup },
          findingsLogGroups: [stack.canary.canaryFunction.logGroup],
          canaryLogGroup: stack.canary.canaryFunction.logGroup,
          bounceLogGroup: stack.bounceIntake.bounceFunction.logGroup,
          dashboardName: `fleet-${targetCount}`,
        }),
    );
    // Act
    built.forEach((monitoring, i) => {
      const fleet = Stack.of(monitoring);
      const resource = (Template.fromStack(fleet).toJSON().Resources as Resources)[fleet.getLogicalId(monitoring.dashboard.node.defaultChild as never)]!;
      // References into MailHealthStack (log group names) are no part of the graph: any text will do.
      const flat = (v: unknown): string => (typeof v === 'string' ? v : Array.isArray((v as any)['Fn::Join']) ? ((v as any)['Fn::Join'][1] as unknown[]).map(flat).join('') : 'REF');
      const body = JSON.parse(flat(resource.Properties.DashboardBody)) as { widgets: { type: string; properties: { title?: string; metrics?: unknown[] } }[] };
      const graph = body.widgets.find((w) => w.type === 'metric' && (w.properties.title ?? '').startsWith('Canary success'))!;
      graphs.set(sizes[i]!, { title: graph.properties.title!, expressions: (graph.properties.metrics as [{ expression: string }][]).map((m) => m[0].expression) });
    });
  }, 120_000);
  const successGraph = (targetCount: number) => graphs.get(targetCount)!;

  it('draws every target with one SEARCH while they fit a graph with room for removed ones', () => {
    const { title, expressions } = successGraph(400);
    expect(title).toBe('Canary success per target');
    expect(expressions).toEqual([`SEARCH('{MailHealth,Target,service} MetricName="CanarySuccess"', 'Average', 300)`]);
  });

  it('draws every target from Metrics Insights, and says it covers recent hours, once SEARCH could pass the cap', () => {
    const { title, expressions } = successGraph(401);
    expect(title).toBe('Canary success per target (last 3 hours)');
    expect(expressions).toEqual(['SELECT AVG(CanarySuccess) FROM SCHEMA("MailHealth", Target, service) GROUP BY Target ORDER BY AVG() ASC LIMIT 500']);
  });

  it('draws the worst 500 beyond 500 targets and says so in its title', () => {
    const { title, expressions } = successGraph(501);
    expect(title).toBe('Canary success: the worst 500 of 501 targets (a graph holds 500; last 3 hours)');
    expect(expressions).toEqual(['SELECT AVG(CanarySuccess) FROM SCHEMA("MailHealth", Target, service) GROUP BY Target ORDER BY AVG() ASC LIMIT 500']);
    expect(expressions.join(' ')).not.toContain('SEARCH(');
  });
});

describe('cdk.json', () => {
  it('runs the app with tsx and defaults the config file', () => {
    // Act
    const cdkJson = JSON.parse(readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as { app: string; context: Record<string, unknown> };
    // Assess
    expect(cdkJson.app).toBe('npx tsx bin/mail-health.ts');
    expect(cdkJson.context.config).toBe('mailhealth.config.json');
    expect(existsSync(join(PROJECT_ROOT, 'bin', 'mail-health.ts'))).toBe(true);
  });
});

