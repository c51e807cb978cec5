/**
 * The HTML report in a real browser: a history made by a real loop run (the demo world, four
 * rounds), its report opened in headless Chromium from the file. The page must render with no
 * console error and no request beyond the file itself, and show the statuses, the charts and
 * the findings. Screenshots go to artifacts/report.png (English) and artifacts/report-ja.png
 * (Japanese); artifacts/ is ignored by git. Skipped, saying why, only where Chromium is missing.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIO } from '#local/cli/io.ts';
import { createReportCommand } from '#local/cli/report.ts';
import { createRunCommand } from '#local/cli/run.ts';

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

    // The status of each target.
    const shop = page.locator('#status .card[data-target="shop"]');
    const clinic = page.locator('#status .card[data-target="clinic"]');
    // shop's domain fails SPF, DKIM and DMARC from round 2 (demo/dns.ts): failing since round 3.
    await expect.poll(() => shop.innerText()).toMatch(/Health\s+FAILING/);
    expect(await clinic.innerText()).toMatch(/Health\s+OK/);
    expect(await clinic.innerText()).toMatch(/Rounds OK or warning\s+50% \(2\/4\)/);

    // The charts are drawn: a square per round, a line per SMTP step, a bar per bounce reason.
    expect(await page.locator('#timeline svg.chart.timeline').count()).toBe(2);
    expect(await page.locator('#timeline svg.chart.timeline').first().locator('rect').count()).toBe(4);
    const line = page.locator('#latency svg.chart.line').first();
    expect(await line.isVisible()).toBe(true);
    expect((await line.boundingBox())!.height).toBeGreaterThan(100);
    expect(await page.locator('#latency polyline').count()).toBeGreaterThan(4);
    expect(await page.locator('#bounces svg.chart.bars rect').count()).toBe(2);

    // The findings with what to do, and the alerts.
    const findings = await page.locator('#findings').innerText();
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
    expect(await page.locator('h2').first().innerText()).toBe('対象ごとの状態');
    expect(await page.locator('#status .card[data-target="shop"]').innerText()).toContain('障害中');
    expect(await page.locator('#findings').innerText()).toContain('対処方法');
    await page.close();
  }, 60_000);
});
