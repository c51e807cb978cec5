/**
 * The stack at 500 targets: one stack within CloudFormation's limits, nothing per target but
 * the schedules (shared beyond 250) and the deployed config, cdk-nag and cfn-lint clean.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Aspects } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config, TargetConfig } from '#core/config.ts';
import type { MailHealthStack } from '../../lib/mail-health-stack.ts';
import { exampleConfig, joinToString, synthStack } from './helpers.ts';

type Resources = Record<string, { Type: string; Properties: Record<string, any> }>;

const TARGETS = 500;
const CFN_LINT = [process.env.HOME ?? '/root', '/root'].map((home) => join(home, '.pyenv', 'shims', 'cfn-lint'));

let one: { resources: Resources; stack: MailHealthStack };
let many: { resources: Resources; stack: MailHealthStack; json: string; seconds: number };
let scratch: string;
let names: string[];

/** 500 targets as a hosting company would have them: its own secret per customer, a few sharing one. */
function fleet(example: Config): Config {
  const base = example.targets[0]!;
  const targets: TargetConfig[] = Array.from({ length: TARGETS }, (_, i) => {
    const name = `customer-${String(i).padStart(3, '0')}`;
    const auth = i % 10 === 0 ? { user: `${name}@example.jp`, secretName: 'mail-health/shared-smtp', secretKey: name } : { user: `${name}@example.jp`, secretName: `mail-health/${name}` };
    return { ...base, name, host: `smtp${i % 37}.example.jp`, auth, from: `${name}@example.jp`, to: [`canary@${example.bounceDomain}`] };
  });
  return { ...example, targets };
}

