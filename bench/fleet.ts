/**
 * npm run bench:fleet [-- --targets N] [--rounds R] [--interval S] [--days D] [--runs K] [--skip-loop] [--skip-report] [--state DIR]
 *
 * Issue 24's agency, measured (test/helpers/fleet.ts): the built `mailhealth run` with N targets
 * (500) on one local smtp-server, a private CA as each target's `ca`, every fifth target with a
 * wrong password, the canaries handed back to the run's bounce listener, a round every S
 * seconds (30), R rounds (3). Then a state of N targets with D days (35) of five-minute rounds
 * (test/helpers/fleet-state.ts) for `status --json` and `report`, and the report opened in
 * Chromium. Prints, with the targets:
 *   - the slowest round (target: well inside the interval) and the peak RSS (≤ 400 MB);
 *   - healthy rounds that were WARNING with SLOW_STEP (the monitor measuring itself: 0);
 *   - `status --json` time (≤ 2 s), `report` time (≤ 10 s) and size (≤ 2 MB), the report's
 *     load time in Chromium (≤ 3 s): medians of K runs (3).
 * Writing the 35-day state takes minutes (gigabytes of history): `--state DIR` keeps it in DIR
 * and a later run reuses it. Times are wall clock; processor times say what a quiet machine
 * would see when this one is shared.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { spawnSync } from 'node:child_process';
import { chromium } from 'playwright-core';
import { parseConfig } from '#core/config.ts';
import { checkConfig } from '#local/cli/check.ts';
import { writeFleetState } from '../test/helpers/fleet-state.ts';
import { BUILT_CLI, ensureBuiltCli } from '../test/helpers/built-cli.ts';
import { fleetConfig, fleetTargetName, freePort, hasWrongPassword, runFleet, startFleetServer } from '../test/helpers/fleet.ts';
import type { TargetResult } from '#core/results.ts';

const TARGETS = { rssMb: 400, statusS: 2, reportS: 10, reportMb: 2, loadS: 3 } as const;
const RUN_TIMEOUT_MS = 15 * 60_000;
const CHROMIUM = '/usr/bin/chromium';
const GNU_TIME = '/usr/bin/time';

const USAGE = 'usage: npm run bench:fleet [-- --targets N] [--rounds R] [--interval S] [--days D] [--runs K] [--skip-loop] [--skip-report] [--state DIR]\n';
function usageError(message: string): never {
  process.stderr.write(`bench:fleet: ${message}\n${USAGE}`);
  process.exit(2);
}
const { values } = (() => {
  try {
    return parseArgs({
      options: {
        targets: { type: 'string', default: '500' },
        rounds: { type: 'string', default: '3' },
        interval: { type: 'string', default: '30' },
        days: { type: 'string', default: '35' },
        runs: { type: 'string', default: '3' },
        'skip-loop': { type: 'boolean', default: false },
        'skip-report': { type: 'boolean', default: false },
        state: { type: 'string' },
      },
    });
  } catch (err) {
    return usageError(err instanceof Error ? err.message : String(err));
  }
})();
const count = Number(values.targets);
const rounds = Number(values.rounds);
const interval = Number(values.interval);
const days = Number(values.days);
const runs = Number(values.runs);
for (const [name, n] of [['targets', count], ['rounds', rounds], ['interval', interval], ['days', days], ['runs', runs]] as const) {
  if (!Number.isInteger(n) || n < 1) usageError(`--${name} ${values[name]}: expected a positive integer`);
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const out = (line: string) => process.stdout.write(`${line}\n`);
const verdict = (ok: boolean) => (ok ? 'ok' : 'OVER');

await ensureBuiltCli();
const work = await mkdtemp(join(tmpdir(), 'mh-bench-fleet-'));
try {
  out(`bench:fleet · ${count} targets · Node ${process.versions.node}`);
  if (!values['skip-loop']) await benchLoop();
  if (!values['skip-report']) await benchState();
} finally {
  await rm(work, { recursive: true, force: true });
}

async function benchLoop(): Promise<void> {
  const server = await startFleetServer(work);
  try {
    const listenerPort = await freePort();
    server.forwardTo(listenerPort);
    const configPath = join(work, 'fleet.config.json');
    await writeFile(configPath, JSON.stringify(fleetConfig({ count, port: server.port, caPath: server.caPath, intervalSeconds: interval, listenerPort }), null, 2));
    const stateDir = join(work, 'loop-state');
    const run = await runFleet({ cwd: work, args: ['--config', configPath, '--state', stateDir, '--rounds', String(rounds), '--drain', '10'], timeoutMs: RUN_TIMEOUT_MS });
    if (run.rounds.length < rounds) {
      out(`the run ended after ${run.rounds.length} of ${rounds} round(s) (exit ${run.exitCode}); its last output:\n${run.output.slice(-3000)}`);
      process.exitCode = 1;
      return;
    }
    const slowest = Math.max(...run.rounds.map((r) => r.ms));
    // Rounds of the targets with the right password: the server is fast, so SLOW_STEP there is the monitor's own.
    let healthy = 0;
    let slow = 0;
    for (let i = 0; i < count; i++) {
      if (hasWrongPassword(i)) continue;
      const text = await readFile(join(stateDir, 'history', fleetTargetName(i), 'rounds.jsonl'), 'utf8').catch(() => '');
      for (const line of text.split('\n').filter(Boolean)) {
        const r = JSON.parse(line) as TargetResult;
        healthy++;
        if (r.findings.some((f) => f.code === 'SLOW_STEP')) slow++;
      }
    }
    out(`loop: ${rounds} rounds of ${count} targets every ${interval} s: rounds ${run.rounds.map((r) => `${(r.ms / 1000).toFixed(1)} s`).join(', ')} (slowest ${(slowest / 1000).toFixed(1)} s, ${verdict(slowest < interval * 1000 * 0.5)} against half the interval)`);
    const cpu = run.cpuAfterRound.map((ms, i) => (ms - (i === 0 ? 0 : run.cpuAfterRound[i - 1]!)) / 1000);
    out(`loop: processor time per round ${cpu.map((c) => `${c.toFixed(1)} s`).join(', ')} (the first includes start-up; the machine's load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores)`);
    out(`loop: peak RSS ${mb(run.peakRssBytes)} (target ≤ ${TARGETS.rssMb} MB: ${verdict(run.peakRssBytes <= TARGETS.rssMb * 1024 * 1024)}); RSS after each round ${run.rssAfterRound.map(mb).join(', ')}`);
    out(`loop: SLOW_STEP in ${slow} of ${healthy} rounds of targets with the right password (target 0); the server took ${server.accepted()} message(s)`);
    const status = timeCli(['status', '--state', stateDir, '--json']);
    if (status !== null) out(`loop state: status --json ${seconds(status.wallMs)}${cpuNote(status)}`);
    const reportPath = join(stateDir, 'report.html');
    if (existsSync(reportPath)) out(`loop state: report.html ${mb((await stat(reportPath)).size)}`);
  } finally {
    await server.close();
  }
}

/** A state of `count` targets and `days` days of five-minute rounds: status, report, and the report in Chromium. */
async function benchState(): Promise<void> {
  const stateDir = values.state ? resolve(values.state) : join(work, 'fleet-state');
  if (values.state && existsSync(join(stateDir, 'run.json'))) {
    out(`state: reusing ${stateDir}`);
  } else {
    await writeState(stateDir);
  }
  await measureState(stateDir);
}

