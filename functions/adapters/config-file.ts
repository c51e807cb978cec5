/**
 * Reads the config file from disk: JSON syntax errors and schema errors both become a
 * ConfigError naming the file and the field. Relative `ca` paths resolve against the file.
 */
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parseConfig, type Config } from '#core/config.ts';
import { ConfigError } from '#core/errors.ts';

export async function loadConfigFile(path: string, env: { locale?: string } = {}): Promise<Config> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, undefined, { cause: err });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`config file ${path} is not valid JSON: ${(err as Error).message}`, undefined, { cause: err });
  }
  let config: Config;
  try {
    config = parseConfig(doc, env);
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigError(`${path}: ${err.message}`, err.field, { cause: err });
    throw err;
  }
  const base = dirname(resolve(path));
  return {
    ...config,
    targets: config.targets.map((t) => (t.ca && !isAbsolute(t.ca) ? { ...t, ca: resolve(base, t.ca) } : t)),
  };
}
