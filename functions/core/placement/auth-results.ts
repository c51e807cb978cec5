/**
 * The receiver's own word on a delivered canary: RFC 8601 `Authentication-Results` as the seed's
 * provider wrote it (Gmail, Outlook, Yahoo, docomo, …), read from the message's header block.
 *
 * Only the receiver's header counts. A header field with the receiver's authserv-id could also
 * have been written by anyone upstream, so a field is trusted only when it sits above the
 * `Received:` line of the hop that handed the message to the receiver: walking the Received
 * lines from the top, the receiver's own come first (their `by` names a receiver host, or an
 * internal address such as Gmail's `by 2002:a05:…` and Yahoo's `by 10.217.…`); the first one
 * whose `by` names another host was written before the receiver had the message, and so was
 * everything below it. Gmail writes its Authentication-Results just below its entry Received
 * (`by mx.google.com`) and above the provider's, Microsoft and Yahoo above their entry line:
 * both are above the first foreign line. Microsoft writes no authserv-id at all; for such a
 * receiver a field without one is accepted under the same position rule.
 * Pure: the caller passes the header block as text.
 */
import { organizationalDomain } from '../auth/canary.ts';
import { headerFields } from './headers.ts';

/** One method's result in an Authentication-Results field. */
export interface MethodResult {
  /** Lower case: `spf`, `dkim`, `dmarc`, `arc`, `compauth`, … */
  readonly method: string;
  /** Lower case: `pass`, `fail`, `softfail`, `neutral`, `none`, `temperror`, `permerror`, `policy`, … */
  readonly result: string;
  /** The `reason=` text, when given. */
  readonly reason: string | null;
  /** The properties, e.g. `{ 'smtp.mailfrom': 'bounces.example.jp', 'header.from': 'example.jp' }` (keys lower case). */
  readonly props: Readonly<Record<string, string>>;
  /** The comment right after the result, e.g. Yahoo's `(p=REJECT)`, Gmail's `(p=NONE sp=NONE dis=NONE)`. */
  readonly comment: string | null;
}

/** One parsed Authentication-Results field. */
export interface AuthenticationResults {
  /** The authserv-id; null when the field has none (Microsoft's). */
  readonly authservId: string | null;
  readonly results: readonly MethodResult[];
}

/** Removes RFC 5322 comments (nested parentheses, quoted strings left alone), keeping a marker of where each was. */
function splitComments(value: string): { text: string; comments: Map<number, string> } {
  let text = '';
  const comments = new Map<number, string>();
  let depth = 0;
  let comment = '';
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!;
    if (depth === 0 && ch === '"') quoted = !quoted;
    if (!quoted && ch === '(') {
      if (depth > 0) comment += ch;
      depth++;
      continue;
    }
    if (!quoted && ch === ')' && depth > 0) {
      depth--;
      if (depth === 0) {
        comments.set(text.length, comment.trim());
        comment = '';
        text += ' ';
      } else comment += ch;
      continue;
    }
    if (ch === '\\' && (quoted || depth > 0) && i + 1 < value.length) {
      if (depth > 0) comment += value[++i]!;
      else text += ch + value[++i]!;
      continue;
    }
    if (depth > 0) comment += ch;
    else text += ch;
  }
  return { text, comments };
}

const unquote = (s: string) => (s.length >= 2 && s.startsWith('"') && s.endsWith('"') ? s.slice(1, -1).replace(/\\(.)/g, '$1') : s);

/**
 * Parses one Authentication-Results field value (unfolded). Tolerant of what receivers really
 * write: no authserv-id (Microsoft), a comment glued to the result (Yahoo `dmarc=pass(p=REJECT)`),
 * `;` without a space after it, a trailing `;`. Null for a value that holds no result at all.
 * @example parseAuthenticationResults('mx.google.com; dkim=pass header.i=@example.jp; spf=pass smtp.mailfrom=example.jp; dmarc=pass (p=NONE) header.from=example.jp')
 */
