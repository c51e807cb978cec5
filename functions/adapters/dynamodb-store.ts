/**
 * The Store over one DynamoDB table (single-table design), for the Lambdas.
 *
 * Key schema: partition key `pk` (S), sort key `sk` (S), TTL attribute `ttl` (epoch seconds).
 * Records are kept as JSON in `data` (S), so a file and an item hold the same document.
 *
 *   pk                      sk                                     other attributes
 *   TARGET#<name>           STATE                                  data (HealthState), version (N)
 *   TARGETS                 TARGET#<name>                          target            (listTargets)
 *   TARGET#<name>           ROUND#<startedAt>#<canaryId>           data, ttl         (history)
 *   TARGET#<name>|NOTARGET  BOUNCE#<at>#<canaryId|->#<recipient>   data, ttl         (history)
 *   TARGET#<name>|NOTARGET  ALERT#<at>#<alert key>                 data, ttl         (history)
 *   CANARY#<id>             CANARY                                 target, sentAt, recipients, deliveredAt, ttl
 *   TARGET#<name>           CANARY#<sentAt>#<id>                   the same, to list a target's canaries by time
 *   CLAIM#<key>             CLAIM                                  ttl               (once-only claims)
 *   DIGESTS                 TARGET#<name>|NOTARGET                 data (DigestWindow or null), version
 *   TARGET#<name>           SENDERAUTH                             delivery, sendingIp (JSON each; getSenderAuth)
 *   SWEEPER                 SILENCE                                data (SilenceState), version (N)
 *   OUTBOX                  <alert at>#<alert key>                 data (AlertEvent), ttl   (raised, not yet published)
 *   CLAIM#pace#<key>#<slot> CLAIM                                  ttl               (a channel's send slot)
 *
 * Conditional writes: the state is written only at the version read (`version = :v`, or
 * `attribute_not_exists(pk)` for the first write); a claim is created only when absent or
 * expired; a canary is marked delivered only once. History items expire through `ttl`.
 * `raise` writes a decision (state, digest window, silence state, claim), each alert's claim
 * and its outbox item in one TransactWriteItems: an alert is decided and kept together, or
 * neither. The outbox item goes when SNS took the alert (`markSent`).
 */
import { DynamoDBClient, type CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type QueryCommandInput,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { DigestWindow } from '#core/alert/digest.ts';
import type { AlertEvent } from '#core/alert/event.ts';
import { ALERT_CLAIM_TTL_SECONDS, alertClaimKey, type Decision, type RaiseOutcome } from '#core/health/raise.ts';
import type { HealthState } from '#core/health/state.ts';
import type { SenderAuthMemo } from '#core/auth/facts.ts';
import type { AlertRecord, BounceRecord, CanaryRecord } from '#core/health/records.ts';
import type { SilenceState } from '#core/health/silence.ts';
import type { AlertOutbox, SilenceStore, Store, Versioned } from '#core/ports.ts';
import type { TargetResult } from '#core/results.ts';

/** The table's key and TTL attribute names: the CDK table must use exactly these. */
export const TABLE_SCHEMA = {
  partitionKey: 'pk',
  sortKey: 'sk',
  ttlAttribute: 'ttl',
} as const;

/** CreateTable input for this schema, on-demand (tests and local stand-ins; CDK builds its own). */
export function createTableInput(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    AttributeDefinitions: [
      { AttributeName: TABLE_SCHEMA.partitionKey, AttributeType: 'S' },
      { AttributeName: TABLE_SCHEMA.sortKey, AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: TABLE_SCHEMA.partitionKey, KeyType: 'HASH' },
      { AttributeName: TABLE_SCHEMA.sortKey, KeyType: 'RANGE' },
    ],
    BillingMode: 'PAY_PER_REQUEST',
  };
}

