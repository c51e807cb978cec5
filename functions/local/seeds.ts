/**
 * The seeds of a local run (`mailhealth run`, `check`): the IMAP reader with credentials from the
 * config and the environment (inline or `passwordEnv` passwords, OAuth 2.0 refresh tokens from
 * `refreshTokenEnv`), the seeds' CA files, and a check before anything runs that every seed can
 * be logged in from this machine (a ConfigError naming the field otherwise).
 */
import { readFile } from 'node:fs/promises';
import { createImapSeedReader } from '#adapters/imap-seed.ts';
import { seedCredentials } from '#adapters/seed-credentials.ts';
import { createSecretReader } from '#adapters/secrets.ts';
import type { Config, SeedConfig } from '#core/config.ts';
import { ConfigError } from '#core/errors.ts';
import type { SeedReader } from '#core/ports.ts';

const isSet = (env: NodeJS.ProcessEnv, name: string | undefined) => name !== undefined && (env[name] ?? '') !== '';

/**
 * Throws a ConfigError naming the field when a seed's login cannot be read on this machine
 * (an environment variable unset, only an AWS secret named).
 * @example checkLocalSeeds(config, process.env)
 */
export function checkLocalSeeds(config: Pick<Config, 'seeds'>, env: NodeJS.ProcessEnv): void {
  (config.seeds ?? []).forEach((seed, i) => {
    const auth = seed.imap.auth;
    const field = `seeds[${i}].imap.auth`;
    if (auth.oauth2) {
      const o = auth.oauth2;
      if (!isSet(env, o.refreshTokenEnv)) {
        throw new ConfigError(
          o.refreshTokenEnv ? `${field}.oauth2.refreshTokenEnv: environment variable ${o.refreshTokenEnv} is not set` : `${field}.oauth2: only secretName is set, which is read in AWS; set refreshTokenEnv to read seed ${seed.name} from this machine`,
          `${field}.oauth2`,
        );
      }
      if (o.clientSecretEnv && !isSet(env, o.clientSecretEnv)) throw new ConfigError(`${field}.oauth2.clientSecretEnv: environment variable ${o.clientSecretEnv} is not set`, `${field}.oauth2.clientSecretEnv`);
      return;
    }
    if (auth.password !== undefined) return;
    if (auth.passwordEnv) {
      if (!isSet(env, auth.passwordEnv)) throw new ConfigError(`${field}.passwordEnv: environment variable ${auth.passwordEnv} is not set`, `${field}.passwordEnv`);
      return;
    }
    throw new ConfigError(`${field}: only secretName is set, which is read in AWS; set passwordEnv (or password) to read seed ${seed.name} from this machine`, field);
  });
}

/**
 * The IMAP reader of a local run.
 * @param options.dial the TCP port to dial for a seed (the demo, tests) @default its imap.port
 * @param options.ca extra CA text for every seed (the demo's CA) besides its own imap.ca file
 * @example const read = localSeedReader(process.env);
 */
export function localSeedReader(env: NodeJS.ProcessEnv, options: { readonly dial?: (seed: SeedConfig) => number; readonly ca?: string } = {}): SeedReader {
  const caFiles = new Map<string, Promise<string>>();
  return createImapSeedReader({
    credentials: seedCredentials({ secrets: createSecretReader({ env }) }),
    async ca(seed) {
      const path = seed.imap.ca;
      if (!path) return options.ca;
      let pending = caFiles.get(path);
      if (!pending) {
        pending = readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
          caFiles.delete(path);
          throw new ConfigError(`seed ${seed.name}: imap.ca: cannot read ${path}: ${err.code ?? String(err)}`, 'seeds[].imap.ca', { cause: err });
        });
        caFiles.set(path, pending);
      }
      return [await pending, options.ca].filter(Boolean).join('\n');
    },
    ...(options.dial ? { dial: options.dial } : {}),
  });
}
