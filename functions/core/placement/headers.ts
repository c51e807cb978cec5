/**
 * Header fields of a message as a list, in order, top first: what the placement checks read
 * (the position of a field matters, not only its value).
 */

/** One header field, unfolded. */
export interface HeaderField {
  /** Lower case. */
  readonly name: string;
  /** Unfolded (continuation lines joined with one space), trimmed. */
  readonly value: string;
}

/**
 * The header fields of a header block (or of a whole message: reading stops at the first empty
 * line), top first. Lines that are not fields (garbage) are skipped.
 * @example headerFields('Received: from a\r\n by b; Mon, 1 Jan 2024 00:00:00 +0000\r\nSubject: x\r\n')
 */
export function headerFields(block: string): HeaderField[] {
  const lines = block.split(/\r?\n/);
  const out: HeaderField[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') break;
    const colon = line.indexOf(':');
    if (colon <= 0 || /^[ \t]/.test(line)) continue;
    let value = line.slice(colon + 1);
    while (i + 1 < lines.length && /^[ \t]/.test(lines[i + 1]!)) value += ` ${lines[++i]!.trim()}`;
    out.push({ name: line.slice(0, colon).trim().toLowerCase(), value: value.trim() });
  }
  return out;
}

/** The canary id a message carries: `X-Mail-Health-Canary`, else its `Message-ID` `<id@mail-health>`; upper case. */
export function canaryIdOfHeaders(block: string): string | null {
  const fields = headerFields(block);
  const header = fields.find((f) => f.name === 'x-mail-health-canary')?.value.trim();
  if (header && /^[0-9A-Za-z]{10,40}$/.test(header)) return header.toUpperCase();
  const mid = fields.find((f) => f.name === 'message-id')?.value;
  const m = mid ? /<([0-9A-Za-z]{10,40})@mail-health>/.exec(mid) : null;
  return m ? m[1]!.toUpperCase() : null;
}