/** The table, its client and the history retention. */
export interface DynamoDbStoreOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /**
   * Days rounds, bounces and alerts stay in the history before DynamoDB expires them.
   * @default 35
   */
  readonly historyDays?: number;
  /** @default 7 */
  readonly canaryDays?: number;
  /** Milliseconds since the epoch, for TTLs and claim expiry. @default Date.now */
  readonly now?: () => number;
}

const STATE_SK = 'STATE';
const SILENCE_KEY = { pk: 'SWEEPER', sk: 'SILENCE' } as const;
const DIGESTS_PK = 'DIGESTS';
const SENDER_AUTH_SK = 'SENDERAUTH';
const NO_TARGET = 'NOTARGET';
const targetPk = (target: string | null) => (target === null ? NO_TARGET : `TARGET#${target}`);
const canaryPk = (id: string) => `CANARY#${id}`;
const iso = (time: string) => new Date(time).toISOString();

/** The AWS calls this module makes, each with the IAM action it needs (the IAM test grants and checks exactly these). */
export const AWS_CALLS = {
  GetCommand: ['dynamodb:GetItem'],
  PutCommand: ['dynamodb:PutItem'],
  UpdateCommand: ['dynamodb:UpdateItem'],
  DeleteCommand: ['dynamodb:DeleteItem'],
  QueryCommand: ['dynamodb:Query'],
  // IAM checks each item of a transaction as its own write; this module's transactions only Put.
  TransactWriteCommand: ['dynamodb:PutItem'],
} as const;

const OUTBOX_PK = 'OUTBOX';
const outboxSk = (event: Pick<AlertEvent, 'at' | 'key'>) => `${iso(event.at)}#${event.key}`;
// Transactions another transaction collided with are tried again this often.
const MAX_TRANSACTION_ATTEMPTS = 5;

function isConditionFailure(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { name?: unknown }).name === 'ConditionalCheckFailedException';
}

type Item = Record<string, unknown>;

function canaryOf(item: Item): CanaryRecord {
  return {
    id: String(item.id),
    target: String(item.target),
    sentAt: String(item.sentAt),
    recipients: Array.isArray(item.recipients) ? item.recipients.map(String) : [],
    deliveredAt: typeof item.deliveredAt === 'string' ? item.deliveredAt : null,
  };
}

/**
 * A Store over the DynamoDB table `tableName`.
 * @example
 * const store = createDynamoDbStore({ client: new DynamoDBClient({}), tableName: process.env.TABLE_NAME! });
 */
