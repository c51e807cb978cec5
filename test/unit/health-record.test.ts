import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFileStore } from '#adapters/file-store.ts';
import type { AlertEvent } from '#core/alert/event.ts';
import { alertView } from '#core/alert/view.ts';
import type { EmailMessage } from '#core/alert/email.ts';
import type { SlackMessage } from '#core/alert/slack.ts';
import { canaryRecordOf } from '#core/health/canary.ts';
import { deliverAlert } from '#core/health/deliver.ts';
import { checkUndelivered, recordBounce, recordDelivered, recordRound } from '#core/health/record.ts';
import type { Status } from '#core/findings.ts';
import type { Notifier, Store } from '#core/ports.ts';
import { at, bounced, canaryAt, countingRandom, mailboxFull, round, T0 } from '../helpers/alert-fixtures.ts';

const alerts = { failureThreshold: 2, recoveryThreshold: 2, reminderMinutes: 60 };

/** A file store whose own clock (claim expiry, canary retention) reads an hour after T0. */
const fileStore = (dir: string) => createFileStore({ dir, now: () => T0 + 3600_000 });

describe('recordRound', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mailhealth-health-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** One round `minutes` after T0, recorded with a store made by `storeFor` (a new one per run models a restart). */
  async function roundAt(store: Store, status: Status, minutes: number): Promise<AlertEvent[]> {
    const random = countingRandom();
    return recordRound(round(status, at(minutes), { canaryId: canaryAt(minutes) }), {
      store,
      clock: () => new Date(T0 + minutes * 60_000 + 10_000),
      random,
      config: alerts,
    });
  }

  const sequences: { name: string; rounds: Status[]; raised: string }[] = [
    { name: 'raises one failing alert for three failing runs', rounds: ['critical', 'critical', 'critical'], raised: '- failing -' },
    {
      name: 'raises one recovery for two healthy runs after the outage',
      rounds: ['critical', 'critical', 'critical', 'ok', 'ok'],
      raised: '- failing - - recovered',
    },
    { name: 'raises nothing while flapping', rounds: ['critical', 'ok', 'critical', 'ok'], raised: '- - - -' },
  ];

  for (const s of sequences) {
    it(`${s.name}, with a new process (a new Store on the same directory) for every run`, async () => {
      // Prepare / Act
      const raised: string[] = [];
      for (const [i, status] of s.rounds.entries()) {
        const events = await roundAt(fileStore(dir), status, i * 5);
        raised.push(events.map((e) => e.kind).join('+') || '-');
      }

      // Assess
      expect(raised.join(' ')).toBe(s.raised);
    });
  }

  it('raises an alert once when the same round is recorded twice', async () => {
    // Prepare
    const store = fileStore(dir);
    await roundAt(store, 'critical', 0);

    // Act: the second round arrives twice (a Lambda retry), the second time in a new process
    const first = await roundAt(store, 'critical', 5);
    const again = await roundAt(fileStore(dir), 'critical', 5);

    // Assess
    expect(first.map((e) => e.kind)).toEqual(['failing']);
    expect(again).toEqual([]);
    expect(await store.listRounds('shop', 10)).toHaveLength(2);
  });

  it('raises an alert once when two processes record the same round at the same time', async () => {
    // Prepare
    await roundAt(fileStore(dir), 'critical', 0);

    // Act
    const both = await Promise.all([roundAt(fileStore(dir), 'critical', 5), roundAt(fileStore(dir), 'critical', 5)]);

    // Assess
    expect(both.flat().map((e) => e.kind)).toEqual(['failing']);
  });

  it('keeps the incident across a restart, so recovery reports the whole outage', async () => {
    // Prepare / Act
    const events: AlertEvent[] = [];
    for (const [i, status] of (['critical', 'critical', 'critical', 'ok', 'ok'] as const).entries()) {
      events.push(...(await roundAt(fileStore(dir), status, i * 5)));
    }

    // Assess
    const [failing, recovered] = events;
    expect(recovered?.incidentId).toBe(failing?.incidentId);
    expect(recovered).toMatchObject({ kind: 'recovered', startedAt: at(0), durationMs: 15 * 60_000 });
  });
});

