/**
 * Bounce classifier benchmark: agreement with labelled bounce sets, and throughput.
 *
 *   npm run bench:bounce [-- --corpus DIR] [--flufl DIR] [--wild DIR] [--passes N]
 *                        [--min-reason PCT] [--min-recipient PCT] [--min-headline PCT] [--min-rate MSG_PER_S] [--min-cpu-rate MSG_PER_CPU_S]
 *                        [--min-flufl-sets PCT] [--max-flufl-nocause PCT] [--min-pasted PCT]
 *                        [--min-wild-reason PCT] [--min-wild-sets PCT] [--max-wild-nocause PCT]
 *                        [--misses] [--families] [--no-fast-path]
 *
 * The sets (bench/bounce-sets.ts says how each is scored), each its own table:
 * - the Sisimai set, ../shared/corpus/sisimai (`--corpus`): per-recipient reasons; the
 *   `--min-reason`, `--min-recipient` and `--min-headline` floors;
 * - set B, ../shared/corpus/flufl (`--flufl`): recipient sets per file and bounces with no
 *   cause (`--min-flufl-sets`, `--max-flufl-nocause`), and the same messages without headers,
 *   as pasted from a mail program (`--min-pasted`: recipients found);
 * - the project's own set, test/fixtures/bounces-wild (`--wild`): per-recipient reasons per
 *   format and language (`--min-wild-reason`, `--min-wild-sets`, `--max-wild-nocause`).
 * Sets next to the repository are read in place, never copied; a missing one is skipped (said
 * on stderr). Throughput is the median of several in-process passes over the Sisimai set
 * (the own set when it is missing), after one warm-up, by the wall clock and by the process's
 * CPU time. Ends with one JSON summary line.
 * Exits 1 when a floor is missed, 2 on bad usage or an unreadable set given by option.
 * `--vs-sisimai`, `--copies N` and `--mbox-copies N` time the built CLI as whole processes
 * instead (bench/bounce-process.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { createMailParser } from '#adapters/mail-parser.ts';
import { splitMailbox } from '#core/bounce/mbox.ts';
import { analyzeFile, readJsonLines, scorePasted, scoreReasons, scoreRecipientSets, titleOf, withNotBounces, type FileResult, type NotBounceRow, type ReasonRow, type RecipientRow, type SetScore } from './bounce-sets.ts';
import { runProcessBench, wantsProcessBench } from './bounce-process.ts';

// The whole-process modes (--vs-sisimai, --copies, --mbox-copies) live in bench/bounce-process.ts.
if (wantsProcessBench(process.argv.slice(2))) process.exit(await runProcessBench(process.argv.slice(2)));

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OPTIONS = {
  corpus: { type: 'string' },
  flufl: { type: 'string' },
  wild: { type: 'string' },
  passes: { type: 'string', default: '7' },
  'min-reason': { type: 'string' },
  'min-recipient': { type: 'string' },
  'min-rate': { type: 'string' },
  'min-cpu-rate': { type: 'string' },
  'min-headline': { type: 'string' },
  'min-flufl-sets': { type: 'string' },
  'max-flufl-nocause': { type: 'string' },
  'min-pasted': { type: 'string' },
  'min-wild-reason': { type: 'string' },
  'min-wild-sets': { type: 'string' },
  'max-wild-nocause': { type: 'string' },
  misses: { type: 'boolean', default: false },
  families: { type: 'boolean', default: false },
  'no-fast-path': { type: 'boolean', default: false },
} as const;
const USAGE =
  'usage: npm run bench:bounce [-- --corpus DIR] [--flufl DIR] [--wild DIR] [--passes N] [--min-reason PCT] [--min-recipient PCT] [--min-headline PCT] [--min-rate MSG_PER_S] [--min-cpu-rate MSG_PER_CPU_S] [--min-flufl-sets PCT] [--max-flufl-nocause PCT] [--min-pasted PCT] [--min-wild-reason PCT] [--min-wild-sets PCT] [--max-wild-nocause PCT] [--misses] [--families] [--no-fast-path]\n';
const parsed = (() => {
  try {
    return parseArgs({ options: OPTIONS });
  } catch (err) {
    process.stderr.write(`bench:bounce: ${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
    process.exit(2);
  }
})();
const { values } = parsed;

const number = (name: keyof typeof OPTIONS): number | undefined => {
  const raw = values[name];
  if (raw === undefined || typeof raw !== 'string') return undefined;
  const n = Number(raw);
  if (Number.isNaN(n)) {
    process.stderr.write(`bench:bounce: --${name} must be a number, not '${raw}'\n`);
    process.exit(2);
  }
  return n;
};

/** A set's folder: the option's value (must exist), or the default next to the repository (may be missing). */
function setDir(option: 'corpus' | 'flufl' | 'wild', fallback: string, manifest: string): string | null {
  const given = values[option];
  const dir = given ? resolve(given) : fallback;
  if (existsSync(join(dir, manifest))) return dir;
  if (given) {
    process.stderr.write(`bench:bounce: no ${manifest} in ${dir}\n`);
    process.exit(2);
  }
  process.stderr.write(`bench:bounce: skipped ${dir} (not found)\n`);
  return null;
}

