/**
 * `mailhealth report [--state DIR] [--out FILE] [--lang ja|en]`: writes the HTML report of a
 * state directory (functions/local/report): status per target, success timeline, SMTP step
 * latency, bounces by reason, the latest findings with what to do, the alerts. `run` refreshes
 * the same page after every round; this command makes it on demand (or somewhere else).
 * The language is `--lang`, else the one the last `run` used, else LANG.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createFileStore } from '#adapters/file-store.ts';
import { UsageError } from '#core/errors.ts';
import type { Language } from '#core/findings.ts';
import { readRunMeta } from '../loop.ts';
import { writeReportFile } from '../report/write.ts';
import { DEFAULT_STATE_DIR } from './run.ts';
import { languageFromEnv, type CliIO, type Command } from './io.ts';

const USAGE = 'usage: mailhealth report [--state DIR] [--out FILE] [--lang ja|en]';

function parse(argv: readonly string[]) {
  try {
    const { values } = parseArgs({
      args: [...argv],
      options: { state: { type: 'string' }, out: { type: 'string', short: 'o' }, lang: { type: 'string' } },
      allowPositionals: false,
      strict: true,
    });
    if (values.lang !== undefined && values.lang !== 'ja' && values.lang !== 'en') throw new Error(`--lang must be ja or en (got ${values.lang})`);
    return values as { state?: string; out?: string; lang?: Language };
  } catch (err) {
    throw new UsageError(`${err instanceof Error ? err.message : String(err)}\n${USAGE}`, { cause: err });
  }
}

/** Builds the `report` command (`now` for tests). */
export function createReportCommand(deps: { readonly now?: () => Date } = {}): Command {
  return async (argv: readonly string[], io: CliIO) => {
    const args = parse(argv);
    const stateDir = resolve(io.cwd, args.state ?? DEFAULT_STATE_DIR);
    if (!existsSync(stateDir)) throw new UsageError(`no state directory ${stateDir}: run \`mailhealth run\` first (or pass --state DIR)\n${USAGE}`);
    const meta = await readRunMeta(stateDir);
    const language = args.lang ?? meta?.language ?? languageFromEnv(io.env);
    const out = resolve(io.cwd, args.out ?? join(stateDir, 'report.html'));
    const store = createFileStore({ dir: stateDir });
    if ((await store.listTargets()).length === 0) {
      const demo = join(stateDir, 'demo');
      const hint = existsSync(demo) ? ` (the demo keeps its history in ${demo}: pass --state ${demo})` : '';
      io.stderr.write(`mailhealth: report: no rounds recorded in ${stateDir}${hint}\n`);
    }
    await writeReportFile(store, out, { language, stateDir, now: (deps.now ?? (() => new Date()))() });
    io.stdout.write(`${out}\n`);
    return 0;
  };
}

/** `mailhealth report [--state DIR] [--out FILE] [--lang ja|en]`. */
export const reportCommand: Command = createReportCommand();
