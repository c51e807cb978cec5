/**
 * What the SeedReader port (functions/core/ports.ts) is asked and answers: one read of a seed
 * mailbox over IMAP (functions/adapters/imap-seed.ts), as plain types.
 */
import type { SeedConfig } from '../config.ts';
import type { SeedFailureKind } from './findings.ts';

/** What one read of a seed is asked for. */
export interface SeedReadRequest {
  readonly seed: SeedConfig;
  /** The canary ids to look for (upper case). */
  readonly canaryIds: readonly string[];
  /** Remove each canary found (by its UID; nothing else is touched). @default true */
  readonly remove?: boolean;
}

/** One copy of a canary as found in a seed. */
export interface SeedMessage {
  readonly canaryId: string;
  /** The folder's IMAP path. */
  readonly folder: string;
  readonly role: 'inbox' | 'junk' | 'other';
  /** Gmail's category tab (primary, social, promotions, updates, forums), when the server is Gmail. */
  readonly category?: string;
  /** ISO INTERNALDATE; null when the server gave none. */
  readonly internalDate: string | null;
  /** The canary's header block as text: all that is fetched of it. */
  readonly headers: string;
  readonly removed: boolean;
}

/** What reading a seed gave. */
export type SeedReadResult =
  | {
      readonly kind: 'read';
      readonly messages: readonly SeedMessage[];
      /** The spam folder searched, and how it was found; null when the seed has none. */
      readonly junk: { readonly path: string; readonly by: 'special-use' | 'name' | 'config' } | null;
      /** Anything worth saying (a canary left in place, …). */
      readonly notes: readonly string[];
    }
  | { readonly kind: 'failed'; readonly failure: SeedFailureKind; readonly detail: string };
