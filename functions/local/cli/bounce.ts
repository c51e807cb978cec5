/**
 * `mailhealth bounce FILE_OR_DIR... [--json]`: classify returned messages (.eml) with the same
 * core the bounce Lambda runs. Exit 0, or 3 when an input cannot be read at all; a malformed
 * message is a result, not an error.
 */
import { open, readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createMailParser } from '#adapters/mail-parser.ts';
import { analyzeBounce, MAX_MESSAGE_BYTES, type BounceAnalysis } from '#core/bounce/analyze.ts';
import { alertGroupOf } from '#core/bounce/findings.ts';
import { splitMailbox } from '#core/bounce/mbox.ts';
import { UsageError } from '#core/errors.ts';
import type { BouncedRecipient } from '#core/results.ts';
import { languageFromEnv, padDisplay, styler, writeJson, type CliIO, type Command } from './io.ts';

/** One analysed file, as the JSON contract shows it. */
interface MessageResult {
  readonly file: string;
  readonly isBounce: boolean;
  readonly recipients: readonly BouncedRecipient[];
  readonly kind: BounceAnalysis['kind'];
}

const DIAGNOSTIC_WIDTH = 72;
// A mailbox export can hold many messages; past this, the rest of the file is not read.
const MAX_MAILBOX_BYTES = 512 * 1024 * 1024;

/** The `bounce` command. */
export const bounceCommand: Command = async (argv, io) => {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], allowPositionals: true, options: { json: { type: 'boolean', default: false } } });
  } catch (err) {
    throw new UsageError(`bounce: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const inputs = parsed.positionals;
  if (inputs.length === 0) throw new UsageError('bounce: give one or more .eml files or directories (mailhealth bounce FILE_OR_DIR... [--json])');

  const { files, unreadable } = await expandInputs(inputs, io.cwd);
  const parse = createMailParser();
  const results: MessageResult[] = [];
  for (const file of files) {
    const raw = await readCapped(resolve(io.cwd, file));
    if (raw === null) {
      unreadable.push(file);
      continue;
    }
    // A mailbox file (mbox) gives one entry per message, all under its file name.
    for (const message of splitMailbox(raw)) {
      const analysis = await analyzeBounce(message, { parse });
      results.push({ file, isBounce: analysis.isBounce, recipients: analysis.recipients, kind: analysis.kind });
    }
  }

  if (parsed.values.json) {
    writeJson(io, {
      messages: results.map((m) => ({ file: m.file, isBounce: m.isBounce, recipients: m.recipients.map(contractRecipient) })),
    });
  } else {
    io.stdout.write(renderTable(results, io));
  }
  for (const file of unreadable) io.stderr.write(`mailhealth: bounce: cannot read ${file}\n`);
  return unreadable.length ? 3 : 0;
};

function contractRecipient(r: BouncedRecipient): BouncedRecipient {
  return {
    recipient: r.recipient,
    reason: r.reason,
    status: r.status,
    replyCode: r.replyCode,
    hard: r.hard,
    diagnostic: r.diagnostic,
    remoteMta: r.remoteMta,
    canaryId: r.canaryId,
  };
}

/** Files to read: explicit files as given, directories walked for `*.eml` (sorted). */
async function expandInputs(inputs: readonly string[], cwd: string): Promise<{ files: string[]; unreadable: string[] }> {
  const files: string[] = [];
  const unreadable: string[] = [];
  for (const input of inputs) {
    const info = await stat(resolve(cwd, input)).catch(() => null);
    if (!info) unreadable.push(input);
    else if (info.isDirectory()) files.push(...(await walk(input, cwd)));
    else files.push(input);
  }
  return { files, unreadable };
}

async function walk(dir: string, cwd: string): Promise<string[]> {
  const entries = await readdir(resolve(cwd, dir), { withFileTypes: true }).catch(() => []);
  const out: string[] = [];
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const path = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(path, cwd)));
    else if (e.isFile() && /\.eml$/i.test(e.name)) out.push(path);
  }
  return out;
}

/**
 * Reads a message file, at most one byte past the size cap (the analysis then flags and cuts
 * it); a mailbox file (starting with an mbox `From ` line) is read whole, up to MAX_MAILBOX_BYTES.
 */
async function readCapped(path: string): Promise<Uint8Array | null> {
  let handle;
  try {
    handle = await open(path, 'r');
    const size = (await handle.stat()).size;
    const start = Buffer.alloc(5);
    await handle.read(start, 0, 5, 0);
    const cap = start.toString('latin1') === 'From ' ? MAX_MAILBOX_BYTES : MAX_MESSAGE_BYTES + 1;
    const length = Math.min(size, cap);
    const buf = Buffer.alloc(length);
    let read = 0;
    while (read < length) {
      const { bytesRead } = await handle.read(buf, read, length - read, read);
      if (bytesRead === 0) break;
      read += bytesRead;
    }
    return buf.subarray(0, read);
  } catch {
    return null;
  } finally {
    await handle?.close();
  }
}

/** The human table: file, recipient, reason, status, diagnostic. */
export function renderTable(results: readonly MessageResult[], io: CliIO): string {
  const ja = languageFromEnv(io.env) === 'ja';
  const s = styler(io);
  const head = ja ? ['ファイル', '宛先', '理由', 'ステータス', '診断'] : ['FILE', 'RECIPIENT', 'REASON', 'STATUS', 'DIAGNOSTIC'];
  const rows: string[][] = [];
  for (const m of results) {
    if (m.recipients.length === 0) {
      const what = m.isBounce ? (ja ? '（宛先を特定できません）' : '(no recipient found)') : ja ? '（バウンスではありません）' : '(not a bounce)';
      rows.push([m.file, '-', what, '-', '']);
      continue;
    }
    for (const r of m.recipients) rows.push([m.file, r.recipient, r.reason, r.status ?? '-', oneLine(r.diagnostic ?? '')]);
  }
  const widths = head.slice(0, 4).map((h, i) => Math.max(displayWidth(h), ...rows.map((r) => displayWidth(r[i]!))));
  const line = (cells: string[], colour?: (t: string) => string) =>
    cells
      .map((c, i) => {
        if (i === 4) return c;
        const padded = padDisplay(c, widths[i]!);
        return i === 2 && colour ? colour(padded) : padded;
      })
      .join('  ')
      .trimEnd();
  const out = [s.bold(line(head))];
  for (const r of rows) out.push(line(r, colourOf(r[2]!, s)));
  return `${out.join('\n')}\n`;
}

function colourOf(reason: string, s: ReturnType<typeof styler>): ((t: string) => string) | undefined {
  const group = alertGroupOf(reason as BouncedRecipient['reason']);
  if (group === 'invalid-address' || group === 'blocked') return s.red;
  if (group === 'mailbox-full' || group === 'too-large' || group === 'transient') return s.yellow;
  if (group === null && /^(?:vacation|feedback|delivered)$/.test(reason)) return s.green;
  return undefined;
}

function oneLine(text: string): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length > DIAGNOSTIC_WIDTH ? `${t.slice(0, DIAGNOSTIC_WIDTH - 1)}…` : t;
}

// Display width by East-Asian rules, measured with padDisplay so both always agree.
function displayWidth(s: string): number {
  const probe = 4096;
  return probe - (padDisplay(s, probe).length - s.length);
}
