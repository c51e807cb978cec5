/**
 * A PlacementStore in memory: `mailhealth check` without `--state` reads the seeds for its own
 * canaries and keeps nothing afterwards.
 */
import type { PlacementStore } from '#core/ports.ts';
import type { SeedState } from '#core/placement/seed-health.ts';
import type { PlacementRecord } from '#core/placement/verdict.ts';

/** A fresh, empty in-memory PlacementStore. */
export function createMemoryPlacementStore(): PlacementStore {
  const records = new Map<string, PlacementRecord>();
  const seeds = new Map<string, { version: number; state: SeedState }>();
  return {
    async putPlacement(record) {
      records.set(`${record.canaryId}#${record.seed}`, record);
    },
    async listPlacements(target, { sentAfter, limit }) {
      return [...records.values()]
        .filter((r) => r.target === target && r.sentAt >= sentAfter)
        .sort((a, b) => (a.canaryId === b.canaryId ? (a.seed < b.seed ? 1 : -1) : a.canaryId < b.canaryId ? 1 : -1))
        .slice(0, limit);
    },
    async getSeedState(seed) {
      const s = seeds.get(seed);
      return s ? { value: s.state, version: s.version } : null;
    },
    async putSeedState(seed, state, expectedVersion) {
      if ((seeds.get(seed)?.version ?? null) !== expectedVersion) return false;
      seeds.set(seed, { version: (expectedVersion ?? 0) + 1, state });
      return true;
    },
  };
}
