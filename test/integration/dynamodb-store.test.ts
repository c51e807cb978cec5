import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoDbAlertOutbox, createDynamoDbSilenceStore, createDynamoDbStore, TABLE_SCHEMA } from '#adapters/dynamodb-store.ts';
import type { AlertEvent } from '#core/alert/event.ts';
import { raiseAlerts } from '#core/health/raise.ts';
import { INITIAL_SILENCE_STATE } from '#core/health/silence.ts';
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

  it('keeps every raised alert in the outbox until it is marked sent, and none whose decision was lost', async () => {
    // Prepare
    const tableName = await ddb.createTable();
    const store = createDynamoDbStore({ client: ddb.client, tableName, now: () => T0 });
    const silence = createDynamoDbSilenceStore({ client: ddb.client, tableName });
    const outbox = createDynamoDbAlertOutbox({ client: ddb.client, tableName });
    const alert = (key: string, minutes: number): AlertEvent => ({ kind: 'alarm', key, incidentId: canaryAt(0), target: null, at: at(minutes), startedAt: at(minutes), status: 'critical', findings: [], alarm: { name: 'a', description: null, state: 'ALARM', previousState: 'OK', reason: 'r', region: null, metric: null } });

    // Act
    await raiseAlerts([{ kind: 'silence', state: INITIAL_SILENCE_STATE, expectedVersion: null }], [alert('S1', 1)], { store, silence });
    const lost = await raiseAlerts([{ kind: 'silence', state: INITIAL_SILENCE_STATE, expectedVersion: null }], [alert('S2', 2)], { store, silence });
    await raiseAlerts([{ kind: 'claim', key: 'bounce#X', ttlSeconds: 60 }, { kind: 'digest', target: 'shop', window: null, expectedVersion: null }], [alert('B1', 3)], { store });
    const before = await outbox.unsent(at(10), 10);
    await outbox.markSent(alert('S1', 1));

    // Assess
    expect(lost).toEqual({ written: false, failed: 0 });
    expect(before.map((e) => e.key)).toEqual(['S1', 'B1']);
    expect((await outbox.unsent(at(10), 10)).map((e) => e.key)).toEqual(['B1']);
    expect(await outbox.unsent(at(3), 10)).toEqual([]);
    expect((await silence.getSilence())?.version).toBe(1);
    expect(await store.claimedUntil('alert#S2')).toBeNull();
    expect(await store.claimedUntil('bounce#X')).not.toBeNull();
  });

  it('exports the key schema the CDK table must use', () => {
    expect(TABLE_SCHEMA).toEqual({ partitionKey: 'pk', sortKey: 'sk', ttlAttribute: 'ttl' });
  });
});
