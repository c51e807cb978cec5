#!/usr/bin/env -S node --import=tsx
/**
 * mailhealth: the local shell over the same core the Lambdas run (DESIGN.md "CLI").
 * Exit codes follow the monitoring-plugin convention: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
 */
import { MailHealthError } from '#core/errors.ts';
import { processIO, type Command } from '#local/cli/io.ts';

const COMMANDS: Record<string, () => Promise<Command>> = {
  check: async () => (await import('#local/cli/check.ts')).checkCommand,
  bounce: async () => (await import('#local/cli/bounce.ts')).bounceCommand,
  address: async () => (await import('#local/cli/address.ts')).addressCommand,
  run: async () => (await import('#local/cli/run.ts')).runCommand,
  report: async () => (await import('#local/cli/report.ts')).reportCommand,
};

const USAGE = `usage: mailhealth <command> [options]

commands:
  check   [--config F] [--target NAME] [--json] [--state DIR]   one canary round per target
  bounce  FILE_OR_DIR... [--json]                               classify bounce messages (.eml)
  address ADDR... [--json] [--dns]                              diagnose recipient addresses
  run     [--config F] [--state DIR] [--once] [--rounds N] [--interval S] [--drain S]
                                                                the scheduled loop (no config: the demo world)
  report  [--state DIR] [--out FILE] [--lang ja|en]             an HTML dashboard of the local history
`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(USAGE);
    return name ? 0 : 3;
  }
  const load = COMMANDS[name];
  if (!load) {
    process.stderr.write(`mailhealth: unknown command '${name}'\n\n${USAGE}`);
    return 3;
  }
  const stop = new AbortController();
  // The first Ctrl-C asks a running loop to finish its round; a second one exits at once.
  process.once('SIGINT', () => {
    stop.abort();
    process.once('SIGINT', () => process.exit(130));
  });
  process.once('SIGTERM', () => stop.abort());
  const command = await load();
  return command(rest, processIO(stop.signal));
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    // Bad configuration and usage are UNKNOWN (3) with a one-line reason; anything else is a bug.
    if (err instanceof MailHealthError) process.stderr.write(`mailhealth: ${err.message}\n`);
    else process.stderr.write(`mailhealth: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 3;
  },
);
