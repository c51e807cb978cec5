/**
 * From what happened at a step to a finding: the classification table (step, failure kind,
 * reply code, enhanced status → finding code and severity) and the diagnosis of a whole session
 * transcript. Pure: facts in, findings out.
 */
import type { Finding, ProbeCode, Severity, SmtpStep } from '../findings.ts';
import type { Extensions, StepResult, TlsFacts } from '../results.ts';
import { parseEhlo } from './ehlo.ts';
import { firstLine, isSuccess, parseReply, replyClass } from './reply.ts';
import { probeText, type TextParams } from './texts.ts';
import type { SessionTranscript, StepFailureKind, TranscriptStep } from './types.ts';

/**
 * One row of the table. Every condition given must hold; the first matching row wins.
 * `status` is an enhanced status pattern: `x` for any class or number, e.g. `x.2.2`, `5.3.4`, `x.1.x`.
 * `text` is a case-insensitive substring of the reply, for servers that send no enhanced status.
 * `code: null` means "no finding": the step's trouble does not matter.
 */
interface Rule {
  readonly step?: readonly SmtpStep[];
  readonly failure?: readonly StepFailureKind[];
  readonly replyClass?: 'transient' | 'permanent';
  readonly replyCode?: readonly number[];
  readonly status?: string;
  readonly text?: string;
  readonly code: ProbeCode | null;
  readonly severity: Severity;
}

