/**
 * The port probe over node:net / node:tls. A port counts as open only when the service speaks:
 * an SMTP greeting line, or on an implicit-TLS port a completed TLS handshake. A black hole or an
 * intercepting proxy can accept TCP and then stay silent, and that is a timeout, not open.
 */
import net, { type LookupFunction } from 'node:net';
import tls from 'node:tls';
import type { PortProber } from '#core/ports.ts';
import type { PortState } from '#core/results.ts';

/** Time the socket gets to send QUIT politely once the probe has its answer. */
const QUIT_GRACE_MS = 1_000;

/** How the prober reaches the network; tests replace the lookup with a fake DNS. */
export interface PortProberOptions {
  /** Host name resolution as net.connect takes it (default: the system resolver). */
  readonly lookup?: LookupFunction;
}

const UNREACHABLE = new Set(['EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENETDOWN', 'EADDRNOTAVAIL']);
const DNS = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME', 'ENODATA', 'ESERVFAIL']);

/**
 * The state a socket error means. DNS failures are `unreachable` (the core raises DNS_NOT_FOUND
 * from the session, which sees the same name fail); a reset before the greeting is `refused`.
 */
export function portStateOfError(err: NodeJS.ErrnoException): PortState {
  const code = err.code ?? '';
  if (code === 'ETIMEDOUT') return 'timeout';
  if (UNREACHABLE.has(code) || DNS.has(code)) return 'unreachable';
  // ECONNREFUSED, ECONNRESET, EPIPE, and a TLS error from a port that does not speak TLS.
  return 'refused';
}

/**
 * Creates a PortProber.
 * @example
 * const probe = createPortProber();
 * await probe('smtp.example.jp', 25, { timeoutMs: 3000, implicitTls: false }) // 'timeout' under OP25B
 */
export function createPortProber(options: PortProberOptions = {}): PortProber {
  // One TLS context for every implicit-TLS probe (built on the first): a context per connection
  // costs native memory and event-loop time that hundreds of targets add up.
  let context: tls.SecureContext | undefined;
  return (host, port, { timeoutMs, implicitTls }) =>
    new Promise<PortState>((resolve) => {
      let settled = false;
      const lookup = options.lookup ? { lookup: options.lookup } : {};
      const socket: net.Socket = implicitTls
        ? tls.connect({
            host,
            port,
            ...lookup,
            ...(net.isIP(host) ? {} : { servername: host }),
            // Only "does a TLS service answer" is asked here; the session verifies certificates.
            rejectUnauthorized: false,
            secureContext: (context ??= tls.createSecureContext()),
          })
        : net.connect({ host, port, ...lookup });

      const finish = (state: PortState) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.removeAllListeners('data');
        socket.on('error', () => {});
        if (state === 'open' && socket.writable) {
          // Hang up politely (QUIT, or a TLS close_notify), but never wait for the other side.
          if (implicitTls) socket.end();
          else socket.end('QUIT\r\n');
          setTimeout(() => socket.destroy(), QUIT_GRACE_MS).unref();
        } else {
          socket.destroy();
        }
        resolve(state);
      };
      const timer = setTimeout(() => finish('timeout'), timeoutMs);

      socket.once('error', (err: NodeJS.ErrnoException) => finish(portStateOfError(err)));
      // Closed by the other side before it said anything: it does not take SMTP here.
      socket.once('close', () => finish('refused'));
      if (implicitTls) {
        socket.once('secureConnect', () => finish('open'));
      } else {
        let head = '';
        socket.on('data', (chunk: Buffer) => {
          head += chunk.toString('latin1');
          if (/^[2-5]\d\d[ -]/.test(head)) finish('open');
          // Something answered, but not SMTP (an HTTP server, a proxy banner): no mail service.
          else if (head.length >= 4) finish('refused');
        });
      }
    });
}
