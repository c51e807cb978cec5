/**
 * Bounce classifier benchmark: agreement with a labelled corpus and throughput.
 *
 *   npm run bench:bounce [-- --corpus DIR] [--passes N] [--min-reason PCT] [--min-recipient PCT]
 *                        [--min-rate MSG_PER_S] [--min-headline PCT] [--misses] [--no-fast-path]
 *
 * The default corpus is ../shared/corpus/sisimai next to the repository (see its README.md):
 * `manifest.jsonl` has one labelled line per bounced recipient. The corpus is read in place,
 * never copied. Prints reason agreement overall and per reason (with what each reason was
 * mistaken for), recipient, status and hard/soft agreement, throughput (median of several
 * in-process passes over the whole folder, after one warm-up), then one JSON summary line.
 * Exits 1 when a `--min-*` floor is missed, 2 on bad usage or an unreadable corpus.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { createMailParser } from '#adapters/mail-parser.ts';
import { analyzeBounce, type BounceAnalysis } from '#core/bounce/analyze.ts';
import { splitMailbox } from '#core/bounce/mbox.ts';

interface Row {
  file: string;
  recipientIndex: number;
  expectedRecipient: string;
  expectedReason: string;
  expectedStatus: string | null;
  expectedHardBounce: boolean;
}

const HEADLINE: Record<string, readonly string[]> = {
  mailboxfull: ['mailboxfull'],
  userunknown: ['userunknown'],
  hostunknown: ['hostunknown'],
  'mesgtoobig+exceedlimit': ['mesgtoobig', 'exceedlimit'],
};

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OPTIONS = {
  corpus: { type: 'string' },
  passes: { type: 'string', default: '7' },
  'min-reason': { type: 'string' },
  'min-recipient': { type: 'string' },
  'min-rate': { type: 'string' },
  'min-headline': { type: 'string' },
  misses: { type: 'boolean', default: false },
  'no-fast-path': { type: 'boolean', default: false },
} as const;
const USAGE = 'usage: npm run bench:bounce [-- --corpus DIR] [--passes N] [--min-reason PCT] [--min-recipient PCT] [--min-rate MSG_PER_S] [--min-headline PCT] [--misses] [--no-fast-path]\n';
const parsed = (() => {
  try {
    return parseArgs({ options: OPTIONS });
  } catch (err) {
    process.stderr.write(`bench:bounce: ${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
    process.exit(2);
  }
})();
const { values } = parsed;

const floor = (name: string, raw: string | undefined): number | undefined => {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (Number.isNaN(n)) {
    process.stderr.write(`bench:bounce: --${name} must be a number, not '${raw}'\n`);
    process.exit(2);
  }
  return n;
};
const floors = { reason: floor('min-reason', values['min-reason']), recipient: floor('min-recipient', values['min-recipient']), rate: floor('min-rate', values['min-rate']), headline: floor('min-headline', values['min-headline']) };
const corpus = values.corpus ? resolve(values.corpus) : resolve(repoRoot, '..', 'shared', 'corpus', 'sisimai');
const manifestPath = join(corpus, 'manifest.jsonl');
if (!existsSync(manifestPath)) {
  process.stderr.write(`bench:bounce: no manifest.jsonl in ${corpus}\n`);
  process.exit(values.corpus ? 2 : 0);
}
const readme = existsSync(join(corpus, 'README.md')) ? readFileSync(join(corpus, 'README.md'), 'utf8').split('\n')[0]!.replace(/^#\s*/, '') : corpus;
const rows: Row[] = readFileSync(manifestPath, 'utf8')
  .split('\n')
  .filter((l) => l.trim())
  .map((l) => JSON.parse(l) as Row);
const files = [...new Set(rows.map((r) => r.file))];
const bytes = new Map(files.map((f) => [f, new Uint8Array(readFileSync(join(corpus, f)))]));
const parse = createMailParser({ fastPath: !values['no-fast-path'] });

