/**
 * Writes docs/REFERENCE.md, the reference users and integrators rely on, from the code that is
 * its source (`npm run docs`):
 *
 * - the commands, their options with defaults, examples and exit codes: the command table
 *   (functions/local/cli/commands.ts), which `--help` prints too;
 * - the machine-readable output of each command: functions/local/cli/json-contracts.ts, which
 *   the tests hold against the real output;
 * - the finding codes: the code lists of functions/core/findings.ts (every exported `*_CODES`),
 *   with severity and meaning from functions/core/finding-docs.ts;
 * - the bounce reasons and alert groups: functions/core/results.ts, bounce/alert-groups.ts and
 *   bounce/findings.ts;
 * - the config: the zod schema of functions/core/config.ts, each field's TSDoc (scripts/config-docs.ts).
 *
 * A command, a code list, a config field or a contract added in the code appears at the next
 * run. What has no description yet is listed all the same and named on stderr. A test fails when
 * the committed file differs from what this writes: run `npm run docs` after such a change.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { alertGroupOf, type AlertGroup } from '#core/bounce/alert-groups.ts';
import { isHard } from '#core/bounce/classify.ts';
import { bounceCodeOf, bounceFinding, reasonText } from '#core/bounce/findings.ts';
import { configJsonSchema } from '#core/config.ts';
import { FINDING_DOCS } from '#core/finding-docs.ts';
import * as findings from '#core/findings.ts';
import type { FindingCode } from '#core/findings.ts';
import { BOUNCE_REASONS, type BounceReason } from '#core/results.ts';
import { COMMANDS, type CommandSpec } from '#local/cli/commands.ts';
import { OUTPUT_CONTRACTS, type OutputContract } from '#local/cli/json-contracts.ts';
import { configFieldDocs, keySignature, type FieldScope, type SchemaNode } from './config-docs.ts';

export const REFERENCE_FILE = join(import.meta.dirname, '..', 'docs', 'REFERENCE.md');

/** What the reference could not describe (a code without a row, a field without TSDoc, …). */
export interface Gaps {
  readonly items: string[];
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const code = (text: string) => (text.includes('`') ? `\`\` ${text} \`\`` : `\`${text}\``);
const anchor = (heading: string) =>
  heading
    .toLowerCase()
    .replace(/[^a-z0-9 -]/g, '')
    .trim()
    .replace(/ /g, '-');

// ---- commands

/** `0  OK` → ['0', 'OK']. */
function exitCodeParts(line: string): [string, string] {
  const m = /^(\d+)\s+(.*)$/.exec(line);
  return m ? [m[1]!, m[2]!] : ['', line];
}

function optionLabel(name: string, o: CommandSpec['options'][string]): string {
  return `${o.short ? `-${o.short}, ` : ''}--${name}${o.value ? ` ${o.value}` : ''}`;
}

function commandSection(spec: CommandSpec, gaps: Gaps): string[] {
  const out = [`### \`mailhealth ${spec.name}\``, '', `${spec.summary[0]!.toUpperCase()}${spec.summary.slice(1)}.`, '', '```', `mailhealth ${spec.usage}`, '```', ''];
  if (spec.operands) out.push(`Operands: ${code(spec.operands.split(/\s{2,}/)[0]!)} ${spec.operands.split(/\s{2,}/).slice(1).join(' ')}`, '');
  out.push('| option | what it does | default |', '|---|---|---|');
  for (const [name, o] of Object.entries(spec.options)) out.push(`| ${code(optionLabel(name, o))}${o.multiple ? ' (repeatable)' : ''} | ${cell(o.description)} | ${cell(o.default)} |`);
  out.push(`| \`-h, --help\` | this command's usage, options, examples and exit codes | |`, '');
  out.push('Examples:', '', '```sh');
  const width = Math.max(...spec.examples.map((e) => e.command.length));
  for (const e of spec.examples) out.push(`${e.command.padEnd(width)}   # ${e.comment}`);
  out.push('```', '', 'Exit codes:', '', '| code | meaning |', '|---|---|');
  for (const line of spec.exitCodes) {
    const [n, meaning] = exitCodeParts(line);
    out.push(`| ${n} | ${cell(meaning)} |`);
  }
  out.push('');
  const machine = Object.keys(spec.options).filter((o) => ['json', 'jsonl', 'csv'].includes(o));
  for (const option of machine) {
    const contract = OUTPUT_CONTRACTS[spec.name]?.find((c) => c.option === `--${option}`);
    if (!contract) {
      gaps.items.push(`command ${spec.name}: --${option} has no contract in functions/local/cli/json-contracts.ts`);
      out.push(`Output of \`--${option}\`: not documented yet.`, '');
      continue;
    }
    out.push(...contractSection(contract));
  }
  return out;
}

function contractSection(contract: OutputContract): string[] {
  const out = [`Output of \`${contract.option}\`: ${contract.summary}.`, ''];
  if (contract.schema) out.push('```', renderShape(z.toJSONSchema(contract.schema, { io: 'output' }) as SchemaNode, ''), '```', '');
  if (contract.header) out.push('Its header line:', '', '```', contract.header, '```', '');
  return out;
}

// ---- JSON shapes: JSON with the types in place of the values, `?` after an optional field

// Enumerations longer than this are named by their description instead of spelled out.
const ENUM_INLINE_MAX = 9;

/** A value's type in a line: JSON's names (`integer` kept apart for the config), enums spelled out. */
function typeOf(node: SchemaNode, options: { integer?: boolean } = {}): string {
  if (node.const !== undefined) return JSON.stringify(node.const);
  if (node.enum) return node.enum.length > ENUM_INLINE_MAX ? 'string' : node.enum.map((v) => JSON.stringify(v)).join(' | ');
  if (node.anyOf) return node.anyOf.map((n) => typeOf(n, options)).join(' | ');
  if (node.type === 'array') return `[ ${node.items ? typeOf(node.items, options) : 'any'}, … ]`;
  const types = Array.isArray(node.type) ? node.type : node.type ? [node.type] : ['any'];
  return types.map((t) => (t === 'integer' && !options.integer ? 'number' : t)).join(' | ');
}

// An object of a few plain fields (the `{ "en", "ja" }` texts) fits on one line.
const INLINE_OBJECT_MAX = 60;

function renderShape(node: SchemaNode, indent: string): string {
  const inner = `${indent}  `;
  if (node.type === 'object' && node.properties) {
    const required = new Set(node.required ?? []);
    const entries = Object.entries(node.properties);
    const flat = entries.every(([, c]) => !c.description && c.type !== 'object' && c.type !== 'array');
    const oneLine = `{ ${entries.map(([key, c]) => `${JSON.stringify(key)}${required.has(key) ? '' : '?'}: ${typeOf(c)}`).join(', ')} }`;
    if (flat && oneLine.length <= INLINE_OBJECT_MAX) return oneLine;
    const lines = entries.map(([key, child], i) => {
      const value = renderShape(child, inner);
      const comma = i < entries.length - 1 ? ',' : '';
      const comment = child.description ? `  // ${child.description}` : '';
      const [first, ...rest] = `${JSON.stringify(key)}${required.has(key) ? '' : '?'}: ${value}`.split('\n');
      // The comment goes on the field's own line; a multi-line value ends with the comma.
      return rest.length ? [`${inner}${first}${comment}`, ...rest.slice(0, -1), `${rest.at(-1)}${comma}`].join('\n') : `${inner}${first}${comma}${comment}`;
    });
    return `{\n${lines.join('\n')}\n${indent}}`;
  }
  if (node.type === 'object' && node.additionalProperties && typeof node.additionalProperties === 'object') {
    return `{ "<key>": ${renderShape(node.additionalProperties as SchemaNode, indent)}, … }`;
  }
  if (node.type === 'array' && node.items) {
    const item = renderShape(node.items, inner);
    return item.includes('\n') ? `[\n${inner}${item},\n${inner}…\n${indent}]` : `[ ${item}, … ]`;
  }
  return typeOf(node);
}

// ---- finding codes

const CODE_LIST_TITLES: Readonly<Record<string, string>> = {
  PROBE_CODES: 'The canary round: port probe and SMTP session',
  AUTH_CODES: 'Authentication: the sending domain, the sending server, the delivered canary',
  BOUNCE_CODES: 'Returned mail and the round trip',
  ADDRESS_CODES: 'Recipient addresses',
};

/** Every exported `*_CODES` list of findings.ts: the titled ones in the order above, then the others by name. */
function codeLists(extra: Readonly<Record<string, readonly string[]>> = {}): [string, readonly string[]][] {
  const lists: [string, readonly string[]][] = [];
  for (const [name, value] of Object.entries({ ...(findings as Record<string, unknown>), ...extra })) {
    if (/_CODES$/.test(name) && Array.isArray(value) && value.every((c) => typeof c === 'string')) lists.push([name, value as string[]]);
  }
  const titled = Object.keys(CODE_LIST_TITLES);
  const rank = (name: string) => (titled.includes(name) ? titled.indexOf(name) : titled.length);
  return lists.sort((a, b) => rank(a[0]) - rank(b[0]) || (a[0] < b[0] ? -1 : 1));
}

function listTitle(name: string): string {
  const words = name.replace(/_CODES$/, '').toLowerCase().replace(/_/g, ' ');
  return CODE_LIST_TITLES[name] ?? `${words[0]!.toUpperCase()}${words.slice(1)}`;
}

function findingSection(gaps: Gaps, extraCodeLists?: Readonly<Record<string, readonly string[]>>): string[] {
  const out = [
    '## Finding codes',
    '',
    'Every finding carries a `code` from this closed list (codes are added, never renamed), a `severity`, and a',
    '`message` and `remedy` in English and Japanese. Severities: `critical` (mail does not go out, or certainly',
    'fails), `warning` (it goes out, but something needs attention), `info` (a fact to know, nothing to fix). A',
    "round's status is its worst finding's (info never degrades it): `ok`, `warning`, `critical`, and `unknown`",
    'for a check that could not run.',
    '',
  ];
  for (const [name, list] of codeLists(extraCodeLists)) {
    out.push(`### ${listTitle(name)}`, '', '| code | severity | meaning |', '|---|---|---|');
    for (const c of list) {
      const doc = FINDING_DOCS[c as FindingCode];
      if (!doc) gaps.items.push(`finding ${c}: no row in functions/core/finding-docs.ts`);
      const severity = doc ? `${doc.severity.join(', ')}${doc.when ? ` (${doc.when})` : ''}` : '';
      out.push(`| \`${c}\` | ${cell(severity)} | ${cell(doc?.meaning ?? 'not described yet')} |`);
    }
    out.push('');
  }
  return out;
}

// ---- bounce reasons

function bounceSection(): string[] {
  const sample = (reason: BounceReason) => bounceFinding({ recipient: 'x@example.jp', reason, status: null, replyCode: null, hard: false, diagnostic: null, remoteMta: null, canaryId: null }, { addressNote: null });
  const out = [
    '## Bounce reasons and alert groups',
    '',
    "`bounce` and the intake give each bounced recipient a `reason` in Sisimai's vocabulary (lower case), so",
    'results compare with the most widely used bounce classifier. The reason decides the alert group, and the',
    "group the finding an alert carries. `hard` (in `bounce --json`) is true only for the reasons marked below, and only when the failure is permanent: the",
    'address itself is bad, sending again will not succeed.',
    '',
    '| reason | meaning | alert group | finding | hard when permanent |',
    '|---|---|---|---|---|',
  ];
  for (const reason of BOUNCE_REASONS) {
    const group = alertGroupOf(reason);
    const finding = sample(reason);
    out.push(`| \`${reason}\` | ${cell(reasonText(reason).en)} | ${group ?? '(none: not a failure)'} | ${finding ? `\`${finding.code}\` (${finding.severity})` : '–'} | ${isHard(reason, true) ? 'yes' : 'no'} |`);
  }
  const groups = new Map<AlertGroup, BounceReason[]>();
  for (const reason of BOUNCE_REASONS) {
    const group = alertGroupOf(reason);
    if (group) groups.set(group, [...(groups.get(group) ?? []), reason]);
  }
  out.push('', 'The alert groups (a storm is digested per target and group; the exit code of `bounce` reads them):', '', '| alert group | reasons | finding | `bounce` exit code |', '|---|---|---|---|');
  for (const [group, reasons] of groups) {
    const finding = sample(reasons[0]!)!;
    out.push(`| ${group} | ${reasons.map((r) => `\`${r}\``).join(', ')} | \`${bounceCodeOf(reasons[0]!)}\` (${finding.severity}) | ${group === 'transient' ? 1 : 2} |`);
  }
  out.push('');
  return out;
}

