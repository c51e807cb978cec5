/**
 * The behaviour every Store adapter must have, as vitest cases. Call it inside a `describe`
 * with a factory that makes a fresh, empty store whose own clock reads `nowMs()`.
 *
 * @example
 * describe('createFileStore', () => {
 *   storeContract(async (nowMs) => createFileStore({ dir: await freshDir(), now: nowMs }));
 * });
 */
import { expect, it } from 'vitest';
import { emptyTally, type DigestWindow } from '#core/alert/digest.ts';
import type { AlertEvent } from '#core/alert/event.ts';
import { recordDelivery } from '#core/auth/round.ts';
import { recordBounce, recordRound } from '#core/health/record.ts';
import { raiseAlerts } from '#core/health/raise.ts';
import { initialHealthState } from '#core/health/state.ts';
import type { Store } from '#core/ports.ts';
import { at, bounced, canaryAt, countingRandom, mailboxFull, round, T0 } from './alert-fixtures.ts';

/** Makes a fresh, empty store whose own clock reads `nowMs()`. */
export type StoreFactory = (nowMs: () => number) => Promise<Store>;

export function storeContract(makeStore: StoreFactory): void {
  let clockMs = T0;
  const fresh = () => {
    clockMs = T0 + 3600_000;
    return makeStore(() => clockMs);
  };

  it('writes the health state only at the version it was read', async () => {
    // Prepare
    const store = await fresh();
    const state = initialHealthState('shop');

    // Act / Assess
    expect(await store.getHealth('shop')).toBeNull();
    expect(await store.putHealth('shop', state, null)).toBe(true);
    expect(await store.putHealth('shop', state, null)).toBe(false);
    expect(await store.putHealth('shop', { ...state, state: 'failing' }, 1)).toBe(true);
    expect(await store.putHealth('shop', state, 1)).toBe(false);
    expect(await store.getHealth('shop')).toEqual({ value: { ...state, state: 'failing' }, version: 2 });
    expect(await store.listTargets()).toEqual(['shop']);
  });

  it('lets one of several concurrent writers of the same version win', async () => {
    const store = await fresh();
    await store.putHealth('shop', initialHealthState('shop'), null);
    const wins = await Promise.all(Array.from({ length: 5 }, () => store.putHealth('shop', initialHealthState('shop'), 1)));
    expect(wins.filter(Boolean)).toHaveLength(1);
  });

  it('grants a claim once until it expires', async () => {
    // Prepare
    const store = await fresh();

    // Act
    const concurrent = await Promise.all(Array.from({ length: 5 }, () => store.claim('alert#X#failing', 60)));
    const later = await store.claim('alert#X#failing', 60);
    clockMs += 61_000;
    const afterExpiry = await store.claim('alert#X#failing', 60);

    // Assess
    expect(concurrent.filter(Boolean)).toHaveLength(1);
    expect(later).toBe(false);
    expect(afterExpiry).toBe(true);
    expect(await store.claim('alert#Y#failing', 60)).toBe(true);
  });

  it('tells until when a claim holds, and nothing for an expired or unknown one', async () => {
    const store = await fresh();
    expect(await store.claim('bounce-repeat#shop#a@example.jp', 600)).toBe(true);
    expect(await store.claimedUntil('bounce-repeat#shop#a@example.jp')).toBe(new Date(clockMs + 600_000).toISOString());
    expect(await store.claimedUntil('never-claimed')).toBeNull();
    clockMs += 601_000;
    expect(await store.claimedUntil('bounce-repeat#shop#a@example.jp')).toBeNull();
  });

  it('grants a released claim again, and releasing an unknown claim is harmless', async () => {
    const store = await fresh();
    expect(await store.claim('delivered#X#failing', 60)).toBe(true);
    await store.release('delivered#X#failing');
    await store.release('delivered#never-claimed');
    expect(await store.claim('delivered#X#failing', 60)).toBe(true);
    expect(await store.claim('delivered#X#failing', 60)).toBe(false);
  });

  it('keeps each round once and lists the newest first', async () => {
    // Prepare
    const store = await fresh();

    // Act
    for (const m of [0, 5, 10]) await store.appendRound(round('ok', at(m), { canaryId: canaryAt(m) }));
    await store.appendRound(round('ok', at(5), { canaryId: canaryAt(5) }));
    await store.appendRound(round('ok', at(0), { canaryId: canaryAt(0), name: 'clinic' }));

    // Assess
    expect((await store.listRounds('shop', 10)).map((r) => r.canaryId)).toEqual([canaryAt(10), canaryAt(5), canaryAt(0)]);
    expect((await store.listRounds('shop', 2)).map((r) => r.canaryId)).toEqual([canaryAt(10), canaryAt(5)]);
    expect(await store.listRounds('clinic', 10)).toHaveLength(1);
    expect(await store.listRounds('nobody', 10)).toEqual([]);
  });

  it('keeps bounces and alerts per target, and those without one apart', async () => {
    // Prepare
    const store = await fresh();
    const event = { kind: 'bounce', key: 'bounce#k', target: null } as unknown as AlertEvent;

    // Act
    await store.appendBounce({ at: at(1), target: 'shop', canaryId: canaryAt(0), recipient: bounced(), finding: mailboxFull });
    await store.appendBounce({ at: at(2), target: null, canaryId: null, recipient: bounced({ canaryId: null }), finding: null, source: 'x.eml' });
    await store.appendAlert({ at: at(3), event, outcomes: [{ channel: 'slack', ok: false, error: 'HTTP 500' }] });

    // Assess
    expect((await store.listBounces('shop', 5)).map((b) => b.finding?.code)).toEqual(['BOUNCE_MAILBOX_FULL']);
    expect((await store.listBounces(null, 5)).map((b) => b.source)).toEqual(['x.eml']);
    expect((await store.listAlerts(null, 5)).map((a) => a.outcomes[0])).toEqual([{ channel: 'slack', ok: false, error: 'HTTP 500' }]);
    expect(await store.listAlerts('shop', 5)).toEqual([]);
  });

  it('keeps the authentication memo of a target part by part, and only the newest canary\'s verdicts', async () => {
    // Prepare
    const store = await fresh();
    const verdicts = (result: 'pass' | 'fail') => ({
      source: 'local' as const,
      fromDomain: 'example.jp',
      ip: '192.0.2.25',
      helo: 'smtp.example.jp',
      spf: { result, domain: 'example.jp', aligned: true },
      dkim: [],
      dmarc: { result, policy: 'reject' },
    });
    const ipReport = { ip: '192.0.2.25', status: 'ok' as const, records: { ptr: { names: ['smtp.example.jp'], confirmed: true }, dnsbl: [] }, findings: [], troubles: [] };

    // Act
    const empty = await store.getSenderAuth('shop');
    await recordDelivery('shop', { canaryId: canaryAt(5), at: at(6), verdicts: verdicts('fail') }, { store });
    await store.putSenderAuth('shop', { sendingIp: { checkedAt: at(7), report: ipReport } });
    const older = await recordDelivery('shop', { canaryId: canaryAt(1), at: at(8), verdicts: verdicts('pass') }, { store });

    // Assess
    expect(empty).toEqual({ delivery: null, sendingIp: null });
    expect(older).toBe(false);
    expect(await store.getSenderAuth('shop')).toEqual({ delivery: { canaryId: canaryAt(5), at: at(6), verdicts: verdicts('fail') }, sendingIp: { checkedAt: at(7), report: ipReport } });
    expect(await store.getSenderAuth('clinic')).toEqual({ delivery: null, sendingIp: null });
  });

  it('tracks canaries until they arrive, and lists the late ones by time', async () => {
    // Prepare
    const store = await fresh();
    const canary = (m: number) => ({ id: canaryAt(m), target: 'shop', sentAt: at(m), recipients: ['canary@bounces.example.jp'], deliveredAt: null });
    for (const m of [0, 5, 10, 30]) await store.putCanary(canary(m));
    await store.putCanary({ ...canary(0), target: 'clinic', id: canaryAt(0, 7) });

    // Act
    const first = await store.markDelivered(canaryAt(5), at(6));
    const second = await store.markDelivered(canaryAt(5), at(9));
    await store.putCanary(canary(5)); // a retried canary round writes its record again
    const unknown = await store.markDelivered(canaryAt(99), at(100));
    const late = await store.listUndelivered('shop', { sentAfter: at(0), sentBefore: at(30), limit: 10 });

    // Assess
    expect(first).toEqual({ record: { ...canary(5), deliveredAt: at(6) }, first: true });
    expect(second?.first).toBe(false);
    expect(second?.record.deliveredAt).toBe(at(6));
    expect((await store.getCanary(canaryAt(5)))?.deliveredAt).toBe(at(6));
    expect(unknown).toBeNull();
    expect(late.map((c) => c.sentAt)).toEqual([at(0), at(10)]);
    expect(await store.listUndelivered('shop', { sentAfter: at(0), sentBefore: at(30), limit: 1 })).toHaveLength(1);
  });

  it('keeps one digest window per target at a version, and lists the open ones', async () => {
    // Prepare
    const store = await fresh();
    const window = (target: string | null): DigestWindow => ({ target, openedAt: at(0), closesAt: at(10), alerted: ['BOUNCE_INVALID_ADDRESS'], tally: emptyTally(), digests: 0 });

    // Act
    const first = await store.putDigest('shop', window('shop'), null);
    const stale = await store.putDigest('shop', window('shop'), null);
    const none = await store.putDigest(null, window(null), null);
    const racing = await Promise.all(Array.from({ length: 4 }, () => store.putDigest(null, null, 1)));

    // Assess
    expect([first, stale, none]).toEqual([true, false, true]);
    expect(racing.filter(Boolean)).toHaveLength(1);
    expect(await store.getDigest('shop')).toEqual({ value: window('shop'), version: 1 });
    expect(await store.getDigest(null)).toEqual({ value: null, version: 2 });
    expect(await store.getDigest('clinic')).toBeNull();
    expect(await store.listDigests()).toEqual([{ value: window('shop'), version: 1 }]);
  });

  it("lists a target's canaries newest first, delivered or not", async () => {
    const store = await fresh();
    for (const m of [0, 5, 10]) await store.putCanary({ id: canaryAt(m), target: 'shop', sentAt: at(m), recipients: ['c@bounces.example.jp'], deliveredAt: null });
    await store.putCanary({ id: canaryAt(1, 3), target: 'clinic', sentAt: at(1), recipients: [], deliveredAt: null });
    await store.markDelivered(canaryAt(5), at(6));
    const listed = await store.listCanaries('shop', 2);
    expect(listed.map((c) => [c.id, c.deliveredAt])).toEqual([
      [canaryAt(10), null],
      [canaryAt(5), at(6)],
    ]);
  });

  it('raises one alert when the same round is written twice, even at the same time', async () => {
    // Prepare
    const store = await fresh();
    const deps = { store, clock: () => new Date(clockMs), random: countingRandom(), config: { failureThreshold: 2, recoveryThreshold: 2, reminderMinutes: 60 } };
    await recordRound(round('critical', at(0), { canaryId: canaryAt(0) }), deps);
    const second = round('critical', at(5), { canaryId: canaryAt(5) });

    // Act
    const raised = await Promise.all([recordRound(second, deps), recordRound(second, deps)]);
    const retried = await recordRound(second, deps);

    // Assess
    expect(raised.flat().map((e) => e.kind)).toEqual(['failing']);
    expect(retried).toEqual([]);
  });

  it('raises one alert when the same bounce is processed twice', async () => {
    const store = await fresh();
    const deps = { store, clock: () => new Date(clockMs), random: countingRandom(), source: 's3://bucket/raw/1' };
    const raised = await Promise.all([recordBounce(bounced(), mailboxFull, deps), recordBounce(bounced(), mailboxFull, deps)]);
    expect(raised.flatMap((r) => r.events)).toHaveLength(1);
    expect((await recordBounce(bounced(), mailboxFull, deps)).events).toEqual([]);
  });

  it('raises an alert with the decision that decides it, once, and nothing when the decision was written by someone else first', async () => {
    // Prepare
    const store = await fresh();
    const state = initialHealthState('shop');
    const alert = (key: string): AlertEvent => ({ kind: 'alarm', key, incidentId: canaryAt(0), target: null, at: at(0), startedAt: at(0), status: 'critical', findings: [], alarm: { name: 'a', description: null, state: 'ALARM', previousState: 'OK', reason: 'r', region: null, metric: null } });

    // Act
    const first = await raiseAlerts([{ kind: 'health', target: 'shop', state, expectedVersion: null }], [alert('A'), alert('B')], { store });
    const lost = await raiseAlerts([{ kind: 'health', target: 'shop', state, expectedVersion: null }], [alert('C')], { store });
    const again = await raiseAlerts([{ kind: 'health', target: 'shop', state: { ...state, state: 'failing' }, expectedVersion: 1 }], [alert('A'), alert('D')], { store });
    const alone = await raiseAlerts([], [alert('D'), alert('E')], { store });

    // Assess
    expect(first).toEqual({ written: true, raised: [alert('A'), alert('B')] });
    expect(lost).toEqual({ written: false, failed: 0 });
    expect(await store.claimedUntil('alert#C')).toBeNull();
    // A was raised before: the state is written, only D is new.
    expect(again).toEqual({ written: true, raised: [alert('D')] });
    expect((await store.getHealth('shop'))?.version).toBe(2);
    expect(alone).toEqual({ written: true, raised: [alert('E')] });
    expect(await store.listTargets()).toEqual(['shop']);
  });
}
