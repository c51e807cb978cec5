import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createFileStore } from '#adapters/file-store.ts';
import { parseConfig } from '#core/config.ts';
import type { DnsLookup } from '#core/ports.ts';
import { createLocalAuthentication, isLocalTarget } from '#local/auth.ts';

describe('createLocalAuthentication', () => {
  it('asks no DNS at all about a target left out (a provider on this machine without dnsServers)', async () => {
    // Prepare
    const dir = await mkdtemp(join(tmpdir(), 'mh-auth-local-'));
    try {
      const config = parseConfig({
        bounceDomain: 'bounces.example.jp',
        targets: [
          { name: 'local', host: '127.0.0.1', from: 'shop@example.jp', to: ['canary@bounces.example.jp'] },
          { name: 'remote', host: 'smtp.example.jp', from: 'shop@example.jp', to: ['canary@bounces.example.jp'] },
        ],
      });
      const asked: string[] = [];
      const lookup: DnsLookup = async (name, type) => {
        asked.push(`${type} ${name}`);
        throw Object.assign(new Error('NXDOMAIN'), { code: 'ENOTFOUND' });
      };
      const store = createFileStore({ dir });
      const auth = createLocalAuthentication({ config, lookup, store, clock: () => new Date('2026-03-01T09:00:00Z'), targets: (t) => !isLocalTarget(t) });
      const raw = Buffer.from('Received: from smtp.example.jp (smtp.example.jp [192.0.2.25]) by bounces.example.jp with ESMTP\r\nFrom: shop@example.jp\r\n\r\nhello\r\n');

      // Act
      await auth.authenticate(raw, { canaryId: '01K1', target: 'local', at: '2026-03-01T09:00:01Z' });
      const localRound = await auth.roundCheck(config.targets[0]!);
      const askedForLocal = [...asked];
      await auth.authenticate(raw, { canaryId: '01K2', target: 'remote', at: '2026-03-01T09:00:02Z' });

      // Assess
      expect(localRound).toBeNull();
      expect(askedForLocal).toEqual([]);
      expect((await store.getSenderAuth('local')).delivery).toBeNull();
      // The other target is verified: DNS asked, and "no such domain" is a verdict, kept.
      expect(asked.length).toBeGreaterThan(0);
      expect((await store.getSenderAuth('remote')).delivery).toMatchObject({ canaryId: '01K2', verdicts: { ip: '192.0.2.25', helo: 'smtp.example.jp', dkim: [] } });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it.each([
    ['127.0.0.1', true],
    ['localhost', true],
    ['::1', true],
    ['[::1]', true],
    ['smtp.example.jp', false],
    ['192.0.2.1', false],
  ])('counts host %s as this machine: %s', (host, local) => {
    expect(isLocalTarget({ host } as Parameters<typeof isLocalTarget>[0])).toBe(local);
  });
});
