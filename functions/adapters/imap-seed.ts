/**
 * The SeedReader over IMAP (imapflow): reads one seed mailbox for the canaries it is asked about.
 *
 * - Server-side only: the canaries are found with SEARCH (by Message-ID and X-Mail-Health-Canary
 *   header; on Gmail by X-GM-RAW `rfc822msgid:`), so a mailbox of 100,000 messages costs one
 *   search, not a download; only the UIDs found are fetched, and only their header block
 *   (BODY.PEEK[HEADER], so nothing is marked read) and INTERNALDATE.
 * - Folders: INBOX and the spam folder: the mailbox marked SPECIAL-USE `\Junk` (RFC 6154), else
 *   the seed's `junkFolder`, else the usual names (core/placement/providers.ts). On Gmail
 *   (X-GM-EXT-1) the inbox copy's category tab is asked with X-GM-RAW `category:` per tab,
 *   again server-side and limited to the UIDs found.
 * - A fetched message counts only when its own header names one of the canaries asked for (IMAP
 *   SEARCH HEADER matches substrings); only those are removed, by UID: UID EXPUNGE (UIDPLUS), or
 *   a move to the Trash on Gmail (an expunge there only archives) and on servers without
 *   UIDPLUS (a plain EXPUNGE would also remove other messages flagged \Deleted: never done).
 * - Every step is bounded by the seed's `imap.timeoutMs`: a server that stops answering is
 *   closed and the read fails with `timeout`, nothing hangs.
 * - Failures are values (`{ kind: 'failed', failure, detail }`); credentials never appear in them
 *   (imapflow's logger is off).
 */
import { ImapFlow, type ListResponse, type SearchObject } from 'imapflow';
import type { SeedConfig } from '#core/config.ts';
import type { SeedReader } from '#core/ports.ts';
import type { SeedFailureKind } from '#core/placement/findings.ts';
import { canaryIdOfHeaders } from '#core/placement/headers.ts';
import { JUNK_FOLDER_NAMES } from '#core/placement/providers.ts';
import type { SeedMessage, SeedReadResult } from '#core/placement/seed-read.ts';

/** How the shell logs a seed in: a password (app password) or an OAuth 2.0 access token. */
export type SeedCredentials = { readonly user: string; readonly password: string } | { readonly user: string; readonly accessToken: string };

/** Thrown by a credentials resolver that could not produce credentials (a refused refresh token, a missing secret). */
export class SeedCredentialsError extends Error {
  constructor(
    readonly failure: Extract<SeedFailureKind, 'token' | 'secret' | 'connect' | 'timeout'>,
    message: string,
  ) {
    super(message);
    this.name = 'SeedCredentialsError';
  }
}

/** What the reader needs from the shell. */
export interface ImapSeedReaderOptions {
  /** The credentials of a seed: env or Secrets Manager, a refreshed access token. May throw SeedCredentialsError. */
  credentials(seed: SeedConfig): Promise<SeedCredentials>;
  /** PEM text of the seed's extra trusted CA (`imap.ca`), when it has one. */
  ca?(seed: SeedConfig): Promise<string | undefined>;
  /** The TCP port actually dialled for a seed (tests, the demo); default its `imap.port`. */
  dial?(seed: SeedConfig): number;
}

// Search terms per SEARCH command: a long OR chain is one command line; servers cap its length.
const IDS_PER_SEARCH = 40;
const GMAIL_CATEGORIES = ['social', 'promotions', 'updates', 'forums'] as const;

class StepTimeout extends Error {
  constructor(readonly step: string, ms: number) {
    super(`no answer to ${step} within ${ms / 1000} s`);
  }
}

const TLS_CODES = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'EPROTO',
]);
const CONNECT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ECONNRESET', 'EPIPE', 'NoConnection']);

