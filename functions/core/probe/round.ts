/**
 * One canary round against one target: probe the ports, run the SMTP session, diagnose both.
 * The CLI, the local loop and the canary Lambda all call `runCanaryRound`; only the adapters
 * they pass differ.
 */
import type { RoundAuthentication } from '../auth/facts.ts';
import type { PlacementEntry } from '../placement/verdict.ts';
import { addressPreflight } from './preflight.ts';
import { newCanaryId, verpSender } from '../canary-id.ts';
import type { TargetConfig } from '../config.ts';
import { ConfigError } from '../errors.ts';
import { statusOf, type Finding } from '../findings.ts';
import type { Clock, PortProber, RandomSource } from '../ports.ts';
import type { PortState, TargetResult } from '../results.ts';
import { buildCanaryMessage } from './canary-message.ts';
import { diagnoseSession, tlsModeSuspect } from './diagnosis.ts';
import { analysePorts } from './ports-analysis.ts';
import { parseReply } from './reply.ts';
import type { SessionRequest, SmtpSession } from './types.ts';

/** Per-round values that do not live in the target config. */
export interface CanaryRoundContext {
  /** Domain of the VERP envelope sender `bounce+<id>@<bounceDomain>`. */
  readonly bounceDomain: string;
  /** The SMTP password, resolved by the caller (env var, Secrets Manager). Required when the target has `auth`. */
  readonly password?: string;
  /** Extra trusted CA certificates as PEM text (the caller reads the target's `ca` file). */
  readonly ca?: string;
  /**
   * Check the submission server up to AUTH and send no message (no MAIL, RCPT, DATA): the rounds
   * between two round trips in AWS, where every received canary is billed.
   * @default false
   */
  readonly loginOnly?: boolean;
  /**
   * Seed mailboxes the canary also goes to (inbox placement): one RCPT each, after the target's
   * own recipients, so a refusal is told per seed. Not in the message's To: header.
   */
  readonly seeds?: readonly { readonly name: string; readonly address: string }[];
}

/** The outside world of a round. */
export interface CanaryRoundDeps {
  readonly openSession: SmtpSession;
  readonly probePort: PortProber;
  readonly clock: Clock;
  readonly random: RandomSource;
  /**
   * Logical port → TCP port actually dialled, for the embedded demo and tests whose stand-ins
   * for 25/587/465 listen on free ports. Results stay keyed by the logical port. Never from user config.
   */
  readonly portOverrides?: Readonly<Record<number, number>>;
  /**
   * Checks that need no network and run before the session. Defaults to the address
   * preflight (`addressPreflight`: the address diagnosis of `from` and every `to`). Its findings
   * come first in the result.
   */
  readonly preflight?: (target: TargetConfig) => readonly Finding[];
  /**
   * The sending domain's authentication (functions/core/auth/round.ts), run beside the session:
   * its findings join the round's, its facts are kept on the result. Never rejects for DNS
   * trouble (a lookup that fails is a value); a rejection anyway leaves the round without it.
   */
  readonly authentication?: (target: TargetConfig) => Promise<{ readonly findings: readonly Finding[]; readonly facts: RoundAuthentication } | null>;
  /**
   * Inbox placement of the target's earlier canaries (functions/core/placement/round.ts), run
   * beside the session: its findings join the round's, its entries are kept on the result. It
   * is given the round's authentication facts (the sending server's blocklist listings). A
   * rejection leaves the round without it.
   */
  readonly placement?: (
    target: TargetConfig,
    facts: RoundAuthentication | null,
  ) => Promise<{ readonly findings: readonly Finding[]; readonly entries: readonly PlacementEntry[] } | null>;
}

const IMPLICIT_TLS_PORT = 465;

/**
 * Runs one canary round and returns its result; expected failures are findings, never throws
 * for them. Throws ConfigError when the target needs a password the caller did not provide.
 * @example
 * const result = await runCanaryRound(config.targets[0], { bounceDomain: config.bounceDomain, password },
 *   { openSession: createSmtpSession(), probePort: createPortProber(), clock, random });
 * result.status // 'ok' | 'warning' | 'critical'
 */
