/**
 * `mailhealth bounce FILE_OR_DIR...|- [--json|--jsonl] [--summary] [--quiet] [--state DIR]`:
 * classify returned messages with the same core the bounce Lambda runs.
 *
 * Built for a support desk's exports (thousands of files, or an mbox of hundreds of MB): small
 * files are read whole, an mbox is split as it is read, and each
 * result is written as soon as it is ready, so memory stays flat whatever the input size.
 * Exit codes (docs/REFERENCE.md): 0 no failure found, 1 only temporary failures, 2 a failure the
 * sender must act on, 3 bad usage, an unreadable input (the other inputs are still read) or no
 * message read at all. A malformed message is a result, not an error.
 */
import { closeSync, createReadStream, existsSync, fstatSync, openSync, readdirSync, readSync, statSync, type Dirent, type Stats } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { MAX_MESSAGE_BYTES } from '#core/bounce/analyze.ts';
import { alertGroupOf } from '#core/bounce/alert-groups.ts';
import { createMailboxSplitter, splitMailbox, startsMailbox } from '#core/bounce/mbox.ts';
import { UsageError } from '#core/errors.ts';
import type { BouncedRecipient } from '#core/results.ts';
import type { MessageResult } from './bounce-analysis.ts';
import { classifyInOrder, type Incoming } from './bounce-pool.ts';
import { parseCommandArgs, usageLine } from './commands.ts';
import { createProgress, type Progress } from './progress.ts';
import { languageFromEnv, padDisplay, styler, type CliIO, type Command } from './io.ts';

const DIAGNOSTIC_WIDTH = 72;
// Up to this many table rows are held to size the columns; past it the rows already held set
// the widths, the rest stream out as they come, and a summary follows.
const TABLE_ROWS_HELD = 200;
// Files at most this large are read whole; larger ones are streamed.
const READ_WHOLE_BYTES = 1024 * 1024;
const STREAM_CHUNK_BYTES = 1024 * 1024;
// Output is written in blocks of about this size (one write per message costs more than the JSON).
const OUTPUT_BLOCK_CHARS = 64 * 1024;
const TOP_DOMAINS = 10;
// With --jobs, from this many files (or one file past READ_WHOLE_BYTES, an mbox) the
// classification is shared with worker threads; below it, starting them costs more than they save.
const POOL_MIN_FILES = 48;

/** The `bounce` command. */
export const bounceCommand: Command = async (argv, io) => {
  const { values, positionals: inputs } = parseCommandArgs('bounce', argv, { allowPositionals: true });
  const format = values.flag('json') ? 'json' : values.flag('jsonl') ? 'jsonl' : 'text';
  if (values.flag('json') && values.flag('jsonl')) throw new UsageError(`bounce: --json and --jsonl do not go together\n${usageLine('bounce')}`);
  if (inputs.length === 0) throw new UsageError(`bounce: give one or more .eml files, mbox files or folders, or - for stdin\n${usageLine('bounce')}`);
  if (inputs.filter((i) => i === '-').length > 1) throw new UsageError(`bounce: stdin (-) can be read once\n${usageLine('bounce')}`);
  const stateDir = values.text('state');
  const jobsText = values.text('jobs');
  const jobs = jobsText === undefined ? undefined : Number(jobsText);
  if (jobs !== undefined && (!Number.isInteger(jobs) || jobs < 1 || jobs > 64)) throw new UsageError(`bounce: --jobs needs a whole number from 1 to 64 (got ${jobsText})\n${usageLine('bounce')}`);
  if (stateDir !== undefined && !existsSync(resolve(io.cwd, stateDir))) {
    throw new UsageError(`bounce: no state directory ${resolve(io.cwd, stateDir)}\n${usageLine('bounce')}`);
  }

  const { sources, unreadable, empty } = expandInputs(inputs, io.cwd);
  const summaryOnly = values.flag('summary');
  const showProgress = format === 'text' && !values.flag('quiet') && Boolean(io.stderr.isTTY);
  const progress = showProgress ? createProgress(io.stderr, { files: sources.length, bytes: totalBytes(sources) }) : null;

  const out = createOutput(io);
  const sink = format === 'json' ? jsonSink(out) : format === 'jsonl' ? jsonlSink(out) : tableSink(out, io, { summaryOnly });
  const tally = createTally();
  // Worker threads only when asked for (--jobs N: this thread and N-1 workers) and for inputs
  // large enough to repay each worker warming up its own classifier (many files, or an mbox).
  // One thread is the default: on the shared 2-core machine, with other work running, a worker
  // beside this thread added 30-40% CPU over the 589-file corpus and did not shorten the run.
  const threads = jobs !== undefined && jobs > 1 && (sources.length >= POOL_MIN_FILES || largestInput(sources) > READ_WHOLE_BYTES) ? jobs : 1;
  await classifyInOrder(
    readMessages(sources, io, progress, empty),
    {
      async result(result) {
        tally.add(result);
        progress?.message();
        await sink.add(result);
      },
      unreadable: (file) => unreadable.push(file),
    },
    { workers: threads - 1, workerUrl: builtWorkerUrl(), ...(stateDir !== undefined ? { stateDir: resolve(io.cwd, stateDir) } : {}) },
  );
  progress?.done();
  await sink.end(tally);
  await out.flush();
  for (const file of unreadable) io.stderr.write(`mailhealth: bounce: cannot read ${file}\n`);
  // Nothing read is not "no failure found": a cron job over an empty or wrong folder must not read as all clear.
  if (tally.messages === 0 && unreadable.length === 0) {
    io.stderr.write(`mailhealth: bounce: no message read: ${empty.length ? empty.join('; ') : 'the inputs hold no message'}\n`);
    return 3;
  }
  for (const what of empty) io.stderr.write(`mailhealth: bounce: no message in ${what}\n`);
  return unreadable.length ? 3 : tally.exitCode();
};

