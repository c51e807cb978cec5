/**
 * OAuth 2.0 access tokens for the seeds' IMAP login (SASL XOAUTH2): a refresh token is exchanged
 * at the provider's token endpoint (RFC 6749 §6, `grant_type=refresh_token`) and the access token
 * is kept until shortly before it expires, so a round logs in without asking again. A refused
 * refresh token (`invalid_grant`: revoked, expired) is a SeedCredentialsError of kind `token`;
 * nothing secret goes into an error message.
 */
import { SeedCredentialsError } from './imap-seed.ts';

/** What one exchange needs. */
export interface RefreshRequest {
  readonly tokenUrl: string;
  readonly clientId: string;
  readonly clientSecret?: string;
  readonly refreshToken: string;
  readonly scope?: string;
}

/** Gives the access token of a refresh request, from the cache while it is valid. */
export type AccessTokenSource = (request: RefreshRequest) => Promise<string>;

/** An access token is used until this long before its expiry (a round's login may take that long). */
const EXPIRY_MARGIN_MS = 60_000;
/** When the endpoint names no lifetime: an hour, the usual one (Google, Microsoft). */
const DEFAULT_LIFETIME_S = 3600;
const REQUEST_TIMEOUT_MS = 15_000;

/**
 * Creates a token source with its own cache (per token URL, client and refresh token).
 * @param options.now the clock in ms, for the cache. @default Date.now
 * @param options.fetch @default globalThis.fetch
 * @example
 * const token = createAccessTokenSource();
 * const accessToken = await token({ tokenUrl: 'https://oauth2.googleapis.com/token', clientId, clientSecret, refreshToken });
 */
export function createAccessTokenSource(options: { readonly now?: () => number; readonly fetch?: typeof fetch; readonly timeoutMs?: number } = {}): AccessTokenSource {
  const now = options.now ?? Date.now;
  const doFetch = options.fetch ?? fetch;
  const cache = new Map<string, { token: string; until: number }>();
  const inflight = new Map<string, Promise<string>>();

  async function exchange(key: string, r: RefreshRequest): Promise<string> {
    const body = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: r.refreshToken, client_id: r.clientId });
    if (r.clientSecret) body.set('client_secret', r.clientSecret);
    if (r.scope) body.set('scope', r.scope);
    let res: Response;
    try {
      res = await doFetch(r.tokenUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body,
        signal: AbortSignal.timeout(options.timeoutMs ?? REQUEST_TIMEOUT_MS),
      });
    } catch (err) {
      const timeout = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
      const cause = (err as { cause?: { code?: string } }).cause?.code;
      throw new SeedCredentialsError(timeout ? 'timeout' : 'connect', `token endpoint ${new URL(r.tokenUrl).host}: ${timeout ? 'no answer' : (cause ?? (err instanceof Error ? err.message : String(err)))}`);
    }
    const text = await res.text();
    let doc: { access_token?: unknown; expires_in?: unknown; error?: unknown; error_description?: unknown } = {};
    try {
      doc = JSON.parse(text) as typeof doc;
    } catch {
      // Not JSON: the status says enough.
    }
    if (!res.ok || typeof doc.access_token !== 'string') {
      const error = typeof doc.error === 'string' ? doc.error : `HTTP ${res.status}`;
      // The description may quote the request; keep its first line, cut short.
      const description = typeof doc.error_description === 'string' ? `: ${doc.error_description.split(/\r?\n/)[0]!.slice(0, 160)}` : '';
      throw new SeedCredentialsError('token', `token endpoint ${new URL(r.tokenUrl).host} refused the refresh token (${error}${description})`);
    }
    const lifetime = typeof doc.expires_in === 'number' ? doc.expires_in : Number(doc.expires_in) || DEFAULT_LIFETIME_S;
    cache.set(key, { token: doc.access_token, until: now() + lifetime * 1000 - EXPIRY_MARGIN_MS });
    return doc.access_token;
  }

  return async (r) => {
    const key = `${r.tokenUrl}\n${r.clientId}\n${r.refreshToken}`;
    const hit = cache.get(key);
    if (hit && hit.until > now()) return hit.token;
    // Rounds that read the same seed at once share one exchange.
    let pending = inflight.get(key);
    if (!pending) {
      pending = exchange(key, r).finally(() => inflight.delete(key));
      inflight.set(key, pending);
    }
    return pending;
  };
}
