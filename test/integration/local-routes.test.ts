/**
 * Alert routes in the local runtime, with real parts: a provider (smtp-server with STARTTLS and
 * AUTH) whose password check the test turns off and on, Slack webhooks as HTTP servers on
 * 127.0.0.1 (one post a second each), SES as aws-ses-v2-local, the file store in a temporary
 * state directory. Each alert must reach its route only, in its language, at each webhook's pace.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createFileStore } from '#adapters/file-store.ts';
import type { AlertEvent, BounceAlert, HealthAlert } from '#core/alert/event.ts';
import type { SlackMessage } from '#core/alert/slack.ts';
import { parseConfig, type ConfigInput } from '#core/config.ts';
import { alertChannelsLine, localAlertChannels } from '#local/alerting.ts';
import { createCheckCommand } from '#local/cli/check.ts';
import { createRunCommand } from '#local/cli/run.ts';
import { createLocalRuntime, type LocalRuntime, type LoopEvent } from '#local/loop.ts';
import { createOutbox, type Outbox } from '#local/outbox.ts';
import { at, bounced, canaryAt, mailboxFull, T0 } from '../helpers/alert-fixtures.ts';
import { startHttpCapture, type HttpCapture } from '../helpers/http-capture.ts';
import { startSesLocal, type SesLocalHandle } from '../helpers/ses-local.ts';
import { closeAll, HOST, makePki, PASSWORD, SERVERNAME, smtpError, startSmtpServer, USER, type TestPki } from '../helpers/smtp.ts';

const BOUNCE_DOMAIN = 'bounces.example.jp';
/** A little under Slack's second: timers may fire a few ms early. */
const PACE_FLOOR_MS = 950;

let pki: TestPki;
let ses: SesLocalHandle;
const dirs: string[] = [];
const captures: HttpCapture[] = [];
const runtimes: LocalRuntime[] = [];
const outboxes: Outbox[] = [];

beforeAll(async () => {
  pki = makePki();
  ses = await startSesLocal();
});

afterAll(async () => {
  await ses.close();
});

afterEach(async () => {
  for (const r of runtimes.splice(0)) await r.close({ maxMs: 0 });
  for (const o of outboxes.splice(0)) await o.stop();
  for (const c of captures.splice(0)) await c.close();
  await closeAll();
  await ses.clear();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mh-routes-'));
  dirs.push(dir);
  return dir;
}

async function webhook(): Promise<HttpCapture> {
  const slack = await startHttpCapture();
  captures.push(slack);
  return slack;
}

class Capture extends Writable {
  text = '';
  onText: ((text: string) => void) | null = null;
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void) {
    this.text += chunk.toString('utf8');
    this.onText?.(chunk.toString('utf8'));
    cb();
  }
}

/** A provider whose AUTH fails while `state.failing` is true. */
async function provider(state: { failing: boolean }) {
  return startSmtpServer(pki, {
    onAuth(auth, _session, callback) {
      if (!state.failing && auth.username === USER && auth.password === PASSWORD) return callback(null, { user: USER });
      callback(smtpError(535, '5.7.8 Authentication credentials invalid'));
    },
  });
}

function target(name: string, port: number, route?: string) {
  return {
    name,
    host: HOST,
    port,
    servername: SERVERNAME,
    auth: { user: USER, passwordEnv: 'SMTP_PASSWORD' },
    from: USER,
    to: ['owner@example.jp'],
    probePorts: [],
    timeouts: { connectMs: 5_000, stepMs: 5_000, probeMs: 500 },
    ...(route ? { route } : {}),
  };
}

/**
 * A support desk: its own Slack and email for targets without a route; the shop owner's
 * webhook and email (Japanese), the clinic's webhook (English), and the school's route on
 * the desk's webhook (Japanese).
 */
