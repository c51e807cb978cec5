/**
 * Reading the field blocks of reports: RFC 3464 delivery-status, RFC 5965 feedback-report,
 * and header blocks of returned originals. Tolerant of what real MTAs send: missing blank
 * lines, unindented continuation lines, missing address types.
 */

/** One field as written: name in lower case, value unfolded and trimmed. */
export interface Field {
  readonly name: string;
  readonly value: string;
}

const FIELD_LINE = /^([A-Za-z][A-Za-z0-9_-]*)[ \t]*:(.*)$/;

/**
 * The lines of a text, as `text.split(/\r?\n/, limit)` gives them (a string split is several
 * times faster than a regular-expression split, and texts are split into lines many times).
 */
export function splitLines(text: string, limit?: number): string[] {
  const lines = text.split('\n', limit);
  if (text.includes('\r')) {
    for (let i = 0; i < lines.length; i++) if (lines[i]!.endsWith('\r')) lines[i] = lines[i]!.slice(0, -1);
  }
  return lines;
}

/** Splits text into blocks (separated by empty lines) of unfolded fields. */
export function parseFieldBlocks(text: string): Field[][] {
  const blocks: Field[][] = [];
  let block: { name: string; value: string }[] = [];
  const flush = () => {
    if (!block.length) return;
    for (let i = 0; i < block.length; i++) block[i]!.value = block[i]!.value.trim();
    blocks.push(block);
    block = [];
  };
  const lines = splitLines(text);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') {
      flush();
      continue;
    }
    // A field line starts with a letter, never with a continuation's whitespace.
    const m = FIELD_LINE.exec(line);
    if (m) block.push({ name: m[1]!.toLowerCase(), value: m[2]! });
    else if (block.length) block[block.length - 1]!.value += ` ${line.trim()}`;
  }
  flush();
  return blocks;
}

/** The header fields at the start of a text (a returned original), up to the first empty line. */
export function parseHeaderFields(text: string): Field[] {
  const end = text.search(/\r?\n\r?\n/);
  return parseFieldBlocks(end < 0 ? text : text.slice(0, end))[0] ?? [];
}

/** An e-mail address as it appears in bounces (lenient about dots: carriers issued `a..b@`). */
export const ADDRESS = /(?:"[^"\r\n<>@]{1,64}"|[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+)@(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z][A-Za-z0-9-]*[A-Za-z0-9]|[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@\[[0-9.:A-Fa-f]+\]/;
const ADDRESS_G = new RegExp(ADDRESS.source, 'g');

/**
 * An address as written, also when its domain is not a valid host name (an underscore in a
 * label, a one-letter top label as anonymised samples have, a single label). Read only where the
 * report's structure says the text is the recipient (a DSN recipient field, `RCPT TO:<…>`, an
 * address in angle brackets or alone on a line, X-Failed-Recipients): a report about such a
 * recipient still says what happened to it. {@link isHostNameDomain} tells the two apart.
 */
export const LOOSE_ADDRESS = /(?:"[^"\r\n<>@]{1,64}"|[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+)@[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?)*/;
const LOOSE_ADDRESS_G = new RegExp(LOOSE_ADDRESS.source, 'g');

// An RFC 1123 label: letters, digits and inner hyphens, at most 63 characters.
const HOST_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;
// A top label names a top-level domain: alphabetic (or an IDNA A-label), never one letter.
const TOP_LABEL = /^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$/i;

/**
 * Whether the domain of an address is a host name mail can be routed to (RFC 1123 §2.1, RFC
 * 5321 §4.1.2): two labels or more of letters, digits and inner hyphens, a top label that
 * names a top-level domain; or an address literal (`[192.0.2.1]`).
 * @example isHostNameDomain('taro@example.jp') // true
 * @example isHostNameDomain('taro@mail_gw.example.jp') // false
 */
export function isHostNameDomain(address: string): boolean {
  const domain = address.slice(address.lastIndexOf('@') + 1).replace(/\.$/, '');
  if (/^\[[0-9a-f.:]+\]$/i.test(domain)) return true;
  if (domain.length > 253) return false;
  const labels = domain.split('.');
  return labels.length >= 2 && labels.every((l) => HOST_LABEL.test(l)) && TOP_LABEL.test(labels[labels.length - 1]!);
}

