/**
 * The whole-process modes of the bounce benchmark: `mailhealth bounce` (the built CLI,
 * dist/mailhealth.js) timed from outside as a user runs it, start-up included.
 *
 *   npm run bench:bounce -- --vs-sisimai [--copies N,...] [--mbox-copies N,...] [--rounds R]
 *                           [--min-ratio X] [--min-ratio-copies X] [--max-rss-mb MB]
 *
 * - `--vs-sisimai`: side by side with Debian's Sisimai (`perl -MSisimai`, `Sisimai->dump` of the
 *   same folder) over the corpus folder, and over each `--copies` folder: alternated runs
 *   (ours, Sisimai, ours, …), R rounds (default 5) after one warm-up each, the median of the
 *   per-round ratios. Skipped, saying why, when Perl's Sisimai is not installed.
 * - `--copies N`: N copies of the corpus as files in one folder; `--mbox-copies N`: the corpus
 *   N times over as one mbox. Each reports messages/s and peak RSS (median of R runs).
 * Copies are made in a temporary folder (never in the repository) and removed at the end.
 * `--min-ratio` (the corpus folder), `--min-ratio-copies` (each copies folder; default the same)
 * and `--max-rss-mb` (each mbox) make a missed target exit 1.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { startsMailbox } from '#core/bounce/mbox.ts';

/** The options that select the whole-process modes (bench/bounce.ts hands over when one is given). */
export const PROCESS_OPTIONS = {
  'vs-sisimai': { type: 'boolean' },
  copies: { type: 'string' },
  'mbox-copies': { type: 'string' },
  rounds: { type: 'string' },
  'min-ratio': { type: 'string' },
  'min-ratio-copies': { type: 'string' },
  'max-rss-mb': { type: 'string' },
  corpus: { type: 'string' },
} as const;

const USAGE = 'usage: npm run bench:bounce -- --vs-sisimai [--copies N,...] [--mbox-copies N,...] [--rounds R] [--min-ratio X] [--min-ratio-copies X] [--max-rss-mb MB] [--corpus DIR]\n';
const ROOT = resolve(import.meta.dirname, '..');
const CLI = join(ROOT, 'dist', 'mailhealth.js');
// One run may take a while on a large mbox; past this it is killed and the bench fails.
const RUN_TIMEOUT_MS = 10 * 60_000;
// How often the child's peak RSS (VmHWM, a high-water mark) is read while it runs.
const RSS_POLL_MS = 20;
const SISIMAI_DUMP = 'print Sisimai->dump($ARGV[0])';

/** True when the arguments ask for a whole-process mode. */
export function wantsProcessBench(argv: readonly string[]): boolean {
  return argv.some((a) => a === '--vs-sisimai' || a.startsWith('--copies') || a.startsWith('--mbox-copies'));
}

interface Measured {
  readonly seconds: number;
  readonly peakMiB: number;
  readonly code: number;
}

/** Runs a command to its end: wall seconds, peak RSS (MiB), exit code. Output is discarded. */
function measure(command: string, args: readonly string[]): Promise<Measured> {
  return new Promise((done, fail) => {
    const t0 = performance.now();
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'ignore'] });
    let peakKiB = 0;
    const poll = () => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) peakKiB = Math.max(peakKiB, Number(m[1]));
      } catch {
        // exited between two polls
      }
    };
    const timer = setInterval(poll, RSS_POLL_MS);
    const killer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
    child.on('error', fail);
    child.on('exit', (code) => {
      const seconds = (performance.now() - t0) / 1000;
      clearInterval(timer);
      clearTimeout(killer);
      done({ seconds, peakMiB: peakKiB / 1024, code: code ?? -1 });
    });
  });
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** Why Sisimai cannot run here, or null when it can. */
function sisimaiMissing(): string | null {
  const probe = spawnSync('perl', ['-MSisimai', '-e', 'print $Sisimai::VERSION'], { encoding: 'utf8' });
  if (probe.error) return `perl not found (${probe.error.message})`;
  if (probe.status !== 0) return "Perl's Sisimai is not installed (Debian: apt-get install libsisimai-perl)";
  return null;
}

function sisimaiVersion(): string {
  return spawnSync('perl', ['-MSisimai', '-e', 'print $Sisimai::VERSION'], { encoding: 'utf8' }).stdout.trim();
}

