/**
 * The AWS form of inbox placement: the canary may read exactly the seeds' secrets, the seeds'
 * CA files go into its bundle, its timeout leaves room to read them, the deployed config keeps
 * what the Lambda needs (and nothing local), and the dashboard shows the latest verdicts.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, type Config } from '#core/config.ts';
import { ConfigError } from '#core/errors.ts';
import { canaryTimeout } from '../../lib/canary.ts';
import { deployedConfig } from '../../lib/mail-health-stack.ts';
import { asList, exampleConfig, iamStatements, joinToString, synthStack } from './helpers.ts';

let example: Config;
let scratch: string;

beforeAll(async () => {
  example = await exampleConfig();
  scratch = mkdtempSync(join(tmpdir(), 'mail-health-cdk-seeds-'));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function withSeeds(ca?: string): Config {
  const doc = {
    ...example,
    seeds: [
      { name: 'gmail', address: 'shop.seed@gmail.com', imap: { host: '127.0.0.1', auth: { user: 'shop.seed@gmail.com', passwordEnv: 'GMAIL_SEED', secretName: 'mail-health/seed-gmail' } } },
      {
        name: 'outlook',
        address: 'shop.seed@outlook.com',
        imap: {
          host: 'outlook.office365.com',
          ...(ca ? { ca } : {}),
          auth: { user: 'shop.seed@outlook.com', oauth2: { tokenUrl: 'https://127.0.0.1/oauth2/v2.0/token', clientId: 'app', refreshTokenEnv: 'OUTLOOK_REFRESH', secretName: 'mail-health/seed-outlook' } },
        },
      },
    ],
  };
  return parseConfig(doc, { locale: 'en' });
}

describe('inbox placement in AWS', { timeout: 120_000 }, () => {
  it('lets the canary read exactly the seeds\' secrets and its target\'s, with GetSecretValue and nothing else', () => {
    // Act
    const { template } = synthStack(withSeeds());

    // Assess
    const seedStatements = iamStatements(template).filter((s) => JSON.stringify(s.statement.Resource).includes('seed-'));
    expect(seedStatements).toHaveLength(1);
    expect(asList(seedStatements[0]!.statement.Action as string[])).toEqual(['secretsmanager:GetSecretValue']);
    const resources = asList(seedStatements[0]!.statement.Resource).map(joinToString);
    // One statement for the canary's secrets: the seeds' and the target's own SMTP login, nothing else.
    expect(resources).toEqual([
      expect.stringMatching(/:secret:mail-health\/seed-gmail-\?{6}$/),
      expect.stringMatching(/:secret:mail-health\/seed-outlook-\?{6}$/),
      expect.stringMatching(/:secret:mail-health\/shop-smtp-\?{6}$/),
    ]);
  });

  it('gives the canary the time to read the seeds before its rounds', () => {
    const seeds = withSeeds().seeds!;
    expect(canaryTimeout(example.targets, seeds).toSeconds()).toBe(canaryTimeout(example.targets).toSeconds() + (20 * 20_000) / 1000);
    expect(() => canaryTimeout(example.targets, [{ ...seeds[0]!, imap: { ...seeds[0]!.imap, timeoutMs: 60_000 } }])).toThrow(/reading the seeds/);
  });

  it('deploys the seeds with their secrets only, a CA file in the bundle, and the dashboard table', () => {
    // Prepare
    const caFile = join(scratch, 'seed-ca.pem');
    writeFileSync(caFile, '-----BEGIN CERTIFICATE-----\nnot a real certificate, only copied\n-----END CERTIFICATE-----\n');

    // Act
    const { app, stack, template } = synthStack(withSeeds(caFile), {}, { bundling: true });

    // Assess: the config in the bundle, the CA beside it.
    const resources = template.toJSON().Resources as Record<string, { Metadata?: Record<string, unknown> }>;
    const fn = resources[stack.getLogicalId(stack.canary.canaryFunction.function.node.defaultChild as never)]!;
    const bundle = join(app.outdir, String(fn.Metadata?.['aws:asset:path']));
    const deployed = JSON.parse(readFileSync(join(bundle, 'mailhealth.config.json'), 'utf8')) as Config;
    expect(deployed.seeds?.map((s) => s.imap.auth)).toEqual([
      { user: 'shop.seed@gmail.com', secretName: 'mail-health/seed-gmail' },
      { user: 'shop.seed@outlook.com', oauth2: { tokenUrl: 'https://127.0.0.1/oauth2/v2.0/token', clientId: 'app', secretName: 'mail-health/seed-outlook' } },
    ]);
    expect(deployed.seeds?.[1]?.imap.ca).toBe('ca/seed-outlook.pem');
    expect(readFileSync(join(bundle, 'ca', 'seed-outlook.pem'), 'utf8')).toBe(readFileSync(caFile, 'utf8'));
    const body = joinToString(Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0]!.Properties.DashboardBody);
    expect(body).toContain('Inbox placement: latest verdict per target and seed');
    expect(body).toContain("filter message = 'placement'");
  });

  it('adds no placement table to a dashboard without seeds', () => {
    const { template } = synthStack(example);
    const body = joinToString(Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0]!.Properties.DashboardBody);
    expect(body).not.toContain('Inbox placement');
  });

  it('refuses a seed that names no secret for AWS, naming the field', () => {
    const local = parseConfig({ ...example, seeds: [{ name: 'gmail', address: 'a@gmail.com', imap: { host: '127.0.0.1', auth: { user: 'a@gmail.com', passwordEnv: 'P' } } }] }, { locale: 'en' });
    expect(() => deployedConfig(local)).toThrow(ConfigError);
    expect(() => deployedConfig(local)).toThrow(/seeds\[0\]\.imap\.auth\.secretName: required for the AWS deployment/);
  });
});
