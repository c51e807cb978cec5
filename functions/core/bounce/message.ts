/**
 * The small parsed shape the bounce classifier works on. A parser adapter (mailparser, or the
 * fast splitter next to it) turns raw bytes into this; the classifier never sees MIME, transfer
 * encodings or charsets, so the parser can be swapped without touching the knowledge tables.
 */

/** One header field: name in lower case, value unfolded and with RFC 2047 words decoded. */
export interface MessageHeader {
  readonly name: string;
  readonly value: string;
}

/**
 * One leaf part of the message, in document order.
 * - `text/*` parts: the decoded text (transfer encoding and charset undone).
 * - `message/delivery-status`, `message/feedback-report`: the field block as text.
 * - `message/rfc822`, `text/rfc822-headers`: the returned original as text (headers first).
 */
export interface MessagePart {
  /** MIME type in lower case, e.g. `text/plain`, `message/delivery-status`. */
  readonly type: string;
  readonly text: string;
}

/** A message as the classifier sees it. */
export interface ParsedMessage {
  /** The top-level header fields in order. */
  readonly headers: readonly MessageHeader[];
  /** The top-level MIME type in lower case (`text/plain` when none was declared). */
  readonly contentType: string;
  /** Parameters of the top-level Content-Type (names lower case), e.g. `report-type`. */
  readonly contentTypeParams: Readonly<Record<string, string>>;
  /** Leaf parts in document order; a single-part message has exactly one. */
  readonly parts: readonly MessagePart[];
  /** Which parser produced this shape (for notes and the benchmark). */
  readonly parser: string;
  /** What the parser had to work around (unknown charset, missing boundary, …). */
  readonly notes: readonly string[];
}

/** The first value of a header (name in any case), or undefined. */
export function headerValue(message: Pick<ParsedMessage, 'headers'>, name: string): string | undefined {
  const lower = name.toLowerCase();
  const headers = message.headers;
  for (let i = 0; i < headers.length; i++) if (headers[i]!.name === lower) return headers[i]!.value;
  return undefined;
}
