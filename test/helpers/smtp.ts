/**
 * Real SMTP stand-ins on 127.0.0.1 for the probe tests: smtp-server with STARTTLS and AUTH
 * (certificates made at test time, never committed), a port that accepts and never greets, and
 * a port nothing listens on. Every server is tracked and closed by `closeAll()` in afterEach.
 */
import net from 'node:net';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { targetSchema, type TargetConfig } from '#core/config.ts';
import { createCertificateAuthority, createSelfSignedCertificate, type CertificateAndKey } from '#local/certs.ts';

export const HOST = '127.0.0.1';
/** The name the good certificate is issued for; targets connect to 127.0.0.1 with this servername. */
export const SERVERNAME = 'smtp.test';
export const USER = 'shop@example.jp';
export const PASSWORD = 'correct horse battery staple';
const DAY_MS = 24 * 60 * 60 * 1000;

/** The certificates of a test run. */
export interface TestPki {
  readonly caPem: string;
  readonly good: CertificateAndKey;
  readonly expired: CertificateAndKey;
  readonly expiring: CertificateAndKey;
  readonly wrongHost: CertificateAndKey;
  readonly selfSigned: CertificateAndKey;
}

/** Makes a CA and the server certificates the fault matrix needs (about a second of RSA key generation). */
export function makePki(): TestPki {
  const now = new Date();
  const ca = createCertificateAuthority({ commonName: 'mail-health test CA' });
  return {
    caPem: ca.certPem,
    good: ca.issue({ hosts: [SERVERNAME, HOST] }),
    expired: ca.issue({ hosts: [SERVERNAME, HOST], notBefore: new Date(now.getTime() - 40 * DAY_MS), notAfter: new Date(now.getTime() - 2 * DAY_MS) }),
    expiring: ca.issue({ hosts: [SERVERNAME, HOST], validDays: 5, now }),
    wrongHost: ca.issue({ hosts: ['other.test'] }),
    selfSigned: createSelfSignedCertificate({ hosts: [SERVERNAME, HOST] }),
  };
}

/** An error smtp-server turns into a reply with this code. */
export function smtpError(responseCode: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode });
}

export interface ReceivedMessage {
  readonly from: string;
  readonly to: string[];
  readonly raw: string;
}

export interface TestSmtpServer {
  readonly port: number;
  readonly server: SMTPServer;
  readonly received: ReceivedMessage[];
  /** AUTH attempts the server saw (method only: tests assert none happened in clear). */
  readonly authAttempts: { method: string; secure: boolean }[];
  /** Destroys every TCP connection at once (a dropped connection). */
  dropConnections(): void;
}

const closers = new Set<() => Promise<void>>();

/** Closes every server started since the last call. */
export async function closeAll(): Promise<void> {
  const all = [...closers];
  closers.clear();
  await Promise.all(all.map((c) => c()));
}

/**
 * Starts smtp-server on 127.0.0.1:0 with STARTTLS (the good certificate), AUTH PLAIN/LOGIN for
 * USER/PASSWORD, and collecting DATA. `options` override anything (handlers, cert, size...).
 */
export async function startSmtpServer(pki: TestPki, options: Partial<SMTPServerOptions> & { certificate?: CertificateAndKey } = {}): Promise<TestSmtpServer> {
  const { certificate = pki.good, ...overrides } = options;
  const received: ReceivedMessage[] = [];
  const authAttempts: { method: string; secure: boolean }[] = [];
  const server = new SMTPServer({
    name: SERVERNAME,
    key: certificate.keyPem,
    cert: certificate.certPem,
    authMethods: ['PLAIN', 'LOGIN'],
    disableReverseLookup: true,
    logger: false,
    closeTimeout: 50,
    onAuth(auth, session, callback) {
      authAttempts.push({ method: auth.method, secure: session.secure });
      if (auth.username === USER && auth.password === PASSWORD) return callback(null, { user: USER });
      callback(smtpError(535, '5.7.8 Authentication credentials invalid'));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
    ...overrides,
  });
  server.on('error', () => {});
  const port = await new Promise<number>((resolve) => server.listen(0, HOST, () => resolve((server.server.address() as net.AddressInfo).port)));
  // smtp-server's own close: it tears TLS sockets down from the top (destroying the TCP socket
  // under a TLS handshake in progress crashes Node).
  closers.add(() => new Promise<void>((r) => server.close(() => r())));
  return {
    port,
    server,
    received,
    authAttempts,
    dropConnections: () => {
      for (const connection of server.connections) connection._socket.destroy();
    },
  };
}

/** A port that accepts TCP and never sends a byte (a black hole, or OP25B seen through a proxy). */
export async function startSilentServer(): Promise<{ port: number }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  const port = await new Promise<number>((resolve) => server.listen(0, HOST, () => resolve((server.address() as net.AddressInfo).port)));
  closers.add(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });
  return { port };
}

/** A raw TCP server for replies that must be exact bytes: `onConnection` writes what it wants. */
export async function startRawServer(onConnection: (socket: net.Socket) => void): Promise<{ port: number }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    onConnection(socket);
  });
  const port = await new Promise<number>((resolve) => server.listen(0, HOST, () => resolve((server.address() as net.AddressInfo).port)));
  closers.add(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });
  return { port };
}

/** A port on 127.0.0.1 that nothing listens on (connections are refused). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  const port = await new Promise<number>((resolve) => server.listen(0, HOST, () => resolve((server.address() as net.AddressInfo).port)));
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** A target pointing at 127.0.0.1 with short test timeouts; no port probes unless asked. */
export function testTarget(overrides: Record<string, unknown> = {}): TargetConfig {
  return targetSchema.parse({
    name: 'shop',
    host: HOST,
    servername: SERVERNAME,
    auth: { user: USER, password: PASSWORD },
    from: USER,
    to: ['owner@example.jp'],
    probePorts: [],
    timeouts: { connectMs: 1_000, stepMs: 1_000, probeMs: 300 },
    slowStepMs: 800,
    ...overrides,
  });
}
