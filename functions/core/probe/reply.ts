/**
 * SMTP replies as data: the code, the RFC 3463 enhanced status and the class that decides
 * transient versus permanent. This is the one place that decision is made; the diagnosis table
 * and anything that retries read it from here.
 */

/** A reply split into its parts. `status` is the enhanced status code (e.g. `5.1.1`), if sent. */
export interface ParsedReply {
  readonly code: number;
  readonly status: string | null;
  readonly text: string;
}

/**
 * The class of a reply code (RFC 5321 4.2.1): 2xx done, 3xx go on, 4xx try again later,
 * 5xx do not try again.
 */
export type ReplyClass = 'positive' | 'intermediate' | 'transient' | 'permanent';

/**
 * Parses the first line of a reply; null when it does not start with a three-digit code.
 * @example parseReply('550 5.1.1 <x@example.jp>: user unknown') // { code: 550, status: '5.1.1', … }
 */
export function parseReply(reply: string): ParsedReply | null {
  const first = reply.split('\n', 1)[0] ?? '';
  const m = /^([2-5]\d\d)(?:[ -]|$)(?:([245]\.\d{1,3}\.\d{1,3})(?:\s|$))?(.*)$/.exec(first);
  if (!m) return null;
  return { code: Number(m[1]), status: m[2] ?? null, text: (m[3] ?? '').trim() };
}

/**
 * The class of a reply code.
 * @example replyClass(452) // 'transient'
 */
export function replyClass(code: number): ReplyClass {
  if (code >= 500) return 'permanent';
  if (code >= 400) return 'transient';
  if (code >= 300) return 'intermediate';
  return 'positive';
}

/** True for a reply that means "try again later": the failure may go away by itself. */
export function isTransient(code: number): boolean {
  return replyClass(code) === 'transient';
}

/** True when a reply lets the session go on (2xx, or 3xx such as 354 and 334). */
export function isSuccess(code: number): boolean {
  const c = replyClass(code);
  return c === 'positive' || c === 'intermediate';
}

/**
 * The first line of a reply, e.g. for an EHLO answer whose other lines are the extensions.
 * @example firstLine('250-smtp.example.jp\n250 SIZE 1000') // '250-smtp.example.jp'
 */
export function firstLine(reply: string): string {
  return reply.split('\n', 1)[0] ?? '';
}
