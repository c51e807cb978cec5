/**
 * `npm run cost`: the README's cost table. Synthesizes the stack (offline, without bundling) for
 * 1, 10, 100 and 500 targets made from the committed example config, each target with an SMTP
 * secret of its own (the dearer case), reads what the cost depends on from each template, and
 * prints Markdown: the month's lines (fixed and per target) and the totals per fleet size.
 * `--json` prints the numbers instead.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { App } from 'aws-cdk-lib';
import { exampleConfigWithChannels } from './example-config.ts';
import type { Config } from '#core/config.ts';
import { PROJECT_ROOT } from '../lib/mail-function.ts';
import { MailHealthStack } from '../lib/mail-health-stack.ts';
import { costLines, costTotals, PRICES, structureOf, type CostLine } from './cost-model.ts';

const SIZES = [1, 10, 100, 500] as const;

/** `n` targets like the example's first, each with its own secret, or all sharing one JSON secret. */
export function fleetOf(example: Config, n: number, shared = false): Config {
  const base = example.targets[0]!;
  const targets = Array.from({ length: n }, (_, i) => {
    const name = `customer-${String(i).padStart(3, '0')}`;
    const auth = shared ? { user: `${name}@example.jp`, secretName: 'mail-health/smtp', secretKey: name } : { user: `${name}@example.jp`, secretName: `mail-health/${name}` };
    return { ...base, name, auth, from: `${name}@example.jp` };
  });
  return { ...example, targets };
}

/** The lines and totals of one synthesized deployment. */
export function priced(config: Config): { lines: CostLine[]; totals: ReturnType<typeof costTotals>; resources: number } {
  const { context } = JSON.parse(readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };
  const { config: _path, ...flags } = context;
  const app = new App({ context: { ...flags, 'aws:cdk:bundling-stacks': [] } });
  const stack = new MailHealthStack(app, 'MailHealthStack', { config });
  const resources = app.synth().getStackByName(stack.stackName).template.Resources as Parameters<typeof structureOf>[0];
  const deployed = JSON.parse(readFileSync(stack.configFile, 'utf8')) as Parameters<typeof structureOf>[1];
  const lines = costLines(structureOf(resources, deployed));
  return { lines, totals: costTotals(lines, config.targets.length), resources: Object.keys(resources).length };
}

const usd = (n: number) => `$${n.toFixed(2)}`;

async function main(): Promise<void> {
  // With its alert channels on, as deployed (the file has them commented out).
  const example = exampleConfigWithChannels();
  const rows = SIZES.map((n) => ({ n, own: priced(fleetOf(example, n)), shared: priced(fleetOf(example, n, true)) }));
  if (process.argv.includes('--json')) {
    process.stdout.write(`${JSON.stringify({ prices: PRICES, rows: rows.map((r) => ({ targets: r.n, resources: r.own.resources, own: r.own.totals, shared: r.shared.totals })) }, null, 2)}\n`);
    return;
  }
  const one = rows[0]!.own;
  const most = rows.at(-1)!.own;
  const out: string[] = [];
  out.push(`| item | usage (1 target) | fixed | per target (1) | per target (${rows.at(-1)!.n}) |`, '|---|---|---|---|---|');
  one.lines.forEach((l, i) => out.push(`| ${l.item} | ${l.usage} | ${usd(l.fixed)} | ${usd(l.perTarget)} | ${usd(most.lines[i]!.perTarget)} |`));
  out.push(`| **sum** | | **${usd(one.totals.fixed)}** | **${usd(one.totals.perTarget)}** | **${usd(most.totals.perTarget)}** |`, '');
  out.push('| targets | resources | fixed | per target, own secret | per target, one shared secret | month, own secrets | month, shared secret |', '|---|---|---|---|---|---|---|');
  for (const r of rows) {
    out.push(`| ${r.n} | ${r.own.resources} | ${usd(r.own.totals.fixed)} | ${usd(r.own.totals.perTarget)} | ${usd(r.shared.totals.perTarget)} | ${usd(r.own.totals.total)} | ${usd(r.shared.totals.total)} |`);
  }
  out.push('', `Prices: ${PRICES.asOf}. Usage per round, round trip and sweep: scripts/cost-model.ts (USAGE).`);
  process.stdout.write(`${out.join('\n')}\n`);
}

// Run as a script, not when a test imports the helpers above.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