/** The classification table. Order matters: specific rows first. */
export const DIAGNOSIS_RULES = [
  // QUIT comes after the message was accepted (or the session already failed): nothing to report.
  { step: ['quit'], code: null, severity: 'info' },

  // Failures without a reply, in any step.
  { failure: ['dns'], code: 'DNS_NOT_FOUND', severity: 'critical' }, // the host name does not resolve
  { step: ['connect'], failure: ['refused', 'unreachable', 'timeout'], code: 'PORT_UNREACHABLE', severity: 'critical' }, // nothing listens, no route, or SYN dropped by a firewall
  { failure: ['tls-untrusted', 'tls-hostname', 'tls-expired'], code: 'TLS_CERT_INVALID', severity: 'critical' }, // verification is never switched off
  { failure: ['tls-handshake'], code: 'TLS_HANDSHAKE_FAILED', severity: 'critical' }, // no common protocol/cipher, or not TLS at all
  { step: ['greeting'], failure: ['timeout'], code: 'GREETING_TIMEOUT', severity: 'critical' }, // TCP accepted, no banner: black hole or intercepting proxy
  { failure: ['timeout'], code: 'STEP_TIMEOUT', severity: 'critical' }, // any other step slower than its limit
  { step: ['auth'], failure: ['not-offered'], code: 'AUTH_UNAVAILABLE', severity: 'critical' }, // no AUTH in EHLO: wrong port or relay-only server
  { step: ['starttls'], failure: ['not-offered'], code: 'STARTTLS_UNAVAILABLE', severity: 'critical' }, // credentials would travel in clear
  { failure: ['closed', 'refused', 'unreachable', 'not-offered', 'error'], code: 'CONNECTION_LOST', severity: 'critical' }, // dropped mid-session

  // Greeting and EHLO: the server will not talk to us at all.
  { step: ['greeting'], replyCode: [421], code: 'GREETING_REJECTED', severity: 'critical' }, // 421: busy or rate-limited, closing
  { step: ['greeting', 'ehlo'], code: 'GREETING_REJECTED', severity: 'critical' }, // 554 "no SMTP service here", 5xx to EHLO (bad hostname, blocked IP), or not SMTP at all

  // STARTTLS refused (5xx "not available", 454 "TLS not available now").
  { step: ['starttls'], code: 'STARTTLS_UNAVAILABLE', severity: 'critical' },

  // AUTH.
  { step: ['auth'], replyClass: 'transient', code: 'TEMPORARY_FAILURE', severity: 'warning' }, // 454 4.7.0 temporary authentication failure
  { step: ['auth'], replyClass: 'permanent', code: 'AUTH_FAILED', severity: 'critical' }, // 535 5.7.8 bad credentials, 534, 530, 504

  // MAIL FROM.
  { step: ['mail'], status: 'x.3.4', code: 'MESSAGE_TOO_LARGE', severity: 'critical' }, // SIZE= over the fixed limit
  { step: ['mail'], replyCode: [552], code: 'MESSAGE_TOO_LARGE', severity: 'critical' }, // RFC 1870: 552 for a declared size too large
  { step: ['mail'], replyCode: [530], code: 'AUTH_FAILED', severity: 'critical' }, // 530 5.7.0 authentication required first
  { step: ['mail'], replyClass: 'transient', code: 'TEMPORARY_FAILURE', severity: 'warning' }, // 451/452/421: try later
  { step: ['mail'], replyClass: 'permanent', code: 'SENDER_REJECTED', severity: 'critical' }, // 553 5.7.1 sender not owned, 550 5.1.8 bad sender domain

  // RCPT TO, per recipient.
  { step: ['rcpt'], status: 'x.7.1', code: 'RELAY_DENIED', severity: 'critical' }, // 554/550 5.7.1 relaying denied / not authorized
  { step: ['rcpt'], replyClass: 'permanent', text: 'relay', code: 'RELAY_DENIED', severity: 'critical' }, // "554 Relay access denied" without enhanced status
  { step: ['rcpt'], status: 'x.2.2', replyClass: 'transient', code: 'MAILBOX_FULL', severity: 'warning' }, // 452 4.2.2 over quota, for now
  { step: ['rcpt'], status: 'x.2.2', replyClass: 'permanent', code: 'MAILBOX_FULL', severity: 'critical' }, // 552 5.2.2 over quota
  { step: ['rcpt'], replyCode: [452], status: '', code: 'MAILBOX_FULL', severity: 'warning' }, // 452 insufficient storage, no enhanced status
  { step: ['rcpt'], replyCode: [552], status: '', code: 'MAILBOX_FULL', severity: 'critical' }, // 552 exceeded storage allocation, no enhanced status
  { step: ['rcpt'], status: 'x.1.x', replyClass: 'permanent', code: 'RECIPIENT_UNKNOWN', severity: 'critical' }, // 5.1.1 no such user, 5.1.2 bad domain, 5.1.3 bad syntax, 5.1.10 null MX
  { step: ['rcpt'], replyCode: [550, 551, 553], status: '', code: 'RECIPIENT_UNKNOWN', severity: 'critical' }, // mailbox unavailable / not local / name not allowed
  { step: ['rcpt'], replyClass: 'transient', code: 'TEMPORARY_FAILURE', severity: 'warning' }, // 450/451 greylisting, local error
  { step: ['rcpt'], replyClass: 'permanent', code: 'MESSAGE_REJECTED', severity: 'critical' }, // any other refusal (policy)

  // DATA and the end of the message.
  { step: ['data'], status: 'x.3.4', code: 'MESSAGE_TOO_LARGE', severity: 'critical' }, // 552 5.3.4 message too big for system
  { step: ['data'], status: 'x.2.3', code: 'MESSAGE_TOO_LARGE', severity: 'critical' }, // 552 5.2.3 over the administrative limit
  { step: ['data'], status: 'x.2.2', replyClass: 'transient', code: 'MAILBOX_FULL', severity: 'warning' }, // quota checked at end of data
  { step: ['data'], status: 'x.2.2', replyClass: 'permanent', code: 'MAILBOX_FULL', severity: 'critical' },
  { step: ['data'], replyCode: [552], status: '', code: 'MESSAGE_TOO_LARGE', severity: 'critical' }, // RFC 5321: 552 after the data is the size
  { step: ['data'], replyClass: 'transient', code: 'TEMPORARY_FAILURE', severity: 'warning' }, // 451 4.3.0, 421 during data
  { step: ['data'], replyClass: 'permanent', code: 'MESSAGE_REJECTED', severity: 'critical' }, // 554 5.7.1 spam, content policy

  // Whatever is left (a step we did not foresee): decide by the class alone.
  { replyClass: 'transient', code: 'TEMPORARY_FAILURE', severity: 'warning' },
  { replyClass: 'permanent', code: 'MESSAGE_REJECTED', severity: 'critical' },
] as const satisfies readonly Rule[];

