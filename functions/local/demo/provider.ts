/**
 * The embedded demo provider: a mail provider on 127.0.0.1 so a newcomer sees a full canary
 * round without an account anywhere. Three stand-ins on free ports:
 * - "587": smtp-server with STARTTLS (certificate from a CA made at start) and AUTH PLAIN/LOGIN,
 * - "465": the same service over implicit TLS,
 * - "25": accepts TCP and never answers, like a network that drops port 25 (OP25B).
 * `ports` maps the logical ports to the real ones; pass it as the round's `portOverrides`.
 *
 * Extension points for the local runtime: `onMessage` sees every accepted message and
 * `received` keeps them; `smtpOptions` adds smtp-server handlers (e.g. onRcptTo for mailboxes).
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { targetSchema, type TargetConfig } from '#core/config.ts';
import { createCertificateAuthority, type CertificateAuthority } from '#local/certs.ts';

/** The host name the demo certificate is issued for (the target connects to 127.0.0.1 with this servername). */
export const DEMO_HOSTNAME = 'smtp.demo.mail-health.test';
/** The demo bounce domain (the VERP sender's domain). */
export const DEMO_BOUNCE_DOMAIN = 'bounces.demo.mail-health.test';

/** What the demo provider can be asked to do differently. */
export interface DemoProviderOptions {
  /** Login of the demo account. Default `shop@demo.mail-health.test`. */
  readonly user?: string;
  /** Its password. Default: random for each start. */
  readonly password?: string;
  /** The SIZE limit the server announces and enforces. Default 20 MiB. */
  readonly sizeLimit?: number;
  /** Recipients of the canary. Default one address at the bounce domain. */
  readonly to?: readonly string[];
  /** Called with every message the demo accepted. */
  readonly onMessage?: (message: DemoMessage) => void;
  /** Extra smtp-server options for the 587 and 465 stand-ins (handlers such as onRcptTo). */
  readonly smtpOptions?: Partial<SMTPServerOptions>;
}

/** A message the demo provider accepted. */
export interface DemoMessage {
  readonly from: string;
  readonly to: readonly string[];
  readonly raw: Buffer;
}

/** A running demo provider and everything a round needs to point at it. */
export interface DemoProvider {
  /** A complete target config pointing at the demo (auth inline, servername set). */
  readonly target: TargetConfig;
  readonly bounceDomain: string;
  /** The demo account's password (also in `target.auth.password`). */
  readonly password: string;
  /** Logical port → local port: `{ 25, 587, 465 }`. */
  readonly ports: Readonly<Record<number, number>>;
  /** The demo CA certificate: pass it as the round's `ca` so the certificate verifies. */
  readonly caPem: string;
  /** The demo CA itself, for the other demo servers' certificates (the seed mailbox). */
  readonly ca: CertificateAuthority;
  /** The latest messages it accepted (the last KEPT_MESSAGES: the demo runs until stopped). */
  readonly received: readonly DemoMessage[];
  close(): Promise<void>;
}

const HOST = '127.0.0.1';
// The demo should finish in seconds; the silent port 25 costs one probe timeout.
const DEMO_PROBE_MS = 1_500;

function listen(server: { listen(port: number, host: string, cb: () => void): unknown }, address: () => net.AddressInfo | string | null): Promise<number> {
  return new Promise((resolve) => {
    server.listen(0, HOST, () => {
      const a = address();
      resolve(typeof a === 'object' && a ? a.port : 0);
    });
  });
}

/**
 * Starts the demo provider on 127.0.0.1.
 * @example
 * const demo = await startDemoProvider();
 * const result = await runCanaryRound(demo.target, { bounceDomain: demo.bounceDomain, password: demo.password, ca: demo.caPem },
 *   { ...deps, portOverrides: demo.ports });
 * await demo.close();
 */
/** Messages the provider keeps for a look (tests); a demo left running for days keeps no more. */
const KEPT_MESSAGES = 100;

export async function startDemoProvider(options: DemoProviderOptions = {}): Promise<DemoProvider> {
  const user = options.user ?? 'shop@demo.mail-health.test';
  const password = options.password ?? randomBytes(12).toString('base64url');
  const sizeLimit = options.sizeLimit ?? 20 * 1024 * 1024;
  const ca = createCertificateAuthority({ commonName: 'mail-health demo CA' });
  const leaf = ca.issue({ hosts: [DEMO_HOSTNAME, HOST] });
  const received: DemoMessage[] = [];

  const common = (secure: boolean): SMTPServerOptions => ({
    name: DEMO_HOSTNAME,
    banner: 'mail-health demo provider',
    secure,
    key: leaf.keyPem,
    cert: leaf.certPem,
    size: sizeLimit,
    authMethods: ['PLAIN', 'LOGIN'],
    disableReverseLookup: true,
    logger: false,
    closeTimeout: 200,
    onAuth(auth, _session, callback) {
      if (auth.username === user && auth.password === password) return callback(null, { user });
      const err = Object.assign(new Error('5.7.8 Authentication credentials invalid'), { responseCode: 535 });
      callback(err);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const message: DemoMessage = {
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks),
        };
        received.push(message);
        if (received.length > KEPT_MESSAGES) received.splice(0, received.length - KEPT_MESSAGES);
        options.onMessage?.(message);
        callback();
      });
    },
    ...options.smtpOptions,
  });

  const submission = new SMTPServer(common(false));
  const implicit = new SMTPServer(common(true));
  // Port probes hang up right after the greeting or handshake; smtp-server reports that as an error event.
  for (const server of [submission, implicit]) server.on('error', () => {});
  const silentSockets = new Set<net.Socket>();
  // Accepts and then says nothing: from the outside exactly what a dropped port 25 looks like to a prober with a greeting check.
  const blackHole = net.createServer((socket) => {
    silentSockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => silentSockets.delete(socket));
  });

  const [p587, p465, p25] = await Promise.all([
    listen(submission, () => submission.server.address()),
    listen(implicit, () => implicit.server.address()),
    listen(blackHole, () => blackHole.address()),
  ]);

  const target = targetSchema.parse({
    name: 'demo',
    host: HOST,
    servername: DEMO_HOSTNAME,
    port: 587,
    tls: 'starttls',
    auth: { user, password },
    from: user,
    to: options.to ?? [`canary@${DEMO_BOUNCE_DOMAIN}`],
    probePorts: [25, 587, 465],
    timeouts: { connectMs: 5_000, stepMs: 5_000, probeMs: DEMO_PROBE_MS },
    slowStepMs: 2_000,
  });

  return {
    target,
    bounceDomain: DEMO_BOUNCE_DOMAIN,
    password,
    ports: { 25: p25, 587: p587, 465: p465 },
    caPem: ca.certPem,
    ca,
    received,
    async close() {
      for (const s of silentSockets) s.destroy();
      await Promise.all([
        new Promise<void>((r) => submission.close(() => r())),
        new Promise<void>((r) => implicit.close(() => r())),
        new Promise<void>((r) => blackHole.close(() => r())),
      ]);
    },
  };
}
