import { describe, expect, it } from 'vitest';
import { parseConfig } from '#core/config.ts';
import type { BounceRecord } from '#core/health/records.ts';
import type { SeedReader } from '#core/ports.ts';
import type { SeedReadRequest } from '#core/placement/seed-read.ts';
import { readSeeds, recordSeedOutcomes } from '#core/placement/read.ts';
import { createMemoryPlacementStore } from '#local/placement-memory.ts';
import type { PlacementRecord } from '#core/placement/verdict.ts';

const T0 = Date.parse('2026-01-05T08:00:00.000Z');
const config = parseConfig({
  bounceDomain: 'bounces.example.jp',
  targets: [
    { name: 'shop', host: 'smtp.example.jp', from: 'shop@example.jp', to: ['ok@bounces.example.jp'] },
    { name: 'clinic', host: 'smtp.example.jp', from: 'clinic@example.jp', to: ['ok@bounces.example.jp'], seeds: ['gmail'] },
  ],
  seeds: [
    { name: 'gmail', address: 'seed@gmail.com', imap: { host: '127.0.0.1', auth: { user: 'seed@gmail.com', passwordEnv: 'G' } } },
    { name: 'yahoo', address: 'seed@yahoo.com', imap: { host: '127.0.0.1', auth: { user: 'seed@yahoo.com', passwordEnv: 'Y' } } },
  ],
});
const record = (canaryId: string, target: string, seed: 'gmail' | 'yahoo'): PlacementRecord => ({
  canaryId,
  target,
  seed,
  address: `seed@${seed}.com`,
  sentAt: new Date(T0).toISOString(),
  verdict: 'pending',
  folder: null,
  arrivedAt: null,
  seconds: null,
  checkedAt: null,
});
const headers = (id: string) => `Authentication-Results: mx.google.com; dmarc=pass header.from=example.jp\r\nReceived: from smtp.example.jp ([192.0.2.1]) by mx.google.com; Mon, 05 Jan 2026 08:00:09 +0000\r\nMessage-ID: <${id}@mail-health>\r\n`;

describe('readSeeds', () => {
  it('reads each seed once for every target\'s pending canaries, decides them, and links a refused seed to its bounce', async () => {
    // Prepare: shop's canary at both seeds, clinic's at gmail; yahoo bounced shop's.
    const placements = createMemoryPlacementStore();
    for (const r of [record('01A', 'shop', 'gmail'), record('01A', 'shop', 'yahoo'), record('01B', 'clinic', 'gmail')]) await placements.putPlacement(r);
    const calls: SeedReadRequest[] = [];
    const read: SeedReader = async (request) => {
      calls.push(request);
      if (request.seed.name === 'yahoo') return { kind: 'read', messages: [], junk: { path: 'Bulk', by: 'special-use' }, notes: [] };
      return {
        kind: 'read',
        junk: { path: '[Gmail]/Spam', by: 'special-use' },
        notes: [],
        messages: [
          { canaryId: '01A', folder: '[Gmail]/Spam', role: 'junk', internalDate: null, headers: headers('01A'), removed: true },
          { canaryId: '01B', folder: 'INBOX', role: 'inbox', category: 'updates', internalDate: null, headers: headers('01B'), removed: true },
        ],
      };
    };
    const bounce: BounceRecord = {
      at: new Date(T0 + 60_000).toISOString(),
      key: 'bounce#01A#seed@yahoo.com',
      target: 'shop',
      canaryId: '01A',
      recipient: { recipient: 'seed@yahoo.com', reason: 'rejected', status: '5.7.9', replyCode: 554, hard: false, diagnostic: '554 5.7.9 Message not accepted for policy reasons', remoteMta: 'mta7.am0.yahoodns.net', canaryId: '01A' },
      finding: { code: 'BOUNCE_BLOCKED', severity: 'critical', message: { en: 'x', ja: 'x' }, remedy: { en: 'x', ja: 'x' } },
      source: 'raw/2026-01-05/x.eml',
    };

    // Act
    const result = await readSeeds({ config, targets: ['shop', 'clinic'] }, { placements, read, clock: () => new Date(T0 + 120_000), bounces: async (t) => (t === 'shop' ? [bounce] : []) });

    // Assess
    expect(calls.map((c) => [c.seed.name, [...c.canaryIds].sort()]).sort()).toEqual([
      ['gmail', ['01A', '01B']],
      ['yahoo', ['01A']],
    ]);
    const byKey = Object.fromEntries(result.updated.map((r) => [`${r.canaryId}@${r.seed}`, r]));
    expect(byKey['01A@gmail']).toMatchObject({ verdict: 'spam', folder: '[Gmail]/Spam', seconds: 9, receiverAuth: { authservId: 'mx.google.com', dmarc: 'pass' } });
    expect(byKey['01B@gmail']).toMatchObject({ verdict: 'inbox', category: 'updates' });
    expect(byKey['01A@yahoo']).toMatchObject({ verdict: 'refused', refusal: { by: 'bounce', bounceKey: 'bounce#01A#seed@yahoo.com', reply: '554 5.7.9 Message not accepted for policy reasons', source: 'raw/2026-01-05/x.eml' } });
    expect(result.outcomes).toEqual(new Map([['gmail', { ok: true }], ['yahoo', { ok: true }]]));

    // Decided records are not read again.
    calls.length = 0;
    await readSeeds({ config, targets: ['shop', 'clinic'] }, { placements, read, clock: () => new Date(T0 + 180_000) });
    expect(calls).toEqual([]);
  });

  it('raises one seed alert once the threshold of failed reads is reached, claimed once', async () => {
    const placements = createMemoryPlacementStore();
    const claims = new Set<string>();
    const store = { claim: async (key: string) => (claims.has(key) ? false : (claims.add(key), true)) };
    const outcomes = new Map([['yahoo', { ok: false as const, kind: 'auth' as const, detail: 'AUTHENTICATIONFAILED' }]]);
    const deps = { config, placements, store, clock: () => new Date(T0), random: (n: number) => new Uint8Array(n), threshold: 2 };
    expect(await recordSeedOutcomes(outcomes, deps)).toEqual([]);
    const second = await recordSeedOutcomes(outcomes, deps);
    expect(second.map((e) => [e.kind, e.seed, e.targets])).toEqual([['seed', 'yahoo', ['shop']]]);
    expect(await recordSeedOutcomes(outcomes, deps)).toEqual([]);
  });
});
