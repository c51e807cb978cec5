/**
 * The decisions an alert is raised with (functions/core/health/raise.ts), as plain types: the
 * ports name them (`Store.raise`), so they live apart from the code that writes them.
 */
import type { DigestWindow } from '../alert/digest.ts';
import type { AlertEvent } from '../alert/event.ts';
import type { SilenceState } from './silence.ts';
import type { HealthState } from './state.ts';

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
