/**
 * Bytes → the classifier's `ParsedMessage` (and, for the report intake, the files a message
 * carries: `readAttachments`). The only file that imports mailparser.
 *
 * Two paths, one shape:
 * - a fast splitter for what bounces almost always are: text/plain and report parts in a
 *   multipart/report or multipart/mixed, 7bit / quoted-printable / base64, charsets the
 *   platform's TextDecoder knows (ISO-2022-JP, Shift_JIS, EUC-JP included);
 * - mailparser (`keepDeliveryStatus: true`) as the parser of record for everything else:
 *   HTML-only bodies (it converts them to text), charsets TextDecoder lacks (UTF-7, …),
 *   unusual transfer encodings and structures the splitter does not trust itself with.
 * The splitter costs a fraction of a full parse, which is what lets one process classify
 * well over a thousand bounces a second; mailparser still sees every message the splitter
 * declines. `createMailParser({ fastPath: false })` forces mailparser for everything.
 */
import { isAscii } from 'node:buffer';
import type { Attachment } from 'mailparser';
import { splitLines } from '#core/bounce/fields.ts';
import type { MessageHeader, MessagePart, ParsedMessage } from '#core/bounce/message.ts';
import type { MessageParser } from '#core/ports.ts';

/** Options of {@link createMailParser}. */
export interface MailParserOptions {
  /** Try the fast splitter first (default true); false sends every message through mailparser. */
  readonly fastPath?: boolean;
}

// Bounds that keep a hostile message from costing more than a normal one.
const MAX_DEPTH = 8;
// mailparser is stream-based; should it ever stall on a malformed message, the fast split
// answers instead after this long (a normal parse takes about a millisecond).
const MAILPARSER_TIMEOUT_MS = 5_000;
const MAX_PARTS = 200;
const MAX_HEADERS = 2000;

/**
 * Creates the message parser used by the CLI, the local loop and the bounce Lambda.
 * The returned function never rejects: a message neither path can read comes back as one
 * text part holding the bytes as text, with a note.
 * @example
 * const parse = createMailParser();
 * const analysis = await analyzeBounce(bytes, { parse });
 */
export function createMailParser(options: MailParserOptions = {}): MessageParser {
  const fastPath = options.fastPath ?? true;
  return async (raw) => {
    if (fastPath) {
      const fast = splitMessage(raw);
      if (fast.ok) return fast.message;
      try {
        return withNote(await parseWithMailparser(raw), `fast path declined: ${fast.why}`);
      } catch {
        return withNote(fast.message, 'mailparser failed; used the fast split');
      }
    }
    try {
      return await parseWithMailparser(raw);
    } catch {
      return withNote(splitMessage(raw).message, 'mailparser failed; used the fast split');
    }
  };
}

function withNote(message: ParsedMessage, note: string): ParsedMessage {
  return { ...message, notes: [...message.notes, note] };
}

// ---------------------------------------------------------------------------------------------
// mailparser, the parser of record

async function parseWithMailparser(raw: Uint8Array): Promise<ParsedMessage> {
  const buf = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  let timer: NodeJS.Timeout | undefined;
  const stalled = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('mailparser timed out')), MAILPARSER_TIMEOUT_MS);
  });
  try {
    return await Promise.race([mailparserShape(buf, raw), stalled]);
  } finally {
    clearTimeout(timer);
  }
}

// mailparser (with its charset, HTML and entity tables) takes longer to load than hundreds of
// bounces take to classify, and the fast splitter reads almost every bounce without it: load
// it the first time a message needs it.
let mailparser: Promise<typeof import('mailparser')> | undefined;

