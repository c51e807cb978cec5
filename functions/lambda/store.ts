/**
 * The DynamoDB Store of a handler, built on first use (the client is created inside the
 * invocation that needs it, not at import).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDynamoDbStore } from '#adapters/dynamodb-store.ts';
import type { RetentionConfig } from '#core/config.ts';
import type { Store } from '#core/ports.ts';
import { once } from './lazy.ts';

/**
 * The Store over the stack's table, created on the first call and kept for the function's life.
 * History items (rounds, bounces, alerts) expire after the config's `retention.historyDays`.
 * @example const store = tableStore(requiredEnv('TABLE_NAME'), config.retention); … await store().getHealth('shop');
 */
export function tableStore(tableName: string, retention: Pick<RetentionConfig, 'historyDays'>): () => Store {
  return once(() => createDynamoDbStore({ client: new DynamoDBClient({}), tableName, historyDays: retention.historyDays }));
}
