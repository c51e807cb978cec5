/**
 * Builds the `mailhealth` CLI into dist/ (package.json "bin" → dist/mailhealth.js):
 *
 *   npm run build                  (also run by `npm install` / `npm ci` through "prepare")
 *   tsx scripts/build-cli.ts [--out DIR] [--external]
 *
 * One ESM bundle for Node 20+, split per command: the entry holds only the command table, and
 * each command's chunk (with the dependencies it uses) loads when that command runs. The
 * dependencies are bundled, so the packed CLI needs nothing from the registry at run time and
 * starts faster than with them external (npm run bench:cli measures both; `--external` builds
 * the other variant for that comparison). Linked source maps sit beside each chunk
 * (`node --enable-source-maps dist/mailhealth.js …` maps stack traces to the TypeScript).
 */
import { readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build, type BuildOptions } from 'esbuild';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The esbuild settings of the CLI; `external` keeps node_modules out of the bundle. */
export function cliBuildOptions(outdir: string, options: { external?: boolean } = {}): BuildOptions {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  return {
    absWorkingDir: ROOT,
    // The CLI, and the worker threads `mailhealth bounce` spreads large inputs over.
    entryPoints: { mailhealth: 'bin/mailhealth.ts', 'bounce-worker': 'functions/local/cli/bounce-worker.ts' },
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: 'linked',
    // Stack traces need the mappings, not the sources (they would double dist/).
    sourcesContent: false,
    charset: 'utf8',
    minifySyntax: true,
    minifyWhitespace: true,
    legalComments: 'linked',
    // ESM entry points of dependencies first, so esbuild can drop what a command does not use.
    mainFields: ['module', 'main'],
    chunkNames: 'chunks/[name]-[hash]',
    define: { MAILHEALTH_VERSION: JSON.stringify(pkg.version), MAILHEALTH_BUILT: 'true' },
    // CommonJS dependencies (nodemailer, mailparser, smtp-server) call require() for Node
    // built-ins, which an ESM chunk does not define.
    banner: { js: "import{createRequire as __mhRequire}from'node:module';const require=__mhRequire(import.meta.url);" },
    ...(options.external ? { packages: 'external' as const } : {}),
    logLevel: 'warning',
  };
}

/** Builds the CLI into `outdir` (emptied first). */
export async function buildCli(outdir = join(ROOT, 'dist'), options: { external?: boolean } = {}): Promise<void> {
  rmSync(outdir, { recursive: true, force: true });
  await build(cliBuildOptions(outdir, options));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { out: { type: 'string' }, external: { type: 'boolean', default: false } } });
  const outdir = values.out ? resolve(values.out) : join(ROOT, 'dist');
  await buildCli(outdir, { external: values.external ?? false });
  process.stdout.write(`built ${join(outdir, 'mailhealth.js')}${values.external ? ' (dependencies external)' : ''}\n`);
}
