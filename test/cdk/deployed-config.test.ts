/**
 * Every config field reaches the Lambdas or is left out on purpose: a config with every field of
 * the schema set is synthesized with bundling, and the config each function's bundle holds (read
 * the way the handlers read it) is compared with it field by field. A field added to the schema
 * must be added to EVERY_FIELD (the coverage test says which), and then either arrives in the
 * bundles or is named in NOT_DEPLOYED here; dropping it in silence fails.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configJsonSchema, parseConfig, type Config } from '#core/config.ts';
import { ConfigError } from '#core/errors.ts';
import { readDeployedConfig } from '../../functions/lambda/env.ts';
import { deployedConfig } from '../../lib/deployed-config.ts';
import { synthStack } from './helpers.ts';

type Resources = Record<string, { Type: string; Properties: Record<string, any>; Metadata?: Record<string, unknown> }>;

/**
 * The fields the Lambdas do not receive, and why (a path with `[]` for any array element). The
 * deployment's own rules are in lib/deployed-config.ts; this list is what the test accepts.
 */
const NOT_DEPLOYED: Readonly<Record<string, string>> = {
  $schema: 'an editor hint',
  local: 'settings of mailhealth run on this machine',
  'targets[].auth.password': 'a secret: the canary reads auth.secretName',
  'targets[].auth.passwordEnv': 'local runs only',
  'alerts.slack.webhookUrlEnv': 'local runs only: the alert Lambda reads alerts.slack.secretName',
  'alerts.routes[].slack.webhookUrlEnv': "local runs only: the alert Lambda reads the route's slack.secretName",
  'seeds[].imap.auth.password': "a secret: the canary reads the seed's imap.auth.secretName",
  'seeds[].imap.auth.passwordEnv': 'local runs only',
  'seeds[].imap.auth.oauth2.refreshTokenEnv': 'local runs only: the canary reads oauth2.secretName',
  'seeds[].imap.auth.oauth2.clientSecretEnv': 'local runs only: the canary reads oauth2.secretName',
};

let scratch: string;
let caFile: string;

/** A config document that sets every field of the schema, each to a value other than its default. */
function everyField(): Record<string, unknown> {
  return {
    $schema: './mailhealth.config.schema.json',
    language: 'ja',
    bounceDomain: 'bounces.example.jp',
    schedule: 'rate(10 minutes)',
    roundTripSchedule: 'rate(2 hours)',
    deliveryTimeoutMinutes: 25,
    targets: [
      {
        name: 'shop',
        host: 'smtp.example.jp',
        port: 465,
        tls: 'implicit',
        ca: caFile,
        servername: 'mail.example.jp',
        ehloName: 'canary.example.jp',
        auth: { user: 'shop@example.jp', password: 'inline-secret', passwordEnv: 'SHOP_SMTP_PASSWORD', secretName: 'mail-health/smtp', secretKey: 'shop' },
        from: 'shop@example.jp',
        to: ['canary@bounces.example.jp', 'owner@example.jp'],
        probePorts: [587, 465],
        port25ReferenceHost: 'mx.example.jp',
        maxMessageBytes: 5_000_000,
        timeouts: { connectMs: 7_000, stepMs: 9_000, probeMs: 1_500 },
        slowStepMs: 4_000,
        dkimSelectors: ['mail2025', 'backup'],
        route: 'shop-owner',
        seeds: ['gmail', 'docomo'],
      },
    ],
    // One seed logs in with a password, one with OAuth2 (the schema allows one or the other).
    seeds: [
      {
        name: 'docomo',
        address: 'shop-seed@docomo.ne.jp',
        imap: {
          host: '127.0.0.1',
          port: 143,
          tls: 'starttls',
          ca: caFile,
          servername: 'imap.docomo.example.jp',
          auth: { user: 'shop-seed@docomo.ne.jp', password: 'inline-seed-secret', passwordEnv: 'DOCOMO_SEED_PASSWORD', secretName: 'mail-health/seeds', secretKey: 'docomo' },
          timeoutMs: 15_000,
        },
        authservIds: ['mfsmax.docomo.ne.jp'],
        junkFolder: '迷惑メール',
        slowSeconds: 600,
      },
      {
        name: 'gmail',
        address: 'shop.seed@gmail.com',
        imap: {
          host: '127.0.0.1',
          auth: {
            user: 'shop.seed@gmail.com',
            oauth2: { tokenUrl: 'https://oauth2.example/token', clientId: 'client-id', scope: 'https://mail.google.com/', refreshTokenEnv: 'GMAIL_REFRESH_TOKEN', clientSecretEnv: 'GMAIL_CLIENT_SECRET', secretName: 'mail-health/seed-gmail' },
          },
        },
      },
    ],
    alerts: {
      failureThreshold: 3,
      recoveryThreshold: 4,
      reminderMinutes: 90,
      bounceDigestMinutes: 15,
      slack: { webhookUrlEnv: 'SLACK_WEBHOOK_URL', secretName: 'mail-health/slack' },
      email: { from: 'monitor@example.jp', to: ['owner@example.jp'], maxPerSecond: 2 },
      alarmEmails: ['ops@example.jp'],
      routes: [
        {
          name: 'shop-owner',
          language: 'en',
          slack: { webhookUrlEnv: 'SHOP_SLACK_URL', secretName: 'mail-health/shop-slack' },
          email: { to: ['owner@shop.example.jp'], from: 'alerts@example.jp' },
        },
      ],
    },
    retention: { rawMailDays: 20, historyDays: 40, historyMaxRecords: 5_000 },
    dnsbl: ['bl.spamcop.net'],
    dnsServers: ['192.0.2.53', '192.0.2.54:5353'],
    local: { intervalSeconds: 30, bounceListener: { host: '127.0.0.1', port: 2525 }, bounceDir: 'bounces' },
  };
}

