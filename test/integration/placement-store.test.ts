import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TABLE_SCHEMA } from '#adapters/dynamodb-store.ts';
import { createPlacementDynamoDbStore } from '#adapters/placement-dynamodb-store.ts';
import { createPlacementFileStore } from '#adapters/placement-file-store.ts';
import { startDynalite, type DynaliteHandle } from '../helpers/dynalite.ts';
import { pendingRecord, placementStoreContract } from '../helpers/placement-store-contract.ts';

const dirs: string[] = [];
async function freshDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mailhealth-placement-'));
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('createPlacementFileStore', () => {
  placementStoreContract(async (nowMs) => createPlacementFileStore({ dir: await freshDir(), now: nowMs }));

  it('drops records older than the history when it writes, and survives a new process', async () => {
    // Prepare: a record of T0 and a clock 36 days later.
    const dir = await freshDir();
    const T0 = Date.parse(pendingRecord('01A', 0).sentAt);
    await createPlacementFileStore({ dir, now: () => T0 }).putPlacement(pendingRecord('01A', 0));

    // Act
    const later = createPlacementFileStore({ dir, now: () => T0 + 36 * 86_400_000, historyDays: 35 });
    expect((await later.listPlacements('shop', { sentAfter: '2000-01-01T00:00:00.000Z', limit: 10 })).map((r) => r.canaryId)).toEqual(['01A']);
    await later.putPlacement(pendingRecord('01Z', 36 * 1440));

    // Assess
    expect((await later.listPlacements('shop', { sentAfter: '2000-01-01T00:00:00.000Z', limit: 10 })).map((r) => r.canaryId)).toEqual(['01Z']);
    expect(JSON.parse(await readFile(join(dir, 'placement', 'shop.json'), 'utf8')).records).toHaveLength(1);
  });

  it('says which file is damaged instead of starting over silently', async () => {
    const dir = await freshDir();
    const store = createPlacementFileStore({ dir });
    await store.putPlacement(pendingRecord('01A', 0));
    await (await import('node:fs/promises')).writeFile(join(dir, 'placement', 'shop.json'), '{"records": [');
    await expect(store.listPlacements('shop', { sentAfter: '2000-01-01T00:00:00.000Z', limit: 1 })).rejects.toThrow(/placement\/shop\.json is not valid JSON/);
  });
});

describe('createPlacementDynamoDbStore', () => {
  let ddb: DynaliteHandle;
  beforeAll(async () => {
    ddb = await startDynalite();
  });
  afterAll(async () => {
    await ddb?.close();
  });

  placementStoreContract(async (nowMs) => createPlacementDynamoDbStore({ client: ddb.client, tableName: await ddb.createTable(), now: nowMs }));

  it('keys a record by target, send time, canary and seed, with a ttl', async () => {
    const tableName = await ddb.createTable();
    const T0 = Date.parse('2026-01-05T08:00:00.000Z');
    await createPlacementDynamoDbStore({ client: ddb.client, tableName, now: () => T0, historyDays: 10 }).putPlacement(pendingRecord('01A', 0));
    const item = await ddb.client.send(new GetItemCommand({ TableName: tableName, Key: { pk: { S: 'TARGET#shop' }, sk: { S: 'PLACEMENT#2026-01-05T08:00:00.000Z#01A#gmail' } } }));
    expect(item.Item?.[TABLE_SCHEMA.ttlAttribute]?.N).toBe(String(T0 / 1000 + 10 * 86_400));
  });
});
