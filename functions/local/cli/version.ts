/**
 * The version `mailhealth --version` prints. The build writes it into the bundle
 * (esbuild `define`, scripts/build-cli.ts); run from source, it is read from package.json.
 */
import { readFile } from 'node:fs/promises';

declare const MAILHEALTH_VERSION: string | undefined;

/** The package version, e.g. `0.1.0`. */
export async function cliVersion(): Promise<string> {
  if (typeof MAILHEALTH_VERSION === 'string') return MAILHEALTH_VERSION;
  const pkg = JSON.parse(await readFile(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}