const parse = createMailParser({ fastPath: !values['no-fast-path'] });
const view = { misses: values.misses, families: values.families };
const sisimaiDir = setDir('corpus', resolve(repoRoot, '..', 'shared', 'corpus', 'sisimai'), 'manifest.jsonl');
const fluflDir = setDir('flufl', resolve(repoRoot, '..', 'shared', 'corpus', 'flufl'), 'manifest.jsonl');
const wildDir = setDir('wild', resolve(repoRoot, 'test', 'fixtures', 'bounces-wild'), 'labels.jsonl');

async function readSet(dir: string, files: readonly string[]): Promise<{ raws: Map<string, Uint8Array>; results: Map<string, FileResult> }> {
  const raws = new Map(files.map((f) => [f, new Uint8Array(readFileSync(join(dir, f)))]));
  const results = new Map<string, FileResult>();
  for (const f of files) results.set(f, await analyzeFile(raws.get(f)!, parse));
  return { raws, results };
}

const scores: { key: string; score: SetScore; dir: string; files: number }[] = [];
let throughputSet: Uint8Array[] = [];

if (sisimaiDir) {
  const rows = readJsonLines<ReasonRow>(join(sisimaiDir, 'manifest.jsonl'));
  const files = [...new Set(rows.map((r) => r.file))];
  const { raws, results } = await readSet(sisimaiDir, files);
  scores.push({ key: 'sisimai', score: scoreReasons(titleOf(sisimaiDir), rows, results, view), dir: sisimaiDir, files: files.length });
  throughputSet = [...raws.values()];
}
if (fluflDir) {
  const rows = readJsonLines<RecipientRow>(join(fluflDir, 'manifest.jsonl'));
  const files = [...new Set(rows.map((r) => r.file))];
  const { raws, results } = await readSet(fluflDir, files);
  scores.push({ key: 'flufl', score: scoreRecipientSets(titleOf(fluflDir), rows, results, view), dir: fluflDir, files: files.length });
  scores.push({ key: 'pasted', score: await scorePasted('The same messages without headers (a notice pasted from a mail program)', rows, raws, parse, view), dir: fluflDir, files: files.length });
}
if (wildDir) {
  // Rows naming no recipient label messages that are not bounces (read receipts, challenge-response).
  const labelled = readJsonLines<ReasonRow | NotBounceRow>(join(wildDir, 'labels.jsonl'));
  const rows = labelled.filter((r): r is ReasonRow => r.expectedRecipient !== null);
  const files = [...new Set(labelled.map((r) => r.file))];
  const { raws, results } = await readSet(wildDir, files);
  scores.push({ key: 'wild', score: withNotBounces(scoreReasons(titleOf(wildDir), rows, results, view), labelled.filter((r): r is NotBounceRow => r.expectedRecipient === null), results, view), dir: wildDir, files: files.length });
  if (!throughputSet.length) throughputSet = [...raws.values()];
}

