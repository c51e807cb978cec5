/**
 * A private Dovecot instance on loopback for the end-to-end tests, the mailbox side of the
 * provider: SASL for Postfix's submission (`smtpd_sasl_type = dovecot`, over a UNIX socket in
 * the instance's own directory) and LMTP delivery into maildirs with a real quota, checked at
 * RCPT (`lmtp_rcpt_check_quota`), so a full mailbox is refused by Dovecot itself.
 * Everything lives in one temporary directory; the master runs in the foreground as a child of
 * the test (stopped by its pid), listening only on 127.0.0.1.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort, waitForPort } from './postfix.ts';

const DOVECOT = '/usr/sbin/dovecot';
const LMTP = '/usr/lib/dovecot/lmtp';
// The master forks its services and opens its listeners within a second or two.
const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 10_000;
/** The unprivileged owner of the maildirs (Dovecot refuses root as mail user). */
const MAIL_USER = 'nobody';
const MAIL_GROUP = 'nogroup';

/** Why the Dovecot tests cannot run here, or null when they can. */
export function dovecotUnavailable(): string | null {
  if (!existsSync(DOVECOT)) return `${DOVECOT} is not installed (.ci/run installs Debian's dovecot-core)`;
  if (!existsSync(LMTP)) return `${LMTP} is not installed (.ci/run installs Debian's dovecot-lmtpd)`;
  if (process.getuid?.() !== 0) return 'a private Dovecot instance needs root (it drops to its own users for each service)';
  for (const user of ['dovecot', 'dovenull', MAIL_USER]) {
    try {
      execFileSync('id', ['-u', user]);
    } catch {
      return `there is no ${user} user`;
    }
  }
  try {
    execFileSync('getent', ['group', MAIL_GROUP]);
  } catch {
    return `there is no ${MAIL_GROUP} group`;
  }
  return null;
}

/** Why the Dovecot IMAP and Sieve tests cannot run here, or null when they can. */
export function dovecotImapUnavailable(): string | null {
  const base = dovecotUnavailable();
  if (base) return base;
  if (!existsSync('/usr/lib/dovecot/imap')) return "/usr/lib/dovecot/imap is not installed (.ci/run installs Debian's dovecot-imapd)";
  if (!existsSync('/usr/lib/dovecot/modules/lib90_sieve_plugin.so')) return "Pigeonhole Sieve is not installed (.ci/run installs Debian's dovecot-sieve)";
  return null;
}

/** One account: a login for SASL and a mailbox for LMTP. */
export interface DovecotUser {
  /** The full address, also the login name. */
  readonly address: string;
  readonly password: string;
  /** Dovecot's quota rule for this mailbox, e.g. `*:storage=1K`. @default the instance's 10M */
  readonly quota?: string;
  /** Bytes of old mail already in the mailbox before the start (to be over a small quota). */
  readonly prefillBytes?: number;
  /** Small messages already in the inbox before the start (a big mailbox; one maildir file each). */
  readonly prefillMessages?: number;
}

/** IMAP for the seed tests: TLS, a \Junk folder, Sieve before delivery, OAuth 2.0 logins. */
export interface DovecotImapOptions {
  /** The server certificate of the implicit-TLS listener (PEM). */
  readonly certPem: string;
  readonly keyPem: string;
  /** A Sieve script every LMTP delivery runs first (Pigeonhole `sieve_before`). */
  readonly sieveBefore?: string;
  /** OAuth 2.0 (XOAUTH2, OAUTHBEARER): access tokens checked at this RFC 7662 introspection URL (POST). */
  readonly oauth2IntrospectionUrl?: string;
}

/** A running instance. */
export interface DovecotInstance {
  readonly dir: string;
  /** The SASL socket for Postfix (`smtpd_sasl_path`). */
  readonly authSocket: string;
  /** The LMTP listener on 127.0.0.1. */
  readonly lmtpPort: number;
  /** With `imap`: the implicit-TLS IMAP listener, and a plain one (for a test's recording TLS front). */
  readonly imapsPort?: number;
  readonly imapPort?: number;
  /** The messages delivered to a mailbox (its maildir's new/ and cur/), as text. */
  messages(address: string): Promise<string[]>;
  /** Dovecot's log, for a failing test's message. */
  log(): Promise<string>;
  stop(): Promise<void>;
}

function idOf(flag: '-u' | '-g', name: string): number {
  return Number(execFileSync('id', [flag, name]).toString().trim());
}

/**
 * Writes a private instance's configuration and starts its master in the foreground.
 * @param options.hostname the name Dovecot gives in its LMTP replies (and DSNs quote)
 */
