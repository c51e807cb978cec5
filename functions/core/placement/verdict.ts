/**
 * Inbox placement verdicts: for each canary and seed, where the canary landed, decided from what
 * reading the seed found (or did not), the bounces of the seed's address and the time.
 * Pure: records in, records out; the store and the IMAP reading are the shell's.
 */
import type { ReceiverAuth } from './auth-results.ts';

/**
 * - `inbox`: in the inbox (on Gmail, whichever category tab: `category` says which);
 * - `spam`: in the spam folder (SPECIAL-USE `\Junk`, or its usual name);
 * - `other`: in another folder (a filter moved it);
 * - `missing`: not found within `deliveryTimeoutMinutes`;
 * - `refused`: the seed's address was refused, at RCPT by the provider or by a bounce later;
 * - `unreadable`: the seed could not be read (login, IMAP) until the time was up;
 * - `pending`: not found yet, still within the time.
 */
export const PLACEMENT_VERDICTS = ['inbox', 'spam', 'other', 'missing', 'refused', 'unreadable', 'pending'] as const;
export type PlacementVerdict = (typeof PLACEMENT_VERDICTS)[number];

/** One canary at one seed. Plain JSON, kept by the PlacementStore. */
export interface PlacementRecord {
  readonly canaryId: string;
  readonly target: string;
  readonly seed: string;
  readonly address: string;
  /** ISO time the provider accepted the canary. */
  readonly sentAt: string;
  readonly verdict: PlacementVerdict;
  /** The folder it was found in (its IMAP path); null when not found. */
  readonly folder: string | null;
  /** Gmail's category tab for an inbox verdict: primary, social, promotions, updates, forums. */
  readonly category?: string;
  /** ISO time the receiver took it (its entry Received line, else the IMAP INTERNALDATE); null when not found. */
  readonly arrivedAt: string | null;
  /** Seconds from the provider's acceptance to the receiver's arrival; null when not found. */
  readonly seconds: number | null;
  /** The receiver's own Authentication-Results verdicts, when it wrote any. */
  readonly receiverAuth?: ReceiverAuth;
  /** How many copies were found (a canary delivered twice: 2). */
  readonly copies?: number;
  /** Whether the canary was removed from the seed after reading (false: left there, `note` says why). */
  readonly removed?: boolean;
  /** For `refused`: where and what. */
  readonly refusal?: { readonly by: 'rcpt' | 'bounce'; readonly reply: string | null; readonly bounceKey?: string; readonly source?: string };
  /** For `unreadable`, and a pending canary whose seed could not be read: what went wrong. */
  readonly error?: string;
  /** ISO time the seed was last read for it; null before the first read. */
  readonly checkedAt: string | null;
  /** Something worth saying that is not a verdict (the canary could not be removed, …). */
  readonly note?: string;
}

/** Final verdicts never change again; `pending` does. */
export function isFinal(verdict: PlacementVerdict): boolean {
  return verdict !== 'pending';
}

/** One copy of the canary as reading the seed found it. */
export interface FoundCopy {
  readonly folder: string;
  /** Which kind of folder it is: the inbox, the spam folder, or another one. */
  readonly role: 'inbox' | 'junk' | 'other';
  readonly category?: string;
  /** ISO INTERNALDATE, when the server gave one. */
  readonly internalDate: string | null;
  /** What the receiver's header block says (auth-results.ts `readReceiver`). */
  readonly receiver: { readonly auth: ReceiverAuth | null; readonly arrivedAt: string | null };
  readonly removed: boolean;
}

/** What reading the seed gave for one canary this time. */
export type SeedObservation =
  | { readonly kind: 'found'; readonly copies: readonly FoundCopy[]; readonly note?: string }
  | { readonly kind: 'not-found' }
  | { readonly kind: 'failed'; readonly error: string };

const ROLE_RANK: Record<FoundCopy['role'], number> = { junk: 0, other: 1, inbox: 2 };

/**
 * The next state of a pending record.
 * - A bounce of the seed's address for this canary: `refused` (whatever was found; the bounce
 *   says the receiver did not take it, or took it and gave it back);
 * - found: `inbox` / `spam` / `other` by the folder; of several copies the worst place counts
 *   (a customer who gets it twice sees the one in spam too) and the earliest arrival;
 * - not found, or the seed unreadable: `pending` until `timeoutMinutes` after it was sent, then
 *   `missing` (it was read and is not there) or `unreadable` (it could never be read).
 * @example decidePlacement(record, { kind: 'not-found' }, { now, timeoutMinutes: 15 }).verdict // 'pending'
 */
