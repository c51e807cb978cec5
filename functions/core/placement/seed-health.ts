/**
 * A seed's own health: can the monitor read it? A seed that cannot be read is a problem of the
 * monitor's setup (a revoked app password, an expired refresh token), not of the shop's mail,
 * so it never counts in a target's health state: it raises SEED_LOGIN_FAILED once per spell, as
 * a `seed` alert, after `failureThreshold` reads in a row failed, and one `recovered` alert when
 * the seed can be read again. Pure: time and incident ids are inputs.
 */
import type { SeedAlert } from '../alert/event.ts';
import { seedLoginFinding, type SeedFailureKind } from './findings.ts';

/** What the PlacementStore keeps per seed. Plain JSON. */
export interface SeedState {
  readonly seed: string;
  /** Reads in a row that failed. */
  readonly failures: number;
  /** ISO time of the first of them; null while the seed reads fine. */
  readonly failingSince: string | null;
  /** The last failure. */
  readonly lastError: { readonly kind: SeedFailureKind; readonly detail: string; readonly at: string } | null;
  /** ISO time of the last read that worked. */
  readonly lastOkAt: string | null;
  /** The open incident (its `failing` alert went out); null when none. */
  readonly incidentId: string | null;
}

/** A seed never read before. */
export function initialSeedState(seed: string): SeedState {
  return { seed, failures: 0, failingSince: null, lastError: null, lastOkAt: null, incidentId: null };
}

/** What one read of a seed gave. */
export type SeedReadOutcome = { readonly ok: true } | { readonly ok: false; readonly kind: SeedFailureKind; readonly detail: string };

/**
 * Applies one read of a seed to its state and returns the alerts it raises (at most one).
 * @example
 * const { state, events } = advanceSeed(prev, { ok: false, kind: 'auth', detail: 'AUTHENTICATIONFAILED' }, {
 *   seed: { name: 'gmail', address: 's@gmail.com', provider: 'gmail' }, targets: ['shop'], now, threshold: 2, newIncidentId });
 */
export function advanceSeed(
  prev: SeedState,
  outcome: SeedReadOutcome,
  ctx: {
    readonly seed: { readonly name: string; readonly address: string; readonly provider: string | null; readonly oauth2?: boolean };
    readonly targets: readonly string[];
    readonly now: Date;
    readonly threshold: number;
    readonly newIncidentId: () => string;
  },
): { state: SeedState; events: SeedAlert[] } {
  const at = ctx.now.toISOString();
  const base = { target: null, at, seed: ctx.seed.name, address: ctx.seed.address, targets: ctx.targets } as const;
  if (outcome.ok) {
    const state: SeedState = { ...prev, failures: 0, failingSince: null, lastOkAt: at, incidentId: null };
    if (prev.incidentId === null || prev.failingSince === null) return { state, events: [] };
    const since = prev.failingSince;
    return {
      state,
      events: [
        {
          ...base,
          kind: 'seed',
          phase: 'recovered',
          key: `${prev.incidentId}#seed-recovered`,
          incidentId: prev.incidentId,
          startedAt: since,
          status: 'ok',
          findings: [],
          durationMs: Math.max(0, ctx.now.getTime() - Date.parse(since)),
        },
      ],
    };
  }
  const failingSince = prev.failingSince ?? at;
  const next: SeedState = { ...prev, failures: prev.failures + 1, failingSince, lastError: { kind: outcome.kind, detail: outcome.detail, at } };
  if (prev.incidentId !== null || next.failures < ctx.threshold) return { state: next, events: [] };
  const incidentId = ctx.newIncidentId();
  const finding = seedLoginFinding({ seed: ctx.seed.name, address: ctx.seed.address, kind: outcome.kind, detail: outcome.detail, provider: ctx.seed.provider, ...(ctx.seed.oauth2 ? { oauth2: true } : {}) });
  return {
    state: { ...next, incidentId },
    events: [
      {
        ...base,
        kind: 'seed',
        phase: 'failing',
        key: `${incidentId}#seed-failing`,
        incidentId,
        startedAt: failingSince,
        status: 'warning',
        findings: [finding],
        durationMs: Math.max(0, ctx.now.getTime() - Date.parse(failingSince)),
      },
    ],
  };
}
