/**
 * `mailhealth suppressions` over the bounces the real recording path wrote: a state directory
 * (file store), and the AWS form with `--table` against dynalite (DynamoDB on 127.0.0.1).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoDbStore } from '#adapters/dynamodb-store.ts';
import { createFileStore } from '#adapters/file-store.ts';
import { bounceFinding } from '#core/bounce/findings.ts';
import { UsageError } from '#core/errors.ts';
import { recordBounce } from '#core/health/record.ts';
import { initialHealthState } from '#core/health/state.ts';
import type { Store } from '#core/ports.ts';
import type { BounceReason } from '#core/results.ts';
import { createSuppressionsCommand } from '#local/cli/suppressions.ts';
import { bounced, canaryAt, countingRandom, T0 } from '../helpers/alert-fixtures.ts';
import { startDynalite, type DynaliteHandle } from '../helpers/dynalite.ts';

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void) {
    this.text += chunk.toString('utf8');
    cb();
  }
}

const DAY = 86_400_000;

/** Records the same story in any store: a canary of shop bounces, customer mail bounces, a mailbox stays full. */
async function recordStory(store: Store): Promise<void> {
  await store.putHealth('shop', initialHealthState('shop'), null);
  await store.putCanary({ id: canaryAt(0), target: 'shop', sentAt: new Date(T0).toISOString(), recipients: [], deliveredAt: null });
  const random = countingRandom();
  const at = (days: number, hours = 0) => new Date(T0 + days * DAY + hours * 3600_000).toISOString();
  const put = async (address: string, reason: BounceReason, receivedAt: string, options: { canary?: boolean; source: string }) => {
    const r = bounced({ recipient: address, reason, canaryId: options.canary ? canaryAt(0) : null, hard: reason === 'userunknown' || reason === 'hostunknown', status: reason === 'mailboxfull' ? '5.2.2' : '5.1.1' });
    await recordBounce(r, bounceFinding(r), { store, clock: () => new Date(receivedAt), random, source: options.source, receivedAt, digestMinutes: 10 });
  };
  await put('nobody@shop-customers.example', 'userunknown', at(0), { canary: true, source: 'raw/a.eml' });
  await put('old@example.com', 'userunknown', at(0, 1), { source: 'raw/b.eml' });
  await put('gone@no-such-domain.example', 'hostunknown', at(2), { source: 'raw/c.eml' });
  await put('full@example.jp', 'mailboxfull', at(0, 2), { source: 'raw/d.eml' });
  await put('full@example.jp', 'mailboxfull', at(3), { source: 'raw/e.eml' });
  await put('once-full@example.jp', 'mailboxfull', at(3), { source: 'raw/f.eml' });
  // The same DSN delivered twice is one bounce.
  await put('old@example.com', 'userunknown', at(0, 1), { source: 'raw/b.eml' });
}

const EXPECTED = [
  { address: 'full@example.jp', reason: 'mailboxfull', count: 2, targets: [] },
  { address: 'gone@no-such-domain.example', reason: 'hostunknown', count: 1, targets: [] },
  { address: 'old@example.com', reason: 'userunknown', count: 1, targets: [] },
  { address: 'nobody@shop-customers.example', reason: 'userunknown', count: 1, targets: ['shop'] },
];

async function run(argv: string[], cwd: string, deps = {}) {
  const out = new Capture();
  const err = new Capture();
  const code = await createSuppressionsCommand(deps)(argv, { stdout: out, stderr: err, env: { LANG: 'C' }, cwd });
  return { code, out: out.text, err: err.text };
}

describe('mailhealth suppressions', () => {
  let dir: string;
  let ddb: DynaliteHandle;
  let table: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mh-suppressions-'));
    await recordStory(createFileStore({ dir }));
    ddb = await startDynalite();
    table = await ddb.createTable();
    await recordStory(createDynamoDbStore({ client: ddb.client, tableName: table }));
  });

  afterAll(async () => {
    await ddb?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('lists the hard bounces and the mailbox that stayed full, as the JSON of docs/REFERENCE.md', async () => {
    // Act
    const { code, out } = await run(['--state', dir, '--json'], tmpdir());

    // Assess
    expect(code).toBe(0);
    const doc = JSON.parse(out) as { addresses: Record<string, unknown>[] };
    expect(doc.addresses).toMatchObject(EXPECTED);
    for (const a of doc.addresses) expect(Object.keys(a)).toEqual(['address', 'reason', 'count', 'firstSeen', 'lastSeen', 'targets']);
  });

  it('writes CSV for a mailing tool, and keeps only what bounced since a date', async () => {
    const csv = await run(['--state', dir, '--csv', '--since', new Date(T0 + 2 * DAY).toISOString().slice(0, 10)], tmpdir());
    expect(csv.out.split('\r\n')).toEqual([
      'address,reason,count,first_seen,last_seen,targets',
      expect.stringMatching(/^full@example\.jp,mailboxfull,2,/),
      expect.stringMatching(/^gone@no-such-domain\.example,hostunknown,1,/),
      '',
    ]);
  });

  it('prints a table for people', async () => {
    const { out } = await run(['--state', dir], tmpdir());
    expect(out).toMatch(/^4 address\(es\) to stop mailing or fix/);
    expect(out).toMatch(/^nobody@shop-customers\.example +userunknown +1 +2026-01-05 00:00:00 UTC +2026-01-05 00:00:00 UTC +shop$/m);
  });

  it('reads the same list from the DynamoDB table of the AWS deployment with --table', async () => {
    const { code, out } = await run(['--table', table, '--json'], tmpdir(), { dynamoClient: () => ddb.client });
    expect(code).toBe(0);
    expect((JSON.parse(out) as { addresses: unknown[] }).addresses).toMatchObject(EXPECTED);
  });

  it('says what is wrong with the arguments', async () => {
    await expect(run(['--state', dir, '--since', 'yesterday'], tmpdir())).rejects.toThrow(/--since needs a date \(2026-03-01\)/);
    await expect(run(['--json', '--csv'], tmpdir())).rejects.toBeInstanceOf(UsageError);
    await expect(run(['--state', join(dir, 'nope')], tmpdir())).rejects.toThrow(/no state directory/);
  });
});