// ---- throughput
const passes = Math.max(1, Number(values.passes) || 7);
for (const raw of throughputSet) await analyzeFile(raw, parse); // warm-up
const messageCount = throughputSet.reduce((n, raw) => n + splitMailbox(raw).length, 0);
const rates: number[] = [];
// Per second of the process's own CPU time too: on a shared machine the wall clock also counts
// the time other programs had the cores, which says nothing about the classifier.
const cpuRates: number[] = [];
for (let p = 0; p < passes && messageCount > 0; p++) {
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  for (const raw of throughputSet) await analyzeFile(raw, parse);
  const cpu = process.cpuUsage(cpu0);
  rates.push((messageCount / (performance.now() - t0)) * 1000);
  cpuRates.push((messageCount / Math.max(1, cpu.user + cpu.system)) * 1e6);
}
rates.sort((a, b) => a - b);
cpuRates.sort((a, b) => a - b);
const rate = rates.length ? rates[Math.floor(rates.length / 2)]! : 0;
const cpuRate = cpuRates.length ? cpuRates[Math.floor(cpuRates.length / 2)]! : 0;

// ---- report
const out = process.stdout;
for (const { score, dir, files } of scores) {
  out.write(`== ${score.title}\n   ${files} files (${dir})\n\n${score.lines.join('\n')}\n\n`);
}
if (rates.length) out.write(`throughput           ${rate.toFixed(0).padStart(6)} msg/s (${messageCount} messages in one process; median of ${passes} passes; min ${rates[0]!.toFixed(0)}, max ${rates[rates.length - 1]!.toFixed(0)})\n                       ${cpuRate.toFixed(0).padStart(6)} msg per CPU second (the same passes, by the process's CPU time; median)\n\n`);

const summary: Record<string, unknown> = Object.fromEntries(scores.map(({ key, score }) => [key, score.summary]));
summary.messagesPerSecond = Math.round(rate);
summary.messagesPerCpuSecond = Math.round(cpuRate);
out.write(`${JSON.stringify(summary)}\n`);

// ---- floors
const of = (key: string) => scores.find((s) => s.key === key)?.score.summary as Record<string, number & Record<string, number>> | undefined;
const checks: [string, number | undefined, number | undefined, 'min' | 'max'][] = [
  ['Sisimai set: reason agreement', number('min-reason'), of('sisimai')?.reasonAgreement, 'min'],
  ['Sisimai set: recipient agreement', number('min-recipient'), of('sisimai')?.recipientAgreement, 'min'],
  ['throughput (msg/s)', number('min-rate'), rates.length ? Math.round(rate) : undefined, 'min'],
  ['throughput (msg per CPU second)', number('min-cpu-rate'), cpuRates.length ? Math.round(cpuRate) : undefined, 'min'],
  // Each headline reason (mailboxfull, userunknown, …) on its own: the causes a shop acts on.
  ...Object.entries(of('sisimai')?.headline ?? {}).map(([reason, value]) => [`Sisimai set: ${reason} agreement`, number('min-headline'), value as number, 'min'] as [string, number | undefined, number | undefined, 'min']),
  ['set B: recipient sets right (%)', number('min-flufl-sets'), of('flufl')?.recipientSetsPercent, 'min'],
  ['set B: bounces with no cause (%)', number('max-flufl-nocause'), of('flufl')?.noCausePercent, 'max'],
  ['set B pasted: recipients found (%)', number('min-pasted'), of('pasted')?.shownFoundPercent, 'min'],
  ['own set: reason agreement', number('min-wild-reason'), of('wild')?.reasonAgreement, 'min'],
  ['own set: recipient sets right (%)', number('min-wild-sets'), (() => {
    const sets = of('wild')?.recipientSets as unknown as string | undefined;
    if (!sets) return undefined;
    const [ok, n] = sets.split('/').map(Number);
    return n ? Number(((100 * ok!) / n).toFixed(2)) : 100;
  })(), 'min'],
  ['own set: failures with no cause (%)', number('max-wild-nocause'), of('wild')?.noCausePercent, 'max'],
];
let failed = false;
for (const [name, floor, value, kind] of checks) {
  if (floor === undefined) continue;
  if (value === undefined) {
    process.stderr.write(`bench:bounce: ${name}: set not read, floor ${floor} not checked\n`);
    continue;
  }
  if (kind === 'min' ? value < floor : value > floor) {
    process.stderr.write(`bench:bounce: ${name} ${value} is ${kind === 'min' ? 'below the floor' : 'above the ceiling'} ${floor}\n`);
    failed = true;
  }
}
process.exitCode = failed ? 1 : 0;
