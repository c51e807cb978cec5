/**
 * Every AWS call each function's code makes is allowed, by an IAM policy simulator, against its
 * role's policies and the resource's own policy, with the ARNs of the synthesized template, for
 * secrets given by name, by full ARN and by a shared name prefix; every service grant (SES →
 * S3 and the bounce Lambda, SNS → SQS, Scheduler → Lambda, CloudWatch alarms → the encrypted
 * topic and its key) too; and a role is granted nothing its code does not call. The calls come
 * from the code: each function's bundle (as esbuild builds it) includes modules that declare
 * the commands they send (AWS_CALLS), and a module sending a command it does not declare fails.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, type Config, type ConfigInput } from '#core/config.ts';
import { QUEUE_CONSUMER_ACTIONS } from '../../lib/alert-delivery.ts';
import { PROJECT_ROOT } from '../../lib/mail-function.ts';
import type { MailHealthStack } from '../../lib/mail-health-stack.ts';
import { ACCOUNT, actionsCalledBy, declaredCalls, evaluate, REGION, resolve, resourcePolicyOf, rolePolicies, sentCommands, type Resources } from '../helpers/iam-simulation.ts';
import { synthStack } from './helpers.ts';

const secretArn = (name: string) => `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${name}-Xy12Zq`;
/** What the Lambda runtime writes with the function's role. */
const RUNTIME_ACTIONS = ['logs:CreateLogStream', 'logs:PutLogEvents'];

function configOf(secrets: { smtp: (i: number) => string; slack: string; routeSlack: string }, targets = 2): Config {
  const input: ConfigInput = {
    language: 'ja',
    bounceDomain: 'bounces.example.jp',
    targets: Array.from({ length: targets }, (_, i) => ({
      name: `t${i}`,
      host: 'smtp.example.jp',
      auth: { user: `t${i}@example.jp`, secretName: secrets.smtp(i) },
      from: `t${i}@example.jp`,
      to: ['canary@bounces.example.jp'],
      ...(i === 1 ? { route: 'clinic' } : {}),
    })),
    alerts: {
      slack: { secretName: secrets.slack },
      email: { from: 'monitor@example.jp', to: ['owner@example.jp'] },
      routes: [{ name: 'clinic', slack: { secretName: secrets.routeSlack }, email: { to: ['desk@clinic.example.jp'], from: 'alerts@clinic.example.jp' } }],
    },
  };
  return parseConfig(input, { locale: 'ja' });
}

/** The secret a GetSecretValue names (a name or an ARN) as IAM sees it: the secret's full ARN. */
const asRequested = (nameOrArn: string) => (nameOrArn.startsWith('arn:') ? nameOrArn : secretArn(nameOrArn));

const VARIANTS = {
  'secrets by name': configOf({ smtp: (i) => `mail-health/t${i}-smtp`, slack: 'mail-health/slack', routeSlack: 'mail-health/clinic-slack' }),
  'secrets by full ARN': configOf({ smtp: (i) => secretArn(`mail-health/t${i}-smtp`), slack: secretArn('mail-health/slack'), routeSlack: secretArn('mail-health/clinic-slack') }),
  // 21 distinct secrets are more than a policy lists: the canary gets their prefix.
  'secrets by name prefix': configOf({ smtp: (i) => `mail-health/targets/t${i}`, slack: 'mail-health/slack', routeSlack: 'mail-health/clinic-slack' }, 21),
} as const;

interface Synth {
  readonly stack: MailHealthStack;
  readonly resources: Resources;
  readonly config: Config;
}

const id = (stack: MailHealthStack, construct: { node: { defaultChild?: unknown } }) => stack.getLogicalId((construct.node.defaultChild ?? construct) as never);

