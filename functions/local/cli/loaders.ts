/**
 * Where each command of the table (commands.ts) is implemented. A dynamic import per command:
 * its own file in the build (dist/lib/), loaded only when that command runs. Kept apart from the table
 * because the commands themselves read the table to parse their arguments.
 */
import type { Command } from './io.ts';

const LOADERS: Readonly<Record<string, () => Promise<Command>>> = {
  check: async () => (await import('./check.ts')).checkCommand,
  bounce: async () => (await import('./bounce.ts')).bounceCommand,
  address: async () => (await import('./address.ts')).addressCommand,
  dns: async () => (await import('./dns.ts')).dnsCommand,
  dmarc: async () => (await import('./dmarc.ts')).dmarcCommand,
  run: async () => (await import('./run.ts')).runCommand,
  report: async () => (await import('./report.ts')).reportCommand,
  suppressions: async () => (await import('./suppressions.ts')).suppressionsCommand,
  status: async () => (await import('./status.ts')).statusCommand,
  init: async () => (await import('./init.ts')).initCommand,
};

/** Loads the named command's implementation. */
export function loadCommand(name: string): Promise<Command> {
  const load = LOADERS[name];
  if (!load) throw new Error(`no implementation for the command '${name}' in loaders.ts`);
  return load();
}

/** The commands that have an implementation (the table's names, tested to match). */
export const IMPLEMENTED_COMMANDS: readonly string[] = Object.keys(LOADERS);
