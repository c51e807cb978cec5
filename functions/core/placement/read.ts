/**
 * Reading the seeds for the canaries still pending there: one IMAP session per seed (however
 * many targets and canaries wait at it), the verdict of each canary decided from what was found,
 * the bounces of the seed's address and the time, and the records written back. The seeds' own
 * health (can they be read?) is advanced here too, raising SEED_LOGIN_FAILED once per spell.
 * The shell (the local loop, `check`, the canary Lambda) calls `readSeeds`; the ports do the I/O.
 */
import type { SeedAlert } from '../alert/event.ts';
import { newCanaryId } from '../canary-id.ts';
import { seedsOf, type Config } from '../config.ts';
import { raisedAlone } from '../health/record.ts';
import type { BounceRecord } from '../health/records.ts';
import type { Clock, PlacementStore, RandomSource, SeedReader, Store } from '../ports.ts';
import { readReceiver } from './auth-results.ts';
import { providerOf, receiverOf } from './providers.ts';
import { advanceSeed, initialSeedState, type SeedReadOutcome } from './seed-health.ts';
import { decidePlacement, isFinal, type FoundCopy, type PlacementRecord, type SeedObservation } from './verdict.ts';

/** How far back pending canaries are read: a day, like the round-trip check. */
export const PLACEMENT_LOOKBACK_HOURS = 24;
/** Records of a target looked at per read (a day of 5-minute round trips is 288 per seed). */
const RECORDS_PER_TARGET = 2_000;

/** What reading the seeds needs. */
export interface ReadSeedsDeps {
  readonly placements: PlacementStore;
  readonly read: SeedReader;
  readonly clock: Clock;
  /** The bounces of a target (newest first), to tell a refused seed; absent: none are looked at. */
  readonly bounces?: (target: string) => Promise<readonly BounceRecord[]>;
}

/** What a read of the seeds did. */
export interface ReadSeedsResult {
  /** The records that changed, as written. */
  readonly updated: readonly PlacementRecord[];
  /** Per seed read: whether it could be read. */
  readonly outcomes: ReadonlyMap<string, SeedReadOutcome>;
  /** Per seed read: its notes (a canary left in place, a spam folder found by name). */
  readonly notes: ReadonlyMap<string, readonly string[]>;
}

/** The failing bounce of `address` for `canaryId`, when one was recorded. */
function bounceOf(bounces: readonly BounceRecord[], canaryId: string, address: string): BounceRecord | null {
  const who = address.toLowerCase();
  return (
    bounces.find(
      (b) =>
        b.canaryId?.toUpperCase() === canaryId &&
        b.recipient.recipient.toLowerCase() === who &&
        b.finding !== null &&
        b.finding.severity !== 'info' &&
        b.finding.code !== 'BOUNCE_TRANSIENT',
    ) ?? null
  );
}

/**
 * Reads every seed that has pending canaries of these targets (only `canaryIds`, when given) and
 * writes the decided records. Resolves for unreadable seeds too (their outcome says so).
 * @example
 * const { updated } = await readSeeds({ config, targets: ['shop', 'clinic'] }, { placements, read: createImapSeedReader(…), clock });
 */