function deskConfig(port: number): ConfigInput {
  return {
    language: 'en',
    bounceDomain: BOUNCE_DOMAIN,
    targets: [target('shop', port, 'shop-owner'), target('clinic', port, 'clinic-office'), target('school', port, 'school-office'), target('bakery', port)],
    alerts: {
      slack: { webhookUrlEnv: 'DESK_SLACK_URL' },
      email: { from: 'monitor@desk.example.jp', to: ['desk@desk.example.jp'] },
      routes: [
        { name: 'shop-owner', language: 'ja', slack: { webhookUrlEnv: 'SHOP_SLACK_URL' }, email: { to: ['owner@shop.example.jp'] } },
        { name: 'clinic-office', language: 'en', slack: { webhookUrlEnv: 'CLINIC_SLACK_URL' } },
        { name: 'school-office', language: 'ja', slack: { webhookUrlEnv: 'DESK_SLACK_URL' } },
      ],
    },
  };
}

const texts = (slack: HttpCapture) => slack.requests.map((r) => r.json<SlackMessage>().text.split('\n')[0]);
const gaps = (slack: HttpCapture) => slack.requests.slice(1).map((r, i) => r.receivedAt - slack.requests[i]!.receivedAt);

describe('alert routes in the local loop', () => {
  it('sends each alert to its route only, in its language, on Slack and by email; its recovery too', { timeout: 60_000 }, async () => {
    // Prepare: the desk's config, three webhooks, SES, a provider refusing the password.
    const state = { failing: true };
    const server = await provider(state);
    const [desk, shop, clinic] = [await webhook(), await webhook(), await webhook()];
    const config = parseConfig(deskConfig(server.port));
    const env = { DESK_SLACK_URL: `${desk.url}/services/D`, SHOP_SLACK_URL: `${shop.url}/services/S`, CLINIC_SLACK_URL: `${clinic.url}/services/C` };
    const { channels, notes } = await localAlertChannels(config, env, { slackRetries: 0, sesClient: ses.client });
    const stateDir = await tempDir();
    const events: LoopEvent[] = [];
    const runtime = await createLocalRuntime({
      config,
      stateDir,
      channels,
      secrets: Object.fromEntries(config.targets.map((t) => [t.name, { password: PASSWORD, ca: pki.caPem }])),
      report: (e) => events.push(e),
      reportPath: null,
    });
    runtimes.push(runtime);

    // Act: two failing rounds (the alerts), then two good ones (the recoveries).
    await runtime.runRound();
    await runtime.runRound();
    expect(await runtime.outbox.settle({ maxMs: 10_000 })).toBe(0);
    const failingPosts = { desk: texts(desk), shop: texts(shop), clinic: texts(clinic), emails: await ses.emails() };
    state.failing = false;
    await runtime.runRound();
    await runtime.runRound();
    expect(await runtime.outbox.settle({ maxMs: 10_000 })).toBe(0);

    // Assess: every channel could be built; each webhook got its own targets only, in the route's language.
    expect(notes).toEqual([]);
    expect(failingPosts.shop).toEqual(['🔴 メールを送信できません: shop']);
    expect(failingPosts.clinic).toEqual(['🔴 Mail sending is failing: clinic']);
    // The desk's webhook carries the school's route (Japanese) and the bakery (the default channels, English): two posts, a second apart.
    expect(failingPosts.desk.sort()).toEqual(['🔴 Mail sending is failing: bakery', '🔴 メールを送信できません: school']);
    expect(texts(shop)).toEqual(['🔴 メールを送信できません: shop', '✅ 復旧しました: shop']);
    expect(texts(clinic)).toEqual(['🔴 Mail sending is failing: clinic', '✅ Recovered: clinic']);
    expect(texts(desk).slice(2).sort()).toEqual(['✅ Recovered: bakery', '✅ 復旧しました: school']);
    for (const gap of gaps(desk)) expect(gap).toBeGreaterThanOrEqual(PACE_FLOOR_MS);
    // Email: the shop owner's route in Japanese, the desk's own for the bakery; nobody else's.
    const mails = (await ses.emails()).map((m) => [m.destination.to.join(','), m.from, m.subject]);
    expect(mails).toHaveLength(4);
    expect(mails).toEqual(
      expect.arrayContaining([
        ['desk@desk.example.jp', 'monitor@desk.example.jp', '[mail-health] FAILING bakery: AUTH_FAILED @ AUTH'],
        ['desk@desk.example.jp', 'monitor@desk.example.jp', expect.stringMatching(/^\[mail-health\] RECOVERED bakery/)],
        ['owner@shop.example.jp', 'monitor@desk.example.jp', '[mail-health] 障害 shop: AUTH_FAILED @ 認証 (AUTH)'],
        ['owner@shop.example.jp', 'monitor@desk.example.jp', expect.stringMatching(/^\[mail-health\] 復旧 shop/)],
      ]),
    );
    // The history keeps an outcome per destination of the route; the terminal's events name the route.
    const store = createFileStore({ dir: stateDir });
    const [shopRecovered, shopFailing] = await store.listAlerts('shop', 10);
    expect(shopFailing!.outcomes).toEqual([
      { channel: 'slack', ok: true, destination: 'slack@shop-owner', route: 'shop-owner' },
      { channel: 'email', ok: true, destination: 'email@shop-owner', route: 'shop-owner' },
    ]);
    expect(shopRecovered!.event.kind).toBe('recovered');
    const sent = events.flatMap((e) => (e.kind === 'alert-sent' ? [`${e.destination.id} ${e.events.map((x) => `${x.kind}:${x.target}`).join(',')}`] : []));
    expect(sent.sort()).toEqual(
      [
        'slack@shop-owner failing:shop',
        'email@shop-owner failing:shop',
        'slack@clinic-office failing:clinic',
        'slack@school-office failing:school',
        'slack failing:bakery',
        'email failing:bakery',
        'slack@shop-owner recovered:shop',
        'email@shop-owner recovered:shop',
        'slack@clinic-office recovered:clinic',
        'slack@school-office recovered:school',
        'slack recovered:bakery',
        'email recovered:bakery',
      ].sort(),
    );
  });

  it('keeps one post a second per webhook: two routes sharing one wait for each other, another webhook does not wait for them', { timeout: 30_000 }, async () => {
    // Prepare: bounce alerts (each its own post) for the school (desk webhook, its route), the bakery (desk webhook, default) and the shop (own webhook).
    const [desk, shop] = [await webhook(), await webhook()];
    const config = parseConfig(deskConfig(25));
    const { channels } = await localAlertChannels(config, { DESK_SLACK_URL: `${desk.url}/d`, SHOP_SLACK_URL: `${shop.url}/s` }, { slackRetries: 0, sesClient: ses.client });
    const dir = await tempDir();
    // Queue order is the order of queuedAt: a real clock.
    const outbox = createOutbox({ dir: join(dir, 'outbox'), store: createFileStore({ dir }), channels, clock: () => new Date(), report: () => undefined });
    outboxes.push(outbox);

    // Act: the desk's six first, then the shop's three.
    await outbox.enqueue(['school', 'bakery'].flatMap((t) => [1, 2, 3].map((n) => bounceAlert(t, n))));
    await new Promise((r) => setTimeout(r, 10));
    await outbox.enqueue([1, 2, 3].map((n) => bounceAlert('shop', n)));
    outbox.start();
    expect(await outbox.settle({ maxMs: 20_000 })).toBe(0);

    // Assess: six posts on the desk's webhook, a second apart; the shop's three, a second apart, from the start.
    expect(desk.requests).toHaveLength(6);
    expect(shop.requests).toHaveLength(3);
    for (const gap of [...gaps(desk), ...gaps(shop)]) expect(gap).toBeGreaterThanOrEqual(PACE_FLOOR_MS);
    // Sharing the desk's pace, the shop's first post would come seventh, after five seconds; on its own webhook it comes with the desk's first.
    expect(shop.requests[0]!.receivedAt).toBeLessThan(desk.requests[1]!.receivedAt);
    // The shop owner's route speaks Japanese.
    expect(texts(shop).every((t) => t?.includes('宛てのメールが返送されました'))).toBe(true);
  });

  it('delivers outbox files written before routes to their target’s route, without sending again what a channel already sent', { timeout: 30_000 }, async () => {
    // Prepare: two entries as the previous version wrote them (delivery state keyed slack/email).
    const [desk, shop] = [await webhook(), await webhook()];
    const config = parseConfig(deskConfig(25));
    const { channels } = await localAlertChannels(config, { DESK_SLACK_URL: `${desk.url}/d`, SHOP_SLACK_URL: `${shop.url}/s` }, { slackRetries: 0, sesClient: ses.client });
    const dir = await tempDir();
    await mkdir(join(dir, 'outbox'));
    const pending = { state: 'pending', attempts: 0, nextAt: 0 };
    const legacy = async (event: AlertEvent, states: Record<string, unknown>) => {
      const name = `0-${createHash('sha256').update(event.key).digest('hex').slice(0, 32)}.json`;
      await writeFile(join(dir, 'outbox', name), JSON.stringify({ event, queuedAt: at(0), channels: states }));
    };
    await legacy(failingAlert('shop'), { slack: pending, email: pending });
    await legacy(failingAlert('bakery'), { slack: { state: 'sent', attempts: 1, nextAt: 0 }, email: pending });

    // Act: the new version starts on that state directory.
    const store = createFileStore({ dir });
    const outbox = createOutbox({ dir: join(dir, 'outbox'), store, channels, clock: () => new Date(T0), report: () => undefined });
    outboxes.push(outbox);
    outbox.start();
    expect(await outbox.settle({ maxMs: 10_000 })).toBe(0);

    // Assess: the shop's alert went to the shop owner in Japanese; the bakery's Slack was not posted again, its email went.
    expect(texts(shop)).toEqual(['🔴 メールを送信できません: shop']);
    expect(desk.requests).toHaveLength(0);
    expect((await ses.emails()).map((m) => m.destination.to[0]).sort()).toEqual(['desk@desk.example.jp', 'owner@shop.example.jp']);
    expect((await store.listAlerts('bakery', 5))[0]!.outcomes).toEqual([
      { channel: 'slack', ok: true, destination: 'slack', route: null },
      { channel: 'email', ok: true, destination: 'email', route: null },
    ]);
    expect(await readdir(join(dir, 'outbox'))).toEqual([]);
  });
});

