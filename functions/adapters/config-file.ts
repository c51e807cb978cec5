/**
 * Reads the config file from disk: JSON syntax errors and schema errors both become a
 * ConfigError naming the file and the field. Relative `ca` paths resolve against the file.
 */
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parseConfig, type Config } from '#core/config.ts';
import { ConfigError } from '#core/errors.ts';

/**
 * Removes // and /* *\/ comments outside strings, so the committed example can explain itself
 * (JSONC, as editors accept it). Line breaks are kept so JSON errors keep their positions.
 */
export function stripJsonComments(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j;
    } else if (ch === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
      out += '\n';
    } else if (ch === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      const stop = end === -1 ? text.length : end + 2;
      out += text.slice(i, stop).replace(/[^\n]/g, '');
      i = stop - 1;
    } else out += ch;
  }
  return out;
}

export async function loadConfigFile(path: string, env: { locale?: string } = {}): Promise<Config> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, undefined, { cause: err });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(stripJsonComments(text));
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