export function createDynamoDbStore(options: DynamoDbStoreOptions): Store {
  const doc = DynamoDBDocumentClient.from(options.client, { marshallOptions: { removeUndefinedValues: true } });
  const TableName = options.tableName;
  const now = options.now ?? Date.now;
  const historyTtl = () => Math.floor(now() / 1000) + (options.historyDays ?? 35) * 86_400;
  const canaryTtl = () => Math.floor(now() / 1000) + (options.canaryDays ?? 7) * 86_400;

  async function queryAll(input: Omit<QueryCommandInput, 'TableName'>, want: number): Promise<Item[]> {
    const items: Item[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await doc.send(new QueryCommand({ ...input, TableName, ExclusiveStartKey }));
      items.push(...((page.Items ?? []) as Item[]));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey !== undefined && items.length < want);
    return items.slice(0, want);
  }

  async function newest<T>(pk: string, prefix: string, limit: number): Promise<T[]> {
    if (limit <= 0) return [];
    const items = await queryAll(
      {
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': pk, ':prefix': prefix },
        ScanIndexForward: false,
        // Infinity (everything: `mailhealth suppressions --table`) pages through without a limit.
        ...(Number.isFinite(limit) ? { Limit: limit } : {}),
      },
      limit,
    );
    return items.map((i) => JSON.parse(String(i.data)) as T);
  }

  async function updateCanary(pk: string, sk: string, record: CanaryRecord): Promise<void> {
    await doc.send(
      new UpdateCommand({
        TableName,
        Key: { pk, sk },
        UpdateExpression:
          'SET #id = :id, #target = :target, sentAt = :sentAt, recipients = :recipients, #ttl = :ttl, deliveredAt = if_not_exists(deliveredAt, :delivered)',
        ExpressionAttributeNames: { '#id': 'id', '#target': 'target', '#ttl': TABLE_SCHEMA.ttlAttribute },
        ExpressionAttributeValues: {
          ':id': record.id,
          ':target': record.target,
          ':sentAt': record.sentAt,
          ':recipients': [...record.recipients],
          ':ttl': canaryTtl(),
          ':delivered': record.deliveredAt,
        },
      }),
    );
  }

  const notDelivered = 'attribute_not_exists(deliveredAt) OR attribute_type(deliveredAt, :nullType)';

  async function getCanary(id: string): Promise<CanaryRecord | null> {
    const out = await doc.send(new GetCommand({ TableName, Key: { pk: canaryPk(id), sk: 'CANARY' }, ConsistentRead: true }));
    return out.Item ? canaryOf(out.Item) : null;
  }

  type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];
  const versioned = (pk: string, sk: string, data: unknown, expectedVersion: number | null): TransactItem => ({
    Put: {
      TableName,
      Item: { pk, sk, data: JSON.stringify(data), version: (expectedVersion ?? 0) + 1 },
      ...(expectedVersion === null
        ? { ConditionExpression: 'attribute_not_exists(pk)' }
        : { ConditionExpression: '#version = :v', ExpressionAttributeNames: { '#version': 'version' }, ExpressionAttributeValues: { ':v': expectedVersion } }),
    },
  });
  const claimItem = (key: string, ttlSeconds: number): TransactItem => {
    const nowSeconds = Math.floor(now() / 1000);
    return {
      Put: {
        TableName,
        Item: { pk: `CLAIM#${key}`, sk: 'CLAIM', [TABLE_SCHEMA.ttlAttribute]: nowSeconds + ttlSeconds },
        ConditionExpression: 'attribute_not_exists(pk) OR #ttl <= :now',
        ExpressionAttributeNames: { '#ttl': TABLE_SCHEMA.ttlAttribute },
        ExpressionAttributeValues: { ':now': nowSeconds },
      },
    };
  };
  /** The items of one decision (a first health state also lists its target). */
  const decisionItems = (d: Decision): TransactItem[] => {
    switch (d.kind) {
      case 'health':
        return [
          versioned(targetPk(d.target), STATE_SK, d.state, d.expectedVersion),
          ...(d.expectedVersion === null ? [{ Put: { TableName, Item: { pk: 'TARGETS', sk: `TARGET#${d.target}`, target: d.target } } }] : []),
        ];
      case 'digest':
        return [versioned(DIGESTS_PK, targetPk(d.target), d.window, d.expectedVersion)];
      case 'silence':
        return [versioned(SILENCE_KEY.pk, SILENCE_KEY.sk, d.state, d.expectedVersion)];
      case 'claim':
        return [claimItem(d.key, d.ttlSeconds)];
    }
  };

  /** One transaction: the decisions, then per alert its claim and its outbox item. */
  async function raiseTogether(decisions: readonly Decision[], alerts: readonly AlertEvent[]): Promise<RaiseOutcome> {
    let pending = [...alerts];
    for (let attempt = 1; ; attempt++) {
      const owners: ({ decision: number } | { alert: AlertEvent })[] = [];
      const items: TransactItem[] = [];
      decisions.forEach((d, i) => {
        for (const item of decisionItems(d)) {
          items.push(item);
          owners.push({ decision: i });
        }
      });
      for (const e of pending) {
        items.push(claimItem(alertClaimKey(e), ALERT_CLAIM_TTL_SECONDS));
        owners.push({ alert: e });
        items.push({ Put: { TableName, Item: { pk: OUTBOX_PK, sk: outboxSk(e), data: JSON.stringify(e), [TABLE_SCHEMA.ttlAttribute]: Math.floor(now() / 1000) + ALERT_CLAIM_TTL_SECONDS } } });
        owners.push({ alert: e });
      }
      if (items.length === 0) return { written: true, raised: [] };
      // One item needs no transaction (half the write units): a plain conditional put.
      if (items.length === 1) {
        try {
          await doc.send(new PutCommand(items[0]!.Put!));
          return { written: true, raised: pending };
        } catch (err) {
          if (!isConditionFailure(err)) throw err;
          const owner = owners[0]!;
          return 'decision' in owner ? { written: false, failed: owner.decision } : { written: true, raised: [] };
        }
      }
      try {
        await doc.send(new TransactWriteCommand({ TransactItems: items }));
        return { written: true, raised: pending };
      } catch (err) {
        const reasons = (err as { name?: string; CancellationReasons?: { Code?: string }[] }).name === 'TransactionCanceledException' ? (err as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [] : null;
        if (reasons === null) throw err;
        const failedAt = reasons.map((r, i) => (r.Code === 'ConditionalCheckFailed' ? owners[i] : undefined)).filter((o) => o !== undefined);
        const decision = failedAt.find((o) => 'decision' in o);
        if (decision && 'decision' in decision) return { written: false, failed: decision.decision };
        const taken = new Set(failedAt.flatMap((o) => ('alert' in o ? [o.alert.key] : [])));
        // Another transaction on the same items at the same moment: try again as it was.
        if (taken.size === 0 && attempt < MAX_TRANSACTION_ATTEMPTS && reasons.some((r) => r.Code === 'TransactionConflict')) continue;
        if (taken.size === 0) throw err;
        // Alerts raised before by someone else are left out; the decisions are written without them.
        pending = pending.filter((e) => !taken.has(e.key));
      }
    }
  }

  return {
    async getHealth(target: string): Promise<Versioned<HealthState> | null> {
      const out = await doc.send(new GetCommand({ TableName, Key: { pk: targetPk(target), sk: STATE_SK }, ConsistentRead: true }));
      if (!out.Item) return null;
      return { value: JSON.parse(String(out.Item.data)) as HealthState, version: Number(out.Item.version) };
    },

    async putHealth(target: string, state: HealthState, expectedVersion: number | null): Promise<boolean> {
      try {
        await doc.send(
          new PutCommand({
            TableName,
            Item: { pk: targetPk(target), sk: STATE_SK, data: JSON.stringify(state), version: (expectedVersion ?? 0) + 1 },
            ...(expectedVersion === null
              ? { ConditionExpression: 'attribute_not_exists(pk)' }
              : {
                  ConditionExpression: '#version = :v',
                  ExpressionAttributeNames: { '#version': 'version' },
                  ExpressionAttributeValues: { ':v': expectedVersion },
                }),
          }),
        );
      } catch (err) {
        if (isConditionFailure(err)) return false;
        throw err;
      }
      if (expectedVersion === null) {
        await doc.send(new PutCommand({ TableName, Item: { pk: 'TARGETS', sk: `TARGET#${target}`, target } }));
      }
      return true;
    },

    async release(key: string): Promise<void> {
      await doc.send(new DeleteCommand({ TableName, Key: { pk: `CLAIM#${key}`, sk: 'CLAIM' } }));
    },

    async claimedUntil(key: string): Promise<string | null> {
      const { Item } = await doc.send(new GetCommand({ TableName, Key: { pk: `CLAIM#${key}`, sk: 'CLAIM' }, ConsistentRead: true }));
      const expires = Number(Item?.[TABLE_SCHEMA.ttlAttribute]);
      if (!Item || !Number.isFinite(expires) || expires * 1000 <= now()) return null;
      return new Date(expires * 1000).toISOString();
    },

    async claim(key: string, ttlSeconds: number): Promise<boolean> {
      const nowSeconds = Math.floor(now() / 1000);
      try {
        await doc.send(
          new PutCommand({
            TableName,
            Item: { pk: `CLAIM#${key}`, sk: 'CLAIM', [TABLE_SCHEMA.ttlAttribute]: nowSeconds + ttlSeconds },
            // DynamoDB deletes expired items lazily (up to days later); an expired claim is free.
            ConditionExpression: 'attribute_not_exists(pk) OR #ttl <= :now',
            ExpressionAttributeNames: { '#ttl': TABLE_SCHEMA.ttlAttribute },
            ExpressionAttributeValues: { ':now': nowSeconds },
          }),
        );
        return true;
      } catch (err) {
        if (isConditionFailure(err)) return false;
        throw err;
      }
    },

    async appendRound(result: TargetResult): Promise<void> {
      await doc.send(
        new PutCommand({
          TableName,
          Item: {
            pk: targetPk(result.name),
            sk: `ROUND#${iso(result.startedAt)}#${result.canaryId}`,
            data: JSON.stringify(result),
            [TABLE_SCHEMA.ttlAttribute]: historyTtl(),
          },
        }),
      );
    },

    async listRounds(target: string, limit: number): Promise<TargetResult[]> {
      return newest<TargetResult>(targetPk(target), 'ROUND#', limit);
    },

    async appendBounce(record: BounceRecord): Promise<void> {
      await doc.send(
        new PutCommand({
          TableName,
          Item: {
            pk: targetPk(record.target),
            sk: `BOUNCE#${iso(record.at)}#${record.canaryId ?? '-'}#${record.recipient.recipient.toLowerCase()}`,
            data: JSON.stringify(record),
            [TABLE_SCHEMA.ttlAttribute]: historyTtl(),
          },
        }),
      );
    },

    async listBounces(target: string | null, limit: number): Promise<BounceRecord[]> {
      return newest<BounceRecord>(targetPk(target), 'BOUNCE#', limit);
    },

    async appendAlert(record: AlertRecord): Promise<void> {
      await doc.send(
        new PutCommand({
          TableName,
          Item: {
            pk: targetPk(record.event.target),
            sk: `ALERT#${iso(record.at)}#${record.event.key}`,
            data: JSON.stringify(record),
            [TABLE_SCHEMA.ttlAttribute]: historyTtl(),
          },
        }),
      );
    },

    async listAlerts(target: string | null, limit: number): Promise<AlertRecord[]> {
      return newest<AlertRecord>(targetPk(target), 'ALERT#', limit);
    },

    async listTargets(): Promise<string[]> {
      const items = await queryAll(
        { KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': 'TARGETS' } },
        Number.POSITIVE_INFINITY,
      );
      return items.map((i) => String(i.target)).sort();
    },

    async putCanary(record: CanaryRecord): Promise<void> {
      await updateCanary(canaryPk(record.id), 'CANARY', record);
      await updateCanary(targetPk(record.target), `CANARY#${iso(record.sentAt)}#${record.id}`, record);
    },

    getCanary,

    async listCanaries(target: string, limit: number): Promise<CanaryRecord[]> {
      if (limit <= 0) return [];
      const items = await queryAll(
        {
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': targetPk(target), ':prefix': 'CANARY#' },
          ScanIndexForward: false,
          Limit: limit,
        },
        limit,
      );
      return items.map(canaryOf);
    },

    async getDigest(target: string | null): Promise<Versioned<DigestWindow | null> | null> {
      const out = await doc.send(new GetCommand({ TableName, Key: { pk: DIGESTS_PK, sk: targetPk(target) }, ConsistentRead: true }));
      if (!out.Item) return null;
      return { value: JSON.parse(String(out.Item.data)) as DigestWindow | null, version: Number(out.Item.version) };
    },

    async putDigest(target: string | null, window: DigestWindow | null, expectedVersion: number | null): Promise<boolean> {
      try {
        await doc.send(
          new PutCommand({
            TableName,
            Item: { pk: DIGESTS_PK, sk: targetPk(target), data: JSON.stringify(window), version: (expectedVersion ?? 0) + 1 },
            ...(expectedVersion === null
              ? { ConditionExpression: 'attribute_not_exists(pk)' }
              : { ConditionExpression: '#version = :v', ExpressionAttributeNames: { '#version': 'version' }, ExpressionAttributeValues: { ':v': expectedVersion } }),
          }),
        );
        return true;
      } catch (err) {
        if (isConditionFailure(err)) return false;
        throw err;
      }
    },

    async listDigests(): Promise<Versioned<DigestWindow>[]> {
      const items = await queryAll({ KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': DIGESTS_PK }, ConsistentRead: true }, Number.POSITIVE_INFINITY);
      return items.flatMap((i) => {
        const value = JSON.parse(String(i.data)) as DigestWindow | null;
        return value === null ? [] : [{ value, version: Number(i.version) }];
      });
    },

    async markDelivered(id: string, at: string) {
      let record: CanaryRecord;
      try {
        const out = await doc.send(
          new UpdateCommand({
            TableName,
            Key: { pk: canaryPk(id), sk: 'CANARY' },
            UpdateExpression: 'SET deliveredAt = :at',
            ConditionExpression: `attribute_exists(pk) AND (${notDelivered})`,
            ExpressionAttributeValues: { ':at': at, ':nullType': 'NULL' },
            ReturnValues: 'ALL_NEW',
          }),
        );
        record = canaryOf(out.Attributes ?? {});
      } catch (err) {
        if (!isConditionFailure(err)) throw err;
        const existing = await getCanary(id);
        return existing === null ? null : { record: existing, first: false };
      }
      // The per-target copy only feeds listUndelivered, which re-checks the primary item.
      await doc.send(
        new UpdateCommand({
          TableName,
          Key: { pk: targetPk(record.target), sk: `CANARY#${iso(record.sentAt)}#${record.id}` },
          UpdateExpression: 'SET deliveredAt = :at',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':at': at },
        }),
      ).catch((err: unknown) => {
        if (!isConditionFailure(err)) throw err;
      });
      return { record, first: true };
    },

    async getSenderAuth(target: string): Promise<SenderAuthMemo> {
      const out = await doc.send(new GetCommand({ TableName, Key: { pk: targetPk(target), sk: SENDER_AUTH_SK }, ConsistentRead: true }));
      const part = (name: 'delivery' | 'sendingIp') => (typeof out.Item?.[name] === 'string' ? JSON.parse(String(out.Item[name])) : null);
      return { delivery: part('delivery'), sendingIp: part('sendingIp') };
    },

    async putSenderAuth(target: string, parts: Partial<SenderAuthMemo>): Promise<void> {
      // One attribute per part, so the bounce side (delivery) and the canary side (sendingIp) never overwrite each other.
      const names = (['delivery', 'sendingIp'] as const).filter((n) => parts[n] !== undefined);
      if (names.length === 0) return;
      await doc.send(
        new UpdateCommand({
          TableName,
          Key: { pk: targetPk(target), sk: SENDER_AUTH_SK },
          UpdateExpression: `SET ${names.map((n) => `#${n} = :${n}`).join(', ')}`,
          ExpressionAttributeNames: Object.fromEntries(names.map((n) => [`#${n}`, n])),
          ExpressionAttributeValues: Object.fromEntries(names.map((n) => [`:${n}`, JSON.stringify(parts[n])])),
        }),
      );
    },

    async raise(decisions: readonly Decision[], alerts: readonly AlertEvent[]): Promise<RaiseOutcome> {
      // Alerts decided by nothing but their claim are each raised on their own.
      if (decisions.length === 0) {
        const raised: AlertEvent[] = [];
        for (const e of alerts) {
          const out = await raiseTogether([], [e]);
          if (out.written) raised.push(...out.raised);
        }
        return { written: true, raised };
      }
      return raiseTogether(decisions, alerts);
    },

    async listUndelivered(target: string, window: { sentAfter: string; sentBefore: string; limit: number }): Promise<CanaryRecord[]> {
      if (window.limit <= 0) return [];
      const items = await queryAll(
        {
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
          FilterExpression: notDelivered,
          ExpressionAttributeValues: {
            ':pk': targetPk(target),
            ':from': `CANARY#${iso(window.sentAfter)}`,
            // `CANARY#<sentBefore>#id` sorts after this bound, so sentBefore itself is excluded.
            ':to': `CANARY#${iso(window.sentBefore)}`,
            ':nullType': 'NULL',
          },
          ScanIndexForward: true,
        },
        window.limit,
      );
      const confirmed: CanaryRecord[] = [];
      for (const item of items) {
        const primary = await getCanary(String(item.id));
        if (primary !== null && primary.deliveredAt === null) confirmed.push(primary);
      }
      return confirmed;
    },
  };
}

/**
 * The dead-man sweeper's state in the same table (one item, written at the version read).
 * @example const silence = createDynamoDbSilenceStore({ client: new DynamoDBClient({}), tableName });
 */
export function createDynamoDbSilenceStore(options: Pick<DynamoDbStoreOptions, 'client' | 'tableName'>): SilenceStore {
  const doc = DynamoDBDocumentClient.from(options.client, { marshallOptions: { removeUndefinedValues: true } });
  const TableName = options.tableName;
  const Key = SILENCE_KEY;
  return {
    async getSilence(): Promise<Versioned<SilenceState> | null> {
      const out = await doc.send(new GetCommand({ TableName, Key, ConsistentRead: true }));
      if (!out.Item) return null;
      return { value: JSON.parse(String(out.Item.data)) as SilenceState, version: Number(out.Item.version) };
    },
    async putSilence(state: SilenceState, expectedVersion: number | null): Promise<boolean> {
      try {
        await doc.send(
          new PutCommand({
            TableName,
            Item: { ...Key, data: JSON.stringify(state), version: (expectedVersion ?? 0) + 1 },
            ...(expectedVersion === null
              ? { ConditionExpression: 'attribute_not_exists(pk)' }
              : { ConditionExpression: '#version = :v', ExpressionAttributeNames: { '#version': 'version' }, ExpressionAttributeValues: { ':v': expectedVersion } }),
          }),
        );
        return true;
      } catch (err) {
        if (isConditionFailure(err)) return false;
        throw err;
      }
    },
  };
}

/**
 * The alerts raised and not yet published (the OUTBOX items `raise` writes), for the publisher
 * and the sweeper.
 * @example const outbox = createDynamoDbAlertOutbox({ client: new DynamoDBClient({}), tableName });
 */
export function createDynamoDbAlertOutbox(options: Pick<DynamoDbStoreOptions, 'client' | 'tableName'>): AlertOutbox {
  const doc = DynamoDBDocumentClient.from(options.client, { marshallOptions: { removeUndefinedValues: true } });
  const TableName = options.tableName;
  return {
    async unsent(raisedBefore: string, limit: number): Promise<AlertEvent[]> {
      if (limit <= 0) return [];
      const out = await doc.send(
        new QueryCommand({
          TableName,
          KeyConditionExpression: 'pk = :pk AND sk < :before',
          ExpressionAttributeValues: { ':pk': OUTBOX_PK, ':before': iso(raisedBefore) },
          ScanIndexForward: true,
          ConsistentRead: true,
          Limit: limit,
        }),
      );
      return (out.Items ?? []).map((i) => JSON.parse(String(i.data)) as AlertEvent);
    },
    async markSent(event: AlertEvent): Promise<void> {
      await doc.send(new DeleteCommand({ TableName, Key: { pk: OUTBOX_PK, sk: outboxSk(event) } }));
    },
  };
}