describe('localAlertChannels', () => {
  it('skips a webhook whose variable is unset, saying which routes wait for it, and keeps their email', async () => {
    // Prepare: the desk's variable set, the shop's and the clinic's not.
    const config = parseConfig(deskConfig(25));

    // Act
    const setup = await localAlertChannels(config, { DESK_SLACK_URL: 'https://hooks.slack.invalid/d' }, { sesClient: ses.client });
    const { channels, notes } = setup;

    // Assess
    expect(notes).toEqual(['Slack alerts of route shop-owner off: set SHOP_SLACK_URL to the webhook URL', 'Slack alerts of route clinic-office off: set CLINIC_SLACK_URL to the webhook URL']);
    expect(channels.live.map((d) => d.id)).toEqual(['slack', 'email', 'email@shop-owner', 'slack@school-office']);
    expect(channels.routeOf(failingAlert('shop')).destinations.map((d) => d.id)).toEqual(['email@shop-owner']);
    expect(channels.routeOf(failingAlert('clinic'))).toMatchObject({ name: 'clinic-office', language: 'en', destinations: [] });
    // The line a run starts with names each route, its language and what of it is live.
    expect(alertChannelsLine(setup)).toBe(
      'alerts: Slack (env DESK_SLACK_URL); email through SES in us-east-1 as monitor@desk.example.jp to desk@desk.example.jp · routes: shop-owner (ja): email to owner@shop.example.jp; clinic-office (en): no channel is live; school-office (ja): Slack (env DESK_SLACK_URL)',
    );
  });
});

