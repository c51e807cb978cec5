/**
 * `mailhealth init [--out F]`: writes a starting config, JSON with comments explaining every
 * field, and its JSON Schema beside it (`mailhealth.config.schema.json`, which the config names
 * in `$schema`, so editors complete and check it). The config is the project's example: every
 * alert channel is commented out, so nothing leaves the machine until the user turns one on.
 * Never overwrites: a file that is already there (a schema only when it differs) stops the
 * command with exit 3 before anything is written.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { DEFAULT_CONFIG_FILE, parseCommandArgs } from './commands.ts';
import type { Command } from './io.ts';

/** The file name of the schema, beside the config (the example's `$schema` names it). */
export const SCHEMA_FILE_NAME = 'mailhealth.config.schema.json';

// The build writes both files into the bundle (scripts/build-cli.ts); run from source, they are
// read from the checkout.
declare const MAILHEALTH_INIT_CONFIG: string | undefined;
declare const MAILHEALTH_INIT_SCHEMA: string | undefined;

/** The starting config's text and the schema's, as `init` writes them. */
export function starterFiles(): { readonly config: string; readonly schema: string } {
  if (typeof MAILHEALTH_INIT_CONFIG === 'string' && typeof MAILHEALTH_INIT_SCHEMA === 'string') return { config: MAILHEALTH_INIT_CONFIG, schema: MAILHEALTH_INIT_SCHEMA };
  const root = new URL('../../../', import.meta.url);
  return {
    config: readFileSync(new URL('mailhealth.config.example.jsonc', root), 'utf8'),
    schema: readFileSync(new URL(SCHEMA_FILE_NAME, root), 'utf8'),
  };
}

/** `mailhealth init [--out F]`. */
export const initCommand: Command = async (argv, io) => {
  const { values } = parseCommandArgs('init', argv, { allowPositionals: false });
  const configPath = resolve(io.cwd, values.text('out') ?? DEFAULT_CONFIG_FILE);
  const schemaPath = join(dirname(configPath), SCHEMA_FILE_NAME);
  const files = starterFiles();
  if (configPath === schemaPath) {
    io.stderr.write(`mailhealth: init: --out ${configPath} is the schema's own name; choose another name for the config\n`);
    return 3;
  }
  // Checked before anything is written: a refusal leaves the folder as it was.
  const taken = [configPath, ...(existsSync(schemaPath) && readFileSync(schemaPath, 'utf8') !== files.schema ? [schemaPath] : [])].filter((p) => existsSync(p));
  if (taken.length) {
    io.stderr.write(`mailhealth: init: ${taken.join(' and ')} already there, not overwritten (move it away, or pass --out FILE)\n`);
    return 3;
  }
  await mkdir(dirname(configPath), { recursive: true });
  // 'wx': created here or not at all, even if another process got there in the meantime.
  await writeFile(configPath, files.config, { flag: 'wx' });
  const schemaWritten = !existsSync(schemaPath);
  if (schemaWritten) await writeFile(schemaPath, files.schema, { flag: 'wx' });
  const shown = relative(io.cwd, configPath) || basename(configPath);
  const check = shown === DEFAULT_CONFIG_FILE ? 'mailhealth check' : `mailhealth check --config ${shown}`;
  io.stdout.write(
    [
      `wrote ${configPath}: a starting config, JSON with comments; no alert channel is on, so nothing leaves this machine until you turn one on`,
      schemaWritten ? `wrote ${schemaPath}: its JSON Schema, for editors` : `kept ${schemaPath}: the same JSON Schema`,
      'next:',
      `  1. edit ${shown}: bounceDomain, and your submission server under targets (host, auth, from, to)`,
      '  2. export SHOP_SMTP_PASSWORD=…   (the variable named by auth.passwordEnv)',
      `  3. ${check}   (one round now; mailhealth run for the loop)`,
      '',
    ].join('\n'),
  );
  return 0;
};
