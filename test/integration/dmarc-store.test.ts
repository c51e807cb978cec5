import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe } from 'vitest';
import { createDmarcDynamoDbStore } from '#adapters/dmarc-dynamodb-store.ts';
import { createDmarcFileStore } from '#adapters/dmarc-file-store.ts';
import { createDynamoDbStore } from '#adapters/dynamodb-store.ts';
import { createFileStore } from '#adapters/file-store.ts';
import { dmarcStoreContract } from '../helpers/dmarc-store-contract.ts';
import { startDynalite, type DynaliteHandle } from '../helpers/dynalite.ts';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('createDmarcFileStore', () => {
  dmarcStoreContract(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mailhealth-dmarc-'));
    dirs.push(dir);
    return { reports: createDmarcFileStore({ dir }), store: createFileStore({ dir }) };
  });
});

describe('createDmarcDynamoDbStore', () => {
  let ddb: DynaliteHandle;
  beforeAll(async () => {
    ddb = await startDynalite();
  });
  afterAll(async () => {
    await ddb?.close();
  });
  // A fresh table per case keeps the cases independent; one table holds both, as in AWS.
  dmarcStoreContract(async () => {
    const tableName = await ddb.createTable();
    return { reports: createDmarcDynamoDbStore({ client: ddb.client, tableName }), store: createDynamoDbStore({ client: ddb.client, tableName }) };
  });
});
