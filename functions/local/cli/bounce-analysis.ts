/**
 * One message in, one `bounce` result out: the analysis `mailhealth bounce` runs, in the
 * command's own thread or in its worker threads (bounce-worker.ts), with the same settings.
 */
import { createMailParser } from '#adapters/mail-parser.ts';
import { analyzeBounce, analyzeBounceText, type AnalyzeDeps, type BounceAnalysis } from '#core/bounce/analyze.ts';
import { canaryRecipientsFromStore } from '#core/bounce/canary.ts';
import type { CanaryRecipientLookup } from '#core/ports.ts';
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

/** Classifies one message of `file`; `pasted` for text given on stdin (maybe a body alone). */
export type MessageAnalyzer = (bytes: Uint8Array, file: string, pasted?: boolean) => Promise<MessageResult>;

/**
 * The analyzer of a `bounce` run. With a state directory, the canary records of the local
 * state name the recipients of a report that names none (marked `recipientInferred`).
 */
export function createMessageAnalyzer(options: { readonly stateDir?: string }): MessageAnalyzer {
  const parse = createMailParser();
  const deps: AnalyzeDeps = options.stateDir === undefined ? { parse } : { parse, canaryRecipients: stateLookup(options.stateDir) };
  return async (bytes, file, pasted = false) => {
    const analysis = pasted ? await analyzeBounceText(bytes, deps) : await analyzeBounce(bytes, deps);
    return { file, isBounce: analysis.isBounce, recipients: analysis.recipients, kind: analysis.kind, deliveredCanaryId: analysis.deliveredCanaryId };
  };
}

// The file store (and node:crypto with it) loads only when a report needs the canary records:
// most runs have no --state, and loading it costs every run start-up time.
function stateLookup(dir: string): CanaryRecipientLookup {
  let lookup: Promise<CanaryRecipientLookup> | undefined;
  return async (canaryId) => {
    lookup ??= import('#adapters/file-store.ts').then(({ createFileStore }) => canaryRecipientsFromStore(createFileStore({ dir })));
    return (await lookup)(canaryId);
  };
}
