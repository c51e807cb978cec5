/**
 * The PlacementStore over the stack's one DynamoDB table, beside the Store's items (same key
 * scheme: `pk`, `sk`, `ttl`; see functions/adapters/dynamodb-store.ts):
 *
 *   pk              sk                                          other attributes
 *   TARGET#<name>   PLACEMENT#<sentAt>#<canaryId>#<seed>        data (PlacementRecord), ttl   (one per canary and seed)
 *   SEED#<name>     STATE                                       data (SeedState), version (N)
 *
 * A record is written whole each time its verdict changes (its key never does: the canary's send
 * time, id and seed). The seed's state is written only at the version read.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { PlacementStore } from '#core/ports.ts';
import type { SeedState } from '#core/placement/seed-health.ts';
import type { PlacementRecord } from '#core/placement/verdict.ts';
import { TABLE_SCHEMA } from './dynamodb-store.ts';

/** The AWS calls this module makes, each with the IAM action it needs (the IAM test grants and checks exactly these). */
export const AWS_CALLS = {
  GetCommand: ['dynamodb:GetItem'],
  PutCommand: ['dynamodb:PutItem'],
  QueryCommand: ['dynamodb:Query'],
} as const;

/** The table and how long records are kept. */
export interface PlacementDynamoDbStoreOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** Days a record stays before DynamoDB expires it. @default 35 */
  readonly historyDays?: number;
  /** @default Date.now */
  readonly now?: () => number;
}

const PREFIX = 'PLACEMENT#';
const iso = (time: string) => new Date(time).toISOString();

/**
 * A PlacementStore over the table `tableName`.
 * @example const placements = createPlacementDynamoDbStore({ client: new DynamoDBClient({}), tableName });
 */
export function createPlacementDynamoDbStore(options: PlacementDynamoDbStoreOptions): PlacementStore {
  const doc = DynamoDBDocumentClient.from(options.client, { marshallOptions: { removeUndefinedValues: true } });
  const TableName = options.tableName;
  const now = options.now ?? Date.now;
  const ttl = () => Math.floor(now() / 1000) + (options.historyDays ?? 35) * 86_400;

  return {
    async putPlacement(record: PlacementRecord) {
      await doc.send(
        new PutCommand({
          TableName,
          Item: {
            [TABLE_SCHEMA.partitionKey]: `TARGET#${record.target}`,
            [TABLE_SCHEMA.sortKey]: `${PREFIX}${iso(record.sentAt)}#${record.canaryId}#${record.seed}`,
            data: JSON.stringify(record),
            [TABLE_SCHEMA.ttlAttribute]: ttl(),
          },
        }),
      );
    },

    async listPlacements(target, { sentAfter, limit }) {
      if (limit <= 0) return [];
      const out: PlacementRecord[] = [];
      let ExclusiveStartKey: Record<string, unknown> | undefined;
      do {
        const page = await doc.send(
          new QueryCommand({
            TableName,
            KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
            ExpressionAttributeValues: { ':pk': `TARGET#${target}`, ':from': `${PREFIX}${iso(sentAfter)}`, ':to': `${PREFIX}\uffff` },
            ScanIndexForward: false,
            Limit: limit - out.length,
            ExclusiveStartKey,
          }),
        );
        for (const item of page.Items ?? []) out.push(JSON.parse(String(item.data)) as PlacementRecord);
        ExclusiveStartKey = page.LastEvaluatedKey;
      } while (ExclusiveStartKey !== undefined && out.length < limit);
      return out;
    },

    async getSeedState(seed) {
      const { Item } = await doc.send(new GetCommand({ TableName, Key: { pk: `SEED#${seed}`, sk: 'STATE' }, ConsistentRead: true }));
      return Item ? { value: JSON.parse(String(Item.data)) as SeedState, version: Number(Item.version) } : null;
    },

    async putSeedState(seed, state, expectedVersion) {
      try {
        await doc.send(
          new PutCommand({
            TableName,
            Item: { pk: `SEED#${seed}`, sk: 'STATE', data: JSON.stringify(state), version: (expectedVersion ?? 0) + 1 },
            ...(expectedVersion === null
              ? { ConditionExpression: 'attribute_not_exists(pk)' }
              : { ConditionExpression: '#version = :v', ExpressionAttributeNames: { '#version': 'version' }, ExpressionAttributeValues: { ':v': expectedVersion } }),
          }),
        );
        return true;
      } catch (err) {
        if ((err as { name?: string }).name === 'ConditionalCheckFailedException') return false;
        throw err;
      }
    },
  };
}
