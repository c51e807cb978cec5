/**
 * The built CLI (dist/mailhealth.js), as users run it. Tests that start `mailhealth` as a
 * process use this file, never the TypeScript sources through tsx: the build is what ships.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildCli } from '../../scripts/build-cli.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');

/** The entry of the built CLI. */
export const BUILT_CLI = join(ROOT, 'dist', 'mailhealth.js');

// What the bundle is made from: a change to any of these makes dist/ stale.
const SOURCES = ['bin', 'functions', 'scripts/build-cli.ts', 'package.json', 'package-lock.json', 'mailhealth.config.example.jsonc', 'mailhealth.config.schema.json'];

function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const info = statSync(path);
  if (!info.isDirectory()) return info.mtimeMs;
  let newest = info.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

/** Builds dist/ when it is missing or older than its sources (a fresh clone has it from `prepare`). */
export async function ensureBuiltCli(): Promise<void> {
  const built = existsSync(BUILT_CLI) ? statSync(BUILT_CLI).mtimeMs : 0;
  const sources = Math.max(...SOURCES.map((s) => newestMtime(join(ROOT, s))));
  if (built >= sources) return;
  await buildCli();
}
