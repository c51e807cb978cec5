/**
 * Inbox placement end to end, with real parts on 127.0.0.1:
 * - a private Postfix as the shop's provider (submission with STARTTLS and SASL AUTH through
 *   Dovecot) relaying the seed domain to the receiver;
 * - the receiver: its MX (demo/seed-mx.ts: mailauth verification through a DNS server of the
 *   test, its Received and Authentication-Results written) handing each message to the
 *   receiver's own Postfix listener, which delivers over LMTP to a private Dovecot;
 * - Dovecot's Pigeonhole Sieve filing what the receiver's Authentication-Results call
 *   `dmarc=fail` into the `\Junk` folder, Dovecot IMAP over TLS for the seeds, a password login
 *   and an OAuth 2.0 one (XOAUTH2 through Dovecot's oauth2 passdb, checked at a token
 *   introspection endpoint of the test that also issues the access tokens);
 * - a mailbox of 100,000 messages, read through a recording TLS front.
 * Skipped, saying why, only where Postfix or Dovecot (or root) is missing.
 */
import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDnsLookup } from '#adapters/dns-client.ts';
import { createImapSeedReader } from '#adapters/imap-seed.ts';
import { seedCredentials } from '#adapters/seed-credentials.ts';
import { createSecretReader } from '#adapters/secrets.ts';
import { seedSchema } from '#core/config.ts';
import { buildCanaryMessage } from '#core/probe/canary-message.ts';
import { createCheckCommand } from '#local/cli/check.ts';
import type { CliIO } from '#local/cli/io.ts';
import { createCertificateAuthority } from '#local/certs.ts';
import { startSeedMx, type SeedMx } from '#local/demo/seed-mx.ts';
import { startDnsServer, type DnsServer } from '#local/dns-server.ts';
import { startTlsFront } from '../helpers/tls-front.ts';
import { dovecotImapUnavailable, startDovecot, type DovecotInstance } from './helpers/dovecot.ts';
import { freePort, postfixUnavailable, startPostfix, type PostfixInstance } from './helpers/postfix.ts';

const unavailable = postfixUnavailable() ?? dovecotImapUnavailable();
if (unavailable) console.log(`SKIPPED test/e2e/placement-dovecot.test.ts: ${unavailable}`);

const BOUNCE_DOMAIN = 'bounces.clinic.test';
const SEED_DOMAIN = 'seed.test';
const RECEIVER = 'mx.seed.test';
const SMTP_USER = 'sender@provider.test';
const SMTP_PASSWORD = randomBytes(12).toString('hex');
const SEED = `seed@${SEED_DOMAIN}`;
const SEED_PASSWORD = randomBytes(12).toString('hex');
const OAUTH_SEED = `oauth.seed@${SEED_DOMAIN}`;
const BIG_SEED = `big.seed@${SEED_DOMAIN}`;
const BIG_COUNT = 100_000;
const REFRESH_TOKEN = randomBytes(16).toString('hex');
const REVOKED_TOKEN = randomBytes(16).toString('hex');
// The receiver's own verdict decides: a DMARC failure in its header goes to \Junk.
const SIEVE = `require ["fileinto", "mailbox"];\nif header :matches "Authentication-Results" "${RECEIVER};*dmarc=fail*" {\n  fileinto :create "Junk";\n  stop;\n}\n`;

class Capture extends Writable {
  text = '';
  isTTY = false;
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString('utf8');
    done();
  }
}

