/**
 * The environment the stack gives every handler (the contract at the top of
 * lib/mail-health-stack.ts), read once per cold start. A missing or unreadable variable or file
 * is a ConfigError naming it, so a broken deployment fails on its first invocation with a clear line.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { Config } from '#core/config.ts';
import { ConfigError } from '#core/errors.ts';

/** The environment a reader looks at (process.env in Lambda, a plain object in tests). */
export type Env = Readonly<Record<string, string | undefined>>;

/**
 * The variable naming the deployed config file: a path relative to the function's code
 * (`LAMBDA_TASK_ROOT`, where Lambda unpacks the bundle), or absolute.
 */
export const CONFIG_FILE_ENV = 'MAILHEALTH_CONFIG_FILE';

/** The value of `name`; throws a ConfigError naming the variable when it is unset or empty. */
export function requiredEnv(name: string, env: Env = process.env): string {
  const value = env[name];
  if (value === undefined || value.trim() === '') {
    throw new ConfigError(`environment variable ${name} is not set (the stack sets it: see the handler contract in lib/mail-health-stack.ts)`, name);
  }
  return value;
}

/** The value of `name`, or undefined when it is unset or empty. */
export function optionalEnv(name: string, env: Env = process.env): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value;
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** Where the deployed config file is: `MAILHEALTH_CONFIG_FILE`, relative to `LAMBDA_TASK_ROOT` (else the working directory). */
export function deployedConfigPath(env: Env = process.env): string {
  const name = requiredEnv(CONFIG_FILE_ENV, env);
  return isAbsolute(name) ? name : resolve(optionalEnv('LAMBDA_TASK_ROOT', env) ?? process.cwd(), name);
}

/**
 * The deployed config, from the JSON file the stack puts into every function's bundle (an
 * environment variable holds 4 KB at most, a real config is far larger). The stack validated
 * it with the zod schema at synth and filled every default, so only its outline is checked
 * here: importing the schema would put zod (about 450 KB) into every bundle. A target's `ca`
 * is relative to the file.
 * @example const config = readDeployedConfig(); // at module scope
 */
export function readDeployedConfig(env: Env = process.env): Config {
  const path = deployedConfigPath(env);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`the config file ${path} (${CONFIG_FILE_ENV}) cannot be read: ${(err as NodeJS.ErrnoException).code ?? String(err)}; deploy the stack again`, CONFIG_FILE_ENV, { cause: err });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`the config file ${path} is not JSON (${err instanceof Error ? err.message : String(err)})`, CONFIG_FILE_ENV, { cause: err });
  }
  if (!isObject(doc)) throw new ConfigError(`the config file ${path}: expected a JSON object`, CONFIG_FILE_ENV);
  const problems: string[] = [];
  if (typeof doc.bounceDomain !== 'string') problems.push('bounceDomain');
  if (doc.language !== 'en' && doc.language !== 'ja') problems.push('language');
  if (typeof doc.deliveryTimeoutMinutes !== 'number') problems.push('deliveryTimeoutMinutes');
  if (!isObject(doc.alerts)) problems.push('alerts');
  if (!isObject(doc.retention)) problems.push('retention');
  if (!Array.isArray(doc.targets) || doc.targets.length === 0 || !doc.targets.every((t) => isObject(t) && typeof t.name === 'string' && isObject(t.timeouts))) {
    problems.push('targets');
  }
  if (problems.length > 0) {
    throw new ConfigError(`the config file ${path}: not a resolved mail-health config (missing or wrong: ${problems.join(', ')}); deploy it with the CDK app`, CONFIG_FILE_ENV);
  }
  const config = doc as unknown as Config;
  const base = dirname(path);
  return { ...config, targets: config.targets.map((t) => (t.ca && !isAbsolute(t.ca) ? { ...t, ca: resolve(base, t.ca) } : t)) };
}
