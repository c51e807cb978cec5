/**
 * The committed example config (mailhealth.config.example.jsonc) as a deployment would have it:
 * with its alert channels turned on. The file keeps them commented out, so that a copy (or what
 * `mailhealth init` writes) sends nothing until its user turns them on; the CDK tests, the cost
 * table (`npm run cost`) and the Lambda benchmark describe a deployment, which has them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseJsonc } from '#adapters/config-file.ts';
import { parseConfig, type Config } from '#core/config.ts';

export const EXAMPLE_CONFIG_PATH = join(import.meta.dirname, '..', 'mailhealth.config.example.jsonc');

/** The channels the example carries commented out, each on one line of its own. */
const CHANNELS = ['slack', 'email'] as const;

/** The example's text with the `//` in front of each alert channel's line removed. */
export function exampleTextWithChannels(text: string = readFileSync(EXAMPLE_CONFIG_PATH, 'utf8')): string {
  let out = text;
  for (const channel of CHANNELS) {
    const line = new RegExp(`^(\\s*)// ("${channel}": .*)$`, 'm');
    if (!line.test(out)) throw new Error(`${EXAMPLE_CONFIG_PATH}: no commented-out "${channel}" line in alerts to turn on`);
    out = out.replace(line, '$1$2');
  }
  return out;
}

/** The example config with its alert channels on, parsed as the CDK app parses a config (language en). */
export function exampleConfigWithChannels(): Config {
  return parseConfig(parseJsonc(exampleTextWithChannels(), EXAMPLE_CONFIG_PATH), { locale: 'en' });
}