beforeAll(async () => {
  const example = await exampleConfig();
  const small = synthStack(example);
  one = { stack: small.stack, resources: small.template.toJSON().Resources as Resources };
  const started = performance.now();
  const config = fleet(example);
  names = config.targets.map((t) => t.name);
  const big = synthStack(config);
  const seconds = (performance.now() - started) / 1000;
  const template = big.template.toJSON();
  many = { stack: big.stack, resources: template.Resources as Resources, json: JSON.stringify(template), seconds };
  scratch = mkdtempSync(join(tmpdir(), 'mail-health-scale-'));
}, 240_000);

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe(`MailHealthStack with ${TARGETS} targets`, { timeout: 240_000 }, () => {
  it('is one stack of at most 500 resources and a template under 1 MB', () => {
    // Assess
    expect(Object.keys(many.resources).length).toBeLessThanOrEqual(500);
    expect(Buffer.byteLength(many.json)).toBeLessThan(1024 * 1024);
    expect(many.stack.node.root.node.children.filter((c) => c.constructor.name === 'MailHealthStack')).toHaveLength(1);
    console.info(
      `${TARGETS} targets: ${Object.keys(many.resources).length} resources (1 target: ${Object.keys(one.resources).length}), template ${(Buffer.byteLength(many.json) / 1024).toFixed(0)} KB, synth without bundling ${many.seconds.toFixed(1)} s`,
    );
  });

  it('grows only by schedules: at most 250 shared ones checking every target exactly once, each spread over its window', () => {
    // Prepare
    const byType = (resources: Resources) => {
      const counts: Record<string, number> = {};
      for (const r of Object.values(resources)) counts[r.Type] = (counts[r.Type] ?? 0) + 1;
      return counts;
    };
    const small = byType(one.resources);
    const big = byType(many.resources);
    const schedules = Object.values(many.resources).filter((r) => r.Type === 'AWS::Scheduler::Schedule');
    // Act
    const canaryInputs = schedules.map((s) => JSON.parse(s.Properties.Target.Input as string) as { targets?: string[]; scheduledTime: string }).filter((i) => i.targets);
    const checked = canaryInputs.flatMap((i) => i.targets!);
    // Assess
    for (const type of Object.keys({ ...small, ...big })) {
      if (type === 'AWS::Scheduler::Schedule') continue;
      expect(big[type], type).toBe(small[type]);
    }
    expect(canaryInputs.length).toBeLessThanOrEqual(250);
    expect(canaryInputs.length).toBeGreaterThan(150);
    expect(Math.max(...canaryInputs.map((i) => i.targets!.length))).toBeLessThanOrEqual(8);
    expect(checked.toSorted()).toEqual(names.toSorted());
    expect(canaryInputs.every((i) => i.scheduledTime === '<aws.scheduler.scheduled-time>')).toBe(true);
    for (const s of schedules) expect(s.Properties.FlexibleTimeWindow).toEqual(expect.objectContaining({ Mode: expect.any(String) }));
    expect(schedules.filter((s) => s.Properties.FlexibleTimeWindow.Mode === 'FLEXIBLE').every((s) => s.Properties.FlexibleTimeWindow.MaximumWindowInMinutes === 4)).toBe(true);
  });

  it('keeps the alarms and the dashboard the same size as for one target, the success graph within what a graph draws', () => {
    // Prepare
    const alarms = (resources: Resources) => Object.values(resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm');
    const widgets = (resources: Resources) => {
      const dashboard = Object.values(resources).find((r) => r.Type === 'AWS::CloudWatch::Dashboard')!;
      return (JSON.parse(joinToString(dashboard.Properties.DashboardBody)) as { widgets: { properties: { title?: string } }[] }).widgets;
    };
    const isSuccessGraph = (w: { properties: { title?: string } }) => (w.properties.title ?? '').startsWith('Canary success');
    // Act
    const graph = widgets(many.resources).find(isSuccessGraph)!;
    // Assess
    expect(alarms(many.resources)).toHaveLength(alarms(one.resources).length);
    expect(alarms(many.resources).filter((a) => a.Properties.MetricName === 'CanarySuccess')).toEqual([]);
    expect(widgets(many.resources)).toHaveLength(widgets(one.resources).length);
    const rest = (resources: Resources) => JSON.stringify(widgets(resources).filter((w) => !isSuccessGraph(w)));
    expect(rest(many.resources).length - rest(one.resources).length).toBeLessThan(10);
    // SEARCH would find 500 targets and any renamed in the last two weeks: past the 500 a graph draws.
    expect(graph.properties.title).toBe('Canary success per target (last 3 hours)');
    expect(JSON.stringify(graph)).toContain('ORDER BY AVG() ASC LIMIT 500');
    expect(JSON.stringify(graph)).not.toContain('SEARCH(');
  });

  it('lets the canary read its secrets by their common prefix instead of listing 451 of them', () => {
    // Act
    const policies = Object.values(many.resources).filter((r) => r.Type === 'AWS::IAM::Policy');
    const secretResources = policies.flatMap((p) =>
      (p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[])
        .filter((st) => [st.Action].flat().includes('secretsmanager:GetSecretValue'))
        .flatMap((st) => [st.Resource].flat().map(joinToString)),
    );
    // Assess
    expect(secretResources).toContain('arn:REF(AWS::Partition):secretsmanager:REF(AWS::Region):REF(AWS::AccountId):secret:mail-health/*');
    for (const p of policies) expect(JSON.stringify(p.Properties.PolicyDocument).length, 'an IAM policy holds 10 KB').toBeLessThan(10_240);
  });

  it('puts the whole config into the bundles, far beyond what an environment variable holds', () => {
    // Act
    const deployed = readFileSync(many.stack.configFile, 'utf8');
    // Assess
    expect((JSON.parse(deployed) as Config).targets).toHaveLength(TARGETS);
    expect(deployed.length).toBeGreaterThan(100 * 1024);
    for (const r of Object.values(many.resources).filter((x) => x.Type === 'AWS::Lambda::Function')) {
      expect(JSON.stringify(r.Properties.Environment?.Variables ?? {}).length).toBeLessThan(1024);
    }
  });

  it('passes cdk-nag AwsSolutions without unsuppressed findings', async () => {
    // Prepare
    const { stack } = synthStack(fleet(await exampleConfig()), { activateRuleSet: true });
    Aspects.of(stack).add(new AwsSolutionsChecks());
    // Act
    const annotations = Annotations.fromStack(stack);
    const found = [...annotations.findError('*', Match.stringLikeRegexp('AwsSolutions-.*')), ...annotations.findWarning('*', Match.stringLikeRegexp('AwsSolutions-.*'))];
    // Assess
    expect(found.map((m) => `${m.id}: ${String(m.entry.data).split('\n')[0]}`)).toEqual([]);
  });

  it('passes cfn-lint without errors or warnings', async (ctx) => {
    // Prepare
    const cfnLint = CFN_LINT.find((p) => {
      try {
        readFileSync(p);
        return true;
      } catch {
        return false;
      }
    });
    if (!cfnLint) {
      console.info('SKIPPED cfn-lint: not installed (~/.pyenv/shims/cfn-lint)');
      ctx.skip();
      return;
    }
    const file = join(scratch, 'MailHealthStack.template.json');
    writeFileSync(file, many.json);
    // Act
    const result = await new Promise<{ code: number; out: string }>((resolve) =>
      execFile(cfnLint, ['--ignore-checks', 'W3005', '--', file], { timeout: 200_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, out: `${stdout}${stderr}` }),
      ),
    );
    // Assess
    expect(result.out).toBe('');
    expect(result.code).toBe(0);
  });
});
