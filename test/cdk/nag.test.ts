import { Aspects, type Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '#core/config.ts';
import { exampleConfig, synthStack } from './helpers.ts';

type Suppression = { id: string; reason: string; applies_to?: unknown[] };

/** The stack with every optional part switched on, checked by AwsSolutions. */
function nagged(config: Config): Stack {
  const { stack } = synthStack(config, { activateRuleSet: true });
  Aspects.of(stack).add(new AwsSolutionsChecks());
  return stack;
}

function findings(stack: Stack): string[] {
  const annotations = Annotations.fromStack(stack);
  return [...annotations.findError('*', Match.stringLikeRegexp('AwsSolutions-.*')), ...annotations.findWarning('*', Match.stringLikeRegexp('AwsSolutions-.*'))].map(
    (m) => `${m.id}: ${String(m.entry.data).split('\n')[0]}`,
  );
}

/** Every cdk-nag suppression recorded in the synthesized template. */
function suppressions(stack: Stack): Suppression[] {
  const resources = Template.fromStack(stack).toJSON().Resources as Record<string, { Metadata?: { cdk_nag?: { rules_to_suppress: Suppression[] } } }>;
  return Object.values(resources).flatMap((r) => r.Metadata?.cdk_nag?.rules_to_suppress ?? []);
}

let withSecretName: Stack;
let withCreatedSecret: Stack;

beforeAll(async () => {
  const example = await exampleConfig();
  withSecretName = nagged(example);
  withCreatedSecret = nagged({ ...example, alerts: { ...example.alerts, slack: {}, email: undefined } });
});

describe('cdk-nag AwsSolutions', { timeout: 120_000 }, () => {
  it('finds no unsuppressed error or warning in the stack with the example config', () => {
    expect(findings(withSecretName)).toEqual([]);
  });

  it('finds no unsuppressed error or warning when the stack creates the Slack secret', () => {
    expect(findings(withCreatedSecret)).toEqual([]);
  });

  it('gives every suppression a reason', () => {
    // Act
    const all = [...suppressions(withSecretName), ...suppressions(withCreatedSecret)];
    // Assess
    expect(new Set(all.map((s) => s.id))).toEqual(new Set(['AwsSolutions-S1', 'AwsSolutions-SQS3', 'AwsSolutions-IAM5', 'AwsSolutions-IAM4', 'AwsSolutions-SMG4']));
    for (const s of all) expect(s.reason.length, s.id).toBeGreaterThan(40);
  });
});