/** Every field path of a JSON Schema: `a.b`, with `[]` for the items of an array. */
function schemaPaths(schema: Record<string, any>, at = ''): string[] {
  const out: string[] = [];
  for (const [key, sub] of Object.entries((schema.properties ?? {}) as Record<string, Record<string, any>>)) {
    const here = at === '' ? key : `${at}.${key}`;
    out.push(here, ...schemaPaths(sub, here));
  }
  if (schema.items) out.push(...schemaPaths(schema.items as Record<string, any>, `${at}[]`));
  for (const branch of [...(schema.anyOf ?? []), ...(schema.oneOf ?? []), ...(schema.allOf ?? [])] as Record<string, any>[]) out.push(...schemaPaths(branch, at));
  if (schema.$ref) throw new Error(`schemaPaths: follow ${schema.$ref as string} at ${at} before relying on this coverage`);
  return out;
}

/** The values at a schema path in a document (every element where the path crosses an array). */
function valuesAt(doc: unknown, path: string): unknown[] {
  let current: unknown[] = [doc];
  for (const part of path.split('.')) {
    const array = part.endsWith('[]');
    const key = array ? part.slice(0, -2) : part;
    current = current.flatMap((v) => (v !== null && typeof v === 'object' && key in v ? [(v as Record<string, unknown>)[key]] : []));
    if (array) current = current.flatMap((v) => (Array.isArray(v) ? v : []));
  }
  return current.filter((v) => v !== undefined);
}

/** Every leaf of a value by its path (`targets[0].auth.user`); empty arrays and objects are leaves. */
function leaves(value: unknown, at = '', out = new Map<string, unknown>()): Map<string, unknown> {
  if (Array.isArray(value) && value.length > 0) value.forEach((v, i) => leaves(v, `${at}[${i}]`, out));
  else if (value !== null && typeof value === 'object' && Object.keys(value).length > 0) {
    for (const [k, v] of Object.entries(value)) if (v !== undefined) leaves(v, at === '' ? k : `${at}.${k}`, out);
  } else out.set(at, value);
  return out;
}

/** The NOT_DEPLOYED entry a leaf path falls under, if any. */
function notDeployed(path: string): string | undefined {
  const general = path.replace(/\[\d+\]/g, '[]');
  return Object.keys(NOT_DEPLOYED).find((p) => general === p || general.startsWith(`${p}.`) || general.startsWith(`${p}[`));
}

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'mail-health-deployed-'));
  caFile = join(scratch, 'private-ca.pem');
  writeFileSync(caFile, '-----BEGIN CERTIFICATE-----\nnot a real certificate, only copied\n-----END CERTIFICATE-----\n');
});

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

