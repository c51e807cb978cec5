/**
 * TransactWriteItems in front of dynalite, which does not implement it. A transaction runs
 * alone (after the requests in flight, before any that come later), so one done as single
 * writes is atomic for every client: the items' old images are read, the writes are made in order with their
 * conditions, and when one condition fails the writes already made are undone and the answer
 * is DynamoDB's TransactionCanceledException with one cancellation reason per item.
 * DynamoDB's own rules that matter to a caller are kept: at most 100 items, no item twice.
 * Everything else is forwarded unchanged. Listens on 127.0.0.1 only.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

type AttributeMap = Record<string, unknown>;
interface Expressions {
  ConditionExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: AttributeMap;
}
interface TransactItem {
  Put?: Expressions & { TableName: string; Item: AttributeMap };
  Update?: Expressions & { TableName: string; Key: AttributeMap; UpdateExpression: string };
  Delete?: Expressions & { TableName: string; Key: AttributeMap };
  ConditionCheck?: Expressions & { TableName: string; Key: AttributeMap };
}

const MAX_ITEMS = 100;

/** Starts the front on a free port of 127.0.0.1, forwarding to dynalite at `backend`. */
export async function startTransactionFront(backend: string): Promise<{ endpoint: string; close(): Promise<void> }> {
  const keyNames = new Map<string, string[]>();
  // A readers-writer lock: plain requests share it, a transaction holds it alone.
  let exclusiveTurn: Promise<unknown> = Promise.resolve();
  const inFlight = new Set<Promise<unknown>>();
  const shared = (work: () => Promise<void>): Promise<void> => {
    const run = exclusiveTurn.then(work, work);
    const settled = run.catch(() => undefined);
    inFlight.add(settled);
    void settled.then(() => inFlight.delete(settled));
    return run;
  };
  const exclusive = (work: () => Promise<void>): Promise<void> => {
    const before = Promise.all([exclusiveTurn, ...inFlight]);
    const run = before.then(work, work);
    exclusiveTurn = run.catch(() => undefined);
    return run;
  };

  async function call(target: string, body: unknown): Promise<{ status: number; json: any; headers: Headers }> {
    const res = await fetch(backend, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': `DynamoDB_20120810.${target}`, 'x-amz-date': '20260101T000000Z', authorization: 'AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=0' },
      body: JSON.stringify(body),
    });
    return { status: res.status, json: await res.json().catch(() => ({})), headers: res.headers };
  }

  async function keyOf(table: string, item: AttributeMap): Promise<AttributeMap> {
    let names = keyNames.get(table);
    if (!names) {
      const { json } = await call('DescribeTable', { TableName: table });
      names = (json.Table?.KeySchema ?? []).map((k: { AttributeName: string }) => k.AttributeName) as string[];
      if (names.length === 0) throw new Error(`DescribeTable ${table} gave no key schema: ${JSON.stringify(json)}`);
      keyNames.set(table, names);
    }
    return Object.fromEntries(names.map((n) => [n, item[n]]));
  }

  const error = (type: string, message: string, extra: Record<string, unknown> = {}) => ({
    status: 400,
    body: JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${type}`, message, ...extra }),
  });

  async function transact(input: { TransactItems?: TransactItem[] }): Promise<{ status: number; body: string }> {
    const items = input.TransactItems ?? [];
    if (items.length === 0 || items.length > MAX_ITEMS) return error('ValidationException', `TransactItems must have 1 to ${MAX_ITEMS} items`);
    const ops = await Promise.all(
      items.map(async (t) => {
        const [kind, op] = Object.entries(t)[0] as [keyof TransactItem, NonNullable<TransactItem[keyof TransactItem]>];
        const key = 'Item' in op ? await keyOf(op.TableName, op.Item) : (op as { Key: AttributeMap }).Key;
        return { kind, op, key, id: `${op.TableName}|${JSON.stringify(key)}` };
      }),
    );
    if (new Set(ops.map((o) => o.id)).size !== ops.length) {
      return error('ValidationException', 'Transaction request cannot include multiple operations on one item');
    }
    const before = await Promise.all(ops.map(async (o) => (await call('GetItem', { TableName: o.op.TableName, Key: o.key, ConsistentRead: true })).json.Item as AttributeMap | undefined));
    const expressions = (op: Expressions) => ({
      ...(op.ConditionExpression ? { ConditionExpression: op.ConditionExpression } : {}),
      ...(op.ExpressionAttributeNames ? { ExpressionAttributeNames: op.ExpressionAttributeNames } : {}),
      ...(op.ExpressionAttributeValues ? { ExpressionAttributeValues: op.ExpressionAttributeValues } : {}),
    });
    const done: number[] = [];
    for (let i = 0; i < ops.length; i++) {
      const { kind, op, key } = ops[i]!;
      let res;
      if (kind === 'Put') res = await call('PutItem', { TableName: op.TableName, Item: (op as { Item: AttributeMap }).Item, ...expressions(op) });
      else if (kind === 'Update') res = await call('UpdateItem', { TableName: op.TableName, Key: key, UpdateExpression: (op as { UpdateExpression: string }).UpdateExpression, ...expressions(op) });
      else if (kind === 'Delete') res = await call('DeleteItem', { TableName: op.TableName, Key: key, ...expressions(op) });
      // A condition check writes nothing: the old image written back under the condition (or a delete of nothing).
      else if (before[i]) res = await call('PutItem', { TableName: op.TableName, Item: before[i], ...expressions(op) });
      else res = await call('DeleteItem', { TableName: op.TableName, Key: key, ...expressions(op) });
      if (res.status === 200) {
        done.push(i);
        continue;
      }
      for (const j of done.reverse()) {
        const o = ops[j]!;
        if (before[j]) await call('PutItem', { TableName: o.op.TableName, Item: before[j] });
        else await call('DeleteItem', { TableName: o.op.TableName, Key: o.key });
      }
      const failed = String(res.json.__type ?? '').endsWith('ConditionalCheckFailedException');
      if (!failed) return { status: res.status, body: JSON.stringify(res.json) };
      const reasons = ops.map((_, j) => (j === i ? { Code: 'ConditionalCheckFailed', Message: 'The conditional request failed' } : { Code: 'None' }));
      return error('TransactionCanceledException', `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((r) => r.Code).join(', ')}]`, { CancellationReasons: reasons });
    }
    return { status: 200, body: '{}' };
  }

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const target = String(req.headers['x-amz-target'] ?? '');
      const work = async () => {
        if (target.endsWith('.TransactWriteItems')) {
          const out = await transact(JSON.parse(body) as { TransactItems?: TransactItem[] });
          res.writeHead(out.status, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': 'front' });
          res.end(out.body);
          return;
        }
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'host' && k !== 'content-length') headers[k] = v;
        const upstream = await fetch(backend, { method: req.method ?? 'POST', headers, body: req.method === 'GET' ? undefined : body });
        const text = await upstream.text();
        res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/x-amz-json-1.0', 'x-amzn-requestid': upstream.headers.get('x-amzn-requestid') ?? 'front' });
        res.end(text);
      };
      // A transaction runs alone (what makes it atomic for every other client); other requests run side by side.
      const run = target.endsWith('.TransactWriteItems') ? exclusive(work) : shared(work);
      run.catch((err: unknown) => {
        res.writeHead(500, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(JSON.stringify({ __type: 'InternalServerError', message: String(err) }));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
