/**
 * The local runtime: everything the Lambdas do in AWS, on one machine, with the same core.
 *
 * One round (`runRound`), for every target side by side: the canary round (probe core), the
 * sent canary recorded for the round trip, the health state and its alerts (recordRound and the
 * notifiers); then the bounce intake (embedded listener and/or a folder of .eml files: bounces
 * recorded and alerted, delivered canaries marked), the round-trip check (CANARY_NOT_DELIVERED
 * once per canary), and the HTML report refreshed. State and history live in the state
 * directory (file store), so a new process continues where the last one stopped.
 *
 * `runLoop` runs rounds on the schedule until it is told to stop: an abort (Ctrl-C) during a
 * round lets the round finish; during the wait it stops at once.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createDmarcFileStore } from '#adapters/dmarc-file-store.ts';
import { createFileStore } from '#adapters/file-store.ts';
import { createPortProber } from '#adapters/port-probe.ts';
import { createSmtpSession } from '#adapters/smtp-session.ts';
import type { AlertEvent, DeliveryOutcome } from '#core/alert/event.ts';
import type { AlertDestination } from '#core/alert/routes.ts';
import type { Config, RetentionConfig, TargetConfig } from '#core/config.ts';
import { ConfigError } from '#core/errors.ts';
import { worstStatus, type Language, type Status } from '#core/findings.ts';
import { canaryRecordOf } from '#core/health/canary.ts';
import { checkUndelivered, flushDigests, recordRound } from '#core/health/record.ts';
import type { Clock, DnsLookup, MessageParser, Notifier, PortProber, RandomSource, SmtpSession, Store } from '#core/ports.ts';
import { runCanaryRound, type CanaryRoundContext } from '#core/probe/round.ts';
import type { TargetResult } from '#core/results.ts';
import { fixedChannels, type AlertChannels } from './alerting.ts';
import { createLocalAuthentication } from './auth.ts';
import { startBounceListener, type BounceListener } from './bounce-listener.ts';
import { createBounceIntake, type BounceIntake, type IntakeOutcome } from './intake.ts';
import { createOutbox, type Outbox } from './outbox.ts';
import { createReportReader } from './report-intake.ts';
import { writeReportFile } from './report/write.ts';
import type { Schedule } from './schedule.ts';
import { DEFAULT_SESSION_SLOTS, withSessionSlots } from './session-slots.ts';
import { systemClock, systemRandom } from '#adapters/clock.ts';

/** What the runtime tells its reporter (the terminal, a test). In the order it happens. */
export type LoopEvent =
  | { readonly kind: 'start'; readonly stateDir: string; readonly listener: { host: string; port: number } | null; readonly bounceDir: string | null; readonly reportPath: string | null }
  | { readonly kind: 'round-start'; readonly round: number; readonly at: string; readonly targets: readonly string[] }
  /** What is going on right now (a spinner text); null when nothing is. */
  | { readonly kind: 'progress'; readonly text: string | null }
  | { readonly kind: 'target'; readonly round: number; readonly result: TargetResult }
  | { readonly kind: 'target-error'; readonly round: number; readonly target: string; readonly error: string }
  /** An alert is done: sent to every destination of its route, or given up on some (the outcomes say). */
  | { readonly kind: 'alert'; readonly event: AlertEvent; readonly outcomes: readonly DeliveryOutcome[] }
  /** A post went to a destination (one alert, or health alerts grouped), or was given up. */
  | { readonly kind: 'alert-sent'; readonly destination: AlertDestination; readonly events: readonly AlertEvent[]; readonly outcome: DeliveryOutcome }
  /** A destination failed to take a post and tries again at `retryAt`. */
  | { readonly kind: 'alert-retry'; readonly destination: AlertDestination; readonly events: readonly AlertEvent[]; readonly error: string; readonly retryAt: string }
  /** Stopping with alerts still in the outbox: they go out at the next start. */
  | { readonly kind: 'outbox-left'; readonly count: number }
  | { readonly kind: 'intake'; readonly outcome: IntakeOutcome }
  | { readonly kind: 'report'; readonly path: string }
  | { readonly kind: 'round-end'; readonly round: number; readonly status: Status; readonly durationMs: number }
  | { readonly kind: 'waiting'; readonly until: string }
  /** After the last round: waiting (at most `maxMs`) for what it sent to come back. */
  | { readonly kind: 'draining'; readonly round: number; readonly maxMs: number; readonly canaries: number }
  /** The wait is over; `missing` are the last round's canaries that did not arrive in it. */
  | { readonly kind: 'drained'; readonly waitedMs: number; readonly missing: readonly string[] }
  | { readonly kind: 'stopping' }
  | { readonly kind: 'stopped'; readonly rounds: number }
  | { readonly kind: 'note'; readonly text: string };

