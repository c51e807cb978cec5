/**
 * Writes mailhealth.config.schema.json, the JSON Schema of the config file derived from the zod
 * schema, with each field's TSDoc as its description, for editors (`"$schema":
 * "./mailhealth.config.schema.json"` in a config; `mailhealth init` writes it beside one). A test
 * checks the committed file is current: run `npm run schema` after changing functions/core/config.ts.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { configJsonSchema } from '#core/config.ts';
import { withDescriptions, type SchemaNode } from './config-docs.ts';

export const SCHEMA_FILE = join(import.meta.dirname, '..', 'mailhealth.config.schema.json');

/** The file's exact content. */
export function schemaFileContent(): string {
  return `${JSON.stringify({ title: 'mail-health config', ...withDescriptions(configJsonSchema() as SchemaNode) }, null, 2)}\n`;
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  writeFileSync(SCHEMA_FILE, schemaFileContent());
  process.stdout.write(`wrote ${SCHEMA_FILE}\n`);
}
