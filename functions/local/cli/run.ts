/**
 * `mailhealth run [--config F] [--state DIR] [--once] [--rounds N] [--interval SECONDS]`: the
 * scheduled loop on this machine (functions/local/loop.ts).
 *
 * - With a config (`--config`, or ./mailhealth.config.json): rounds on the config's schedule
 *   (`local.intervalSeconds` or `--interval` override it), bounce intake from
 *   `local.bounceListener` and/or `local.bounceDir`, alerts to the configured channels, state,
 *   history and the HTML report in `--state DIR` (default `.mailhealth/`).
 * - Without one (`npm start`): the demo world on 127.0.0.1 (functions/local/demo/world.ts),
 *   a round every 10 s, state in `<state>/demo/` (started afresh each time; `--state X` puts it
 *   in `X/demo/`, so a real run's state beside it is never touched).
 *
 * Runs until Ctrl-C (the current round finishes first); `--once` runs one round and exits with
 * its status as exit code (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN); `--rounds N` stops after N.
 * After the last of those rounds it waits, at most `--drain SECONDS` (default 60), for what
 * that round sent to come back.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { loadConfigFile } from '#adapters/config-file.ts';
import { createPortProber } from '#adapters/port-probe.ts';
import { createSmtpSession } from '#adapters/smtp-session.ts';
import { createDnsLookup } from '#adapters/dns-client.ts';
import type { Config, TargetConfig } from '#core/config.ts';
import { ConfigError, UsageError } from '#core/errors.ts';
import { exitCodeOf } from '#core/findings.ts';
import type { Clock, DnsLookup, PortProber, RandomSource, SmtpSession } from '#core/ports.ts';
import { alertChannelsLine, localAlertChannels } from '../alerting.ts';
import { DEMO_INTERVAL_SECONDS, DEMO_STORY_ROUNDS, startDemoWorld } from '../demo/world.ts';
import { isLocalTarget } from '../auth.ts';
import { createLocalRuntime, runLoop, type LocalRuntime, type LoopEvent, type TargetSecrets } from '../loop.ts';
import { intervalSchedule, scheduleOf } from '../schedule.ts';
import { createTerminalReporter, type TerminalReporter } from '../terminal.ts';
import { configPathOf, DEFAULT_CONFIG_FILE, endpointsOf, localPassword } from './check.ts';
import { parseCommandArgs, usageLine } from './commands.ts';
import { languageFromEnv, localeOf, type CliIO, type Command } from './io.ts';
import { systemClock, systemRandom } from '#adapters/clock.ts';

/** How long `--once` / `--rounds N` wait after the last round for its mail, unless --drain says otherwise. */
export const DEFAULT_DRAIN_SECONDS = 60;
/** The state directory when `--state` is not given. */
export const DEFAULT_STATE_DIR = '.mailhealth';
const DEMO_MARKER = '.mailhealth-demo';

/** The outside world of the command; tests replace parts of it. */
export interface RunCommandDeps {
  readonly openSession?: SmtpSession;
  readonly probePort?: PortProber;
  readonly clock?: Clock;
  readonly random?: RandomSource;
  /** DNS of the authentication checks. @default config `dnsServers`, else the system's resolvers */
  readonly dnsLookup?: DnsLookup;
}

interface RunArgs {
  readonly config: string | undefined;
  readonly state: string | undefined;
  readonly rounds: number | undefined;
  readonly interval: number | undefined;
  readonly once: boolean;
  /** Seconds to wait after the last round for what it sent (0: none). */
  readonly drain: number;
}

function positive(name: string, text: string | undefined, integer: boolean): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) throw new UsageError(`--${name} needs a positive ${integer ? 'whole ' : ''}number (got ${text})\n${usageLine('run')}`);
  return n;
}

function parse(argv: readonly string[]): RunArgs {
  const { values: options } = parseCommandArgs('run', argv, { allowPositionals: false });
  const values = { config: options.text('config'), state: options.text('state'), once: options.flag('once'), rounds: options.text('rounds'), interval: options.text('interval'), drain: options.text('drain') };
  const once = values.once;
  const rounds = positive('rounds', values.rounds, true);
  if (once && rounds !== undefined) throw new UsageError(`--once and --rounds do not go together\n${usageLine('run')}`);
  const drain = values.drain === undefined ? DEFAULT_DRAIN_SECONDS : Number(values.drain);
  if (!Number.isFinite(drain) || drain < 0) throw new UsageError(`--drain needs a number of seconds, 0 or more (got ${values.drain})\n${usageLine('run')}`);
  return { config: values.config, state: values.state, once, rounds: once ? 1 : rounds, interval: positive('interval', values.interval, false), drain };
}

