/**
 * XML from strangers into the small element tree the DMARC core reads, through saxes (a strict,
 * streaming XML 1.0 parser). saxes never expands entities declared in a DTD (only the five XML
 * ones and character references), and this adapter refuses any DOCTYPE outright, so an entity
 * bomb is a named refusal, never an expansion. Nesting deeper than the limit, malformed XML
 * (with line and column) and an empty document are named refusals too. Names lose their
 * namespace prefix; namespaces themselves are ignored (reports with and without the DMARCbis
 * namespace read alike).
 */
import { SaxesParser } from 'saxes';
import type { XmlElement } from '#core/dmarc/read.ts';
import { problem, type ReportProblem } from '#core/dmarc/problems.ts';

/** Limits of one XML document. */
export interface XmlLimits {
  /** Element nesting. */
  readonly depth: number;
  /** Elements in all. */
  readonly elements: number;
}

// An element's text beyond this is cut (a report's longest text is a comment or a domain name).
const TEXT_MAX = 16 * 1024;

interface Building {
  name: string;
  text: string;
  children: XmlElement[];
}

/** The decoder of XML bytes: UTF-8 (the default), UTF-16 by its byte order mark, or the encoding the declaration names. */
function decoderOf(bytes: Uint8Array): InstanceType<typeof TextDecoder> {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le');
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder('utf-16be');
  const head = Buffer.from(bytes.subarray(0, 200)).toString('latin1');
  const declared = /^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']/.exec(head)?.[1];
  if (declared && !/^utf-?8$/i.test(declared)) {
    try {
      return new TextDecoder(declared);
    } catch {
      // An encoding this Node does not know: windows-1252 keeps every byte readable.
      return new TextDecoder('latin1');
    }
  }
  return new TextDecoder('utf-8');
}

// The text is decoded and parsed a slice at a time: a report of 40 MB is never one string.
const CHUNK_BYTES = 1024 * 1024;

/**
 * Takes an element as it closes, with the number of its ancestors; true keeps it out of the
 * tree (a report's records are read one by one and dropped, so a report of 100,000 records
 * never holds 1.5 million elements at once).
 */
export type ElementTaker = (element: XmlElement, ancestors: number) => boolean;

/**
 * Parses XML into an element tree, or names why it cannot.
 * @example
 * const tree = parseXml(bytes, { depth: 16, elements: 5_000_000 });
 * if ('code' in tree) tree.code; // 'XML_DOCTYPE', 'XML_TOO_DEEP', 'XML_MALFORMED'
 */
export function parseXml(bytes: Uint8Array, limits: XmlLimits, take?: ElementTaker): XmlElement | ReportProblem {
  const parser = new SaxesParser({ xmlns: false, position: true });
  const stack: Building[] = [];
  let root: XmlElement | null = null;
  let refused: ReportProblem | null = null;
  let elements = 0;
  const refuse = (p: ReportProblem) => {
    refused ??= p;
    // Stop the parser: saxes throws the error passed to fail() out of write().
    throw new Error(p.message);
  };
  parser.on('doctype', () => refuse(problem('XML_DOCTYPE', 'the XML has a DOCTYPE: reports never do, and entity declarations are how XML bombs work; refused without expanding anything')));
  parser.on('opentag', (tag) => {
    if (stack.length >= limits.depth) refuse(problem('XML_TOO_DEEP', `the XML nests deeper than ${limits.depth} elements (at line ${parser.line}); a report needs six`));
    if (++elements > limits.elements) refuse(problem('TOO_LARGE', `the XML has more than ${limits.elements} elements`));
    const colon = tag.name.indexOf(':');
    stack.push({ name: colon >= 0 ? tag.name.slice(colon + 1) : tag.name, text: '', children: [] });
  });
  const onText = (t: string) => {
    const top = stack.at(-1);
    // The white space between elements is no element's text.
    if (top && top.text.length < TEXT_MAX && !(top.text === '' && /^\s*$/.test(t))) top.text += t.slice(0, TEXT_MAX - top.text.length);
  };
  parser.on('text', onText);
  parser.on('cdata', onText);
  parser.on('closetag', () => {
    const done = stack.pop()!;
    const element: XmlElement = { name: done.name, text: done.text.trim(), children: done.children };
    if (take?.(element, stack.length)) return;
    const parent = stack.at(-1);
    if (parent) parent.children.push(element);
    else root = element;
  });
  parser.on('error', (err) => {
    throw err;
  });
  try {
    const decoder = decoderOf(bytes);
    for (let at = 0; at < bytes.length; at += CHUNK_BYTES) parser.write(decoder.decode(bytes.subarray(at, at + CHUNK_BYTES), { stream: true }));
    parser.write(decoder.decode()).close();
  } catch (err) {
    if (refused) return refused;
    return problem('XML_MALFORMED', `the XML is not well-formed: ${err instanceof Error ? err.message.slice(0, 200) : String(err)}`);
  }
  if (refused) return refused;
  return root ?? problem('XML_MALFORMED', 'the XML has no root element');
}
