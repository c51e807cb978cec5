/**
 * Text pasted into `mailhealth bounce -` is often only the body of a bounce (what a mail client
 * shows), without the header block that tells a report from ordinary mail. Read as a message,
 * its first line would be taken for a header and the text for no report at all.
 */

// A header field line ("Name: value"; names as mail uses them, so "<a@b>: …" is not one) or an
// mbox envelope line starts a whole message.
const HEADER_LINE = /^(?:[A-Za-z][A-Za-z0-9-]*:|From )/;
const PASTED_HEADERS = 'From: MAILER-DAEMON\r\nSubject: (pasted bounce text)\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n';

/**
 * The bytes as they are when they start like a message (a header field or an mbox `From `
 * line); otherwise the text as the body of a report from a mail system, which is what the user
 * says it is by passing it to `bounce`.
 * @example asPastedReport(utf8('<taro@example.jp>: 550 5.1.1 User unknown')) // From: MAILER-DAEMON … body
 */
export function asPastedReport(bytes: Uint8Array): Uint8Array {
  let start = 0;
  // Leading blank lines of a paste do not count.
  while (start < bytes.length && (bytes[start] === 0x0a || bytes[start] === 0x0d || bytes[start] === 0x20 || bytes[start] === 0x09)) start++;
  let end = start;
  while (end < bytes.length && end - start < 200 && bytes[end] !== 0x0a) end++;
  let firstLine = '';
  for (let i = start; i < end; i++) firstLine += String.fromCharCode(bytes[i]!);
  if (HEADER_LINE.test(firstLine)) return bytes.subarray(start);
  const head = new TextEncoder().encode(PASTED_HEADERS);
  const out = new Uint8Array(head.length + bytes.length - start);
  out.set(head, 0);
  out.set(bytes.subarray(start), head.length);
  return out;
}