/** All addresses in a text, in order. */
export function findAddresses(text: string): string[] {
  return text.match(ADDRESS_G) ?? [];
}

// No space, quote, bracket, '=' or ':' (of a prefix), and no dot at either end.
const PLAIN_ADDRESS = /^[^\s.=:"'<>()][^\s=:"'<>()]*[^\s.=:"'<>()]$/;

/** Cleans an address for output: no brackets, quotes, `mailto:` or trailing dots. */
export function cleanAddress(a: string): string {
  // Most addresses are clean already: nothing below would change them.
  if (PLAIN_ADDRESS.test(a)) return a;
  // X.400-style prefixes of Exchange's old notices ("dda:SMTP=x@example.com", "RFC-822=x@…").
  const t = a.trim().replace(/^mailto:/i, '').replace(/^(?:smtp|rfc-?822|ia5)[=:]/i, '');
  // A quoted local part ("a..b"@example.jp) keeps its quotes: they are part of the address.
  const quoted = /^[<(]*("[^"]+"@[^\s>")]+)/.exec(t);
  if (quoted) return quoted[1]!.replace(/\.+$/, '');
  return t
    .replace(/^[<"'(]+|[>"')]+$/g, '')
    .replace(/^\.+|\.+$/g, '')
    .trim();
}

/**
 * The address in a typed field value (`rfc822; a@b`, `<a@b>`, `a@b`); null when none. With
 * `asWritten`, also one whose domain is not a valid host name (the field names an address).
 */
export function addressOfTyped(value: string, asWritten = false): string | null {
  const untyped = value.replace(/^\s*[A-Za-z0-9-]+\s*;\s*/, '');
  const m = ADDRESS.exec(untyped) ?? (asWritten ? LOOSE_ADDRESS.exec(untyped) : null);
  return m ? cleanAddress(m[0]) : null;
}

/** All addresses of a header that lists recipients (X-Failed-Recipients), as written. */
export function listedAddresses(text: string): string[] {
  return (text.match(LOOSE_ADDRESS_G) ?? []).map(cleanAddress);
}

/** A typed field value without its type (`smtp; 550 …` → `550 …`, `dns; mx.example` → `mx.example`). */
export function untyped(value: string): string {
  return value.replace(/^\s*(?:smtp|dns|x-unix|x-postfix|unix|rfc822|x-local-hostname|mta|x-notes|x-?[a-z0-9-]*)\s*;\s*/i, '').trim();
}

/** RFC 3463 enhanced status code in a text: `5.1.1`, `4.7.650`. */
export const ENHANCED_STATUS = /(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d]|\.\d)/;

/**
 * An SMTP reply code where a reply starts (RFC 5321 §4.2: the three digits open the reply line):
 * at the start of the text or of a line, after a label's colon ("host mx said: 550 …"), a
 * transcript's `<<<`, an address in brackets ("<a@example.jp> 550 …"), or an opening bracket or
 * quote. A number inside a sentence ("exceeds size limit 200 of server") is not a reply code.
 */
export const REPLY_CODE = /(?:^|\n|[:(["'#>]|<<<)[ \t]*([245]\d\d)(?=[ -]|\r?$|[\])"'])/m;

/**
 * A reply code inside a sentence, recognisable by what follows it: the enhanced status of the
 * same class ("… returned 550 5.1.1 …"), or the continuation hyphen of a multi-line reply
 * quoted as is ("error 550-'5.7.1 …").
 */
export const REPLY_CODE_WITH_STATUS = /(?<![\w.])([245])(\d\d)(?:[ -]['"]?#?\1\.\d{1,3}\.\d{1,3}(?![\d.])|-(?=['"A-Za-z#]))/;

/** All values of a field (name in lower case) in a list of fields. */
export function valuesOf(fields: readonly Field[], name: string): string[] {
  const out: string[] = [];
  for (const f of fields) if (f.name === name) out.push(f.value);
  return out;
}

/** The first value of a field in a list of fields. */
export function valueOf(fields: readonly Field[], name: string): string | undefined {
  for (let i = 0; i < fields.length; i++) if (fields[i]!.name === name) return fields[i]!.value;
  return undefined;
}