// ---- accuracy
// A file may be a mailbox of several messages (mbox): its recipients are all of theirs.
const analyzeFile = async (raw: Uint8Array): Promise<{ recipients: BounceAnalysis['recipients']; kinds: BounceAnalysis['kind'][] }> => {
  const recipients: BounceAnalysis['recipients'][number][] = [];
  const kinds: BounceAnalysis['kind'][] = [];
  for (const message of splitMailbox(raw)) {
    const analysis = await analyzeBounce(message, { parse });
    recipients.push(...analysis.recipients);
    kinds.push(analysis.kind);
  }
  return { recipients, kinds };
};
const results = new Map<string, { recipients: BounceAnalysis['recipients']; kinds: BounceAnalysis['kind'][] }>();
for (const f of files) results.set(f, await analyzeFile(bytes.get(f)!));

const pct = (n: number, d: number) => (d === 0 ? 100 : (100 * n) / d);
const fmt = (n: number) => n.toFixed(2).padStart(6);
let recipientOk = 0;
let reasonOk = 0;
let statusRows = 0;
let statusOk = 0;
let hardOk = 0;
const perReason = new Map<string, { n: number; ok: number; got: Map<string, number> }>();
const misses: string[] = [];
// Our recipient for a labelled row: by address, else (the address was read differently) the
// one at the same position in the report, so the reason is still compared.
// Sisimai labels a complaint that names no recipient with a placeholder in the reserved `.invalid`
// domain; our contract then reports the complaint (kind `feedback`) with no recipient entry. Such a
// row agrees when our report of the file is a complaint naming nobody.
const NO_RECIPIENT_PLACEHOLDER = /^undisclosed-recipient-in-headers@[^@\s]+\.invalid$/i;
let placeholderRows = 0;
const mineOf = (row: Row) => {
  const { recipients, kinds } = results.get(row.file)!;
  if (NO_RECIPIENT_PLACEHOLDER.test(row.expectedRecipient) && recipients.length === 0 && kinds.includes('feedback')) {
    const none = { recipient: row.expectedRecipient, reason: 'feedback', status: null, hard: false, diagnostic: null } as const;
    return { byAddress: none, mine: none };
  }
  const want = row.expectedRecipient.toLowerCase();
  const byAddress = recipients.find((r) => r.recipient.toLowerCase() === want);
  return { byAddress, mine: byAddress ?? recipients[row.recipientIndex - 1] };
};
const reasonOf = (row: Row): string => mineOf(row).mine?.reason ?? '(none)';
for (const row of rows) {
  const { byAddress, mine } = mineOf(row);
  if (byAddress && NO_RECIPIENT_PLACEHOLDER.test(row.expectedRecipient) && byAddress.recipient === row.expectedRecipient) placeholderRows++;
  if (byAddress) recipientOk++;
  const got = mine?.reason ?? '(none)';
  const agree = got === row.expectedReason;
  if (agree) reasonOk++;
  const stats = perReason.get(row.expectedReason) ?? { n: 0, ok: 0, got: new Map<string, number>() };
  stats.n++;
  if (agree) stats.ok++;
  else stats.got.set(got, (stats.got.get(got) ?? 0) + 1);
  perReason.set(row.expectedReason, stats);
  // Sisimai writes pseudo codes (x.0.9xx) when a bounce carries none; ours is then null.
  const pseudo = row.expectedStatus !== null && /^\d\.0\.9\d\d$/.test(row.expectedStatus);
  if (row.expectedStatus !== null && !pseudo) {
    statusRows++;
    if (mine?.status === row.expectedStatus) statusOk++;
  }
  if ((mine?.hard ?? false) === row.expectedHardBounce) hardOk++;
  if (!agree || !byAddress) {
    misses.push(
      `${row.file}  want ${row.expectedRecipient} ${row.expectedReason} ${row.expectedStatus ?? '-'}  got ${mine?.recipient ?? '(none)'} ${got} ${mine?.status ?? '-'}  ${(mine?.diagnostic ?? '').slice(0, 140)}`,
    );
  }
}

