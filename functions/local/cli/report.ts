/**
 * `mailhealth report [--state DIR] [--out FILE] [--lang ja|en]`: writes the HTML report of a
 * state directory (functions/local/report): status per target, success timeline, SMTP step
 * latency, bounces by reason, the latest findings with what to do, the alerts. `run` refreshes
 * the same page after every round; this command makes it on demand (or somewhere else).
 * The language is `--lang`, else the one the last `run` used, else LANG.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createFileStore } from '#adapters/file-store.ts';
import { UsageError } from '#core/errors.ts';
import type { Language } from '#core/findings.ts';
import { readRunMeta } from '../loop.ts';
import { writeReportFile } from '../report/write.ts';
import { DEFAULT_STATE_DIR, demoStateHint } from './run.ts';
import { parseCommandArgs, usageLine } from './commands.ts';
import { languageFromEnv, type CliIO, type Command } from './io.ts';

function parse(argv: readonly string[]): { state?: string; out?: string; lang?: Language } {
  const { values } = parseCommandArgs('report', argv, { allowPositionals: false });
  const lang = values.text('lang');
  if (lang !== undefined && lang !== 'ja' && lang !== 'en') throw new UsageError(`report: --lang must be ja or en (got ${lang})\n${usageLine('report')}`);
  const state = values.text('state');
  const out = values.text('out');
  return { ...(state !== undefined ? { state } : {}), ...(out !== undefined ? { out } : {}), ...(lang !== undefined ? { lang } : {}) };
}

/** Builds the `report` command (`now` for tests). */
export function createReportCommand(deps: { readonly now?: () => Date } = {}): Command {
  return async (argv: readonly string[], io: CliIO) => {
    const args = parse(argv);
    const stateDir = resolve(io.cwd, args.state ?? DEFAULT_STATE_DIR);
    if (!existsSync(stateDir)) throw new UsageError(`no state directory ${stateDir}: run \`mailhealth run\` first (or pass --state DIR)\n${usageLine('report')}`);
    const meta = await readRunMeta(stateDir);
    const language = args.lang ?? meta?.language ?? languageFromEnv(io.env);
    const out = resolve(io.cwd, args.out ?? join(stateDir, 'report.html'));
    const store = createFileStore({ dir: stateDir });
    if ((await store.listTargets()).length === 0) {
      const hint = demoStateHint(stateDir);
      io.stderr.write(`mailhealth: report: no rounds recorded in ${stateDir}${hint ? ` (${hint})` : ''}\n`);
    }
    await writeReportFile(store, out, {
      language,
      stateDir,
      now: (deps.now ?? (() => new Date()))(),
      ...(meta?.retention ? { retention: meta.retention } : {}),
      ...(meta?.deliveryTimeoutMinutes !== undefined ? { deliveryTimeoutMinutes: meta.deliveryTimeoutMinutes } : {}),
    });
    io.stdout.write(`${out}\n`);
    return 0;
  };
}

/** `mailhealth report [--state DIR] [--out FILE] [--lang ja|en]`. */
export const reportCommand: Command = createReportCommand();
