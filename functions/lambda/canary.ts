/**
 * What the canary Lambda resolves before a round: which target the schedule named, its SMTP
 * password (Secrets Manager, by `auth.secretName`, or a field `auth.secretKey` of a JSON secret
 * several targets share) and its private CA file (copied into the bundle by the stack). Both are
 * read once per cold start and kept.
 */
import { readFile } from 'node:fs/promises';
import type { Config, TargetConfig } from '#core/config.ts';
import { ConfigError } from '#core/errors.ts';
import type { CanaryRoundContext } from '#core/probe/round.ts';
import type { SecretReader } from '#adapters/secrets.ts';

/** The target the scheduler input names; a ConfigError when the config has none by that name. */
export function targetNamed(config: Config, name: string): TargetConfig {
  const target = config.targets.find((t) => t.name === name);
  if (!target) {
    throw new ConfigError(`the schedule names target ${name}, which the deployed config does not have (targets: ${config.targets.map((t) => t.name).join(', ')}); redeploy the stack`, 'target');
  }
  return target;
}

const caFiles = new Map<string, Promise<string>>();

async function readCa(path: string, target: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`target ${target}: cannot read its CA file ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)})`, 'ca', { cause: err });
  }
}

/**
 * The per-round context of a target: bounce domain, password and CA text. Throws a
 * ConfigError naming the secret or file when one cannot be read (the message never holds a
 * secret value).
 */
export async function roundContext(target: TargetConfig, config: Config, secrets: () => SecretReader): Promise<CanaryRoundContext> {
  let password: string | undefined;
  if (target.auth) {
    const secretName = target.auth.secretName;
    if (!secretName) throw new ConfigError(`target ${target.name}: auth.secretName is required in AWS`, 'auth.secretName');
    const secretKey = target.auth.secretKey;
    const value = await secrets().get({ secretName, ...(secretKey !== undefined ? { jsonKey: secretKey } : {}) });
    if (value === null) {
      const where = secretKey !== undefined ? `has no field ${secretKey}` : 'is empty';
      throw new ConfigError(`target ${target.name}: the secret ${secretName} ${where}; put the SMTP password into it`, 'auth.secretName');
    }
    password = value;
  }
  let ca: string | undefined;
  if (target.ca) {
    const path = target.ca;
    let pending = caFiles.get(path);
    if (!pending) {
      pending = readCa(path, target.name);
      caFiles.set(path, pending);
      pending.catch(() => caFiles.delete(path));
    }
    ca = await pending;
  }
  return { bounceDomain: config.bounceDomain, ...(password !== undefined ? { password } : {}), ...(ca !== undefined ? { ca } : {}) };
}