/** Every request a function's code makes, with the resource and context IAM sees. */
async function callsOf(synth: Synth, fn: 'canary' | 'bounce' | 'alert' | 'sweeper'): Promise<{ action: string; resource: string; resourceId?: string; context?: Record<string, string> }[]> {
  const { stack, resources, config } = synth;
  const arn = (logical: string) => resolve({ 'Fn::GetAtt': [logical, 'Arn'] }, resources) as string;
  const table = id(stack, stack.table);
  const topic = id(stack, stack.alerting.topic);
  const key = id(stack, stack.alerting.key);
  const bucket = id(stack, stack.bounceIntake.bucket);
  const queue = id(stack, stack.alerting.delivery.queue);
  const logGroup = id(stack, { canary: stack.canary.canaryFunction, bounce: stack.bounceIntake.bounceFunction, alert: stack.alerting.alertFunction, sweeper: stack.sweeper.sweeperFunction }[fn].logGroup);
  const actions = [...new Set([...(await actionsCalledBy(`functions/${fn}/index.ts`)).values()].flat())];
  const out: { action: string; resource: string; resourceId?: string; context?: Record<string, string> }[] = [];
  for (const action of actions) {
    if (action.startsWith('dynamodb:')) out.push({ action, resource: arn(table) });
    else if (action === 'sns:Publish') out.push({ action, resource: arn(topic), resourceId: topic });
    else if (action.startsWith('kms:')) out.push({ action, resource: arn(key), resourceId: key });
    else if (action === 's3:GetObject') out.push({ action, resource: `${arn(bucket)}/raw/o3vrnil0e2ic28trm7dfhrc2v0`, resourceId: bucket });
    else if (action === 's3:ListBucket') out.push({ action, resource: arn(bucket), resourceId: bucket });
    else if (action.startsWith('sqs:')) out.push({ action, resource: arn(queue), resourceId: queue });
    else if (action === 'secretsmanager:GetSecretValue') {
      const names =
        fn === 'canary'
          ? config.targets.flatMap((t) => (t.auth?.secretName ? [t.auth.secretName] : []))
          : fn === 'alert'
            ? [config.alerts.slack!.secretName!, ...config.alerts.routes.flatMap((r) => (r.slack?.secretName ? [r.slack.secretName] : []))]
            : [];
      for (const n of names) out.push({ action, resource: asRequested(n) });
    } else if (action === 'ses:SendEmail') {
      const senders = fn === 'alert' ? [config.alerts.email!.from, ...config.alerts.routes.flatMap((r) => (r.email?.from ? [r.email.from] : []))] : [];
      for (const from of senders) {
        const domain = from.slice(from.indexOf('@') + 1);
        // SES authorizes a send against the sender's address identity or its domain's, whichever is verified.
        out.push({ action, resource: `arn:aws:ses:${REGION}:${ACCOUNT}:identity/${domain}`, context: { 'ses:FromAddress': from } });
      }
    } else throw new Error(`no resource known for ${action}: add it to this test`);
  }
  for (const action of RUNTIME_ACTIONS) out.push({ action, resource: `${arn(logGroup).replace(/:\*$/, '')}:log-stream:2026/01/05/[$LATEST]abc` });
  if (fn === 'alert') for (const action of QUEUE_CONSUMER_ACTIONS) out.push({ action, resource: arn(queue), resourceId: queue });
  return out;
}

const FUNCTIONS = ['canary', 'bounce', 'alert', 'sweeper'] as const;