export function parseAuthenticationResults(value: string): AuthenticationResults | null {
  const { text, comments } = splitComments(value);
  // Split at `;` outside quotes, remembering where each part starts (for the comment markers).
  const parts: { text: string; start: number }[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i <= text.length; i++) {
    const ch = text[i];
    if (ch === '"') quoted = !quoted;
    if (i === text.length || (ch === ';' && !quoted)) {
      parts.push({ text: text.slice(start, i), start });
      start = i + 1;
    }
  }
  let authservId: string | null = null;
  const first = parts[0];
  // A first part with `=` before any space-separated version is already a result: no authserv-id.
  if (first && !/^\s*[A-Za-z0-9_.-]+(?:\/[0-9]+)?\s*=/.test(first.text)) {
    const id = first.text.trim().split(/\s+/)[0] ?? '';
    authservId = id === '' ? null : unquote(id).toLowerCase();
    parts.shift();
  }
  const results: MethodResult[] = [];
  for (const part of parts) {
    const m = /^\s*([A-Za-z0-9_-]+)(?:\/[0-9]+)?\s*=\s*([A-Za-z0-9_-]+)/.exec(part.text);
    if (!m) continue;
    const method = m[1]!.toLowerCase();
    if (method === 'none') continue;
    const resultEnd = part.start + m[0].length;
    let comment: string | null = null;
    for (const [at, c] of comments) {
      // The comment that directly follows the result word (spaces aside).
      if (at >= resultEnd && text.slice(resultEnd, at).trim() === '') {
        comment = c;
        break;
      }
    }
    const rest = part.text.slice(m[0].length);
    const props: Record<string, string> = {};
    let reason: string | null = null;
    for (const p of rest.matchAll(/([A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s;]*)/g)) {
      const key = p[1]!.toLowerCase();
      const val = unquote(p[2]!);
      if (key === 'reason') reason = val;
      else props[key] = val;
    }
    results.push({ method, result: m[2]!.toLowerCase(), reason, props, comment });
  }
  if (results.length === 0 && authservId === null) return null;
  return { authservId, results };
}

/** Who the receiver is: its authserv-ids and the domains of its hosts. */
export interface ReceiverIdentity {
  /** Lower case authserv-ids (exact, or a domain: `yahoo.com` matches `atlas-production.v2.mail.ne1.yahoo.com`). */
  readonly authservIds: readonly string[];
  /** Lower case domains whose hosts are the receiver's (`by` of its Received lines). */
  readonly domains: readonly string[];
  /** The receiver writes no authserv-id (Microsoft): a field without one counts as its own. */
  readonly acceptsMissingId?: boolean;
}

/** The receiver's verdicts on the canary (the `check --json` `receiverAuth`). */
export interface ReceiverAuth {
  /** The authserv-id of the field read (`(none)` for Microsoft's, which has none). */
  readonly authservId: string;
  readonly spf?: string;
  readonly dkim?: string;
  readonly dmarc?: string;
  readonly arc?: string;
  /** The domain the receiver checked SPF for (`smtp.mailfrom`), when it says. */
  readonly spfDomain?: string;
  /** The DKIM signing domains that passed (`header.d` / `header.i`). */
  readonly dkimDomains?: readonly string[];
  /** The DMARC policy as the receiver quoted it (Gmail's `p=QUARANTINE`, Yahoo's `p=REJECT`), lower case. */
  readonly dmarcPolicy?: string;
  /** The From domain the receiver judged DMARC for (`header.from`). */
  readonly fromDomain?: string;
}

const hostOf = (s: string) => s.toLowerCase().replace(/\.$/, '');

function underDomain(host: string, domain: string): boolean {
  return host === domain || host.endsWith(`.${domain}`);
}

/** An address literal or a bare IP (`10.217.151.75`, `2002:a05:6a10::`, `[IPv6:…]`): an internal hop of the receiver. */
function isAddressLike(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').replace(/^ipv6:/i, '');
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(h) || (/^[0-9a-f:]+$/i.test(h) && h.includes(':'));
}

/** The `by` host of a Received value; null when it names none. */
export function receivedBy(value: string): string | null {
  const { text } = splitComments(value);
  const m = /(?:^|\s)by\s+([^\s;]+)/i.exec(text);
  return m ? hostOf(m[1]!) : null;
}

/** The date after the last `;` of a Received value, as ISO; null when unreadable. */
export function receivedDate(value: string): string | null {
  const at = value.lastIndexOf(';');
  if (at < 0) return null;
  const ms = Date.parse(value.slice(at + 1).trim().replace(/\s*\([^)]*\)\s*$/, ''));
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

