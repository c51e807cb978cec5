/**
 * The credentials of a seed's IMAP login, wherever they are kept: an inline or environment
 * password locally, a Secrets Manager secret in AWS (both through the SecretReader), or an OAuth
 * 2.0 access token refreshed from a refresh token kept the same ways. What cannot be had is a
 * SeedCredentialsError (kind `secret`, or `token` for a refused refresh token) naming the field,
 * never the value.
 */
import type { SeedConfig } from '#core/config.ts';
import { ConfigError } from '#core/errors.ts';
import { SeedCredentialsError, type SeedCredentials } from './imap-seed.ts';
import { createAccessTokenSource, type AccessTokenSource } from './oauth2-token.ts';
import type { SecretReader } from './secrets.ts';

/**
 * A credentials resolver for createImapSeedReader.
 * @example
 * const credentials = seedCredentials({ secrets: createSecretReader({ env: process.env }) });
 * const read = createImapSeedReader({ credentials });
 */
export function seedCredentials(deps: { readonly secrets: SecretReader; readonly tokens?: AccessTokenSource }): (seed: SeedConfig) => Promise<SeedCredentials> {
  const tokens = deps.tokens ?? createAccessTokenSource();
  const get = async (seed: SeedConfig, what: string, ref: Parameters<SecretReader['get']>[0]) => {
    try {
      return await deps.secrets.get(ref);
    } catch (err) {
      if (err instanceof ConfigError) throw new SeedCredentialsError('secret', `seed ${seed.name}: ${what}: ${err.message}`);
      throw err;
    }
  };
  return async (seed) => {
    const auth = seed.imap.auth;
    if (auth.oauth2) {
      const o = auth.oauth2;
      const refreshToken = await get(seed, 'the refresh token', { ...(o.refreshTokenEnv ? { envVar: o.refreshTokenEnv } : {}), ...(o.secretName ? { secretName: o.secretName, jsonKey: 'refreshToken' } : {}) });
      if (!refreshToken) {
        const where = [o.refreshTokenEnv ? `environment variable ${o.refreshTokenEnv}` : null, o.secretName ? `field refreshToken of secret ${o.secretName}` : null].filter(Boolean).join(' or ');
        throw new SeedCredentialsError('secret', `seed ${seed.name}: imap.auth.oauth2: no refresh token in ${where}`);
      }
      const clientSecret =
        o.clientSecretEnv || o.secretName
          ? await get(seed, 'the client secret', { ...(o.clientSecretEnv ? { envVar: o.clientSecretEnv } : {}), ...(o.secretName ? { secretName: o.secretName, jsonKey: 'clientSecret' } : {}) })
          : null;
      const accessToken = await tokens({ tokenUrl: o.tokenUrl, clientId: o.clientId, refreshToken, ...(clientSecret ? { clientSecret } : {}), ...(o.scope ? { scope: o.scope } : {}) });
      return { user: auth.user, accessToken };
    }
    if (auth.password !== undefined) return { user: auth.user, password: auth.password };
    const password = await get(seed, 'the password', {
      ...(auth.passwordEnv ? { envVar: auth.passwordEnv } : {}),
      ...(auth.secretName ? { secretName: auth.secretName, ...(auth.secretKey ? { jsonKey: auth.secretKey } : {}) } : {}),
    });
    if (!password) {
      const where = [auth.passwordEnv ? `environment variable ${auth.passwordEnv}` : null, auth.secretName ? `secret ${auth.secretName}${auth.secretKey ? ` (field ${auth.secretKey})` : ''}` : null].filter(Boolean).join(' or ');
      throw new SeedCredentialsError('secret', `seed ${seed.name}: imap.auth: no password in ${where}${auth.secretName && !auth.passwordEnv ? ' (secretName is read in AWS; set passwordEnv to read the seed from this machine)' : ''}`);
    }
    return { user: auth.user, password };
  };
}
