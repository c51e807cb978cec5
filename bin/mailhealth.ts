#!/usr/bin/env node
/**
 * mailhealth: the local shell over the same core the Lambdas run (docs/REFERENCE.md, "Commands").
 * Built by `npm run build` into dist/mailhealth.js (package.json "bin"); in the checkout,
 * `npm run mailhealth -- <command>` runs this source through tsx.
 *
 * Start-up stays small: this file loads only the command table; `--help` and `--version` are
 * answered from it, and a command's implementation is imported (loaders.ts) only when it runs.
 */
import { setFlagsFromString } from 'node:v8';
import { mailHealthErrorCode, UsageError } from '#core/errors.ts';
import { asksForHelp, commandHelp, commandSpec, topLevelHelp, usageLine } from '#local/cli/commands.ts';
import { loadCommand } from '#local/cli/loaders.ts';
import { cliVersion } from '#local/cli/version.ts';

// A regular expression runs first as V8 bytecode and is compiled to machine code on its second
// run; for the bounce classifier's large phrase tables the bytecode compile costs more than the
// machine code one, in a process that classifies a folder and exits (about 7% of all the
// instructions of `mailhealth bounce` over 589 files). Straight to machine code, same results.
// Set before any command's module creates its expressions (the flag is read at creation).
// Node 20's V8 (11.x) sends a function to its optimizing compiler after little work; a command
// that classifies a folder and exits then spends more on compiling (on a second core, or the
// only one) than the optimized code gives back: 23% of the instructions of `mailhealth bounce`
// over the corpus, and still 7% over ten copies of it. A budget eight times the default waits
// for the functions that stay hot. Later engines count calls instead and need no change (the
// flag does not exist there, and setting an unknown flag prints an error).
// One call: V8 redoes its flag bookkeeping on each.
setFlagsFromString(process.versions.v8.startsWith('11.') ? '--no-regexp-tier-up --interrupt-budget=528000' : '--no-regexp-tier-up');

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-V') {
    process.stdout.write(`mailhealth ${await cliVersion()}\n`);
    return 0;
  }
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    const about = name === 'help' && rest[0] ? commandSpec(rest[0]) : undefined;
    process.stdout.write(about ? commandHelp(about) : topLevelHelp());
    return name ? 0 : 3;
  }
  const spec = commandSpec(name);
  if (!spec) {
    process.stderr.write(`mailhealth: unknown command '${name}'\n\n${topLevelHelp()}`);
    return 3;
  }
  if (asksForHelp(rest)) {
    process.stdout.write(commandHelp(spec));
    return 0;
  }
  // The first Ctrl-C asks a running loop to finish its round; a second one exits at once. Other
  // commands keep the default: Ctrl-C ends them (and no signal handling is set up for them).
  let stopSignal: AbortSignal | undefined;
  if (spec.runsUntilStopped) {
    const stop = new AbortController();
    process.once('SIGINT', () => {
      stop.abort();
      process.once('SIGINT', () => process.exit(130));
    });
    process.once('SIGTERM', () => stop.abort());
    stopSignal = stop.signal;
  }
  const [command, { processIO }] = await Promise.all([loadCommand(spec.name), import('#local/cli/io.ts')]);
  try {
    return await command(rest, processIO(stopSignal));
  } catch (err) {
    // A usage error names the command's usage, whatever the command itself wrote. By its code:
    // the command's file has its own copy of the error classes (see mailHealthErrorCode).
    if (mailHealthErrorCode(err) === 'USAGE' && !(err as Error).message.includes('usage: mailhealth')) throw new UsageError(`${(err as Error).message}\n${usageLine(name)}`, { cause: err });
    throw err;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    // Bad configuration and usage are UNKNOWN (3) with a one-line reason; anything else is a bug.
    process.exitCode = 3;
    if (mailHealthErrorCode(err)) process.stderr.write(`mailhealth: ${(err as Error).message}\n`);
    // A bug may leave servers or sockets open that would keep the process alive: it ends here, once the message is out.
    else process.stderr.write(`mailhealth: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`, () => process.exit(3));
  },
);