/** Receives the runtime's events. */
export type LoopReporter = (event: LoopEvent) => void;

/** The secrets of one target for a local run, resolved by the caller (env vars, files). */
export interface TargetSecrets {
  readonly password?: string;
  /** PEM text of the target's extra trusted CA. */
  readonly ca?: string;
}

/** Points in a round where the demo world takes part. */
export interface RoundHooks {
  /** Before anything of the round happens. */
  beforeRound?(round: number): void | Promise<void>;
  /** After the canaries were sent and recorded, before the intake is drained. */
  afterSend?(round: number): Promise<void>;
}

/** What a local runtime is built from. */
export interface LocalRuntimeOptions {
  readonly config: Config;
  readonly stateDir: string;
  /** Where alerts go: every route's destinations (functions/local/alerting.ts `localAlertChannels`). */
  readonly channels?: AlertChannels;
  /** Without `channels`: every alert to these notifiers, in the config's language (the demo's capture). */
  readonly notifiers?: readonly Notifier[];
  /** Per target name. */
  readonly secrets: Readonly<Record<string, TargetSecrets>>;
  readonly report: LoopReporter;
  readonly openSession?: SmtpSession;
  readonly probePort?: PortProber;
  readonly clock?: Clock;
  readonly random?: RandomSource;
  readonly parse?: MessageParser;
  /** Logical port → local port (demo and tests only). */
  readonly portOverrides?: Readonly<Record<number, number>>;
  /** Listen on this port instead of `local.bounceListener.port` (0: a free one; demo and tests). */
  readonly listenerPort?: number;
  /** The bounce folder, made absolute by the caller (config `local.bounceDir`). */
  readonly bounceDir?: string;
  /** Where the HTML report is written after every round. @default `<stateDir>/report.html`; null: none */
  readonly reportPath?: string | null;
  readonly hooks?: RoundHooks;
  /** The file store's own clock in ms (claim expiry, retention). @default Date.now */
  readonly storeNow?: () => number;
  /**
   * The least time between two posts of one webhook (slack) or of SES (email), in ms.
   * @default slack 1000 (a webhook takes about one post a second), email 1000 / alerts.email.maxPerSecond
   */
  readonly alertPaceMs?: Partial<Record<'slack' | 'email', number>>;
  /** At most this many health alerts in one post. @default MAX_GROUP (functions/core/alert/group.ts) */
  readonly alertGroupMax?: number;
  /** How often due bounce digests are looked for, in ms. @default 5000 */
  readonly digestTickMs?: number;
  /** SMTP sessions of a round at once (functions/local/session-slots.ts). @default DEFAULT_SESSION_SLOTS */
  readonly sessionSlots?: number;
  /**
   * The authentication checks (functions/local/auth.ts): DNS to ask, which targets, and whether
   * a sending server at an internal address is checked (the demo). Absent: not checked.
   */
  readonly authentication?: {
    readonly lookup: DnsLookup;
    readonly targets?: (target: TargetConfig) => boolean;
    readonly checkInternalAddresses?: boolean;
  };
}

/** The outcome of one round. */
export interface RoundSummary {
  readonly round: number;
  /** The worst status of the targets' rounds (`unknown` when a target could not run). */
  readonly status: Status;
  readonly results: readonly TargetResult[];
}

