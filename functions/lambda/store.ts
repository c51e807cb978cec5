/**
 * The DynamoDB Store and alert outbox of a handler, built on first use (the client is created
 * inside the invocation that needs it, not at import).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDynamoDbAlertOutbox, createDynamoDbStore } from '#adapters/dynamodb-store.ts';
import type { RetentionConfig } from '#core/config.ts';
import type { AlertOutbox, Store } from '#core/ports.ts';
import { once } from './lazy.ts';

const client = once(() => new DynamoDBClient({}));

/**
 * The Store over the stack's table, created on the first call and kept for the function's life.
 * History items (rounds, bounces, alerts) expire after the config's `retention.historyDays`.
 * @example const store = tableStore(requiredEnv('TABLE_NAME'), config.retention); … await store().getHealth('shop');
 */
export function tableStore(tableName: string, retention: Pick<RetentionConfig, 'historyDays'>): () => Store {
  return once(() => createDynamoDbStore({ client: client(), tableName, historyDays: retention.historyDays }));
}

/** The alerts raised and not yet published, in the same table. */
export function tableOutbox(tableName: string): () => AlertOutbox {
  return once(() => createDynamoDbAlertOutbox({ client: client(), tableName }));
}
