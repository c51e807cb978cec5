/**
 * The SMTP session adapter over nodemailer's low-level SMTP connection.
 *
 * nodemailer runs greeting → EHLO → STARTTLS → EHLO inside `connect()` and MAIL → RCPT → DATA
 * inside `send()`. To time and judge each step we follow its transaction log (the `logger` option
 * with `transactionLog`): every command it writes opens a step, every reply closes the oldest open
 * one, in order, which also holds when it pipelines the envelope. The log carries the AUTH
 * exchange (user and password in base64), so client lines are reduced to their verb on arrival
 * and nothing during AUTH is kept but the final reply: the log itself is never stored or printed.
 *
 * Every step has its own watchdog (connectMs for connect, stepMs for the others): when it fires
 * the step is a timeout and the connection is closed, so a session never hangs.
 */
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { createSecureContext, rootCertificates, type SecureContext, type TLSSocket } from 'node:tls';
import type { SmtpStep } from '#core/findings.ts';
import type { SessionRequest, SessionTranscript, SmtpSession, StepFailureKind, TranscriptStep, TranscriptTls } from '#core/probe/types.ts';

/** nodemailer's own timers only back ours up; they get this much more so ours fire first. */
const BACKSTOP_MS = 1_000;

/** Distinct extra CAs kept at most; more (a config cannot name that many) start the cache afresh. */
const MAX_TLS_CONTEXTS = 64;

/** What the session adapter can be given; tests inject both. */
export interface SmtpSessionOptions {
  /** A monotonic clock in milliseconds. */
  readonly now?: () => number;
  /** The TLS contexts to use (one per distinct extra CA). @default a cache of this session port's own */
  readonly tlsContexts?: TlsContexts;
}

/** The TLS context of a connection: one per distinct extra CA (and one without), built once. */
export interface TlsContexts {
  /** The context trusting the public roots plus `ca` (PEM), when given. */
  contextFor(ca: string | undefined): SecureContext;
  /** How many contexts were built so far. */
  readonly built: number;
}

/**
 * A cache of TLS contexts by extra CA. A context with a `ca` holds its own copy of the whole
 * root store (about 140 certificates parsed, a megabyte or more of native memory, milliseconds
 * of a blocked event loop): built per connection, 500 targets with a private CA cost about a
 * gigabyte and rounds of 20-40 s. Built once per distinct CA, they cost that once.
 * @example const contexts = createTlsContexts(); const ctx = contexts.contextFor(caPem);
 */
export function createTlsContexts(): TlsContexts {
  const contexts = new Map<string, SecureContext>();
  let built = 0;
  return {
    contextFor(ca) {
      const key = ca ?? '';
      let context = contexts.get(key);
      if (context === undefined) {
        if (contexts.size >= MAX_TLS_CONTEXTS) contexts.clear();
        context = createSecureContext({ minVersion: 'TLSv1.2', ...(ca ? { ca: [...rootCertificates, ca] } : {}) });
        contexts.set(key, context);
        built++;
      }
      return context;
    },
    get built() {
      return built;
    },
  };
}

type NodemailerError = Error & { code?: string; originalCode?: string; response?: string; responseCode?: number; command?: string };

const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME', 'ENODATA', 'ESERVFAIL', 'ENONAME']);
const UNREACHABLE_CODES = new Set(['EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENETDOWN', 'EADDRNOTAVAIL']);
const CERT_EXPIRED = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);
const CERT_HOSTNAME = new Set(['ERR_TLS_CERT_ALTNAME_INVALID', 'ERR_TLS_CERT_ALTNAME_FORMAT']);
const CERT_UNTRUSTED = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_REJECTED',
  'INVALID_CA',
  'CERT_REVOKED',
]);

function clean(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').slice(0, 200);
}

/**
 * What a nodemailer / socket / TLS error means for the step it interrupted.
 * @example failureOf(Object.assign(new Error('x'), { code: 'ESOCKET', originalCode: 'CERT_HAS_EXPIRED' }))
 * // { kind: 'tls-expired', detail: 'CERT_HAS_EXPIRED' }
 */
