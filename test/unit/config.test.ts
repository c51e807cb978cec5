import { describe, expect, it } from 'vitest';
import { parseConfig, configJsonSchema, configWarnings, languageFromLocale } from '#core/config.ts';
import { ConfigError } from '#core/errors.ts';

const minimal = {
  bounceDomain: 'bounces.example.jp',
  targets: [{ name: 'shop', host: 'smtp.example.jp', from: 'shop@example.jp', to: ['owner@example.jp'] }],
};

function errorOf(doc: unknown): ConfigError {
  try {
    parseConfig(doc);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('parseConfig', () => {
  it('fills in the documented defaults', () => {
    const config = parseConfig(minimal, { locale: 'C.UTF-8' });
    const [target] = config.targets;
    expect(target).toMatchObject({ port: 587, tls: 'starttls', probePorts: [25, 587, 465], maxMessageBytes: 10485760 });
    expect(target?.timeouts).toEqual({ connectMs: 10000, stepMs: 15000, probeMs: 3000 });
    expect(config.alerts).toEqual({ failureThreshold: 2, recoveryThreshold: 2, reminderMinutes: 60, bounceDigestMinutes: 10, routes: [] });
    expect(config.retention).toEqual({ rawMailDays: 30, historyDays: 35, historyMaxRecords: 100000 });
    expect(config.schedule).toBe('rate(5 minutes)');
    expect(config.language).toBe('en');
  });

  it('takes the language from LANG when the file does not set it', () => {
    expect(parseConfig(minimal, { locale: 'ja_JP.UTF-8' }).language).toBe('ja');
    expect(parseConfig({ ...minimal, language: 'en' }, { locale: 'ja_JP.UTF-8' }).language).toBe('en');
    expect(languageFromLocale(undefined)).toBe('en');
  });

  it('names the field and the problem of a wrong type', () => {
    const err = errorOf({ ...minimal, targets: [{ ...minimal.targets[0], port: '587' }] });
    expect(err.field).toBe('targets[0].port');
    expect(err.message).toMatch(/targets\[0\]\.port: .*expected number/);
  });

  it('refuses CR or LF in anything that reaches an SMTP command or header', () => {
    const err = errorOf({ ...minimal, targets: [{ ...minimal.targets[0], from: 'shop@example.jp\r\nRCPT TO:<x@evil.example>' }] });
    expect(err.field).toBe('targets[0].from');
    expect(err.message).toMatch(/CR or LF/);
    expect(errorOf({ ...minimal, bounceDomain: 'a.example\nX: y' }).field).toBe('bounceDomain');
  });

  it('takes a field of a shared secret only together with the secret name', () => {
    const withKey = (auth: Record<string, string>) => ({ ...minimal, targets: [{ ...minimal.targets[0], auth: { user: 'shop@example.jp', ...auth } }] });
    expect(parseConfig(withKey({ secretName: 'mail-health/smtp', secretKey: 'shop' })).targets[0]?.auth?.secretKey).toBe('shop');
    const err = errorOf(withKey({ passwordEnv: 'P', secretKey: 'shop' }));
    expect(err.field).toBe('targets[0].auth.secretKey');
    expect(err.message).toContain('auth.secretName, which is missing');
  });

  it('rejects unknown fields instead of ignoring a typo', () => {
    const err = errorOf({ ...minimal, targets: [{ ...minimal.targets[0], prot: 25 }] });
    expect(err.message).toMatch(/prot/);
  });

  it('rejects duplicate target names and empty recipient lists', () => {
    expect(errorOf({ ...minimal, targets: [minimal.targets[0], minimal.targets[0]] }).message).toMatch(/unique/);
    expect(errorOf({ ...minimal, targets: [{ ...minimal.targets[0], to: [] }] }).field).toBe('targets[0].to');
  });
});

describe('configJsonSchema', () => {
  it('describes the config for editors, with the defaults', () => {
    const schema = configJsonSchema() as { properties: Record<string, { default?: unknown }>; required: string[] };
    expect(schema.required).toEqual(expect.arrayContaining(['bounceDomain', 'targets']));
    expect(schema.properties.schedule?.default).toBe('rate(5 minutes)');
  });
});

describe('config addresses', () => {
  it('refuses a canary recipient that cannot be sent, naming the field and the reason', () => {
    const err = errorOf({ ...minimal, targets: [{ ...minimal.targets[0], to: ['owner@example.jp', 'owner＠example.jp'] }] });
    expect(err.field).toBe('targets[0].to[1]');
    expect(err.message).toMatch(/FULLWIDTH_CHARACTER/);
    expect(err.message).toMatch(/owner@example\.jp/);
  });

  it('accepts a Japanese carrier address with a dot before @, with a warning', () => {
    const config = parseConfig({ ...minimal, targets: [{ ...minimal.targets[0], to: ['taro.@docomo.ne.jp'] }] });
    expect(configWarnings(config)).toEqual([expect.objectContaining({ field: 'targets[0].to[0]', code: 'DOT_BEFORE_AT' })]);
  });

  it('warns about a likely domain typo but loads the config', () => {
    const config = parseConfig({ ...minimal, targets: [{ ...minimal.targets[0], to: ['owner@gmial.com'] }] });
    expect(configWarnings(config).map((w) => w.code)).toEqual(['DOMAIN_TYPO']);
  });
});

describe('mailhealth.config.schema.json', () => {
  it('is current with the zod schema (run `npm run schema` after changing the config)', async () => {
    const { readFile } = await import('node:fs/promises');
    const { SCHEMA_FILE, schemaFileContent } = await import('../../scripts/write-config-schema.ts');
    expect(await readFile(SCHEMA_FILE, 'utf8')).toBe(schemaFileContent());
  });

  it('accepts the committed example config', async () => {
    const { loadConfigFile } = await import('#adapters/config-file.ts');
    const config = await loadConfigFile(new URL('../../mailhealth.config.example.jsonc', import.meta.url).pathname);
    expect(config.targets.length).toBeGreaterThan(0);
  });
});

describe('seeds (inbox placement)', () => {
  const seed = (name: string, address: string, auth: Record<string, unknown> = { user: address, passwordEnv: 'SEED_PASSWORD' }) => ({ name, address, imap: { host: '127.0.0.1', auth } });
  const withSeeds = (seeds: unknown[], targetSeeds?: string[]) => ({
    bounceDomain: 'bounces.example.jp',
    targets: [{ name: 'shop', host: 'smtp.example.jp', from: 'shop@example.jp', to: ['ok@bounces.example.jp'], ...(targetSeeds ? { seeds: targetSeeds } : {}) }],
    seeds,
  });

  it('fills in IMAP over implicit TLS on 993 and sends every target to every seed by default', async () => {
    const { seedsOf } = await import('#core/config.ts');
    const config = parseConfig(withSeeds([seed('gmail', 'shop.seed@gmail.com'), seed('yahoo', 'shop.seed@yahoo.com')]));
    expect(config.seeds?.[0]?.imap).toMatchObject({ host: '127.0.0.1', port: 993, tls: 'implicit', timeoutMs: 20_000 });
    expect(config.seeds?.[0]?.slowSeconds).toBe(300);
    expect(seedsOf(config, config.targets[0]!).map((s) => s.name)).toEqual(['gmail', 'yahoo']);
    const picked = parseConfig(withSeeds([seed('gmail', 'shop.seed@gmail.com'), seed('yahoo', 'shop.seed@yahoo.com')], ['yahoo']));
    expect(seedsOf(picked, picked.targets[0]!).map((s) => s.name)).toEqual(['yahoo']);
  });

  it('names the target field that names a seed the config does not have', () => {
    expect(() => parseConfig(withSeeds([seed('gmail', 'shop.seed@gmail.com')], ['gmial']))).toThrow(/targets\[0\]\.seeds\[0\]: names no seed "gmial" \(seeds: gmail\)/);
    expect(() => parseConfig(withSeeds([], ['gmail']))).toThrow(/the config has no seeds/);
  });

  it('refuses two seeds of one name or one address', () => {
    expect(() => parseConfig(withSeeds([seed('gmail', 'a@gmail.com'), seed('gmail', 'b@gmail.com')]))).toThrow(/seeds\[1\]\.name: seed names must be unique/);
    expect(() => parseConfig(withSeeds([seed('a', 'a@gmail.com'), seed('b', 'A@gmail.com')]))).toThrow(/seeds\[1\]\.address: seed addresses must be unique/);
  });

  it('takes OAuth 2.0 with a refresh token, and refuses it mixed with a password or without a refresh token', () => {
    const oauth2 = { tokenUrl: 'https://127.0.0.1/oauth2/v2.0/token', clientId: 'app', refreshTokenEnv: 'OUTLOOK_REFRESH_TOKEN' };
    const ok = parseConfig(withSeeds([seed('outlook', 'shop.seed@outlook.com', { user: 'shop.seed@outlook.com', oauth2 })]));
    expect(ok.seeds?.[0]?.imap.auth.oauth2?.clientId).toBe('app');
    expect(() => parseConfig(withSeeds([seed('outlook', 'shop.seed@outlook.com', { user: 'u', passwordEnv: 'P', oauth2 })]))).toThrow(/oauth2 logs in with a token/);
    expect(() => parseConfig(withSeeds([seed('outlook', 'shop.seed@outlook.com', { user: 'u', oauth2: { tokenUrl: oauth2.tokenUrl, clientId: 'app' } })]))).toThrow(
      /seeds\[0\]\.imap\.auth\.oauth2: oauth2 needs refreshTokenEnv or secretName/,
    );
    expect(() => parseConfig(withSeeds([seed('outlook', 'shop.seed@outlook.com', { user: 'u' })]))).toThrow(/needs one of password, passwordEnv, secretName or oauth2/);
  });

  it('refuses a seed address that cannot receive mail', () => {
    expect(() => parseConfig(withSeeds([seed('gmail', 'shop.seed@@gmail.com')]))).toThrow(/seeds\[0\]\.address/);
  });
});