/** A started local runtime. */
export interface LocalRuntime {
  readonly store: Store;
  readonly stateDir: string;
  readonly reportPath: string | null;
  /** The bound address of the bounce listener, when one runs. */
  readonly listener: { readonly host: string; readonly port: number } | null;
  readonly intake: BounceIntake;
  /** Runs one round (see the file comment). */
  runRound(): Promise<RoundSummary>;
  /**
   * Waits, at most `maxMs`, for what the last round sent to come back: until each of its
   * canaries that must arrive has arrived and no mail came in for `quietMs` (the bounces of the
   * other recipients come about the same time). Resolves at once without a bounce intake.
   */
  awaitReturns(options: { readonly maxMs: number; readonly quietMs?: number; readonly signal?: AbortSignal }): Promise<{ readonly waitedMs: number; readonly missing: readonly string[] }>;
  /** The alerts waiting for their channels. */
  readonly outbox: Outbox;
  /**
   * Stops the bounce listener, processes what it took, sends what is due (the bounce digests so
   * far included) for at most `maxMs` (default 10 s), and stops the sender; the state stays, and
   * what is still in the outbox goes out at the next start.
   */
  close(options?: { readonly maxMs?: number }): Promise<void>;
}

/** What the runtime keeps besides the store: `<state>/run.json`. */
export interface RunMeta {
  /** Rounds run so far in this state directory (the next round is rounds + 1). */
  readonly rounds: number;
  readonly lastRoundAt: string | null;
  /** The language of the last run, for `mailhealth report` without a config. */
  readonly language: Language;
  readonly targets: readonly string[];
  /** The retention and round-trip settings of the last run, for the report. */
  readonly retention?: RetentionConfig;
  readonly deliveryTimeoutMinutes?: number;
}

const META_FILE = 'run.json';
/** A round waits at most this long for its own health alerts to reach their channels, to print them in order. */
const ROUND_ALERT_WAIT_MS = 5_000;
const DEFAULT_DIGEST_TICK_MS = 5_000;
const CLOSE_FLUSH_MS = 10_000;
/** Mail that stopped coming for this long after the last round (and its canaries are in) is all there is. */
const DRAIN_QUIET_MS = 2_000;
const DRAIN_POLL_MS = 200;
/** How long `runLoop` waits after its last round for what that round sent. */
export const DEFAULT_DRAIN_MS = 60_000;

/** Reads `<state>/run.json`; null when there is none (or it is unreadable: it only numbers rounds). */
export async function readRunMeta(stateDir: string): Promise<RunMeta | null> {
  try {
    return JSON.parse(await readFile(join(stateDir, META_FILE), 'utf8')) as RunMeta;
  } catch {
    return null;
  }
}

/**
 * Starts a local runtime on a state directory: opens the store, starts the bounce listener when
 * configured, and queues what a previous run left in the inbox.
 * @example
 * const runtime = await createLocalRuntime({ config, stateDir: '.mailhealth', notifiers, secrets, report: console.log });
 * await runLoop(runtime, { schedule: scheduleOf(config), signal, report });
 */
