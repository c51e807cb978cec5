/**
 * `mailhealth suppressions [--state DIR] [--json|--csv] [--since DATE] [--table NAME]`: the
 * addresses to stop mailing or fix (functions/core/suppression), from the bounces recorded in
 * a state directory, or with `--table` from the DynamoDB table of the AWS deployment (read with
 * the usual AWS credentials and region of the environment). Exit 0; bad usage 3.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { readAllBounces } from '#adapters/file-store.ts';
import { UsageError } from '#core/errors.ts';
import type { Language } from '#core/findings.ts';
import type { BounceRecord } from '#core/health/records.ts';
import type { Store } from '#core/ports.ts';
import { suppressionCsv, suppressionList, type SuppressionEntry } from '#core/suppression/list.ts';
import { readRunMeta } from '../loop.ts';
import { reportTime } from '../report/html.ts';
import { DEFAULT_STATE_DIR, demoStateHint } from './run.ts';
import { parseCommandArgs, usageLine } from './commands.ts';
import { languageFromEnv, padDisplay, styler, writeJson, type CliIO, type Command } from './io.ts';

interface Args {
  readonly state: string | undefined;
  readonly table: string | undefined;
  readonly format: 'text' | 'json' | 'csv';
  readonly since: string | undefined;
}

/** `2026-03-01` (the start of that day, UTC) or a full ISO time; null when it is neither. */
export function parseSince(text: string): string | null {
  const iso = /^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text;
  if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(iso)) return null;
  const ms = Date.parse(iso.replace(' ', 'T'));
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

function parse(argv: readonly string[]): Args {
  const { values } = parseCommandArgs('suppressions', argv, { allowPositionals: false });
  const state = values.text('state');
  const table = values.text('table');
  const sinceText = values.text('since');
  if (values.flag('json') && values.flag('csv')) throw new UsageError(`suppressions: --json and --csv do not go together\n${usageLine('suppressions')}`);
  if (state !== undefined && table !== undefined) throw new UsageError(`suppressions: --state and --table do not go together: a state directory or the AWS table\n${usageLine('suppressions')}`);
  let since: string | undefined;
  if (sinceText !== undefined) {
    const parsed = parseSince(sinceText);
    if (parsed === null) throw new UsageError(`suppressions: --since needs a date (2026-03-01) or an ISO time (2026-03-01T09:00:00+09:00); got ${sinceText}\n${usageLine('suppressions')}`);
    since = parsed;
  }
  return { state, table, format: values.flag('json') ? 'json' : values.flag('csv') ? 'csv' : 'text', since };
}

/** Every bounce of a Store (each target's and those without one). */
async function bouncesOf(store: Store): Promise<BounceRecord[]> {
  const all: BounceRecord[] = [];
  for (const target of [...(await store.listTargets()), null]) all.push(...(await store.listBounces(target, Number.POSITIVE_INFINITY)));
  return all;
}

const L = {
  heading: {
    en: '%d address(es) to stop mailing or fix (hard bounces; mailboxes still full a day or more later) · %s',
    ja: '配信を止めるか修正すべき宛先 %d 件（存在しない宛先など恒久的なエラー、1 日以上続く容量超過）· %s',
  },
  none: { en: 'No address to stop mailing or fix · %s', ja: '配信を止めるか修正すべき宛先はありません · %s' },
  columns: {
    en: ['address', 'reason', 'count', 'first seen', 'last seen', 'targets'],
    ja: ['宛先', '理由', '回数', '初回', '最終', '対象'],
  },
  since: { en: 'since %s', ja: '%s 以降' },
} as const;

function fill(template: string, ...values: (string | number)[]): string {
  let i = 0;
  return template.replace(/%[ds]/g, () => String(values[i++] ?? ''));
}

function table(entries: readonly SuppressionEntry[], lang: Language): string {
  const rows = [
    [...L.columns[lang]],
    ...entries.map((e) => [e.address, e.reason, String(e.count), reportTime(e.firstSeen, lang), reportTime(e.lastSeen, lang), e.targets.join(', ') || '–']),
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => [...(r[c] ?? '')].length)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : padDisplay(cell, widths[c]! + 1))).join(' ').trimEnd()).join('\n');
}

/** The outside world of the command; tests pass a DynamoDB client for a local stand-in. */
export interface SuppressionsDeps {
  readonly dynamoClient?: () => DynamoDBClient;
}

/** Builds the `suppressions` command. */
export function createSuppressionsCommand(deps: SuppressionsDeps = {}): Command {
  return async (argv, io: CliIO) => {
    const args = parse(argv);
    let records: BounceRecord[];
    let where: string;
    let lang: Language;
    if (args.table !== undefined) {
      // The AWS SDK loads only for --table (its own file in the build, dist/lib/vendor-aws.js).
      const [{ DynamoDBClient }, { createDynamoDbStore }] = await Promise.all([import('@aws-sdk/client-dynamodb'), import('#adapters/dynamodb-store.ts')]);
      const client = deps.dynamoClient?.() ?? new DynamoDBClient({});
      records = await bouncesOf(createDynamoDbStore({ client, tableName: args.table }));
      where = `DynamoDB table ${args.table}`;
      lang = languageFromEnv(io.env);
    } else {
      const stateDir = resolve(io.cwd, args.state ?? DEFAULT_STATE_DIR);
      if (!existsSync(stateDir)) throw new UsageError(`no state directory ${stateDir}: run \`mailhealth run\` first (or pass --state DIR)\n${usageLine('suppressions')}`);
      records = await readAllBounces(stateDir);
      where = stateDir;
      // After `npm start` the default state directory holds only the demo's, one level down.
      const hint = records.length === 0 ? demoStateHint(stateDir) : null;
      if (hint) io.stderr.write(`mailhealth: suppressions: no bounce recorded in ${stateDir} (${hint})\n`);
      lang = (await readRunMeta(stateDir))?.language ?? languageFromEnv(io.env);
    }
    const entries = suppressionList(records, args.since !== undefined ? { since: args.since } : {});
    if (args.format === 'json') writeJson(io, { addresses: entries });
    else if (args.format === 'csv') io.stdout.write(suppressionCsv(entries));
    else {
      const s = styler(io);
      const scope = args.since ? `${where} · ${fill(L.since[lang], reportTime(args.since, lang))}` : where;
      io.stdout.write(entries.length === 0 ? `${fill(L.none[lang], scope)}\n` : `${s.bold(fill(L.heading[lang], entries.length, scope))}\n${table(entries, lang)}\n`);
    }
    return 0;
  };
}

/** `mailhealth suppressions [--state DIR] [--json|--csv] [--since DATE] [--table NAME]`. */
export const suppressionsCommand: Command = createSuppressionsCommand();