function matchesId(id: string | null, receiver: ReceiverIdentity): boolean {
  if (id === null) return receiver.acceptsMissingId === true;
  return receiver.authservIds.some((want) => id === want || id.endsWith(`.${want}`));
}

/** What the receiver's part of a header block says. */
export interface ReceiverReading {
  /** The receiver's verdicts; null when no trusted Authentication-Results field was there. */
  readonly auth: ReceiverAuth | null;
  /** When the receiver took the message from the hop before it (its entry Received line's date), ISO; null when unknown. */
  readonly arrivedAt: string | null;
  /** Authentication-Results fields with the receiver's id that were below its boundary and so ignored (forged or copied). */
  readonly ignored: number;
}

function best(results: readonly MethodResult[], method: string): MethodResult | undefined {
  const all = results.filter((r) => r.method === method);
  return all.find((r) => r.result === 'pass') ?? all[0];
}

function summarize(ar: AuthenticationResults): ReceiverAuth {
  const spf = best(ar.results, 'spf');
  const dkimPassed = ar.results.filter((r) => r.method === 'dkim' && r.result === 'pass');
  const dkim = best(ar.results, 'dkim');
  const dmarc = best(ar.results, 'dmarc');
  const arc = best(ar.results, 'arc');
  const spfDomain = spf?.props['smtp.mailfrom'];
  const domainOf = (s: string) => (s.includes('@') ? s.slice(s.lastIndexOf('@') + 1) : s).toLowerCase();
  const dkimDomains = dkimPassed.map((d) => d.props['header.d'] ?? (d.props['header.i'] ? domainOf(d.props['header.i']) : '')).filter((d) => d !== '');
  const policy = /\bp=([a-z]+)/i.exec(dmarc?.comment ?? '')?.[1] ?? dmarc?.props['policy.published-domain-policy'] ?? dmarc?.props['policy.dmarc'];
  const fromDomain = dmarc?.props['header.from'];
  return {
    authservId: ar.authservId ?? '(none)',
    ...(spf ? { spf: spf.result } : {}),
    ...(dkim ? { dkim: dkim.result } : {}),
    ...(dmarc ? { dmarc: dmarc.result } : {}),
    ...(arc ? { arc: arc.result } : {}),
    ...(spfDomain ? { spfDomain: domainOf(spfDomain) } : {}),
    ...(dkimDomains.length > 0 ? { dkimDomains } : {}),
    ...(policy ? { dmarcPolicy: policy.toLowerCase() } : {}),
    ...(fromDomain ? { fromDomain: fromDomain.toLowerCase() } : {}),
  };
}

/**
 * Reads the receiver's verdicts and arrival time from a delivered message's header block (see
 * the file comment for which fields are trusted). Of several trusted fields the topmost, the
 * receiver's last word, counts.
 * @example
 * readReceiver(headers, { authservIds: ['mx.google.com'], domains: ['google.com'] }).auth?.dmarc // 'pass'
 */
export function readReceiver(headerBlock: string, receiver: ReceiverIdentity): ReceiverReading {
  const fields = headerFields(headerBlock);
  let boundary = fields.length;
  let entry: string | null = null;
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!;
    if (f.name !== 'received') continue;
    const by = receivedBy(f.value);
    const own = by === null || isAddressLike(by) || receiver.domains.some((d) => underDomain(by, d));
    if (!own) {
      boundary = i;
      break;
    }
    entry = f.value;
  }
  let auth: ReceiverAuth | null = null;
  let ignored = 0;
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!;
    if (f.name !== 'authentication-results') continue;
    const parsed = parseAuthenticationResults(f.value);
    if (!parsed || !matchesId(parsed.authservId, receiver)) continue;
    if (i >= boundary) {
      ignored++;
      continue;
    }
    if (auth === null) auth = summarize(parsed);
  }
  return { auth, arrivedAt: entry === null ? null : receivedDate(entry), ignored };
}

/**
 * The receiver's domains from its authserv-ids and host names (organizational domains, so
 * `mx.google.com` covers `by mx.google.com` and `by 2002:…` is covered as an address anyway).
 */
export function receiverDomainsOf(names: readonly string[]): string[] {
  const out = new Set<string>();
  for (const n of names) if (n.includes('.')) out.add(organizationalDomain(n));
  return [...out];
}
