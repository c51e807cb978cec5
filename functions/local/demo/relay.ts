/**
 * The demo provider's outbound side: what a real provider's MTA does after it accepted a
 * message on 587. Each recipient is relayed by SMTP to the server of its domain (the demo's
 * customer mail server, or the bounce listener for the bounce domain); a refusal or an
 * unreachable server becomes a DSN (demo/dsn.ts) sent back to the envelope sender, with the
 * null sender `MAIL FROM:<>` as RFC 5321 asks, so the canary's bounce returns to its VERP address.
 * Everything stays on 127.0.0.1.
 */
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { buildDsn, type DsnRecipient } from './dsn.ts';

/** Where mail for a domain goes. */
export interface Route {
  readonly host: string;
  readonly port: number;
  /** The server's name as the DSN names it (Remote-MTA). */
  readonly name: string;
}

/** What the relay needs. */
export interface DemoRelayOptions {
  /** The provider's host name (EHLO, Reporting-MTA). */
  readonly hostname: string;
  /** The route of a domain (lower case), or null when it has none (the mail bounces). */
  route(domain: string): Route | null;
  readonly now?: () => Date;
  /**
   * The provider's outbound processing of an accepted message before it goes out (the demo
   * DKIM-signs here, as real providers do). @default the message unchanged
   */
  readonly prepare?: (message: { readonly from: string; readonly to: readonly string[]; readonly raw: Buffer }) => Promise<Buffer>;
  /** Told about every DSN sent (for the demo's narration and tests). */
  readonly onBounce?: (dsn: { readonly to: string; readonly recipients: readonly DsnRecipient[] }) => void;
}

/** The relay of a running demo provider. */
export interface DemoRelay {
  /** Relays an accepted message (in the background); see `settled`. */
  relay(message: { readonly from: string; readonly to: readonly string[]; readonly raw: Buffer }): void;
  /** Resolves when every message handed over so far was relayed and its bounces were sent. */
  settled(): Promise<void>;
}

// The demo's servers all answer within milliseconds; a stuck one must not stall the demo.
const SMTP_TIMEOUT_MS = 5_000;

type SendOutcome = { readonly ok: true } | { readonly ok: false; readonly reply: string | null; readonly command: string | null; readonly error: string };

/** One SMTP transaction: one recipient, so each refusal keeps its own reply. */
function send(route: Route, hostname: string, from: string, to: string, raw: Buffer): Promise<SendOutcome> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (outcome: SendOutcome) => {
      if (done) return;
      done = true;
      conn.close();
      resolve(outcome);
    };
    const fail = (err: Error & { response?: string; command?: string }) =>
      finish({ ok: false, reply: err.response ?? null, command: err.command ?? null, error: err.message });
    const conn = new SMTPConnection({
      host: route.host,
      port: route.port,
      name: hostname,
      // Relays between MTAs on loopback: the listener's certificate is a placeholder nobody verifies.
      ignoreTLS: true,
      connectionTimeout: SMTP_TIMEOUT_MS,
      greetingTimeout: SMTP_TIMEOUT_MS,
      socketTimeout: SMTP_TIMEOUT_MS,
    });
    conn.on('error', fail);
    conn.connect((err) => {
      if (err) return fail(err);
      conn.send({ from: from === '' ? false : from, to: [to] }, raw, (sendErr) => {
        if (sendErr) return fail(sendErr);
        conn.quit();
        finish({ ok: true });
      });
    });
  });
}

function enhancedStatus(reply: string | null, fallback: string): string {
  const m = reply ? /^[245]\d\d[ -]([245]\.\d{1,3}\.\d{1,3})\b/.exec(reply) : null;
  return m?.[1] ?? fallback;
}

function commandName(command: string | null): string | undefined {
  if (!command) return undefined;
  const upper = command.toUpperCase();
  if (upper.startsWith('RCPT')) return 'RCPT TO';
  if (upper.startsWith('MAIL')) return 'MAIL FROM';
  if (upper.includes('DATA') || upper === '.') return 'end of DATA';
  return upper;
}

let queueCounter = 0;

/**
 * Creates the relay.
 * @example
 * const relay = createDemoRelay({ hostname: 'smtp.demo.test', route: (d) => routes[d] ?? null });
 * relay.relay({ from, to, raw }); await relay.settled();
 */
export function createDemoRelay(options: DemoRelayOptions): DemoRelay {
  const now = options.now ?? (() => new Date());
  const pending = new Set<Promise<void>>();

  async function deliver(accepted: { from: string; to: readonly string[]; raw: Buffer }): Promise<void> {
    const arrival = now();
    const message = options.prepare ? { ...accepted, raw: await options.prepare(accepted) } : accepted;
    const failures: DsnRecipient[] = [];
    for (const rcpt of message.to) {
      const domain = rcpt.slice(rcpt.lastIndexOf('@') + 1).toLowerCase();
      const route = options.route(domain);
      if (!route) {
        failures.push({ recipient: rcpt, action: 'failed', status: '5.4.4', remoteMta: null, diagnostic: `Host or domain name not found. Name service error for name=${domain}` });
        continue;
      }
      const outcome = await send(route, options.hostname, message.from, rcpt, message.raw);
      if (outcome.ok) continue;
      if (outcome.reply) {
        const permanent = outcome.reply.startsWith('5');
        failures.push({
          recipient: rcpt,
          action: permanent ? 'failed' : 'delayed',
          status: enhancedStatus(outcome.reply, permanent ? '5.0.0' : '4.0.0'),
          remoteMta: route.name,
          diagnostic: outcome.reply.replace(/\s+/g, ' ').trim(),
          ...(commandName(outcome.command) ? { inReplyTo: commandName(outcome.command)! } : {}),
        });
      } else {
        failures.push({ recipient: rcpt, action: 'delayed', status: '4.4.1', remoteMta: null, diagnostic: `connect to ${route.name}: ${outcome.error}` });
      }
    }
    // Never answer a bounce with a bounce (RFC 5321 §4.5.5).
    if (failures.length === 0 || message.from === '') return;
    const returnDomain = message.from.slice(message.from.lastIndexOf('@') + 1).toLowerCase();
    const back = options.route(returnDomain);
    if (!back) return;
    const dsn = buildDsn({
      reportingMta: options.hostname,
      returnTo: message.from,
      arrivalDate: arrival,
      date: now(),
      recipients: failures,
      original: message.raw.toString('utf8'),
      token: `${arrival.getTime().toString(16).toUpperCase()}${(++queueCounter).toString(16).toUpperCase()}`,
    });
    const outcome = await send(back, options.hostname, '', message.from, Buffer.from(dsn, 'utf8'));
    if (outcome.ok) options.onBounce?.({ to: message.from, recipients: failures });
  }

  return {
    relay(message) {
      const p = deliver(message).catch(() => undefined);
      pending.add(p);
      void p.finally(() => pending.delete(p));
    },
    async settled() {
      while (pending.size > 0) await Promise.all([...pending]);
    },
  };
}
