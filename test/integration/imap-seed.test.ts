/**
 * The IMAP seed reader against a real IMAP server on 127.0.0.1 (the demo's embedded
 * hoodiecrow-imap mailbox, behind a TLS front that records the client's commands), and the
 * OAuth 2.0 token source against a local token endpoint.
 */
import http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createImapSeedReader } from '#adapters/imap-seed.ts';
import { createAccessTokenSource } from '#adapters/oauth2-token.ts';
import { seedCredentials } from '#adapters/seed-credentials.ts';
import { createSecretReader } from '#adapters/secrets.ts';
import { seedSchema, type SeedConfig } from '#core/config.ts';
import { createCertificateAuthority } from '#local/certs.ts';
import { startSeedMailbox, type SeedMailbox } from '#local/demo/seed-mailbox.ts';
import { startTlsFront, type TlsFront } from '../helpers/tls-front.ts';

const ca = createCertificateAuthority({ commonName: 'mail-health seed test CA' });
const leaf = ca.issue({ hosts: ['imap.seed.test', '127.0.0.1'] });
const USER = 'shop.seed@seed.test';
const PASSWORD = 'app-password-for-tests';
const ID1 = '01KDZ1V2Y4M8N9P0Q1R2S3T4V5';
const ID2 = '01KDZ1V2Y4M8N9P0Q1R2S3T4V6';
const OTHER = 'From: friend@example.org\r\nSubject: dinner on friday\r\nMessage-ID: <dinner@example.org>\r\n\r\nA private message nobody else reads.\r\n';

function canary(id: string, ar = 'mx.seed.test; spf=pass smtp.mailfrom=example.jp; dkim=pass header.d=example.jp; dmarc=pass header.from=example.jp'): string {
  return [
    `Authentication-Results: ${ar}`,
    'Received: from smtp.provider.test (smtp.provider.test [127.0.0.1]) by mx.seed.test with ESMTPS id Q1; Mon, 05 Jan 2026 08:00:07 +0000',
    'Received: from [127.0.0.1] by smtp.provider.test with ESMTPSA id P1; Mon, 05 Jan 2026 08:00:00 +0000',
    'From: shop@example.jp',
    `To: ok@bounces.example.jp`,
    `Message-ID: <${id}@mail-health>`,
    `X-Mail-Health-Canary: ${id}`,
    'Subject: mail-health canary',
    '',
    'The body of the canary, never fetched.',
    '',
  ].join('\r\n');
}

function seedAt(port: number, extra: Record<string, unknown> = {}): SeedConfig {
  return seedSchema.parse({ name: 'seed', address: USER, imap: { host: '127.0.0.1', port, servername: 'imap.seed.test', auth: { user: USER, passwordEnv: 'SEED_PASSWORD' }, timeoutMs: 2_000 }, ...extra });
}

const opened: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((o) => o.close()));
});

/** A plain mailbox behind a recording TLS front (the reader talks TLS to the front). */
async function mailbox(options: Partial<Parameters<typeof startSeedMailbox>[0]> = {}): Promise<{ box: SeedMailbox; front: TlsFront }> {
  const box = await startSeedMailbox({ user: USER, password: PASSWORD, ...options });
  const front = await startTlsFront(box.port, leaf);
  opened.push(front, box);
  return { box, front };
}

const reader = (password = PASSWORD) => createImapSeedReader({ credentials: async () => ({ user: USER, password }), ca: async () => ca.certPem });