export async function runCanaryRound(target: TargetConfig, ctx: CanaryRoundContext, deps: CanaryRoundDeps): Promise<TargetResult> {
  const started = deps.clock();
  const canaryId = newCanaryId(started.getTime(), deps.random(10));
  const sender = verpSender(canaryId, ctx.bounceDomain);
  const dial = (port: number) => deps.portOverrides?.[port] ?? port;

  if (target.auth && ctx.password === undefined) {
    throw new ConfigError(`target ${target.name}: auth is configured but no password was provided`, 'auth');
  }
  const preflight = deps.preflight ? deps.preflight(target) : addressPreflight(target, [ctx.bounceDomain]);

  const request: SessionRequest = {
    host: target.host,
    port: dial(target.port),
    tls: target.tls,
    ...(target.servername ? { servername: target.servername } : {}),
    ...(target.ehloName ? { ehloName: target.ehloName } : {}),
    ...(ctx.ca ? { ca: ctx.ca } : {}),
    ...(target.auth && ctx.password !== undefined ? { auth: { user: target.auth.user, password: ctx.password } } : {}),
    envelope: { from: sender, to: ctx.seeds && !ctx.loginOnly ? [...target.to, ...ctx.seeds.map((s) => s.address)] : target.to },
    ...(ctx.loginOnly ? { loginOnly: true } : {}),
    message: buildCanaryMessage({ canaryId, from: target.from, to: target.to, date: started }),
    timeouts: { connectMs: target.timeouts.connectMs, stepMs: target.timeouts.stepMs },
  };

  const probe = (host: string, port: number) =>
    deps.probePort(host, dial(port), { timeoutMs: target.timeouts.probeMs, implicitTls: port === IMPLICIT_TLS_PORT });

  // The probes and the session run side by side: a silent port costs its probe timeout once.
  const probing = (async () => {
    const states = await Promise.all(target.probePorts.map(async (port) => [String(port), await probe(target.host, port)] as const));
    const ports: Record<string, PortState> = Object.fromEntries(states);
    const refHost = target.port25ReferenceHost;
    const reference = refHost && ports['25'] === 'timeout' ? { host: refHost, state: await probe(refHost, 25) } : undefined;
    return { ports, reference };
  })();
  const authenticating = deps.authentication ? deps.authentication(target).catch(() => null) : Promise.resolve(null);
  const placing = deps.placement ? authenticating.then((a) => deps.placement!(target, a?.facts ?? null)).catch(() => null) : Promise.resolve(null);
  const [{ ports, reference }, transcript, auth, placement] = await Promise.all([probing, deps.openSession(request), authenticating, placing]);

  // A session that failed like a wrong `tls` setting: does the port answer in the other mode?
  const suspect = tlsModeSuspect(transcript, target.tls);
  const otherTlsModeAnswers =
    suspect !== null &&
    (await deps.probePort(target.host, dial(target.port), { timeoutMs: target.timeouts.probeMs, implicitTls: suspect.otherMode === 'implicit' })) === 'open';

  const session = diagnoseSession(transcript, {
    host: target.host,
    port: target.port,
    tlsMode: target.tls,
    otherTlsModeAnswers,
    ...(target.servername ? { servername: target.servername } : {}),
    sender,
    maxMessageBytes: target.maxMessageBytes,
    slowStepMs: target.slowStepMs,
    timeouts: request.timeouts,
    now: started,
  });
  const dnsFailed = transcript.steps.some((s) => s.failure?.kind === 'dns');
  const sessionAnswered = transcript.steps.some((s) => s.reply !== undefined && parseReply(s.reply) !== null);
  const portFindings = analysePorts({
    host: target.host,
    configuredPort: target.port,
    ports,
    ...(reference ? { reference } : {}),
    dnsFailed,
    sessionAnswered,
  });

  const findings = [...preflight, ...portFindings, ...session.findings, ...(auth?.findings ?? []), ...(placement?.findings ?? [])];
  return {
    name: target.name,
    status: statusOf(findings),
    canaryId,
    startedAt: started.toISOString(),
    steps: session.steps,
    ports,
    ...(session.tls ? { tls: session.tls } : {}),
    extensions: session.extensions,
    findings,
    ...(auth ? { authentication: auth.facts } : {}),
    ...(placement ? { placement: placement.entries } : {}),
  };
}
