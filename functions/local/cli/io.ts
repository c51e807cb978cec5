/**
 * What a CLI command gets from the process, passed in so commands are testable in-process.
 * Colours and spinners only when stdout is a terminal; `--json` output stays clean.
 */
import type { Language } from '#core/findings.ts';
import { languageFromLocale } from '#core/language.ts';

export interface CliIO {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };
  /** Standard input, for commands that read `-` (absent in tests that give none). */
  readonly stdin?: NodeJS.ReadableStream;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  /** Resolves when the user asks to stop (Ctrl-C); used by long-running commands. */
  readonly stopSignal?: AbortSignal;
}

/** A command: parses its own arguments, returns the process exit code. */
export type Command = (argv: readonly string[], io: CliIO) => Promise<number>;

/** The real process's streams, environment and working directory. */
export function processIO(stopSignal?: AbortSignal): CliIO {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    // A getter: touching process.stdin opens it, which only `bounce -` needs.
    get stdin() {
      return process.stdin;
    },
    env: process.env,
    cwd: process.cwd(),
    stopSignal,
  };
}

/** ANSI styling that disappears when stdout is not a TTY (or NO_COLOR is set). */
export function styler(io: CliIO) {
  const on = Boolean(io.stdout.isTTY) && !io.env.NO_COLOR;
  const wrap = (open: number, close: number) => (s: string) => (on ? `\u001b[${open}m${s}\u001b[${close}m` : s);
  return {
    enabled: on,
    bold: wrap(1, 22),
    dim: wrap(2, 22),
    red: wrap(31, 39),
    green: wrap(32, 39),
    yellow: wrap(33, 39),
    cyan: wrap(36, 39),
  };
}

/** The locale the environment asks for, in POSIX precedence: LC_ALL, LC_MESSAGES, LANG. */
export function localeOf(env: NodeJS.ProcessEnv): string | undefined {
  return env.LC_ALL || env.LC_MESSAGES || env.LANG;
}

/** The language for human output when no config says otherwise: from LANG / LC_ALL. */
export function languageFromEnv(env: NodeJS.ProcessEnv): Language {
  return languageFromLocale(localeOf(env));
}

/** Pads a string to a display width, counting East Asian wide characters as two columns. */
export function padDisplay(s: string, width: number): string {
  let w = 0;
  for (const ch of s) w += /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/.test(ch) ? 2 : 1;
  return w >= width ? s : s + ' '.repeat(width - w);
}

/** Writes one JSON document followed by a newline: the whole stdout of a `--json` run. */
export function writeJson(io: CliIO, doc: unknown): void {
  io.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
}
