/**
 * Reads the extensions a server announces in its EHLO reply (RFC 5321 4.1.1.1): one keyword
 * per line after the first, with optional parameters.
 */
import type { Extensions } from '../results.ts';

/**
 * SIZE becomes a number (RFC 1870; 0 means no fixed limit), AUTH the list of its mechanisms,
 * every other keyword `true`. Keywords are upper-cased.
 * @example parseEhlo('250-mx.example.jp\n250-SIZE 10240000\n250 AUTH PLAIN LOGIN')
 * // { SIZE: 10240000, AUTH: ['PLAIN', 'LOGIN'] }
 */
export function parseEhlo(reply: string): Extensions {
  const out: Record<string, number | string[] | boolean> = {};
  const lines = reply.split('\n').slice(1);
  for (const raw of lines) {
    const line = raw.replace(/^\d{3}[ -]/, '').trim();
    if (!line) continue;
    const [keyword = '', ...params] = line.split(/[\s=]+/);
    const key = keyword.toUpperCase();
    if (!/^[A-Z0-9][A-Z0-9-]*$/.test(key)) continue;
    if (key === 'SIZE') {
      const n = Number(params[0]);
      out.SIZE = Number.isFinite(n) && params.length > 0 ? n : 0;
    } else if (key === 'AUTH') {
      const previous = Array.isArray(out.AUTH) ? out.AUTH : [];
      out.AUTH = [...new Set([...previous, ...params.map((p) => p.toUpperCase()).filter(Boolean)])];
    } else {
      out[key] = true;
    }
  }
  return out;
}