describe('createImapSeedReader', () => {
  it('finds the canaries in the inbox and the \\Junk folder by header, fetches only their header, removes only them', async () => {
    // Prepare
    const { box, front } = await mailbox({ messages: { INBOX: [OTHER], Junk: [OTHER] } });
    box.file(canary(ID1), 'INBOX');
    box.file(canary(ID2), 'Junk');

    // Act
    const result = await reader()({ seed: seedAt(front.port), canaryIds: [ID1, ID2, '01KDZ1V2Y4M8N9P0Q1R2S3T4V7'] });

    // Assess
    expect(result.kind).toBe('read');
    if (result.kind !== 'read') return;
    expect(result.junk).toEqual({ path: 'Junk', by: 'special-use' });
    expect(result.messages.map((m) => [m.canaryId, m.folder, m.role, m.removed])).toEqual([
      [ID1, 'INBOX', 'inbox', true],
      [ID2, 'Junk', 'junk', true],
    ]);
    expect(result.messages[0]!.headers).toContain('Authentication-Results: mx.seed.test;');
    expect(result.messages[0]!.headers).not.toContain('never fetched');
    // The other mail is still there, unread and unflagged; the canaries are gone.
    expect(box.messages('INBOX').map((m) => [m.raw, m.flags])).toEqual([[OTHER, []]]);
    expect(box.messages('Junk').map((m) => [m.raw, m.flags])).toEqual([[OTHER, []]]);
    // Every FETCH names only a canary's UID (the other message is UID 1 in both folders) and only its header.
    const fetches = front.lines.filter((l) => /\bFETCH\b/i.test(l));
    expect(fetches.length).toBe(2);
    for (const f of fetches) {
      expect(f).toMatch(/UID FETCH 2 \(/);
      expect(f).toContain('BODY.PEEK[HEADER]');
    }
    expect(front.lines.filter((l) => /EXPUNGE/i.test(l)).every((l) => /UID EXPUNGE 2$/.test(l))).toBe(true);
  });

  it('finds a canary delivered twice twice, and removes both copies', async () => {
    const { box, front } = await mailbox();
    box.file(canary(ID1), 'INBOX');
    box.file(canary(ID1), 'INBOX');
    const result = await reader()({ seed: seedAt(front.port), canaryIds: [ID1] });
    expect(result.kind === 'read' && result.messages.map((m) => m.folder)).toEqual(['INBOX', 'INBOX']);
    expect(box.messages('INBOX')).toEqual([]);
  });

  it('finds the spam folder by its usual name when no folder is marked \\Junk, or by the configured name', async () => {
    const { box, front } = await mailbox({ junk: { path: 'Bulk', specialUse: false } });
    box.file(canary(ID1), 'Bulk');
    const byName = await reader()({ seed: seedAt(front.port), canaryIds: [ID1], remove: false });
    expect(byName.kind === 'read' && [byName.junk, byName.messages.map((m) => [m.role, m.removed])]).toEqual([{ path: 'Bulk', by: 'name' }, [['junk', false]]]);
    expect(box.messages('Bulk')).toHaveLength(1);

    const other = await mailbox({ junk: { path: 'Quarantaine', specialUse: false } });
    other.box.file(canary(ID2), 'Quarantaine');
    const configured = await reader()({ seed: seedAt(other.front.port, { junkFolder: 'Quarantaine' }), canaryIds: [ID2] });
    expect(configured.kind === 'read' && [configured.junk, configured.messages.map((m) => m.role)]).toEqual([{ path: 'Quarantaine', by: 'config' }, ['junk']]);
  });

  it('ignores a message that only mentions the canary id elsewhere, and never removes it', async () => {
    const { box, front } = await mailbox();
    const mention = `From: someone@example.org\r\nSubject: about ${ID1}\r\nMessage-ID: <reply-${ID1}@mail-health.example>\r\nIn-Reply-To: <${ID1}@mail-health>\r\n\r\nhi\r\n`;
    box.file(mention, 'INBOX');
    const result = await reader()({ seed: seedAt(front.port), canaryIds: [ID1] });
    expect(result.kind === 'read' && result.messages).toEqual([]);
    expect(box.messages('INBOX').map((m) => m.raw)).toEqual([mention]);
  });

  it('reports a refused login as auth, an untrusted certificate as tls, a closed port as connect', async () => {
    const { front } = await mailbox();
    expect(await reader('wrong')({ seed: seedAt(front.port), canaryIds: [ID1] })).toMatchObject({ kind: 'failed', failure: 'auth' });
    const untrusting = createImapSeedReader({ credentials: async () => ({ user: USER, password: PASSWORD }) });
    expect(await untrusting({ seed: seedAt(front.port), canaryIds: [ID1] })).toMatchObject({ kind: 'failed', failure: 'tls' });
    const closed = net.createServer();
    const port = await new Promise<number>((r) => closed.listen(0, '127.0.0.1', () => r((closed.address() as net.AddressInfo).port)));
    await new Promise<void>((r) => closed.close(() => r()));
    expect(await reader()({ seed: seedAt(port), canaryIds: [ID1] })).toMatchObject({ kind: 'failed', failure: 'connect' });
  });

  it('gives up on a server that accepts and never answers, within its timeout', async () => {
    // Prepare: TLS completes, then silence.
    const silent = net.createServer((s) => s.on('error', () => undefined));
    const sockets = new Set<net.Socket>();
    silent.on('connection', (s) => sockets.add(s));
    const port = await new Promise<number>((r) => silent.listen(0, '127.0.0.1', () => r((silent.address() as net.AddressInfo).port)));
    const front = await startTlsFront(port, leaf);
    opened.push(front, { close: () => new Promise<void>((r) => { for (const s of sockets) s.destroy(); silent.close(() => r()); }) });

    // Act
    const started = Date.now();
    const result = await reader()({ seed: seedAt(front.port, {}), canaryIds: [ID1] });

    // Assess: the 2 s step bound, with room for a loaded machine.
    expect(result).toMatchObject({ kind: 'failed', failure: 'timeout' });
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe('createAccessTokenSource and seedCredentials', () => {
  let server: http.Server | undefined;
  afterEach(async () => {
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    server = undefined;
  });

  async function tokenEndpoint(answer: (form: URLSearchParams) => { status: number; body: unknown }): Promise<{ url: string; calls: URLSearchParams[] }> {
    const calls: URLSearchParams[] = [];
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const form = new URLSearchParams(body);
        calls.push(form);
        const a = answer(form);
        res.writeHead(a.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(a.body));
      });
    });
    const port = await new Promise<number>((r) => server!.listen(0, '127.0.0.1', () => r((server!.address() as net.AddressInfo).port)));
    return { url: `http://127.0.0.1:${port}/token`, calls };
  }

  it('exchanges the refresh token once and keeps the access token until shortly before it expires', async () => {
    // Prepare
    let n = 0;
    const { url, calls } = await tokenEndpoint(() => ({ status: 200, body: { access_token: `tok-${++n}`, expires_in: 3600, token_type: 'Bearer' } }));
    let nowMs = 0;
    const tokens = createAccessTokenSource({ now: () => nowMs });
    const request = { tokenUrl: url, clientId: 'app', clientSecret: 'shh', refreshToken: 'refresh-1', scope: 'https://mail.google.com/' };

    // Act / Assess
    expect(await Promise.all([tokens(request), tokens(request)])).toEqual(['tok-1', 'tok-1']);
    nowMs = 3_500_000;
    expect(await tokens(request)).toBe('tok-1');
    nowMs = 3_560_000;
    expect(await tokens(request)).toBe('tok-2');
    expect(calls.map((c) => [c.get('grant_type'), c.get('refresh_token'), c.get('client_id'), c.get('client_secret'), c.get('scope')])).toEqual([
      ['refresh_token', 'refresh-1', 'app', 'shh', 'https://mail.google.com/'],
      ['refresh_token', 'refresh-1', 'app', 'shh', 'https://mail.google.com/'],
    ]);
  });

  it('turns a revoked refresh token into a token failure without quoting it, and a missing one into a secret failure', async () => {
    const { url } = await tokenEndpoint(() => ({ status: 400, body: { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' } }));
    const seed = seedSchema.parse({ name: 'gmail', address: 's@gmail.com', imap: { host: '127.0.0.1', auth: { user: 's@gmail.com', oauth2: { tokenUrl: url, clientId: 'app', refreshTokenEnv: 'SEED_REFRESH' } } } });
    const credentials = seedCredentials({ secrets: createSecretReader({ env: { SEED_REFRESH: 'refresh-secret-value' } }) });
    const err = await credentials(seed).catch((e: unknown) => e as Error & { failure?: string });
    expect(err).toMatchObject({ failure: 'token', message: expect.stringContaining('invalid_grant: Token has been expired or revoked.') });
    expect((err as Error).message).not.toContain('refresh-secret-value');
    const none = seedCredentials({ secrets: createSecretReader({ env: {} }) });
    await expect(none(seed)).rejects.toMatchObject({ failure: 'secret', message: expect.stringContaining('environment variable SEED_REFRESH') });
  });
});
