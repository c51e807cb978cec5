/**
 * The version `mailhealth --version` prints. The build writes it into the bundle
 * (esbuild `define`, scripts/build-cli.ts); run from source, it is read from package.json.
 */
// node:fs, not node:fs/promises: the entry imports this, and every command would load the latter.
import { readFileSync } from 'node:fs';

declare const MAILHEALTH_VERSION: string | undefined;

/** The package version, e.g. `0.1.0`. */
export async function cliVersion(): Promise<string> {
  if (typeof MAILHEALTH_VERSION === 'string') return MAILHEALTH_VERSION;
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}