describe.skipIf(unavailable !== null)('inbox placement against real Postfix, Dovecot IMAP, Sieve and XOAUTH2', () => {
  let dovecot: DovecotInstance;
  let postfix: PostfixInstance;
  let mx: SeedMx;
  let dns: DnsServer;
  let auth: http.Server;
  let authUrl: string;
  let dir: string;
  const ca = createCertificateAuthority({ commonName: 'mail-health seed test CA' });
  const imapCert = ca.issue({ hosts: ['imap.seed.test', '127.0.0.1'] });
  const issued = new Map<string, string>();
  const introspected: string[] = [];

  /** The files of a maildir folder of a seed (`''` the inbox, `.Junk`, `.Trash`). */
  const files = async (user: string, folder: string) => {
    const out: string[] = [];
    for (const sub of ['cur', 'new']) out.push(...(await readdir(join(dovecot.dir, 'mail', user, folder, sub)).catch(() => [] as string[])));
    return out;
  };

  beforeAll(async () => {
    // The OAuth 2.0 side: a token endpoint (refresh token → access token) and the introspection
    // endpoint Dovecot asks about each access token (RFC 7662).
    auth = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const form = new URLSearchParams(body);
        res.setHeader('content-type', 'application/json');
        if (req.url === '/token') {
          if (form.get('grant_type') !== 'refresh_token' || form.get('refresh_token') !== REFRESH_TOKEN) {
            res.writeHead(400).end(JSON.stringify({ error: 'invalid_grant', error_description: 'Token has been expired or revoked.' }));
            return;
          }
          const token = randomBytes(16).toString('hex');
          issued.set(token, OAUTH_SEED);
          res.end(JSON.stringify({ access_token: token, token_type: 'Bearer', expires_in: 3600 }));
          return;
        }
        const token = form.get('token') ?? '';
        introspected.push(token);
        const user = issued.get(token);
        res.end(JSON.stringify(user ? { active: true, username: user } : { active: false }));
      });
    });
    await new Promise<void>((r) => auth.listen(0, '127.0.0.1', () => r()));
    authUrl = `http://127.0.0.1:${(auth.address() as AddressInfo).port}`;

    dns = await startDnsServer({
      zone: {
        // clinic's canaries: envelope at bounces.clinic.test, aligned with From clinic.test, SPF passes for 127.0.0.1.
        'clinic.test': [{ type: 'TXT', data: 'v=spf1 ip4:127.0.0.1 -all' }],
        [BOUNCE_DOMAIN]: [{ type: 'TXT', data: 'v=spf1 ip4:127.0.0.1 -all' }],
        '_dmarc.clinic.test': [{ type: 'TXT', data: 'v=DMARC1; p=reject' }],
        // shop's: From shop.test, which neither the envelope nor a signature aligns with.
        'shop.test': [{ type: 'TXT', data: 'v=spf1 ip4:127.0.0.1 -all' }],
        '_dmarc.shop.test': [{ type: 'TXT', data: 'v=DMARC1; p=reject' }],
      },
    });

    dovecot = await startDovecot({
      hostname: 'store.seed.test',
      users: [
        { address: SMTP_USER, password: SMTP_PASSWORD },
        { address: SEED, password: SEED_PASSWORD, prefillMessages: 1 },
        { address: OAUTH_SEED, password: randomBytes(12).toString('hex') },
        { address: BIG_SEED, password: SEED_PASSWORD, prefillMessages: BIG_COUNT },
      ],
      imap: { certPem: imapCert.certPem, keyPem: imapCert.keyPem, sieveBefore: SIEVE, oauth2IntrospectionUrl: `${authUrl}/introspect` },
    });
    const listenerPort = await freePort();
    // The receiver's MX, then the receiver's Postfix listener (LMTP to Dovecot).
    let reinjectPort = 0;
    mx = await startSeedMx({
      hostname: RECEIVER,
      lookup: createDnsLookup({ servers: [dns.address] }),
      deliver: (raw, _filing, recipients, mailFrom) =>
        new Promise<void>((resolve, reject) => {
          const conn = new SMTPConnection({ host: '127.0.0.1', port: reinjectPort, ignoreTLS: true, name: RECEIVER, connectionTimeout: 5_000, socketTimeout: 10_000 });
          conn.on('error', reject);
          conn.connect(() => conn.send({ from: mailFrom || false, to: [...recipients] }, raw, (err) => (conn.quit(), err ? reject(err) : resolve())));
        }),
    });
    postfix = await startPostfix({
      bounceDomain: BOUNCE_DOMAIN,
      listenerPort,
      dovecot: { authSocket: dovecot.authSocket, lmtpPort: dovecot.lmtpPort, domains: [] },
      relays: [{ domain: SEED_DOMAIN, port: mx.port }],
      lmtpReinject: { hostname: RECEIVER, lmtpPort: dovecot.lmtpPort },
    });
    reinjectPort = postfix.reinjectPort!;
    dir = await mkdtemp(join(tmpdir(), 'mh-placement-e2e-'));
    await writeFile(join(dir, 'provider-ca.pem'), postfix.caPem);
    await writeFile(join(dir, 'seed-ca.pem'), ca.certPem);
  }, 180_000);

  afterAll(async () => {
    await Promise.all([postfix?.stop(), dovecot?.stop(), mx?.close(), dns?.close(), new Promise<void>((r) => (auth ? auth.close(() => r()) : r()))]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const seedConfig = (name: string, address: string, auth: Record<string, unknown>) => ({
    name,
    address,
    imap: { host: '127.0.0.1', port: dovecot.imapsPort!, servername: 'imap.seed.test', ca: 'seed-ca.pem', auth, timeoutMs: 20_000 },
  });

  it('files shop\'s canary into \\Junk and clinic\'s into the inbox, read by password and by XOAUTH2, and removes them', async () => {
    // Prepare
    const target = (name: string, from: string, seeds: string[]) => ({
      name,
      host: '127.0.0.1',
      port: postfix.authSubmissionPort!,
      servername: 'mx.provider.test',
      ca: 'provider-ca.pem',
      auth: { user: SMTP_USER, passwordEnv: 'SMTP_PASSWORD' },
      from,
      to: [`ok@${BOUNCE_DOMAIN}`],
      probePorts: [],
      seeds,
      timeouts: { connectMs: 10_000, stepMs: 20_000, probeMs: 1_000 },
    });
    await writeFile(
      join(dir, 'config.json'),
      JSON.stringify({
        language: 'en',
        bounceDomain: BOUNCE_DOMAIN,
        targets: [target('shop', 'shop@shop.test', ['seed', 'oauth']), target('clinic', 'clinic@clinic.test', ['seed'])],
        seeds: [
          seedConfig('seed', SEED, { user: SEED, passwordEnv: 'SEED_PASSWORD' }),
          seedConfig('oauth', OAUTH_SEED, { user: OAUTH_SEED, oauth2: { tokenUrl: `${authUrl}/token`, clientId: 'mail-health-test', refreshTokenEnv: 'OAUTH_REFRESH' } }),
        ],
      }),
    );
    const stdout = new Capture();
    const io: CliIO = { stdout, stderr: new Capture(), cwd: dir, env: { LANG: 'en_US.UTF-8', SMTP_PASSWORD, SEED_PASSWORD, OAUTH_REFRESH: REFRESH_TOKEN } };

    // Act
    const code = await createCheckCommand()(['--config', 'config.json', '--json', '--drain', '60'], io);

    // Assess
    const doc = JSON.parse(stdout.text) as { targets: { name: string; placement: { seed: string; verdict: string; folder: string | null; seconds: number | null; receiverAuth?: Record<string, string> }[]; findings: { code: string }[] }[] };
    const byName = Object.fromEntries(doc.targets.map((t) => [t.name, t]));
    expect(byName.shop!.placement).toEqual([
      { seed: 'seed', address: SEED, verdict: 'spam', folder: 'Junk', seconds: expect.any(Number), receiverAuth: { authservId: RECEIVER, spf: 'pass', dkim: 'none', dmarc: 'fail' } },
      { seed: 'oauth', address: OAUTH_SEED, verdict: 'spam', folder: 'Junk', seconds: expect.any(Number), receiverAuth: { authservId: RECEIVER, spf: 'pass', dkim: 'none', dmarc: 'fail' } },
    ]);
    expect(byName.clinic!.placement).toEqual([
      { seed: 'seed', address: SEED, verdict: 'inbox', folder: 'INBOX', seconds: expect.any(Number), receiverAuth: { authservId: RECEIVER, spf: 'pass', dkim: 'none', dmarc: 'pass' } },
    ]);
    for (const p of [...byName.shop!.placement, ...byName.clinic!.placement]) expect(p.seconds).toBeLessThan(60);
    expect(byName.shop!.findings.map((f) => f.code)).toEqual(expect.arrayContaining(['PLACEMENT_SPAM', 'PLACEMENT_AUTH_FAIL']));
    expect(byName.clinic!.findings.map((f) => f.code)).not.toContain('PLACEMENT_SPAM');
    expect(code).toBe(2);
    // XOAUTH2 went through Dovecot's introspection with the token the refresh gave.
    expect(introspected.some((t) => issued.has(t))).toBe(true);
    // The canaries are gone; the seed's own message stays.
    expect(await files(SEED, '')).toHaveLength(1);
    expect(await files(SEED, '.Junk')).toEqual([]);
    expect(await files(OAUTH_SEED, '.Junk')).toEqual([]);
  }, 120_000);

  it('reports a wrong password and a revoked refresh token as login failures of the seed', async () => {
    const wrong = createImapSeedReader({ credentials: async () => ({ user: SEED, password: 'not-the-password' }), ca: async () => ca.certPem });
    const seed = seedSchema.parse(seedConfig('seed', SEED, { user: SEED, passwordEnv: 'X' }));
    expect(await wrong({ seed, canaryIds: ['01KDZ1V2Y4M8N9P0Q1R2S3T4V5'] })).toMatchObject({ kind: 'failed', failure: 'auth' });

    const revoked = seedSchema.parse(seedConfig('oauth', OAUTH_SEED, { user: OAUTH_SEED, oauth2: { tokenUrl: `${authUrl}/token`, clientId: 'mail-health-test', refreshTokenEnv: 'OAUTH_REFRESH' } }));
    const reader = createImapSeedReader({ credentials: seedCredentials({ secrets: createSecretReader({ env: { OAUTH_REFRESH: REVOKED_TOKEN } }) }), ca: async () => ca.certPem });
    expect(await reader({ seed: revoked, canaryIds: ['01KDZ1V2Y4M8N9P0Q1R2S3T4V5'] })).toMatchObject({ kind: 'failed', failure: 'token', detail: expect.stringContaining('invalid_grant') });
  });

  it('finds a canary delivered twice among 100,000 messages by a server-side search, fetching nothing else', async () => {
    // Prepare: the canary delivered twice over LMTP into the big mailbox; a recording TLS front before Dovecot's plain IMAP.
    const id = '01KDZ1V2Y4M8N9P0Q1R2S3T4V7';
    const raw = `Authentication-Results: ${RECEIVER}; spf=pass smtp.mailfrom=clinic.test; dmarc=pass header.from=clinic.test\r\nReceived: from provider by ${RECEIVER}; ${new Date().toUTCString()}\r\n${buildCanaryMessage({ canaryId: id, from: 'clinic@clinic.test', to: [`ok@${BOUNCE_DOMAIN}`], date: new Date() })}`;
    for (let i = 0; i < 2; i++) {
      await new Promise<void>((resolve, reject) => {
        const conn = new SMTPConnection({ host: '127.0.0.1', port: dovecot.lmtpPort, lmtp: true, ignoreTLS: true, name: RECEIVER });
        conn.on('error', reject);
        conn.connect(() => conn.send({ from: 'bounce@clinic.test', to: [BIG_SEED] }, raw, (err) => (conn.quit(), err ? reject(err) : resolve())));
      });
    }
    const front = await startTlsFront(dovecot.imapPort!, imapCert);
    const seed = seedSchema.parse({ ...seedConfig('big', BIG_SEED, { user: BIG_SEED, passwordEnv: 'X' }), imap: { ...seedConfig('big', BIG_SEED, {}).imap, port: front.port, auth: { user: BIG_SEED, passwordEnv: 'X' }, timeoutMs: 120_000 } });
    const reader = createImapSeedReader({ credentials: async () => ({ user: BIG_SEED, password: SEED_PASSWORD }), ca: async () => ca.certPem });

    try {
      // Act
      const started = Date.now();
      const result = await reader({ seed, canaryIds: [id] });
      const ms = Date.now() - started;

      // Assess
      expect(result.kind === 'read' && result.messages.map((m) => [m.canaryId, m.folder, m.removed])).toEqual([
        [id, 'INBOX', true],
        [id, 'INBOX', true],
      ]);
      // One FETCH, of the two copies' UIDs only and their header only; the download stays small.
      const fetches = front.lines.filter((l) => /FETCH/i.test(l));
      expect(fetches).toHaveLength(1);
      expect(fetches[0]).toMatch(/UID FETCH \d+,\d+ \(.*BODY\.PEEK\[HEADER\]/);
      expect(front.bytes.down).toBeLessThan(64 * 1024);
      expect(await files(BIG_SEED, '')).toHaveLength(BIG_COUNT);
      console.log(`placement e2e: read ${BIG_COUNT.toLocaleString('en-US')} messages' seed in ${ms} ms, ${front.bytes.down} bytes down, ${front.bytes.up} up`);
    } finally {
      await front.close();
    }
  }, 300_000);
});