async function mailparserShape(buf: Buffer, raw: Uint8Array): Promise<ParsedMessage> {
  const { simpleParser } = await (mailparser ??= import('mailparser'));
  const mail = await simpleParser(buf, {
    keepDeliveryStatus: true,
    // Returned originals stay attachments: their headers are read, their bodies are not ours.
    ignoreEmbedded: true,
    skipImageLinks: true,
    skipTextToHtml: true,
    skipTextLinks: true,
    keepCidLinks: true,
    checksumAlgo: false,
    maxHtmlLengthToParse: 2_000_000,
  });
  const headers: MessageHeader[] = [];
  for (const { line } of mail.headerLines.slice(0, MAX_HEADERS)) {
    const h = parseHeaderLine(line);
    if (h) headers.push(h);
  }
  const ct = parseContentType(headers.find((h) => h.name === 'content-type')?.value);
  const parts: MessagePart[] = [];
  if (mail.text) parts.push({ type: 'text/plain', text: mail.text });
  else if (typeof mail.html === 'string' && mail.html) parts.push({ type: 'text/plain', text: htmlToText(mail.html) });
  for (const a of mail.attachments) {
    const type = a.contentType.toLowerCase();
    if (type.startsWith('message/') || type === 'text/rfc822-headers' || type.startsWith('text/')) {
      parts.push({ type, text: attachmentText(a) });
    }
  }
  if (parts.length === 0) {
    // mailparser found no readable part (a broken structure): never lose the body.
    const split = splitMessage(raw).message;
    return { ...split, parser: 'mailparser', notes: [...split.notes, 'mailparser found no text; used the fast split'] };
  }
  return { headers, contentType: ct.type, contentTypeParams: ct.params, parts, parser: 'mailparser', notes: [] };
}

function attachmentText(a: Attachment): string {
  const ct = a.headers.get('content-type');
  const charset = ct && typeof ct === 'object' && 'params' in ct ? (ct as { params: Record<string, string> }).params.charset : undefined;
  return decodeBytes(a.content, charset).text;
}

