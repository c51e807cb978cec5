/**
 * The behaviour every PlacementStore adapter must have, as vitest cases. Call it inside a
 * `describe` with a factory that makes a fresh, empty store whose own clock reads `nowMs()`.
 */
import { expect, it } from 'vitest';
import type { PlacementStore } from '#core/ports.ts';
import { initialSeedState } from '#core/placement/seed-health.ts';
import type { PlacementRecord } from '#core/placement/verdict.ts';

export type PlacementStoreFactory = (nowMs: () => number) => Promise<PlacementStore>;

const T0 = Date.parse('2026-01-05T08:00:00.000Z');
const sent = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();

/** A pending record of canary `id` sent `minutes` after T0. */
export function pendingRecord(id: string, minutes: number, seed = 'gmail', target = 'shop'): PlacementRecord {
  return { canaryId: id, target, seed, address: `${seed}@seed.test`, sentAt: sent(minutes), verdict: 'pending', folder: null, arrivedAt: null, seconds: null, checkedAt: null };
}

export function placementStoreContract(makeStore: PlacementStoreFactory): void {
  const fresh = () => makeStore(() => T0 + 3600_000);

  it('keeps one record per canary and seed, the last one written', async () => {
    // Prepare
    const store = await fresh();
    await store.putPlacement(pendingRecord('01A', 0));
    await store.putPlacement(pendingRecord('01A', 0, 'yahoo'));

    // Act
    await store.putPlacement({ ...pendingRecord('01A', 0), verdict: 'spam', folder: 'Junk', seconds: 4, arrivedAt: sent(0.1), checkedAt: sent(5) });

    // Assess
    const records = await store.listPlacements('shop', { sentAfter: sent(-60), limit: 10 });
    expect(records.map((r) => [r.canaryId, r.seed, r.verdict])).toEqual([
      ['01A', 'yahoo', 'pending'],
      ['01A', 'gmail', 'spam'],
    ]);
    expect(records[1]).toEqual({ ...pendingRecord('01A', 0), verdict: 'spam', folder: 'Junk', seconds: 4, arrivedAt: sent(0.1), checkedAt: sent(5) });
  });

  it('lists a target\'s records newest canary first, from a time on, at most a limit', async () => {
    const store = await fresh();
    for (const [id, m] of [['01A', 0], ['01B', 5], ['01C', 10], ['01D', 15]] as const) await store.putPlacement(pendingRecord(id, m));
    await store.putPlacement(pendingRecord('01X', 12, 'gmail', 'clinic'));
    expect((await store.listPlacements('shop', { sentAfter: sent(5), limit: 10 })).map((r) => r.canaryId)).toEqual(['01D', '01C', '01B']);
    expect((await store.listPlacements('shop', { sentAfter: sent(0), limit: 2 })).map((r) => r.canaryId)).toEqual(['01D', '01C']);
    expect((await store.listPlacements('clinic', { sentAfter: sent(0), limit: 10 })).map((r) => r.canaryId)).toEqual(['01X']);
    expect(await store.listPlacements('nobody', { sentAfter: sent(0), limit: 10 })).toEqual([]);
  });

  it('writes a seed\'s state only at the version it was read, one of concurrent writers winning', async () => {
    const store = await fresh();
    expect(await store.getSeedState('gmail')).toBeNull();
    expect(await store.putSeedState('gmail', initialSeedState('gmail'), null)).toBe(true);
    expect(await store.putSeedState('gmail', initialSeedState('gmail'), null)).toBe(false);
    const wins = await Promise.all(Array.from({ length: 4 }, (_, i) => store.putSeedState('gmail', { ...initialSeedState('gmail'), failures: i + 1 }, 1)));
    expect(wins.filter(Boolean)).toHaveLength(1);
    const now = await store.getSeedState('gmail');
    expect(now?.version).toBe(2);
    expect(now?.value.failures).toBe(wins.indexOf(true) + 1);
  });
}
