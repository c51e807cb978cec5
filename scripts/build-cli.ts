/**
 * Builds the `mailhealth` CLI into dist/ (package.json "bin" → dist/mailhealth.js):
 *
 *   npm run build                  (also run by `npm install` / `npm ci` through "prepare")
 *   tsx scripts/build-cli.ts [--out DIR] [--external]
 *
 * CommonJS bundles for Node 20+, one file per command: the entry holds only the command table,
 * and a command's file loads (require) when that command runs. CommonJS, not ES modules: Node's
 * ES module loader resolves, reads and links every file of a graph through promises, and on the
 * 589-file corpus `mailhealth bounce` as a whole process took 10% longer that way (19% on one
 * file) than with one CommonJS file per command; the sources stay ES modules, esbuild converts.
 * A dependency a command imports dynamically (mailparser, the AWS SDK clients of `run`) is a
 * file of its own in dist/lib/vendor-*.js, loaded only when the command reaches it. A command's
 * file loads through a V8 code cache (functions/local/cli/code-cache.ts).
 *
 * The dependencies are bundled, so the packed CLI needs nothing from the registry at run time;
 * `--external` builds the variant that requires them from node_modules instead (for comparing
 * start-up). Linked source maps sit beside each file
 * (`node --enable-source-maps dist/mailhealth.js …` maps stack traces to the TypeScript).
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build, type BuildOptions, type Plugin } from 'esbuild';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The commands of the table (functions/local/cli/loaders.ts imports `./<name>.ts`). */
const COMMANDS = ['check', 'bounce', 'address', 'dns', 'dmarc', 'run', 'report', 'suppressions', 'status', 'init'] as const;

/** The settings every bundle of the CLI shares. */
function sharedOptions(outdir: string, external: boolean): BuildOptions {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  return {
    absWorkingDir: ROOT,
    outdir,
    bundle: true,
    format: 'cjs',
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
    // The sources read import.meta.url (the bounce worker's file, the version from source).
    banner: { js: "const __mhUrl=require('node:url').pathToFileURL(__filename).href;" },
    define: {
      MAILHEALTH_VERSION: JSON.stringify(pkg.version),
      MAILHEALTH_BUILT: 'true',
      'import.meta.url': '__mhUrl',
      // What `mailhealth init` writes (functions/local/cli/init.ts): the example config and the
      // schema travel inside the bundle, so the packed CLI needs no file beside it.
      MAILHEALTH_INIT_CONFIG: JSON.stringify(readFileSync(join(ROOT, 'mailhealth.config.example.jsonc'), 'utf8')),
      MAILHEALTH_INIT_SCHEMA: JSON.stringify(readFileSync(join(ROOT, 'mailhealth.config.schema.json'), 'utf8')),
    },
    // import() becomes require() in a promise: what it names is either bundled in place or a
    // file of dist/ (the plugins below), and CommonJS loads both without the ES module loader.
    supported: { 'dynamic-import': false },
    ...(external ? { packages: 'external' as const } : {}),
    logLevel: 'warning',
  };
}