// ---- throughput
const passes = Math.max(1, Number(values.passes) || 7);
const list = files.map((f) => bytes.get(f)!);
for (const raw of list) await analyzeFile(raw); // warm-up
const messageCount = list.reduce((n, raw) => n + splitMailbox(raw).length, 0);
const rates: number[] = [];
for (let p = 0; p < passes; p++) {
  const t0 = performance.now();
  for (const raw of list) await analyzeFile(raw);
  rates.push((messageCount / (performance.now() - t0)) * 1000);
}
rates.sort((a, b) => a - b);
const rate = rates[Math.floor(rates.length / 2)]!;

// ---- report
const out = process.stdout;
out.write(`bounce benchmark: ${readme}\n  ${files.length} files (${messageCount} messages), ${rows.length} labelled recipients (${corpus})\n\n`);
out.write(`reason agreement     ${fmt(pct(reasonOk, rows.length))} %  (${reasonOk}/${rows.length})\n`);
out.write(`recipient agreement  ${fmt(pct(recipientOk, rows.length))} %  (${recipientOk}/${rows.length})\n`);
if (placeholderRows) out.write(`                     (${placeholderRows} complaint rows with Sisimai's no-recipient placeholder agreed as complaints naming nobody)\n`);
out.write(`status agreement     ${fmt(pct(statusOk, statusRows))} %  (${statusOk}/${statusRows} rows with a real status code)\n`);
out.write(`hard/soft agreement  ${fmt(pct(hardOk, rows.length))} %  (${hardOk}/${rows.length})\n`);
out.write(`throughput           ${rate.toFixed(0).padStart(6)} msg/s (median of ${passes} passes; min ${rates[0]!.toFixed(0)}, max ${rates[rates.length - 1]!.toFixed(0)})\n\n`);

// A headline that joins reasons ("mesgtoobig+exceedlimit") is one class: either answer agrees.
out.write('headline reasons\n');
const headline: Record<string, number> = {};
for (const [name, reasons] of Object.entries(HEADLINE)) {
  const mine = rows.filter((r) => reasons.includes(r.expectedReason));
  const ok = mine.filter((r) => reasons.includes(reasonOf(r))).length;
  headline[name] = Number(pct(ok, mine.length).toFixed(2));
  out.write(`  ${name.padEnd(24)} ${fmt(pct(ok, mine.length))} %  (${ok}/${mine.length})\n`);
}
out.write('\nper reason (expected → what it was taken for when not agreed)\n');
for (const [reason, s] of [...perReason.entries()].sort((a, b) => b[1].n - a[1].n)) {
  const confused = [...s.got.entries()].sort((a, b) => b[1] - a[1]).map(([g, n]) => `${g} ${n}`).join(', ');
  out.write(`  ${reason.padEnd(16)} ${String(s.n).padStart(4)} ${fmt(pct(s.ok, s.n))} %  ${confused ? `→ ${confused}` : ''}\n`);
}
if (values.misses) out.write(`\nmisses\n${misses.map((m) => `  ${m}`).join('\n')}\n`);

const summary = {
  files: files.length,
  messages: messageCount,
  recipients: rows.length,
  reasonAgreement: Number(pct(reasonOk, rows.length).toFixed(2)),
  recipientAgreement: Number(pct(recipientOk, rows.length).toFixed(2)),
  statusAgreement: Number(pct(statusOk, statusRows).toFixed(2)),
  hardAgreement: Number(pct(hardOk, rows.length).toFixed(2)),
  headline,
  messagesPerSecond: Math.round(rate),
};
out.write(`\n${JSON.stringify(summary)}\n`);

let failed = false;
for (const [name, floor, value] of [
  ['reason agreement', floors.reason, summary.reasonAgreement],
  ['recipient agreement', floors.recipient, summary.recipientAgreement],
  ['throughput', floors.rate, summary.messagesPerSecond],
  // Each headline reason (mailboxfull, userunknown, …) on its own: the causes a shop acts on.
  ...Object.entries(headline).map(([reason, value]) => [`${reason} agreement`, floors.headline, value] as const),
] as const) {
  if (floor !== undefined && value < floor) {
    process.stderr.write(`bench:bounce: ${name} ${value} is below the floor ${floor}\n`);
    failed = true;
  }
}
process.exitCode = failed ? 1 : 0;
