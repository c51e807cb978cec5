/**
 * `mailhealth check` with seeds: the round's canary also goes to a seed mailbox (a real IMAP
 * server over TLS on 127.0.0.1, credentials from the environment as a user sets them), check
 * waits for it up to --drain and reports where it landed, in text and in --json.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFileStore } from '#adapters/file-store.ts';
import { createPlacementFileStore } from '#adapters/placement-file-store.ts';
import { createCheckCommand } from '#local/cli/check.ts';
import type { CliIO } from '#local/cli/io.ts';
import { startDemoProvider, type DemoProvider } from '#local/demo/provider.ts';
import { startSeedMailbox, type SeedMailbox } from '#local/demo/seed-mailbox.ts';
import { expectContract } from '#local/cli/json-contracts.ts';

class Capture extends Writable {
  text = '';
  isTTY = false;
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString('utf8');
    done();
  }
}

const SEED = 'shop.seed@seed.test';
const SEED_PASSWORD = 'seed-app-password';
const AR_FAIL = 'mx.seed.test; spf=fail smtp.mailfrom=demo.mail-health.test; dkim=none; dmarc=fail (p=REJECT) header.from=demo.mail-health.test';

describe('mailhealth check with seeds', () => {
  let provider: DemoProvider;
  let box: SeedMailbox;
  let dir: string;
  let filing: 'Junk' | 'INBOX' | null = 'Junk';

  beforeAll(async () => {
    provider = await startDemoProvider({
      to: ['owner@example.jp'],
      onMessage(m) {
        if (!m.to.includes(SEED) || filing === null) return;
        // The receiver's own headers, then the canary as the provider sent it.
        const stamped = `Received: from smtp.demo.mail-health.test ([127.0.0.1]) by mx.seed.test; ${new Date(Date.now() + 2_000).toUTCString()}\r\nAuthentication-Results: ${AR_FAIL}\r\n${m.raw.toString('latin1')}`;
        box.file(stamped, filing);
      },
    });
    box = await startSeedMailbox({ user: SEED, password: SEED_PASSWORD, tls: provider.ca.issue({ hosts: ['imap.seed.test', '127.0.0.1'] }) });
    dir = await mkdtemp(join(tmpdir(), 'mh-check-seeds-'));
    await writeFile(join(dir, 'ca.pem'), provider.caPem);
    const seedOf = (name: string, passwordEnv: string) => ({ name, address: name === 'seed' ? SEED : `${name}@seed.test`, imap: { host: '127.0.0.1', port: box.port, servername: 'imap.seed.test', ca: 'ca.pem', auth: { user: name === 'seed' ? SEED : `${name}@seed.test`, passwordEnv }, timeoutMs: 3_000 } });
    const config = (seeds: string[]) => ({
      language: 'en',
      bounceDomain: 'bounces.example.jp',
      targets: [{ ...provider.target, name: 'shop', ca: 'ca.pem', auth: { user: provider.target.auth!.user, passwordEnv: 'SHOP_PASSWORD' }, probePorts: [], seeds }],
      seeds: [seedOf('seed', 'SEED_PASSWORD'), seedOf('other', 'OTHER_PASSWORD')],
    });
    await writeFile(join(dir, 'one.json'), JSON.stringify(config(['seed'])));
    await writeFile(join(dir, 'two.json'), JSON.stringify(config(['seed', 'other'])));
  });

  afterAll(async () => {
    await Promise.all([provider?.close(), box?.close()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const run = async (args: string[], env: NodeJS.ProcessEnv = {}) => {
    const stdout = new Capture();
    const stderr = new Capture();
    const io: CliIO = { stdout, stderr, cwd: dir, env: { LANG: 'en_US.UTF-8', SHOP_PASSWORD: provider.password, SEED_PASSWORD, OTHER_PASSWORD: 'wrong', ...env } };
    const code = await createCheckCommand({ portOverrides: provider.ports })(args, io);
    return { code, out: stdout.text, err: stderr.text };
  };

  it('waits for the canary at the seed and reports it in spam with the receiver\'s verdict, in --json', async () => {
    // Act
    filing = 'Junk';
    const { code, out } = await run(['--config', 'one.json', '--json', '--drain', '20']);

    // Assess
    const doc = JSON.parse(out);
    expectContract('check', '--json', doc);
    const shop = doc.targets[0];
    expect(code).toBe(2);
    expect(shop.placement).toEqual([
      {
        seed: 'seed',
        address: SEED,
        verdict: 'spam',
        folder: 'Junk',
        seconds: expect.any(Number),
        receiverAuth: { authservId: 'mx.seed.test', spf: 'fail', dkim: 'none', dmarc: 'fail' },
      },
    ]);
    expect(shop.findings.map((f: { code: string }) => f.code)).toEqual(expect.arrayContaining(['PLACEMENT_SPAM', 'PLACEMENT_AUTH_FAIL']));
    expect(box.messages('Junk')).toEqual([]);
  });

  it('prints the placement in the human report, inbox and all', async () => {
    filing = 'INBOX';
    const { code, out } = await run(['--config', 'one.json', '--drain', '20']);
    expect(out).toContain('Inbox placement (seeds)');
    expect(out).toMatch(/seed +inbox +shop\.seed@seed\.test {2}INBOX · \d+ s · mx\.seed\.test: spf=fail dkim=none dmarc=fail/);
    // The receiver's DMARC fail outranks the inbox: still a finding.
    expect(out).toContain('PLACEMENT_AUTH_FAIL');
    expect(code).toBe(2);
  });

  it('reports a canary not there yet as pending after --drain, and a seed whose password is wrong as one warning', async () => {
    // Prepare: nothing arrives; the second seed's password is wrong.
    filing = null;
    const state = join(dir, 'state');

    // Act
    const started = Date.now();
    const { code, out } = await run(['--config', 'two.json', '--json', '--drain', '2', '--state', 'state']);

    // Assess
    const shop = JSON.parse(out).targets[0];
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(shop.placement.map((p: { seed: string; verdict: string }) => [p.seed, p.verdict])).toEqual([
      ['seed', 'pending'],
      ['other', 'pending'],
    ]);
    expect(shop.findings.filter((f: { code: string }) => f.code === 'SEED_LOGIN_FAILED')).toEqual([
      expect.objectContaining({ severity: 'warning', recipient: 'other@seed.test', message: expect.objectContaining({ en: expect.stringContaining('the IMAP server refused the login') }) }),
    ]);
    expect(code).toBe(1);
    // With --state the records stay, and the warning never reached the health state.
    const records = await createPlacementFileStore({ dir: state }).listPlacements('shop', { sentAfter: '2000-01-01T00:00:00.000Z', limit: 10 });
    expect(records.map((r) => [r.seed, r.verdict])).toEqual([
      ['seed', 'pending'],
      ['other', 'pending'],
    ]);
    const rounds = await createFileStore({ dir: state }).listRounds('shop', 1);
    expect(rounds[0]?.findings.map((f) => f.code)).not.toContain('SEED_LOGIN_FAILED');
    expect(rounds[0]?.status).toBe('ok');
  });

  it('fails before sending anything when a seed\'s password variable is unset', async () => {
    // The CLI's entry turns a ConfigError into exit 3 with this message.
    const before = provider.received.length;
    await expect(run(['--config', 'one.json', '--json'], { SEED_PASSWORD: '' })).rejects.toThrow('seeds[0].imap.auth.passwordEnv: environment variable SEED_PASSWORD is not set');
    expect(provider.received.length).toBe(before);
  });
});