/** A bare package name imported with import(): `mailparser`, `@aws-sdk/client-sesv2`. */
const BARE_PACKAGE = /^(?:@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*$/;

// The AWS SDK's packages share most of their code: they go into one file, not one each.
const vendorGroup = (name: string): string => (/^@(?:aws-sdk|smithy)\/|^bowser$/.test(name) ? 'aws' : name.replace(/^@/, '').replace(/\//g, '-'));

/**
 * A package a command imports dynamically is not bundled into it: it becomes a property of
 * dist/lib/vendor-<group>.js, required when the import() runs. Collected by group here.
 */
function vendorPlugin(found: Map<string, Set<string>>): Plugin {
  return {
    name: 'mailhealth-vendor',
    setup(b) {
      b.onResolve({ filter: BARE_PACKAGE }, (args) => {
        if (args.kind !== 'dynamic-import' || args.path.startsWith('node:')) return undefined;
        const group = vendorGroup(args.path);
        found.set(group, (found.get(group) ?? new Set()).add(args.path));
        return { path: args.path, namespace: 'vendor', pluginData: group };
      });
      b.onLoad({ filter: /.*/, namespace: 'vendor' }, (args) => ({
        contents: `module.exports = require(${JSON.stringify(`./vendor-${args.pluginData as string}.js`)})[${JSON.stringify(args.path)}];`,
        loader: 'js',
      }));
      b.onResolve({ filter: /^\.\/vendor-[\w.-]+\.js$/, namespace: 'vendor' }, (args) => ({ path: args.path, external: true }));
    },
  };
}

/**
 * hoodiecrow-imap (the demo's seed mailbox) loads its plugins and commands by a computed
 * `require("./plugins/" + name)`. esbuild bundles every file of such a folder, but keys them
 * with their `.js`, so a name without it is "not found in bundle" at run time: the extension
 * is added where the name is computed.
 */
const computedRequirePlugin: Plugin = {
  name: 'mailhealth-computed-require',
  setup(b) {
    b.onLoad({ filter: /hoodiecrow-imap[\\/]lib[\\/]server\.js$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      const fixed = source
        .replace('require("./plugins/" + plugin.toLowerCase())', 'require("./plugins/" + plugin.toLowerCase() + ".js")')
        .replace('require("./commands/" + command.toLowerCase())', 'require("./commands/" + command.toLowerCase() + ".js")');
      if (fixed === source) throw new Error(`${args.path}: the computed requires changed; see computedRequirePlugin in scripts/build-cli.ts`);
      return { contents: fixed, loader: 'js' };
    });
  },
};

/** One vendor file: every package of the group as a property named after it. */
function vendorEntry(packages: ReadonlySet<string>): string {
  return [...packages].map((name, i) => `import * as p${i} from ${JSON.stringify(name)};\nexports[${JSON.stringify(name)}] = p${i};`).join('\n');
}

// The loop's commands share nearly all their code (the store, the listener, the alerting): one
// file. The one-shot commands a cron job or a support desk runs each have their own.
const COMMAND_FILES: Readonly<Record<(typeof COMMANDS)[number], string>> = {
  check: 'check',
  bounce: 'bounce',
  address: 'address',
  dns: 'dns',
  dmarc: 'dmarc',
  run: 'loop',
  report: 'loop',
  suppressions: 'loop',
  status: 'status',
  init: 'init',
};

/**
 * The entry requires each command's file (dist/lib/<file>.js) instead of bundling it, through
 * the V8 code cache of functions/local/cli/code-cache.ts.
 */
const commandFilesPlugin: Plugin = {
  name: 'mailhealth-command-files',
  setup(b) {
    const commandImport = new RegExp(`^\\./(${COMMANDS.join('|')})\\.ts$`);
    b.onResolve({ filter: commandImport }, (args) => {
      if (!args.importer.endsWith(join('cli', 'loaders.ts'))) return undefined;
      return { path: COMMAND_FILES[args.path.slice(2, -3) as (typeof COMMANDS)[number]], namespace: 'command-file' };
    });
    b.onLoad({ filter: /.*/, namespace: 'command-file' }, (args) => ({
      contents: `const { requireWithCodeCache } = require('./functions/local/cli/code-cache.ts');\nmodule.exports = requireWithCodeCache(require('node:path').join(__dirname, 'lib', ${JSON.stringify(`${args.path}.js`)}));`,
      loader: 'js',
      resolveDir: ROOT,
    }));
  },
};

/** Builds the CLI into `outdir` (emptied first). */
export async function buildCli(outdir = join(ROOT, 'dist'), options: { external?: boolean } = {}): Promise<void> {
  const external = options.external ?? false;
  rmSync(outdir, { recursive: true, force: true });
  const shared = sharedOptions(outdir, external);
  // Each command file re-exports its commands; beside them, the worker threads `mailhealth
  // bounce` spreads large inputs over.
  const files = new Map<string, string[]>();
  for (const name of COMMANDS) files.set(COMMAND_FILES[name], [...(files.get(COMMAND_FILES[name]) ?? []), name]);
  const vendors = new Map<string, Set<string>>();
  await build({
    ...shared,
    entryPoints: ['bounce-worker', ...files.keys()].map((file) => ({ in: `mailhealth-entry:${file}`, out: `lib/${file}` })),
    plugins: [
      {
        name: 'mailhealth-command-entries',
        setup(b) {
          b.onResolve({ filter: /^mailhealth-entry:/ }, (args) => ({ path: args.path.slice('mailhealth-entry:'.length), namespace: 'command-entry' }));
          b.onLoad({ filter: /.*/, namespace: 'command-entry' }, (args) => ({
            contents:
              args.path === 'bounce-worker'
                ? `import './functions/local/cli/bounce-worker.ts';`
                : files.get(args.path)!.map((name) => `export * from './functions/local/cli/${name}.ts';`).join('\n'),
            loader: 'ts',
            resolveDir: ROOT,
          }));
        },
      },
      ...(external ? [] : [vendorPlugin(vendors), computedRequirePlugin]),
    ],
  });
  if (vendors.size) {
    await build({
      ...shared,
      entryPoints: [...vendors.keys()].map((group) => ({ in: `mailhealth-vendor:${group}`, out: `lib/vendor-${group}` })),
      plugins: [
        {
          name: 'mailhealth-vendor-entries',
          setup(b) {
            b.onResolve({ filter: /^mailhealth-vendor:/ }, (args) => ({ path: args.path.slice('mailhealth-vendor:'.length), namespace: 'vendor-entry' }));
            b.onLoad({ filter: /.*/, namespace: 'vendor-entry' }, (args) => ({ contents: vendorEntry(vendors.get(args.path)!), loader: 'js', resolveDir: ROOT }));
          },
        },
      ],
    });
  }
  await build({ ...shared, entryPoints: { mailhealth: 'bin/mailhealth.ts' }, plugins: [commandFilesPlugin] });
  // The package is "type": "module"; the .js files of dist/ are CommonJS.
  writeFileSync(join(outdir, 'package.json'), '{ "type": "commonjs" }\n');
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { out: { type: 'string' }, external: { type: 'boolean', default: false } } });
  const outdir = values.out ? resolve(values.out) : join(ROOT, 'dist');
  await buildCli(outdir, { external: values.external ?? false });
  process.stdout.write(`built ${join(outdir, 'mailhealth.js')}${values.external ? ' (dependencies external)' : ''}\n`);
}