/** Sorts an error of the IMAP session into why the seed could not be read, with a short detail (no secret). */
export function classifySeedError(err: unknown): { failure: SeedFailureKind; detail: string } {
  if (err instanceof SeedCredentialsError) return { failure: err.failure, detail: err.message };
  if (err instanceof StepTimeout) return { failure: 'timeout', detail: err.message };
  const e = (err ?? {}) as { code?: string; authenticationFailed?: boolean; serverResponseCode?: string; responseText?: string; response?: string; message?: string };
  const text = (e.responseText ?? e.response ?? e.message ?? String(err)).replace(/\s+/g, ' ').slice(0, 200);
  if (e.authenticationFailed) return { failure: 'auth', detail: [e.serverResponseCode, text].filter(Boolean).join(' ') };
  const code = e.code ?? '';
  if (TLS_CODES.has(code) || /certificate|ssl|tls/i.test(e.message ?? '')) return { failure: 'tls', detail: code ? `${code}: ${text}` : text };
  if (/TIMEOUT/i.test(code)) return { failure: 'timeout', detail: text };
  if (CONNECT_CODES.has(code) || /connection (closed|not available)|socket closed/i.test(e.message ?? '')) return { failure: 'connect', detail: code ? `${code}: ${text}` : text };
  return { failure: 'protocol', detail: code ? `${code}: ${text}` : text };
}

/** The spam folder of a listing: SPECIAL-USE `\Junk`, the configured name, a usual name, imapflow's guess by name. */
export function junkFolderOf(list: readonly ListResponse[], configured: string | undefined): { path: string; by: 'special-use' | 'name' | 'config' } | null {
  const marked = list.find((m) => m.specialUse === '\\Junk' && m.specialUseSource === 'extension');
  if (marked) return { path: marked.path, by: 'special-use' };
  if (configured) {
    const m = list.find((e) => e.path === configured || e.path.toLowerCase() === configured.toLowerCase());
    if (m) return { path: m.path, by: 'config' };
  }
  for (const name of JUNK_FOLDER_NAMES) {
    const m = list.find((e) => e.path.toLowerCase() === name.toLowerCase() || e.name.toLowerCase() === name.toLowerCase());
    if (m && !m.flags.has('\\Noselect')) return { path: m.path, by: 'name' };
  }
  const guessed = list.find((m) => m.specialUse === '\\Junk');
  return guessed ? { path: guessed.path, by: 'name' } : null;
}

/** The SEARCH of a batch of canary ids: by Message-ID or the canary header; on Gmail by X-GM-RAW. */
function searchOf(ids: readonly string[], gmail: boolean): SearchObject {
  if (gmail) return { gmraw: ids.map((id) => `rfc822msgid:${id}@mail-health`).join(' OR ') };
  const terms = ids.flatMap((id): SearchObject[] => [{ header: { 'message-id': `<${id}@mail-health>` } }, { header: { 'x-mail-health-canary': id } }]);
  return { or: terms };
}

/**
 * Creates the IMAP SeedReader.
 * @example
 * const read = createImapSeedReader({ credentials: async (seed) => ({ user: seed.imap.auth.user, password: process.env[seed.imap.auth.passwordEnv!]! }) });
 * const result = await read({ seed, canaryIds: ['01KDZ…'] });
 */
