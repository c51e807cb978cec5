/**
 * The HTML report in a real browser: a history made by a real loop run (the demo world, four
 * rounds), and an agency's fleet of 500 targets with a day of five-minute rounds (real round
 * results against the fleet's smtp-server as templates, test/helpers/fleet-state.ts); each
 * report opened in headless Chromium from the file. The page must render with no console error
 * and no request beyond the file itself, open on the failing targets, find and filter, open a
 * target's details in one click and draw its charts. Screenshots go to artifacts/report.png,
 * report-ja.png and report-fleet.png; artifacts/ is ignored by git. Skipped, saying why, only
 * where Chromium is missing.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '#core/config.ts';
import { checkConfig } from '#local/cli/check.ts';
import type { CliIO } from '#local/cli/io.ts';
import { createReportCommand } from '#local/cli/report.ts';
import { createRunCommand } from '#local/cli/run.ts';
import { fleetConfig, fleetTargetName, startFleetServer } from '../helpers/fleet.ts';
import { writeFleetState } from '../helpers/fleet-state.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = resolve(import.meta.dirname, '../../artifacts');
const missing = existsSync(CHROMIUM) ? null : `${CHROMIUM} is not installed (.ci/run installs Debian's chromium)`;
if (missing) console.log(`SKIPPED test/e2e/report-browser.test.ts: ${missing}`);

class Sink extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void) {
    this.text += chunk.toString('utf8');
    cb();
  }
}

const io = (cwd: string): CliIO => ({ stdout: new Sink(), stderr: new Sink(), env: { LANG: 'C' }, cwd });

interface Opened {
  readonly page: Page;
  readonly problems: string[];
  readonly requests: string[];
}

describe.skipIf(missing !== null)('the report in headless Chromium', () => {
  let cwd: string;
  let stateDir: string;
  let browser: Browser | undefined;

  beforeAll(async () => {
    // Prepare: a history from a real loop run, and the browser.
    cwd = await mkdtemp(join(tmpdir(), 'mh-browser-'));
    const code = await createRunCommand()(['--rounds', '4', '--interval', '1'], io(cwd));
    if (code !== 0) throw new Error(`the demo run ended with exit code ${code}`);
    stateDir = join(cwd, '.mailhealth', 'demo');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      timeout: 30_000,
    });
    await mkdir(ARTIFACTS, { recursive: true });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    if (cwd) await rm(cwd, { recursive: true, force: true });
  });

  async function open(file: string): Promise<Opened> {
    const page = await browser!.newPage({ viewport: { width: 1200, height: 900 } });
    const problems: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load', timeout: 15_000 });
    return { page, problems, requests };
  }

  it('renders the statuses, the charts and the findings with no console error and no request', async () => {
    // Act
    const file = join(stateDir, 'report.html');
    const { page, problems, requests } = await open(file);
    await page.screenshot({ path: join(ARTIFACTS, 'report.png'), fullPage: true });

    // Assess: nothing went wrong, nothing was fetched.
    expect(problems).toEqual([]);
    expect(requests).toEqual([pathToFileURL(file).href]);
    expect(await page.title()).toBe('mail-health report');

    // The fleet table, worst first, and each target's details.
    const rows = page.locator('#fleet-table tbody tr');
    expect(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-name')))).toEqual(['shop', 'clinic']);
    // shop's domain fails SPF, DKIM and DMARC from round 2 (demo/dns.ts): failing since round 3.
    expect(await rows.first().innerText()).toMatch(/shop\s+FAILING/);
    expect(await rows.nth(1).innerText()).toMatch(/clinic\s+OK/);
    const clinic = page.locator('details#t-clinic');
    expect(await clinic.getAttribute('open')).not.toBeNull();
    expect(await clinic.innerText()).toMatch(/Rounds OK or warning\s+50% \(2\/4\)/);

    // The charts are drawn: a square per round, a line per SMTP step, a bar per bounce reason.
    expect(await page.locator('#targets svg.chart.timeline').count()).toBe(2);
    expect(await page.locator('#t-shop svg.chart.timeline rect').count()).toBeGreaterThanOrEqual(2);
    expect(await page.locator('#t-shop svg.chart.timeline rect').evaluateAll((rs) => rs.reduce((n, r) => n + Number(r.getAttribute('width')), 0))).toBeGreaterThan(4 * 16);
    const line = page.locator('#t-shop [data-chart="lat"] svg.chart.line');
    expect(await line.isVisible()).toBe(true);
    expect((await line.boundingBox())!.height).toBeGreaterThan(100);
    expect(await page.locator('#t-shop [data-chart="lat"] polyline').count()).toBeGreaterThan(4);
    expect(await page.locator('#bounces svg.chart.bars rect').count()).toBe(2);

    // The findings with what to do, and the alerts.
    const findings = await page.locator('#targets').innerText();
    for (const code of ['SIZE_LIMIT_LOW', 'PORT25_BLOCKED', 'BOUNCE_MAILBOX_FULL', 'BOUNCE_INVALID_ADDRESS', 'CANARY_SPF_FAIL', 'CANARY_DMARC_FAIL']) expect(findings).toContain(code);
    expect(findings).toContain('What to do:');
    const alerts = await page.locator('#alerts').innerText();
    expect(alerts).toContain('Mail sending is failing: clinic');
    expect(alerts).toContain('Recovered: clinic');
    await page.close();
  }, 60_000);

  it('renders the Japanese report the same way', async () => {
    // Prepare
    const file = join(cwd, 'report-ja.html');
    await createReportCommand()(['--state', stateDir, '--out', file, '--lang', 'ja'], io(cwd));

    // Act
    const { page, problems, requests } = await open(file);
    await page.screenshot({ path: join(ARTIFACTS, 'report-ja.png'), fullPage: true });

    // Assess
    expect(problems).toEqual([]);
    expect(requests).toHaveLength(1);
    expect(await page.locator('h2').first().innerText()).toBe('全対象の状態（問題のあるものから順に）');
    expect(await page.locator('#fleet-table tbody tr').first().innerText()).toContain('障害中');
    expect(await page.locator('#t-shop').innerText()).toContain('対処方法');
    expect(await page.locator('#t-shop svg.chart.line').count()).toBe(2);
    await page.close();
  }, 60_000);
});

describe.skipIf(missing !== null)('a fleet of 500 targets in headless Chromium', () => {
  let dir: string;
  let file: string;
  let browser: Browser | undefined;

  beforeAll(async () => {
    // Prepare: two real rounds against the fleet's server (one login refused) as the templates of
    // a day of five-minute rounds for 500 targets, every fifth failing for the last two hours.
    dir = await mkdtemp(join(tmpdir(), 'mh-fleet-browser-'));
    const server = await startFleetServer(dir);
    try {
      const config = parseConfig(fleetConfig({ count: 5, port: server.port, caPath: server.caPath, intervalSeconds: 30 }));
      const [ok, authFailed] = await Promise.all([fleetTargetName(0), fleetTargetName(4)].map(async (target) => (await checkConfig(config, { target, env: {} })).targets[0]!));
      expect(ok!.status).toBe('ok');
      expect(authFailed!.findings.map((f) => f.code)).toContain('AUTH_FAILED');
      await writeFleetState({ dir: join(dir, 'state'), targets: 500, days: 1, intervalMinutes: 5, now: new Date(), templates: { ok: ok!, authFailed: authFailed! }, canaryHours: 0 });
    } finally {
      await server.close();
    }
    file = join(dir, 'fleet.html');
    const code = await createReportCommand()(['--state', join(dir, 'state'), '--out', file, '--lang', 'en'], io(dir));
    if (code !== 0) throw new Error(`report ended with exit code ${code}`);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      timeout: 30_000,
    });
    await mkdir(ARTIFACTS, { recursive: true });
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('opens on the failing targets, finds one, filters by health and opens a target in one click', async () => {
    // Act
    const page = await browser!.newPage({ viewport: { width: 1280, height: 900 } });
    const problems: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load', timeout: 30_000 });
    await page.screenshot({ path: join(ARTIFACTS, 'report-fleet.png') });

    // Assess: the first rows, in view without scrolling, are the failing targets.
    expect(problems).toEqual([]);
    expect(requests).toEqual([pathToFileURL(file).href]);
    const rows = page.locator('#fleet-table tbody tr');
    const healths = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-health')));
    expect(healths).toHaveLength(500);
    expect(healths.slice(0, 100)).toEqual(Array(100).fill('failing'));
    expect(healths.slice(100)).toEqual(Array(400).fill('ok'));
    expect(await rows.first().isVisible()).toBe(true);
    expect((await rows.first().boundingBox())!.y).toBeLessThan(900);
    expect(await rows.first().innerText()).toMatch(/^t004\s+FAILING\s+.*\(2 h( \d+ min)?\)\s+auth · AUTH_FAILED/);
    expect(await page.locator('#fleet').innerText()).toContain('500 targets: 100 failing, 0 not checked yet, 0 warning, 400 OK');
    expect(await page.locator('#fleet-shown').innerText()).toBe('500 of 500 shown');

    // Search: one target by name, then every target failing at a finding.
    await page.fill('#fleet-search', 't123');
    expect(await page.locator('#fleet-table tbody tr:visible').count()).toBe(1);
    expect(await page.locator('#fleet-shown').innerText()).toBe('1 of 500 shown');
    await page.fill('#fleet-search', 'auth_failed');
    expect(await page.locator('#fleet-table tbody tr:visible').count()).toBe(100);
    await page.fill('#fleet-search', 'no such target');
    expect(await page.locator('#fleet-none').isVisible()).toBe(true);
    await page.fill('#fleet-search', '');

    // Filter by health: the details of the others are hidden too.
    await page.check('input[name="fleet-filter"][value="ok"]');
    expect(await page.locator('#fleet-table tbody tr:visible').count()).toBe(400);
    expect(await page.locator('details#t-t004').isVisible()).toBe(false);
    await page.check('input[name="fleet-filter"][value="all"]');

    // One click on a failing target: its details open with their charts and what to do.
    const details = page.locator('details#t-t009');
    expect(await details.getAttribute('open')).toBeNull();
    expect(await page.locator('svg.chart').count()).toBe(0);
    await page.click('#fleet-table a[href="#t-t009"]');
    await expect.poll(() => details.getAttribute('open')).not.toBeNull();
    expect(await details.locator('svg.chart.timeline rect').count()).toBe(2);
    expect(await details.locator('svg.chart.timeline rect').last().getAttribute('fill')).toBe('#c62828');
    expect(await details.locator('[data-chart="lat"] polyline').count()).toBeGreaterThan(4);
    const text = await details.innerText();
    expect(text).toContain('AUTH_FAILED');
    expect(text).toContain('What to do:');
    expect(text).toMatch(/Rounds OK or warning\s+88% \(175\/200\)/);
    // Only the opened target's charts were drawn.
    expect(await page.locator('svg.chart').count()).toBe(2 + (await details.locator('[data-chart="rt"] svg').count()));
    await page.screenshot({ path: join(ARTIFACTS, 'report-fleet-target.png') });
    await page.close();
  }, 120_000);
});