// ---- config

interface ConfigRow {
  readonly path: string;
  readonly type: string;
  readonly required: boolean;
  readonly defaultText: string;
  readonly scope: FieldScope;
  readonly description: string;
}

function configRows(gaps: Gaps): ConfigRow[] {
  const docs = configFieldDocs();
  const rows: ConfigRow[] = [];
  const walk = (node: SchemaNode, prefix: string, inherited: FieldScope): void => {
    const fields = node.properties ? docs.get(keySignature(Object.keys(node.properties))) : undefined;
    const required = new Set(node.required ?? []);
    for (const [key, child] of Object.entries(node.properties ?? {})) {
      const path = `${prefix}${key}`;
      const doc = fields?.get(key);
      if (!doc?.description) gaps.items.push(`config ${path}: no TSDoc in functions/core/config.ts`);
      const scope = doc?.scope ?? inherited;
      const isArray = child.type === 'array';
      const element = isArray ? child.items : undefined;
      const objectLike = (n: SchemaNode | undefined) => n?.type === 'object' && n.properties !== undefined;
      const type = objectLike(child) ? 'object' : isArray ? (objectLike(element) ? 'array of objects' : `array of ${element ? plural(typeOf(element, { integer: true })) : 'anything'}`) : typeOf(child, { integer: true });
      // An object's `{}` default only says its fields have theirs; a default the schema cannot hold is the comment's `@default`.
      const schemaDefault = objectLike(child) && child.default !== undefined && Object.keys(child.default as object).length === 0 ? undefined : child.default;
      const defaultText = schemaDefault !== undefined ? code(JSON.stringify(schemaDefault)) : (doc?.defaultText ?? '');
      rows.push({ path, type, required: required.has(key), defaultText, scope, description: doc?.description ?? '' });
      if (objectLike(child)) walk(child, `${path}.`, scope);
      if (objectLike(element)) walk(element!, `${path}[].`, scope);
    }
  };
  walk(configJsonSchema() as SchemaNode, '', 'both');
  return rows;
}

