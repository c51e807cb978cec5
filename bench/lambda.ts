/**
 * npm run bench:lambda [-- --runs N] [--check] [--bundle-sdk] [NAME=ENTRY ...]
 *
 * For each Lambda handler: the size of its bundle (esbuild with exactly MailFunction's settings)
 * and its cold import time, the median over N fresh node processes importing the bundle, beside
 * the same handler imported unbundled through tsx. Both run with --enable-source-maps as in
 * Lambda, with the stack's environment contract filled with dummy values.
 * Targets: canary bundle ≤ 400 KB, bounce ≤ 1.2 MB, bundled init ≥ 2x faster than unbundled.
 * `--check` makes a missed target exit 1. `NAME=ENTRY` arguments measure those entries instead
 * of the handlers (e.g. a prototype); NAME canary or bounce keeps its size target.
 * `--bundle-sdk` bundles the AWS SDK too (MailFunction's `bundleAwsSdk`), to compare.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { exampleConfigWithChannels } from '../scripts/example-config.ts';
import { deployedConfig, HANDLER_ENV } from '../lib/mail-health-stack.ts';
import { BUNDLE, METRICS_NAMESPACE, PROJECT_ROOT, SERVICE_NAME } from '../lib/mail-function.ts';

const SIZE_TARGETS: Readonly<Record<string, number>> = { canary: 400 * 1024, bounce: 1.2 * 1024 * 1024 };
const HANDLERS: readonly { name: string; entry: string }[] = [
  { name: 'canary', entry: 'functions/canary/index.ts' },
  { name: 'bounce', entry: 'functions/bounce/index.ts' },
  { name: 'alert', entry: 'functions/alert/index.ts' },
  { name: 'sweeper', entry: 'functions/sweeper/index.ts' },
  { name: 'ses-rule-set', entry: 'functions/ses-rule-set/index.ts' },
];
const MIN_SPEEDUP = 2;
/** Bounds one import so a handler that hangs at init cannot hang the benchmark. */
const IMPORT_TIMEOUT_MS = 60_000;
// Under the project root so the external @aws-sdk/* imports resolve from node_modules, as they
// resolve from the runtime's SDK in Lambda.
const OUT_DIR = join(PROJECT_ROOT, 'artifacts', 'bench-lambda');

const USAGE = 'usage: npm run bench:lambda [-- --runs N] [--check] [--bundle-sdk] [NAME=ENTRY ...]\n';
/** Bad usage: say what is wrong and how to call it, exit 2 (no stack trace). */
function usageError(message: string): never {
  process.stderr.write(`bench:lambda: ${message}\n${USAGE}`);
  process.exit(2);
}
const { values, positionals } = (() => {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        runs: { type: 'string', default: '15' },
        check: { type: 'boolean', default: false },
        'bundle-sdk': { type: 'boolean', default: false },
      },
    });
  } catch (err) {
    return usageError(err instanceof Error ? err.message : String(err));
  }
})();
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) usageError(`--runs ${values.runs}: expected a positive integer`);
const entries = positionals.length === 0 ? HANDLERS : positionals.map((p) => {
  const [name, entry] = p.split('=', 2);
  if (!name || !entry) usageError(`${p}: expected NAME=ENTRY`);
  return { name, entry };
});

// With its alert channels on, as deployed (the file has them commented out).
const example = exampleConfigWithChannels();
rmSync(OUT_DIR, { recursive: true, force: true });
mkdirSync(OUT_DIR, { recursive: true });
// The deployed config as the stack puts it beside each bundle.
const configFile = join(OUT_DIR, 'mailhealth.config.json');
writeFileSync(configFile, JSON.stringify(deployedConfig(example)));
const env: NodeJS.ProcessEnv = {
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  AWS_REGION: 'us-east-1',
  [HANDLER_ENV.configFile]: configFile,
  [HANDLER_ENV.tableName]: 'bench-table',
  [HANDLER_ENV.alertTopicArn]: 'arn:aws:sns:us-east-1:123456789012:bench-alerts',
  [HANDLER_ENV.rawMailBucket]: 'bench-raw-mail',
  [HANDLER_ENV.rawMailPrefix]: 'raw/',
  [HANDLER_ENV.slackSecretId]: 'mail-health/slack-webhook',
  [HANDLER_ENV.roundIntervalSeconds]: '300',
  [HANDLER_ENV.silentAfterSeconds]: '1020',
  POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
  POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
  POWERTOOLS_LOG_LEVEL: 'INFO',
};

