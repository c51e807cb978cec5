/**
 * npm run bench:dmarc [-- --reports N] [--records K] [--runs R] [--big RECORDS]
 *
 * How fast report mails are read and recorded, and how much memory it takes:
 * - read: N report mails (test/helpers/report-storm.ts: Google's zip, Microsoft's gzip, Yahoo's
 *   zip, TLS-RPT; K sources each) through readReportMail (MIME, unpacking, XML/JSON, the model);
 * - intake: the same mails in a fresh state directory's inbox, through the local intake with
 *   the report hook (the file stores: history, memory, claims, alerts), as after a burst;
 * - big: one report of RECORDS sources (a big sender's daily Google report), read and summarised.
 * Prints reports/second per run and the median of R runs, and the peak RSS of each phase.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createDmarcFileStore } from '#adapters/dmarc-file-store.ts';
import { createFileStore } from '#adapters/file-store.ts';
import { readReportMail } from '#adapters/report-reader.ts';
import { summarizeReports } from '#core/dmarc/summary.ts';
import { createBounceIntake } from '#local/intake.ts';
import { createReportReader } from '#local/report-intake.ts';
import { stormDomain, stormReports } from '../test/helpers/report-storm.ts';

const USAGE = 'usage: npm run bench:dmarc [-- --reports N] [--records K] [--runs R] [--big RECORDS]\n';
const { values } = (() => {
  try {
    return parseArgs({ options: { reports: { type: 'string', default: '1000' }, records: { type: 'string', default: '20' }, runs: { type: 'string', default: '3' }, big: { type: 'string', default: '100000' } } });
  } catch (err) {
    process.stderr.write(`bench:dmarc: ${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
    return process.exit(2);
  }
})();
const count = Number(values.reports);
const records = Number(values.records);
const runs = Number(values.runs);
const big = Number(values.big);
for (const [name, v] of [['reports', count], ['records', records], ['runs', runs], ['big', big]] as const) {
  if (!Number.isInteger(v) || v < 1) {
    process.stderr.write(`bench:dmarc: --${name}: expected a positive integer\n${USAGE}`);
    process.exit(2);
  }
}

const NOW = new Date('2026-03-04T00:00:00Z');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mib = (n: number) => `${(n / 1024 / 1024).toFixed(0)} MiB`;

/** Runs `work`, sampling the RSS every 20 ms; its result, the time in ms and the peak RSS. */
async function measured<T>(work: () => Promise<T>): Promise<{ value: T; ms: number; cpuMs: number; peak: number }> {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  const started = performance.now();
  const cpu = process.cpuUsage();
  try {
    const value = await work();
    const used = process.cpuUsage(cpu);
    return { value, ms: performance.now() - started, cpuMs: (used.user + used.system) / 1000, peak: Math.max(peak, process.memoryUsage().rss) };
  } finally {
    clearInterval(timer);
  }
}

const mails = stormReports(count, { records });
const bytes = mails.reduce((n, m) => n + m.length, 0);
process.stdout.write(`bench:dmarc: ${count} report mails (${records} sources per DMARC report, ${mib(bytes)}), ${runs} runs, Node ${process.versions.node}\n`);

// Per CPU second too: on a shared machine the wall time says more about the load than the code.
const readCpuRates: number[] = [];
const intakeCpuRates: number[] = [];
const readRates: number[] = [];
let readPeak = 0;
for (let r = 0; r < runs; r++) {
  const { value: got, ms, cpuMs, peak } = await measured(async () => {
    let n = 0;
    for (const m of mails) n += (await readReportMail(m, { now: NOW, bounceDomain: 'bounces.example.jp' }))?.reports.length ?? 0;
    return n;
  });
  if (got !== count) throw new Error(`read ${got} reports of ${count}`);
  readRates.push((count / ms) * 1000);
  readCpuRates.push((count / cpuMs) * 1000);
  readPeak = Math.max(readPeak, peak);
  process.stdout.write(`  read   run ${r + 1}: ${((count / ms) * 1000).toFixed(0)} reports/s\n`);
}

const intakeRates: number[] = [];
let intakePeak = 0;
const targets = Array.from({ length: 50 }, (_, d) => ({ name: `shop${d}`, from: `info@${stormDomain(d)}` }));
for (let r = 0; r < runs; r++) {
  const dir = await mkdtemp(join(tmpdir(), 'mh-bench-dmarc-'));
  try {
    await mkdir(join(dir, 'inbox'));
    for (const [i, m] of mails.entries()) await writeFile(join(dir, 'inbox', `20260304T000000000Z-1-${String(i).padStart(6, '0')}-bench.eml`), m);
    const store = createFileStore({ dir });
    const reports = createDmarcFileStore({ dir });
    const clock = () => NOW;
    const random = (n: number) => crypto.getRandomValues(new Uint8Array(n));
    let done = 0;
    const intake = createBounceIntake({
      stateDir: dir,
      store,
      clock,
      random,
      reports: createReportReader({ bounceDomain: 'bounces.example.jp', targets, store, reports, clock, random, lookup: null }),
      raise: async () => {},
      report: (o) => {
        if (o.kind === 'reports') done += o.reports.length;
      },
    });
    const { ms, cpuMs, peak } = await measured(async () => {
      await intake.recover();
      await intake.drain();
    });
    if (done !== count) throw new Error(`the intake recorded ${done} reports of ${count}`);
    intakeRates.push((count / ms) * 1000);
    intakeCpuRates.push((count / cpuMs) * 1000);
    intakePeak = Math.max(intakePeak, peak);
    process.stdout.write(`  intake run ${r + 1}: ${((count / ms) * 1000).toFixed(0)} reports/s\n`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const [bigMail] = stormReports(1, { records: big });
const { value: bigSummary, ms: bigMs, cpuMs: bigCpuMs, peak: bigPeak } = await measured(async () => {
  const got = await readReportMail(bigMail!, { now: NOW, bounceDomain: 'bounces.example.jp' });
  const report = got?.reports[0]?.report;
  return { rows: report?.kind === 'dmarc' ? report.rows.length : 0, summary: summarizeReports(report ? [report] : [], { ptrOf: () => null }) };
});
if (bigSummary.rows !== big || bigSummary.summary.length !== 1) throw new Error(`the big report gave ${bigSummary.rows} records, not ${big}`);

process.stdout.write(
  [
    `read:   median ${median(readRates).toFixed(0)} reports/s, ${median(readCpuRates).toFixed(0)} per CPU second (MIME, unpacking, XML/JSON, model), peak RSS ${mib(readPeak)}`,
    `intake: median ${median(intakeRates).toFixed(0)} reports/s, ${median(intakeCpuRates).toFixed(0)} per CPU second (and the history, memory, claims on disk), peak RSS ${mib(intakePeak)}`,
    `big:    one report of ${big} sources (${mib(bigMail!.length)} mail) read and summarised in ${(bigMs / 1000).toFixed(2)} s (${(bigCpuMs / 1000).toFixed(2)} s CPU), peak RSS ${mib(bigPeak)}`,
    '',
  ].join('\n'),
);