export function createImapSeedReader(options: ImapSeedReaderOptions): SeedReader {
  return async (request): Promise<SeedReadResult> => {
    const { seed } = request;
    const ms = seed.imap.timeoutMs;
    let client: ImapFlow | null = null;
    /** Bounds one step: on expiry the connection is closed, which also ends what imapflow was waiting for. */
    const within = async <T>(step: string, work: Promise<T>): Promise<T> => {
      let timer: NodeJS.Timeout | undefined;
      const expiry = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          client?.close();
          reject(new StepTimeout(step, ms));
        }, ms);
      });
      // A step abandoned at its timeout may still reject later; that is not an unhandled error.
      work.catch(() => undefined);
      try {
        return await Promise.race([work, expiry]);
      } finally {
        clearTimeout(timer);
      }
    };
    try {
      const [credentials, ca] = await Promise.all([within('credentials', options.credentials(seed)), options.ca ? options.ca(seed) : undefined]);
      const servername = seed.imap.servername ?? (/^[\d.:[\]]+$/.test(seed.imap.host) ? undefined : seed.imap.host);
      client = new ImapFlow({
        host: seed.imap.host,
        port: options.dial ? options.dial(seed) : seed.imap.port,
        secure: seed.imap.tls === 'implicit',
        ...(seed.imap.tls === 'starttls' ? { doSTARTTLS: true } : {}),
        ...(servername ? { servername } : {}),
        tls: { rejectUnauthorized: true, minVersion: 'TLSv1.2', ...(ca ? { ca } : {}), ...(servername ? { servername } : {}) },
        auth: 'accessToken' in credentials ? { user: credentials.user, accessToken: credentials.accessToken } : { user: credentials.user, pass: credentials.password },
        logger: false,
        disableAutoIdle: true,
        connectionTimeout: ms,
        greetingTimeout: ms,
        socketTimeout: ms,
        clientInfo: { name: 'mail-health' },
      });
      // A socket error after a step gave up must not become an uncaught exception.
      client.on('error', () => undefined);
      await within('connect and login', client.connect());
      const gmail = client.capabilities.has('X-GM-EXT-1');
      const list = await within('LIST', client.list());
      const inbox = list.find((m) => m.specialUse === '\\Inbox' || m.path.toUpperCase() === 'INBOX')?.path ?? 'INBOX';
      const junk = junkFolderOf(list, seed.junkFolder);
      const trash = list.find((m) => m.specialUse === '\\Trash' && m.specialUseSource === 'extension')?.path ?? null;
      const folders: { path: string; role: 'inbox' | 'junk' }[] = [{ path: inbox, role: 'inbox' }, ...(junk ? [{ path: junk.path, role: 'junk' as const }] : [])];
      const wanted = new Set(request.canaryIds.map((id) => id.toUpperCase()));
      const messages: SeedMessage[] = [];
      const notes: string[] = [];
      for (const folder of folders) {
        const lock = await within(`SELECT ${folder.path}`, client.getMailboxLock(folder.path));
        try {
          const uids: number[] = [];
          const ids = [...wanted];
          for (let i = 0; i < ids.length; i += IDS_PER_SEARCH) {
            const found = await within(`SEARCH in ${folder.path}`, client.search(searchOf(ids.slice(i, i + IDS_PER_SEARCH), gmail), { uid: true }));
            if (found) uids.push(...found);
          }
          if (uids.length === 0) continue;
          const fetched = await within(`FETCH headers in ${folder.path}`, client.fetchAll(uids.join(','), { uid: true, internalDate: true, headers: true }, { uid: true }));
          const canaries = fetched.flatMap((m) => {
            const headers = m.headers?.toString('latin1') ?? '';
            const id = canaryIdOfHeaders(headers);
            if (id === null || !wanted.has(id)) return [];
            const date = m.internalDate ? new Date(m.internalDate) : null;
            return [{ uid: m.uid, id, headers, internalDate: date && !Number.isNaN(date.getTime()) ? date.toISOString() : null }];
          });
          if (canaries.length === 0) continue;
          const categories = new Map<number, string>();
          if (gmail && folder.role === 'inbox') {
            const set = canaries.map((c) => c.uid).join(',');
            for (const category of GMAIL_CATEGORIES) {
              const hits = await within(`SEARCH category:${category}`, client.search({ uid: set, gmraw: `category:${category}` }, { uid: true }));
              for (const uid of hits || []) categories.set(uid, category);
            }
          }
          let removed = false;
          if (request.remove !== false) {
            const set = canaries.map((c) => c.uid).join(',');
            if ((gmail || !client.capabilities.has('UIDPLUS')) && trash && client.capabilities.has('MOVE')) {
              removed = Boolean(await within(`MOVE to ${trash}`, client.messageMove(set, trash, { uid: true })));
            } else if (client.capabilities.has('UIDPLUS')) {
              removed = await within(`UID EXPUNGE in ${folder.path}`, client.messageDelete(set, { uid: true }));
            }
            if (!removed) notes.push(`canary ${canaries.map((c) => c.id).join(', ')} left in ${folder.path}: the server offers neither UID EXPUNGE nor a Trash to move it to`);
          }
          for (const c of canaries) {
            messages.push({
              canaryId: c.id,
              folder: folder.path,
              role: folder.role,
              ...(gmail && folder.role === 'inbox' ? { category: categories.get(c.uid) ?? 'primary' } : {}),
              internalDate: c.internalDate,
              headers: c.headers,
              removed,
            });
          }
        } finally {
          lock.release();
        }
      }
      await within('LOGOUT', client.logout()).catch(() => client?.close());
      return { kind: 'read', messages, junk, notes };
    } catch (err) {
      client?.close();
      return { kind: 'failed', ...classifySeedError(err) };
    }
  };
}
