/**
 * A private Postfix instance on loopback for the end-to-end tests, playing the mail provider:
 * - a submission listener that requires STARTTLS (`smtpd_tls_security_level=encrypt`, a
 *   certificate from a CA made at test time) and relays for 127.0.0.0/8;
 * - with a Dovecot instance (`options.dovecot`): a second submission listener that requires
 *   STARTTLS before AUTH and SASL AUTH through Dovecot before it relays anything, an implicit-TLS
 *   listener (`smtpd_tls_wrappermode`, the port-465 style) with the same login, and Dovecot's
 *   domains delivered over LMTP (so Dovecot's own refusals, such as its quota, make the DSNs);
 * - local destinations that fail for real: `nobody@local.test` (unknown user, bounced after
 *   acceptance), `full@local.test` (an mbox over `virtual_mailbox_limit`), and `big.test`,
 *   relayed to a second listener whose `message_size_limit` is 452 bytes;
 * - the bounce domain relayed to the test's bounce listener, so the DSNs Postfix writes (and
 *   delivered canaries) come back to mail-health.
 * Everything lives in one temporary directory (config, queue, mailboxes, log), removed by stop().
 *
 * Off the network whatever an address names: no DNS at all (`smtp_dns_support_level` and
 * `lmtp_dns_support_level = disabled`, no reverse lookup of clients), every domain the tests
 * send to is routed by the transport map to a bracketed 127.0.0.1 address, and anything else
 * goes to the `error` transport (`default_transport`, `relay_transport`): bounced, never sent.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createCertificateAuthority } from '#local/certs.ts';

const run = promisify(execFile);
const POSTFIX = '/usr/sbin/postfix';
/** The provider's host name: the certificate's name and the DSNs' Reporting-MTA. */
export const PROVIDER_HOSTNAME = 'mx.provider.test';
// The mailbox limit of `full@local.test`; the mbox is filled past it before the start.
const MAILBOX_LIMIT = 51_200;
// Postfix starts its listeners a second or two after `postfix start` returns.
const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 10_000;

/** Why the Postfix test cannot run here, or null when it can. */
export function postfixUnavailable(): string | null {
  if (!existsSync(POSTFIX)) return `${POSTFIX} is not installed (.ci/run installs Debian's postfix)`;
  if (process.getuid?.() !== 0) return 'a private Postfix instance needs root (it runs its daemons as the postfix user)';
  try {
    execFileSync('id', ['-u', 'postfix']);
  } catch {
    return 'there is no postfix user';
  }
  return null;
}

/** Where Postfix finds the Dovecot instance (see helpers/dovecot.ts). */
export interface DovecotEndpoints {
  /** Dovecot's SASL socket (absolute path). */
  readonly authSocket: string;
  /** Dovecot's LMTP listener on 127.0.0.1. */
  readonly lmtpPort: number;
  /** The domains whose mail Postfix hands to Dovecot over LMTP. */
  readonly domains: readonly string[];
}

/** A running instance. */
export interface PostfixInstance {
  readonly dir: string;
  /** The STARTTLS-only submission listener on 127.0.0.1 (relays for 127.0.0.0/8 without AUTH). */
  readonly submissionPort: number;
  /** With Dovecot: the submission listener that requires STARTTLS, then SASL AUTH, before it relays. */
  readonly authSubmissionPort?: number;
  /** With Dovecot: the implicit-TLS listener (TLS from the first byte, then SASL AUTH). */
  readonly smtpsPort?: number;
  /** With `lmtpReinject`: the receiver's listener whose mail goes on over LMTP. */
  readonly reinjectPort?: number;
  /** The CA that issued the submission certificate (PEM). */
  readonly caPem: string;
  /** Postfix's log (maillog_file), for a failing test's message. */
  log(): Promise<string>;
  stop(): Promise<void>;
}