describe('IAM, evaluated by a policy simulator over the synthesized template', { timeout: 300_000 }, () => {
  const synths = new Map<string, Synth>();
  beforeAll(() => {
    for (const [name, config] of Object.entries(VARIANTS)) {
      const { stack, template } = synthStack(config, { activateRuleSet: true });
      synths.set(name, { stack, resources: template.toJSON().Resources as Resources, config });
    }
  });

  it('finds every AWS command a module sends declared with its IAM actions (AWS_CALLS)', async () => {
    // Prepare: every module of functions/ that sends a command.
    const files = (readdirSync(join(PROJECT_ROOT, 'functions'), { recursive: true }) as string[]).filter((f) => f.endsWith('.ts')).map((f) => `functions/${f}`);
    const senders = files.filter((f) => sentCommands(f).length > 0);

    // Assess
    expect(senders.length).toBeGreaterThanOrEqual(6);
    for (const file of senders) {
      const calls = await declaredCalls(file);
      expect(calls, `${file} sends ${sentCommands(file).join(', ')} but declares no AWS_CALLS`).not.toBeNull();
      expect(Object.keys(calls!).sort(), file).toEqual(sentCommands(file));
    }
  });

  for (const variant of Object.keys(VARIANTS)) {
    describe(variant, () => {
      for (const fn of FUNCTIONS) {
        it(`allows every call the ${fn} function's code makes, against its role and the resource's own policy`, async () => {
          // Prepare
          const synth = synths.get(variant)!;
          const fnConstruct = { canary: synth.stack.canary.canaryFunction, bounce: synth.stack.bounceIntake.bounceFunction, alert: synth.stack.alerting.alertFunction, sweeper: synth.stack.sweeper.sweeperFunction }[fn];
          const roleId = id(synth.stack, fnConstruct.role);
          const principal = resolve({ 'Fn::GetAtt': [roleId, 'Arn'] }, synth.resources) as string;
          const identityPolicies = rolePolicies(synth.resources, roleId);
          const calls = await callsOf(synth, fn);

          // Act
          const denied: string[] = [];
          for (const call of calls) {
            const resourcePolicy = call.resourceId ? resourcePolicyOf(synth.resources, call.resourceId) : undefined;
            const result = await evaluate({ principal, action: call.action, resource: call.resource, identityPolicies, resourcePolicy, ...(call.context ? { context: call.context } : {}) });
            if (result !== 'Allowed') denied.push(`${call.action} ${call.resource}: ${result}`);
          }

          // Assess
          expect(calls.length).toBeGreaterThan(3);
          expect(denied).toEqual([]);
        });

        it(`grants the ${fn} function nothing its code does not call`, async () => {
          // Prepare
          const synth = synths.get(variant)!;
          const fnConstruct = { canary: synth.stack.canary.canaryFunction, bounce: synth.stack.bounceIntake.bounceFunction, alert: synth.stack.alerting.alertFunction, sweeper: synth.stack.sweeper.sweeperFunction }[fn];
          const called = new Set((await callsOf(synth, fn)).map((c) => c.action));

          // Act
          const granted = rolePolicies(synth.resources, id(synth.stack, fnConstruct.role)).flatMap((p) => (p.policy.Statement as { Effect: string; Action: string | string[] }[]).filter((s) => s.Effect === 'Allow').flatMap((s) => [s.Action].flat()));

          // Assess
          expect(granted.filter((a) => !called.has(a))).toEqual([]);
        });
      }
    });
  }

  it('finds a call denied when its grant is removed (the test can fail)', async () => {
    // Prepare: the synthesized bounce role without its s3:ListBucket statement, and the alert role without SES.
    const synth = synths.get('secrets by name')!;
    const strip = (roleId: string, action: string) =>
      rolePolicies(synth.resources, roleId).map((p) => ({ ...p, policy: { ...p.policy, Statement: p.policy.Statement.filter((s: { Action: string | string[] }) => ![s.Action].flat().includes(action)) } }));
    const bounceRole = id(synth.stack, synth.stack.bounceIntake.bounceFunction.role);
    const alertRole = id(synth.stack, synth.stack.alerting.alertFunction.role);
    const bucket = id(synth.stack, synth.stack.bounceIntake.bucket);
    const bucketArn = resolve({ 'Fn::GetAtt': [bucket, 'Arn'] }, synth.resources) as string;

    // Act
    const listing = await evaluate({ principal: resolve({ 'Fn::GetAtt': [bounceRole, 'Arn'] }, synth.resources), action: 's3:ListBucket', resource: bucketArn, identityPolicies: strip(bounceRole, 's3:ListBucket'), resourcePolicy: resourcePolicyOf(synth.resources, bucket) });
    const sending = await evaluate({
      principal: resolve({ 'Fn::GetAtt': [alertRole, 'Arn'] }, synth.resources),
      action: 'ses:SendEmail',
      resource: `arn:aws:ses:${REGION}:${ACCOUNT}:identity/example.jp`,
      identityPolicies: strip(alertRole, 'ses:SendEmail'),
      context: { 'ses:FromAddress': 'monitor@example.jp' },
    });
    const otherSender = await evaluate({
      principal: resolve({ 'Fn::GetAtt': [alertRole, 'Arn'] }, synth.resources),
      action: 'ses:SendEmail',
      resource: `arn:aws:ses:${REGION}:${ACCOUNT}:identity/example.jp`,
      identityPolicies: rolePolicies(synth.resources, alertRole),
      context: { 'ses:FromAddress': 'someone-else@example.jp' },
    });

    // Assess
    expect(listing).toBe('ImplicitlyDenied');
    expect(sending).toBe('ImplicitlyDenied');
    expect(otherSender).toBe('ImplicitlyDenied');
  });

  it('allows the service grants: SES to S3 and the bounce Lambda, SNS to SQS, Scheduler to the Lambdas, CloudWatch alarms to the topic and its key', async () => {
    // Prepare
    const { stack, resources } = synths.get('secrets by name')!;
    const arn = (logical: string) => resolve({ 'Fn::GetAtt': [logical, 'Arn'] }, resources) as string;
    const bucket = id(stack, stack.bounceIntake.bucket);
    const bounceFn = id(stack, stack.bounceIntake.bounceFunction.function);
    const topic = id(stack, stack.alerting.topic);
    const topicArn = resolve({ Ref: topic }, resources) as string;
    const key = id(stack, stack.alerting.key);
    const queue = id(stack, stack.alerting.delivery.queue);
    const schedulerRole = id(stack, stack.canary.schedulerRole);
    const ruleArn = `arn:aws:ses:${REGION}:${ACCOUNT}:receipt-rule-set/${stack.bounceIntake.ruleSetName}:receipt-rule/bounce-intake`;
    const ses = { 'aws:SourceAccount': ACCOUNT, 'aws:SourceArn': ruleArn };
    const alarm = { 'aws:SourceAccount': ACCOUNT, 'aws:SourceArn': `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:MailHealthStack-alert-dead-letters` };

    // Act
    const results = {
      'SES stores raw mail': await evaluate({ principal: 'ses.amazonaws.com', action: 's3:PutObject', resource: `${arn(bucket)}/raw/abc`, resourcePolicy: resourcePolicyOf(resources, bucket), context: ses }),
      'SES invokes the bounce Lambda': await evaluate({ principal: 'ses.amazonaws.com', action: 'lambda:InvokeFunction', resource: arn(bounceFn), resourcePolicy: resourcePolicyOf(resources, bounceFn), context: ses }),
      'SNS sends to the alert queue': await evaluate({ principal: 'sns.amazonaws.com', action: 'sqs:SendMessage', resource: arn(queue), resourcePolicy: resourcePolicyOf(resources, queue), context: { 'aws:SourceArn': topicArn } }),
      'Scheduler assumes its role': await evaluate({
        principal: 'scheduler.amazonaws.com',
        action: 'sts:AssumeRole',
        resource: arn(schedulerRole),
        resourcePolicy: resourcePolicyOf(resources, schedulerRole),
        context: { 'aws:SourceAccount': ACCOUNT, 'aws:SourceArn': `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule-group/default` },
      }),
      ...Object.fromEntries(
        await Promise.all(
          (['canary', 'sweeper'] as const).map(async (fn) => {
            const target = id(stack, fn === 'canary' ? stack.canary.canaryFunction.function : stack.sweeper.sweeperFunction.function);
            return [`Scheduler invokes the ${fn}`, await evaluate({ principal: arn(schedulerRole), action: 'lambda:InvokeFunction', resource: arn(target), identityPolicies: rolePolicies(resources, schedulerRole) })];
          }),
        ),
      ),
      'CloudWatch publishes an alarm': await evaluate({ principal: 'cloudwatch.amazonaws.com', action: 'sns:Publish', resource: topicArn, resourcePolicy: resourcePolicyOf(resources, topic), context: alarm }),
      'CloudWatch gets a data key': await evaluate({ principal: 'cloudwatch.amazonaws.com', action: 'kms:GenerateDataKey', resource: arn(key), resourcePolicy: resourcePolicyOf(resources, key), context: alarm }),
      'CloudWatch decrypts with the key': await evaluate({ principal: 'cloudwatch.amazonaws.com', action: 'kms:Decrypt', resource: arn(key), resourcePolicy: resourcePolicyOf(resources, key), context: alarm }),
    };
    const refused = {
      'another rule stores raw mail': await evaluate({ principal: 'ses.amazonaws.com', action: 's3:PutObject', resource: `${arn(bucket)}/raw/abc`, resourcePolicy: resourcePolicyOf(resources, bucket), context: { ...ses, 'aws:SourceArn': `${ruleArn}-other` } }),
      'another topic sends to the queue': await evaluate({ principal: 'sns.amazonaws.com', action: 'sqs:SendMessage', resource: arn(queue), resourcePolicy: resourcePolicyOf(resources, queue), context: { 'aws:SourceArn': `${topicArn}-other` } }),
    };

    // Assess
    expect(results).toEqual(Object.fromEntries(Object.keys(results).map((k) => [k, 'Allowed'])));
    expect(Object.values(refused).every((r) => r !== 'Allowed')).toBe(true);
  });
});