/** A certificate with fewer days left than this is TLS_CERT_EXPIRING: two weeks to get it renewed. */
export const CERT_EXPIRING_DAYS = 14;

function statusMatches(pattern: string, status: string | null): boolean {
  // '' means "the reply has no enhanced status" (rows for servers that send only the code).
  if (pattern === '') return status === null;
  if (status === null) return false;
  const want = pattern.split('.');
  const got = status.split('.');
  return want.length === got.length && want.every((w, i) => w === 'x' || w === got[i]);
}

function matches(rule: Rule, step: TranscriptStep): boolean {
  if (rule.step && !rule.step.includes(step.step)) return false;
  const failure = step.failure?.kind;
  if (rule.failure && (!failure || !rule.failure.includes(failure))) return false;
  const needsReply = rule.replyClass !== undefined || rule.replyCode !== undefined || rule.status !== undefined || rule.text !== undefined;
  if (!needsReply) return true;
  // A reply-based row applies only when the server's reply is the reason the step failed.
  if (failure || !step.reply) return false;
  const parsed = parseReply(step.reply);
  if (!parsed) return false;
  if (rule.replyClass && replyClass(parsed.code) !== rule.replyClass) return false;
  if (rule.replyCode && !rule.replyCode.includes(parsed.code)) return false;
  if (rule.status !== undefined && !statusMatches(rule.status, parsed.status)) return false;
  if (rule.text && !step.reply.toLowerCase().includes(rule.text)) return false;
  return true;
}

/**
 * True when a step went through: no failure, and the reply (if any) lets the session go on.
 * A reply that is not SMTP at all counts as a failure.
 */
export function stepSucceeded(step: TranscriptStep): boolean {
  if (step.failure) return false;
  if (step.reply === undefined) return true;
  const parsed = parseReply(step.reply);
  return parsed !== null && isSuccess(parsed.code);
}

/**
 * The finding code and severity of a failed step; null when it succeeded or does not matter.
 * @example classifyStep({ step: 'rcpt', ms: 3, reply: '550 5.1.1 user unknown' })
 * // { code: 'RECIPIENT_UNKNOWN', severity: 'critical' }
 */
export function classifyStep(step: TranscriptStep): { code: ProbeCode; severity: Severity } | null {
  if (stepSucceeded(step)) return null;
  for (const rule of DIAGNOSIS_RULES as readonly Rule[]) {
    if (matches(rule, step)) return rule.code === null ? null : { code: rule.code, severity: rule.severity };
  }
  // A reply that is not SMTP (garbage on the port) ends the session like a lost connection.
  return { code: 'CONNECTION_LOST', severity: 'critical' };
}

/** How a target's TLS starts: STARTTLS after a plain greeting, or TLS from the first byte. */
export type TlsMode = 'starttls' | 'implicit';

// How a session fails when its `tls` setting does not match the port. Implicit TLS against a
// port that greets in plain text reads the "220 …" as a broken TLS record (OpenSSL's "wrong
// version number") or is hung up on; STARTTLS against an implicit-TLS port waits for a greeting
// that never comes, because that server waits for our TLS hello.
const IMPLICIT_ON_PLAIN: readonly StepFailureKind[] = ['tls-handshake', 'closed', 'error'];
const STARTTLS_ON_IMPLICIT: readonly StepFailureKind[] = ['timeout', 'closed'];

/**
 * When a session failed the way a wrong `tls` setting makes it fail, the step that failed and
 * the mode worth trying on the same port; null otherwise. Only a probe in that other mode tells
 * a mode mismatch from a broken server, so this names the question, the round asks it.
 * @example tlsModeSuspect({ steps: [{ step: 'connect', ms: 4, failure: { kind: 'tls-handshake' } }] }, 'implicit')
 * // { index: 0, otherMode: 'starttls' }
 */