async function writeState(stateDir: string): Promise<void> {
  const server = await startFleetServer(work);
  let templates: { ok: TargetResult; authFailed: TargetResult };
  try {
    // Real rounds as the templates of the history: one OK, one whose password is wrong.
    const config = parseConfig(fleetConfig({ count: 5, port: server.port, caPath: server.caPath, intervalSeconds: interval }));
    const [ok, authFailed] = await Promise.all([fleetTargetName(0), fleetTargetName(4)].map(async (target) => (await checkConfig(config, { target, env: {} })).targets[0]!));
    templates = { ok: ok!, authFailed: authFailed! };
  } finally {
    await server.close();
  }
  const started = performance.now();
  const written = await writeFleetState({ dir: stateDir, targets: count, days, intervalMinutes: 5, now: new Date(), templates, canaryHours: 24 });
  const history = await duBytes(join(stateDir, 'history'));
  out(`state: ${count} targets x ${days} days of 5-minute rounds (${written.rounds.toLocaleString('en')} rounds, ${mb(history)} of history, ${written.canaries.toLocaleString('en')} canaries), written in ${((performance.now() - started) / 1000).toFixed(0)} s`);
}

async function measureState(stateDir: string): Promise<void> {
  const status = timeCli(['status', '--state', stateDir, '--json']);
  if (status !== null) out(`status --json: ${seconds(status.wallMs)}${cpuNote(status)} (target ≤ ${TARGETS.statusS} s: ${verdict(status.wallMs <= TARGETS.statusS * 1000)}), median of ${runs}`);
  const reportFile = join(work, 'fleet-report.html');
  const report = timeCli(['report', '--state', stateDir, '--out', reportFile, '--lang', 'en']);
  if (report === null) return;
  const size = (await stat(reportFile)).size;
  out(`report: ${seconds(report.wallMs)}${cpuNote(report)} (target ≤ ${TARGETS.reportS} s: ${verdict(report.wallMs <= TARGETS.reportS * 1000)}), ${mb(size)} (target ≤ ${TARGETS.reportMb} MB: ${verdict(size <= TARGETS.reportMb * 1024 * 1024)}), median of ${runs}`);
  const load = await chromiumLoadMs(reportFile);
  if (load !== null) out(`report in Chromium: loaded in ${(load / 1000).toFixed(2)} s (target ≤ ${TARGETS.loadS} s: ${verdict(load <= TARGETS.loadS * 1000)}), median of ${runs}`);
}

