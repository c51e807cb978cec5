/**
 * dynalite (an in-memory DynamoDB) on a free port of 127.0.0.1, behind a front that adds
 * TransactWriteItems (dynalite-transactions.ts), with a client pointed at it and the
 * mail-health table created from the store's own key schema.
 *
 * @example
 * const ddb = await startDynalite();
 * const tableName = await ddb.createTable();
 * const store = createDynamoDbStore({ client: ddb.client, tableName });
 * // …
 * await ddb.close();
 */
import { createRequire } from 'node:module';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createTableInput } from '#adapters/dynamodb-store.ts';
import { startTransactionFront } from './dynalite-transactions.ts';

// dynalite is CommonJS without type declarations.
const dynalite = createRequire(import.meta.url)('dynalite') as (options: { createTableMs?: number; deleteTableMs?: number; updateTableMs?: number }) => Server;

export interface DynaliteHandle {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  /** A client for the stand-in: region us-east-1, dummy static credentials. */
  readonly client: DynamoDBClient;
  /** Creates a mail-health table (pk/sk, on demand) and returns its name. */
  createTable(name?: string): Promise<string>;
  close(): Promise<void>;
}

let tables = 0;

export async function startDynalite(): Promise<DynaliteHandle> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  // dynalite has no TransactWriteItems: a front that serializes every request adds it.
  const front = await startTransactionFront(`http://127.0.0.1:${port}`);
  const endpoint = front.endpoint;
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 2,
  });
  return {
    endpoint,
    client,
    async createTable(name = `mail-health-${++tables}`) {
      await client.send(new CreateTableCommand(createTableInput(name)));
      return name;
    },
    async close() {
      client.destroy();
      await front.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