/** Copies the corpus' messages N times into one folder (names kept unique). */
function copyFolder(from: string, to: string, copies: number): number {
  mkdirSync(to, { recursive: true });
  const files = readdirSync(from).filter((f) => f.endsWith('.eml'));
  for (let k = 0; k < copies; k++) for (const f of files) copyFileSync(join(from, f), join(to, `${String(k).padStart(3, '0')}-${f}`));
  return files.length * copies;
}

// The envelope line put before each message that has none; body lines that would look like one are quoted.
const ENVELOPE = 'From MAILER-DAEMON Thu Jan  1 00:00:00 2026\n';

/** Writes the corpus N times over as one mbox file; returns its size in bytes. */
function writeMbox(from: string, path: string, copies: number): number {
  const files = readdirSync(from)
    .filter((f) => f.endsWith('.eml'))
    .sort();
  const messages = files.map((f) => {
    const raw = readFileSync(join(from, f));
    const text = raw.toString('latin1');
    // A file that is itself a mailbox keeps its envelope lines; others get one.
    const body = startsMailbox(raw) ? text : ENVELOPE + text.replace(/^(>*From )/gm, '>$1');
    return Buffer.from(body.endsWith('\n\n') ? body : body.endsWith('\n') ? `${body}\n` : `${body}\n\n`, 'latin1');
  });
  const fd = openSync(path, 'w');
  try {
    for (let k = 0; k < copies; k++) for (const m of messages) writeSync(fd, m);
  } finally {
    closeSync(fd);
  }
  return statSync(path).size;
}

/** Counts the messages the CLI finds (one --jsonl line each). */
function messageCount(input: string): number {
  const run = spawnSync(process.execPath, [CLI, 'bounce', input, '--jsonl', '--quiet'], { maxBuffer: 1 << 30, encoding: 'utf8' });
  return run.stdout.split('\n').filter(Boolean).length;
}

const list = (raw: string | undefined) => (raw ?? '').split(',').filter(Boolean).map(Number).filter((n) => Number.isInteger(n) && n > 0);

