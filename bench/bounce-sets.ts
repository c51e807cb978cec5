/**
 * The labelled bounce sets the benchmark scores, and how each is scored. Three label formats:
 * - per-recipient reasons (the Sisimai set, `manifest.jsonl`, and the project's own
 *   `test/fixtures/bounces-wild/labels.jsonl`): reason agreement per recipient, per reason and
 *   per family of mail system, recipient sets per message, bounces with no cause;
 * - recipients only (set B, flufl.bounce's samples): recipient sets per file, bounces with no cause;
 * - the same messages without headers (what a mail program shows, pasted): recipients found.
 * Every function returns its printed table and the figures the floors are checked against.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { htmlToText } from '#adapters/mail-parser.ts';
import { analyzeBounce, analyzeBounceText, type BounceAnalysis } from '#core/bounce/analyze.ts';
import { splitMailbox } from '#core/bounce/mbox.ts';
import type { MessageParser } from '#core/ports.ts';
import type { BouncedRecipient } from '#core/results.ts';

/** A set's printed table and its figures. */
export interface SetScore {
  readonly title: string;
  readonly lines: readonly string[];
  readonly summary: Record<string, unknown>;
}

/** What one file gave: all recipients of its messages, and the kinds of those messages. */
export interface FileResult {
  readonly recipients: readonly BouncedRecipient[];
  readonly kinds: readonly BounceAnalysis['kind'][];
}

const pct = (n: number, d: number) => (d === 0 ? 100 : (100 * n) / d);
const fmt = (n: number) => n.toFixed(2).padStart(6);
const round = (n: number) => Number(n.toFixed(2));
const noCause = (r: FileResult) => r.recipients.length === 0 || r.recipients.every((x) => x.reason === 'onhold' || x.reason === 'undefined');
const sameSet = (want: readonly string[], got: readonly BouncedRecipient[]) => {
  const w = new Set(want.map((a) => a.toLowerCase()));
  const g = new Set(got.map((r) => r.recipient.toLowerCase()));
  return w.size === g.size && [...w].every((a) => g.has(a));
};

/** Reads every message of a file (an mbox file holds several). */
export async function analyzeFile(raw: Uint8Array, parse: MessageParser): Promise<FileResult> {
  const recipients: BouncedRecipient[] = [];
  const kinds: BounceAnalysis['kind'][] = [];
  for (const message of splitMailbox(raw)) {
    const analysis = await analyzeBounce(message, { parse });
    recipients.push(...analysis.recipients);
    kinds.push(analysis.kind);
  }
  return { recipients, kinds };
}

/** One line of a JSON-lines label file, parsed. */
export function readJsonLines<T>(path: string): T[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as T);
}