const ENTITIES: Record<string, string> = { nbsp: ' ', amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", ensp: ' ', emsp: ' ', thinsp: ' ' };

/**
 * The text of an HTML notice, as a reader sees it: line breaks where blocks and `<br>` end,
 * tags dropped, entities decoded (enough for delivery reports; not a renderer).
 */
export function htmlToText(html: string): string {
  return html
    .replace(/<(head|style|script|title)\b[^>]*>[\s\S]*?<\/\1\s*>/gi, '')
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/\r?\n/g, ' ')
    .replace(/<br\s*\/?>|<\/(?:p|div|tr|li|h[1-6]|table|blockquote|pre)\s*>|<(?:p|div|tr|li|table|hr)\b[^>]*>/gi, '\n')
    .replace(/<\/t[dh]\s*>/gi, ' ')
    .replace(/<[^>]*>/g, '')
    .replace(/&(#x[0-9a-f]{1,6}|#\d{1,7}|[a-z]{2,8});/gi, (all, name: string) => {
      if (name[0] === '#') {
        const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
        return code > 0 && code < 0x110000 ? String.fromCodePoint(code) : all;
      }
      return ENTITIES[name.toLowerCase()] ?? all;
    })
    .replace(/[ \t\u00a0]+\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

// ---------------------------------------------------------------------------------------------
// Attachments (the report intake: DMARC and TLS reports travel as files)

/** A file a message carries: an attachment, or the whole body when the message is one file. */
export interface MessageAttachment {
  readonly filename: string | null;
  /** MIME type in lower case. */
  readonly contentType: string;
  readonly bytes: Uint8Array;
}

/**
 * The files a message carries at its top level (a returned message's attachments are not its
 * own, so message/rfc822 parts are not opened). Never rejects: a message mailparser cannot
 * read carries no files.
 * @example const files = await readAttachments(raw); files.map((f) => f.filename) // ['google.com!example.jp!….zip']
 */
export async function readAttachments(raw: Uint8Array): Promise<MessageAttachment[]> {
  const buf = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  let timer: NodeJS.Timeout | undefined;
  const stalled = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('mailparser timed out')), MAILPARSER_TIMEOUT_MS);
  });
  try {
    const { simpleParser } = await (mailparser ??= import('mailparser'));
    const mail = await Promise.race([simpleParser(buf, { skipImageLinks: true, skipTextToHtml: true, skipTextLinks: true, keepCidLinks: true, checksumAlgo: false, maxHtmlLengthToParse: 100_000 }), stalled]);
    return mail.attachments
      .filter((a) => !a.contentType.toLowerCase().startsWith('message/'))
      .map((a) => ({ filename: a.filename ?? null, contentType: a.contentType.toLowerCase(), bytes: new Uint8Array(a.content.buffer, a.content.byteOffset, a.content.byteLength) }));
  } catch {
    return [];
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------------------------
// The fast splitter

// A byte above 7 bits, or the escape that opens ISO-2022-JP: only then is a charset to be undone.
// eslint-disable-next-line no-control-regex
const EIGHT_BIT_OR_ESCAPE = /[\x80-\xff\x1b]/;

/** What the fast splitter made of a message, and whether it trusts the result. */
export type SplitResult = { ok: true; message: ParsedMessage } | { ok: false; why: string; message: ParsedMessage };

interface PartCtx {
  parts: MessagePart[];
  declined: string | null;
  notes: string[];
  hasPlainText: boolean;
  hasHtml: boolean;
  /** HTML parts as text, used when the message has no plain-text part. */
  htmlText: string[];
}

/**
 * Splits a message into headers and leaf parts without a full MIME parse. Exported for tests
 * and the benchmark; `ok: false` says why mailparser should have it instead (the message is
 * still filled in as well as the splitter could).
 */
export function splitMessage(raw: Uint8Array): SplitResult {
  // latin1 keeps one char per byte, so offsets stay byte offsets and nothing is lost.
  const s = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('latin1');
  const { head, body } = splitHeadBody(s, true);
  const headers = parseHeaderBlock(head);
  const ctValue = headers.find((h) => h.name === 'content-type')?.value;
  const ct = parseContentType(ctValue);
  const ctx: PartCtx = { parts: [], declined: null, notes: [], hasPlainText: false, hasHtml: false, htmlText: [] };
  walk(headers, body, ctx, 0, false, ct);
  const message: ParsedMessage = {
    headers,
    contentType: ct.type,
    contentTypeParams: ct.params,
    parts: ctx.parts,
    parser: 'fast',
    notes: ctx.notes,
  };
  // An HTML-only notice (GroupWise, Exchange 5.5, webmail gateways) is read as its text.
  if (ctx.hasHtml && !ctx.hasPlainText) ctx.parts.unshift(...ctx.htmlText.map((html) => ({ type: 'text/plain', text: htmlToText(html) })));
  return ctx.declined ? { ok: false, why: ctx.declined, message } : { ok: true, message };
}

/** Reads one part into `ctx` (its children too); `known`: its Content-Type, when the caller already parsed it. */
function walk(headers: readonly MessageHeader[], body: string, ctx: PartCtx, depth: number, defaultRfc822: boolean, known?: ContentType): void {
  if (ctx.parts.length >= MAX_PARTS) {
    ctx.declined ??= 'too many parts';
    return;
  }
  const ctValue = known ? undefined : headers.find((h) => h.name === 'content-type')?.value;
  const ct = known ?? (ctValue ? parseContentType(ctValue) : { type: defaultRfc822 ? 'message/rfc822' : 'text/plain', params: {} as Record<string, string> });
  const cte = (headers.find((h) => h.name === 'content-transfer-encoding')?.value ?? '7bit').trim().toLowerCase();

  if (ct.type.startsWith('multipart/')) {
    const boundary = ct.params.boundary;
    const children = boundary && depth < MAX_DEPTH ? splitMultipart(body, boundary) : null;
    if (!children) {
      // Read the whole body as text: better than mailparser, which drops it.
      ctx.notes.push(boundary ? 'MIME boundary not found; read the body as text' : 'multipart without boundary; read the body as text');
      pushText(ctx, 'text/plain', body);
      return;
    }
    for (const child of children) {
      const { head, body: childBody } = splitHeadBody(child, false);
      walk(parseHeaderBlock(head), childBody, ctx, depth + 1, ct.type === 'multipart/digest');
    }
    return;
  }

  if (!/^(7bit|8bit|binary|quoted-printable|base64)$/.test(cte)) ctx.declined ??= `transfer encoding ${cte}`;
  if (ct.type === 'text/html') {
    ctx.hasHtml = true;
    const decoded = decodePartText(body, cte, ct.params.charset);
    if (decoded.unknownCharset) ctx.declined ??= `charset ${ct.params.charset}`;
    // Turned into text only when the message turns out to have no plain-text part (line below).
    ctx.htmlText.push(decoded.text);
    return;
  }
  if (ct.type.startsWith('text/') || ct.type.startsWith('message/') || ct.type === 'application/octet-stream' && depth === 0) {
    const decoded = decodePartText(body, cte, ct.params.charset);
    if (decoded.unknownCharset) ctx.declined ??= `charset ${ct.params.charset}`;
    const type = ct.type === 'application/octet-stream' ? 'text/plain' : ct.type;
    pushText(ctx, type, decoded.text);
  }
}

function pushText(ctx: PartCtx, type: string, text: string): void {
  if (type === 'text/plain') ctx.hasPlainText = true;
  ctx.parts.push({ type, text });
}

/** Splits at the first empty line; `skipEnvelope` drops an mbox `From ` line. */
function splitHeadBody(s: string, skipEnvelope: boolean): { head: string; body: string } {
  let start = 0;
  if (skipEnvelope && s.startsWith('From ')) {
    const nl = s.indexOf('\n');
    start = nl < 0 ? s.length : nl + 1;
  }
  // A part that starts with an empty line has no headers.
  if (s.startsWith('\n', start)) return { head: '', body: s.slice(start + 1) };
  if (s.startsWith('\r\n', start)) return { head: '', body: s.slice(start + 2) };
  const m = /\r?\n\r?\n/.exec(start === 0 ? s : s.slice(start));
  if (!m) return { head: s.slice(start), body: '' };
  const at = start + m.index;
  return { head: s.slice(start, at), body: s.slice(at + m[0].length) };
}

/** Unfolds and decodes a header block (latin1 text of the raw bytes). */
function parseHeaderBlock(head: string): MessageHeader[] {
  const out: MessageHeader[] = [];
  if (!head) return out;
  const lines = splitLines(head);
  let current: string | null = null;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const first = line.charCodeAt(0);
    if ((first === 0x20 || first === 0x09) && current !== null) {
      current += line;
      continue;
    }
    if (current !== null) {
      const h = parseHeaderLine(current);
      if (h) out.push(h);
      if (out.length >= MAX_HEADERS) return out;
    }
    current = line;
  }
  if (current !== null) {
    const h = parseHeaderLine(current);
    if (h) out.push(h);
  }
  return out;
}