export function tlsModeSuspect(transcript: SessionTranscript, mode: TlsMode): { readonly index: number; readonly otherMode: TlsMode } | null {
  if (transcript.tls) return null;
  const index = transcript.steps.findIndex((s) => !stepSucceeded(s));
  const failed = transcript.steps[index];
  const kind = failed?.failure?.kind;
  if (!failed || !kind) return null;
  if (mode === 'implicit' && failed.step === 'connect' && IMPLICIT_ON_PLAIN.includes(kind)) return { index, otherMode: 'starttls' };
  if (mode === 'starttls' && failed.step === 'greeting' && STARTTLS_ON_IMPLICIT.includes(kind)) return { index, otherMode: 'implicit' };
  return null;
}

/** The target facts the session diagnosis needs besides the transcript. */
export interface SessionContext {
  readonly host: string;
  /** The logical port (587, 465...), as the user configured it. */
  readonly port: number;
  /** The target's `tls` setting. */
  readonly tlsMode?: TlsMode;
  /**
   * The same port answered in the other TLS mode after the session failed as `tlsModeSuspect`
   * describes: the failure is TLS_MODE_MISMATCH, not a broken server.
   */
  readonly otherTlsModeAnswers?: boolean;
  readonly servername?: string;
  readonly sender: string;
  readonly maxMessageBytes: number;
  readonly slowStepMs: number;
  readonly timeouts: { readonly connectMs: number; readonly stepMs: number };
  readonly now: Date;
}

/** What the diagnosis of one session gives: the contract shapes of results.ts and the findings. */
export interface SessionDiagnosis {
  readonly steps: StepResult[];
  readonly extensions: Extensions;
  readonly tls?: TlsFacts;
  readonly findings: Finding[];
}

const DAY_MS = 24 * 60 * 60 * 1000;

function finding(code: ProbeCode, severity: Severity, params: TextParams, extra: Partial<Pick<Finding, 'step' | 'recipient' | 'reply'>>): Finding {
  const text = probeText(code, params);
  return { code, severity, ...extra, message: text.message, remedy: text.remedy };
}

function toStepResult(step: TranscriptStep): StepResult {
  // EHLO's other lines are the extensions, reported on their own.
  const reply = step.reply === undefined ? undefined : step.step === 'ehlo' ? firstLine(step.reply) : step.reply;
  return {
    step: step.step,
    ok: stepSucceeded(step),
    ms: Math.max(0, Math.round(step.ms)),
    ...(reply !== undefined ? { reply } : {}),
    ...(step.recipient !== undefined ? { recipient: step.recipient } : {}),
  };
}

function extensionsOf(steps: readonly TranscriptStep[]): Extensions {
  const ehlos = steps.filter((s) => s.step === 'ehlo' && stepSucceeded(s) && s.reply);
  const last = ehlos.at(-1);
  if (!last?.reply) return {};
  const ext = parseEhlo(last.reply);
  // STARTTLS is only announced before the upgrade; keep the fact that it was.
  if (ehlos.some((s) => s.reply && parseEhlo(s.reply).STARTTLS === true)) ext.STARTTLS = true;
  return ext;
}

function tlsFactsOf(transcript: SessionTranscript, now: Date): TlsFacts | undefined {
  const tls = transcript.tls;
  if (!tls) return undefined;
  const validTo = tls.certValidTo ? Date.parse(tls.certValidTo) : Number.NaN;
  return {
    version: tls.version,
    cipher: tls.cipher,
    authorized: tls.authorized,
    certDaysLeft: Number.isNaN(validTo) ? null : Math.floor((validTo - now.getTime()) / DAY_MS),
  };
}

/**
 * Diagnoses one session transcript: the step table, the extensions, the TLS facts and every
 * finding (failed steps, per-recipient refusals, size preflight, certificate expiry, slow steps).
 * After a failed step the later ones are consequences and are not diagnosed again, except RCPT:
 * each refused recipient gets its own finding while the others go on.
 * @example diagnoseSession(transcript, { host: 'smtp.example.jp', port: 587, … })
 */