const plural = (type: string) => (/^(string|integer|number|boolean)$/.test(type) ? `${type}s` : type);

const SCOPE_WORDS: Readonly<Record<FieldScope, string>> = { both: 'local, AWS', local: 'local', aws: 'AWS' };

function configSection(gaps: Gaps): string[] {
  const out = [
    '## Config',
    '',
    'One file, read by the CLI (`check`, `run`) and by the CDK app (`npx cdk deploy -c config=FILE`): JSON, with',
    '`//` comments and trailing commas allowed. `mailhealth init` writes a commented starting one, with every',
    'alert channel off, and beside it `mailhealth.config.schema.json`, the JSON Schema editors use for completion',
    'and checks (the config names it in `$schema`). A field that is wrong stops the command with exit 3 and a',
    'message naming the field; in AWS, the synth fails the same way.',
    '',
    'Where: `local` applies to the `mailhealth` commands on this machine only, `AWS` to the deployment only.',
    'Secrets are never in the file for AWS: a target names its Secrets Manager secret (`auth.secretName`);',
    'locally the password comes from the environment variable `auth.passwordEnv` (or `auth.password`).',
    '',
    '| field | type | default | where | what it is |',
    '|---|---|---|---|---|',
  ];
  for (const r of configRows(gaps)) {
    const def = r.required ? '(required)' : r.defaultText;
    out.push(`| \`${r.path}\` | ${cell(r.type)} | ${cell(def)} | ${SCOPE_WORDS[r.scope]} | ${cell(r.description)} |`);
  }
  out.push('');
  return out;
}