/** Imports `url` in a fresh node process and returns the milliseconds the import took. */
function importOnce(url: string, nodeArgs: readonly string[]): number {
  const script = `const t0 = performance.now(); await import(${JSON.stringify(url)}); process.stdout.write(String(performance.now() - t0));`;
  const run = spawnSync(process.execPath, [...nodeArgs, '--enable-source-maps', '--input-type=module', '-e', script], {
    cwd: PROJECT_ROOT,
    env,
    encoding: 'utf8',
    timeout: IMPORT_TIMEOUT_MS,
  });
  if (run.status !== 0) {
    const why = run.error?.message ?? run.stderr.trim().split('\n').slice(-3).join(' | ');
    throw new Error(`import failed: ${why}`);
  }
  return Number(run.stdout);
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
const ms = (x: number) => `${x.toFixed(1)} ms`;

const external = values['bundle-sdk'] ? 'AWS SDK bundled' : `external ${BUNDLE.externalModules.join(' ')}`;
process.stdout.write(`node ${process.version}, ${runs} fresh processes per measurement, esbuild ${BUNDLE.format} ${BUNDLE.target} minified, ${external}\n\n`);

const rows: string[][] = [['function', 'bundle', 'source map', 'bundled init', 'unbundled init', 'speed-up', 'verdict']];
let missed = 0;
for (const h of entries) {
  const outfile = join(OUT_DIR, h.name, 'index.mjs');
  await build({
    entryPoints: [resolve(PROJECT_ROOT, h.entry)],
    outfile,
    bundle: true,
    platform: 'node',
    target: BUNDLE.target,
    format: BUNDLE.format,
    minify: BUNDLE.minify,
    sourcemap: BUNDLE.sourceMap,
    sourcesContent: BUNDLE.sourcesContent,
    charset: BUNDLE.charset,
    mainFields: [...BUNDLE.mainFields],
    banner: { js: BUNDLE.banner },
    external: values['bundle-sdk'] ? [] : [...BUNDLE.externalModules],
    logLevel: 'error',
  });
  const size = statSync(outfile).size;
  const mapSize = statSync(`${outfile}.map`).size;
  const verdicts: string[] = [];
  const maxBytes = SIZE_TARGETS[h.name];
  if (maxBytes !== undefined) {
    const ok = size <= maxBytes;
    if (!ok) missed++;
    verdicts.push(`size ${ok ? 'ok' : 'OVER'} (≤ ${kb(maxBytes)})`);
  }
  let bundled = '-';
  let unbundled = '-';
  let speedup = '-';
  try {
    const b = median(Array.from({ length: runs }, () => importOnce(pathToFileURL(outfile).href, [])));
    const u = median(Array.from({ length: runs }, () => importOnce(pathToFileURL(resolve(PROJECT_ROOT, h.entry)).href, ['--import', 'tsx'])));
    bundled = ms(b);
    unbundled = ms(u);
    speedup = `${(u / b).toFixed(1)}x`;
    const ok = u / b >= MIN_SPEEDUP;
    if (!ok) missed++;
    verdicts.push(`init ${ok ? 'ok' : 'SLOW'} (≥ ${MIN_SPEEDUP}x)`);
  } catch (err) {
    missed++;
    verdicts.push((err as Error).message);
  }
  rows.push([h.name, kb(size), kb(mapSize), bundled, unbundled, speedup, verdicts.join(', ')]);
}

const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
for (const r of rows) process.stdout.write(`${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')}\n`);
process.stdout.write(`\n${missed === 0 ? 'all targets met' : `${missed} target(s) missed`}\n`);
if (values.check && missed > 0) process.exitCode = 1;
