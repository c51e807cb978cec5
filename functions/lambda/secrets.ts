/**
 * The Secrets Manager reader of a handler, built on first use. Each secret is fetched once per
 * cold start and cached by the reader (functions/adapters/secrets.ts).
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createSecretReader, type SecretReader } from '#adapters/secrets.ts';
import { once } from './lazy.ts';

/**
 * A reader over Secrets Manager only: in Lambda no environment variable may stand in for a
 * secret, so the env lookup is given an empty environment.
 */
export const secretReader: () => SecretReader = once(() => createSecretReader({ client: new SecretsManagerClient({}), env: {} }));