export async function startDovecot(options: { readonly users: readonly DovecotUser[]; readonly hostname: string; readonly imap?: DovecotImapOptions }): Promise<DovecotInstance> {
  const uid = idOf('-u', MAIL_USER);
  const gid = Number(execFileSync('getent', ['group', MAIL_GROUP]).toString().split(':')[2]);
  // Short path: UNIX socket paths are limited to about 100 bytes.
  const dir = await mkdtemp('/tmp/mhdc-');
  await chmod(dir, 0o755);
  const mail = join(dir, 'mail');
  for (const d of ['run', 'state', 'mail']) await mkdir(join(dir, d), { recursive: true });
  await chown(mail, uid, gid);
  const lmtpPort = await freePort();
  const imap = options.imap;
  const [imapsPort, imapPort] = imap ? [await freePort(), await freePort()] : [undefined, undefined];
  const authSocket = join(dir, 'run', 'auth-postfix');

  // passwd-file: user:password:uid:gid:gecos:home:shell:extra fields (userdb_ ones for the mailbox).
  const lines = options.users.map((u) => `${u.address}:{PLAIN}${u.password}::::::${u.quota ? `userdb_quota_rule=${u.quota}` : ''}`);
  // Readable by the auth process only, which runs as the dovecot user.
  await writeFile(join(dir, 'users'), `${lines.join('\n')}\n`, { mode: 0o600 });
  await chown(join(dir, 'users'), idOf('-u', 'dovecot'), idOf('-g', 'dovecot'));

  for (const u of options.users) {
    if (!u.prefillMessages) continue;
    const home = join(mail, u.address);
    for (const d of ['', 'cur', 'new', 'tmp']) {
      await mkdir(join(home, d), { recursive: true });
      await chown(join(home, d), uid, gid);
    }
    // One small message a file, written in batches; the names carry their size (S=) like Dovecot's.
    const batch = 2_000;
    for (let start = 0; start < u.prefillMessages; start += batch) {
      const writes: Promise<void>[] = [];
      for (let i = start; i < Math.min(start + batch, u.prefillMessages); i++) {
        const body = `From: sender${i % 97}@example.org\r\nSubject: message ${i}\r\nMessage-ID: <m${i}@example.org>\r\n\r\nold mail ${i}\r\n`;
        writes.push(writeFile(join(home, 'cur', `${1700000000 + i}.M${i}P1.prefill,S=${Buffer.byteLength(body)}:2,S`), body));
      }
      await Promise.all(writes);
    }
    execFileSync('chown', ['-R', `${uid}:${gid}`, home]);
  }

  for (const u of options.users) {
    if (!u.prefillBytes) continue;
    // Old mail in the maildir: the maildir++ quota counts it when it first recalculates.
    const home = join(mail, u.address);
    for (const d of ['', 'cur', 'new', 'tmp']) {
      await mkdir(join(home, d), { recursive: true });
      await chown(join(home, d), uid, gid);
    }
    const body = `From: filler@provider.test\r\nSubject: old mail\r\n\r\n${'x'.repeat(u.prefillBytes)}\r\n`;
    const file = join(home, 'cur', `1700000000.M1P1.filler,S=${Buffer.byteLength(body)}:2,S`);
    await writeFile(file, body);
    await chown(file, uid, gid);
  }

  let imapConfig: string[] = [];
  if (imap && imapsPort !== undefined && imapPort !== undefined) {
    await writeFile(join(dir, 'imap-cert.pem'), imap.certPem);
    await writeFile(join(dir, 'imap-key.pem'), imap.keyPem, { mode: 0o600 });
    const sieveDir = join(dir, 'sieve');
    await mkdir(sieveDir, { recursive: true });
    if (imap.sieveBefore) await writeFile(join(sieveDir, 'before.sieve'), imap.sieveBefore);
    // LMTP compiles the script as the mail user on first use.
    await chown(sieveDir, uid, gid);
    if (imap.sieveBefore) await chown(join(sieveDir, 'before.sieve'), uid, gid);
    if (imap.oauth2IntrospectionUrl) {
      await writeFile(
        join(dir, 'oauth2.conf'),
        [`introspection_mode = post`, `introspection_url = ${imap.oauth2IntrospectionUrl}`, 'force_introspection = yes', 'username_attribute = username', 'active_attribute = active', 'active_value = true', ''].join('\n'),
      );
    }
    imapConfig = [
      'ssl = yes',
      `ssl_cert = <${dir}/imap-cert.pem`,
      `ssl_key = <${dir}/imap-key.pem`,
      'namespace inbox {',
      '  inbox = yes',
      '  separator = /',
      '  mailbox Junk {',
      '    special_use = \\Junk',
      '    auto = create',
      '  }',
      '  mailbox Trash {',
      '    special_use = \\Trash',
      '    auto = create',
      '  }',
      '}',
      'service imap-login {',
      '  inet_listener imap {',
      '    address = 127.0.0.1',
      `    port = ${imapPort}`,
      '  }',
      '  inet_listener imaps {',
      '    address = 127.0.0.1',
      `    port = ${imapsPort}`,
      '    ssl = yes',
      '  }',
      '}',
      ...(imap.sieveBefore ? ['protocol lmtp {', '  mail_plugins = $mail_plugins sieve', '}', 'plugin {', `  sieve_before = ${sieveDir}/before.sieve`, '}'] : []),
      ...(imap.oauth2IntrospectionUrl ? ['passdb {', '  driver = oauth2', '  mechanisms = xoauth2 oauthbearer', `  args = ${dir}/oauth2.conf`, '}'] : []),
    ];
  }

  const config = [
    `base_dir = ${dir}/run`,
    `state_dir = ${dir}/state`,
    `instance_name = ${dir.slice(dir.lastIndexOf('/') + 1)}`,
    `log_path = ${dir}/dovecot.log`,
    `hostname = ${options.hostname}`,
    `protocols = lmtp${imap ? ' imap' : ''}`,
    'listen = 127.0.0.1',
    ...(imap ? [] : ['ssl = no']),
    'default_internal_user = dovecot',
    'default_login_user = dovenull',
    `auth_mechanisms = plain login${imap?.oauth2IntrospectionUrl ? ' xoauth2 oauthbearer' : ''}`,
    // Debian's defaults refuse plaintext AUTH without TLS; Postfix talks to this socket locally
    // after its own STARTTLS, so the client's TLS is Postfix's business here.
    'disable_plaintext_auth = no',
    `mail_location = maildir:${mail}/%u`,
    `mail_uid = ${uid}`,
    `mail_gid = ${gid}`,
    'first_valid_uid = 1',
    'mail_plugins = quota',
    'lmtp_rcpt_check_quota = yes',
    'passdb {',
    '  driver = passwd-file',
    ...(imap?.oauth2IntrospectionUrl ? ['  mechanisms = plain login'] : []),
    `  args = scheme=PLAIN username_format=%u ${dir}/users`,
    '}',
    ...imapConfig,
    'userdb {',
    '  driver = passwd-file',
    `  args = username_format=%u ${dir}/users`,
    `  default_fields = home=${mail}/%u`,
    '}',
    'plugin {',
    '  quota = maildir:User quota',
    '  quota_rule = *:storage=10M',
    '}',
    'service auth {',
    '  unix_listener auth-postfix {',
    '    mode = 0666',
    '  }',
    '}',
    'service lmtp {',
    '  inet_listener lmtp {',
    '    address = 127.0.0.1',
    `    port = ${lmtpPort}`,
    '  }',
    '}',
    '',
  ].join('\n');
  const conf = join(dir, 'dovecot.conf');
  await writeFile(conf, config);

  const log = async () => readFile(join(dir, 'dovecot.log'), 'utf8').catch(() => '');
  const master: ChildProcess = spawn(DOVECOT, ['-F', '-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  master.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const exited = new Promise<void>((resolve) => master.once('exit', () => resolve()));
  const stopMaster = async () => {
    if (master.exitCode === null && master.signalCode === null) master.kill('SIGTERM');
    const timer = new Promise<void>((resolve) => setTimeout(resolve, STOP_TIMEOUT_MS).unref());
    await Promise.race([exited, timer]);
  };
  try {
    await Promise.race([
      waitForPort(lmtpPort, START_TIMEOUT_MS),
      exited.then(() => {
        throw new Error(`dovecot exited at start: ${stderr}`);
      }),
    ]);
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (!existsSync(authSocket)) {
      if (Date.now() > deadline) throw new Error(`no SASL socket at ${authSocket}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (err) {
    const text = await log();
    await stopMaster();
    await rm(dir, { recursive: true, force: true });
    throw new Error(`Dovecot did not start: ${err instanceof Error ? err.message : String(err)}\n${stderr}\n${text}`);
  }

  if (imapsPort !== undefined) await waitForPort(imapsPort, START_TIMEOUT_MS);
  return {
    dir,
    authSocket,
    lmtpPort,
    ...(imapsPort !== undefined ? { imapsPort } : {}),
    ...(imapPort !== undefined ? { imapPort } : {}),
    async messages(address) {
      const out: string[] = [];
      for (const sub of ['new', 'cur']) {
        const folder = join(mail, address, sub);
        const names = await readdir(folder).catch(() => [] as string[]);
        for (const name of names) out.push(await readFile(join(folder, name), 'utf8'));
      }
      return out;
    },
    log,
    async stop() {
      await stopMaster();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
