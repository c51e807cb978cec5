/**
 * The CDK app (cdk.json "app"): reads the same config file as the CLI and synthesizes
 * MailHealthStack offline, without credentials or lookups.
 *
 * Context: `-c config=FILE` (default mailhealth.config.json, JSONC allowed),
 * `-c activateRuleSet=true`, `-c receiptRuleSet=NAME` (add the bounce rule to the account's
 * existing rule set NAME instead of a set of its own), `-c canaryIntervalMinutes=N` (required
 * with a cron() schedule),
 * `-c stackName=NAME` (default MailHealthStack).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { App, Duration } from 'aws-cdk-lib';
import { loadConfigFile } from '#adapters/config-file.ts';
import type { Config } from '#core/config.ts';
import { ConfigError } from '#core/errors.ts';
import { MailHealthStack } from '../lib/mail-health-stack.ts';

const DEFAULT_CONFIG = 'mailhealth.config.json';
const EXAMPLE_CONFIG = fileURLToPath(new URL('../mailhealth.config.example.jsonc', import.meta.url));

function fail(message: string): never {
  process.stderr.write(`mail-health: ${message}\n`);
  process.exit(1);
}

function booleanContext(app: App, key: string): boolean {
  const value: unknown = app.node.tryGetContext(key);
  if (value === undefined || value === false || value === 'false') return false;
  if (value === true || value === 'true') return true;
  return fail(`-c ${key}=${String(value)}: expected true or false`);
}

function minutesContext(app: App, key: string): Duration | undefined {
  const value: unknown = app.node.tryGetContext(key);
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) return fail(`-c ${key}=${String(value)}: expected a whole number of minutes`);
  return Duration.minutes(n);
}

const app = new App();
let configPath = String(app.node.tryGetContext('config') ?? DEFAULT_CONFIG);
if (configPath === DEFAULT_CONFIG && !existsSync(configPath)) {
  process.stderr.write(
    `mail-health: ${DEFAULT_CONFIG} not found, synthesizing with the committed example mailhealth.config.example.jsonc; copy it to ${DEFAULT_CONFIG} and edit it (or pass -c config=FILE) before deploying\n`,
  );
  configPath = EXAMPLE_CONFIG;
}

let config: Config;
try {
  config = await loadConfigFile(configPath, { locale: process.env.LANG });
} catch (err) {
  if (err instanceof ConfigError) fail(err.message);
  throw err;
}

try {
  new MailHealthStack(app, String(app.node.tryGetContext('stackName') ?? 'MailHealthStack'), {
    description: 'mail-health: scheduled SMTP canaries, SES bounce intake, alerts, dashboard and alarms',
    config,
    activateRuleSet: booleanContext(app, 'activateRuleSet'),
    ...(app.node.tryGetContext('receiptRuleSet') !== undefined ? { existingRuleSetName: String(app.node.tryGetContext('receiptRuleSet')) } : {}),
    canaryInterval: minutesContext(app, 'canaryIntervalMinutes'),
  });
} catch (err) {
  if (err instanceof ConfigError) fail(`${configPath}: ${err.message}`);
  throw err;
}
app.synth();
