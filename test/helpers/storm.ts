/**
 * The bounce storm of issue 17, as a user would cause it, on loopback: the built `mailhealth
 * run` (dist/, so SIGKILL hits the real process) with its bounce listener and a Slack webhook
 * stand-in that takes one post a second (429 with Retry-After beyond, as Slack does); a
 * newsletter's worth of DSNs sent over many SMTP connections at once; the process killed with
 * SIGKILL once a share of them was acknowledged, started again on the same port and state, and
 * what was not acknowledged sent again. Used by test/e2e/storm.test.ts (what must hold) and
 * bench/storm.ts (how fast).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdir, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import SMTPConnection from 'nodemailer/lib/smtp-connection/index.js';
import { BUILT_CLI } from './built-cli.ts';
import { SHOP_RETURN_PATH, STORM_BOUNCE_DOMAIN, stormMessages, type StormMessage } from './storm-messages.ts';
import { startHttpCapture, type HttpCapture } from './http-capture.ts';
import { closedPort, HOST, makePki, PASSWORD, SERVERNAME, startSmtpServer, USER } from './smtp.ts';

// Every wait of the scenario is bounded by these.
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 30_000;
const SMTP_TIMEOUT_MS = 15_000;

export { stormMessages, type StormMessage };

/** A Slack incoming-webhook stand-in that takes at most one post per `paceMs`, 429 beyond. */
export async function rateLimitedSlack(paceMs = 1000): Promise<HttpCapture & { readonly accepted: () => number }> {
  let lastAccepted = -Infinity;
  let accepted = 0;
  const capture = await startHttpCapture((request) => {
    const since = request.receivedAt - lastAccepted;
    if (since < paceMs) return { status: 429, headers: { 'retry-after': String(Math.ceil((paceMs - since) / 1000)) }, body: 'rate_limited' };
    lastAccepted = request.receivedAt;
    accepted++;
    return { status: 200, body: 'ok' };
  });
  return Object.assign(capture, { accepted: () => accepted });
}

/** A running `mailhealth run` process. */
export interface LoopProcess {
  readonly child: ChildProcess;
  /** What it printed so far (stdout and stderr, the end of it). */
  output(): string;
  /** Resolves with the exit code (or the signal's name) once it ended. */
  readonly exited: Promise<number | string>;
}

const OUTPUT_KEEP = 64 * 1024;