describe('the config the Lambdas receive', { timeout: 180_000 }, () => {
  it("is tested with a config that sets every field of the schema", () => {
    // Act
    const missing = schemaPaths(configJsonSchema()).filter((path) => valuesAt(everyField(), path).length === 0);
    // Assess: a field added to the schema must be set in everyField() above.
    expect(missing).toEqual([]);
    expect(() => parseConfig(everyField())).not.toThrow();
  });

  it("is the config given in every function's bundle, less only the fields left out on purpose", () => {
    // Prepare
    const given = parseConfig(everyField());
    // Act
    const { app, stack, template } = synthStack(given, {}, { bundling: true });
    const functions = Object.values(template.toJSON().Resources as Resources).filter((r) => r.Type === 'AWS::Lambda::Function' && r.Metadata?.['aws:asset:path']);
    // Assess
    expect(functions.length).toBeGreaterThanOrEqual(4);
    const expected = new Map([...leaves(given)].filter(([path]) => notDeployed(path) === undefined));
    for (const fn of functions) {
      const bundle = join(app.outdir, String(fn.Metadata!['aws:asset:path']));
      const received = readDeployedConfig({ MAILHEALTH_CONFIG_FILE: 'mailhealth.config.json', LAMBDA_TASK_ROOT: bundle });
      const got = leaves(received);
      const label = String(fn.Properties.Description);
      // The CA arrives as a copy in the bundle, the path pointing at it.
      expect(got.get('targets[0].ca'), label).toBe(join(bundle, 'ca', 'shop.pem'));
      if (label.includes('canary round')) expect(readFileSync(got.get('targets[0].ca') as string, 'utf8')).toBe(readFileSync(caFile, 'utf8'));
      expect(got.get('seeds[0].imap.ca'), label).toBe(join(bundle, 'ca', 'seed-docomo.pem'));
      if (label.includes('canary round')) expect(readFileSync(got.get('seeds[0].imap.ca') as string, 'utf8')).toBe(readFileSync(caFile, 'utf8'));
      for (const path of ['targets[0].ca', 'seeds[0].imap.ca']) {
        got.delete(path);
        expected.delete(path);
      }
      const lost = [...expected].filter(([path, v]) => JSON.stringify(got.get(path)) !== JSON.stringify(v)).map(([path, v]) => `${path}: given ${JSON.stringify(v)}, received ${JSON.stringify(got.get(path))}`);
      const invented = [...got.keys()].filter((path) => !expected.has(path));
      expect(lost, label).toEqual([]);
      expect(invented, label).toEqual([]);
    }
    expect(readFileSync(stack.configFile, 'utf8')).not.toMatch(/inline-secret|inline-seed-secret|SHOP_SMTP_PASSWORD|DOCOMO_SEED_PASSWORD|GMAIL_REFRESH_TOKEN|SLACK_WEBHOOK_URL|bounceDir/);
  });

  it('refuses at synth, naming it, a field the deployment has no rule for', () => {
    // Prepare: fields of the kind being added, unknown to the rules.
    const config = parseConfig(everyField());
    const cases: [string, Config][] = [
      ['seeds[0].folder', { ...config, seeds: [{ ...config.seeds![0]!, folder: 'INBOX' }] } as unknown as Config],
      ['targets[0].owner', { ...config, targets: [{ ...config.targets[0]!, owner: 'shop-owner' }] } as unknown as Config],
      ['alerts.routes[0].webhook', { ...config, alerts: { ...config.alerts, routes: [{ name: 'r', webhook: 'x' }] } } as unknown as Config],
      ['alerts.slack.channel', { ...config, alerts: { ...config.alerts, slack: { secretName: 's', channel: '#ops' } } } as unknown as Config],
    ];
    for (const [field, bad] of cases) {
      // Act
      let error: unknown;
      try {
        deployedConfig(bad);
      } catch (err) {
        error = err;
      }
      // Assess
      expect(error, field).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).field).toBe(field);
      expect((error as Error).message).toBe(`${field}: the AWS deployment does not know this field yet, so the Lambdas would not see it; give it a rule in lib/deployed-config.ts`);
    }
  });
});