async function duBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  return total;
}

/** Median time from navigation to the load event of the page in headless Chromium; null without Chromium. */
async function chromiumLoadMs(file: string): Promise<number | null> {
  if (!existsSync(CHROMIUM)) {
    out(`report in Chromium: skipped, ${CHROMIUM} is not installed`);
    return null;
  }
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'], timeout: 60_000 });
  try {
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      await page.goto(pathToFileURL(file).href, { waitUntil: 'load', timeout: 60_000 });
      // The navigation entry's load event, in ms from the start of the navigation (the page's own clock).
      times.push(await page.evaluate('performance.getEntriesByType("navigation")[0].loadEventEnd') as number);
      await page.close();
    }
    return median(times);
  } finally {
    await browser.close();
  }
}

/**
 * Median wall time of the built CLI with these arguments over `runs`, and its median processor
 * time (user and system, through GNU time when installed; the wall time on a shared machine is
 * mostly waiting for a core); null when it fails.
 */
function timeCli(args: readonly string[]): { wallMs: number; cpuMs: number | null } | null {
  const walls: number[] = [];
  const cpus: number[] = [];
  const timed = existsSync(GNU_TIME);
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    const command = timed ? [GNU_TIME, ['-f', 'CPU %U %S', process.execPath, BUILT_CLI, ...args]] as const : [process.execPath, [BUILT_CLI, ...args]] as const;
    const r = spawnSync(command[0], command[1], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env: { ...process.env, LANG: 'C' } });
    const ms = performance.now() - started;
    if (r.status === null || r.status >= 3) {
      out(`mailhealth ${args.join(' ')}: exit ${r.status ?? r.signal}: ${(r.stderr || r.stdout).slice(0, 500)}`);
      return null;
    }
    walls.push(ms);
    const cpu = /CPU ([\d.]+) ([\d.]+)\s*$/.exec(r.stderr);
    if (cpu) cpus.push((Number(cpu[1]) + Number(cpu[2])) * 1000);
  }
  return { wallMs: median(walls), cpuMs: cpus.length ? median(cpus) : null };
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

function cpuNote(t: { cpuMs: number | null }): string {
  return t.cpuMs === null ? '' : `, ${seconds(t.cpuMs)} of processor time`;
}