describe('recordBounce', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mailhealth-bounce-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const random = countingRandom();
  const deps = (store: Store, source?: string) => ({
    store,
    clock: () => new Date(T0 + 20 * 60_000),
    random,
    ...(source ? { source } : {}),
  });

  it('raises one alert per canary and recipient, however often the bounce is processed', async () => {
    // Prepare
    const store = fileStore(dir);
    await store.putCanary({ id: canaryAt(0), target: 'shop', sentAt: at(0), recipients: ['canary@bounces.example.jp'], deliveredAt: null });

    // Act
    const first = (await recordBounce(bounced(), mailboxFull, deps(store, 's3://raw/1'))).events;
    const duplicate = await recordBounce(bounced(), mailboxFull, deps(fileStore(dir), 's3://raw/1-copy'));
    const otherRecipient = (await recordBounce(bounced({ recipient: 'staff@example.jp' }), mailboxFull, deps(store))).events;

    // Assess
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({ kind: 'bounce', target: 'shop', canaryId: canaryAt(0), status: 'warning' });
    expect(duplicate).toEqual({ first: false, events: [], heldUntil: null, digestAt: null });
    expect(otherRecipient).toHaveLength(1);
    expect(otherRecipient[0]?.incidentId).not.toBe(first[0]?.incidentId);
    expect((await store.listBounces('shop', 10)).map((b) => b.recipient.recipient)).toEqual(['staff@example.jp', 'owner@example.jp']);
  });

  it('alerts the same full mailbox again only after the repeat window, saying until when, while recording every bounce', async () => {
    // Prepare: three canaries of one target, each bouncing for the same full mailbox.
    let now = T0 + 20 * 60_000;
    const store = createFileStore({ dir, now: () => now });
    for (const n of [0, 5, 90]) await store.putCanary({ id: canaryAt(n), target: 'shop', sentAt: at(n), recipients: [], deliveredAt: null });
    const repeating = () => ({ store, clock: () => new Date(now), random, repeatAfterMinutes: 60 });

    // Act
    const first = await recordBounce(bounced({ canaryId: canaryAt(0) }), mailboxFull, repeating());
    now += 5 * 60_000;
    const withinWindow = await recordBounce(bounced({ canaryId: canaryAt(5) }), mailboxFull, repeating());
    now += 85 * 60_000;
    const afterWindow = await recordBounce(bounced({ canaryId: canaryAt(90) }), mailboxFull, repeating());

    // Assess
    expect(first.events).toHaveLength(1);
    expect(first.heldUntil).toBeNull();
    expect(withinWindow).toEqual({ first: true, events: [], heldUntil: new Date(T0 + 80 * 60_000).toISOString(), digestAt: null });
    expect(afterWindow.events).toHaveLength(1);
    expect(await store.listBounces('shop', 10)).toHaveLength(3);
  });

  it('matches the canary id whatever its case in the returned address', async () => {
    const store = fileStore(dir);
    await recordBounce(bounced(), mailboxFull, deps(store));
    expect((await recordBounce(bounced({ canaryId: canaryAt(0).toLowerCase() }), mailboxFull, deps(store))).first).toBe(false);
  });

  it("treats a bounce carrying a canary id of no canary of ours (another installation's) as the shop's own mail", async () => {
    // Prepare: the id is well formed, but this store never sent it.
    const store = fileStore(dir);
    const foreign = bounced({ canaryId: canaryAt(42) });

    // Act
    const { events } = await recordBounce(foreign, mailboxFull, deps(store, 'file:foreign.eml'));
    const view = alertView(events[0]!, 'en');

    // Assess: the alert speaks of a message that bounced, not of a canary
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ kind: 'bounce', target: null, canaryId: null });
    expect(view.title).toBe('A message to owner@example.jp bounced: mailbox full');
    expect(view.title).not.toMatch(/canary/i);
    expect((await store.listBounces(null, 10)).map((b) => b.canaryId)).toEqual([null]);
  });

  it('records a bounce without a finding but raises nothing for it', async () => {
    // Prepare
    const store = fileStore(dir);

    // Act
    const { events } = await recordBounce(bounced({ reason: 'vacation', canaryId: null }), null, deps(store, 'file:auto-reply.eml'));

    // Assess
    expect(events).toEqual([]);
    expect(await store.listBounces(null, 10)).toHaveLength(1);
  });
});

