/**
 * An embedded IMAP mailbox on 127.0.0.1 (hoodiecrow-imap, in memory): the demo's seed, with an
 * Inbox, a spam folder marked SPECIAL-USE `\Junk` and a Trash, over implicit TLS with a
 * certificate of the demo's CA. What arrives at the seed is filed into a folder by the caller
 * (`file`), the way a receiver's filter does. Tests use it as a small, fast IMAP server too (no
 * SPECIAL-USE, another spam folder name, another login).
 */
import type { Socket } from 'node:net';
import hoodiecrow from 'hoodiecrow-imap';

/** What the mailbox is made with. */
export interface SeedMailboxOptions {
  readonly user: string;
  readonly password: string;
  /** Implicit TLS with this certificate (PEM); absent: plain IMAP. */
  readonly tls?: { readonly certPem: string; readonly keyPem: string };
  /** The spam folder: its name and whether LIST marks it `\Junk`. @default { path: 'Junk', specialUse: true } */
  readonly junk?: { readonly path: string; readonly specialUse: boolean };
  /** Messages already there, per folder path (`INBOX`, the spam folder's path, …). */
  readonly messages?: Readonly<Record<string, readonly string[]>>;
  /** Extra folders (their paths), e.g. a folder a filter moves mail to. */
  readonly folders?: readonly string[];
}

/** One message in the mailbox. */
export interface StoredMessage {
  readonly uid: number;
  readonly raw: string;
  readonly flags: readonly string[];
}

/** A running embedded mailbox. */
export interface SeedMailbox {
  readonly host: string;
  readonly port: number;
  /** The spam folder's path. */
  readonly junkPath: string;
  /** Puts a message into a folder (`INBOX`, the spam folder's path, another folder), as delivery does. */
  file(raw: string, folder: string, at?: Date): void;
  /** The messages of a folder now. */
  messages(folder: string): StoredMessage[];
  close(): Promise<void>;
}

const HOST = '127.0.0.1';

/**
 * Starts the mailbox on a free port of 127.0.0.1.
 * @example
 * const seed = await startSeedMailbox({ user: 'seed@demo.test', password, tls: leaf });
 * seed.file(rawCanary, seed.junkPath);
 */
export async function startSeedMailbox(options: SeedMailboxOptions): Promise<SeedMailbox> {
  const junk = options.junk ?? { path: 'Junk', specialUse: true };
  const folder = (path: string, extra: Record<string, unknown> = {}) => [path, { messages: (options.messages?.[path] ?? []).map((raw) => ({ raw })), ...extra }] as const;
  const folders = Object.fromEntries([
    folder(junk.path, junk.specialUse ? { 'special-use': '\\Junk' } : {}),
    folder('Trash', { 'special-use': '\\Trash' }),
    ...(options.folders ?? []).map((p) => folder(p)),
  ]);
  const server = hoodiecrow({
    plugins: ['ID', 'SASL-IR', 'AUTH-PLAIN', 'NAMESPACE', 'UNSELECT', 'SPECIAL-USE', 'UIDPLUS', 'MOVE', 'ENABLE'],
    id: { name: 'mail-health seed (demo)' },
    ...(options.tls ? { secureConnection: true, credentials: { key: options.tls.keyPem, cert: options.tls.certPem } } : {}),
    users: { [options.user]: { password: options.password } },
    storage: {
      INBOX: { messages: (options.messages?.INBOX ?? []).map((raw) => ({ raw })) },
      '': { separator: '/', folders },
    },
  });
  const sockets = new Set<Socket>();
  server.server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.server.on('secureConnection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  // A client that hangs up mid-handshake is its own business, not the server's.
  server.server.on('tlsClientError', () => undefined);
  server.server.on('error', () => undefined);
  const port = await new Promise<number>((resolve) => server.listen(0, HOST, () => resolve((server.server.address() as { port: number }).port)));
  const box = (path: string) => {
    const m = server.getMailbox(path);
    if (!m) throw new Error(`the seed mailbox has no folder ${path}`);
    return m;
  };
  return {
    host: HOST,
    port,
    junkPath: junk.path,
    file(raw, path, at) {
      server.appendMessage(box(path), [], at, raw);
    },
    messages(path) {
      return box(path).messages.map((m) => ({ uid: m.uid ?? 0, raw: m.raw, flags: [...(m.flags ?? [])] }));
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
