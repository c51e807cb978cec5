/**
 * Inbox placement in `mailhealth check`: after the round, the seeds are read for the round's own
 * canaries until each is decided (found, refused) or `--drain` runs out, then each target's
 * result gets its `placement` entries and findings: PLACEMENT_* for the verdicts, and
 * SEED_LOGIN_FAILED (a warning) for a seed that could not be read.
 */
import type { Config } from '#core/config.ts';
import { seedsOf } from '#core/config.ts';
import { statusOf, type Finding } from '#core/findings.ts';
import type { Clock, PlacementStore, SeedReader } from '#core/ports.ts';
import { placementFindings, seedLoginFinding } from '#core/placement/findings.ts';
import { providerOf } from '#core/placement/providers.ts';
import { readSeeds } from '#core/placement/read.ts';
import { entryOf } from '#core/placement/round.ts';
import type { SeedReadOutcome } from '#core/placement/seed-health.ts';
import { isFinal, placementRecordsOf, type PlacementRecord } from '#core/placement/verdict.ts';
import { canaryRecordOf } from '#core/health/canary.ts';
import type { TargetResult } from '#core/results.ts';

/** Seeds are read again at most this often while waiting (each read is an IMAP login). */
export const CHECK_SEED_POLL_MS = 3_000;

/** What waiting for the seeds needs. */
export interface CheckPlacementDeps {
  readonly read: SeedReader;
  readonly placements: PlacementStore;
  readonly clock: Clock;
  /** @default a timer */
  readonly sleep?: (ms: number) => Promise<void>;
  /** @default Date.now: the wait's own clock */
  readonly nowMs?: () => number;
}

/**
 * Waits for the round's canaries at the seeds (at most `drainMs`, reading every
 * CHECK_SEED_POLL_MS) and returns the results with their placement, and each seed's last read.
 * @example const { results } = await awaitPlacement(config, report.targets, { drainMs: 60_000 }, { read, placements, clock });
 */
export async function awaitPlacement(
  config: Config,
  results: readonly TargetResult[],
  options: { readonly drainMs: number; readonly pollMs?: number },
  deps: CheckPlacementDeps,
): Promise<{ results: TargetResult[]; outcomes: ReadonlyMap<string, SeedReadOutcome> }> {
  const nowMs = deps.nowMs ?? Date.now;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const opened: PlacementRecord[] = [];
  for (const result of results) {
    const target = config.targets.find((t) => t.name === result.name);
    if (!target) continue;
    const canary = canaryRecordOf(result, { bounceDomain: config.bounceDomain });
    const records = placementRecordsOf({
      canaryId: result.canaryId,
      target: result.name,
      sentAt: canary?.sentAt ?? result.startedAt,
      seeds: seedsOf(config, target),
      rcpt: result.steps.filter((s) => s.step === 'rcpt'),
      dataAccepted: canary !== null,
    });
    for (const r of records) await deps.placements.putPlacement(r);
    opened.push(...records);
  }
  const ids = results.map((r) => r.canaryId);
  const names = results.map((r) => r.name);
  const outcomes = new Map<string, SeedReadOutcome>();
  const current = async () => {
    const out: PlacementRecord[] = [];
    const since = opened.reduce((min, r) => (r.sentAt < min ? r.sentAt : min), opened[0]?.sentAt ?? '');
    for (const name of names) out.push(...(await deps.placements.listPlacements(name, { sentAfter: since, limit: 1_000 })).filter((r) => ids.includes(r.canaryId)));
    return out;
  };
  const started = nowMs();
  let records = await current();
  while (options.drainMs > 0 && records.some((r) => !isFinal(r.verdict))) {
    const read = await readSeeds({ config, targets: names, canaryIds: ids }, { placements: deps.placements, read: deps.read, clock: deps.clock });
    for (const [seed, o] of read.outcomes) outcomes.set(seed, o);
    records = await current();
    const left = options.drainMs - (nowMs() - started);
    if (!records.some((r) => !isFinal(r.verdict)) || left <= 0) break;
    await sleep(Math.min(options.pollMs ?? CHECK_SEED_POLL_MS, left));
  }

  const withPlacement = results.map((result) => {
    const target = config.targets.find((t) => t.name === result.name);
    const seeds = target ? seedsOf(config, target) : [];
    if (seeds.length === 0) return result;
    const fromDomain = target!.from.slice(target!.from.lastIndexOf('@') + 1).toLowerCase();
    const mine = records.filter((r) => r.canaryId === result.canaryId);
    const findings: Finding[] = [];
    const entries = seeds.map((seed) => {
      const r = mine.find((m) => m.seed === seed.name);
      if (!r) return { seed: seed.name, address: seed.address, verdict: 'pending' as const, folder: null, seconds: null, canaryId: null, sentAt: null };
      if (isFinal(r.verdict)) {
        findings.push(
          ...placementFindings(r, config.deliveryTimeoutMinutes, { fromDomain, provider: providerOf(seed), slowSeconds: seed.slowSeconds, listedOn: result.authentication?.sendingIp?.listedOn ?? null }),
        );
      }
      const o = outcomes.get(seed.name);
      if (o && !o.ok) findings.push(seedLoginFinding({ seed: seed.name, address: seed.address, kind: o.kind, detail: o.detail, provider: providerOf(seed), ...(seed.imap.auth.oauth2 ? { oauth2: true } : {}) }));
      return entryOf(r);
    });
    const all = [...result.findings, ...findings];
    return { ...result, findings: all, status: statusOf(all), placement: entries };
  });
  return { results: withPlacement, outcomes };
}

/**
 * A round as the health state sees it: without SEED_LOGIN_FAILED, which is about the monitor's
 * own setup and is alerted once per seed instead (core/placement/seed-health.ts).
 */
export function forHealth(result: TargetResult): TargetResult {
  if (!result.findings.some((f) => f.code === 'SEED_LOGIN_FAILED')) return result;
  const findings = result.findings.filter((f) => f.code !== 'SEED_LOGIN_FAILED');
  return { ...result, findings, status: statusOf(findings) };
}
