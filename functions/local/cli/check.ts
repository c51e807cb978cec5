/**
 * `mailhealth check [--config F] [--target NAME] [--json] [--state DIR]`: one canary round per
 * target. Exit codes follow the monitoring-plugin convention (0 OK, 1 WARNING, 2 CRITICAL,
 * 3 UNKNOWN for bad config or usage), so cron, Nagios or Icinga can run it as is.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { createPortProber } from '#adapters/port-probe.ts';
import { createSmtpSession } from '#adapters/smtp-session.ts';
import { loadConfigFile } from '#adapters/config-file.ts';
import type { Config, TargetConfig } from '#core/config.ts';
import { ConfigError, UsageError } from '#core/errors.ts';
import { exitCodeOf, worstStatus, type Language, type Status } from '#core/findings.ts';
import type { Clock, PortProber, RandomSource, SmtpSession } from '#core/ports.ts';
import { runCanaryRound, type CanaryRoundDeps } from '#core/probe/round.ts';
import { formatMb } from '#core/probe/texts.ts';
import type { CheckReport, TargetResult } from '#core/results.ts';
import { DEFAULT_CONFIG_FILE, parseCommandArgs, usageLine } from './commands.ts';
import { FINDING_LABELS, type FindingLabels } from './finding-labels.ts';
import { localeOf, padDisplay, styler, writeJson, type CliIO, type Command } from './io.ts';
import { createFileStore } from '#adapters/file-store.ts';
import { alertChannelsLine, localAlertChannels, postLine, recordAndAlert, type AlertChannels } from '../alerting.ts';
import { systemClock, systemRandom } from '#adapters/clock.ts';
import { DEFAULT_SESSION_SLOTS, withSessionSlots } from '../session-slots.ts';

export { DEFAULT_CONFIG_FILE } from './commands.ts';

/** The outside world of the command; tests replace parts of it. */
export interface CheckCommandDeps {
  readonly openSession?: SmtpSession;
  readonly probePort?: PortProber;
  readonly clock?: Clock;
  readonly random?: RandomSource;
  /** Logical port → local port (demo and tests only). */
  readonly portOverrides?: Readonly<Record<number, number>>;
}

interface CheckArgs {
  readonly config: string | undefined;
  readonly target: string | undefined;
  readonly json: boolean;
  readonly state: string | undefined;
}

function parse(argv: readonly string[]): CheckArgs {
  const { values } = parseCommandArgs('check', argv, { allowPositionals: false });
  return { config: values.text('config'), target: values.text('target'), json: values.flag('json'), state: values.text('state') };
}

/** The config file to read: --config, else ./mailhealth.config.json when it exists. */
export function configPathOf(explicit: string | undefined, io: CliIO): string {
  if (explicit) return resolve(io.cwd, explicit);
  const fallback = resolve(io.cwd, DEFAULT_CONFIG_FILE);
  if (existsSync(fallback)) return fallback;
  throw new UsageError(`no config file: pass --config FILE (or create ./${DEFAULT_CONFIG_FILE}: mailhealth init writes a starting one)\n${usageLine('check')}`);
}

/**
 * The SMTP password of a target for a local run: inline `auth.password`, else the environment
 * variable named by `auth.passwordEnv`. Never printed; a missing one is a ConfigError naming the field.
 */
export function localPassword(target: TargetConfig, index: number, env: NodeJS.ProcessEnv): string | undefined {
  const auth = target.auth;
  if (!auth) return undefined;
  if (auth.password !== undefined) return auth.password;
  const field = `targets[${index}].auth`;
  if (auth.passwordEnv) {
    const value = env[auth.passwordEnv];
    if (value === undefined || value === '') {
      throw new ConfigError(`${field}.passwordEnv: environment variable ${auth.passwordEnv} is not set`, `${field}.passwordEnv`);
    }
    return value;
  }
  throw new ConfigError(`${field}: only secretName is set, which is read in AWS; set passwordEnv (or password) to check from this machine`, field);
}

