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
  for (let i = 1; i < raw.length; i++) {
    // A separator follows an empty line: "\n\nFrom " (or "\r\n\r\nFrom ").
    if (raw[i - 1] !== 0x0a || raw[i] !== 0x46) continue;
    const blank = raw[i - 2] === 0x0a || (raw[i - 2] === 0x0d && raw[i - 3] === 0x0a);
    if (blank && isSeparatorAt(raw, i)) starts.push(i);
  }
  return starts.map((start, k) => raw.subarray(start, starts[k + 1] ?? raw.length));
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