export function diagnoseSession(transcript: SessionTranscript, ctx: SessionContext): SessionDiagnosis {
  const steps = transcript.steps.map(toStepResult);
  const extensions = extensionsOf(transcript.steps);
  const tls = tlsFactsOf(transcript, ctx.now);
  const findings: Finding[] = [];
  const sizeLimit = typeof extensions.SIZE === 'number' && extensions.SIZE > 0 ? extensions.SIZE : undefined;
  const base: TextParams = {
    host: ctx.host,
    port: ctx.port,
    ...(ctx.tlsMode ? { tlsMode: ctx.tlsMode } : {}),
    sender: ctx.sender,
    maxMessageBytes: ctx.maxMessageBytes,
    ...(ctx.servername ? { servername: ctx.servername } : {}),
    ...(sizeLimit ? { sizeLimitBytes: sizeLimit } : {}),
  };

  const mismatch = ctx.otherTlsModeAnswers && ctx.tlsMode ? tlsModeSuspect(transcript, ctx.tlsMode) : null;

  let acceptedRecipients = 0;
  let sawRcpt = false;
  for (const [index, step] of transcript.steps.entries()) {
    if (step.step === 'rcpt') sawRcpt = true;
    // A refused EHLO followed by an accepted HELO: the session went on, nothing to report.
    const next = transcript.steps[index + 1];
    if (step.step === 'ehlo' && next?.step === 'ehlo' && next.command === 'HELO' && stepSucceeded(next)) continue;
    // With every recipient refused, the DATA refusal that follows is only a consequence.
    if (step.step === 'data' && sawRcpt && acceptedRecipients === 0) break;
    const verdict: { code: ProbeCode; severity: Severity } | null =
      mismatch?.index === index ? { code: 'TLS_MODE_MISMATCH', severity: 'critical' } : classifyStep(step);
    if (!verdict) {
      if (step.step === 'rcpt' && stepSucceeded(step)) acceptedRecipients++;
      continue;
    }
    const parsed = step.reply ? parseReply(step.reply) : null;
    const limitMs = step.step === 'connect' ? ctx.timeouts.connectMs : ctx.timeouts.stepMs;
    const params: TextParams = {
      ...base,
      step: step.step,
      ...(step.reply && !step.failure ? { reply: step.reply } : {}),
      ...(step.recipient ? { recipient: step.recipient } : {}),
      ...(parsed ? { replyCode: parsed.code } : {}),
      ...(step.failure ? { failureKind: step.failure.kind, ...(step.failure.detail ? { detail: step.failure.detail } : {}) } : {}),
      limitMs,
    };
    findings.push(
      finding(verdict.code, verdict.severity, params, {
        step: step.step,
        ...(step.recipient ? { recipient: step.recipient } : {}),
        ...(step.reply && !step.failure ? { reply: step.reply } : {}),
      }),
    );
    if (step.step !== 'rcpt') break;
  }

  if (sizeLimit !== undefined && sizeLimit < ctx.maxMessageBytes) {
    findings.push(finding('SIZE_LIMIT_LOW', 'warning', base, { step: 'ehlo' }));
  }

  if (tls?.certDaysLeft !== null && tls?.certDaysLeft !== undefined && tls.certDaysLeft < CERT_EXPIRING_DAYS) {
    const step: SmtpStep = transcript.steps.some((s) => s.step === 'starttls') ? 'starttls' : 'connect';
    findings.push(finding('TLS_CERT_EXPIRING', 'warning', { ...base, daysLeft: tls.certDaysLeft }, { step }));
  }

  for (const step of transcript.steps) {
    if (stepSucceeded(step) && step.step !== 'quit' && step.ms > ctx.slowStepMs) {
      findings.push(
        finding('SLOW_STEP', 'warning', { ...base, step: step.step, ms: Math.round(step.ms), limitMs: ctx.slowStepMs }, {
          step: step.step,
          ...(step.recipient ? { recipient: step.recipient } : {}),
        }),
      );
    }
  }

  return { steps, extensions, ...(tls ? { tls } : {}), findings };
}