/** Starts the built CLI's `run` and waits until its bounce listener greets. */
export async function startLoop(options: { cwd: string; args: readonly string[]; env: NodeJS.ProcessEnv; listenerPort: number }): Promise<LoopProcess> {
  const child = spawn(process.execPath, [BUILT_CLI, 'run', ...options.args], { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  const keep = (chunk: Buffer) => {
    text = (text + chunk.toString('utf8')).slice(-OUTPUT_KEEP);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const proc: LoopProcess = { child, output: () => text, exited };
  const deadline = Date.now() + START_TIMEOUT_MS;
  let ended: number | string | null = null;
  void exited.then((c) => (ended = c));
  while (!(await greets(options.listenerPort))) {
    if (ended !== null) throw new Error(`mailhealth run exited (${ended}) before its bounce listener answered:\n${text}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the bounce listener on ${options.listenerPort} did not answer within ${START_TIMEOUT_MS} ms:\n${text}`);
    }
    await sleep(100);
  }
  return proc;
}

/** Stops a loop as Ctrl-C does (it finishes, flushes its digests) and waits for it to end. */
export async function stopLoop(proc: LoopProcess): Promise<number | string> {
  proc.child.kill('SIGTERM');
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  try {
    return await proc.exited;
  } finally {
    clearTimeout(timer);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** True when something on the port sends an SMTP greeting. */
function greets(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, HOST);
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('data', (d: Buffer) => {
      socket.end('QUIT\r\n');
      done(d.toString('latin1').startsWith('220'));
    });
  });
}

/** What a batch of sends came to. */
export interface SendOutcome {
  /** Indexes of the messages the listener acknowledged with 250, in acknowledgement order. */
  readonly accepted: number[];
  /** Indexes it did not acknowledge (connection lost, refused): to be sent again. */
  readonly refused: number[];
  /** Date.now() of the last acknowledgement. */
  readonly lastAcceptedAt: number;
}

/**
 * Sends the messages (by index) over `connections` SMTP connections at once, each sending its
 * share one after another as an MTA returning bounces does (null sender). `onAccepted` is
 * called after each acknowledgement with the count so far.
 */
export async function sendOver(port: number, messages: readonly StormMessage[], indexes: readonly number[], connections: number, onAccepted: (count: number) => void = () => {}): Promise<SendOutcome> {
  const accepted: number[] = [];
  const refused: number[] = [];
  let lastAcceptedAt = 0;
  const shares: number[][] = Array.from({ length: connections }, () => []);
  indexes.forEach((index, i) => shares[i % connections]!.push(index));
  await Promise.all(
    shares.map(async (share) => {
      let next = 0;
      try {
        const conn = await connect(port);
        try {
          for (; next < share.length; next++) {
            await sendOne(conn, messages[share[next]!]!.raw);
            accepted.push(share[next]!);
            lastAcceptedAt = Date.now();
            onAccepted(accepted.length);
          }
          conn.quit();
        } finally {
          conn.close();
        }
      } catch {
        // The rest of this connection's share was not acknowledged.
        refused.push(...share.slice(next));
      }
    }),
  );
  return { accepted, refused, lastAcceptedAt };
}

function connect(port: number): Promise<SMTPConnection> {
  return new Promise((resolve, reject) => {
    const conn = new SMTPConnection({ host: HOST, port, ignoreTLS: true, connectionTimeout: SMTP_TIMEOUT_MS, greetingTimeout: SMTP_TIMEOUT_MS, socketTimeout: SMTP_TIMEOUT_MS });
    conn.once('error', reject);
    conn.connect(() => {
      conn.removeListener('error', reject);
      // Later errors surface through send's callback.
      conn.on('error', () => {});
      resolve(conn);
    });
  });
}

function sendOne(conn: SMTPConnection, raw: string): Promise<void> {
  return new Promise((resolve, reject) => {
    conn.send({ from: '', to: [SHOP_RETURN_PATH] }, raw, (err) => (err ? reject(err) : resolve()));
  });
}

/** Messages waiting in the state's inbox (accepted, not yet processed). */
export async function inboxCount(stateDir: string): Promise<number> {
  const names = await readdir(join(stateDir, 'inbox')).catch(() => [] as string[]);
  return names.filter((n) => n.endsWith('.eml')).length;
}

/** Everything the storm needs besides the loop: a healthy provider, the Slack stand-in, a config. */
export interface StormWorld {
  readonly configPath: string;
  readonly stateDir: string;
  readonly listenerPort: number;
  readonly slack: HttpCapture & { readonly accepted: () => number };
  readonly env: NodeJS.ProcessEnv;
  close(): Promise<void>;
}

/** Builds the world in `dir`: a provider on 127.0.0.1 that accepts the canary, Slack at one post a second. */
export async function stormWorld(dir: string): Promise<StormWorld> {
  const pki = makePki();
  const provider = await startSmtpServer(pki);
  const slack = await rateLimitedSlack(1000);
  const listenerPort = await closedPort();
  await writeFile(join(dir, 'ca.pem'), pki.caPem);
  const configPath = join(dir, 'mailhealth.config.json');
  await writeFile(
    configPath,
    JSON.stringify({
      language: 'en',
      bounceDomain: STORM_BOUNCE_DOMAIN,
      targets: [
        {
          name: 'shop',
          host: HOST,
          port: provider.port,
          servername: SERVERNAME,
          ca: 'ca.pem',
          auth: { user: USER, passwordEnv: 'SHOP_SMTP_PASSWORD' },
          from: USER,
          to: ['owner@example.jp'],
          probePorts: [],
          timeouts: { connectMs: 5000, stepMs: 5000, probeMs: 500 },
        },
      ],
      alerts: { slack: { webhookUrlEnv: 'SLACK_WEBHOOK_URL' } },
      local: { bounceListener: { host: HOST, port: listenerPort } },
    }),
  );
  return {
    configPath,
    stateDir: join(dir, 'state'),
    listenerPort,
    slack,
    env: { ...process.env, SHOP_SMTP_PASSWORD: PASSWORD, SLACK_WEBHOOK_URL: `${slack.url}/services/T0/B0/storm`, LANG: 'C', NO_COLOR: '1' },
    async close() {
      await slack.close();
      await new Promise<void>((r) => provider.server.close(() => r()));
    },
  };
}

/** The figures of one storm. */
export interface StormResult {
  readonly messages: readonly StormMessage[];
  /** Acknowledged before the kill, and after the restart (the re-sent ones). */
  readonly acceptedBeforeKill: number;
  readonly acceptedAfterRestart: number;
  /** Not acknowledged by the killed process, so sent again. */
  readonly resent: number;
  /** Milliseconds from the first message sent to the kill (the first process's accepting rate). */
  readonly firstPhaseMs: number;
  /** Milliseconds from the last acknowledgement to an empty inbox: the backlog. */
  readonly backlogMs: number;
  /** Accepted messages per second over the re-send. */
  readonly restartedProcess: LoopProcess;
  readonly firstProcessEnd: number | string;
}

/**
 * Runs the storm: `count` DSNs over `connections` connections at the loop, SIGKILL once
 * `killAt` are acknowledged, a restart on the same port and state, the refused ones re-sent,
 * then waits (at most `backlogTimeoutMs`) for the inbox to empty. The restarted loop is left
 * running for the caller to inspect and stop.
 */
export async function runStorm(world: StormWorld, options: { count: number; connections: number; killAt: number; backlogTimeoutMs: number }): Promise<StormResult> {
  const messages = stormMessages(options.count);
  const args = ['--config', world.configPath, '--state', world.stateDir, '--interval', '3600'];
  const first = await startLoop({ cwd: join(world.configPath, '..'), args, env: world.env, listenerPort: world.listenerPort });
  const started = Date.now();
  let killedAt = 0;
  const phase1 = await sendOver(world.listenerPort, messages, messages.map((_, i) => i), options.connections, (n) => {
    if (n >= options.killAt && killedAt === 0) {
      killedAt = Date.now();
      first.child.kill('SIGKILL');
    }
  });
  const firstProcessEnd = await first.exited;
  // Started again at once on the same port: the killed process must not hold it.
  const second = await startLoop({ cwd: join(world.configPath, '..'), args, env: world.env, listenerPort: world.listenerPort });
  const phase2 = await sendOver(world.listenerPort, messages, phase1.refused, options.connections);
  if (phase2.refused.length > 0) throw new Error(`the restarted loop refused ${phase2.refused.length} message(s):\n${second.output()}`);
  const lastAcceptedAt = Math.max(phase2.lastAcceptedAt, phase1.lastAcceptedAt);
  const deadline = lastAcceptedAt + options.backlogTimeoutMs;
  let emptyAt = 0;
  while (Date.now() <= deadline) {
    if ((await inboxCount(world.stateDir)) === 0) {
      emptyAt = Date.now();
      break;
    }
    await sleep(50);
  }
  return {
    messages,
    acceptedBeforeKill: phase1.accepted.length,
    acceptedAfterRestart: phase2.accepted.length,
    resent: phase1.refused.length,
    firstPhaseMs: (killedAt || Date.now()) - started,
    backlogMs: emptyAt === 0 ? Number.POSITIVE_INFINITY : emptyAt - lastAcceptedAt,
    restartedProcess: second,
    firstProcessEnd,
  };
}
