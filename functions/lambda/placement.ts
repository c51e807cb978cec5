/**
 * Inbox placement in the canary Lambda: the seeds are read over IMAP (port 993 leaves Lambda
 * like any TLS connection) with credentials from Secrets Manager, the records live in the table
 * beside the rest, and each decided canary gets one `placement` log line, which the dashboard's
 * Logs Insights table reads. Built once per cold start, only when the config has seeds.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { readFile } from 'node:fs/promises';
import { createPlacementDynamoDbStore } from '#adapters/placement-dynamodb-store.ts';
import type { AlertEvent } from '#core/alert/event.ts';
import type { Config } from '#core/config.ts';
import type { Clock, PlacementStore, RandomSource, SeedReader, Store } from '#core/ports.ts';
import { readSeeds, recordSeedOutcomes } from '#core/placement/read.ts';
import type { PlacementRecord } from '#core/placement/verdict.ts';
import { once } from './lazy.ts';
import { secretReader } from './secrets.ts';

/** The log message of the one line per decided canary and seed (the dashboard's placement table filters on it). */
export const PLACEMENT_LOG_MESSAGE = 'placement';
/** Bounces of a target looked at to tell a refused seed. */
const SEED_BOUNCES_READ = 200;

/** The placement store over the table, made on first use. */
export function tablePlacements(tableName: string, historyDays: number): () => PlacementStore {
  return once(() => createPlacementDynamoDbStore({ client: new DynamoDBClient({}), tableName, historyDays }));
}

/**
 * The IMAP seed reader of the Lambda: credentials from Secrets Manager, CA files from the bundle.
 * The IMAP client is loaded on the first read, so a cold start without pending canaries (and
 * every deployment without seeds) does not pay for it.
 */
export function lambdaSeedReader(): SeedReader {
  let reader: Promise<SeedReader> | undefined;
  return async (request) => (await (reader ??= makeReader()))(request);
}

async function makeReader(): Promise<SeedReader> {
  const [{ createImapSeedReader }, { seedCredentials }] = await Promise.all([import('#adapters/imap-seed.ts'), import('#adapters/seed-credentials.ts')]);
  const caFiles = new Map<string, Promise<string>>();
  return createImapSeedReader({
    credentials: seedCredentials({ secrets: secretReader() }),
    async ca(seed) {
      const path = seed.imap.ca;
      if (!path) return undefined;
      let pending = caFiles.get(path);
      if (!pending) {
        pending = readFile(path, 'utf8');
        caFiles.set(path, pending);
        pending.catch(() => caFiles.delete(path));
      }
      return pending;
    },
  });
}

/** One log line for a decided record: what the dashboard's placement table shows. */
export function logPlacement(logger: Logger, r: PlacementRecord): void {
  logger.info(PLACEMENT_LOG_MESSAGE, {
    target: r.target,
    seed: r.seed,
    canaryId: r.canaryId,
    verdict: r.verdict,
    folder: r.folder,
    seconds: r.seconds,
    ...(r.category ? { category: r.category } : {}),
    ...(r.receiverAuth ? { authservId: r.receiverAuth.authservId, spf: r.receiverAuth.spf, dkim: r.receiverAuth.dkim, dmarc: r.receiverAuth.dmarc } : {}),
    ...(r.error ? { error: r.error } : {}),
  });
}

/**
 * Reads the seeds for the pending canaries of these targets, logs what was decided and returns
 * the seed alerts to publish (SEED_LOGIN_FAILED once per spell). A seed that cannot be read is
 * logged as a warning and decides nothing; the rounds go on.
 */
export async function readSeedsInLambda(
  config: Config,
  targets: readonly string[],
  deps: { readonly placements: PlacementStore; readonly read: SeedReader; readonly store: Store; readonly clock: Clock; readonly random: RandomSource; readonly logger: Logger },
): Promise<AlertEvent[]> {
  const read = await readSeeds({ config, targets }, { placements: deps.placements, read: deps.read, clock: deps.clock, bounces: (t) => deps.store.listBounces(t, SEED_BOUNCES_READ) });
  for (const r of read.updated) if (r.verdict !== 'pending') logPlacement(deps.logger, r);
  for (const [seed, o] of read.outcomes) if (!o.ok) deps.logger.warn('seed unreadable', { seed, failure: o.kind, detail: o.detail });
  for (const [seed, notes] of read.notes) for (const note of notes) deps.logger.warn('seed note', { seed, note });
  return recordSeedOutcomes(read.outcomes, { config, placements: deps.placements, store: deps.store, clock: deps.clock, random: deps.random, threshold: config.alerts.failureThreshold });
}
