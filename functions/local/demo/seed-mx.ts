/**
 * The receiving side of a seed in the demo (and a stand-in for a big provider's MX in tests): an
 * SMTP server on 127.0.0.1 that verifies each message as a receiver does (SPF for the envelope
 * sender, DKIM, DMARC for the From domain: mailauth through the demo's DNS), writes its own
 * `Received:` and `Authentication-Results:` header, and files the message by that verdict: what
 * passes DMARC into the inbox, the rest into the spam folder, as Gmail, Outlook and Yahoo do with
 * mail that fails DMARC. Delivery into the mailbox is the caller's (`deliver`).
 */
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { createMailauthVerifier } from '#adapters/mailauth.ts';
import type { DeliveryVerdicts } from '#core/auth/canary.ts';
import type { DnsLookup } from '#core/ports.ts';

/**
 * An Authentication-Results header value (RFC 8601) for verdicts, as a receiver writes it.
 * @example formatAuthenticationResults('mx.seed.test', verdicts, 'bounce+x@bounces.example.jp')
 */
export function formatAuthenticationResults(authservId: string, v: DeliveryVerdicts, mailFrom: string): string {
  const dkim = v.dkim.find((d) => d.result === 'pass') ?? v.dkim[0];
  const parts = [
    `spf=${v.spf.result} smtp.mailfrom=${mailFrom.includes('@') ? mailFrom.slice(mailFrom.lastIndexOf('@') + 1) : mailFrom || '(null)'}`,
    dkim ? `dkim=${dkim.result} header.d=${dkim.domain}${dkim.selector ? ` header.s=${dkim.selector}` : ''}` : 'dkim=none',
    `dmarc=${v.dmarc.result}${v.dmarc.policy ? ` (p=${v.dmarc.policy.toUpperCase()})` : ''} header.from=${v.fromDomain}`,
  ];
  return `${authservId};\r\n\t${parts.join(';\r\n\t')}`;
}

/** Where a message goes: the inbox, or the spam folder. */
export type Filing = 'inbox' | 'junk';

/** What the receiving server needs. */
export interface SeedMxOptions {
  /** The receiver's host name: its `by` in Received and its authserv-id. */
  readonly hostname: string;
  /** DNS for the verification (the demo's embedded server, a test's). */
  readonly lookup: DnsLookup;
  /** Files a verified message (its new headers prepended) into the mailbox; `mailFrom` is its envelope sender. */
  deliver(raw: Buffer, filing: Filing, recipients: readonly string[], mailFrom: string): void | Promise<void>;
  /** The filing rule. @default DMARC pass: inbox, anything else: junk */
  readonly file?: (verdicts: DeliveryVerdicts) => Filing;
  readonly now?: () => Date;
}

/** A running receiving server. */
export interface SeedMx {
  readonly port: number;
  close(): Promise<void>;
}

let queueId = 0;

/**
 * Starts the receiving server on a free port of 127.0.0.1.
 * @example const mx = await startSeedMx({ hostname: 'mx.seed.test', lookup, deliver: (raw, filing) => box.file(raw.toString(), filing === 'junk' ? 'Junk' : 'INBOX') });
 */
export async function startSeedMx(options: SeedMxOptions): Promise<SeedMx> {
  const verify = createMailauthVerifier({ lookup: options.lookup, mta: options.hostname });
  const now = options.now ?? (() => new Date());
  const file = options.file ?? ((v: DeliveryVerdicts) => (v.dmarc.result === 'pass' ? 'inbox' : 'junk'));
  const server = new SMTPServer({
    name: options.hostname,
    banner: 'seed receiver (demo)',
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    disableReverseLookup: true,
    logger: false,
    closeTimeout: 200,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        void (async () => {
          const raw = Buffer.concat(chunks);
          const mailFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
          const ip = session.remoteAddress.replace(/^::ffff:/, '');
          const helo = session.hostNameAppearsAs || ip;
          const verdicts = await verify(raw, { ip, helo, sender: mailFrom || `postmaster@${helo}` });
          const received = `Received: from ${helo} (${helo} [${ip}])\r\n\tby ${options.hostname} with ESMTP id ${(++queueId).toString(16).toUpperCase()}\r\n\tfor <${session.envelope.rcptTo.map((r) => r.address).join('>, <')}>; ${now().toUTCString().replace('GMT', '+0000')}`;
          const ar = `Authentication-Results: ${formatAuthenticationResults(options.hostname, verdicts, mailFrom)}`;
          const stamped = Buffer.concat([Buffer.from(`${ar}\r\n${received}\r\n`), raw]);
          await options.deliver(stamped, file(verdicts), session.envelope.rcptTo.map((r) => r.address), mailFrom);
        })().then(
          () => callback(),
          (err: unknown) => callback(Object.assign(new Error(`4.3.0 delivery failed: ${err instanceof Error ? err.message : String(err)}`), { responseCode: 451 })),
        );
      });
    },
  });
  server.on('error', () => undefined);
  const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.server.address() as AddressInfo).port)));
  return { port, close: () => new Promise<void>((r) => server.close(() => r())) };
}