describe('mailhealth check --state with routes', () => {
  it("delivers a round's alerts per route at once: one post per route, the targets of one route together", { timeout: 60_000 }, async () => {
    // Prepare: the desk with three more targets on its own channels (the default route).
    const server = await provider({ failing: true });
    const [desk, shop, clinic] = [await webhook(), await webhook(), await webhook()];
    const dir = await tempDir();
    const input = deskConfig(server.port);
    const targets = [...input.targets, ...['florist', 'dentist'].map((n) => target(n, server.port))].map((t) => ({ ...t, ca: 'ca.pem' }));
    // Slack only: the email of routes is the first test's.
    const { email: _email, ...slackOnly } = input.alerts!;
    await writeFile(join(dir, 'config.json'), JSON.stringify({ ...input, targets, alerts: { ...slackOnly, routes: slackOnly.routes!.map(({ email: _e, ...r }) => r) } }));
    await writeFile(join(dir, 'ca.pem'), pki.caPem);
    const env = { SMTP_PASSWORD: PASSWORD, DESK_SLACK_URL: `${desk.url}/d`, SHOP_SLACK_URL: `${shop.url}/s`, CLINIC_SLACK_URL: `${clinic.url}/c`, LANG: 'C' };
    const check = async () => {
      const err = new Capture();
      const code = await createCheckCommand({})(['--config', join(dir, 'config.json'), '--state', join(dir, 'state'), '--json'], { stdout: new Capture(), stderr: err, env, cwd: dir });
      return { code, err: err.text };
    };

    // Act: two failing checks (failureThreshold 2).
    await check();
    const second = await check();

    // Assess: the shop and the clinic each on their own webhook; the desk's webhook has the school (Japanese) alone and the three default targets in one post.
    expect(texts(shop)).toEqual(['🔴 メールを送信できません: shop']);
    expect(texts(clinic)).toEqual(['🔴 Mail sending is failing: clinic']);
    expect(texts(desk).sort()).toEqual(['🔴 Mail sending is failing: 3 targets', '🔴 メールを送信できません: school']);
    const grouped = JSON.stringify(desk.requests.map((r) => r.json<SlackMessage>()).find((m) => m.text.includes('3 targets'))!.blocks);
    for (const name of ['bakery', 'florist', 'dentist']) expect(grouped).toContain(`• ${name} · `);
    expect(gaps(desk)[0]).toBeGreaterThanOrEqual(PACE_FLOOR_MS);
    expect(second.err).toContain('mailhealth: alert failing for shop → Slack (route shop-owner)');
    expect(second.err).toContain('mailhealth: alert failing ×3 for bakery, florist, dentist → Slack, 3 alerts in one post');
  });
});