// ---- the document

function exitCodeTable(): string[] {
  const out = ['## Exit codes', '', 'For scripts, cron and monitoring systems (`check` and `dns` follow the monitoring-plugin convention).', '', '| command | 0 | 1 | 2 | 3 |', '|---|---|---|---|---|'];
  for (const spec of COMMANDS) {
    const byCode = new Map<string, string>();
    for (const line of spec.exitCodes) {
      const [n, meaning] = exitCodeParts(line);
      byCode.set(n, byCode.has(n) ? `${byCode.get(n)}; ${meaning}` : meaning);
    }
    out.push(`| \`${spec.name}\` | ${['0', '1', '2', '3'].map((n) => cell(byCode.get(n) ?? '–')).join(' | ')} |`);
  }
  out.push('');
  return out;
}

/**
 * The reference's exact text, and what it could not describe.
 * @param options.extraCodeLists code lists besides findings.ts's (tests: how an added list shows)
 */
export function referenceContent(options: { readonly extraCodeLists?: Readonly<Record<string, readonly string[]>> } = {}): { text: string; gaps: string[] } {
  const gaps: Gaps = { items: [] };
  const sections = ['Commands', 'Exit codes', 'Finding codes', 'Bounce reasons and alert groups', 'Config'];
  const lines = [
    '# mail-health reference',
    '',
    '<!-- Generated by `npm run docs` (scripts/write-reference.ts) from the code; do not edit by hand. -->',
    '',
    'What a user or an integrator relies on, in one place: the commands with their options, exit codes and',
    'machine-readable output, the finding codes, the bounce reasons and their alert groups, and the config file.',
    'It is generated from the code that implements them, so it says what this version does. The README tells',
    'how to use them.',
    '',
    ...sections.map((s) => `- [${s}](#${anchor(s)})`),
    '',
    '## Commands',
    '',
    "`mailhealth <command> [options]`; `mailhealth <command> --help` prints a command's usage, options, examples",
    'and exit codes, `mailhealth --version` the version. In a checkout, `npm run mailhealth -- <command>` runs the',
    'same from the sources. A wrong option or value names the usage and exits 3. With `--json` (or `--jsonl`,',
    '`--csv`) stdout holds the document and nothing else; notes go to stderr. Human output is coloured only on a',
    'terminal (never with `NO_COLOR` set), in Japanese when `LANG` (or `LC_ALL`, `LC_MESSAGES`) starts with `ja`.',
    '',
    'The shapes below show JSON with the type in place of each value; `?` marks a field that may be absent,',
    '`[ x, … ]` a list, `{ "<key>": x, … }` an object of named entries.',
    '',
    ...COMMANDS.flatMap((spec) => commandSection(spec, gaps)),
    ...exitCodeTable(),
    ...findingSection(gaps, options.extraCodeLists),
    ...bounceSection(),
    ...configSection(gaps),
  ];
  return { text: `${lines.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd()}\n`, gaps: gaps.items };
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  const { text, gaps } = referenceContent();
  mkdirSync(dirname(REFERENCE_FILE), { recursive: true });
  writeFileSync(REFERENCE_FILE, text);
  process.stdout.write(`wrote ${REFERENCE_FILE}\n`);
  for (const gap of gaps) process.stderr.write(`not described yet: ${gap}\n`);
}
