/**
 * IAM as AWS would evaluate it, over a synthesized template: CloudFormation references become
 * real-looking ARNs of one account and region, each role's policies are gathered, the
 * resources' own policies (topic, queue, bucket, key, Lambda permissions, trust policies) are
 * read, and a request is evaluated with @cloud-copilot/iam-simulate (AGPL-3.0: a dev dependency
 * of the tests only, never imported by functions/ or lib/, never bundled).
 *
 * And what the code calls: each function's entry is bundled by esbuild (as the stack does) to
 * learn which modules of functions/ it includes; each module that sends AWS commands declares
 * them with the IAM actions they need (`AWS_CALLS`), and `declaredCommands` reads the source to
 * check that every command a module sends is declared.
 */
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runSimulation, type Simulation } from '@cloud-copilot/iam-simulate';
import { build } from 'esbuild';
import { PROJECT_ROOT } from '../../lib/mail-function.ts';

export const ACCOUNT = '123456789012';
export const REGION = 'ap-northeast-1';

type Resource = { Type: string; Properties: Record<string, any> };
export type Resources = Record<string, Resource>;

/** A stable fake suffix for a logical id (S3 names are lower case). */
const physical = (id: string) => `mailhealthstack-${id.toLowerCase().slice(0, 40)}`;

/** The ARN (or, for Ref, the id CloudFormation returns) of a template resource. */
function attributeOf(resources: Resources, id: string, attribute: 'Ref' | string): string {
  const r = resources[id];
  if (!r) throw new Error(`no resource ${id}`);
  const name = physical(id);
  const arn: Record<string, string> = {
    'AWS::DynamoDB::Table': `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${name}`,
    'AWS::SNS::Topic': `arn:aws:sns:${REGION}:${ACCOUNT}:${name}`,
    'AWS::SQS::Queue': `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}`,
    'AWS::S3::Bucket': `arn:aws:s3:::${name}`,
    'AWS::KMS::Key': `arn:aws:kms:${REGION}:${ACCOUNT}:key/0f0e0d0c-${name.slice(-8).padStart(8, '0')}`,
    'AWS::Lambda::Function': `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`,
    'AWS::Logs::LogGroup': `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${name}:*`,
    'AWS::IAM::Role': `arn:aws:iam::${ACCOUNT}:role/${name}`,
    'AWS::SecretsManager::Secret': `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${name}-AbCdEf`,
    'AWS::Scheduler::Schedule': `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule/default/${name}`,
    'AWS::Events::Rule': `arn:aws:events:${REGION}:${ACCOUNT}:rule/${name}`,
  };
  if (attribute === 'Ref') {
    if (r.Type === 'AWS::SQS::Queue') return `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${name}`;
    if (r.Type === 'AWS::SNS::Topic' || r.Type === 'AWS::SecretsManager::Secret') return arn[r.Type]!;
    if (r.Type === 'AWS::KMS::Key') return arn[r.Type]!.split('/').pop()!;
    return name;
  }
  if (attribute === 'Arn') {
    const a = arn[r.Type];
    if (!a) throw new Error(`no ARN for ${r.Type} ${id}`);
    return a;
  }
  if (attribute === 'QueueName' || attribute === 'TopicName') return name;
  throw new Error(`attribute ${attribute} of ${r.Type} ${id}`);
}

/** A template value with its intrinsic functions evaluated (Ref, GetAtt, Join, Select, Split). */
export function resolve(value: unknown, resources: Resources): any {
  if (Array.isArray(value)) return value.map((v) => resolve(v, resources));
  if (!value || typeof value !== 'object') return value;
  const v = value as Record<string, any>;
  if ('Ref' in v) {
    if (v.Ref === 'AWS::Partition') return 'aws';
    if (v.Ref === 'AWS::Region') return REGION;
    if (v.Ref === 'AWS::AccountId') return ACCOUNT;
    if (v.Ref === 'AWS::URLSuffix') return 'amazonaws.com';
    if (v.Ref === 'AWS::StackName') return 'MailHealthStack';
    return attributeOf(resources, v.Ref, 'Ref');
  }
  if ('Fn::GetAtt' in v) {
    const [id, attr] = v['Fn::GetAtt'] as [string, string];
    return attributeOf(resources, id, attr);
  }
  if ('Fn::Join' in v) {
    const [sep, parts] = v['Fn::Join'] as [string, unknown[]];
    return (resolve(parts, resources) as string[]).join(sep);
  }
  if ('Fn::Select' in v) {
    const [i, list] = v['Fn::Select'] as [number, unknown];
    return (resolve(list, resources) as unknown[])[Number(i)];
  }
  if ('Fn::Split' in v) {
    const [sep, s] = v['Fn::Split'] as [string, unknown];
    return String(resolve(s, resources)).split(sep);
  }
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolve(x, resources)]));
}

/** The policy documents of a role: its inline policies and every AWS::IAM::Policy attached to it. */
export function rolePolicies(resources: Resources, roleId: string): { name: string; policy: any }[] {
  const out: { name: string; policy: any }[] = [];
  const role = resources[roleId]!;
  for (const p of (role.Properties.Policies as { PolicyName: string; PolicyDocument: unknown }[] | undefined) ?? []) out.push({ name: p.PolicyName, policy: resolve(p.PolicyDocument, resources) });
  for (const [id, r] of Object.entries(resources)) {
    if (r.Type !== 'AWS::IAM::Policy') continue;
    if (!(r.Properties.Roles as { Ref: string }[]).some((x) => x.Ref === roleId)) continue;
    out.push({ name: id, policy: resolve(r.Properties.PolicyDocument, resources) });
  }
  if (out.length === 0) throw new Error(`role ${roleId} has no policy`);
  return out;
}