describe('many targets failing at once (a shared provider down)', () => {
  const TARGETS = 100;

  it('posts a few grouped alerts instead of one per target, reports every recovery, and leaves no backlog when the run ends', { timeout: 180_000 }, async () => {
    // Prepare: 100 targets on one provider whose AUTH fails in round 1; one Slack webhook.
    const state = { failing: true };
    const server = await provider(state);
    const slack = await webhook();
    const dir = await tempDir();
    await writeFile(join(dir, 'ca.pem'), pki.caPem);
    const names = Array.from({ length: TARGETS }, (_, i) => `customer-${String(i).padStart(3, '0')}`);
    await writeFile(
      join(dir, 'config.json'),
      JSON.stringify({
        language: 'en',
        bounceDomain: BOUNCE_DOMAIN,
        // A hundred sessions at once on a shared test machine are slow: that is the monitor, not the provider.
        targets: names.map((n) => ({ ...target(n, server.port), ca: 'ca.pem', slowStepMs: 60_000, timeouts: { connectMs: 30_000, stepMs: 30_000, probeMs: 500 } })),
        // One bad round fails a target and one good round recovers it: two rounds tell the story.
        alerts: { failureThreshold: 1, recoveryThreshold: 1, slack: { webhookUrlEnv: 'SLACK_WEBHOOK_URL' } },
      }),
    );
    const out = new Capture();
    // The provider comes back when round 2 starts (the line is printed before its canaries go).
    out.onText = (text) => {
      if (/── round 2 /.test(text)) state.failing = false;
    };

    // Act: two rounds a second apart, no waiting for returns; the command ends as a cron job's would.
    const code = await createRunCommand()(['--config', join(dir, 'config.json'), '--state', join(dir, 'state'), '--rounds', '2', '--interval', '1', '--drain', '0'], {
      stdout: out,
      stderr: new Capture(),
      env: { SMTP_PASSWORD: PASSWORD, SLACK_WEBHOOK_URL: `${slack.url}/services/T/B/X`, LANG: 'C' },
      cwd: dir,
    });

    // Assess: 200 alerts in about 8 posts (25 a post; a post may mix the last failing alerts with the first recoveries
    // when the machine is slow), a second apart; every target named once failing and once recovered.
    expect(code).toBe(0);
    const messages = slack.requests.map((r) => r.json<SlackMessage>());
    const seen = messages.map((m) => m.text.split('\n')[0]).join(' | ');
    expect(messages.length, seen).toBeGreaterThanOrEqual(8);
    expect(messages.length, seen).toBeLessThanOrEqual(10);
    expect(messages.filter((m) => m.text.startsWith('🔴 Mail sending is failing: 25 targets')).length, seen).toBeGreaterThanOrEqual(3);
    const blocks = messages.map((m) => JSON.stringify(m.blocks)).join('\n');
    for (const name of names) {
      expect(blocks.split(`• ${name} · AUTH_FAILED @ AUTH · since `).length - 1, name).toBe(1);
      expect(blocks.split(`• ${name} · recovered `).length - 1, name).toBe(1);
    }
    for (const gap of gaps(slack)) expect(gap).toBeGreaterThanOrEqual(PACE_FLOOR_MS);
    // Nothing left for the next start.
    expect((await readdir(join(dir, 'state', 'outbox'))).filter((n) => n.endsWith('.json'))).toEqual([]);
    expect(out.text).not.toContain('still wait in the outbox');
    expect(out.text).toMatch(/alert → Slack: 🔴 Mail sending is failing: 25 targets \(customer-\d{3}, customer-\d{3}, .* and 15 more\)/);
  });
});

function failingAlert(targetName: string): HealthAlert {
  return {
    kind: 'failing',
    key: `failing#${targetName}#X`,
    incidentId: `I-${targetName}`,
    target: targetName,
    at: at(10),
    startedAt: at(5),
    status: 'critical',
    findings: [
      {
        code: 'AUTH_FAILED',
        severity: 'critical',
        step: 'auth',
        message: { en: 'The server refused the user name or password.', ja: 'サーバーがユーザー名またはパスワードを拒否しました。' },
        remedy: { en: 'Check the SMTP password.', ja: 'SMTP パスワードを確認してください。' },
      },
    ],
    canaryId: canaryAt(10),
    failedStep: 'auth',
    steps: [],
    durationMs: 0,
  };
}

function bounceAlert(targetName: string, n: number): BounceAlert {
  const recipient = bounced({ recipient: `user${n}@example.jp`, canaryId: null });
  return { kind: 'bounce', key: `bounce#${targetName}#${n}`, incidentId: `B${n}`, target: targetName, at: at(n), startedAt: at(n), status: 'warning', findings: [{ ...mailboxFull, recipient: recipient.recipient }], canaryId: null, bounce: recipient };
}