declare const MAILHEALTH_BUILT: boolean | undefined;

/** The worker script of the build (dist/lib/bounce-worker.js); null when running from source. */
function builtWorkerUrl(): URL | null {
  if (typeof MAILHEALTH_BUILT !== 'boolean') return null;
  // Built, this module is dist/lib/bounce.js, beside the worker.
  const url = new URL('./bounce-worker.js', import.meta.url);
  return existsSync(url) ? url : null;
}

// ---- inputs

/** An input: a file (as named in the output, and its absolute path), or stdin. */
type Source = { readonly kind: 'file'; readonly file: string; readonly path: string } | { readonly kind: 'stdin' };
type Item = Incoming;

// Inputs are listed with the synchronous calls: nothing else runs meanwhile, and node:fs/promises
// (with the streams and readline modules it loads) would cost every run start-up time.
function statOf(path: string): Stats | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}

/**
 * Files to read: explicit files as given, directories walked for `*.eml` (sorted), `-` for stdin.
 * `empty` collects, in words, the inputs that hold no message (a folder without .eml files here;
 * an empty file or stdin as it is read).
 */
function expandInputs(inputs: readonly string[], cwd: string): { sources: Source[]; unreadable: string[]; empty: string[] } {
  const sources: Source[] = [];
  const unreadable: string[] = [];
  const empty: string[] = [];
  for (const input of inputs) {
    if (input === '-') {
      sources.push({ kind: 'stdin' });
      continue;
    }
    const info = statOf(resolve(cwd, input));
    if (!info) unreadable.push(input);
    else if (info.isDirectory()) {
      const before = sources.length;
      walk(input, resolve(cwd, input), unreadable, sources);
      if (sources.length === before) empty.push(`${input} holds no .eml file (a folder is searched for *.eml; give an mbox file by its name)`);
    } else sources.push({ kind: 'file', file: input, path: resolve(cwd, input) });
  }
  return { sources, unreadable, empty };
}

/** Adds the `*.eml` files under `dir` (absolute: `path`) to `sources`, sorted by name, subfolders in place. */
function walk(dir: string, path: string, unreadable: string[], sources: Source[]): void {
  let entries: Dirent[];
  try {
    entries = readdirSync(path, { withFileTypes: true });
  } catch {
    unreadable.push(dir);
    return;
  }
  // join() and resolve() once per folder, not per file (they normalise in JavaScript): an entry
  // name holds no separator, so join(dir, name) is join(dir, 'x') less the 'x', plus the name.
  const shownPrefix = join(dir, 'x').slice(0, -1);
  const pathPrefix = path.endsWith(sep) ? path : path + sep;
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (e.isDirectory()) walk(shownPrefix + e.name, pathPrefix + e.name, unreadable, sources);
    else if (e.isFile() && /\.eml$/i.test(e.name)) sources.push({ kind: 'file', file: shownPrefix + e.name, path: pathPrefix + e.name });
  }
}