/** The resource policy of a resource: the topic's, queue's, bucket's or key's own policy. */
export function resourcePolicyOf(resources: Resources, targetId: string): any {
  const target = resources[targetId]!;
  if (target.Type === 'AWS::KMS::Key') return resolve(target.Properties.KeyPolicy, resources);
  const kinds: Record<string, [string, string]> = {
    'AWS::SNS::Topic': ['AWS::SNS::TopicPolicy', 'Topics'],
    'AWS::SQS::Queue': ['AWS::SQS::QueuePolicy', 'Queues'],
    'AWS::S3::Bucket': ['AWS::S3::BucketPolicy', 'Bucket'],
  };
  const [type, field] = kinds[target.Type] ?? [];
  if (type) {
    for (const r of Object.values(resources)) {
      if (r.Type !== type) continue;
      const refs = [r.Properties[field!]].flat() as { Ref: string }[];
      if (refs.some((x) => x.Ref === targetId)) return resolve(r.Properties.PolicyDocument, resources);
    }
    return undefined;
  }
  if (target.Type === 'AWS::Lambda::Function') {
    // The function's resource policy: its AWS::Lambda::Permission resources as statements.
    const statements = Object.entries(resources)
      .filter(([, r]) => r.Type === 'AWS::Lambda::Permission' && JSON.stringify(r.Properties.FunctionName).includes(`"${targetId}"`))
      .map(([id, r]) => {
        const p = resolve(r.Properties, resources);
        const condition: Record<string, Record<string, string>> = {};
        if (p.SourceAccount) condition.StringEquals = { 'aws:SourceAccount': p.SourceAccount };
        if (p.SourceArn) condition.ArnLike = { 'aws:SourceArn': p.SourceArn };
        const principal = String(p.Principal).endsWith('.amazonaws.com') ? { Service: p.Principal } : { AWS: p.Principal };
        return { Sid: id, Effect: 'Allow', Principal: principal, Action: p.Action, Resource: attributeOf(resources, targetId, 'Arn'), ...(Object.keys(condition).length ? { Condition: condition } : {}) };
      });
    return statements.length ? { Version: '2012-10-17', Statement: statements } : undefined;
  }
  if (target.Type === 'AWS::IAM::Role') return resolve(target.Properties.AssumeRolePolicyDocument, resources);
  return undefined;
}

/** One request to evaluate. */
export interface IamRequest {
  readonly principal: string;
  readonly action: string;
  readonly resource: string;
  readonly identityPolicies?: { name: string; policy: any }[];
  readonly resourcePolicy?: any;
  readonly context?: Record<string, string | string[]>;
}

/** 'Allowed', 'ImplicitlyDenied' or 'ExplicitlyDenied'; throws on a request the simulator finds malformed. */
export async function evaluate(request: IamRequest): Promise<string> {
  const simulation: Simulation = {
    request: {
      principal: request.principal,
      action: request.action,
      resource: { resource: request.resource, accountId: ACCOUNT },
      contextVariables: { 'aws:SecureTransport': 'true', ...request.context },
    },
    identityPolicies: request.identityPolicies ?? [],
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    ...(request.resourcePolicy ? { resourcePolicy: request.resourcePolicy } : {}),
  };
  const result = await runSimulation(simulation, {});
  if (result.resultType === 'error') throw new Error(`${request.action} on ${request.resource}: ${JSON.stringify(result.errors)}`);
  return result.overallResult;
}

/** The modules under functions/ that the bundle of an entry includes (as esbuild bundles it for the stack). */
export async function bundledModules(entry: string): Promise<string[]> {
  const out = await build({
    entryPoints: [join(PROJECT_ROOT, entry)],
    bundle: true,
    write: false,
    metafile: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    external: ['@aws-sdk/*'],
    logLevel: 'silent',
    absWorkingDir: PROJECT_ROOT,
  });
  return Object.keys(out.metafile.inputs).filter((p) => p.startsWith('functions/'));
}

/** The AWS SDK commands a source file sends (`new XxxCommand(`). */
export function sentCommands(file: string): string[] {
  const source = readFileSync(join(PROJECT_ROOT, file), 'utf8');
  return [...new Set([...source.matchAll(/new\s+([A-Z][A-Za-z]+Command)\s*\(/g)].map((m) => m[1]!))].sort();
}

/** A module's declared calls (`AWS_CALLS`: command → IAM actions), or null when it declares none. */
export async function declaredCalls(file: string): Promise<Record<string, readonly string[]> | null> {
  const mod = (await import(pathToFileURL(join(PROJECT_ROOT, file)).href)) as { AWS_CALLS?: Record<string, readonly string[]> };
  return mod.AWS_CALLS ?? null;
}

/** The IAM actions the code bundled from `entry` calls, by the module that calls them. */
export async function actionsCalledBy(entry: string): Promise<Map<string, string[]>> {
  const byModule = new Map<string, string[]>();
  for (const file of await bundledModules(entry)) {
    if (sentCommands(file).length === 0) continue;
    const calls = await declaredCalls(file);
    if (!calls) throw new Error(`${relative(PROJECT_ROOT, join(PROJECT_ROOT, file))} sends AWS commands but declares no AWS_CALLS`);
    byModule.set(file, [...new Set(Object.values(calls).flat())].sort());
  }
  return byModule;
}