/** A TCP port that is free right now on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** Resolves once something accepts TCP connections on 127.0.0.1:`port`; throws after `timeoutMs`. */
export async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
      socket.setTimeout(1_000, () => {
        socket.destroy();
        resolve(false);
      });
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`Postfix did not listen on 127.0.0.1:${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * master.cf from Debian's, made fit for a private instance: no chroot (the chroot column `n`
 * everywhere), the public `smtp inet` listener replaced by ours, `virtual` allowed a message
 * size within its mailbox limit (it refuses to start otherwise).
 */
function masterCf(base: string, listeners: readonly string[]): string {
  const out: string[] = [];
  for (const line of base.split('\n')) {
    if (/^\s*(#|$)/.test(line) || /^\s/.test(line)) {
      out.push(line);
      continue;
    }
    const fields = line.trim().split(/\s+/);
    if (fields[0] === 'smtp' && fields[1] === 'inet') {
      out.push(...listeners);
      continue;
    }
    if (fields.length >= 8) fields[4] = 'n';
    if (fields[0] === 'virtual' && fields[1] === 'unix') fields.push('-o', `message_size_limit=${MAILBOX_LIMIT}`);
    out.push(fields.join(' '));
  }
  return out.join('\n');
}

/**
 * Writes a private instance's files and starts it.
 * @param options.bounceDomain mail for it is relayed to 127.0.0.1:`listenerPort`
 */
export async function startPostfix(options: {
  readonly bounceDomain: string;
  readonly listenerPort: number;
  readonly dovecot?: DovecotEndpoints;
  /** More domains relayed by SMTP to a server on 127.0.0.1 (a receiving MX of a test). */
  readonly relays?: readonly { readonly domain: string; readonly port: number }[];
  /**
   * A listener that plays a receiver's own Postfix: what it takes goes over LMTP to 127.0.0.1:
   * `lmtpPort` (its `content_filter`, whatever the domain), stamped `by <hostname>`.
   */
  readonly lmtpReinject?: { readonly hostname: string; readonly lmtpPort: number };
}): Promise<PostfixInstance> {
  const uid = Number(execFileSync('id', ['-u', 'postfix']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postfix']).toString().trim());
  // Short path: Postfix's UNIX sockets live under the queue directory.
  const dir = await mkdtemp('/tmp/mhpf-');
  // The daemons run as the postfix user and must reach their directories inside.
  await chmod(dir, 0o755);
  const etc = join(dir, 'etc');
  for (const d of ['etc', 'spool', 'data', 'vmail']) await mkdir(join(dir, d), { recursive: true });
  await chown(join(dir, 'data'), uid, gid);
  await chown(join(dir, 'vmail'), uid, gid);

  const [submissionPort, smallPort] = [await freePort(), await freePort()];
  const dovecot = options.dovecot;
  const [authSubmissionPort, smtpsPort] = dovecot ? [await freePort(), await freePort()] : [undefined, undefined];
  const reinjectPort = options.lmtpReinject ? await freePort() : undefined;
  const ca = createCertificateAuthority({ commonName: 'mail-health Postfix test CA' });
  const leaf = ca.issue({ hosts: [PROVIDER_HOSTNAME, '127.0.0.1'] });
  const certFile = join(etc, 'smtpd-cert.pem');
  const keyFile = join(etc, 'smtpd-key.pem');
  await writeFile(certFile, leaf.certPem);
  await writeFile(keyFile, leaf.keyPem, { mode: 0o600 });

  // `full` is an mbox already past the limit; `ok/` a maildir; nobody is unlisted.
  await writeFile(join(etc, 'vmailbox'), 'ok@local.test ok/\nfull@local.test full\n');
  const filler = `From filler@local.test Thu Jan  1 00:00:00 2026\n${'x'.repeat(99)}\n`.repeat(Math.ceil((MAILBOX_LIMIT + 1000) / 150));
  await writeFile(join(dir, 'vmail', 'full'), filler);
  await chown(join(dir, 'vmail', 'full'), uid, gid);
  const routes = [
    `${options.bounceDomain} smtp:[127.0.0.1]:${options.listenerPort}`,
    `big.test smtp:[127.0.0.1]:${smallPort}`,
    ...(dovecot ? dovecot.domains.map((domain) => `${domain} lmtp:inet:[127.0.0.1]:${dovecot.lmtpPort}`) : []),
    ...(options.relays ?? []).map((r) => `${r.domain} smtp:[127.0.0.1]:${r.port}`),
  ];
  await writeFile(join(etc, 'transport'), `${routes.join('\n')}\n`);

  await writeFile(
    join(etc, 'main.cf'),
    [
      'compatibility_level = 3.6',
      `queue_directory = ${dir}/spool`,
      `data_directory = ${dir}/data`,
      'mail_owner = postfix',
      'setgid_group = postdrop',
      `myhostname = ${PROVIDER_HOSTNAME}`,
      'mydomain = provider.test',
      'myorigin = $mydomain',
      'mydestination =',
      'inet_interfaces = 127.0.0.1',
      'inet_protocols = ipv4',
      'mynetworks = 127.0.0.0/8',
      'smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination',
      // Unknown users are accepted and bounced afterwards: a DSN, not an in-session 550.
      'smtpd_reject_unlisted_recipient = no',
      'virtual_mailbox_domains = local.test',
      `virtual_mailbox_maps = texthash:${etc}/vmailbox`,
      `virtual_mailbox_base = ${dir}/vmail`,
      `virtual_uid_maps = static:${uid}`,
      `virtual_gid_maps = static:${gid}`,
      `virtual_mailbox_limit = ${MAILBOX_LIMIT}`,
      'message_size_limit = 10240000',
      `transport_maps = texthash:${etc}/transport`,
      // No DNS, ever: the routes above are bracketed addresses, everything else is refused.
      'smtp_dns_support_level = disabled',
      'lmtp_dns_support_level = disabled',
      'smtpd_peername_lookup = no',
      'default_transport = error:no route outside the test',
      'relay_transport = error:no route outside the test',
      `maillog_file = ${dir}/maillog`,
      'maillog_file_prefixes = /var, /dev/stdout, /tmp',
      'smtp_tls_security_level = none',
      // A temporary failure (the full mailbox) bounces at once instead of waiting days.
      'bounce_queue_lifetime = 0',
      'maximal_queue_lifetime = 0',
      'alias_maps =',
      'alias_database =',
      '',
    ].join('\n'),
  );
  const submission = [
    `127.0.0.1:${submissionPort} inet n - n - - smtpd`,
    '  -o smtpd_tls_security_level=encrypt',
    `  -o smtpd_tls_cert_file=${certFile}`,
    `  -o smtpd_tls_key_file=${keyFile}`,
  ].join('\n');
  // The too-small server for big.test; its own name keeps Postfix's loop detection out of it.
  // Its limit, 452, reads like a reply code: the DSN's "exceeds size limit 452" must not become one.
  const small = `127.0.0.1:${smallPort} inet n - n - - smtpd -o message_size_limit=452 -o myhostname=small.big.test`;
  const listeners = [submission, small];
  if (dovecot && authSubmissionPort !== undefined && smtpsPort !== undefined) {
    // Login through Dovecot, and nothing relayed without it; the password only after STARTTLS.
    const login = [
      `  -o smtpd_tls_cert_file=${certFile}`,
      `  -o smtpd_tls_key_file=${keyFile}`,
      '  -o smtpd_sasl_auth_enable=yes',
      '  -o smtpd_sasl_type=dovecot',
      `  -o smtpd_sasl_path=${dovecot.authSocket}`,
      '  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject',
      '  -o smtpd_client_restrictions=',
    ];
    listeners.push(
      [`127.0.0.1:${authSubmissionPort} inet n - n - - smtpd`, '  -o smtpd_tls_security_level=encrypt', '  -o smtpd_tls_auth_only=yes', ...login].join('\n'),
      [`127.0.0.1:${smtpsPort} inet n - n - - smtpd`, '  -o smtpd_tls_wrappermode=yes', ...login].join('\n'),
    );
  }
  if (options.lmtpReinject && reinjectPort !== undefined) {
    // Everything this listener takes goes to the LMTP server, stamped with the receiver's name.
    listeners.push(
      [
        `127.0.0.1:${reinjectPort} inet n - n - - smtpd`,
        `  -o myhostname=${options.lmtpReinject.hostname}`,
        `  -o content_filter=lmtp:inet:[127.0.0.1]:${options.lmtpReinject.lmtpPort}`,
        '  -o smtpd_relay_restrictions=permit_mynetworks,reject',
      ].join('\n'),
    );
  }
  await writeFile(join(etc, 'master.cf'), masterCf(await readFile('/etc/postfix/master.cf', 'utf8'), listeners));
  await chmod(etc, 0o755);

  const log = async () => readFile(join(dir, 'maillog'), 'utf8').catch(() => '');
  try {
    await run(POSTFIX, ['-c', etc, 'start'], { timeout: START_TIMEOUT_MS });
    for (const port of [submissionPort, authSubmissionPort, smtpsPort, reinjectPort]) if (port !== undefined) await waitForPort(port, START_TIMEOUT_MS);
  } catch (err) {
    const text = await log();
    await run(POSTFIX, ['-c', etc, 'abort'], { timeout: STOP_TIMEOUT_MS }).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
    throw new Error(`Postfix did not start: ${err instanceof Error ? err.message : String(err)}\n${text}`);
  }

  return {
    dir,
    submissionPort,
    ...(authSubmissionPort !== undefined ? { authSubmissionPort } : {}),
    ...(smtpsPort !== undefined ? { smtpsPort } : {}),
    ...(reinjectPort !== undefined ? { reinjectPort } : {}),
    caPem: ca.certPem,
    log,
    async stop() {
      await run(POSTFIX, ['-c', etc, 'stop'], { timeout: STOP_TIMEOUT_MS }).catch(() => undefined);
      // The master's pid file outlives it; wait until the process itself is gone.
      const pid = Number((await readFile(join(dir, 'spool', 'pid', 'master.pid'), 'utf8').catch(() => '')).trim());
      const alive = () => {
        if (!(pid > 0)) return false;
        try {
          process.kill(pid, 0);
          return true;
        } catch {
          return false;
        }
      };
      const deadline = Date.now() + STOP_TIMEOUT_MS;
      while (alive() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A plain-text SMTP dialogue on 127.0.0.1:`port`: the greeting, then one reply per command
 * (multi-line replies joined), for checks of what a server refuses before STARTTLS.
 */
export async function plainSession(port: number, commands: readonly string[]): Promise<string[]> {
  const socket = net.connect({ host: '127.0.0.1', port });
  socket.setEncoding('utf8');
  let buffer = '';
  const replies: string[] = [];
  let waiting: (() => void) | null = null;
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    // A reply is complete at a line whose fourth character is a space ("250 ok", not "250-ok").
    let m: RegExpExecArray | null;
    while ((m = /^(?:\d{3}-.*\r?\n)*\d{3}(?: .*)?\r?\n/.exec(buffer))) {
      replies.push(m[0].trim());
      buffer = buffer.slice(m[0].length);
      waiting?.();
    }
  });
  const next = (count: number) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no reply from Postfix; got ${JSON.stringify(replies)}`)), 10_000);
      const check = () => {
        if (replies.length >= count) {
          clearTimeout(timer);
          waiting = null;
          resolve();
        }
      };
      waiting = check;
      check();
    });
  try {
    await next(1);
    for (const [i, command] of commands.entries()) {
      socket.write(`${command}\r\n`);
      await next(i + 2);
    }
    return replies;
  } finally {
    socket.destroy();
  }
}
