/**
 * One message in, one `bounce` result out: the analysis `mailhealth bounce` runs, in the
 * command's own thread or in its worker threads (bounce-worker.ts), with the same settings.
 */
import { createFileStore } from '#adapters/file-store.ts';
import { createMailParser } from '#adapters/mail-parser.ts';
import { analyzeBounce, type AnalyzeDeps, type BounceAnalysis } from '#core/bounce/analyze.ts';
import type { CanaryRecord } from '#core/health/records.ts';
import type { BouncedRecipient } from '#core/results.ts';

/** One analysed message, as the output shows it (plain data: it crosses from worker threads). */
export interface MessageResult {
  readonly file: string;
  readonly isBounce: boolean;
  readonly recipients: readonly BouncedRecipient[];
  readonly kind: BounceAnalysis['kind'];
  /** A delivered canary (not a report): its id. */
  readonly deliveredCanaryId: string | null;
}

/** Classifies one message of `file`. */
export type MessageAnalyzer = (bytes: Uint8Array, file: string) => Promise<MessageResult>;

/**
 * The analyzer of a `bounce` run. With a state directory, the canary records of the local
 * state tell which recipients a canary was sent to.
 */
export function createMessageAnalyzer(options: { readonly stateDir?: string }): MessageAnalyzer {
  const deps = analysisDeps(options.stateDir);
  return async (bytes, file) => {
    const analysis = await analyzeBounce(bytes, deps);
    return { file, isBounce: analysis.isBounce, recipients: analysis.recipients, kind: analysis.kind, deliveredCanaryId: analysis.deliveredCanaryId };
  };
}

function analysisDeps(stateDir: string | undefined): AnalyzeDeps {
  const parse = createMailParser();
  if (stateDir === undefined) return { parse };
  const lookup = canaryLookup(stateDir);
  // Seam for the classifier's optional canary lookup (recipients inferred from the canary
  // record when the report names none, marked `recipientInferred`): until AnalyzeDeps has
  // that field, the lookup is built but the analysis does not call it.
  return { parse, ...({ canaryRecord: lookup } as object) };
}

/** Reads canary records from a state directory, each id once. */
function canaryLookup(stateDir: string): (canaryId: string) => Promise<CanaryRecord | null> {
  const store = createFileStore({ dir: stateDir });
  const seen = new Map<string, Promise<CanaryRecord | null>>();
  return (canaryId) => {
    let record = seen.get(canaryId);
    if (!record) {
      record = store.getCanary(canaryId);
      seen.set(canaryId, record);
    }
    return record;
  };
}
