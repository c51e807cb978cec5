import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSecretReader } from '#adapters/secrets.ts';
import { ConfigError } from '#core/errors.ts';
import { startHttpCapture, type CaptureReply, type CapturedRequest, type HttpCapture } from '../helpers/http-capture.ts';

const WEBHOOK = 'https://hooks.slack.com/services/T0000/B0000/secret-token-value';

/** A Secrets Manager stand-in speaking its JSON protocol (GetSecretValue only). */
function secretsManager(secrets: Record<string, string>, failFirst = 0) {
  let calls = 0;
  return (req: CapturedRequest): CaptureReply => {
    calls++;
    const headers = { 'content-type': 'application/x-amz-json-1.1' };
    if (req.headers['x-amz-target'] !== 'secretsmanager.GetSecretValue') return { status: 400, headers, body: '{"__type":"InvalidAction"}' };
    if (calls <= failFirst) return { status: 400, headers, body: JSON.stringify({ __type: 'AccessDeniedException', message: 'not allowed' }) };
    const { SecretId } = req.json<{ SecretId: string }>();
    const value = secrets[SecretId];
    if (value === undefined) {
      return { status: 400, headers, body: JSON.stringify({ __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." }) };
    }
    return { status: 200, headers, body: JSON.stringify({ ARN: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${SecretId}`, Name: SecretId, SecretString: value, VersionId: 'v1' }) };
  };
}

describe('createSecretReader', () => {
  let server: HttpCapture;
  let client: SecretsManagerClient;
  const start = async (handler: (req: CapturedRequest) => CaptureReply) => {
    server = await startHttpCapture(handler);
    client = new SecretsManagerClient({ endpoint: server.url, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
  };
  beforeEach(() => {
    server = undefined as unknown as HttpCapture;
    client = undefined as unknown as SecretsManagerClient;
  });
  afterEach(async () => {
    client?.destroy();
    await server?.close();
  });

  it('reads a secret from Secrets Manager once per cold start', async () => {
    // Prepare
    await start(secretsManager({ 'mail-health/slack-webhook': WEBHOOK }));
    const secrets = createSecretReader({ client, env: {} });

    // Act
    const first = await secrets.get({ envVar: 'SLACK_WEBHOOK_URL', secretName: 'mail-health/slack-webhook' });
    const second = await secrets.get({ secretName: 'mail-health/slack-webhook' });

    // Assess
    expect(first).toBe(WEBHOOK);
    expect(second).toBe(WEBHOOK);
    expect(server.requests).toHaveLength(1);
  });

  it('prefers the environment variable when it is set (local runs)', async () => {
    await start(secretsManager({}));
    const secrets = createSecretReader({ client, env: { SLACK_WEBHOOK_URL: 'http://127.0.0.1:9/hook' } });
    expect(await secrets.get({ envVar: 'SLACK_WEBHOOK_URL', secretName: 'mail-health/slack-webhook' })).toBe('http://127.0.0.1:9/hook');
    expect(server.requests).toHaveLength(0);
  });

  it('picks a field of a JSON secret', async () => {
    await start(secretsManager({ 'mail-health/shop-smtp': JSON.stringify({ password: 'pw-value', user: 'shop' }) }));
    const secrets = createSecretReader({ client, env: {} });
    expect(await secrets.get({ secretName: 'mail-health/shop-smtp', jsonKey: 'password' })).toBe('pw-value');
  });

  it('names the secret but never a value when it cannot be read, and retries a failed read', async () => {
    // Prepare: the first call is refused
    await start(secretsManager({ 'mail-health/slack-webhook': WEBHOOK }, 1));
    const secrets = createSecretReader({ client, env: {} });

    // Act
    const refused = await secrets.get({ secretName: 'mail-health/slack-webhook' }).catch((e: unknown) => e);
    const retried = await secrets.get({ secretName: 'mail-health/slack-webhook' });
    const absent = await secrets.get({ secretName: 'mail-health/absent' }).catch((e: unknown) => e);

    // Assess
    expect(refused).toBeInstanceOf(ConfigError);
    expect((refused as ConfigError).message).toBe('secret mail-health/slack-webhook could not be read (AccessDeniedException)');
    expect(retried).toBe(WEBHOOK);
    expect((absent as ConfigError).message).toBe('secret mail-health/absent does not exist in Secrets Manager');
  });

  it('answers null when neither the variable nor a client is there', async () => {
    const secrets = createSecretReader({ env: {} });
    expect(await secrets.get({ envVar: 'SLACK_WEBHOOK_URL', secretName: 'mail-health/slack-webhook' })).toBeNull();
  });
});
