/**
 * The SMTP session port of the probe.
 *
 * Why a transcript and not a step-by-step port: nodemailer's SMTP connection runs greeting,
 * EHLO, STARTTLS and EHLO as one `connect()` and MAIL, RCPT and DATA as one `send()` (pipelined
 * when the server allows it), so a core that drove commands one by one would have to reimplement
 * SMTP. Instead the adapter runs the whole session and reports, per step, what it sent (the verb
 * only), what the server replied and how long it took; the core turns that plain data into
 * findings. The diagnosis stays pure and is tested with literal transcripts, and the adapter is
 * tested against real servers.
 */
import type { SmtpStep } from '../findings.ts';

/** How a step failed when the server did not simply answer with a 4xx/5xx reply. */
export const STEP_FAILURE_KINDS = [
  'timeout', // no (complete) answer within the step's time limit
  'closed', // the server closed or reset the connection
  'refused', // TCP connection refused (nothing listens there)
  'unreachable', // no route to the host
  'dns', // the host name does not resolve
  'tls-handshake', // TLS could not be negotiated (protocol, cipher, garbage)
  'tls-untrusted', // the certificate chain is not trusted (self-signed, unknown CA)
  'tls-hostname', // the certificate does not name the host we connected to
  'tls-expired', // the certificate is expired or not yet valid
  'not-offered', // the server did not announce what the step needs (AUTH)
  'error', // anything else; `detail` says what
] as const;
export type StepFailureKind = (typeof STEP_FAILURE_KINDS)[number];

/** One step as the adapter saw it. Absent `failure` and a 2xx/3xx (or no) reply means success. */
export interface TranscriptStep {
  readonly step: SmtpStep;
  /** Time from the start of the step to its answer (or to the failure). */
  readonly ms: number;
  /** The command verb only, e.g. `RCPT TO`, `AUTH PLAIN`: never its arguments for AUTH. */
  readonly command?: string;
  /** The server's reply as received; multi-line replies keep their lines joined by `\n`. */
  readonly reply?: string;
  readonly recipient?: string;
  readonly failure?: { readonly kind: StepFailureKind; readonly detail?: string };
}

/** TLS facts of an encrypted session. */
export interface TranscriptTls {
  readonly version: string;
  readonly cipher: string;
  readonly authorized: boolean;
  /** The certificate's notAfter as ISO 8601; null when the peer certificate was not readable. */
  readonly certValidTo: string | null;
}

/** Everything the adapter observed during one session. Steps appear in the order they ran. */
export interface SessionTranscript {
  readonly steps: readonly TranscriptStep[];
  readonly tls?: TranscriptTls;
}

/** What one canary session needs. Built by the core from the target config. */
export interface SessionRequest {
  readonly host: string;
  /** The TCP port actually dialled (after any demo/test port mapping). */
  readonly port: number;
  /** `starttls`: plain connect, STARTTLS required before AUTH; `implicit`: TLS from the start. */
  readonly tls: 'starttls' | 'implicit';
  /** Name the certificate must carry (and SNI), when `host` is an IP address. */
  readonly servername?: string;
  readonly ehloName?: string;
  /** Extra trusted CA certificates, PEM text. */
  readonly ca?: string;
  readonly auth?: { readonly user: string; readonly password: string };
  readonly envelope: { readonly from: string; readonly to: readonly string[] };
  /**
   * Stop after AUTH (QUIT without MAIL, RCPT and DATA): checks the submission server and sends
   * nothing. The canary Lambda's rounds between two round trips use it (config `roundTripSchedule`).
   */
  readonly loginOnly?: boolean;
  /** The complete canary message, CRLF line ends. */
  readonly message: string;
  readonly timeouts: { readonly connectMs: number; readonly stepMs: number };
}

/**
 * Runs one SMTP session: connect, greeting, EHLO, STARTTLS, EHLO, AUTH, MAIL FROM, RCPT per
 * recipient, DATA, QUIT. Resolves with the transcript for every expected outcome (refusals,
 * timeouts, TLS errors); rejects only on a bug. Never logs or returns the AUTH exchange.
 */
export type SmtpSession = (request: SessionRequest) => Promise<SessionTranscript>;
