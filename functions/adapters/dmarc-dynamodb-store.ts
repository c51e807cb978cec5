/**
 * The DmarcStore over the one DynamoDB table of the deployment (the key scheme of
 * dynamodb-store.ts: `pk`, `sk`, `ttl`, JSON documents in `data`):
 *
 *   pk                 sk                          other attributes
 *   DMARC#<domain>     STATE                       data (DmarcDomainState), version (N)
 *   DMARC#<domain>     REPORT#<day>#<report key>   data (DmarcReportRecord), ttl
 *   DMARCDOMAINS       DOMAIN#<domain>             domain            (listDomains)
 *
 * The memory is written only at the version read; a report record is a put by its key, so
 * writing it twice keeps one; records expire with the history (`historyDays`).
 */
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DmarcReportRecord } from '#core/dmarc/record.ts';
import type { DmarcDomainState } from '#core/dmarc/state.ts';
import type { DmarcStore, Versioned } from '#core/ports.ts';
import { TABLE_SCHEMA } from './dynamodb-store.ts';

/** The AWS calls this module makes, each with the IAM action it needs (the IAM test grants and checks exactly these). */
export const AWS_CALLS = {
  GetCommand: ['dynamodb:GetItem'],
  PutCommand: ['dynamodb:PutItem'],
  QueryCommand: ['dynamodb:Query'],
} as const;

/** The table and the history retention. */
export interface DmarcDynamoDbStoreOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** @default 35 */
  readonly historyDays?: number;
  /** @default Date.now */
  readonly now?: () => number;
}

const pkOf = (domain: string) => `DMARC#${domain.toLowerCase()}`;

function isConditionFailure(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { name?: unknown }).name === 'ConditionalCheckFailedException';
}

/**
 * A DmarcStore in the table `tableName`.
 * @example const reports = createDmarcDynamoDbStore({ client: new DynamoDBClient({}), tableName });
 */
export function createDmarcDynamoDbStore(options: DmarcDynamoDbStoreOptions): DmarcStore {
  const doc = DynamoDBDocumentClient.from(options.client, { marshallOptions: { removeUndefinedValues: true } });
  const TableName = options.tableName;
  const now = options.now ?? Date.now;
  const ttl = () => Math.floor(now() / 1000) + (options.historyDays ?? 35) * 86_400;

  return {
    async getDomainState(domain): Promise<Versioned<DmarcDomainState> | null> {
      const out = await doc.send(new GetCommand({ TableName, Key: { pk: pkOf(domain), sk: 'STATE' }, ConsistentRead: true }));
      if (!out.Item) return null;
      return { value: JSON.parse(String(out.Item.data)) as DmarcDomainState, version: Number(out.Item.version) };
    },

    async putDomainState(domain, state, expectedVersion) {
      try {
        await doc.send(
          new PutCommand({
            TableName,
            Item: { pk: pkOf(domain), sk: 'STATE', data: JSON.stringify(state), version: (expectedVersion ?? 0) + 1 },
            ...(expectedVersion === null
              ? { ConditionExpression: 'attribute_not_exists(pk)' }
              : { ConditionExpression: '#version = :v', ExpressionAttributeNames: { '#version': 'version' }, ExpressionAttributeValues: { ':v': expectedVersion } }),
          }),
        );
      } catch (err) {
        if (isConditionFailure(err)) return false;
        throw err;
      }
      if (expectedVersion === null) await doc.send(new PutCommand({ TableName, Item: { pk: 'DMARCDOMAINS', sk: `DOMAIN#${domain.toLowerCase()}`, domain: domain.toLowerCase() } }));
      return true;
    },

    async appendReport(record) {
      await doc.send(
        new PutCommand({
          TableName,
          Item: { pk: pkOf(record.domain), sk: `REPORT#${record.day}#${record.key}`, data: JSON.stringify(record), [TABLE_SCHEMA.ttlAttribute]: ttl() },
        }),
      );
    },

    async listReports(domain, limit) {
      if (limit <= 0) return [];
      const items: Record<string, unknown>[] = [];
      let ExclusiveStartKey: Record<string, unknown> | undefined;
      do {
        const page = await doc.send(
          new QueryCommand({
            TableName,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
            ExpressionAttributeValues: { ':pk': pkOf(domain), ':prefix': 'REPORT#' },
            ScanIndexForward: false,
            Limit: limit,
            ExclusiveStartKey,
          }),
        );
        items.push(...((page.Items ?? []) as Record<string, unknown>[]));
        ExclusiveStartKey = page.LastEvaluatedKey;
      } while (ExclusiveStartKey !== undefined && items.length < limit);
      return items.slice(0, limit).map((i) => JSON.parse(String(i.data)) as DmarcReportRecord);
    },

    async listDomains() {
      const out: string[] = [];
      let ExclusiveStartKey: Record<string, unknown> | undefined;
      do {
        const page = await doc.send(new QueryCommand({ TableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': 'DMARCDOMAINS' }, ExclusiveStartKey }));
        for (const i of page.Items ?? []) out.push(String(i.domain));
        ExclusiveStartKey = page.LastEvaluatedKey;
      } while (ExclusiveStartKey !== undefined);
      return out.sort();
    },
  };
}