/** The size of all inputs, for the progress line's time left (stdin counts as unknown). */
function totalBytes(sources: readonly Source[]): number {
  let total = 0;
  for (const s of sources) if (s.kind === 'file') total += statOf(s.path)?.size ?? 0;
  return total;
}

/** The size of the largest input file (stdin counts as unknown: 0). */
function largestInput(sources: readonly Source[]): number {
  let largest = 0;
  for (const s of sources) if (s.kind === 'file') largest = Math.max(largest, statOf(s.path)?.size ?? 0);
  return largest;
}

/** A small file read whole (with its size); a large one only flagged for streaming. */
type Fetched = { readonly kind: 'bytes'; readonly bytes: Uint8Array; readonly size: number } | { readonly kind: 'large'; readonly size: number } | { readonly kind: 'unreadable' };

/**
 * Every message of every source, in input order. Small files are read whole and synchronously
 * (measured: over the 589-file corpus, 9% less CPU than 16 asynchronous reads in flight, the
 * thread pool's hand-offs costing more than the reads); a large file (an mbox export) or stdin
 * is streamed through the splitter.
 */
async function* readMessages(sources: readonly Source[], io: CliIO, progress: Progress | null, empty: string[]): AsyncGenerator<Item> {
  for (const source of sources) {
    const name = source.kind === 'file' ? source.file : '-';
    const fetched: Fetched = source.kind === 'file' ? readSmall(source.path) : { kind: 'large', size: 0 };
    if (fetched.kind === 'unreadable') {
      yield { kind: 'unreadable', file: name };
      continue;
    }
    let messages = 0;
    if (fetched.kind === 'bytes') {
      for (const bytes of splitMailbox(fetched.bytes)) {
        if (isBlank(bytes)) continue;
        messages++;
        yield { kind: 'message', file: name, bytes };
      }
      progress?.file(fetched.size);
    } else {
      const stream = source.kind === 'stdin' ? stdinOf(io) : createReadStream(source.path, { highWaterMark: STREAM_CHUNK_BYTES });
      try {
        for await (const item of streamMessages(stream, name, source.kind === 'stdin', progress)) {
          if (item.kind === 'message' && isBlank(item.bytes)) continue;
          messages++;
          yield item;
        }
      } catch {
        yield { kind: 'unreadable', file: name };
        messages = -1;
      }
      progress?.file(0);
    }
    if (messages === 0) empty.push(source.kind === 'stdin' ? 'standard input (-) is empty' : `${name} is empty`);
  }
}

/** True for an empty file, or one of only blank lines: no message to classify. */
function isBlank(bytes: Uint8Array): boolean {
  for (const b of bytes) if (b !== 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) return false;
  return true;
}

// Small files are read into this buffer (one byte past the limit tells a large file) and copied
// out at their size: no fstat per file, and no buffer of the wrong size.
let readBuffer: Buffer | undefined;

function readSmall(path: string): Fetched {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    readBuffer ??= Buffer.allocUnsafe(READ_WHOLE_BYTES + 1);
    let read = 0;
    while (read < readBuffer.length) {
      const n = readSync(fd, readBuffer, read, readBuffer.length - read, null);
      if (n === 0) break;
      read += n;
    }
    if (read > READ_WHOLE_BYTES) return { kind: 'large', size: fstatSync(fd).size };
    // The typed-array copy is native; Buffer.from() would run its JavaScript checks per file.
    return { kind: 'bytes', bytes: new Uint8Array(readBuffer.subarray(0, read)), size: read };
  } catch {
    return { kind: 'unreadable' };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** A large file or stdin, split as it is read; each message at most one byte past the analysis cap. */
async function* streamMessages(stream: AsyncIterable<Uint8Array | string>, name: string, fromStdin: boolean, progress: Progress | null): AsyncGenerator<Item> {
  const splitter = createMailboxSplitter({ maxMessageBytes: MAX_MESSAGE_BYTES });
  for await (const chunk of stream) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    progress?.bytes(bytes.length);
    for (const message of splitter.push(bytes)) {
      yield { kind: 'message', file: name, bytes: message, pasted: fromStdin && !startsMailbox(message) };
    }
  }
  for (const message of splitter.end()) {
    yield { kind: 'message', file: name, bytes: message, pasted: fromStdin && !startsMailbox(message) };
  }
}

function stdinOf(io: CliIO): AsyncIterable<Uint8Array | string> {
  if (!io.stdin) throw new UsageError('bounce: no standard input to read');
  return io.stdin as AsyncIterable<Uint8Array | string>;
}