function parseHeaderLine(line: string): MessageHeader | null {
  const colon = line.indexOf(':');
  if (colon <= 0) return null;
  const name = line.slice(0, colon).trim().toLowerCase();
  if (!/^[!-9;-~]+$/.test(name)) return null;
  // Only mailparser's header lines still hold their folds.
  const folded = line.slice(colon + 1);
  const rawValue = (folded.includes('\n') ? folded.replace(/\r?\n/g, '') : folded).trim();
  return { name, value: decodeHeaderValue(rawValue) };
}

/** Decodes RFC 2047 encoded words and raw 8-bit bytes of a header value (given as latin1). */
function decodeHeaderValue(v: string): string {
  let out = v;
  if (EIGHT_BIT_OR_ESCAPE.test(out)) out = decodeBytes(Buffer.from(out, 'latin1'), undefined).text;
  if (!out.includes('=?')) return out;
  // Whitespace between two adjacent encoded words is not part of the text (RFC 2047 §6.2).
  out = out.replace(/(\?=)\s+(?==\?)/g, '$1');
  return out.replace(/=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=/g, (all, charset: string, enc: string, text: string) => {
    const cs = charset.replace(/\*.*$/, '');
    const bytes =
      enc.toLowerCase() === 'b'
        ? Buffer.from(text, 'base64')
        : Buffer.from(decodeQuotedPrintable(text.replace(/_/g, ' '), true), 'latin1');
    const decoded = decodeBytes(bytes, cs);
    return decoded.unknownCharset ? all : decoded.text;
  });
}

interface ContentType {
  readonly type: string;
  readonly params: Record<string, string>;
}

/** Content-Type value → lower-case type and parameters. */
function parseContentType(value: string | undefined): ContentType {
  const params: Record<string, string> = {};
  if (!value) return { type: 'text/plain', params };
  const semi = value.indexOf(';');
  const type = (semi < 0 ? value : value.slice(0, semi)).trim().toLowerCase();
  if (semi >= 0) {
    const re = /;\s*([^=;\s]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))/g;
    let m: RegExpExecArray | null;
    const rest = value.slice(semi);
    while ((m = re.exec(rest)) !== null) {
      const name = m[1]!.toLowerCase().replace(/\*0?\*?$/, '');
      const val = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? '').trim();
      if (!(name in params)) params[name] = val;
    }
  }
  return { type: /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/.test(type) ? type : 'text/plain', params };
}

