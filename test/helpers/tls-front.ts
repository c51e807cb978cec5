/**
 * A TLS front for a plain-text server on 127.0.0.1 that records what passes: the client's lines
 * and the bytes each way. Tests put it before an IMAP server to see exactly which commands a
 * client sent (which messages it fetched, what it deleted) and how much it downloaded.
 */
import net from 'node:net';
import tls from 'node:tls';

export interface TlsFront {
  readonly port: number;
  /** The client's command lines as sent (CRLF removed). */
  readonly lines: string[];
  /** Bytes from the server to the client, from the client to the server. */
  readonly bytes: { down: number; up: number };
  close(): Promise<void>;
}

/** Starts a TLS listener on a free port of 127.0.0.1 that forwards to 127.0.0.1:`backendPort`. */
export async function startTlsFront(backendPort: number, cert: { readonly certPem: string; readonly keyPem: string }): Promise<TlsFront> {
  const lines: string[] = [];
  const bytes = { down: 0, up: 0 };
  const sockets = new Set<net.Socket>();
  let pending = '';
  const server = tls.createServer({ cert: cert.certPem, key: cert.keyPem }, (client) => {
    const backend = net.connect({ host: '127.0.0.1', port: backendPort });
    sockets.add(client);
    sockets.add(backend);
    client.on('data', (chunk: Buffer) => {
      bytes.up += chunk.length;
      pending += chunk.toString('latin1');
      const parts = pending.split('\r\n');
      pending = parts.pop() ?? '';
      lines.push(...parts);
      backend.write(chunk);
    });
    backend.on('data', (chunk: Buffer) => {
      bytes.down += chunk.length;
      client.write(chunk);
    });
    const end = () => {
      client.destroy();
      backend.destroy();
    };
    for (const s of [client, backend]) {
      s.on('error', end);
      s.on('close', () => {
        sockets.delete(s);
        end();
      });
    }
  });
  server.on('tlsClientError', () => undefined);
  const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
  return {
    port,
    lines,
    bytes,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
