/**
 * The agency of issue 24, on loopback: N targets (default 500) on one local submission server
 * (smtp-server with STARTTLS, certificate of a private CA that each target names as its `ca`),
 * every fifth target with a wrong password, optionally its canaries handed on to the run's
 * bounce listener so the round trip completes. Used by bench/fleet.ts (how fast, how big) and
 * the fleet tests (what must hold).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import SMTPConnection from 'nodemailer/lib/smtp-connection/index.js';
import { SMTPServer } from 'smtp-server';
import type { ConfigInput } from '#core/config.ts';
import { createCertificateAuthority } from '#local/certs.ts';
import { BUILT_CLI } from './built-cli.ts';

export const FLEET_HOST = '127.0.0.1';
export const FLEET_BOUNCE_DOMAIN = 'bounces.fleet.test';
const PASSWORD = 'fleet password';
const WRONG_PASSWORD = 'not the password';
// Every wait here is bounded.
const FORWARD_TIMEOUT_MS = 10_000;

/** The name of the i-th target (zero-padded so they sort as numbered). */
export const fleetTargetName = (i: number): string => `t${String(i).padStart(3, '0')}`;
/** True for the targets configured with a wrong password (every fifth: t004, t009, …). */
export const hasWrongPassword = (i: number): boolean => i % 5 === 4;

/** A running fleet server. */
export interface FleetServer {
  readonly port: number;
  /** The private CA's certificate file (PEM): every target's `ca`. */
  readonly caPath: string;
  /** Messages accepted so far. */
  accepted(): number;
  /** Where canaries for the bounce domain are handed on (the run's listener), once known. */
  forwardTo(port: number | null): void;
  close(): Promise<void>;
}

/**
 * Starts the submission server on 127.0.0.1 with a certificate of a new private CA, whose PEM
 * is written to `<dir>/fleet-ca.pem`. Every target user logs in with the one password.
 */