async function caPem(target: TargetConfig, index: number): Promise<string | undefined> {
  if (!target.ca) return undefined;
  try {
    return await readFile(target.ca, 'utf8');
  } catch (err) {
    const field = `targets[${index}].ca`;
    throw new ConfigError(`${field}: cannot read ${target.ca}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, field, { cause: err });
  }
}

function roundDeps(deps: CheckCommandDeps): CanaryRoundDeps {
  return {
    openSession: deps.openSession ?? createSmtpSession(),
    probePort: deps.probePort ?? createPortProber(),
    clock: deps.clock ?? systemClock,
    random: deps.random ?? systemRandom,
    ...(deps.portOverrides ? { portOverrides: deps.portOverrides } : {}),
  };
}

/**
 * Runs one round for each selected target (side by side) and returns the report.
 * Secrets and CA files are resolved first, so a bad config fails before anything is sent.
 */
export async function checkConfig(config: Config, options: { target?: string; env: NodeJS.ProcessEnv }, deps: CheckCommandDeps = {}): Promise<CheckReport> {
  const selected = config.targets
    .map((target, index) => ({ target, index }))
    .filter(({ target }) => options.target === undefined || target.name === options.target);
  if (selected.length === 0) {
    throw new UsageError(`no target named '${options.target}' (targets: ${config.targets.map((t) => t.name).join(', ')})`);
  }
  const prepared = await Promise.all(
    selected.map(async ({ target, index }) => {
      const password = localPassword(target, index, options.env);
      const ca = await caPem(target, index);
      return { target, ctx: { bounceDomain: config.bounceDomain, ...(password !== undefined ? { password } : {}), ...(ca ? { ca } : {}) } };
    }),
  );
  const full = roundDeps(deps);
  const settled = await withSessionSlots(prepared, DEFAULT_SESSION_SLOTS, full.openSession, ({ target, ctx }, openSession) => runCanaryRound(target, ctx, { ...full, openSession }));
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
  const targets = settled.map((s) => (s as PromiseFulfilledResult<TargetResult>).value);
  return { status: worstStatus(targets.map((t) => t.status)), targets };
}

/** The `check --json` document exactly as docs/REFERENCE.md documents it (internal fields left out). */
export function checkJson(report: CheckReport): unknown {
  return {
    status: report.status,
    targets: report.targets.map((t) => ({
      name: t.name,
      status: t.status,
      canaryId: t.canaryId,
      steps: t.steps.map((s) => ({
        step: s.step,
        ok: s.ok,
        ms: s.ms,
        ...(s.reply !== undefined ? { reply: s.reply } : {}),
        // RCPT runs once per recipient: without the address the steps could not be told apart.
        ...(s.recipient !== undefined ? { recipient: s.recipient } : {}),
      })),
      ports: t.ports,
      ...(t.tls ? { tls: { version: t.tls.version, cipher: t.tls.cipher, certDaysLeft: t.tls.certDaysLeft, authorized: t.tls.authorized } } : {}),
      extensions: t.extensions,
      findings: t.findings.map((f) => ({
        code: f.code,
        severity: f.severity,
        ...(f.step !== undefined ? { step: f.step } : {}),
        ...(f.recipient !== undefined ? { recipient: f.recipient } : {}),
        ...(f.reply !== undefined ? { reply: f.reply } : {}),
        message: f.message,
        remedy: f.remedy,
      })),
    })),
  };
}

const LABELS: Record<Language, FindingLabels & { ports: string; tls: string; days: string; size: string }> = {
  en: {
    ...FINDING_LABELS.en,
    ports: 'ports',
    tls: 'TLS',
    days: 'certificate valid for %d more days',
    size: 'size limit',
  },
  ja: {
    ...FINDING_LABELS.ja,
    ports: 'ポート',
    tls: 'TLS',
    days: '証明書の残り日数 %d 日',
    size: 'サイズ上限',
  },
};

/** How the human output looks: language and (optional) ANSI styling. */
export interface FormatOptions {
  readonly language: Language;
  readonly style?: ReturnType<typeof styler>;
  /** `host:port` per target name, shown in the heading. */
  readonly endpoints?: Readonly<Record<string, string>>;
}

const plain = { enabled: false, bold: (s: string) => s, dim: (s: string) => s, red: (s: string) => s, green: (s: string) => s, yellow: (s: string) => s, cyan: (s: string) => s };

function statusColour(s: typeof plain, status: Status): (text: string) => string {
  return status === 'ok' ? s.green : status === 'warning' ? s.yellow : s.red;
}

function formatTarget(t: TargetResult, o: FormatOptions): string {
  const s = o.style ?? plain;
  const L = LABELS[o.language];
  const out: string[] = [];
  const endpoint = o.endpoints?.[t.name];
  out.push(`${s.bold(t.name)}${endpoint ? ` ${s.dim(endpoint)}` : ''}  ${statusColour(s, t.status)(L.status[t.status])}  ${s.dim(`canary ${t.canaryId}`)}`);
  const ports = Object.entries(t.ports).map(([port, state]) => `${port} ${state === 'open' ? s.green(state) : state === 'timeout' ? s.yellow(state) : s.red(state)}`);
  if (ports.length) out.push(`  ${L.ports}: ${ports.join(' · ')}`);
  out.push('');
  const stepWidth = Math.max(...t.steps.map((step) => step.step.length), 4) + 2;
  const msWidth = Math.max(...t.steps.map((step) => `${step.ms} ms`.length), 4);
  for (const step of t.steps) {
    const mark = step.ok ? s.green('✓') : s.red('✗');
    const ms = `${step.ms} ms`.padStart(msWidth);
    const reply = step.reply?.split('\n')[0] ?? '';
    const who = step.recipient ? s.dim(` <${step.recipient}>`) : '';
    out.push(`  ${mark} ${padDisplay(step.step, stepWidth)}${ms}  ${step.ok ? reply : s.red(reply)}${who}`);
  }
  const facts: string[] = [];
  if (t.tls) {
    const days = t.tls.certDaysLeft === null ? '' : `, ${L.days.replace('%d', String(t.tls.certDaysLeft))}`;
    facts.push(`${L.tls}: ${t.tls.version} ${t.tls.cipher}${days}`);
  }
  const ext = Object.entries(t.extensions).map(([k, v]) =>
    k === 'SIZE' && typeof v === 'number' ? `SIZE ${v > 0 ? `${formatMb(v)} MB` : '∞'}` : Array.isArray(v) ? `${k} ${v.join(' ')}` : k,
  );
  if (ext.length) facts.push(`EHLO: ${ext.join(' · ')}`);
  if (facts.length) out.push('', ...facts.map((f) => `  ${s.dim(f)}`));
  out.push('');
  if (t.findings.length === 0) out.push(`  ${s.green(L.none)}`);
  else out.push(`  ${s.bold(L.findings)}`);
  for (const f of t.findings) {
    const colour = f.severity === 'critical' ? s.red : f.severity === 'warning' ? s.yellow : s.cyan;
    const where = [f.step, f.recipient].filter(Boolean).join(', ');
    out.push(`  ${colour(`[${L.severity[f.severity]}]`)} ${s.bold(f.code)}${where ? s.dim(` (${where})`) : ''}`);
    out.push(`    ${f.message[o.language]}`);
    out.push(`    ${s.cyan('→')} ${L.remedy} ${f.remedy[o.language]}`);
  }
  return out.join('\n');
}

/**
 * The human report: per target the ports, the steps as a table (✓/✗, ms, reply), the TLS and
 * EHLO facts, then the findings with their remedies. Pure; colours only through `style`.
 */
export function formatCheckReport(report: CheckReport, o: FormatOptions): string {
  const s = o.style ?? plain;
  const L = LABELS[o.language];
  const blocks = report.targets.map((t) => formatTarget(t, o));
  const overall = `${L.overall}: ${statusColour(s, report.status)(L.status[report.status])} (exit ${exitCodeOf(report.status)})`;
  return `${blocks.join('\n\n')}\n\n${s.bold(overall)}\n`;
}

/** `host:port` of each target, for the report heading. */
export function endpointsOf(config: { targets: readonly TargetConfig[] }): Record<string, string> {
  return Object.fromEntries(config.targets.map((t) => [t.name, `${t.host}:${t.port}`]));
}

async function alertFromState(report: CheckReport, config: Config, dir: string, io: CliIO, deps: CheckCommandDeps, channels: AlertChannels): Promise<void> {
  const store = createFileStore({ dir });
  const clock = deps.clock ?? systemClock;
  const random = deps.random ?? systemRandom;
  // Every target's round first, then the alerts together: those of one route share a post.
  const { deliveries, posts } = await recordAndAlert(report.targets, { store, config, channels, clock, random });
  for (const post of posts) io.stderr.write(`mailhealth: ${postLine(post)}\n`);
  for (const { event, outcomes } of deliveries) {
    if (outcomes.length === 0) io.stderr.write(`mailhealth: alert ${event.kind} for ${event.target ?? '(no target)'} (no channel configured)\n`);
  }
}

/** Builds the `check` command; `checkCommand` is this with the real network adapters. */
export function createCheckCommand(deps: CheckCommandDeps = {}): Command {
  return async (argv, io) => {
    const args = parse(argv);
    const config = await loadConfigFile(configPathOf(args.config, io), { locale: localeOf(io.env) });
    // With --state the round may alert: say first which channels are live (stderr: --json stays one document).
    const channels = args.state !== undefined ? await localAlertChannels(config, io.env) : null;
    if (channels) for (const line of [...channels.notes, alertChannelsLine(channels)]) io.stderr.write(`mailhealth: ${line}\n`);
    const report = await checkConfig(config, { ...(args.target !== undefined ? { target: args.target } : {}), env: io.env }, deps);
    if (args.json) writeJson(io, checkJson(report));
    else io.stdout.write(formatCheckReport(report, { language: config.language, style: styler(io), endpoints: endpointsOf(config) }));
    // With --state the round also moves the health state machine and sends the alerts it raises;
    // without it a check is stateless. Notes go to stderr so --json output stays one document.
    if (args.state !== undefined && channels) await alertFromState(report, config, resolve(io.cwd, args.state), io, deps, channels.channels);
    return exitCodeOf(report.status);
  };
}

/** `mailhealth check [--config F] [--target NAME] [--json] [--state DIR]`. */
export const checkCommand: Command = createCheckCommand();