export async function createLocalRuntime(options: LocalRuntimeOptions): Promise<LocalRuntime> {
  const { config, stateDir, report } = options;
  await mkdir(stateDir, { recursive: true });
  const clock = options.clock ?? systemClock;
  const random = options.random ?? systemRandom;
  const store = createFileStore({ dir: stateDir, retention: config.retention, ...(options.storeNow ? { now: options.storeNow } : {}) });
  const reportPath = options.reportPath === undefined ? join(stateDir, 'report.html') : options.reportPath;
  const outbox = createOutbox({
    dir: join(stateDir, 'outbox'),
    store,
    channels: options.channels ?? fixedChannels(options.notifiers ?? [], config.language),
    clock,
    paceMs: { slack: 1000, email: Math.ceil(1000 / (config.alerts.email?.maxPerSecond ?? 1)), ...options.alertPaceMs },
    ...(options.alertGroupMax !== undefined ? { maxGroup: options.alertGroupMax } : {}),
    report: (r) => {
      if (r.kind === 'delivered') report({ kind: 'alert', event: r.event, outcomes: r.outcomes });
      else if (r.kind === 'sent') report({ kind: 'alert-sent', destination: r.destination, events: r.events, outcome: r.outcome });
      else report({ kind: 'alert-retry', destination: r.destination, events: r.events, error: r.error, retryAt: r.retryAt });
    },
  });
  const digestMinutes = config.alerts.bounceDigestMinutes;
  const seeAlso = { command: `mailhealth suppressions --state ${stateDir}`, ...(reportPath ? { report: reportPath } : {}) };
  const healthDeps = { store, clock, random };

  const authOptions = options.authentication;
  const auth = authOptions
    ? createLocalAuthentication({
        config,
        lookup: authOptions.lookup,
        store,
        clock,
        ...(authOptions.checkInternalAddresses ? { checkInternalAddresses: true } : {}),
        ...(authOptions.targets ? { targets: authOptions.targets } : {}),
        onError: (text) => report({ kind: 'note', text }),
      })
    : null;
  const intake = createBounceIntake({
    stateDir,
    store,
    clock,
    random,
    ...(auth ? { authenticate: auth.authenticate } : {}),
    repeatAfterMinutes: config.alerts.reminderMinutes,
    digestMinutes,
    seeAlso,
    rawMailDays: config.retention.rawMailDays,
    ...(options.parse ? { parse: options.parse } : {}),
    // DMARC and TLS report mails to the bounce domain (reverse names through the authentication checks' DNS).
    reports: createReportReader({ bounceDomain: config.bounceDomain, targets: config.targets, store, reports: createDmarcFileStore({ dir: stateDir }), clock, random, lookup: authOptions?.lookup ?? null }),
    raise: (events) => outbox.enqueue(events),
    report: (outcome) => report({ kind: 'intake', outcome }),
  });

  /** Queues the bounce digests that are due (all that counted anything, when `force`). */
  async function sendDueDigests(force = false): Promise<void> {
    if (digestMinutes <= 0) return;
    await outbox.enqueue(await flushDigests({ ...healthDeps, digestMinutes, seeAlso, force }));
  }

  let listener: BounceListener | null = null;
  const listen = config.local?.bounceListener;
  if (listen) {
    const port = options.listenerPort ?? listen.port;
    try {
      listener = await startBounceListener({ host: listen.host, port, domains: [config.bounceDomain], now: clock, accept: (raw, envelope) => intake.accept(raw, envelope) });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? (err instanceof Error ? err.message : String(err));
      throw new ConfigError(`local.bounceListener: cannot listen on ${listen.host}:${port} (${code})`, 'local.bounceListener', { cause: err });
    }
  }
  const bounceDir = options.bounceDir ?? null;
  const intakeOn = listener !== null || bounceDir !== null;
  report({ kind: 'start', stateDir, listener: listener ? { host: listener.host, port: listener.port } : null, bounceDir, reportPath });
  if (!intakeOn) {
    report({ kind: 'note', text: 'no bounce intake configured (local.bounceListener or local.bounceDir): bounces and the round trip are not checked from this machine' });
  }
  // What a previous process accepted but did not get to process, and the alerts it left.
  await intake.recover();
  outbox.start();
  const tickMs = options.digestTickMs ?? DEFAULT_DIGEST_TICK_MS;
  let ticking: Promise<void> = Promise.resolve();
  const digestTimer = setInterval(() => {
    ticking = ticking.then(() => sendDueDigests()).catch((err: unknown) => report({ kind: 'note', text: `bounce digests: ${err instanceof Error ? err.message : String(err)}` }));
  }, tickMs);
  digestTimer.unref();

  let meta: RunMeta = (await readRunMeta(stateDir)) ?? { rounds: 0, lastRoundAt: null, language: config.language, targets: [] };
  const session = options.openSession ?? createSmtpSession();
  const probe = options.probePort ?? createPortProber();
  const roundDeps = {
    openSession: session,
    probePort: probe,
    clock,
    random,
    ...(options.portOverrides ? { portOverrides: options.portOverrides } : {}),
    ...(auth ? { authentication: auth.roundCheck } : {}),
  };
  const contextOf = (name: string): CanaryRoundContext => {
    const s = options.secrets[name] ?? {};
    return { bounceDomain: config.bounceDomain, ...(s.password !== undefined ? { password: s.password } : {}), ...(s.ca !== undefined ? { ca: s.ca } : {}) };
  };
  const names = config.targets.map((t) => t.name);
  // The canaries of the last round that must arrive at the bounce domain, and when it ended.
  let lastSent: string[] = [];
  let lastRoundEndMs = 0;

  async function writeReport(): Promise<void> {
    if (!reportPath) return;
    try {
      await writeReportFile(store, reportPath, { language: config.language, stateDir, now: clock(), retention: config.retention, deliveryTimeoutMinutes: config.deliveryTimeoutMinutes });
      report({ kind: 'report', path: reportPath });
    } catch (err) {
      report({ kind: 'note', text: `the report could not be written to ${reportPath}: ${err instanceof Error ? err.message : String(err)}` });
    }
  }

  async function awaitReturns(wait: { readonly maxMs: number; readonly quietMs?: number; readonly signal?: AbortSignal }) {
    const started = Date.now();
    const quietMs = Math.min(wait.quietMs ?? DRAIN_QUIET_MS, wait.maxMs);
    const missing = async () => {
      const out: string[] = [];
      for (const id of lastSent) if ((await store.getCanary(id))?.deliveredAt == null) out.push(id);
      return out;
    };
    if (!intakeOn || wait.maxMs <= 0) return { waitedMs: 0, missing: intakeOn ? await missing() : [] };
    report({ kind: 'draining', round: meta.rounds, maxMs: wait.maxMs, canaries: (await missing()).length });
    for (;;) {
      if (bounceDir) await intake.scanDir(bounceDir);
      await intake.drain();
      const left = await missing();
      const quietSince = Math.max(intake.lastActivityMs, lastRoundEndMs);
      const waited = Date.now() - started;
      if ((left.length === 0 && Date.now() - quietSince >= quietMs) || waited >= wait.maxMs || wait.signal?.aborted) {
        report({ kind: 'drained', waitedMs: waited, missing: left });
        // What came back meanwhile belongs in the report of the last round.
        if (intake.lastActivityMs > lastRoundEndMs) await writeReport();
        return { waitedMs: waited, missing: left };
      }
      await abortableSleep(Math.min(DRAIN_POLL_MS, wait.maxMs - waited), wait.signal);
    }
  }

  async function runRound(): Promise<RoundSummary> {
    const round = meta.rounds + 1;
    const startedMs = Date.now();
    report({ kind: 'round-start', round, at: clock().toISOString(), targets: names });
    await options.hooks?.beforeRound?.(round);
    await intake.recover();

    // Bounces that come back while the canaries are being sent wait until their canary is on record.
    intake.hold();
    const roundAlerts: AlertEvent[] = [];
    const results: TargetResult[] = [];
    let failedTargets = 0;
    try {
      report({ kind: 'progress', text: `round ${round}: sending canaries (${names.join(', ')})` });
      const settled = await withSessionSlots(config.targets, options.sessionSlots ?? DEFAULT_SESSION_SLOTS, session, (t, openSession) =>
        runCanaryRound(t, contextOf(t.name), { ...roundDeps, openSession }),
      );
      settled.forEach((s, i) => {
        if (s.status === 'fulfilled') results.push(s.value);
        else {
          failedTargets++;
          report({ kind: 'target-error', round, target: names[i]!, error: s.reason instanceof Error ? s.reason.message : String(s.reason) });
        }
      });
      lastSent = [];
      if (intakeOn) {
        for (const result of results) {
          const canary = canaryRecordOf(result, { bounceDomain: config.bounceDomain });
          if (canary) await store.putCanary(canary);
          if (canary && canary.recipients.length > 0) lastSent.push(canary.id);
        }
      }
      report({ kind: 'progress', text: `round ${round}: recording` });
      for (const result of results) {
        report({ kind: 'target', round, result });
        roundAlerts.push(...(await recordRound(result, { ...healthDeps, config: config.alerts })));
      }
      await outbox.enqueue(roundAlerts);
    } finally {
      intake.release();
    }

    if (intakeOn) {
      report({ kind: 'progress', text: `round ${round}: reading bounces` });
      await options.hooks?.afterSend?.(round);
      if (bounceDir) await intake.scanDir(bounceDir);
      await intake.drain();
      const late = await checkUndelivered(names, config.deliveryTimeoutMinutes, healthDeps);
      await outbox.enqueue(late);
      roundAlerts.push(...late);
    }
    await sendDueDigests();
    // The round's own alerts (health first in the outbox) are printed with the round.
    if (roundAlerts.length > 0) await outbox.settle({ maxMs: ROUND_ALERT_WAIT_MS, keys: roundAlerts.map((e) => e.key) });

    meta = { rounds: round, lastRoundAt: clock().toISOString(), language: config.language, targets: names, retention: config.retention, deliveryTimeoutMinutes: config.deliveryTimeoutMinutes };
    const metaPath = join(stateDir, META_FILE);
    await writeFile(`${metaPath}.${process.pid}.tmp`, JSON.stringify(meta, null, 2));
    await rename(`${metaPath}.${process.pid}.tmp`, metaPath);
    if (reportPath) report({ kind: 'progress', text: `round ${round}: writing the report` });
    await writeReport();
    report({ kind: 'progress', text: null });
    const status = worstStatus([...results.map((r) => r.status), ...(failedTargets > 0 ? (['unknown'] as const) : [])]);
    report({ kind: 'round-end', round, status, durationMs: Date.now() - startedMs });
    lastRoundEndMs = Date.now();
    return { round, status, results };
  }

  return {
    store,
    stateDir,
    reportPath,
    listener: listener ? { host: listener.host, port: listener.port } : null,
    intake,
    outbox,
    runRound,
    awaitReturns,
    async close(closing = {}) {
      clearInterval(digestTimer);
      await listener?.close();
      // Whatever arrived before the listener closed is on disk; let it be processed before leaving.
      await intake.drain();
      await ticking;
      // What the digests counted so far goes out now rather than waiting for this process's next start.
      await sendDueDigests(true).catch(() => undefined);
      const left = await outbox.settle({ maxMs: closing.maxMs ?? CLOSE_FLUSH_MS });
      await outbox.stop();
      if (left > 0) report({ kind: 'outbox-left', count: await outbox.pending() });
    },
  };
}

