/**
 * Mailbox files (mbox, as mail clients export them) hold several messages, each introduced by
 * an envelope line `From sender Thu Apr 29 23:34:45 2015`. Read as one message, all but the
 * first would be lost; this splits them. A file that does not start with such a line is one
 * message.
 */

// "From " + envelope sender + asctime date; a body line that merely starts with "From " does not look like this.
const SEPARATOR = /^From \S+ +(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ \d]?\d \d{1,2}:\d\d(?::\d\d)? (?:[A-Z]{2,5} |[+-]\d{4} )?\d{4}\s*$/;
const MAX_LINE = 200;

/**
 * The messages of a mailbox file (each still starting with its `From ` line), or the whole
 * input as one message when it is not a mailbox.
 * @example splitMailbox(readFileSync('bounces.mbox')).length // 12
 */
export function splitMailbox(raw: Uint8Array): Uint8Array[] {
  if (!isSeparatorAt(raw, 0)) return [raw];
  const starts = [0];
  // Line by line with the native indexOf (a byte loop costs more than the analysis on a cold start).
  for (let nl = raw.indexOf(0x0a); nl !== -1 && nl + 1 < raw.length; nl = raw.indexOf(0x0a, nl + 1)) {
    const i = nl + 1;
    if (raw[i] !== 0x46) continue;
    // A separator follows an empty line: "\n\nFrom " (or "\r\n\r\nFrom ").
    const blank = raw[i - 2] === 0x0a || (raw[i - 2] === 0x0d && raw[i - 3] === 0x0a);
    if (blank && isSeparatorAt(raw, i)) starts.push(i);
  }
  return starts.map((start, k) => raw.subarray(start, starts[k + 1] ?? raw.length));
}

/**
 * True when the bytes start with an mbox envelope line (`From sender date`): a mailbox file.
 * @example startsMailbox(utf8('From MAILER-DAEMON  Thu Apr 29 23:34:45 2015\n…')) // true
 */
export function startsMailbox(raw: Uint8Array): boolean {
  return isSeparatorAt(raw, 0);
}

function isSeparatorAt(raw: Uint8Array, at: number): boolean {
  // "From "
  if (raw[at] !== 0x46 || raw[at + 1] !== 0x72 || raw[at + 2] !== 0x6f || raw[at + 3] !== 0x6d || raw[at + 4] !== 0x20) return false;
  let end = at;
  while (end < raw.length && end - at < MAX_LINE && raw[end] !== 0x0a) end++;
  let line = '';
  for (let i = at; i < end; i++) line += String.fromCharCode(raw[i]!);
  return SEPARATOR.test(line.replace(/\r$/, ''));
}

/** Splits a mailbox as it is read: chunks in, whole messages out (see {@link createMailboxSplitter}). */
export interface MailboxSplitter {
  /** Takes the next chunk of the file; returns the messages it completed, in order. */
  push(chunk: Uint8Array): Uint8Array[];
  /** The file ended: returns the last message (none for an empty input). */
  end(): Uint8Array[];
}

/** Options of {@link createMailboxSplitter}. */
export interface MailboxSplitterOptions {
  /**
   * Bytes kept of one message; the rest of it is skipped (still scanned for the next
   * separator), so one huge message cannot hold the whole file in memory. A cut message is
   * returned one byte longer than this, so the analysis sees and reports that it was cut.
   */
  readonly maxMessageBytes: number;
}

/**
 * The streaming form of {@link splitMailbox}: the same messages, found chunk by chunk, so a
 * mailbox of any size is split holding about one message and one chunk. An input whose first
 * line is not an mbox `From ` line is one message (cut like any other).
 * @example
 * const splitter = createMailboxSplitter({ maxMessageBytes: MAX_MESSAGE_BYTES });
 * for await (const chunk of stream) for (const message of splitter.push(chunk)) analyze(message);
 * for (const message of splitter.end()) analyze(message);
 */
export function createMailboxSplitter(options: MailboxSplitterOptions): MailboxSplitter {
  const keep = options.maxMessageBytes + 1;
  // The incomplete last line of the previous chunk (short: a long line goes to the message).
  let carry: Uint8Array = new Uint8Array(0);
  // Whether `carry` (or the next chunk when carry is empty) starts at the start of a line.
  let atLineStart = true;
  // Whether the last complete line was empty: a separator must follow an empty line.
  let previousBlank = false;
  // null until the first line is seen; then whether the input is a mailbox at all.
  let isMailbox: boolean | null = null;
  let parts: Uint8Array[] = [];
  let size = 0;

  const append = (bytes: Uint8Array) => {
    if (bytes.length === 0 || size >= keep) return;
    const room = keep - size;
    const piece = bytes.length > room ? bytes.subarray(0, room) : bytes;
    parts.push(piece);
    size += piece.length;
  };
  const finish = (): Uint8Array | null => {
    if (parts.length === 0) return null;
    const message = parts.length === 1 ? parts[0]! : concat(parts, size);
    parts = [];
    size = 0;
    return message;
  };

  // Scans complete lines [0, end) of `data` for separators; appends everything to messages.
  const scan = (data: Uint8Array, end: number, out: Uint8Array[]) => {
    if (isMailbox === false) {
      append(data.subarray(0, end));
      return;
    }
    let segment = 0;
    let lineStart = atLineStart ? 0 : nextLineStart(data, 0, end);
    if (!atLineStart && lineStart > 0) previousBlank = false;
    while (lineStart < end) {
      const lineEnd = nextLineStart(data, lineStart, end);
      if (isMailbox === null) {
        isMailbox = isSeparatorAt(data, lineStart);
      } else if (isMailbox && previousBlank && data[lineStart] === 0x46 && isSeparatorAt(data, lineStart)) {
        append(data.subarray(segment, lineStart));
        const message = finish();
        if (message) out.push(message);
        segment = lineStart;
      }
      previousBlank = lineEnd - lineStart === 1 || (lineEnd - lineStart === 2 && data[lineStart] === 0x0d);
      lineStart = lineEnd;
    }
    append(data.subarray(segment, end));
  };

  return {
    push(chunk) {
      const out: Uint8Array[] = [];
      const data = carry.length === 0 ? chunk : concat([carry, chunk], carry.length + chunk.length);
      const lastNewline = data.lastIndexOf(0x0a);
      if (lastNewline === -1) {
        // No line ends here: a long line is no separator and need not be kept apart.
        if (data.length > MAX_LINE) {
          if (isMailbox === null) isMailbox = atLineStart && isSeparatorAt(data, 0);
          append(data);
          carry = new Uint8Array(0);
          atLineStart = false;
          previousBlank = false;
        } else carry = data;
        return out;
      }
      scan(data, lastNewline + 1, out);
      carry = data.slice(lastNewline + 1);
      atLineStart = true;
      return out;
    },
    end() {
      const out: Uint8Array[] = [];
      if (carry.length > 0) {
        const data = carry;
        carry = new Uint8Array(0);
        scan(data, data.length, out);
      }
      const message = finish();
      if (message) out.push(message);
      return out;
    },
  };
}

// Where the line starting at `from` ends (after its LF), or `end`.
function nextLineStart(data: Uint8Array, from: number, end: number): number {
  const nl = data.indexOf(0x0a, from);
  return nl === -1 || nl >= end ? end : nl + 1;
}

function concat(parts: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