/** The first line of a set's README (its title), or the folder. */
export function titleOf(dir: string): string {
  const readme = join(dir, 'README.md');
  return existsSync(readme) ? readFileSync(readme, 'utf8').split('\n')[0]!.replace(/^#\s*/, '') : dir;
}

/** Accuracy per family, worst first: `[family, ok, n]`. */
function familyLines(perFamily: Map<string, { n: number; ok: number }>, all: boolean): string[] {
  const rows = [...perFamily.entries()].sort((a, b) => pct(a[1].ok, a[1].n) - pct(b[1].ok, b[1].n) || b[1].n - a[1].n || a[0].localeCompare(b[0]));
  const shown = all ? rows : rows.filter(([, s]) => s.ok < s.n).slice(0, 20);
  const perfect = rows.filter(([, s]) => s.ok === s.n).length;
  const lines = shown.map(([family, s]) => `  ${family.padEnd(28)} ${String(s.n).padStart(4)} ${fmt(pct(s.ok, s.n))} %`);
  if (!all) lines.push(`  (${perfect} of ${rows.length} families at 100 %${shown.length < rows.length - perfect ? `; ${rows.length - perfect - shown.length} more below, --families lists all` : ''})`);
  return lines;
}

// ---------------------------------------------------------------------------------------------
// Per-recipient reason labels (the Sisimai set, the project's own set)

/** A per-recipient label line (the Sisimai manifest's fields; the own set writes the same names). */
export interface ReasonRow {
  readonly file: string;
  readonly recipientIndex: number;
  readonly expectedRecipient: string;
  readonly expectedReason: string;
  readonly expectedStatus: string | null;
  readonly expectedHardBounce: boolean;
  /** The family of mail system or format (the own set); the Sisimai set's is its file-name prefix. */
  readonly family?: string;
  /** The recipient is expected to be inferred (not named by the report). */
  readonly expectedInferred?: boolean;
  /** The notice's language (the own set). */
  readonly language?: string;
}

const HEADLINE: Record<string, readonly string[]> = {
  mailboxfull: ['mailboxfull'],
  userunknown: ['userunknown'],
  hostunknown: ['hostunknown'],
  'mesgtoobig+exceedlimit': ['mesgtoobig', 'exceedlimit'],
};
// Sisimai labels a complaint that names no recipient with a placeholder in the reserved `.invalid`
// domain; our contract then reports the complaint (kind `feedback`) with no recipient entry. Such a
// row agrees when our report of the file is a complaint naming nobody.
const NO_RECIPIENT_PLACEHOLDER = /^undisclosed-recipient-in-headers@[^@\s]+\.invalid$/i;

/** The family of a Sisimai corpus file: its name without the number (`lhost-postfix-01.eml` → `lhost-postfix`). */
export function familyOfFile(file: string): string {
  return file.replace(/^.*\//, '').replace(/[-_]\d+\.[a-z0-9]+$/i, '');
}

/**
 * Scores per-recipient reason labels: reason, recipient, status and hard/soft agreement, the
 * headline reasons, per reason, per family (worst first), recipient sets per message, bounces
 * with no cause.
 */
export function scoreReasons(title: string, rows: readonly ReasonRow[], results: ReadonlyMap<string, FileResult>, options: { readonly misses: boolean; readonly families: boolean }): SetScore {
  let recipientOk = 0;
  let reasonOk = 0;
  let statusRows = 0;
  let statusOk = 0;
  let hardOk = 0;
  let placeholderRows = 0;
  const perReason = new Map<string, { n: number; ok: number; got: Map<string, number> }>();
  const perFamily = new Map<string, { n: number; ok: number }>();
  const perLanguage = new Map<string, { n: number; ok: number }>();
  const misses: string[] = [];
  const mineOf = (row: ReasonRow) => {
    const { recipients, kinds } = results.get(row.file)!;
    if (NO_RECIPIENT_PLACEHOLDER.test(row.expectedRecipient) && recipients.length === 0 && kinds.includes('feedback')) {
      const none = { recipient: row.expectedRecipient, reason: 'feedback', status: null, hard: false, diagnostic: null } as const;
      return { byAddress: none, mine: none };
    }
    const want = row.expectedRecipient.toLowerCase();
    const byAddress = recipients.find((r) => r.recipient.toLowerCase() === want);
    // By address, else (the address was read differently) the one at the same position, so the reason is still compared.
    return { byAddress, mine: byAddress ?? recipients[row.recipientIndex - 1] };
  };
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
    const family = row.family ?? familyOfFile(row.file);
    const fam = perFamily.get(family) ?? { n: 0, ok: 0 };
    fam.n++;
    if (agree && byAddress) fam.ok++;
    perFamily.set(family, fam);
    if (row.language) {
      const lang = perLanguage.get(row.language) ?? { n: 0, ok: 0 };
      lang.n++;
      if (agree && byAddress) lang.ok++;
      perLanguage.set(row.language, lang);
    }
    // Sisimai writes pseudo codes (x.0.9xx) when a bounce carries none; ours is then null.
    const pseudo = row.expectedStatus !== null && /^\d\.0\.9\d\d$/.test(row.expectedStatus);
    if (row.expectedStatus !== null && !pseudo) {
      statusRows++;
      if (mine?.status === row.expectedStatus) statusOk++;
    }
    if ((mine?.hard ?? false) === row.expectedHardBounce) hardOk++;
    if (!agree || !byAddress) {
      misses.push(`${row.file}  want ${row.expectedRecipient} ${row.expectedReason} ${row.expectedStatus ?? '-'}  got ${mine?.recipient ?? '(none)'} ${got} ${mine?.status ?? '-'}  ${(mine?.diagnostic ?? '').slice(0, 140)}`);
    }
  }
  // Per message: the labelled recipients as a set, and whether a failure was given a cause.
  const byFile = new Map<string, string[]>();
  for (const row of rows) if (!NO_RECIPIENT_PLACEHOLDER.test(row.expectedRecipient)) byFile.set(row.file, [...(byFile.get(row.file) ?? []), row.expectedRecipient]);
  const failureFiles = [...byFile.keys()].filter((f) => rows.some((r) => r.file === f && !['delivered', 'vacation', 'feedback', 'onhold', 'undefined'].includes(r.expectedReason)));
  const setsOk = [...byFile.entries()].filter(([f, want]) => sameSet(want, results.get(f)!.recipients)).length;
  const noCauseCount = failureFiles.filter((f) => noCause(results.get(f)!)).length;

  const lines: string[] = [];
  lines.push(`reason agreement     ${fmt(pct(reasonOk, rows.length))} %  (${reasonOk}/${rows.length})`);
  lines.push(`recipient agreement  ${fmt(pct(recipientOk, rows.length))} %  (${recipientOk}/${rows.length})`);
  if (placeholderRows) lines.push(`                     (${placeholderRows} complaint rows with Sisimai's no-recipient placeholder agreed as complaints naming nobody)`);
  lines.push(`recipient sets       ${fmt(pct(setsOk, byFile.size))} %  (${setsOk}/${byFile.size} messages)`);
  lines.push(`failures, no cause   ${fmt(pct(noCauseCount, failureFiles.length))} %  (${noCauseCount}/${failureFiles.length} messages labelled with a cause: no recipient, or only onhold/undefined)`);
  lines.push(`status agreement     ${fmt(pct(statusOk, statusRows))} %  (${statusOk}/${statusRows} rows with a real status code)`);
  lines.push(`hard/soft agreement  ${fmt(pct(hardOk, rows.length))} %  (${hardOk}/${rows.length})`);
  lines.push('', 'headline reasons');
  const headline: Record<string, number> = {};
  for (const [name, reasons] of Object.entries(HEADLINE)) {
    const mine = rows.filter((r) => reasons.includes(r.expectedReason));
    if (!mine.length) continue;
    // A headline that joins reasons ("mesgtoobig+exceedlimit") is one class: either answer agrees.
    const ok = mine.filter((r) => reasons.includes(mineOf(r).mine?.reason ?? '')).length;
    headline[name] = round(pct(ok, mine.length));
    lines.push(`  ${name.padEnd(24)} ${fmt(pct(ok, mine.length))} %  (${ok}/${mine.length})`);
  }
  lines.push('', 'per reason (expected → what it was taken for when not agreed)');
  for (const [reason, s] of [...perReason.entries()].sort((a, b) => b[1].n - a[1].n)) {
    const confused = [...s.got.entries()].sort((a, b) => b[1] - a[1]).map(([g, n]) => `${g} ${n}`).join(', ');
    lines.push(`  ${reason.padEnd(16)} ${String(s.n).padStart(4)} ${fmt(pct(s.ok, s.n))} %  ${confused ? `→ ${confused}` : ''}`);
  }
  lines.push('', 'per family (recipient and reason right), worst first');
  lines.push(...familyLines(perFamily, options.families));
  if (perLanguage.size) lines.push('', 'per language, worst first', ...familyLines(perLanguage, true));
  if (options.misses && misses.length) lines.push('', 'misses', ...misses.map((m) => `  ${m}`));
  return {
    title,
    lines,
    summary: {
      recipients: rows.length,
      reasonAgreement: round(pct(reasonOk, rows.length)),
      recipientAgreement: round(pct(recipientOk, rows.length)),
      recipientSets: `${setsOk}/${byFile.size}`,
      noCause: `${noCauseCount}/${failureFiles.length}`,
      noCausePercent: round(pct(noCauseCount, failureFiles.length)),
      statusAgreement: round(pct(statusOk, statusRows)),
      hardAgreement: round(pct(hardOk, rows.length)),
      headline,
    },
  };
}

/** A label line of a message that is not a bounce (the own set): no recipient, the kind it is. */
export interface NotBounceRow {
  readonly file: string;
  readonly expectedRecipient: null;
  readonly expectedIsBounce: false;
  /** `receipt` (a read receipt that reports no failure) or `challenge` (challenge-response). */
  readonly expectedKind: string;
  readonly family?: string;
}

/**
 * A reason table with the messages labelled "not a bounce" added: each right when it is read as
 * that kind, with no recipient (a read receipt or a challenge taken for a bounce is a false alert).
 */
export function withNotBounces(score: SetScore, rows: readonly NotBounceRow[], results: ReadonlyMap<string, FileResult>, options: { readonly misses: boolean }): SetScore {
  if (!rows.length) return score;
  const wrong = rows.filter((r) => {
    const got = results.get(r.file)!;
    return got.recipients.length > 0 || !got.kinds.every((k) => k === r.expectedKind);
  });
  const ok = rows.length - wrong.length;
  const lines = [...score.lines];
  lines.splice(score.lines.indexOf(''), 0, `not bounces          ${fmt(pct(ok, rows.length))} %  (${ok}/${rows.length} read receipts and challenge-response requests read as such, no recipient)`);
  if (options.misses) for (const r of wrong) lines.push(`  ${r.file}  want ${r.expectedKind}  got ${results.get(r.file)!.kinds.join(',')} [${results.get(r.file)!.recipients.map((x) => `${x.recipient} ${x.reason}`).join(', ')}]`);
  return { ...score, lines, summary: { ...score.summary, notBounces: `${ok}/${rows.length}` } };
}

// ---------------------------------------------------------------------------------------------
// Recipients only (set B)

/** A line of set B's manifest (see its README). */
export interface RecipientRow {
  readonly file: string;
  readonly expectedRecipient: string | null;
  readonly expectedIsBounce: boolean | null;
  readonly permanent: boolean | null;
  readonly detector?: string;
}

/** Set B's labels per file: the expected recipient set, and whether it is a failure at all. */
export function recipientLabels(rows: readonly RecipientRow[]): Map<string, { recipients: string[]; isBounce: boolean | null }> {
  const byFile = new Map<string, { recipients: string[]; isBounce: boolean | null }>();
  for (const row of rows) {
    const entry = byFile.get(row.file) ?? { recipients: [], isBounce: row.expectedIsBounce };
    if (row.expectedRecipient) entry.recipients.push(row.expectedRecipient);
    byFile.set(row.file, entry);
  }
  return byFile;
}

/**
 * Scores recipient labels the way the issue's table counts them: recipient sets right over the
 * files that name recipients, bounces with no cause (no recipient, or only onhold/undefined)
 * over the files that are not labelled "not a bounce"; per file-name family, worst first.
 */
export function scoreRecipientSets(title: string, rows: readonly RecipientRow[], results: ReadonlyMap<string, FileResult>, options: { readonly misses: boolean; readonly families: boolean }): SetScore {
  const labels = recipientLabels(rows);
  let setsN = 0;
  let setsOk = 0;
  let bounces = 0;
  let noCauseCount = 0;
  const perFamily = new Map<string, { n: number; ok: number }>();
  const reasons = new Map<string, number>();
  const misses: string[] = [];
  for (const [file, label] of labels) {
    const got = results.get(file)!;
    const family = familyOfFile(file);
    const fam = perFamily.get(family) ?? { n: 0, ok: 0 };
    let ok = true;
    if (label.recipients.length) {
      setsN++;
      const right = sameSet(label.recipients, got.recipients);
      if (right) setsOk++;
      ok &&= right;
    }
    if (label.isBounce !== false) {
      bounces++;
      const none = noCause(got);
      if (none) noCauseCount++;
      ok &&= !none;
      for (const r of got.recipients) reasons.set(r.reason, (reasons.get(r.reason) ?? 0) + 1);
    }
    fam.n++;
    if (ok) fam.ok++;
    perFamily.set(family, fam);
    if (!ok) misses.push(`${file}  want [${label.recipients.join(', ')}]  got [${got.recipients.map((r) => `${r.recipient} ${r.reason}${r.recipientInferred ? ' (inferred)' : ''}`).join(', ')}]`);
  }
  const lines = [
    `recipient sets right  ${fmt(pct(setsOk, setsN))} %  (${setsOk}/${setsN} files that name recipients)`,
    `bounces with no cause ${fmt(pct(noCauseCount, bounces))} %  (${noCauseCount}/${bounces}: no recipient, or only onhold/undefined)`,
    `reasons given         ${[...reasons.entries()].sort((a, b) => b[1] - a[1]).map(([r, n]) => `${r} ${n}`).join(', ')}`,
    '',
    'per family (recipient set right and a cause given), worst first',
    ...familyLines(perFamily, options.families),
  ];
  if (options.misses && misses.length) lines.push('', 'misses', ...misses.map((m) => `  ${m}`));
  return { title, lines, summary: { recipientSets: `${setsOk}/${setsN}`, recipientSetsPercent: round(pct(setsOk, setsN)), noCause: `${noCauseCount}/${bounces}`, noCausePercent: round(pct(noCauseCount, bounces)) } };
}

// ---------------------------------------------------------------------------------------------
// The same messages without headers (pasted)

/**
 * What a mail program shows of a message: its text (HTML turned into text), without headers
 * and without the attachments (a delivery-status part, the returned message).
 */
export async function shownText(raw: Uint8Array): Promise<string> {
  const mail = await simpleParser(Buffer.from(raw), { skipImageLinks: true, skipTextToHtml: true, skipTextLinks: true });
  return mail.text ?? (typeof mail.html === 'string' ? htmlToText(mail.html) : '');
}

/** The body of a stored message without its header block, bytes as they are (MIME structure and all). */
export function bodyWithoutHeaders(raw: Uint8Array): Uint8Array {
  for (let i = 0; i + 1 < raw.length; i++) {
    if (raw[i] === 0x0a && raw[i + 1] === 0x0a) return raw.subarray(i + 2);
    if (raw[i] === 0x0a && raw[i + 1] === 0x0d && raw[i + 2] === 0x0a) return raw.subarray(i + 3);
  }
  return new Uint8Array(0);
}

/**
 * Scores header-less texts (set B's messages as a mail program shows them, and as stored
 * bodies without their headers): recipients found (every labelled one among those given) and
 * recipient sets right, over the files that name recipients.
 */
export async function scorePasted(title: string, rows: readonly RecipientRow[], raws: ReadonlyMap<string, Uint8Array>, parse: MessageParser, options: { readonly misses: boolean }): Promise<SetScore> {
  const labels = recipientLabels(rows);
  const lines: string[] = [];
  const summary: Record<string, unknown> = {};
  for (const [form, textOf] of [
    ['shown text', async (raw: Uint8Array) => new TextEncoder().encode(await shownText(raw))],
    ['stored body', async (raw: Uint8Array) => bodyWithoutHeaders(raw)],
  ] as const) {
    let n = 0;
    let found = 0;
    let sets = 0;
    let caused = 0;
    const misses: string[] = [];
    for (const [file, label] of labels) {
      if (!label.recipients.length) continue;
      n++;
      const analysis = await analyzeBounceText(await textOf(raws.get(file)!), { parse });
      const got = new Set(analysis.recipients.map((r) => r.recipient.toLowerCase()));
      const all = label.recipients.every((a) => got.has(a.toLowerCase()));
      if (all) found++;
      if (sameSet(label.recipients, analysis.recipients)) sets++;
      if (!noCause({ recipients: analysis.recipients, kinds: [analysis.kind] })) caused++;
      if (!all) misses.push(`${file}  want [${label.recipients.join(', ')}]  got [${analysis.recipients.map((r) => `${r.recipient} ${r.reason}`).join(', ')}]`);
    }
    lines.push(`${form.padEnd(12)} recipients found ${fmt(pct(found, n))} %  (${found}/${n}); sets right ${sets}/${n}; with a cause ${caused}/${n}`);
    if (options.misses && misses.length) lines.push(...misses.map((m) => `    ${m}`));
    summary[form === 'shown text' ? 'shownFound' : 'bodyFound'] = `${found}/${n}`;
    summary[form === 'shown text' ? 'shownFoundPercent' : 'bodyFoundPercent'] = round(pct(found, n));
  }
  return { title, lines, summary };
}
