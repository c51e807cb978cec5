import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFileStore } from '#adapters/file-store.ts';
import { createSesEmailNotifier } from '#adapters/ses-email.ts';
import { createSlackNotifier, retryAfterMs } from '#adapters/slack-webhook.ts';
import type { AlertEvent } from '#core/alert/event.ts';
import { formatSlack, type SlackMessage } from '#core/alert/slack.ts';
import type { Status } from '#core/findings.ts';
import { deliverAlert } from '#core/health/deliver.ts';
import { recordRound } from '#core/health/record.ts';
import type { Store } from '#core/ports.ts';
import { at, canaryAt, countingRandom, round, T0 } from '../helpers/alert-fixtures.ts';
import { startHttpCapture, type HttpCapture } from '../helpers/http-capture.ts';
import { startSesLocal, type SesLocalHandle } from '../helpers/ses-local.ts';

const WEBHOOK_PATH = '/services/T0000/B0000/not-a-real-secret-token';

async function failingEvent(): Promise<AlertEvent> {
  const dir = await mkdtemp(join(tmpdir(), 'mailhealth-slack-'));
  try {
    const [event] = await recordRound(round('critical', at(0)), {
      store: createFileStore({ dir, now: () => T0 }),
      clock: () => new Date(T0),
      random: countingRandom(),
      config: { failureThreshold: 1, recoveryThreshold: 1, reminderMinutes: 0 },
    });
    if (!event) throw new Error('an alert was expected');
    return event;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A sleep that records the delay asked for and returns at once. */
function recordingSleep() {
  const delays: number[] = [];
  return { delays, sleep: async (ms: number) => void delays.push(ms) };
}

describe('createSlackNotifier', () => {
  let slack: HttpCapture | undefined;
  let ses: SesLocalHandle | undefined;
  afterEach(async () => {
    await slack?.close();
    await ses?.close();
    slack = undefined;
    ses = undefined;
  });

  it('waits as long as Retry-After says after a 429, then posts the Block Kit message', async () => {
    // Prepare
    slack = await startHttpCapture((_req, i) => (i === 0 ? { status: 429, headers: { 'retry-after': '1' }, body: 'rate_limited' } : { status: 200, body: 'ok' }));
    const { delays, sleep } = recordingSleep();
    const message = formatSlack(await failingEvent(), 'ja');

    // Act
    await createSlackNotifier({ url: slack.url + WEBHOOK_PATH, sleep }).send(message);

    // Assess
    expect(delays).toEqual([1000]);
    expect(slack.requests).toHaveLength(2);
    const posted = slack.requests[1]!;
    expect(posted.method).toBe('POST');
    expect(posted.path).toBe(WEBHOOK_PATH);
    expect(posted.headers['content-type']).toBe('application/json');
    expect(posted.json<SlackMessage>()).toEqual({ text: message.text, blocks: message.blocks });
  });

  it('really waits for Retry-After with the default sleep', async () => {
    // Prepare
    slack = await startHttpCapture((_req, i) => (i === 0 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 200, body: 'ok' }));

    // Act
    await createSlackNotifier({ url: slack.url + WEBHOOK_PATH }).send({ text: 'hello', blocks: [] });

    // Assess: a lower bound only; how fast it goes is not this test's business
    expect(slack.requests[1]!.receivedAt - slack.requests[0]!.receivedAt).toBeGreaterThanOrEqual(950);
  });

  it('caps a long Retry-After and backs off exponentially without one', async () => {
    // Prepare
    slack = await startHttpCapture((_req, i) =>
      i === 0 ? { status: 429, headers: { 'retry-after': '3600' } } : i < 3 ? { status: 503 } : { status: 200, body: 'ok' },
    );
    const { delays, sleep } = recordingSleep();

    // Act
    await createSlackNotifier({ url: slack.url + WEBHOOK_PATH, sleep, baseDelayMs: 100, maxDelayMs: 5000 }).send({ text: 'x', blocks: [] });

    // Assess
    expect(delays).toEqual([5000, 200, 400]);
  });

  it('gives up after its retries on 500 while the email still goes out', async () => {
    // Prepare
    slack = await startHttpCapture(() => ({ status: 500, body: 'internal_error' }));
    ses = await startSesLocal();
    const { sleep } = recordingSleep();
    const notifiers = [
      createSlackNotifier({ url: slack.url + WEBHOOK_PATH, retries: 2, sleep }),
      createSesEmailNotifier({ client: ses.client, from: 'monitor@example.jp', to: ['owner@example.jp'] }),
    ];

    // Act
    const outcomes = await deliverAlert(await failingEvent(), notifiers, 'en');

    // Assess
    expect(slack.requests).toHaveLength(3);
    expect(outcomes).toEqual([
      { channel: 'slack', ok: false, error: 'Slack answered HTTP 500 (internal_error) after 3 attempts' },
      { channel: 'email', ok: true },
    ]);
    const [mail] = await ses.emails();
    expect(mail?.subject).toBe('[mail-health] FAILING shop: AUTH_FAILED @ AUTH');
  });

  it('does not retry a webhook that Slack no longer knows', async () => {
    slack = await startHttpCapture(() => ({ status: 404, body: 'no_service' }));
    const error = await createSlackNotifier({ url: slack.url + WEBHOOK_PATH, sleep: recordingSleep().sleep })
      .send({ text: 'x', blocks: [] })
      .catch((e: unknown) => e as Error);
    expect(slack.requests).toHaveLength(1);
    expect(error?.message).toBe('Slack answered HTTP 404 (no_service)');
  });

  it('never puts the webhook URL in an error', async () => {
    // Prepare: a port nothing listens on
    const closed = await startHttpCapture();
    const url = closed.url + WEBHOOK_PATH;
    await closed.close();

    // Act
    const error = await createSlackNotifier({ url, retries: 1, sleep: recordingSleep().sleep })
      .send({ text: 'x', blocks: [] })
      .catch((e: unknown) => e as Error);

    // Assess
    expect(error).toBeInstanceOf(Error);
    expect(error?.message).toMatch(/Slack webhook request failed/);
    expect(error?.message).not.toContain('not-a-real-secret-token');
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    expect(retryAfterMs('2')).toBe(2000);
    expect(retryAfterMs('Mon, 05 Jan 2026 00:00:30 GMT', T0)).toBe(30_000);
    expect(retryAfterMs('soon')).toBeNull();
    expect(retryAfterMs(null)).toBeNull();
  });
});

describe('Slack alerts of a failing and healing target', () => {
  let slack: HttpCapture;
  let dir: string;
  beforeEach(async () => {
    slack = await startHttpCapture();
    dir = await mkdtemp(join(tmpdir(), 'mailhealth-e2e-'));
  });
  afterEach(async () => {
    await slack.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('posts exactly one alert for three failing runs and one recovery for two healthy runs', async () => {
    // Prepare: each run is a new process on the same state directory
    const runs: Status[] = ['critical', 'critical', 'critical', 'ok', 'ok'];
    const posted: number[] = [];

    // Act
    for (const [i, status] of runs.entries()) {
      const store: Store = createFileStore({ dir, now: () => T0 + i * 300_000 });
      const clock = () => new Date(T0 + i * 300_000 + 10_000);
      const events = await recordRound(round(status, at(i * 5), { canaryId: canaryAt(i * 5) }), {
        store,
        clock,
        random: countingRandom(),
        config: { failureThreshold: 2, recoveryThreshold: 2, reminderMinutes: 60 },
      });
      for (const e of events) await deliverAlert(e, [createSlackNotifier({ url: slack.url + WEBHOOK_PATH })], 'en', { store, clock });
      posted.push(slack.requests.length);
    }

    // Assess
    expect(posted).toEqual([0, 1, 1, 1, 2]);
    const [failure, recovery] = slack.requests.map((r) => r.json<SlackMessage>());
    expect(failure?.text).toContain('Mail sending is failing: shop');
    expect(recovery?.text).toContain('Recovered: shop');
  });
});