// ---- what was found

/** Counts by reason and recipient domain, and the exit code: constant memory per message. */
export interface Tally {
  add(result: MessageResult): void;
  readonly messages: number;
  readonly byReason: ReadonlyMap<string, number>;
  readonly byDomain: ReadonlyMap<string, number>;
  readonly notBounces: number;
  readonly deliveredCanaries: number;
  /** 0 no failure, 1 only temporary failures, 2 a failure the sender must act on. */
  exitCode(): number;
}

function createTally(): Tally {
  const byReason = new Map<string, number>();
  const byDomain = new Map<string, number>();
  let messages = 0;
  let notBounces = 0;
  let deliveredCanaries = 0;
  let worst = 0;
  return {
    add(result) {
      messages++;
      if (result.recipients.length === 0) {
        if (result.deliveredCanaryId !== null) deliveredCanaries++;
        else if (!result.isBounce) notBounces++;
      }
      for (const r of result.recipients) {
        byReason.set(r.reason, (byReason.get(r.reason) ?? 0) + 1);
        const domain = r.recipient.slice(r.recipient.lastIndexOf('@') + 1).toLowerCase();
        if (domain) byDomain.set(domain, (byDomain.get(domain) ?? 0) + 1);
        worst = Math.max(worst, exitCodeOfReason(r.reason));
      }
    },
    get messages() {
      return messages;
    },
    byReason,
    byDomain,
    get notBounces() {
      return notBounces;
    },
    get deliveredCanaries() {
      return deliveredCanaries;
    },
    exitCode: () => worst,
  };
}

/**
 * 0 for reports that are not failures (delivered, vacation, feedback), 1 for temporary
 * failures (delays and transient reasons: the mail may still arrive), 2 for failures the
 * sender must act on (invalid address, mailbox full, too large, blocked, other).
 */
export function exitCodeOfReason(reason: BouncedRecipient['reason']): 0 | 1 | 2 {
  const group = alertGroupOf(reason);
  if (group === null) return 0;
  return group === 'transient' ? 1 : 2;
}

// ---- output

interface Output {
  write(text: string): Promise<void>;
  flush(): Promise<void>;
}

/** Buffers stdout into blocks and waits when the reader is slower than the classifier. */
function createOutput(io: CliIO): Output {
  let buffered = '';
  const flush = async () => {
    if (buffered === '') return;
    const text = buffered;
    buffered = '';
    if (!io.stdout.write(text)) await new Promise<void>((done) => io.stdout.once('drain', () => done()));
  };
  return {
    async write(text) {
      buffered += text;
      if (buffered.length >= OUTPUT_BLOCK_CHARS) await flush();
    },
    flush,
  };
}

interface Sink {
  add(result: MessageResult): Promise<void>;
  end(tally: Tally): Promise<void>;
}

function contractMessage(m: MessageResult) {
  return { file: m.file, isBounce: m.isBounce, recipients: m.recipients.map(contractRecipient) };
}

function contractRecipient(r: BouncedRecipient) {
  return {
    recipient: r.recipient,
    reason: r.reason,
    status: r.status,
    replyCode: r.replyCode,
    hard: r.hard,
    diagnostic: r.diagnostic,
    remoteMta: r.remoteMta,
    canaryId: r.canaryId,
    ...(r.recipientInferred === true ? { recipientInferred: true } : {}),
    ...(r.recipientDomainInvalid === true ? { recipientDomainInvalid: true } : {}),
  };
}

const JSON_HEAD = '{\n  "messages": [\n    ';
const JSON_TAIL = '\n  ]\n}';

/** `--json`: one document `{ "messages": [ … ] }`, written one message at a time. */
function jsonSink(out: Output): Sink {
  let count = 0;
  return {
    async add(m) {
      // Stringified inside the document's own frame, so it comes out indented as the entry it
      // is (cheaper than re-indenting it line by line); the frame is cut off again.
      const framed = JSON.stringify({ messages: [contractMessage(m)] }, null, 2);
      const body = framed.slice(JSON_HEAD.length, framed.length - JSON_TAIL.length);
      await out.write(`${count++ === 0 ? JSON_HEAD : ',\n    '}${body}`);
    },
    async end() {
      await out.write(count === 0 ? '{\n  "messages": []\n}\n' : '\n  ]\n}\n');
    },
  };
}

/** `--jsonl`: one line per message, the same object as an entry of `--json`'s `messages`. */
function jsonlSink(out: Output): Sink {
  return {
    add: (m) => out.write(`${JSON.stringify(contractMessage(m))}\n`),
    end: async () => undefined,
  };
}