/** How the loop runs. */
export interface LoopOptions {
  readonly schedule: Schedule;
  /** Stop after this many rounds (`--once`: 1). Default: until stopped. */
  readonly rounds?: number;
  /** Aborted by Ctrl-C: ends the loop after the current round (at once while waiting). */
  readonly signal?: AbortSignal;
  readonly report: LoopReporter;
  /** The loop's own clock (when to start the next round). @default real time */
  readonly now?: () => Date;
  /** Waits `ms`, resolving early when `signal` aborts. @default a timer */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /**
   * After the last of `rounds`, wait at most this long for what it sent to come back (its
   * canaries, their bounces), so that round is complete in the state. 0: do not wait.
   * @default DEFAULT_DRAIN_MS (a minute)
   */
  readonly drainMs?: number;
}

/** What a loop did. */
export interface LoopResult {
  readonly rounds: number;
  readonly last: RoundSummary | null;
  /** True when it ended because it was told to stop. */
  readonly stopped: boolean;
}

function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, Math.max(0, ms));
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Runs rounds on the schedule until `rounds` are done or `signal` aborts.
 * @example const { rounds } = await runLoop(runtime, { schedule: scheduleOf(config), signal: io.stopSignal, report });
 */
export async function runLoop(runtime: LocalRuntime, options: LoopOptions): Promise<LoopResult> {
  const now = options.now ?? (() => new Date());
  const sleep = options.sleep ?? abortableSleep;
  const { signal, report } = options;
  let count = 0;
  let last: RoundSummary | null = null;
  const onAbort = () => report({ kind: 'stopping' });
  while (!signal?.aborted) {
    const started = now();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      last = await runtime.runRound();
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
    count++;
    if (signal?.aborted) break;
    if (options.rounds !== undefined && count >= options.rounds) {
      await runtime.awaitReturns({ maxMs: options.drainMs ?? DEFAULT_DRAIN_MS, ...(signal ? { signal } : {}) });
      break;
    }
    const next = options.schedule.next(started, now());
    report({ kind: 'waiting', until: next.toISOString() });
    await sleep(next.getTime() - now().getTime(), signal);
  }
  report({ kind: 'stopped', rounds: count });
  return { rounds: count, last, stopped: signal?.aborted ?? false };
}