/** Splits a multipart body at its boundary; null when no delimiter line is there. */
function splitMultipart(body: string, boundary: string): string[] | null {
  const delimiter = `--${boundary}`;
  const lines: { start: number; end: number; close: boolean }[] = [];
  let from = 0;
  for (;;) {
    const at = body.indexOf(delimiter, from);
    if (at < 0) break;
    from = at + delimiter.length;
    if (at > 0 && body[at - 1] !== '\n') continue;
    let lineEnd = body.indexOf('\n', from);
    if (lineEnd < 0) lineEnd = body.length;
    const rest = body.slice(from, lineEnd);
    const close = rest.startsWith('--');
    // `--abc` must not match the delimiter `--abcdef` of a nested part.
    if (!close && !/^[ \t]*\r?$/.test(rest)) continue;
    lines.push({ start: at, end: Math.min(lineEnd + 1, body.length), close });
    if (close || lines.length > MAX_PARTS) break;
  }
  if (lines.length === 0) return null;
  const parts: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.close) break;
    const next = lines[i + 1];
    // The line break before a delimiter belongs to the delimiter (RFC 2046 §5.1.1).
    let end = next ? next.start : body.length;
    if (next && end > line.end && body[end - 1] === '\n') end -= end - 1 > line.end && body[end - 2] === '\r' ? 2 : 1;
    parts.push(body.slice(line.end, Math.max(line.end, end)));
  }
  return parts;
}

/**
 * A part's body (latin1 text of its bytes) → its text, transfer encoding and charset undone.
 * A 7-bit body, which most bounce parts are, is its own text: it is not copied to bytes and
 * back (that round trip was a good share of the splitter's time on a cold start).
 */
function decodePartText(body: string, cte: string, charset: string | undefined): { text: string; unknownCharset: boolean } {
  if (cte === 'base64') return decodeBytes(Buffer.from(body.replace(/[^A-Za-z0-9+/=]/g, ''), 'base64'), charset);
  const latin1 = cte === 'quoted-printable' ? decodeQuotedPrintable(body, false) : body;
  if (!EIGHT_BIT_OR_ESCAPE.test(latin1)) return { text: latin1, unknownCharset: false };
  return decodeBytes(Buffer.from(latin1, 'latin1'), charset);
}

/** Quoted-printable (RFC 2045 §6.7) on a latin1 string; `inWord` is the RFC 2047 Q form. */
function decodeQuotedPrintable(s: string, inWord: boolean): string {
  const t = inWord ? s : s.replace(/=\r?\n/g, '');
  // =XX as %XX, every other % escaped, for the native unescape(): one pass, no JavaScript call
  // per encoded byte (a replace callback per byte was the splitter's slowest step).
  return unescape(t.replace(/%/g, '%25').replace(/=([0-9A-Fa-f]{2})/g, '%$1'));
}

const decoders = new Map<string, InstanceType<typeof TextDecoder> | null>();
const CHARSET_ALIASES: Record<string, string> = {
  // Labels seen in Japanese mail that the WHATWG encoding names do not cover.
  cp932: 'shift_jis',
  'x-sjis': 'shift_jis',
  sjis: 'shift_jis',
  'shift-jis': 'shift_jis',
  'iso-2022-jp-2': 'iso-2022-jp',
  'iso-2022-jp-3': 'iso-2022-jp',
  eucjp: 'euc-jp',
  'x-euc-jp': 'euc-jp',
  'x-unknown': 'utf-8',
  unknown: 'utf-8',
  'unknown-8bit': 'utf-8',
  default: 'utf-8',
};

function decoderFor(label: string): InstanceType<typeof TextDecoder> | null {
  let d = decoders.get(label);
  if (d !== undefined) return d;
  try {
    d = new TextDecoder(CHARSET_ALIASES[label] ?? label);
  } catch {
    d = null;
  }
  decoders.set(label, d);
  return d;
}

const utf8Fatal = new TextDecoder('utf-8', { fatal: true });
const eucFatal = new TextDecoder('euc-jp', { fatal: true });
const sjisFatal = new TextDecoder('shift_jis', { fatal: true });

/**
 * Bytes → text. A declared charset is used when the platform knows it; undeclared 8-bit text
 * is tried as UTF-8, then EUC-JP, then Shift_JIS (the Japanese encodings bounces arrive in),
 * then Latin-1; an ISO-2022-JP escape sequence wins over a missing or wrong declaration.
 */