export async function startFleetServer(dir: string): Promise<FleetServer> {
  const ca = createCertificateAuthority({ commonName: 'mail-health fleet CA' });
  const cert = ca.issue({ hosts: ['smtp.fleet.test', FLEET_HOST] });
  const caPath = join(dir, 'fleet-ca.pem');
  await writeFile(caPath, ca.certPem);
  let accepted = 0;
  let forwardPort: number | null = null;
  const server = new SMTPServer({
    name: 'smtp.fleet.test',
    key: cert.keyPem,
    cert: cert.certPem,
    authMethods: ['PLAIN', 'LOGIN'],
    disableReverseLookup: true,
    logger: false,
    closeTimeout: 50,
    size: 10 * 1024 * 1024,
    onAuth(auth, _session, callback) {
      if (auth.password === PASSWORD) return callback(null, { user: auth.username });
      callback(Object.assign(new Error('5.7.8 Authentication credentials invalid'), { responseCode: 535 }));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        accepted++;
        const to = session.envelope.rcptTo.map((r) => r.address).filter((a) => a.toLowerCase().endsWith(`@${FLEET_BOUNCE_DOMAIN}`));
        if (forwardPort !== null && to.length > 0) void forward(forwardPort, to, Buffer.concat(chunks));
        callback();
      });
    },
  });
  server.on('error', () => {});
  const port = await new Promise<number>((resolve) => server.listen(0, FLEET_HOST, () => resolve((server.server.address() as net.AddressInfo).port)));
  return {
    port,
    caPath,
    accepted: () => accepted,
    forwardTo: (p) => {
      forwardPort = p;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** Hands a canary on to the bounce listener (the provider delivering it), as a relay would. */
function forward(port: number, to: readonly string[], raw: Buffer): Promise<void> {
  return new Promise<void>((resolve) => {
    const conn = new SMTPConnection({ host: FLEET_HOST, port, secure: false, ignoreTLS: true, connectionTimeout: FORWARD_TIMEOUT_MS, socketTimeout: FORWARD_TIMEOUT_MS });
    const done = () => {
      conn.close();
      resolve();
    };
    conn.on('error', done);
    conn.connect(() => conn.send({ from: 'relay@smtp.fleet.test', to: [...to] }, raw, () => {
      conn.quit();
      resolve();
    }));
  });
}

/** What the fleet's config is made of. */
export interface FleetConfigOptions {
  readonly count: number;
  readonly port: number;
  readonly caPath: string;
  readonly intervalSeconds: number;
  /** Port of the run's bounce listener; absent: no intake (canaries are not followed). */
  readonly listenerPort?: number;
  readonly language?: 'en' | 'ja';
}

/** The config of the fleet: one target per customer, each naming the private CA. */
export function fleetConfig(o: FleetConfigOptions): ConfigInput {
  return {
    language: o.language ?? 'en',
    bounceDomain: FLEET_BOUNCE_DOMAIN,
    targets: Array.from({ length: o.count }, (_, i) => ({
      name: fleetTargetName(i),
      host: FLEET_HOST,
      port: o.port,
      ca: o.caPath,
      auth: { user: `${fleetTargetName(i)}@customers.fleet.test`, password: hasWrongPassword(i) ? WRONG_PASSWORD : PASSWORD },
      from: `${fleetTargetName(i)}@customers.fleet.test`,
      to: [`canary@${FLEET_BOUNCE_DOMAIN}`],
      probePorts: [o.port],
    })),
    local: { intervalSeconds: o.intervalSeconds, ...(o.listenerPort !== undefined ? { bounceListener: { host: FLEET_HOST, port: o.listenerPort } } : {}) },
  };
}

/** A free port on 127.0.0.1 (for the run's bounce listener). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  const port = await new Promise<number>((resolve) => server.listen(0, FLEET_HOST, () => resolve((server.address() as net.AddressInfo).port)));
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** One round of a run as its output showed it. */
export interface ObservedRound {
  readonly round: number;
  /** From the round's heading to the line that follows its end (the wait, or the stop). */
  readonly ms: number;
}

/** What a finished `mailhealth run` process did. */
export interface FleetRun {
  readonly exitCode: number | string;
  readonly rounds: readonly ObservedRound[];
  /** The highest resident set size the kernel saw for the process (VmHWM), in bytes. */
  readonly peakRssBytes: number;
  /** Resident set size sampled after each round ended, in bytes. */
  readonly rssAfterRound: readonly number[];
  readonly output: string;
}

const ROUND_HEADING = /^── \S+ (\d+) ·/;
const OUTPUT_KEEP = 256 * 1024;

function procStatus(pid: number, field: 'VmHWM' | 'VmRSS'): number | null {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/**
 * Runs the built `mailhealth run` with `args` to its end (`--rounds N`), timing each round from
 * its output and sampling its memory from /proc. `timeoutMs` bounds the whole run (SIGKILL).
 */
export async function runFleet(options: { readonly cwd: string; readonly args: readonly string[]; readonly env?: NodeJS.ProcessEnv; readonly timeoutMs: number; readonly node?: string }): Promise<FleetRun> {
  const child: ChildProcess = spawn(options.node ?? process.execPath, [BUILT_CLI, 'run', ...options.args], {
    cwd: options.cwd,
    env: { ...process.env, LANG: 'C', NO_COLOR: '1', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pid = child.pid!;
  let output = '';
  let pending = '';
  let peak = 0;
  const rssAfterRound: number[] = [];
  const rounds: ObservedRound[] = [];
  let open: { round: number; at: number } | null = null;
  const sample = () => {
    peak = Math.max(peak, procStatus(pid, 'VmHWM') ?? 0);
  };
  const closeRound = () => {
    if (!open) return;
    rounds.push({ round: open.round, ms: performance.now() - open.at });
    open = null;
    sample();
    rssAfterRound.push(procStatus(pid, 'VmRSS') ?? 0);
  };
  const onLine = (line: string) => {
    const heading = ROUND_HEADING.exec(line);
    if (heading) {
      closeRound();
      open = { round: Number(heading[1]), at: performance.now() };
    } else if (open && /^(next round|stopped|waiting up to|everything the last round sent)/i.test(line.trim())) closeRound();
  };
  child.stdout!.on('data', (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    output = (output + text).slice(-OUTPUT_KEEP);
    pending += text;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const l of lines) onLine(l);
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_KEEP);
  });
  const sampler = setInterval(sample, 100);
  const killer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
  const exitCode = await new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  clearInterval(sampler);
  clearTimeout(killer);
  closeRound();
  return { exitCode, rounds, peakRssBytes: peak, rssAfterRound, output };
}
