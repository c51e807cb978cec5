/**
 * The local alert outbox against a Slack stand-in on 127.0.0.1 (a real HTTP server answering
 * like an incoming webhook, 429 with Retry-After included): pace, priority, retries, restarts.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createFileStore } from '#adapters/file-store.ts';
import { createSlackNotifier } from '#adapters/slack-webhook.ts';
import type { AlertEvent, BounceAlert } from '#core/alert/event.ts';
import type { Notifier } from '#core/ports.ts';
import { fixedChannels } from '#local/alerting.ts';
import { createOutbox, type Outbox, type OutboxReport } from '#local/outbox.ts';
import { at, bounced, canaryAt, mailboxFull, round, T0 } from '../helpers/alert-fixtures.ts';
import { startHttpCapture, type HttpCapture } from '../helpers/http-capture.ts';

const dirs: string[] = [];
const captures: HttpCapture[] = [];
const outboxes: Outbox[] = [];

afterEach(async () => {
  for (const o of outboxes.splice(0)) await o.stop();
  for (const c of captures.splice(0)) await c.close();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function slackStandIn(reply?: Parameters<typeof startHttpCapture>[0]): Promise<{ slack: HttpCapture; notifier: Notifier }> {
  const slack = await startHttpCapture(reply);
  captures.push(slack);
  return { slack, notifier: createSlackNotifier({ url: `${slack.url}/services/T/B/X`, retries: 0, timeoutMs: 2_000 }) };
}

async function outboxOn(notifiers: Notifier[], options: { dir?: string; paceMs?: number; maxAttempts?: number } = {}) {
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'mh-outbox-')));
  if (!options.dir) dirs.push(dir);
  const store = createFileStore({ dir, now: () => T0 });
  const reports: OutboxReport[] = [];
  const outbox = createOutbox({
    dir: join(dir, 'outbox'),
    store,
    channels: fixedChannels(notifiers, 'en'),
    clock: () => new Date(T0),
    paceMs: { slack: options.paceMs ?? 1000 },
    ...(options.maxAttempts !== undefined ? { maxAttempts: options.maxAttempts } : {}),
    report: (r) => reports.push(r),
  });
  outboxes.push(outbox);
  return { dir, store, outbox, reports };
}

function bounceAlert(n: number): BounceAlert {
  const recipient = bounced({ recipient: `user${n}@example.jp`, canaryId: null });
  return { kind: 'bounce', key: `bounce#unmatched:${n}#user${n}@example.jp`, incidentId: `I${n}`, target: 'shop', at: at(n), startedAt: at(n), status: 'warning', findings: [{ ...mailboxFull, recipient: recipient.recipient }], canaryId: null, bounce: recipient };
}

function failingAlert(): AlertEvent {
  const r = round('critical', at(10), { canaryId: canaryAt(10) });
  return { kind: 'failing', key: 'failing#shop#X', incidentId: 'F', target: 'shop', at: at(10), startedAt: at(5), status: 'critical', findings: r.findings, canaryId: r.canaryId, failedStep: 'auth', steps: r.steps, durationMs: 0 };
}

const titles = (slack: HttpCapture) => slack.requests.map((r) => r.json<{ text: string }>().text.split('\n')[0]);

describe('the alert outbox', () => {
  it('posts to Slack at most once a second, and waits for the Retry-After of a 429', async () => {
    // Prepare: the webhook refuses the first post with 429 and Retry-After: 2.
    const { slack, notifier } = await slackStandIn((_req, i) => (i === 0 ? { status: 429, headers: { 'retry-after': '2' }, body: 'rate_limited' } : { status: 200, body: 'ok' }));
    const { outbox, store, reports } = await outboxOn([notifier]);

    // Act
    await outbox.enqueue([bounceAlert(1), bounceAlert(2), bounceAlert(3)]);
    outbox.start();
    const left = await outbox.settle({ maxMs: 15_000 });

    // Assess: 4 posts (one refused), each alert delivered once, none sooner than the pace or the Retry-After.
    expect(left).toBe(0);
    expect(slack.requests).toHaveLength(4);
    const gaps = slack.requests.slice(1).map((r, i) => r.receivedAt - slack.requests[i]!.receivedAt);
    expect(gaps[0]).toBeGreaterThanOrEqual(1_900);
    for (const gap of gaps.slice(1)) expect(gap).toBeGreaterThanOrEqual(950);
    expect(new Set(titles(slack).slice(1)).size).toBe(3);
    expect(reports.filter((r) => r.kind === 'retry')).toMatchObject([{ destination: { channel: 'slack' }, error: expect.stringMatching(/HTTP 429/) }]);
    expect(reports.filter((r) => r.kind === 'delivered')).toHaveLength(3);
    const sent = { channel: 'slack', ok: true, destination: 'slack', route: null };
    expect((await store.listAlerts('shop', 10)).map((a) => a.outcomes)).toEqual([[sent], [sent], [sent]]);
  });

  it('sends a canary health alert before the bounce alerts queued ahead of it', async () => {
    // Prepare: six bounce alerts wait; then the canary starts failing.
    const { slack, notifier } = await slackStandIn();
    const { outbox } = await outboxOn([notifier], { paceMs: 300 });
    await outbox.enqueue([1, 2, 3, 4, 5, 6].map(bounceAlert));
    outbox.start();
    await slack.waitFor(1, 5_000);

    // Act
    await outbox.enqueue([failingAlert()]);
    await outbox.settle({ maxMs: 10_000 });

    // Assess: at most the post in flight went before it.
    expect(titles(slack).findIndex((t) => t?.includes('Mail sending is failing'))).toBeLessThanOrEqual(2);
    expect(slack.requests).toHaveLength(7);
  });

  it('keeps what it could not send across a restart, and sends it once', async () => {
    // Prepare: a first process queues two alerts and stops before its channel answers.
    const { slack, notifier } = await slackStandIn();
    const first = await outboxOn([notifier]);
    await first.outbox.enqueue([bounceAlert(1), failingAlert()]);
    await first.outbox.enqueue([bounceAlert(1)]);

    // Act: a second process on the same state directory.
    const second = await outboxOn([notifier], { dir: first.dir });
    second.outbox.start();
    const left = await second.outbox.settle({ maxMs: 10_000 });

    // Assess
    expect(left).toBe(0);
    expect(titles(slack)).toHaveLength(2);
    expect(titles(slack)[0]).toContain('Mail sending is failing');
    expect(await readdir(join(first.dir, 'outbox'))).toEqual([]);
  });

  it('gives up after its attempts on a server error, and at once when retrying cannot help; both are recorded', async () => {
    // Prepare: one webhook answers 500 always, the alert of the other is refused as malformed (400).
    const { slack, notifier } = await slackStandIn((req) => (req.body.includes('user2@') ? { status: 400, body: 'invalid_blocks' } : { status: 500, body: 'oops' }));
    const { outbox, store } = await outboxOn([notifier], { paceMs: 10, maxAttempts: 3 });

    // Act
    await outbox.enqueue([bounceAlert(1), bounceAlert(2)]);
    outbox.start();
    await outbox.settle({ maxMs: 20_000 });

    // Assess: 3 tries for the 500s (2 s, then 4 s apart), 1 for the 400.
    expect(slack.requests.filter((r) => r.body.includes('user1@'))).toHaveLength(3);
    expect(slack.requests.filter((r) => r.body.includes('user2@'))).toHaveLength(1);
    const outcomes = (await store.listAlerts('shop', 10)).map((a) => a.outcomes[0]);
    expect(outcomes).toEqual(
      expect.arrayContaining([
        { channel: 'slack', ok: false, error: expect.stringMatching(/HTTP 500/), destination: 'slack', route: null },
        { channel: 'slack', ok: false, error: expect.stringMatching(/HTTP 400/), destination: 'slack', route: null },
      ]),
    );
  }, 30_000);

  it('groups the health alerts ready together into one post, retries that post as one, and records each alert', async () => {
    // Prepare: the webhook fails the first post with a 500; five targets fail at once, a bounce waits too.
    const { slack, notifier } = await slackStandIn((_req, i) => (i === 0 ? { status: 500, body: 'oops' } : { status: 200, body: 'ok' }));
    const { outbox, store, reports } = await outboxOn([notifier], { paceMs: 100 });
    const targets = ['a', 'b', 'c', 'd', 'e'];

    // Act
    await outbox.enqueue([bounceAlert(1), ...targets.map((t) => ({ ...failingAlert(), key: `failing#${t}`, target: t }))]);
    outbox.start();
    expect(await outbox.settle({ maxMs: 15_000 })).toBe(0);

    // Assess: the group, refused; the bounce while the group waits for its retry; the group again, 2 s after the first try.
    expect(titles(slack)).toEqual(['🔴 Mail sending is failing: 5 targets', expect.stringContaining('bounced'), '🔴 Mail sending is failing: 5 targets']);
    expect(slack.requests[2]!.receivedAt - slack.requests[0]!.receivedAt).toBeGreaterThanOrEqual(1_900);
    const retried = reports.flatMap((r) => (r.kind === 'retry' ? [r.events.map((e) => e.target).sort()] : []));
    expect(retried).toEqual([targets]);
    for (const t of targets) expect((await store.listAlerts(t, 5)).map((a) => a.outcomes)).toEqual([[{ channel: 'slack', ok: true, destination: 'slack', route: null }]]);
  });

  it('records an alert at once when no channel is configured', async () => {
    const { outbox, store, reports } = await outboxOn([]);
    outbox.start();
    await outbox.enqueue([bounceAlert(1)]);
    expect(await outbox.settle({ maxMs: 5_000 })).toBe(0);
    expect(reports).toMatchObject([{ kind: 'delivered', outcomes: [] }]);
    expect(await store.listAlerts('shop', 10)).toHaveLength(1);
  });
});