export function decidePlacement(
  record: PlacementRecord,
  seen: SeedObservation,
  ctx: { readonly now: Date; readonly timeoutMinutes: number; readonly bounce?: { readonly key: string; readonly reply: string | null; readonly source?: string } | null },
): PlacementRecord {
  if (isFinal(record.verdict)) return record;
  const checkedAt = ctx.now.toISOString();
  if (ctx.bounce) {
    return {
      ...record,
      verdict: 'refused',
      checkedAt,
      refusal: { by: 'bounce', reply: ctx.bounce.reply, bounceKey: ctx.bounce.key, ...(ctx.bounce.source ? { source: ctx.bounce.source } : {}) },
    };
  }
  if (seen.kind === 'found' && seen.copies.length > 0) {
    const worst = [...seen.copies].sort((a, b) => ROLE_RANK[a.role] - ROLE_RANK[b.role])[0]!;
    const arrivals = seen.copies.map((c) => c.receiver.arrivedAt ?? c.internalDate).filter((t): t is string => t !== null).sort();
    const arrivedAt = arrivals[0] ?? null;
    const seconds = arrivedAt === null ? null : Math.max(0, Math.round((Date.parse(arrivedAt) - Date.parse(record.sentAt)) / 1000));
    const auth = worst.receiver.auth ?? seen.copies.find((c) => c.receiver.auth !== null)?.receiver.auth ?? null;
    const removed = seen.copies.every((c) => c.removed);
    const { error: _error, ...rest } = record;
    return {
      ...rest,
      verdict: worst.role === 'inbox' ? 'inbox' : worst.role === 'junk' ? 'spam' : 'other',
      folder: worst.folder,
      ...(worst.category ? { category: worst.category } : {}),
      arrivedAt,
      seconds,
      ...(auth ? { receiverAuth: auth } : {}),
      ...(seen.copies.length > 1 ? { copies: seen.copies.length } : {}),
      removed,
      ...(seen.note ? { note: seen.note } : {}),
      checkedAt,
    };
  }
  const overdue = ctx.now.getTime() - Date.parse(record.sentAt) >= ctx.timeoutMinutes * 60_000;
  if (seen.kind === 'failed') {
    // Read at least once without finding it, then unreadable: it was not there when it could be read.
    const everRead = record.checkedAt !== null && record.error === undefined;
    if (!overdue) return { ...record, checkedAt, error: seen.error };
    return { ...record, verdict: everRead ? 'missing' : 'unreadable', checkedAt, error: seen.error };
  }
  const { error: _error, ...rest } = record;
  return { ...rest, verdict: overdue ? 'missing' : 'pending', checkedAt };
}

/**
 * The pending records of the seeds a round sent its canary to: one per seed whose RCPT the
 * provider accepted, and a `refused` one for each it refused (with the reply).
 * @example placementRecordsOf({ canaryId, target: 'shop', sentAt, seeds, rcpt: result.steps })
 */
export function placementRecordsOf(input: {
  readonly canaryId: string;
  readonly target: string;
  readonly sentAt: string;
  readonly seeds: readonly { readonly name: string; readonly address: string }[];
  /** The round's RCPT steps (recipient, ok, reply). */
  readonly rcpt: readonly { readonly recipient?: string; readonly ok: boolean; readonly reply?: string }[];
  /** Whether the provider accepted DATA (nothing went out otherwise). */
  readonly dataAccepted: boolean;
}): PlacementRecord[] {
  if (!input.dataAccepted) return [];
  return input.seeds.flatMap((seed): PlacementRecord[] => {
    const step = input.rcpt.find((s) => s.recipient?.toLowerCase() === seed.address.toLowerCase());
    if (!step) return [];
    const base: Omit<PlacementRecord, 'verdict'> = { canaryId: input.canaryId, target: input.target, seed: seed.name, address: seed.address, sentAt: input.sentAt, folder: null, arrivedAt: null, seconds: null, checkedAt: null };
    return step.ok
      ? [{ ...base, verdict: 'pending' }]
      : [{ ...base, verdict: 'refused', refusal: { by: 'rcpt', reply: step.reply ?? null } }];
  });
}

/** One seed as a round shows it (the `check --json` `placement` entries, plus what the report needs). */
export interface PlacementEntry {
  readonly seed: string;
  readonly address: string;
  readonly verdict: PlacementVerdict;
  readonly folder: string | null;
  readonly seconds: number | null;
  readonly receiverAuth?: ReceiverAuth;
  readonly category?: string;
  /** The canary the verdict is about; null when no canary went to this seed yet. */
  readonly canaryId: string | null;
  /** ISO time that canary was sent. */
  readonly sentAt: string | null;
  /** Why the seed could not be read, when it could not. */
  readonly error?: string;
}