function decodeBytes(bytes: Uint8Array, charset: string | undefined): { text: string; unknownCharset: boolean } {
  const label = charset?.trim().toLowerCase().replace(/^"|"$/g, '');
  // Native scans: a byte loop runs in the interpreter on a cold start.
  const highBit = !isAscii(bytes);
  const escape = !highBit && bytes.indexOf(0x1b) !== -1;
  if (!highBit && !escape) return { text: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1'), unknownCharset: false };
  if (escape && !highBit && (!label || label === 'us-ascii' || label.startsWith('iso-2022-jp'))) {
    return { text: decoderFor('iso-2022-jp')!.decode(bytes), unknownCharset: false };
  }
  if (label && label !== 'us-ascii' && label !== 'ascii') {
    const d = decoderFor(label);
    if (d) return { text: d.decode(bytes), unknownCharset: false };
    return { text: guess(bytes), unknownCharset: true };
  }
  return { text: guess(bytes), unknownCharset: false };
}

const gbkFatal = new TextDecoder('gbk', { fatal: true });
const big5Fatal = new TextDecoder('big5', { fatal: true });
const koi8r = new TextDecoder('koi8-r');
const cp1251 = new TextDecoder('windows-1251');
const cp1252 = new TextDecoder('windows-1252');

/**
 * Undeclared 8-bit text (a part without a charset, a body pasted without its headers): UTF-8
 * when it is valid UTF-8; otherwise the encoding under which it reads as text of its language.
 * Double-byte scripts are told from single-byte ones by how the 8-bit bytes pair up (a lead
 * byte, then a trail byte that is 8-bit itself more often than not); kana tell Japanese (EUC-JP,
 * Shift_JIS) from Chinese; Big5's trail bytes below 0xA1 tell it from GBK. Among single-byte
 * texts, Cyrillic words are runs of 8-bit letters, and Russian's mostly lower-case letters sit
 * in 0xC0–0xDF in KOI8-R but in 0xE0–0xFF in windows-1251; isolated 8-bit letters are
 * windows-1252 (Latin-1's superset).
 */
function guess(bytes: Uint8Array): string {
  try {
    return utf8Fatal.decode(bytes);
  } catch {
    // not UTF-8
  }
  let pairs = 0;
  let highPairs = 0;
  let singles = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i]! < 0x80) continue;
    const next = bytes[i + 1];
    if (next !== undefined && next >= 0x40 && next !== 0x7f && next !== 0xff) {
      pairs++;
      if (next >= 0x80) highPairs++;
      i++;
    } else singles++;
  }
  if (pairs > 0 && singles / (pairs + singles) < 0.1 && highPairs / pairs >= 0.4) {
    for (const d of [eucFatal, sjisFatal]) {
      const text = tryDecode(d, bytes);
      if (text !== null && kanaShare(text) >= 0.15) return text;
    }
    const gbk = tryDecode(gbkFatal, bytes);
    const big5 = tryDecode(big5Fatal, bytes);
    if (gbk !== null && (big5 === null || lowTrailShare(bytes) < 0.1)) return gbk;
    if (big5 !== null) return big5;
  }
  let runs = 0;
  let highBytes = 0;
  let lowerHalf = 0;
  let upperHalf = 0;
  for (let i = 0; i < bytes.length; ) {
    if (bytes[i]! < 0x80) {
      i++;
      continue;
    }
    let j = i;
    for (; j < bytes.length && bytes[j]! >= 0x80; j++) {
      if (bytes[j]! >= 0xc0 && bytes[j]! <= 0xdf) lowerHalf++;
      else if (bytes[j]! >= 0xe0) upperHalf++;
    }
    runs++;
    highBytes += j - i;
    i = j;
  }
  if (runs > 0 && highBytes / runs >= 2.5) return (lowerHalf >= upperHalf ? koi8r : cp1251).decode(bytes);
  return cp1252.decode(bytes);
}

function tryDecode(decoder: InstanceType<typeof TextDecoder>, bytes: Uint8Array): string | null {
  try {
    return decoder.decode(bytes);
  } catch {
    return null;
  }
}

// The share of kana among the Japanese and Chinese characters of a text: Japanese text is full
// of them; Chinese has none.
function kanaShare(text: string): number {
  let kana = 0;
  let cjk = 0;
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if (c >= 0x3040 && c <= 0x30ff) kana++;
    else if (c >= 0x4e00 && c <= 0x9fff) cjk++;
  }
  return kana + cjk === 0 ? 0 : kana / (kana + cjk);
}

// The share of double-byte characters whose second byte is below 0xA1: Big5 uses 0x40–0x7E for
// many common characters, GB2312 never.
function lowTrailShare(bytes: Uint8Array): number {
  let pairs = 0;
  let low = 0;
  for (let i = 0; i + 1 < bytes.length; i++) {
    if (bytes[i]! < 0x81) continue;
    pairs++;
    if (bytes[i + 1]! < 0xa1) low++;
    i++;
  }
  return pairs === 0 ? 0 : low / pairs;
}
