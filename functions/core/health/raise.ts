/**
 * Raising alerts durably: the decision that raises an alert (a health state, a digest window, a
 * silence state, a once-only claim) and the alert itself are written together. A store that
 * can write them in one atomic step (DynamoDB: one transaction, the alerts in an outbox the
 * publisher empties and the sweeper re-publishes from) implements `Store.raise`; one that
 * cannot (the local file store: the local outbox keeps what it queued) gets `raiseInTurn`,
 * the writes one after the other, as every entry point did before.
 *
 * Either way an alert is raised once: its claim `alert#<key>` is taken with it, and an alert
 * whose claim someone else holds is left out of what the write reports as raised.
 */
import type { DigestWindow } from '../alert/digest.ts';
import type { AlertEvent } from '../alert/event.ts';
import { StateError } from '../errors.ts';
import type { SilenceStore, Store } from '../ports.ts';
import type { SilenceState } from './silence.ts';
import type { HealthState } from './state.ts';

/** How long an alert's claim blocks a second raise of it (two weeks: see CLAIM_TTL_SECONDS in record.ts). */
export const ALERT_CLAIM_TTL_SECONDS = 14 * 24 * 3600;

/** The claim key of an alert: raised only by the writer that takes it. */
export const alertClaimKey = (event: Pick<AlertEvent, 'key'>): string => `alert#${event.key}`;

/** A write an alert is decided by. Each is conditional: it fails when someone else wrote first. */
export type Decision =
  /** A target's health state, at the version read (null: only if absent). */
  | { readonly kind: 'health'; readonly target: string; readonly state: HealthState; readonly expectedVersion: number | null }
  /** A target's bounce digest window (null target: the bounces without one), at the version read. */
  | { readonly kind: 'digest'; readonly target: string | null; readonly window: DigestWindow | null; readonly expectedVersion: number | null }
  /** The dead-man sweeper's silence state, at the version read. */
  | { readonly kind: 'silence'; readonly state: SilenceState; readonly expectedVersion: number | null }
  /** A once-only claim (a bounce's key, a repeat window). */
  | { readonly kind: 'claim'; readonly key: string; readonly ttlSeconds: number };

/** What a raise wrote. */
export type RaiseOutcome =
  /** Every decision is written; `raised` are the alerts claimed by this write (the others were raised before). */
  | { readonly written: true; readonly raised: AlertEvent[] }
  /** Nothing is written: decision number `failed` was written by someone else first. */
  | { readonly written: false; readonly failed: number };

/** The stores a raise writes to: the Store, and the sweeper's state for a silence decision. */
export interface RaiseStores {
  readonly store: Store;
  readonly silence?: SilenceStore;
}

async function decide(decision: Decision, stores: RaiseStores): Promise<boolean> {
  const { store } = stores;
  switch (decision.kind) {
    case 'health':
      return store.putHealth(decision.target, decision.state, decision.expectedVersion);
    case 'digest':
      return store.putDigest(decision.target, decision.window, decision.expectedVersion);
    case 'claim':
      return store.claim(decision.key, decision.ttlSeconds);
    case 'silence':
      if (!stores.silence) throw new StateError('a silence decision needs the sweeper state (SilenceStore)');
      return stores.silence.putSilence(decision.state, decision.expectedVersion);
  }
}

/**
 * The decisions then the alerts' claims, one write after the other: what a store without
 * atomic writes does. A process that stops between two writes loses the alerts of a decision
 * already written; the local runtime accepts that (its outbox is written right after).
 */
export async function raiseInTurn(decisions: readonly Decision[], alerts: readonly AlertEvent[], stores: RaiseStores): Promise<RaiseOutcome> {
  for (let i = 0; i < decisions.length; i++) {
    if (!(await decide(decisions[i]!, stores))) return { written: false, failed: i };
  }
  const raised: AlertEvent[] = [];
  for (const e of alerts) if (await stores.store.claim(alertClaimKey(e), ALERT_CLAIM_TTL_SECONDS)) raised.push(e);
  return { written: true, raised };
}

/**
 * Writes the decisions and raises the alerts with them: atomically where the store can
 * (`Store.raise`), else in turn.
 * @example
 * const out = await raiseAlerts([{ kind: 'health', target, state, expectedVersion }], events, { store });
 * if (out.written) return out.raised; // else re-read and decide again
 */
export function raiseAlerts(decisions: readonly Decision[], alerts: readonly AlertEvent[], stores: RaiseStores): Promise<RaiseOutcome> {
  return stores.store.raise ? stores.store.raise(decisions, alerts) : raiseInTurn(decisions, alerts, stores);
}
