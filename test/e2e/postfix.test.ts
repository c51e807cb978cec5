/**
 * End to end with a real MTA: a private Postfix on loopback is the provider (STARTTLS required
 * on its submission listener), mail-health's local runtime sends one canary per target through
 * it, Postfix relays them to destinations that fail for real (unknown user, mailbox over its
 * limit, a server whose message size limit is too small) and writes the DSNs itself; they come
 * back to the embedded bounce listener and must be classified and matched to their canaries.
 * Skipped, saying why, only where Postfix (or root, which a private instance needs) is missing.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '#core/config.ts';
import type { TargetResult } from '#core/results.ts';
import type { IntakeOutcome, IntakeRecipient } from '#local/intake.ts';
import { createLocalRuntime, type LocalRuntime, type LoopEvent } from '#local/loop.ts';
import { freePort, plainSession, postfixUnavailable, PROVIDER_HOSTNAME, startPostfix, type PostfixInstance } from './helpers/postfix.ts';

const unavailable = postfixUnavailable();
if (unavailable) console.log(`SKIPPED test/e2e/postfix.test.ts: ${unavailable}`);

const BOUNCE_DOMAIN = 'bounces.test';
// Postfix writes the DSNs within a second or two; this bounds the wait if it never does.
const DSN_WAIT_MS = 45_000;

/**
 * What each target's canary must come back as. The too-large DSN is Postfix's own verdict
 * ("X-Postfix; message size N exceeds size limit M of server …"): no server replied, so it has
 * no reply code, and the limit M must not be taken for one.
 */
const EXPECTED = [
  { target: 'unknown', recipient: 'nobody@local.test', reason: 'userunknown', status: '5.1.1', replyCode: null, code: 'BOUNCE_INVALID_ADDRESS' },
  { target: 'full', recipient: 'full@local.test', reason: 'mailboxfull', status: '5.2.2', replyCode: null, code: 'BOUNCE_MAILBOX_FULL' },
  { target: 'big', recipient: 'x@big.test', reason: 'mesgtoobig', status: '5.3.4', replyCode: null, code: 'BOUNCE_MESSAGE_TOO_LARGE' },
] as const;

describe.skipIf(unavailable !== null)('real Postfix as the provider', () => {
  let postfix: PostfixInstance | undefined;
  let runtime: LocalRuntime | undefined;
  let stateDir: string;
  const events: LoopEvent[] = [];

  beforeAll(async () => {
    // Prepare: the bounce listener's port, Postfix relaying the bounce domain to it, a runtime with three targets.
    const listenerPort = await freePort();
    postfix = await startPostfix({ bounceDomain: BOUNCE_DOMAIN, listenerPort });
    stateDir = await mkdtemp(join(tmpdir(), 'mh-postfix-state-'));
    const target = (name: string, to: string[]) => ({
      name,
      host: '127.0.0.1',
      port: postfix!.submissionPort,
      servername: PROVIDER_HOSTNAME,
      tls: 'starttls',
      from: 'shop@provider.test',
      to,
      probePorts: [],
      maxMessageBytes: 1_000_000,
      timeouts: { connectMs: 5_000, stepMs: 10_000, probeMs: 1_000 },
      slowStepMs: 5_000,
    });
    const config = parseConfig({
      language: 'en',
      bounceDomain: BOUNCE_DOMAIN,
      targets: [target('unknown', ['nobody@local.test', `canary@${BOUNCE_DOMAIN}`]), target('full', ['full@local.test']), target('big', ['x@big.test'])],
      local: { bounceListener: { host: '127.0.0.1', port: listenerPort } },
    });
    const ca = postfix.caPem;
    runtime = await createLocalRuntime({
      config,
      stateDir,
      notifiers: [],
      secrets: { unknown: { ca }, full: { ca }, big: { ca } },
      report: (e) => events.push(e),
      reportPath: null,
    });
  }, 90_000);

  afterAll(async () => {
    await runtime?.close();
    await postfix?.stop();
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
  }, 60_000);

  const outcomes = () => events.flatMap((e) => (e.kind === 'intake' ? [e.outcome] : []));
  const bounced = (): IntakeRecipient[] => outcomes().flatMap((o: IntakeOutcome) => (o.kind === 'bounce' ? o.recipients : []));

  it('sends each canary over STARTTLS, and classifies the DSN Postfix returns and matches it to its canary', async () => {
    // Act: one round, then wait (bounded) until the three bounces and the delivered canary are in.
    const summary = await runtime!.runRound();
    const deadline = Date.now() + DSN_WAIT_MS;
    const complete = () => EXPECTED.every((x) => bounced().some((b) => b.recipient.recipient === x.recipient)) && outcomes().some((o) => o.kind === 'delivered');
    while (!complete() && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      await runtime!.intake.drain();
    }

    // Assess: the sessions.
    const results = new Map<string, TargetResult>(summary.results.map((r) => [r.name, r]));
    for (const name of ['unknown', 'full', 'big']) {
      const r = results.get(name);
      expect(r, name).toBeDefined();
      expect(r!.status, `${name}: ${JSON.stringify(r!.findings.map((f) => f.code))}`).toBe('ok');
      expect(r!.steps.find((s) => s.step === 'starttls')?.ok).toBe(true);
      expect(r!.tls?.authorized).toBe(true);
    }
    const log = await postfix!.log();
    expect(complete(), `bounces never all came back; Postfix log:\n${log}`).toBe(true);

    // Assess: each DSN, classified and matched to the canary of its own target.
    const table = [];
    for (const x of EXPECTED) {
      const b = bounced().find((r) => r.recipient.recipient === x.recipient)!;
      table.push({ target: b.target, recipient: b.recipient.recipient, reason: b.recipient.reason, status: b.recipient.status, replyCode: b.recipient.replyCode, hard: b.recipient.hard, finding: b.finding?.code, canaryId: b.recipient.canaryId, diagnostic: b.recipient.diagnostic });
      expect(b.recipient).toMatchObject({ reason: x.reason, status: x.status, replyCode: x.replyCode, canaryId: results.get(x.target)!.canaryId });
      expect(b.target).toBe(x.target);
      expect(b.finding?.code).toBe(x.code);
      const stored = await runtime!.store.listBounces(x.target, 10);
      expect(stored.map((s) => s.recipient.recipient)).toContain(x.recipient);
    }
    console.log('Postfix DSNs as mail-health classified them:\n' + JSON.stringify(table, null, 2));

    // Assess: the canary for the bounce domain's own mailbox arrived (the round trip).
    const delivered = outcomes().find((o) => o.kind === 'delivered');
    expect(delivered).toMatchObject({ canaryId: results.get('unknown')!.canaryId, target: 'unknown' });
    expect((await runtime!.store.getCanary(results.get('unknown')!.canaryId))?.deliveredAt).not.toBeNull();
    expect(outcomes().filter((o) => o.kind === 'kept' || o.kind === 'failed')).toEqual([]);
  }, 120_000);

  it('refuses mail on the submission listener before STARTTLS', async () => {
    // Act: a plain-text session that skips STARTTLS.
    const replies = await plainSession(postfix!.submissionPort, ['EHLO client.test', 'MAIL FROM:<shop@provider.test>', 'QUIT']);

    // Assess
    expect(replies[1]).toMatch(/STARTTLS/);
    expect(replies[2]).toMatch(/^530 5\.7\.0 .*STARTTLS/);
  });
});
