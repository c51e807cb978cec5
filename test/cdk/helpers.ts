/**
 * Shared by the CDK tests: synthesize MailHealthStack from the committed example config with the
 * app's cdk.json feature flags, offline and with a dummy-free, environment-agnostic stack.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { exampleConfigWithChannels } from '../../scripts/example-config.ts';
import type { Config } from '#core/config.ts';
import { MailHealthStack, type MailHealthStackProps } from '../../lib/mail-health-stack.ts';
import { PROJECT_ROOT } from '../../lib/mail-function.ts';

export const EXAMPLE_CONFIG_PATH = join(PROJECT_ROOT, 'mailhealth.config.example.jsonc');

/**
 * The committed example config, parsed as the CDK app parses it, with its alert channels (Slack
 * and email, commented out in the file so a copy sends nothing) turned on as a deployment has them.
 */
export async function exampleConfig(): Promise<Config> {
  return exampleConfigWithChannels();
}

/** cdk.json's context (the feature flags), without the config path, plus test settings. */
export function appContext(options: { bundling: boolean }): Record<string, unknown> {
  const { context } = JSON.parse(readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };
  const { config: _path, ...flags } = context;
  return {
    ...flags,
    'aws:cdk:version-reporting': false,
    'aws:cdk:enable-asset-metadata': true,
    // An empty list skips esbuild (and any Docker fallback) for every stack.
    ...(options.bundling ? {} : { 'aws:cdk:bundling-stacks': [] }),
  };
}

/** Synthesizes one stack in its own app. */
export function synthStack(
  config: Config,
  props: Omit<MailHealthStackProps, 'config'> = {},
  options: { bundling: boolean } = { bundling: false },
): { app: App; stack: MailHealthStack; template: Template } {
  const app = new App({ context: appContext(options) });
  const stack = new MailHealthStack(app, 'MailHealthStack', { config, ...props });
  return { app, stack, template: Template.fromStack(stack) };
}

/** Flattens an Fn::Join (as in a dashboard body) into a string; Refs become REF(id). */
export function joinToString(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    const v = value as Record<string, unknown>;
    if (Array.isArray(v['Fn::Join'])) {
      const [sep, parts] = v['Fn::Join'] as [string, unknown[]];
      return parts.map(joinToString).join(sep);
    }
    if (typeof v.Ref === 'string') return `REF(${v.Ref})`;
    if (Array.isArray(v['Fn::GetAtt'])) return `GETATT(${(v['Fn::GetAtt'] as string[]).join('.')})`;
  }
  throw new Error(`cannot flatten ${JSON.stringify(value)}`);
}

/** Every IAM policy statement of a template (policies and roles' inline policies). */
export function iamStatements(template: Template): { resource: string; statement: Record<string, unknown> }[] {
  const out: { resource: string; statement: Record<string, unknown> }[] = [];
  for (const [id, res] of Object.entries(template.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>)) {
    const docs: unknown[] = [];
    if (res.Type === 'AWS::IAM::Policy') docs.push(res.Properties.PolicyDocument);
    if (res.Type === 'AWS::IAM::Role') for (const p of (res.Properties.Policies as { PolicyDocument: unknown }[] | undefined) ?? []) docs.push(p.PolicyDocument);
    for (const doc of docs) for (const statement of (doc as { Statement: Record<string, unknown>[] }).Statement) out.push({ resource: id, statement });
  }
  return out;
}

/** A value as an array (IAM allows a single string or a list). */
export function asList<T>(v: T | T[] | undefined): T[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}
