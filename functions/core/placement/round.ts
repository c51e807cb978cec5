/**
 * Inbox placement in a target's round: per seed, the latest decided verdict (its findings join
 * the round's, so a canary in spam raises an incident through the health state like any other
 * finding, once, and a later canary in the inbox recovers it) and what the round shows
 * (`placement` in `check --json`, the report's grid).
 */
import { seedsOf, type Config, type TargetConfig } from '../config.ts';
import type { Finding } from '../findings.ts';
import type { PlacementStore } from '../ports.ts';
import { placementFindings } from './findings.ts';
import { providerOf } from './providers.ts';
import { PLACEMENT_LOOKBACK_HOURS } from './read.ts';
import { isFinal, type PlacementEntry, type PlacementRecord } from './verdict.ts';

/** The round's view of one record. */
export function entryOf(r: PlacementRecord): PlacementEntry {
  return {
    seed: r.seed,
    address: r.address,
    verdict: r.verdict,
    folder: r.folder,
    seconds: r.seconds,
    ...(r.receiverAuth ? { receiverAuth: r.receiverAuth } : {}),
    ...(r.category ? { category: r.category } : {}),
    canaryId: r.canaryId,
    sentAt: r.sentAt,
    ...(r.error !== undefined ? { error: r.error } : {}),
  };
}

/**
 * The placement part of a target's round from its records: per seed of the target, the latest
 * decided record (its findings), else the latest pending one; a seed with no record yet is
 * `pending` without a canary. Findings come only from decided records.
 * @example placementOfTarget(records, { config, target, listedOn: null })
 */
export function placementOfTarget(
  records: readonly PlacementRecord[],
  input: { readonly config: Pick<Config, 'seeds' | 'deliveryTimeoutMinutes'>; readonly target: TargetConfig; readonly listedOn?: readonly string[] | null },
): { entries: PlacementEntry[]; findings: Finding[] } {
  const { config, target } = input;
  const fromDomain = target.from.slice(target.from.lastIndexOf('@') + 1).toLowerCase();
  const entries: PlacementEntry[] = [];
  const findings: Finding[] = [];
  for (const seed of seedsOf(config, target)) {
    // Canary ids sort by time: the newest first.
    const mine = records.filter((r) => r.seed === seed.name).sort((a, b) => (a.canaryId < b.canaryId ? 1 : a.canaryId > b.canaryId ? -1 : 0));
    const decided = mine.find((r) => isFinal(r.verdict));
    const shown = decided ?? mine[0];
    if (!shown) {
      entries.push({ seed: seed.name, address: seed.address, verdict: 'pending', folder: null, seconds: null, canaryId: null, sentAt: null });
      continue;
    }
    entries.push(entryOf(shown));
    if (decided) {
      findings.push(
        ...placementFindings(decided, config.deliveryTimeoutMinutes, { fromDomain, provider: providerOf(seed), slowSeconds: seed.slowSeconds, listedOn: input.listedOn ?? null }),
      );
    }
  }
  return { entries, findings };
}

/**
 * The placement part of a target's round, read from the store (the records of the last day).
 * @example const { entries, findings } = await targetPlacement(target, { config, placements, now: clock() });
 */
export async function targetPlacement(
  target: TargetConfig,
  deps: { readonly config: Pick<Config, 'seeds' | 'deliveryTimeoutMinutes'>; readonly placements: PlacementStore; readonly now: Date; readonly listedOn?: readonly string[] | null },
): Promise<{ entries: PlacementEntry[]; findings: Finding[] }> {
  if (seedsOf(deps.config, target).length === 0) return { entries: [], findings: [] };
  const sentAfter = new Date(deps.now.getTime() - PLACEMENT_LOOKBACK_HOURS * 3600_000).toISOString();
  const records = await deps.placements.listPlacements(target.name, { sentAfter, limit: 2_000 });
  return placementOfTarget(records, { config: deps.config, target, ...(deps.listedOn !== undefined ? { listedOn: deps.listedOn } : {}) });
}
