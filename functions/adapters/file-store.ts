/**
 * The Store over files under a state directory (`--state DIR`), for the CLI and the local loop.
 * Each concern keeps its own files in its own module under `file-store/`:
 *
 *   DIR/health/<target>.json               health.ts       { version, state }
 *   DIR/history/<target>/rounds.jsonl       history.ts      the history as JSON Lines, one record
 *   DIR/history/<target>/bounces.jsonl                      per line, only ever appended
 *   DIR/history/<target>/alerts.jsonl
 *   DIR/history/<target>/retention.jsonl    retention.ts    what retention removed, when and why
 *   DIR/history/%none/…                                     bounces and alerts without a target
 *   DIR/canaries.json                      canaries.ts     sent canaries of the last `canaryRetentionDays`
 *   DIR/sender-auth.json                   sender-auth.ts  per target: latest delivered canary's verdicts, sending-server check
 *   DIR/claims/<sha256 of key>.json         claims.ts       once-only claims
 *   DIR/digests/<target>.json               digests.ts      the open bounce digest window { version, window }
 *   DIR/locks/<name>.lock                   state-dir.ts    short-lived cross-process locks
 *
 * Whole-file writes are atomic (a temp file, then rename: files.ts), so a crash leaves the old or
 * the new file, never half of one; health state and canaries are also fsynced. Appends and
 * claims are not fsynced: they survive a crash of the process (the kernel has them), and a
 * machine that loses power may lose the last seconds of history, never the inbox (see
 * local/intake.ts). The small writes a bounce makes (claims, the history line, the digest
 * window, the locks around them) use the synchronous file calls: each takes microseconds, where
 * a round trip through libuv's thread pool costs about a tenth of a millisecond, and a storm
 * makes tens of them per message. Temp files that a killed process left behind are removed when
 * a store opens the directory. Read-modify-write happens under a lock file created with O_EXCL,
 * so a `mailhealth check` started while `mailhealth run` is running cannot lose an update. A new
 * process on the same directory continues from the stored state.
 *
 * New kinds of persistence (placement results, DMARC reports) get a port of their own and a
 * module of their own beside these, opened on the same `StateDir` (file-store/state-dir.ts).
 */
import { raiseInTurn } from '#core/health/raise.ts';
import type { Store } from '#core/ports.ts';
import { canaryFile } from './file-store/canaries.ts';
import { claimFiles } from './file-store/claims.ts';
import { digestFiles } from './file-store/digests.ts';
import { healthFiles } from './file-store/health.ts';
import { historyLists } from './file-store/history.ts';
import { senderAuthFile } from './file-store/sender-auth.ts';
import { openStateDir } from './file-store/state-dir.ts';

export { removeLeftoverTemps } from './file-store/files.ts';
export { readAllBounces } from './file-store/history.ts';
export type { HistoryList } from './file-store/lists.ts';
export { readRetentionNotes, type RetentionNote } from './file-store/retention.ts';

/** Where the file store keeps its files and how much history it keeps. */
export interface FileStoreOptions {
  /** The state directory; created when missing. */
  readonly dir: string;
  /**
   * How long and how much history is kept (config `retention`). Only a store given this removes
   * anything: readers (the report, `suppressions`) never do, whatever their own defaults.
   */
  readonly retention?: { readonly historyDays: number; readonly historyMaxRecords: number };
  /** @default 7 */
  readonly canaryRetentionDays?: number;
  /** Milliseconds since the epoch, for claim expiry and retention. @default Date.now */
  readonly now?: () => number;
}

/**
 * A Store over files under `options.dir`.
 * @example
 * const store = createFileStore({ dir: '.mailhealth', retention: config.retention });
 * const events = await recordRound(result, { store, clock, random, config: config.alerts });
 */
export function createFileStore(options: FileStoreOptions): Store {
  const state = openStateDir(options.dir, options.now ?? Date.now);
  const policy = options.retention
    ? { historyMs: options.retention.historyDays * 86_400_000, maxRecords: options.retention.historyMaxRecords }
    : undefined;
  const store: Store = {
    ...healthFiles(state),
    ...claimFiles(state),
    ...historyLists(state, policy),
    ...digestFiles(state),
    ...canaryFile(state, (options.canaryRetentionDays ?? 7) * 86_400_000),
    ...senderAuthFile(state),
    // Files cannot be written together: the decision, then the alerts' claims (the local outbox keeps what is queued).
    raise: (decisions, alerts) => raiseInTurn(decisions, alerts, { store }),
  };
  return store;
}