export async function readSeeds(
  input: { readonly config: Pick<Config, 'seeds' | 'targets' | 'deliveryTimeoutMinutes'>; readonly targets: readonly string[]; readonly canaryIds?: readonly string[]; readonly remove?: boolean },
  deps: ReadSeedsDeps,
): Promise<ReadSeedsResult> {
  const { config } = input;
  const now = deps.clock();
  const sentAfter = new Date(now.getTime() - PLACEMENT_LOOKBACK_HOURS * 3600_000).toISOString();
  const only = input.canaryIds ? new Set(input.canaryIds.map((id) => id.toUpperCase())) : null;
  const bySeed = new Map<string, PlacementRecord[]>();
  const bouncesOf = new Map<string, readonly BounceRecord[]>();
  for (const name of input.targets) {
    const target = config.targets.find((t) => t.name === name);
    if (!target) continue;
    const seeds = new Set(seedsOf(config, target).map((s) => s.name));
    const pending = (await deps.placements.listPlacements(name, { sentAfter, limit: RECORDS_PER_TARGET })).filter(
      (r) => !isFinal(r.verdict) && seeds.has(r.seed) && (only === null || only.has(r.canaryId)),
    );
    if (pending.length === 0) continue;
    if (deps.bounces) bouncesOf.set(name, await deps.bounces(name));
    for (const r of pending) bySeed.set(r.seed, [...(bySeed.get(r.seed) ?? []), r]);
  }

  const updated: PlacementRecord[] = [];
  const outcomes = new Map<string, SeedReadOutcome>();
  const notes = new Map<string, readonly string[]>();
  // Seeds side by side: each is its own server; a silent one costs its timeout once.
  await Promise.all(
    [...bySeed].map(async ([seedName, records]) => {
      const seed = (config.seeds ?? []).find((s) => s.name === seedName)!;
      const receiver = receiverOf(seed);
      // A canary refused by a bounce needs no search.
      const ids = [...new Set(records.map((r) => r.canaryId))];
      const result = await deps.read({ seed, canaryIds: ids, ...(input.remove === false ? { remove: false } : {}) });
      outcomes.set(seedName, result.kind === 'read' ? { ok: true } : { ok: false, kind: result.failure, detail: result.detail });
      if (result.kind === 'read' && result.notes.length > 0) notes.set(seedName, result.notes);
      const at = deps.clock();
      for (const record of records) {
        let seen: SeedObservation;
        if (result.kind === 'failed') seen = { kind: 'failed', error: `${result.failure}: ${result.detail}` };
        else {
          const copies: FoundCopy[] = result.messages
            .filter((m) => m.canaryId === record.canaryId)
            .map((m) => ({
              folder: m.folder,
              role: m.role,
              ...(m.category ? { category: m.category } : {}),
              internalDate: m.internalDate,
              receiver: readReceiver(m.headers, receiver),
              removed: m.removed,
            }));
          const left = copies.some((c) => !c.removed) ? result.notes.find((n) => n.includes(record.canaryId)) : undefined;
          seen = copies.length > 0 ? { kind: 'found', copies, ...(left ? { note: left } : {}) } : { kind: 'not-found' };
        }
        const bounce = bounceOf(bouncesOf.get(record.target) ?? [], record.canaryId, record.address);
        const next = decidePlacement(record, seen, {
          now: at,
          timeoutMinutes: config.deliveryTimeoutMinutes,
          bounce: bounce ? { key: bounce.key ?? '', reply: bounce.recipient.diagnostic, ...(bounce.source ? { source: bounce.source } : {}) } : null,
        });
        if (JSON.stringify(next) !== JSON.stringify(record)) {
          await deps.placements.putPlacement(next);
          updated.push(next);
        }
      }
    }),
  );
  return { updated, outcomes, notes };
}

/**
 * Applies the seeds' read outcomes to their login state (seed-health.ts) and returns the seed
 * alerts to raise, each once (claimed in the store).
 * @example const events = await recordSeedOutcomes(result.outcomes, { config, placements, store, clock, random, threshold: 2 });
 */
export async function recordSeedOutcomes(
  outcomes: ReadonlyMap<string, SeedReadOutcome>,
  deps: {
    readonly config: Pick<Config, 'seeds' | 'targets'>;
    readonly placements: PlacementStore;
    readonly store: Pick<Store, 'claim' | 'raise'>;
    readonly clock: Clock;
    readonly random: RandomSource;
    readonly threshold: number;
  },
): Promise<SeedAlert[]> {
  const events: SeedAlert[] = [];
  for (const [name, outcome] of outcomes) {
    const seed = (deps.config.seeds ?? []).find((s) => s.name === name);
    if (!seed) continue;
    const targets = deps.config.targets.filter((t) => seedsOf(deps.config, t).some((s) => s.name === name)).map((t) => t.name);
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = await deps.placements.getSeedState(name);
      const step = advanceSeed(current?.value ?? initialSeedState(name), outcome, {
        seed: { name, address: seed.address, provider: providerOf(seed), ...(seed.imap.auth.oauth2 ? { oauth2: true } : {}) },
        targets,
        now: deps.clock(),
        threshold: deps.threshold,
        newIncidentId: () => newCanaryId(deps.clock().getTime(), deps.random(10)),
      });
      if (await deps.placements.putSeedState(name, step.state, current?.version ?? null)) {
        // Raised with their claims (in AWS into the table's outbox: a stop before publishing delays them, never loses them).
        events.push(...(await raisedAlone(step.events, deps.store)));
        break;
      }
    }
  }
  return events;
}
