/**
 * The embedded bounce listener: a small SMTP server for the bounce domain (config
 * `local.bounceListener`), the local stand-in for SES inbound. It takes mail for the bounce
 * domain only, adds the trace headers a receiving MTA adds (`Return-Path`, `Delivered-To`: the
 * VERP address carries the canary id; `Received`: the delivering client's IP and HELO) and hands the message to `accept`. It answers 250 only
 * after `accept` resolved (the intake wrote the message to disk), so a message is never
 * acknowledged and then lost; when `accept` fails the sender gets 451 and tries again.
 */
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { rfc5322Date } from '#core/probe/canary-message.ts';

/** What the listener needs. */
export interface BounceListenerOptions {
  /** Interface to listen on. @default '127.0.0.1' */
  readonly host?: string;
  /** TCP port; 0 picks a free one. */
  readonly port: number;
  /** The domain(s) mail is accepted for (case-insensitive); others get 550. */
  readonly domains: readonly string[];
  /** Largest message accepted, in bytes. @default 25 MiB */
  readonly maxBytes?: number;
  /** The host name in the greeting. @default 'mail-health bounce listener' host */
  readonly name?: string;
  /**
   * Stores the message (with its trace headers); the sender gets 250 once this resolves.
   * `receivedAt` is when the end of DATA arrived (ISO), the message's arrival time.
   */
  accept(raw: Uint8Array, envelope: { readonly from: string; readonly to: readonly string[]; readonly receivedAt: string }): Promise<void>;
  /** The time of arrival stamps. @default the system clock */
  readonly now?: () => Date;
}

/** A running listener. */
export interface BounceListener {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

const DEFAULT_MAX_BYTES = 25 * 1024 * 1024;

function smtpError(responseCode: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode });
}

/** The connecting client as a Received header names it: `HELO ([IP])` (RFC 5321 §4.4). */
function receivedFrom(helo: string, remoteAddress: string): string {
  const ip = remoteAddress.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
  const literal = ip.includes(':') ? `[IPv6:${ip}]` : `[${ip}]`;
  // HELO is whatever the client typed: keep it only when it looks like a name or a literal.
  const name = /^[A-Za-z0-9.:_[\]-]{1,255}$/.test(helo) ? helo : 'unknown';
  return `from ${name} (${literal})`;
}

function traceHeaders(from: string, to: readonly string[], received: string): string {
  // Addresses come from the SMTP envelope, which smtp-server has already parsed: no CR/LF.
  // The Received header records who delivered the message (its IP and HELO): the sending
  // server's address for the authentication check (SPF, reverse DNS, blocklists).
  const lines = [`Return-Path: <${from}>`, ...to.map((r) => `Delivered-To: ${r}`), `Received: ${received}`];
  return `${lines.join('\r\n')}\r\n`;
}

/**
 * Starts the bounce listener.
 * @example
 * const listener = await startBounceListener({ port: 2525, domains: ['bounces.example.jp'], accept: (raw) => intake.accept(raw, 'smtp') });
 */
export async function startBounceListener(options: BounceListenerOptions): Promise<BounceListener> {
  const host = options.host ?? '127.0.0.1';
  const domains = options.domains.map((d) => d.toLowerCase());
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const now = options.now ?? (() => new Date());
  const serverName = options.name ?? 'bounces.mail-health.local';
  const server = new SMTPServer({
    name: serverName,
    banner: 'mail-health bounce listener',
    size: maxBytes,
    authOptional: true,
    disabledCommands: ['AUTH'],
    disableReverseLookup: true,
    logger: false,
    closeTimeout: 200,
    onRcptTo(address, _session, callback) {
      const at = address.address.lastIndexOf('@');
      const domain = at < 0 ? '' : address.address.slice(at + 1).toLowerCase();
      if (domains.includes(domain)) return callback();
      callback(smtpError(550, `5.1.2 <${address.address}>: this server takes mail for ${domains.join(', ')} only`));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const receivedAt = now().toISOString();
        if (stream.sizeExceeded) return callback(smtpError(552, `5.3.4 message larger than ${maxBytes} bytes`));
        const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
        const to = session.envelope.rcptTo.map((r) => r.address);
        const received = `${receivedFrom(session.hostNameAppearsAs ?? '', session.remoteAddress ?? '')} by ${serverName} with ${session.transmissionType ?? 'ESMTP'}; ${rfc5322Date(now())}`;
        const raw = Buffer.concat([Buffer.from(traceHeaders(from, to, received), 'latin1'), ...chunks]);
        options.accept(raw, { from, to, receivedAt }).then(
          () => callback(),
          () => callback(smtpError(451, '4.3.0 could not store the message; try again later')),
        );
      });
    },
  });
  // A client that hangs up mid-session is its own business; it must not bring the loop down.
  server.on('error', () => {});
  const port = await new Promise<number>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(options.port, host, () => {
      server.server.off('error', reject);
      resolve((server.server.address() as AddressInfo).port);
    });
  });
  return {
    host,
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