export function failureOf(err: NodemailerError): { kind: StepFailureKind; detail?: string } {
  const type = err.code ?? '';
  const code = err.originalCode ?? type;
  if (type === 'ETIMEDOUT' || code === 'ETIMEDOUT') return { kind: 'timeout' };
  if (type === 'EDNS' || DNS_CODES.has(code)) return { kind: 'dns', detail: code };
  if (code === 'ECONNREFUSED') return { kind: 'refused' };
  if (UNREACHABLE_CODES.has(code)) return { kind: 'unreachable', detail: code };
  if (CERT_EXPIRED.has(code)) return { kind: 'tls-expired', detail: code };
  if (CERT_HOSTNAME.has(code)) return { kind: 'tls-hostname', detail: code };
  if (CERT_UNTRUSTED.has(code)) return { kind: 'tls-untrusted', detail: code };
  if (type === 'ETLS' || code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_')) return { kind: 'tls-handshake', detail: clean(code || err.message) };
  if (code === 'ECONNRESET' || code === 'EPIPE' || type === 'ECONNECTION') return { kind: 'closed' };
  return { kind: 'error', detail: clean(err.message) };
}

interface OpenStep {
  readonly step: SmtpStep | 'other';
  readonly command?: string;
  readonly recipient?: string;
  readonly startedAt: number;
  /** A 354 to DATA or a 220 to STARTTLS: the step goes on (message, handshake). */
  interim?: string;
}

/** Follows nodemailer's transaction log and turns it into timed steps. */
class StepRecorder {
  readonly steps: TranscriptStep[] = [];
  private readonly open: OpenStep[] = [];
  private lastAnswerAt: number;
  private timer: NodeJS.Timeout | undefined;
  private auth: { startedAt: number; command?: string; lastReply?: string } | undefined;
  private finished = false;

  constructor(
    private readonly now: () => number,
    private readonly timeouts: SessionRequest['timeouts'],
    private readonly onTimeout: () => void,
  ) {
    this.lastAnswerAt = now();
  }

  /** The logger nodemailer calls; only the fields we read are typed. */
  readonly logger = (() => {
    const handle = (entry: { tnx?: string }, message: unknown) => this.onLog(entry?.tnx, typeof message === 'string' ? message : '');
    return { trace: handle, debug: handle, info: handle, warn: handle, error: handle, fatal: handle };
  })();

  begin(step: OpenStep['step'], command?: string, recipient?: string): void {
    if (this.finished) return;
    this.open.push({ step, startedAt: this.now(), ...(command ? { command } : {}), ...(recipient ? { recipient } : {}) });
    if (this.open.length === 1) this.arm();
  }

  beginAuth(): void {
    this.auth = { startedAt: this.now() };
    this.arm();
  }

  /** The end of AUTH, from login()'s callback: only the final reply is kept. */
  endAuth(err: NodemailerError | null): void {
    const auth = this.auth;
    if (!auth || this.finished) return;
    this.auth = undefined;
    const reply = err?.response ?? (err ? undefined : auth.lastReply);
    const failure = err && !err.response ? failureOf(err) : undefined;
    this.record({ step: 'auth', startedAt: auth.startedAt, command: auth.command ?? 'AUTH' }, reply, failure);
    this.disarm();
  }

  /** A step that never reached the wire (e.g. AUTH not offered). */
  add(step: TranscriptStep): void {
    if (!this.finished) this.steps.push(step);
  }

  /** The connection failed: the step waiting for an answer gets the failure, the rest never ran. */
  fail(err: NodemailerError): void {
    if (this.finished) return;
    const failure = failureOf(err);
    if (this.auth) {
      const auth = this.auth;
      this.auth = undefined;
      this.record({ step: 'auth', startedAt: auth.startedAt, command: auth.command ?? 'AUTH' }, undefined, failure);
    } else {
      const head = this.open.shift();
      if (head) this.record(head, undefined, failure);
    }
    this.open.length = 0;
    this.disarm();
  }

  /** The connection is gone; anything still waiting was cut off. */
  finish(): void {
    if (this.finished) return;
    if (this.auth || this.open.length) this.fail(Object.assign(new Error('Connection closed'), { code: 'ECONNECTION' }));
    this.finished = true;
    this.disarm();
  }

  private onLog(tnx: string | undefined, message: string): void {
    if (this.finished) return;
    if (tnx === 'network' && message.includes('established')) {
      const head = this.open[0];
      if (head?.step === 'connect') {
        this.answer();
        this.begin('greeting');
      }
    } else if (tnx === 'client') {
      this.onCommand(message);
    } else if (tnx === 'server') {
      this.onReply(message);
    } else if (tnx === 'smtp' && message.startsWith('Connection upgraded')) {
      if (this.open[0]?.step === 'starttls') this.answer(this.open[0].interim);
    }
  }

  private onCommand(line: string): void {
    if (this.auth) {
      // The first AUTH line names the mechanism; everything after it is credentials.
      if (!this.auth.command) this.auth.command = line.split(' ', 2).join(' ').toUpperCase();
      return;
    }
    const verb = line.split(/[\s:]/, 1)[0]?.toUpperCase() ?? '';
    switch (verb) {
      case 'EHLO':
      case 'HELO':
      case 'LHLO':
        return this.begin('ehlo', verb);
      case 'STARTTLS':
        return this.begin('starttls', 'STARTTLS');
      case 'MAIL':
        return this.begin('mail', 'MAIL FROM');
      case 'RCPT':
        return this.begin('rcpt', 'RCPT TO', /<([^>]*)>/.exec(line)?.[1]);
      case 'DATA':
        return this.begin('data', 'DATA');
      case 'QUIT':
        return this.begin('quit', 'QUIT');
      default:
        // RSET, the lone "." of an empty message: not a step, but its reply must be consumed in order.
        return this.begin('other', verb);
    }
  }

  private onReply(reply: string): void {
    if (this.auth) {
      this.auth.lastReply = reply;
      return;
    }
    const head = this.open[0];
    if (!head) return;
    const interim = /^3\d\d/.test(reply) && head.step === 'data' && head.interim === undefined;
    const upgrading = /^2\d\d/.test(reply) && head.step === 'starttls';
    if (interim || upgrading) {
      head.interim = reply;
      // The message (or the TLS handshake) gets a full step time of its own.
      this.arm();
      return;
    }
    this.answer(reply);
  }

  private answer(reply?: string): void {
    const head = this.open.shift();
    if (!head) return;
    this.record(head, reply);
    if (this.open.length) this.arm();
    else this.disarm();
  }

  private record(open: OpenStep, reply?: string, failure?: { kind: StepFailureKind; detail?: string }): void {
    const at = this.now();
    // Pipelined commands wait for the replies before them: a step's time starts when it could be answered.
    const from = Math.max(open.startedAt, open.step === 'auth' ? open.startedAt : this.lastAnswerAt);
    this.lastAnswerAt = at;
    if (open.step === 'other') return;
    this.steps.push({
      step: open.step,
      ms: Math.max(0, at - from),
      ...(open.command ? { command: open.command } : {}),
      ...(reply !== undefined ? { reply } : open.interim !== undefined && failure ? { reply: open.interim } : {}),
      ...(open.recipient ? { recipient: open.recipient } : {}),
      ...(failure ? { failure } : {}),
    });
  }

  private arm(): void {
    this.disarm();
    const head = this.auth ? undefined : this.open[0];
    const limit = head?.step === 'connect' ? this.timeouts.connectMs : this.timeouts.stepMs;
    this.timer = setTimeout(() => {
      this.fail(Object.assign(new Error('step timed out'), { code: 'ETIMEDOUT' }));
      this.onTimeout();
    }, limit);
  }

  private disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

function tlsFacts(socket: unknown): TranscriptTls | undefined {
  const s = socket as Partial<TLSSocket> | null | undefined;
  if (!s || typeof s.getProtocol !== 'function' || typeof s.getPeerCertificate !== 'function') return undefined;
  // The X509 object reads the one field asked for; getPeerCertificate() builds every field and
  // three fingerprints (a few milliseconds a session, seconds a round at 500 targets).
  const validToText = typeof s.getPeerX509Certificate === 'function' ? s.getPeerX509Certificate()?.validTo : s.getPeerCertificate()?.valid_to;
  const validTo = validToText ? new Date(validToText) : null;
  return {
    version: s.getProtocol() ?? 'unknown',
    cipher: s.getCipher?.()?.name ?? 'unknown',
    authorized: s.authorized === true,
    certValidTo: validTo && !Number.isNaN(validTo.getTime()) ? validTo.toISOString() : null,
  };
}

async function runSession(req: SessionRequest, now: () => number, contexts: TlsContexts): Promise<SessionTranscript> {
  const { connectMs, stepMs } = req.timeouts;
  let conn: SMTPConnection | undefined;
  const recorder = new StepRecorder(now, req.timeouts, () => conn?.close());
  conn = new SMTPConnection({
    host: req.host,
    port: req.port,
    secure: req.tls === 'implicit',
    // STARTTLS is mandatory: without it nodemailer fails before AUTH, so credentials never go out in clear.
    requireTLS: req.tls === 'starttls',
    ...(req.servername ? { servername: req.servername } : {}),
    ...(req.ehloName ? { name: req.ehloName } : {}),
    // The context carries the trusted roots (plus `ca`) and the TLS 1.2 floor.
    tls: {
      rejectUnauthorized: true,
      secureContext: contexts.contextFor(req.ca),
      ...(req.servername ? { servername: req.servername } : {}),
    },
    connectionTimeout: connectMs + 3 * stepMs + BACKSTOP_MS,
    greetingTimeout: stepMs + BACKSTOP_MS,
    socketTimeout: stepMs + BACKSTOP_MS,
    socketCloseTimeout: 0,
    // The log goes to the recorder only, which keeps verbs and replies, never the AUTH lines.
    transactionLog: true,
    logger: recorder.logger,
  });

  const ended = new Promise<'ended'>((resolve) => conn.once('end', () => resolve('ended')));
  // Every step has its own watchdog; this one only guards against a step the log never opened.
  const stepCount = 8 + req.envelope.to.length;
  const guard = setTimeout(() => {
    recorder.fail(Object.assign(new Error('session timed out'), { code: 'ETIMEDOUT' }));
    conn.close();
  }, connectMs + stepCount * stepMs + BACKSTOP_MS);
  conn.on('error', (err: NodemailerError) => recorder.fail(err));
  const until = <T>(run: (done: (value: T) => void) => void): Promise<T | 'ended'> => Promise.race([new Promise<T>(run), ended]);
  let tls: TranscriptTls | undefined;

  try {
    recorder.begin('connect');
    const connected = await until<boolean>((done) =>
      conn.connect((err) => {
        if (err) recorder.fail(err);
        done(!err);
      }),
    );
    if (connected !== true) return { steps: recorder.steps };

    tls = conn.secure ? tlsFacts(conn._socket) : undefined;
    if (!conn.secure) {
      // Unreachable with requireTLS; kept so no code path can ever send AUTH or mail in clear.
      recorder.add({ step: 'starttls', ms: 0, failure: { kind: 'not-offered' } });
      return { steps: recorder.steps };
    }

    if (req.auth) {
      if (!conn.allowsAuth) {
        recorder.add({ step: 'auth', ms: 0, failure: { kind: 'not-offered' } });
      } else {
        recorder.beginAuth();
        const { user, password } = req.auth;
        const authed = await until<boolean>((done) =>
          conn.login({ user, pass: password }, (err) => {
            recorder.endAuth(err ?? null);
            done(!err);
          }),
        );
        if (authed === 'ended') return { steps: recorder.steps, ...(tls ? { tls } : {}) };
      }
    }

    const authOk = !req.auth || recorder.steps.some((s) => s.step === 'auth' && !s.failure && /^2/.test(s.reply ?? ''));
    if (authOk && !req.loginOnly) {
      const sent = await until<boolean>((done) =>
        conn.send({ from: req.envelope.from, to: [...req.envelope.to] }, req.message, (err) => {
          // Replies were recorded from the log; an error without one never reached the wire.
          if (err && !recorder.steps.some((s) => s.step === 'mail')) {
            recorder.add({ step: 'mail', ms: 0, command: 'MAIL FROM', failure: failureOf(err) });
          }
          done(!err);
        }),
      );
      if (sent === 'ended') return { steps: recorder.steps, ...(tls ? { tls } : {}) };
    }

    conn.quit();
    await ended;
    return { steps: recorder.steps, ...(tls ? { tls } : {}) };
  } finally {
    clearTimeout(guard);
    recorder.finish();
    conn.close();
  }
}

/**
 * Creates the SMTP session port.
 * @example
 * const openSession = createSmtpSession();
 * const transcript = await openSession({ host: 'smtp.example.jp', port: 587, tls: 'starttls', … });
 */
export function createSmtpSession(options: SmtpSessionOptions = {}): SmtpSession {
  const now = options.now ?? (() => performance.now());
  const contexts = options.tlsContexts ?? createTlsContexts();
  return (request) => runSession(request, now, contexts);
}