/**
 * The human table: file, recipient, reason, status, diagnostic. Small inputs get the table
 * sized to fit; past TABLE_ROWS_HELD rows the widths are fixed and the rest streams, then a
 * summary. `--summary` prints only the summary.
 */
function tableSink(out: Output, io: CliIO, options: { summaryOnly: boolean }): Sink {
  const ja = languageFromEnv(io.env) === 'ja';
  const s = styler(io);
  const head = ja ? ['ファイル', '宛先', '理由', 'ステータス', '診断'] : ['FILE', 'RECIPIENT', 'REASON', 'STATUS', 'DIAGNOSTIC'];
  let held: string[][] | null = [];
  let widths: number[] = [];
  const line = (cells: readonly string[], colour?: (t: string) => string) =>
    cells
      .map((c, i) => {
        if (i === 4) return c;
        const padded = padDisplay(c, widths[i]!);
        return i === 2 && colour ? colour(padded) : padded;
      })
      .join('  ')
      .trimEnd();
  const emit = (row: readonly string[]) => out.write(`${line(row, colourOf(row[2]!, s))}\n`);
  const release = async () => {
    const rows = held ?? [];
    held = null;
    widths = head.slice(0, 4).map((h, i) => Math.max(displayWidth(h), ...rows.map((r) => displayWidth(r[i]!))));
    await out.write(`${s.bold(line(head))}\n`);
    for (const r of rows) await emit(r);
  };
  return {
    async add(m) {
      if (options.summaryOnly) return;
      for (const row of rowsOf(m, ja)) {
        if (held) {
          held.push(row);
          if (held.length > TABLE_ROWS_HELD) await release();
        } else await emit(row);
      }
    },
    async end(tally) {
      // No message, no table: the command says on stderr that nothing was read.
      if (tally.messages === 0) return;
      if (options.summaryOnly) {
        await out.write(renderSummary(tally, ja));
        return;
      }
      const large = held === null;
      if (held) await release();
      if (large) await out.write(`\n${renderSummary(tally, ja)}`);
    },
  };
}

function rowsOf(m: MessageResult, ja: boolean): string[][] {
  if (m.recipients.length === 0) {
    let what: string;
    if (m.deliveredCanaryId !== null) what = ja ? `（配達されたカナリア ${m.deliveredCanaryId}）` : `(delivered canary ${m.deliveredCanaryId})`;
    else if (m.isBounce) what = ja ? '（宛先を特定できません）' : '(no recipient found)';
    else what = ja ? '（バウンスではありません）' : '(not a bounce)';
    return [[m.file, '-', what, '-', '']];
  }
  return m.recipients.map((r) => [m.file, r.recipient, r.reason, r.status ?? '-', oneLine(r.diagnostic ?? '')]);
}

/** The summary of a run: messages, counts by reason, top recipient domains. */
export function renderSummary(tally: Tally, ja: boolean): string {
  const lines: string[] = [];
  const recipients = [...tally.byReason.values()].reduce((a, b) => a + b, 0);
  lines.push(ja ? `メッセージ ${tally.messages} 件、宛先 ${recipients} 件` : `${tally.messages} messages, ${recipients} recipients`);
  if (tally.deliveredCanaries) lines.push(ja ? `  配達されたカナリア ${tally.deliveredCanaries} 件` : `  ${tally.deliveredCanaries} delivered canaries`);
  if (tally.notBounces) lines.push(ja ? `  バウンスではないもの ${tally.notBounces} 件` : `  ${tally.notBounces} not bounces`);
  const ranked = (map: ReadonlyMap<string, number>) => [...map.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  if (tally.byReason.size) {
    lines.push('', ja ? '理由別' : 'by reason');
    for (const [reason, n] of ranked(tally.byReason)) lines.push(`  ${reason.padEnd(16)} ${String(n).padStart(7)}`);
  }
  if (tally.byDomain.size) {
    const top = ranked(tally.byDomain).slice(0, TOP_DOMAINS);
    lines.push('', ja ? `宛先ドメイン上位 ${top.length}` : `top ${top.length} recipient domains`);
    const width = Math.max(16, ...top.map(([d]) => d.length));
    for (const [domain, n] of top) lines.push(`  ${domain.padEnd(width)} ${String(n).padStart(7)}`);
  }
  return `${lines.join('\n')}\n`;
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
