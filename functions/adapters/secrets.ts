/**
 * Secret values (the Slack webhook URL, SMTP passwords): from an environment variable locally,
 * from AWS Secrets Manager in Lambda, read once per cold start and cached.
 * Values never appear in errors or logs; only the secret's name or the variable's name does.
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ConfigError } from '#core/errors.ts';

/** The AWS calls this module makes, each with the IAM action it needs. */
export const AWS_CALLS = { GetSecretValueCommand: ['secretsmanager:GetSecretValue'] } as const;

/** Where a secret is: an env var (local), a Secrets Manager secret (AWS), or both. */
export interface SecretRef {
  /** Environment variable holding the value; checked first. */
  readonly envVar?: string;
  /** Secrets Manager secret name or ARN; read when the env var is unset or empty. */
  readonly secretName?: string;
  /** When the secret string is a JSON object: the field holding the value. */
  readonly jsonKey?: string;
}

/** Reads secret values; see createSecretReader. */
export interface SecretReader {
  /** The value, or null when the ref names nothing that is set. */
  get(ref: SecretRef): Promise<string | null>;
}

/** Where secrets come from. */
export interface SecretReaderOptions {
  /**
   * The Secrets Manager client, or a function making it on first use (a cold start that reads
   * no secret then never loads the SDK); without it only env vars are read.
   */
  readonly client?: SecretsManagerClient | (() => Promise<SecretsManagerClient>);
  /** @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/**
 * A reader to build once at module scope (once per cold start): each secret is fetched once.
 * @example
 * const secrets = createSecretReader({ client: new SecretsManagerClient({}) });
 * const url = await secrets.get({ envVar: config.alerts.slack?.webhookUrlEnv, secretName: config.alerts.slack?.secretName });
 */
export function createSecretReader(options: SecretReaderOptions = {}): SecretReader {
  const env = options.env ?? process.env;
  const cache = new Map<string, Promise<string | null>>();
  let sdk: Promise<typeof import('@aws-sdk/client-secrets-manager')> | undefined;

  async function fetchSecret(secretName: string): Promise<string | null> {
    if (!options.client) return null;
    try {
      const client = typeof options.client === 'function' ? await options.client() : options.client;
      const { GetSecretValueCommand } = await (sdk ??= import('@aws-sdk/client-secrets-manager'));
      const out = await client.send(new GetSecretValueCommand({ SecretId: secretName }));
      return out.SecretString ?? null;
    } catch (err) {
      const name = err instanceof Error ? err.name : 'Error';
      if (name === 'ResourceNotFoundException') throw new ConfigError(`secret ${secretName} does not exist in Secrets Manager`, 'secretName', { cause: err });
      // The SDK's message names the secret and the failure, never the value.
      throw new ConfigError(`secret ${secretName} could not be read (${name})`, 'secretName', { cause: err });
    }
  }

  return {
    async get(ref: SecretRef): Promise<string | null> {
      const fromEnv = ref.envVar ? env[ref.envVar] : undefined;
      if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
      if (!ref.secretName) return null;
      let pending = cache.get(ref.secretName);
      if (pending === undefined) {
        pending = fetchSecret(ref.secretName);
        cache.set(ref.secretName, pending);
        // A failed read is not cached: the next invocation tries again.
        pending.catch(() => cache.delete(ref.secretName!));
      }
      const value = await pending;
      if (value === null || ref.jsonKey === undefined) return value === '' ? null : value;
      let doc: unknown;
      try {
        doc = JSON.parse(value);
      } catch {
        throw new ConfigError(`secret ${ref.secretName} is not JSON, so it has no field ${ref.jsonKey}`, 'secretName');
      }
      const field = typeof doc === 'object' && doc !== null ? (doc as Record<string, unknown>)[ref.jsonKey] : undefined;
      return typeof field === 'string' && field !== '' ? field : null;
    },
  };
}