describe('round trip', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mailhealth-trip-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('raises CANARY_NOT_DELIVERED once for a canary not seen within the timeout', async () => {
    // Prepare: canaries at 0 (never arrives) and 5 (arrives at 7)
    const store = fileStore(dir);
    const sent = canaryRecordOf(round('ok', at(0), { canaryId: canaryAt(0) }), { bounceDomain: 'bounces.example.jp' });
    const arrived = canaryRecordOf(round('ok', at(5), { canaryId: canaryAt(5) }), { bounceDomain: 'BOUNCES.example.jp' });
    if (!sent || !arrived) throw new Error('canary records expected');
    await store.putCanary(sent);
    await store.putCanary(arrived);
    const seconds = await recordDelivered(canaryAt(5), { store, clock: () => new Date(T0 + 7 * 60_000) });
    const deps = { store, clock: () => new Date(T0 + 21 * 60_000), random: countingRandom() };

    // Act
    const first = await checkUndelivered(['shop'], 15, deps);
    const again = await checkUndelivered(['shop'], 15, deps);

    // Assess: the round trip runs from the accepted DATA (the session's steps after the round's start).
    const sessionMs = Date.parse(arrived.sentAt) - Date.parse(at(5));
    expect(sessionMs).toBeGreaterThan(0);
    expect(sessionMs).toBe(round('ok', at(5)).steps.slice(0, round('ok', at(5)).steps.findIndex((s) => s.step === 'data') + 1).reduce((sum, s) => sum + s.ms, 0));
    expect(seconds).toBe(120 - sessionMs / 1000);
    expect(await recordDelivered(canaryAt(5), { store, clock: () => new Date(T0 + 8 * 60_000) })).toBeNull();
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({ kind: 'undelivered', canaryId: canaryAt(0), target: 'shop', recipients: ['canary@bounces.example.jp'] });
    expect(first[0]?.findings[0]?.code).toBe('CANARY_NOT_DELIVERED');
    expect(again).toEqual([]);
  });

  it('waits for nothing when the provider did not accept the canary', () => {
    expect(canaryRecordOf(round('critical', at(0)), { bounceDomain: 'bounces.example.jp' })).toBeNull();
  });

  it('keeps a canary sent to no mailbox of the bounce domain (for its bounces) without waiting for it', async () => {
    // Prepare: the canary went only to recipients elsewhere; long past the timeout.
    const store = fileStore(dir);
    const record = canaryRecordOf(round('ok', at(0), { canaryId: canaryAt(0) }), { bounceDomain: 'elsewhere.example' });
    if (!record) throw new Error('a record expected');
    await store.putCanary(record);
    // Act
    const events = await checkUndelivered(['shop'], 15, { store, clock: () => new Date(T0 + 60 * 60_000), random: countingRandom() });
    // Assess
    expect(record).toMatchObject({ target: 'shop', recipients: [] });
    expect(await store.getCanary(canaryAt(0))).toMatchObject({ target: 'shop' });
    expect(events).toEqual([]);
  });
});

describe('deliverAlert', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mailhealth-deliver-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('delivers by email when Slack fails, and records both outcomes as values', async () => {
    // Prepare
    const store = fileStore(dir);
    const [event] = await recordRound(round('critical', at(0)), {
      store,
      clock: () => new Date(T0),
      random: countingRandom(),
      config: { ...alerts, failureThreshold: 1 },
    });
    if (!event) throw new Error('an alert was expected');
    const emails: EmailMessage[] = [];
    const notifiers: Notifier[] = [
      {
        channel: 'slack',
        send: async (_m: SlackMessage) => {
          throw new Error('Slack answered HTTP 500 after 4 attempts');
        },
      },
      { channel: 'email', send: async (m: EmailMessage) => void emails.push(m) },
    ];

    // Act
    const outcomes = await deliverAlert(event, notifiers, 'en', { store, clock: () => new Date(T0 + 1000) });

    // Assess
    expect(outcomes).toEqual([
      { channel: 'slack', ok: false, error: 'Slack answered HTTP 500 after 4 attempts' },
      { channel: 'email', ok: true },
    ]);
    expect(emails[0]?.subject).toBe('[mail-health] FAILING shop: AUTH_FAILED @ AUTH');
    const [recorded] = await store.listAlerts('shop', 5);
    expect(recorded?.event.key).toBe(event.key);
    expect(recorded?.outcomes).toEqual(outcomes);
  });
});
