import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoDbStore, TABLE_SCHEMA } from '#adapters/dynamodb-store.ts';
import { at, canaryAt, round, T0 } from '../helpers/alert-fixtures.ts';
import { startDynalite, type DynaliteHandle } from '../helpers/dynalite.ts';
import { storeContract } from '../helpers/store-contract.ts';

describe('createDynamoDbStore', () => {
  let ddb: DynaliteHandle;
  beforeAll(async () => {
    ddb = await startDynalite();
  });
  afterAll(async () => {
    await ddb?.close();
  });

  // A fresh table per case keeps the cases independent.
  storeContract(async (nowMs) => createDynamoDbStore({ client: ddb.client, tableName: await ddb.createTable(), now: nowMs }));

  it('puts a ttl on history items and claims, in epoch seconds', async () => {
    // Prepare
    const tableName = await ddb.createTable();
    const store = createDynamoDbStore({ client: ddb.client, tableName, now: () => T0, historyDays: 10 });

    // Act
    await store.appendRound(round('ok', at(0), { canaryId: canaryAt(0) }));
    await store.claim('alert#A#failing', 3600);

    // Assess
    const roundItem = await ddb.client.send(
      new GetItemCommand({ TableName: tableName, Key: { pk: { S: 'TARGET#shop' }, sk: { S: `ROUND#${at(0)}#${canaryAt(0)}` } } }),
    );
    const claimItem = await ddb.client.send(new GetItemCommand({ TableName: tableName, Key: { pk: { S: 'CLAIM#alert#A#failing' }, sk: { S: 'CLAIM' } } }));
    expect(roundItem.Item?.[TABLE_SCHEMA.ttlAttribute]?.N).toBe(String(T0 / 1000 + 10 * 86_400));
    expect(claimItem.Item?.[TABLE_SCHEMA.ttlAttribute]?.N).toBe(String(T0 / 1000 + 3600));
  });

  it('exports the key schema the CDK table must use', () => {
    expect(TABLE_SCHEMA).toEqual({ partitionKey: 'pk', sortKey: 'sk', ttlAttribute: 'ttl' });
  });
});