/** The passwords (env vars, inline) and CA files of every target; a missing one fails before anything runs. */
export async function resolveSecrets(config: Config, env: NodeJS.ProcessEnv): Promise<Record<string, TargetSecrets>> {
  const out: Record<string, TargetSecrets> = {};
  for (const [index, target] of config.targets.entries()) {
    const password = localPassword(target, index, env);
    let ca: string | undefined;
    if (target.ca) {
      try {
        ca = await readFile(target.ca, 'utf8');
      } catch (err) {
        const field = `targets[${index}].ca`;
        throw new ConfigError(`${field}: cannot read ${target.ca}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, field, { cause: err });
      }
    }
    out[target.name] = { ...(password !== undefined ? { password } : {}), ...(ca !== undefined ? { ca } : {}) };
  }
  return out;
}

function roundDeps(deps: RunCommandDeps) {
  return {
    openSession: deps.openSession ?? createSmtpSession(),
    probePort: deps.probePort ?? createPortProber(),
    clock: deps.clock ?? systemClock,
    random: deps.random ?? systemRandom,
  };
}

async function runWithConfig(args: RunArgs, io: CliIO, deps: RunCommandDeps): Promise<number> {
  const configPath = configPathOf(args.config, io);
  const config = await loadConfigFile(configPath, { locale: localeOf(io.env) });
  const schedule = scheduleOf(config, args.interval);
  const secrets = await resolveSecrets(config, io.env);
  const setup = await localAlertChannels(config, io.env, { slackRetries: 0 });
  const { channels, notes } = setup;
  const stateDir = resolve(io.cwd, args.state ?? DEFAULT_STATE_DIR);
  const bounceDir = config.local?.bounceDir;
  const reporter = createTerminalReporter(io, { language: config.language, endpoints: endpointsOf(config) });
  for (const note of notes) reporter({ kind: 'note', text: note });
  reporter.line(`mailhealth run: ${config.targets.map((t) => t.name).join(', ')} · ${schedule.description} · Ctrl-C stops after the current round`);
  reporter.line(alertChannelsLine(setup));
  let runtime: LocalRuntime | null = null;
  try {
    runtime = await createLocalRuntime({
      config,
      stateDir,
      channels,
      secrets,
      report: reporter,
      ...roundDeps(deps),
      authentication: {
        lookup: deps.dnsLookup ?? createDnsLookup(config.dnsServers ? { servers: config.dnsServers } : {}),
        // Without configured resolvers, a provider on this machine (a test, a local relay) is not checked against public DNS.
        ...(config.dnsServers || deps.dnsLookup ? {} : { targets: (t: TargetConfig) => !isLocalTarget(t) }),
      },
      // Like `ca`, a relative bounce folder is read relative to the config file.
      ...(bounceDir ? { bounceDir: isAbsolute(bounceDir) ? bounceDir : resolve(dirname(configPath), bounceDir) } : {}),
    });
    const result = await runLoop(runtime, { schedule, drainMs: args.drain * 1000, ...(args.rounds !== undefined ? { rounds: args.rounds } : {}), ...(io.stopSignal ? { signal: io.stopSignal } : {}), report: reporter });
    if (result.stopped) reporter.line(`stopped after ${result.rounds} round(s); the state stays in ${stateDir}: run again to continue.`);
    return args.once ? exitCodeOf(result.last?.status ?? 'unknown') : 0;
  } finally {
    await runtime?.close();
    reporter.close();
  }
}

/** Where the demo keeps its state for a `--state DIR`: `DIR/demo`, apart from a real run's. */
export function demoStateDir(stateDir: string): string {
  return join(stateDir, 'demo');
}

/**
 * When `stateDir` holds a demo's state under `demo/` (after `npm start`), the words that point
 * there, for a command that found nothing recorded in `stateDir` itself; null otherwise.
 */
export function demoStateHint(stateDir: string): string | null {
  const demo = demoStateDir(stateDir);
  return existsSync(join(demo, DEMO_MARKER)) ? `the demo (npm start, mailhealth run without a config) keeps its state in ${demo}: pass --state ${demo}` : null;
}

/** Makes the demo's state directory fresh, refusing to wipe one the demo did not make. */
async function freshDemoState(dir: string): Promise<void> {
  const entries = await readdir(dir).catch(() => null);
  if (entries !== null && entries.length > 0) {
    if (!existsSync(join(dir, DEMO_MARKER))) {
      throw new UsageError(`${dir} exists and was not made by the demo; pass another --state for the demo`);
    }
    await rm(dir, { recursive: true, force: true });
  }
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, DEMO_MARKER), 'made by `mailhealth run` without a config (the demo); it is emptied at each demo start\n');
}

async function runDemo(args: RunArgs, io: CliIO, deps: RunCommandDeps): Promise<number> {
  const language = languageFromEnv(io.env);
  const stateDir = demoStateDir(resolve(io.cwd, args.state ?? DEFAULT_STATE_DIR));
  await freshDemoState(stateDir);
  const terminal: TerminalReporter = createTerminalReporter(io, { language, channelNames: { slack: 'Slack (demo capture)' } });
  let runtime: LocalRuntime | null = null;
  terminal({ kind: 'progress', text: 'starting the demo world (making its certificates)…' });
  const world = await startDemoWorld({ language, bounceListener: () => runtime?.listener ?? null });
  const report = (e: LoopEvent) => {
    terminal(e);
    if (e.kind === 'round-end' && e.round === DEMO_STORY_ROUNDS) {
      for (const l of world.epilogue(runtime?.reportPath ?? null, args.rounds === undefined ? null : args.rounds - DEMO_STORY_ROUNDS)) terminal.line(l);
    }
  };
  try {
    terminal({ kind: 'progress', text: null });
    const seconds = args.interval ?? DEMO_INTERVAL_SECONDS;
    for (const l of world.intro(seconds, args.rounds ?? null)) terminal.line(l);
    runtime = await createLocalRuntime({
      config: world.config,
      stateDir,
      notifiers: world.notifiers,
      secrets: world.secrets,
      report,
      ...roundDeps(deps),
      portOverrides: world.portOverrides,
      listenerPort: 0,
      // The demo's Slack is a capture on this machine, not a webhook with a rate limit.
      alertPaceMs: { slack: 0 },
      // The demo's own DNS server; its provider sends from 127.0.0.1, which is checked too.
      authentication: { lookup: world.dnsLookup, checkInternalAddresses: true },
      hooks: {
        beforeRound: (n) => {
          world.hooks.beforeRound?.(n);
          for (const l of world.story(n)) terminal.line(l);
        },
        afterSend: (n) => world.hooks.afterSend?.(n) ?? Promise.resolve(),
      },
    });
    const schedule = intervalSchedule(seconds);
    const result = await runLoop(runtime, { schedule, drainMs: args.drain * 1000, ...(args.rounds !== undefined ? { rounds: args.rounds } : {}), ...(io.stopSignal ? { signal: io.stopSignal } : {}), report });
    if (result.stopped) terminal.line(`demo stopped after ${result.rounds} round(s). Report: ${runtime.reportPath ?? '-'}`);
    return args.once ? exitCodeOf(result.last?.status ?? 'unknown') : 0;
  } finally {
    // The world first: what its MTA is still returning reaches the listener before it closes.
    await world.close();
    await runtime?.close();
    terminal.close();
  }
}

/** Builds the `run` command; `runCommand` is this with the real network adapters. */
export function createRunCommand(deps: RunCommandDeps = {}): Command {
  return async (argv, io) => {
    const args = parse(argv);
    const hasConfig = args.config !== undefined || existsSync(resolve(io.cwd, DEFAULT_CONFIG_FILE));
    return hasConfig ? runWithConfig(args, io, deps) : runDemo(args, io, deps);
  };
}

/** `mailhealth run [--config F] [--state DIR] [--once] [--rounds N] [--interval SECONDS]`. */
export const runCommand: Command = createRunCommand();
