/**
 * The round trip measured against a real MTA: a private Postfix relays the canary to the
 * embedded bounce listener within a fraction of a second, while a silent port 25 keeps the
 * round's port probe busy for its whole timeout. The time reported is the delivery time (from
 * the provider's acceptance to the listener's receipt), never the probe timeout the round
 * happened to wait for before it read its mail.
 * Skipped, saying why, only where Postfix (or root, which a private instance needs) is missing.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '#core/config.ts';
import type { IntakeOutcome } from '#local/intake.ts';
import { createLocalRuntime, type LocalRuntime, type LoopEvent } from '#local/loop.ts';
import { freePort, postfixUnavailable, PROVIDER_HOSTNAME, startPostfix, type PostfixInstance } from './helpers/postfix.ts';

const unavailable = postfixUnavailable();
if (unavailable) console.log(`SKIPPED test/e2e/round-trip.test.ts: ${unavailable}`);

const BOUNCE_DOMAIN = 'bounces.test';
/** The silent port's probe timeout: far longer than Postfix takes to relay on loopback. */
const PROBE_MS = 3_000;
const ARRIVAL_WAIT_MS = 30_000;

describe.skipIf(unavailable !== null)('the round trip through a real Postfix', () => {
  let postfix: PostfixInstance | undefined;
  let runtime: LocalRuntime | undefined;
  let stateDir: string;
  let silent: net.Server | undefined;
  const events: LoopEvent[] = [];

  beforeAll(async () => {
    // Prepare: a port 25 that accepts and never greets (OP25B as the probe sees it), Postfix
    // relaying the bounce domain to the listener, and a target whose canary goes there.
    const server = net.createServer(() => {});
    silent = server;
    const silentPort = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
    const listenerPort = await freePort();
    postfix = await startPostfix({ bounceDomain: BOUNCE_DOMAIN, listenerPort });
    stateDir = await mkdtemp(join(tmpdir(), 'mh-roundtrip-'));
    const config = parseConfig({
      language: 'en',
      bounceDomain: BOUNCE_DOMAIN,
      targets: [
        {
          name: 'shop',
          host: '127.0.0.1',
          port: postfix.submissionPort,
          servername: PROVIDER_HOSTNAME,
          from: 'shop@provider.test',
          to: [`canary@${BOUNCE_DOMAIN}`],
          probePorts: [25],
          timeouts: { connectMs: 5_000, stepMs: 10_000, probeMs: PROBE_MS },
        },
      ],
      local: { bounceListener: { host: '127.0.0.1', port: listenerPort } },
    });
    runtime = await createLocalRuntime({
      config,
      stateDir,
      notifiers: [],
      secrets: { shop: { ca: postfix.caPem } },
      report: (e) => events.push(e),
      reportPath: null,
      portOverrides: { 25: silentPort },
    });
  }, 90_000);

  afterAll(async () => {
    await runtime?.close();
    await postfix?.stop();
    silent?.close();
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
  }, 60_000);

  it('reports the time the canary took to arrive, not the port probe timeout of its round', async () => {
    // Act: one round (it lasts at least the probe timeout), then wait (bounded) for the arrival.
    const started = Date.now();
    const summary = await runtime!.runRound();
    const roundMs = Date.now() - started;
    const delivered = (): Extract<IntakeOutcome, { kind: 'delivered' }> | undefined =>
      events.flatMap((e) => (e.kind === 'intake' && e.outcome.kind === 'delivered' ? [e.outcome] : []))[0];
    const deadline = Date.now() + ARRIVAL_WAIT_MS;
    while (!delivered() && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      await runtime!.intake.drain();
    }

    // Assess: the round waited for the silent port, the canary did not.
    const result = summary.results[0]!;
    expect(result.ports['25']).toBe('timeout');
    expect(roundMs).toBeGreaterThanOrEqual(PROBE_MS);
    const arrival = delivered();
    expect(arrival, `the canary never arrived; Postfix log:\n${await postfix!.log()}`).toBeDefined();
    expect(arrival).toMatchObject({ canaryId: result.canaryId, target: 'shop' });
    expect(arrival!.seconds).not.toBeNull();
    expect(arrival!.seconds!).toBeLessThan((PROBE_MS - 1_000) / 1000);
    const record = await runtime!.store.getCanary(result.canaryId);
    expect(Date.parse(record!.deliveredAt!) - Date.parse(record!.sentAt)).toBe(Math.round(arrival!.seconds! * 1000));
    expect(Date.parse(record!.sentAt)).toBeGreaterThanOrEqual(Date.parse(result.startedAt));
  }, 60_000);
});