/** Runs the whole-process modes; returns the exit code (0 fine, 1 a missed target, 2 bad usage). */
export async function runProcessBench(argv: readonly string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args: [...argv], options: PROCESS_OPTIONS, strict: true }));
  } catch (err) {
    process.stderr.write(`bench:bounce: ${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
    return 2;
  }
  const out = process.stdout;
  const corpusRoot = values.corpus ? resolve(values.corpus) : resolve(ROOT, '..', 'shared', 'corpus', 'sisimai');
  const corpus = existsSync(join(corpusRoot, 'eml')) ? join(corpusRoot, 'eml') : corpusRoot;
  if (!existsSync(corpus)) {
    out.write(`SKIPPED whole-process bench: no corpus at ${corpusRoot}\n`);
    return values.corpus ? 2 : 0;
  }
  if (!existsSync(CLI)) {
    process.stderr.write(`bench:bounce: ${CLI} is missing: npm run build\n`);
    return 2;
  }
  for (const name of ['rounds', 'min-ratio', 'min-ratio-copies', 'max-rss-mb'] as const) {
    const raw = values[name];
    if (raw !== undefined && !(Number(raw) > 0)) {
      process.stderr.write(`bench:bounce: --${name} needs a positive number (got ${raw})\n${USAGE}`);
      return 2;
    }
  }
  const rounds = Math.max(1, Math.round(Number(values.rounds ?? 5)));
  const minRatio = values['min-ratio'] === undefined ? undefined : Number(values['min-ratio']);
  const minRatioCopies = values['min-ratio-copies'] === undefined ? minRatio : Number(values['min-ratio-copies']);
  const maxRss = values['max-rss-mb'] === undefined ? undefined : Number(values['max-rss-mb']);
  const scratch = mkdtempSync(join(tmpdir(), 'mailhealth-bench-'));
  const failures: string[] = [];
  const ours = (input: string) => measure(process.execPath, [CLI, 'bounce', input, '--json', '--quiet']);
  out.write(`whole-process bounce benchmark: ${CLI} on Node ${process.version}, ${rounds} rounds (medians; a shared machine makes them noisy)\n`);

  try {
    const folders: { label: string; dir: string; floor: number | undefined }[] = [{ label: 'corpus', dir: corpus, floor: minRatio }];
    for (const n of list(values.copies)) {
      const dir = join(scratch, `copies-${n}`);
      copyFolder(corpus, dir, n);
      folders.push({ label: `${n} copies`, dir, floor: minRatioCopies });
    }

    if (values['vs-sisimai']) {
      const missing = sisimaiMissing();
      if (missing) out.write(`SKIPPED --vs-sisimai: ${missing}\n`);
      else {
        out.write(`\nside by side with Sisimai ${sisimaiVersion()} (perl -MSisimai -e '${SISIMAI_DUMP}' DIR), alternated\n`);
        // Measured as the environment is; this one variable alone costs every Node start a
        // parse of the named certificate file (about 35 ms on the 2-core machine).
        if (process.env.NODE_EXTRA_CA_CERTS) out.write('  (NODE_EXTRA_CA_CERTS is set: each Node start also loads those certificates; env -u NODE_EXTRA_CA_CERTS shows the CLI without them)\n');
        for (const { label, dir, floor } of folders) {
          const messages = messageCount(dir);
          const files = readdirSync(dir).length;
          await ours(dir);
          await measure('perl', ['-MSisimai', '-e', SISIMAI_DUMP, dir]);
          const a: Measured[] = [];
          const b: Measured[] = [];
          for (let r = 0; r < rounds; r++) {
            a.push(await ours(dir));
            b.push(await measure('perl', ['-MSisimai', '-e', SISIMAI_DUMP, dir]));
          }
          const ratio = median(a.map((x, i) => b[i]!.seconds / x.seconds));
          const ms = median(a.map((x) => x.seconds));
          out.write(
            `  ${label.padEnd(10)} ${String(files).padStart(6)} files ${String(messages).padStart(7)} msgs   mailhealth ${ms.toFixed(2)} s (${Math.round(messages / ms)} msg/s, ${median(a.map((x) => x.peakMiB)).toFixed(0)} MiB)   Sisimai ${median(b.map((x) => x.seconds)).toFixed(2)} s (${median(b.map((x) => x.peakMiB)).toFixed(0)} MiB)   ${ratio.toFixed(2)}x faster\n`,
          );
          if (a.some((x) => x.code === 3)) failures.push(`${label}: mailhealth exited 3 (unreadable input)`);
          if (floor !== undefined && ratio < floor) failures.push(`${label}: ${ratio.toFixed(2)}x is below the floor ${floor}x`);
        }
      }
    } else if (folders.length > 1) {
      out.write('\nfolders of files\n');
      for (const { label, dir } of folders.slice(1)) {
        const messages = messageCount(dir);
        await ours(dir);
        const a: Measured[] = [];
        for (let r = 0; r < rounds; r++) a.push(await ours(dir));
        const s = median(a.map((x) => x.seconds));
        out.write(`  ${label.padEnd(10)} ${String(messages).padStart(7)} msgs  ${s.toFixed(2)} s  ${Math.round(messages / s)} msg/s  peak ${median(a.map((x) => x.peakMiB)).toFixed(0)} MiB\n`);
      }
    }

    const mboxes = list(values['mbox-copies']);
    if (mboxes.length) out.write('\none mbox (split as it is read, results written as they come)\n');
    for (const n of mboxes) {
      const path = join(scratch, `corpus-x${n}.mbox`);
      const bytes = writeMbox(corpus, path, n);
      const messages = messageCount(path);
      const a: Measured[] = [];
      for (let r = 0; r < rounds; r++) a.push(await ours(path));
      const s = median(a.map((x) => x.seconds));
      const peak = Math.max(...a.map((x) => x.peakMiB));
      out.write(`  x${String(n).padEnd(4)} ${String(messages).padStart(7)} msgs ${(bytes / 1e6).toFixed(0).padStart(5)} MB  ${s.toFixed(2)} s  ${Math.round(messages / s)} msg/s  peak RSS ${peak.toFixed(0)} MiB (highest of ${rounds})\n`);
      if (maxRss !== undefined && peak > maxRss) failures.push(`mbox x${n}: peak RSS ${peak.toFixed(0)} MiB is above ${maxRss} MiB`);
      rmSync(path, { force: true });
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  for (const f of failures) process.stderr.write(`bench:bounce: ${f}\n`);
  return failures.length ? 1 : 0;
}
