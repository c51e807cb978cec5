/**
 * The Secrets Manager reader of a handler, built on first use. Each secret is fetched once per
 * cold start and cached by the reader (functions/adapters/secrets.ts).
 */
import { createSecretReader, type SecretReader } from '#adapters/secrets.ts';
import { once } from './lazy.ts';

/**
 * A reader over Secrets Manager only: in Lambda no environment variable may stand in for a
 * secret, so the env lookup is given an empty environment.
 */
export const secretReader: () => SecretReader = once(() =>
  createSecretReader({
    // The SDK is loaded when the first secret is read, not at import.
    client: async () => new (await import('@aws-sdk/client-secrets-manager')).SecretsManagerClient({}),
    env: {},
  }),
);
