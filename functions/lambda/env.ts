/**
 * The environment the stack gives every handler (the contract at the top of
 * lib/mail-health-stack.ts), read once per cold start. A missing or unreadable variable is a
 * ConfigError naming it, so a broken deployment fails on its first invocation with a clear line.
 */
import type { Config } from '#core/config.ts';
import { ConfigError } from '#core/errors.ts';

/** The environment a reader looks at (process.env in Lambda, a plain object in tests). */
export type Env = Readonly<Record<string, string | undefined>>;

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

/**
 * The deployed config from `MAILHEALTH_CONFIG`. The stack validated it with the zod schema at
 * synth and filled every default, so only its outline is checked here: importing the schema
 * would put zod (about 450 KB) into every bundle.
 * @example const config = readDeployedConfig(); // at module scope
 */
export function readDeployedConfig(env: Env = process.env, name = 'MAILHEALTH_CONFIG'): Config {
  const text = requiredEnv(name, env);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`environment variable ${name} is not JSON (${err instanceof Error ? err.message : String(err)})`, name, { cause: err });
  }
  if (!isObject(doc)) throw new ConfigError(`environment variable ${name}: expected a JSON object`, name);
  const problems: string[] = [];
  if (typeof doc.bounceDomain !== 'string') problems.push('bounceDomain');
  if (doc.language !== 'en' && doc.language !== 'ja') problems.push('language');
  if (typeof doc.deliveryTimeoutMinutes !== 'number') problems.push('deliveryTimeoutMinutes');
  if (!isObject(doc.alerts)) problems.push('alerts');
  if (!Array.isArray(doc.targets) || doc.targets.length === 0 || !doc.targets.every((t) => isObject(t) && typeof t.name === 'string' && isObject(t.timeouts))) {
    problems.push('targets');
  }
  if (problems.length > 0) {
    throw new ConfigError(`environment variable ${name}: not a resolved mail-health config (missing or wrong: ${problems.join(', ')}); deploy it with the CDK app`, name);
  }
  return doc as unknown as Config;
}
