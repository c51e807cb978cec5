/**
 * Inbox placement through the local loop: a provider on 127.0.0.1 (the demo's, STARTTLS and
 * AUTH) whose accepted canaries are filed into a seed mailbox (a real IMAP server over TLS) by a
 * switch the test turns: into the spam folder, the inbox, or nowhere. Time moves five minutes a
 * round (the delivery timeout needs minutes to pass); the rounds themselves run for real.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createImapSeedReader } from '#adapters/imap-seed.ts';
import type { AlertEvent } from '#core/alert/event.ts';
import { parseConfig } from '#core/config.ts';
import type { Notifier } from '#core/ports.ts';
import { startDemoProvider, type DemoProvider } from '#local/demo/provider.ts';
import { startSeedMailbox, type SeedMailbox } from '#local/demo/seed-mailbox.ts';
import { createLocalRuntime, type LocalRuntime, type LoopEvent } from '#local/loop.ts';
import { fleetRows } from '#local/cli/status.ts';
import { writeReportFile } from '#local/report/write.ts';
import { readFile } from 'node:fs/promises';

const SEED = 'shop.seed@seed.test';
const SEED_PASSWORD = 'seed-app-password';
const OTHER = 'From: friend@example.org\r\nSubject: lunch?\r\nMessage-ID: <lunch@example.org>\r\n\r\nSee you at noon.\r\n';
const T0 = Date.parse('2026-01-05T08:00:00.000Z');
const ROUND_MS = 5 * 60_000;

describe('inbox placement in the local loop', () => {
  let provider: DemoProvider;
  let box: SeedMailbox;
  let runtime: LocalRuntime;
  let dir: string;
  let mode: 'junk' | 'inbox' | 'drop' = 'junk';
  let nowMs = T0;
  const alerts: AlertEvent[] = [];
  const events: LoopEvent[] = [];
  const statuses: string[] = [];
  const codes: string[][] = [];

  beforeAll(async () => {
    // Prepare: the provider files what it accepts for the seed by `mode`; the seed has a message of its own.
    box = await startSeedMailbox({ user: SEED, password: SEED_PASSWORD, messages: { INBOX: [OTHER] }, tls: undefined });
    provider = await startDemoProvider({
      to: ['owner@example.jp'],
      onMessage(m) {
        if (!m.to.includes(SEED) || mode === 'drop') return;
        const stamped = `Authentication-Results: mx.seed.test; spf=pass smtp.mailfrom=example.jp; dkim=pass header.d=example.jp; dmarc=pass header.from=example.jp\r\nReceived: from smtp.demo.mail-health.test ([127.0.0.1]) by mx.seed.test; ${new Date(nowMs + 3_000).toUTCString()}\r\n${m.raw.toString('latin1')}`;
        box.file(stamped, mode === 'junk' ? box.junkPath : 'INBOX');
      },
    });
    const leaf = provider.ca.issue({ hosts: ['imap.seed.test', '127.0.0.1'] });
    const tlsBox = await startSeedMailbox({ user: SEED, password: SEED_PASSWORD, messages: { INBOX: [OTHER] }, tls: leaf });
    await box.close();
    box = tlsBox;
    dir = await mkdtemp(join(tmpdir(), 'mh-placement-'));
    const config = parseConfig({
      language: 'en',
      bounceDomain: 'bounces.example.jp',
      targets: [{ ...provider.target, name: 'shop', auth: { user: provider.target.auth!.user, passwordEnv: 'UNUSED' }, probePorts: [], seeds: ['seed', 'broken'] }],
      seeds: [
        { name: 'seed', address: SEED, imap: { host: '127.0.0.1', port: box.port, servername: 'imap.seed.test', auth: { user: SEED, passwordEnv: 'UNUSED' }, timeoutMs: 3_000 } },
        { name: 'broken', address: 'old.seed@seed.test', imap: { host: '127.0.0.1', port: box.port, servername: 'imap.seed.test', auth: { user: 'old.seed@seed.test', passwordEnv: 'UNUSED' }, timeoutMs: 3_000 } },
      ],
    });
    const capture: Notifier = { channel: 'slack', send: async () => undefined };
    runtime = await createLocalRuntime({
      config,
      stateDir: dir,
      notifiers: [capture],
      secrets: { shop: { password: provider.password, ca: provider.caPem } },
      portOverrides: provider.ports,
      report: (e) => {
        events.push(e);
        if (e.kind === 'alert') alerts.push(e.event);
      },
      clock: () => new Date(nowMs),
      storeNow: () => nowMs,
      alertPaceMs: { slack: 0 },
      reportPath: null,
      seedReader: createImapSeedReader({
        // The 'broken' seed's app password was revoked: its login is refused every time.
        credentials: async (seed) => ({ user: seed.imap.auth.user, password: seed.name === 'seed' ? SEED_PASSWORD : 'revoked' }),
        ca: async () => provider.caPem,
      }),
    });
    // Act: rounds 1–2 file into spam, 3–6 into the inbox, 7–12 nowhere, 13–15 into the inbox again.
    for (let round = 1; round <= 15; round++) {
      mode = round <= 2 ? 'junk' : round <= 6 ? 'inbox' : round <= 12 ? 'drop' : 'inbox';
      const summary = await runtime.runRound();
      await runtime.outbox.settle({ maxMs: 5_000 });
      statuses.push(summary.status);
      codes.push(summary.results[0]!.findings.map((f) => f.code).filter((c) => c.startsWith('PLACEMENT') || c === 'SEED_LOGIN_FAILED'));
      nowMs += ROUND_MS;
    }
    // The last round's canary is read while draining, like `run --rounds N` does.
    await runtime.awaitReturns({ maxMs: 10_000 });
  }, 120_000);

  afterAll(async () => {
    await runtime?.close();
    await Promise.all([provider?.close(), box?.close()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('reads each canary in the next round: spam raises PLACEMENT_SPAM until a canary lands in the inbox', () => {
    expect(codes.slice(0, 5)).toEqual([[], ['PLACEMENT_SPAM'], ['PLACEMENT_SPAM'], [], []]);
    expect(statuses.slice(0, 5)).toEqual(['ok', 'critical', 'critical', 'ok', 'ok']);
  });

  it('calls a canary missing once the delivery timeout passed, and recovers with the next one in the inbox', () => {
    // Round 7's canary is dropped: sent just after minute 30, still pending at minute 45 (round 10), missing at 50.
    expect(codes.slice(6, 10)).toEqual([[], [], [], []]);
    expect(codes.slice(10, 13)).toEqual([['PLACEMENT_MISSING'], ['PLACEMENT_MISSING'], ['PLACEMENT_MISSING']]);
    expect(codes.slice(13)).toEqual([[], []]);
  });

  it('alerts once per incident and once per recovery', () => {
    const health = alerts.filter((a) => a.kind !== 'seed').map((a) => `${a.kind}:${a.findings[0]?.code ?? '-'}`);
    expect(health).toEqual(['failing:PLACEMENT_SPAM', 'recovered:-', 'failing:PLACEMENT_MISSING', 'recovered:-']);
  });

  it('warns once that the seed with the revoked password cannot be read, and never lets it move the health state', () => {
    const seedAlerts = alerts.filter((a) => a.kind === 'seed');
    expect(seedAlerts.map((a) => [a.kind === 'seed' && a.phase, a.findings.map((f) => f.code)])).toEqual([['failing', ['SEED_LOGIN_FAILED']]]);
    expect(seedAlerts[0]).toMatchObject({ seed: 'broken', targets: ['shop'], status: 'warning' });
    expect(codes.flat()).not.toContain('SEED_LOGIN_FAILED');
  });

  it('leaves no canary in the seed, and the seed\'s own mail untouched', () => {
    expect(box.messages('INBOX').map((m) => [m.raw, m.flags])).toEqual([[OTHER, []]]);
    expect(box.messages(box.junkPath)).toEqual([]);
  });

  it('shows the placement in the fleet view of status and the report', async () => {
    const [row] = await fleetRows(runtime.store, { now: new Date(nowMs), deliveryTimeoutMinutes: 15 });
    expect(row?.placement).toEqual({ status: 'warning', summary: '1/2 inbox · unreadable: broken' });
  });

  it('draws the seeds × canaries grid in the report, newest first', async () => {
    const path = join(dir, 'report.html');
    await writeReportFile(runtime.store, path, { language: 'en', stateDir: dir, now: new Date(nowMs) });
    const html = await readFile(path, 'utf8');
    const section = html.slice(html.indexOf('<section id="placement">'));
    expect(section).toContain('<h2>Inbox placement (seeds)</h2>');
    const table = section.slice(section.indexOf('<table data-target="shop">'), section.indexOf('</table>'));
    // Rows: broken, seed; columns: the 12 newest canaries, the newest (round 15's, read while draining) first.
    const seedRow = table.slice(table.indexOf('<tr><td>seed</td>'));
    const cells = [...seedRow.matchAll(/tone-(\w+)">([^<]+)</g)].map((m) => m[2]).slice(0, 12);
    expect(cells).toEqual(['inbox', 'inbox', 'inbox', 'missing', 'missing', 'missing', 'missing', 'missing', 'missing', 'inbox', 'inbox', 'inbox']);
    expect(table).toContain('title="INBOX · mx.seed.test: spf=pass dkim=pass dmarc=pass"');
    expect(table.slice(table.indexOf('<tr><td>broken</td>'))).toContain('unreadable');
  });

  it('tells what each read found', () => {
    const placed = events.flatMap((e) => (e.kind === 'placement' ? e.records.map((r) => `${r.seed}:${r.verdict}`) : []));
    expect(placed.filter((p) => p.startsWith('seed:')).slice(0, 4)).toEqual(['seed:spam', 'seed:spam', 'seed:inbox', 'seed:inbox']);
    // The revoked seed's canaries end up unreadable (never read), not missing.
    expect(placed.filter((p) => p.startsWith('broken:'))).not.toContain('broken:missing');
    expect(placed).toContain('broken:unreadable');
    // The seed that cannot be read is told once, when it starts failing.
    const unreadable = events.flatMap((e) => (e.kind === 'placement' ? e.unreadable : []));
    expect(unreadable).toEqual([{ seed: 'broken', error: expect.stringMatching(/^auth: /) }]);
  });
});
