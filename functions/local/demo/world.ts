/**
 * The demo world of `npm start`: a small mail world on 127.0.0.1, started and stopped by the
 * command, in which the real local loop runs. Nothing in it leaves this machine.
 *
 * - The provider (demo/provider.ts): submission "587" with STARTTLS (a CA and certificate made at
 *   start) and AUTH, "465" with TLS, a "25" that never answers (OP25B), and a SIZE limit of 5 MB.
 * - Its outbound MTA (demo/relay.ts) relays each canary: `ok@` the bounce domain goes to the
 *   bounce listener (a delivered canary, the round trip); `full@` and `nobody@` a customer
 *   domain go to the customer's mail server, which refuses them (552 5.2.2 mailbox full,
 *   550 5.1.1 user unknown), so the MTA returns RFC 3464 DSNs to the canary's VERP address.
 * - Two accounts: `shop` shows the checklist's four causes in every round; `clinic`'s password
 *   "was changed at the provider": AUTH fails in rounds 1–2 and works from round 3, which with
 *   the default thresholds (2/2) gives one alert (round 2) and its recovery (round 4).
 * - Mail authentication (demo/dns.ts): an embedded DNS server answers for the demo domains and
 *   the provider DKIM-signs clinic's domain; clinic's canaries pass SPF, DKIM and DMARC, shop's
 *   domain still names its old provider in SPF, so from round 2 (its first canary has arrived)
 *   shop shows CANARY_SPF_FAIL, CANARY_DKIM_FAIL and CANARY_DMARC_FAIL with their remedies.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { parseConfig, type Config } from '#core/config.ts';
import type { Language } from '#core/findings.ts';
import type { DnsLookup, Notifier } from '#core/ports.ts';
import type { RoundHooks, TargetSecrets } from '../loop.ts';
import { DEMO_BROKEN_DOMAIN, DEMO_DKIM_SELECTOR, DEMO_DNSBL_ZONE, DEMO_SIGNED_DOMAIN, startDemoDns } from './dns.ts';
import { DEMO_BOUNCE_DOMAIN, DEMO_HOSTNAME, startDemoProvider } from './provider.ts';
import { createDemoRelay } from './relay.ts';
import { demoReportMails } from './reports.ts';

/** The customer domain whose mail server has the full and the unknown mailbox. */
export const DEMO_CUSTOMER_DOMAIN = 'customers.demo.mail-health.test';
/** The customer mail server's name (Remote-MTA in the DSNs). */
export const DEMO_CUSTOMER_MX = `mx.${DEMO_CUSTOMER_DOMAIN}`;
/** The provider's SIZE limit: below the shop's 10 MiB, so SIZE_LIMIT_LOW shows. */
export const DEMO_SIZE_LIMIT = 5 * 1024 * 1024;
/** Seconds between demo rounds. */
export const DEMO_INTERVAL_SECONDS = 10;
/** The round from which the provider accepts clinic's password again. */
export const DEMO_HEALED_ROUND = 3;
/** The round in which receivers' DMARC and TLS reports about the demo domains arrive. */
export const DEMO_REPORT_ROUND = 2;
/** The round whose end completes the demo's story (the recovery). */
export const DEMO_STORY_ROUNDS = 4;

const SHOP_USER = 'shop@demo.mail-health.test';
const CLINIC_USER = 'clinic@demo.mail-health.test';
const HOST = '127.0.0.1';

/** What the world can be asked to do differently (tests). */
export interface DemoWorldOptions {
  readonly language: Language;
  /** The bounce listener the world returns bounces and canaries to; read when mail is relayed. */
  bounceListener(): { readonly host: string; readonly port: number } | null;
  readonly now?: () => Date;
}

/** A running demo world and what the loop needs to run against it. */
export interface DemoWorld {
  /** The config of the demo (two targets, the bounce listener, 10 s rounds). */
  readonly config: Config;
  readonly secrets: Readonly<Record<string, TargetSecrets>>;
  /** Logical port → local port, for the rounds. */
  readonly portOverrides: Readonly<Record<number, number>>;
  /** `host:port` per target, as the terminal shows it. */
  readonly endpoints: Readonly<Record<string, string>>;
  /** Sets the round (clinic's login heals at DEMO_HEALED_ROUND) and waits for the relay. */
  readonly hooks: RoundHooks;
  /** The notifier that captures alerts instead of sending them anywhere. */
  readonly notifiers: readonly Notifier[];
  /** The alerts captured so far (Slack payloads). */
  readonly captured: readonly { readonly text: string }[];
  /** DNS of the demo world only (the embedded server), for the authentication checks. */
  readonly dnsLookup: DnsLookup;
  /**
   * What the demo tells before its first round (`intervalSeconds`: the time between rounds;
   * `rounds`: how many it runs, from `--rounds`/`--once`, or null until Ctrl-C).
   */
  intro(intervalSeconds: number, rounds?: number | null): string[];
  /** What the demo tells at the start of a round of its story (empty after the story). */
  story(round: number): string[];
  /**
   * What the demo tells when its story is complete; `roundsLeft`: how many rounds the run still
   * has (`--rounds`), or null when it goes on until Ctrl-C.
   */
  epilogue(reportPath: string | null, roundsLeft?: number | null): string[];
  close(): Promise<void>;
}

function smtpError(responseCode: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode });
}

/** The customer's mail server: `full` is over quota, `nobody` does not exist, anyone else is fine. */
async function startCustomerMx(): Promise<{ port: number; close(): Promise<void> }> {
  const server = new SMTPServer({
    name: DEMO_CUSTOMER_MX,
    banner: 'customer mail server (demo)',
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    disableReverseLookup: true,
    logger: false,
    closeTimeout: 200,
    onRcptTo(address, _session, callback) {
      const local = address.address.slice(0, address.address.lastIndexOf('@')).toLowerCase();
      if (local === 'full') return callback(smtpError(552, `5.2.2 <${address.address}>: Mailbox full, quota exceeded`));
      if (local === 'nobody') return callback(smtpError(550, `5.1.1 <${address.address}>: Recipient address rejected: User unknown in virtual mailbox table`));
      callback();
    },
    onData(stream, _session, callback) {
      stream.on('data', () => {});
      stream.on('end', () => callback());
    },
  });
  server.on('error', () => {});
  const port = await new Promise<number>((resolve) => server.listen(0, HOST, () => resolve((server.server.address() as AddressInfo).port)));
  return { port, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const TEXT = {
  intro: {
    en: [
      'mail-health demo: the whole loop on this machine, in a small mail world on 127.0.0.1 (nothing leaves it).',
      `  provider  "587" STARTTLS + AUTH (certificate made just now), "465" TLS, a "25" that never answers (OP25B), SIZE limit 5 MB`,
      `  shop      sends its canary to ok@${DEMO_BOUNCE_DOMAIN} (the round trip), full@ and nobody@${DEMO_CUSTOMER_DOMAIN}`,
      '            whose server refuses them, so the provider returns real DSN bounces to the bounce listener',
      '  clinic    its password was just changed at the provider: the login fails until round 3',
      `  DNS       an embedded DNS server answers for the demo domains: clinic's domain passes SPF, DKIM (the provider signs) and DMARC;`,
      `            shop's ${DEMO_BROKEN_DOMAIN} still names its old provider in SPF, which the delivered canary shows`,
      `  reports   in round ${DEMO_REPORT_ROUND}, receivers' DMARC reports arrive at dmarc@${DEMO_BOUNCE_DOMAIN}: shop's newsletter service stopped signing as shop`,
      'A round every %d s; alerts are captured and printed here (no Slack, no email). %s',
    ],
    ja: [
      'mail-health デモ: 127.0.0.1 上の小さなメールの世界で、監視の流れ全体をこのマシンだけで動かします（外部には何も送信しません）。',
      `  プロバイダー  「587」STARTTLS + 認証（証明書は起動時に作成）、「465」TLS、応答しない「25」（OP25B）、サイズ上限 5 MB`,
      `  shop          テストメールを ok@${DEMO_BOUNCE_DOMAIN}（往復確認）と、受信を拒否する full@・nobody@${DEMO_CUSTOMER_DOMAIN} に送信`,
      '                → プロバイダーが本物の DSN（バウンス）をバウンス受信サーバーへ返します',
      '  clinic        プロバイダー側でパスワードが変更されたばかりで、ラウンド 3 まで認証に失敗します',
      '  DNS           デモ用ドメインには組み込み DNS サーバーが応答します。clinic のドメインは SPF・DKIM（プロバイダーが署名）・DMARC に合格し、',
      `                shop の ${DEMO_BROKEN_DOMAIN} は SPF に旧プロバイダーしか記載していないことが、届いたテストメールから分かります`,
      `  レポート      ラウンド ${DEMO_REPORT_ROUND} で受信側の DMARC レポートが dmarc@${DEMO_BOUNCE_DOMAIN} に届きます。shop のメルマガ配信サービスが shop として署名しなくなっています`,
      '%d 秒ごとにチェックします。アラートは Slack やメールに送らず、ここに表示します。%s',
    ],
  },
  story: {
    en: {
      1: 'demo: shop\'s canary goes out; watch the bounces come back. clinic\'s login is refused (1 failed round).',
      2: 'demo: clinic fails again: 2 failed rounds in a row (alerts.failureThreshold) raise an alert. shop\'s first canary arrived unauthenticated: its SPF names only the old provider and nothing signs it (CANARY_SPF_FAIL, CANARY_DKIM_FAIL, CANARY_DMARC_FAIL). Receivers\' DMARC reports arrive too: shop\'s newsletter service passed the day before yesterday and fails yesterday (DMARC_REPORT_FAIL), and a stranger sends as shop (DMARC_REPORT_UNKNOWN_SOURCE).',
      3: 'demo: the provider now accepts clinic\'s password (someone fixed it): 1 good round. shop fails authentication for the 2nd round in a row: an alert.',
      4: 'demo: a second good round for clinic (alerts.recoveryThreshold) → recovered.',
    },
    ja: {
      1: 'デモ: shop のテストメールを送信します。返ってくるバウンスに注目してください。clinic は認証を拒否されます（失敗 1 回目）。',
      2: 'デモ: clinic が再び失敗し、2 回連続（alerts.failureThreshold）でアラートを送ります。shop の最初のテストメールは認証なしで届きました。SPF には旧プロバイダーしか記載がなく、DKIM 署名もありません（CANARY_SPF_FAIL、CANARY_DKIM_FAIL、CANARY_DMARC_FAIL）。受信側の DMARC レポートも届きます。shop のメルマガ配信サービスは一昨日は合格し、昨日は失敗しています（DMARC_REPORT_FAIL）。見知らぬ送信元も shop を名乗っています（DMARC_REPORT_UNKNOWN_SOURCE）。',
      3: 'デモ: プロバイダーが clinic のパスワードを受け付けるようになりました（修正済み）。正常 1 回目です。shop は 2 回連続で認証に失敗し、アラートを送ります。',
      4: 'デモ: clinic が 2 回連続で正常（alerts.recoveryThreshold）になり、復旧を通知します。',
    },
  },
  epilogue: {
    en: [
      'demo: that was the whole story: the four causes of the checklist (PORT25_BLOCKED, BOUNCE_MAILBOX_FULL, BOUNCE_INVALID_ADDRESS, SIZE_LIMIT_LOW), mail that Gmail and Yahoo would refuse as unauthenticated (CANARY_SPF_FAIL), a sender of shop\'s own mail failing DMARC in receivers\' reports (DMARC_REPORT_FAIL), an alert and its recovery.',
      '%s Open the report: %s',
    ],
    ja: [
      'デモ: 以上です。チェックリストの 4 つの原因（PORT25_BLOCKED、BOUNCE_MAILBOX_FULL、BOUNCE_INVALID_ADDRESS、SIZE_LIMIT_LOW）の診断、Gmail や Yahoo が認証なしとして拒否するメール（CANARY_SPF_FAIL）、受信側のレポートに現れた自社メールの DMARC 失敗（DMARC_REPORT_FAIL）、アラートおよび復旧をお見せしました。',
      '%s レポート: %s',
    ],
  },
  // How long the run goes on, as the intro and the epilogue say it (%d: rounds).
  stops: {
    en: { never: 'Ctrl-C stops.', after: 'It stops by itself after %d rounds (--rounds); Ctrl-C stops sooner.', once: 'One round (--once), then it stops.' },
    ja: { never: 'Ctrl-C で停止します。', after: '%d ラウンドで自動的に停止します（--rounds）。Ctrl-C でそれより前に停止できます。', once: '1 ラウンド（--once）で停止します。' },
  },
  goesOn: {
    en: { forever: 'demo: the loop goes on like a real monitor (Ctrl-C stops).', more: 'demo: the loop goes on like a real monitor for %d more round(s), then stops (--rounds).', last: 'demo: that was the last round (--rounds): the run stops once the mail of this round is back.' },
    ja: { forever: 'デモ: この後も実際の監視と同じようにチェックを続けます（Ctrl-C で停止）。', more: 'デモ: この後 %d ラウンド、実際の監視と同じようにチェックを続けてから停止します（--rounds）。', last: 'デモ: これが最後のラウンドです（--rounds）。このラウンドのメールが戻ったら停止します。' },
  },
} as const;

/**
 * Starts the demo world.
 * @example
 * let runtime; const world = await startDemoWorld({ language: 'en', bounceListener: () => runtime?.listener ?? null });
 * runtime = await createLocalRuntime({ config: world.config, secrets: world.secrets, portOverrides: world.portOverrides, listenerPort: 0, … });
 */
export async function startDemoWorld(options: DemoWorldOptions): Promise<DemoWorld> {
  const lang = options.language;
  const shopPassword = randomBytes(12).toString('base64url');
  const clinicPassword = randomBytes(12).toString('base64url');
  let round = 0;
  const customer = await startCustomerMx();
  // The relay delivers from 127.0.0.1: the sending server the bounce listener's Received header shows.
  const dns = await startDemoDns({ providerName: DEMO_HOSTNAME, sendingIp: HOST, mxName: `mx.${DEMO_SIGNED_DOMAIN}` });
  const relay = createDemoRelay({
    hostname: DEMO_HOSTNAME,
    prepare: (m) => dns.sign(m.raw),
    ...(options.now ? { now: options.now } : {}),
    route(domain) {
      if (domain === DEMO_CUSTOMER_DOMAIN) return { host: HOST, port: customer.port, name: DEMO_CUSTOMER_MX };
      if (domain === DEMO_BOUNCE_DOMAIN) {
        const listener = options.bounceListener();
        return listener ? { host: listener.host, port: listener.port, name: `mx.${DEMO_BOUNCE_DOMAIN}` } : null;
      }
      return null;
    },
  });
  const provider = await startDemoProvider({
    user: SHOP_USER,
    password: shopPassword,
    sizeLimit: DEMO_SIZE_LIMIT,
    onMessage: (m) => relay.relay(m),
    smtpOptions: {
      onAuth(auth, _session, callback) {
        if (auth.username === SHOP_USER && auth.password === shopPassword) return callback(null, { user: SHOP_USER });
        if (auth.username === CLINIC_USER && auth.password === clinicPassword && round >= DEMO_HEALED_ROUND) return callback(null, { user: CLINIC_USER });
        callback(smtpError(535, '5.7.8 Authentication credentials invalid'));
      },
    },
  });

  const common = {
    host: HOST,
    servername: DEMO_HOSTNAME,
    port: 587,
    tls: 'starttls',
    // The silent "25" costs one probe timeout per round; the rest answers within milliseconds.
    timeouts: { connectMs: 5_000, stepMs: 10_000, probeMs: 1_500 },
  };
  const config = parseConfig({
    language: lang,
    bounceDomain: DEMO_BOUNCE_DOMAIN,
    targets: [
      {
        ...common,
        name: 'shop',
        auth: { user: SHOP_USER, passwordEnv: 'MAILHEALTH_DEMO_SHOP_PASSWORD' },
        // The shop's own domain, whose DNS was not updated for this provider (demo/dns.ts).
        from: `shop@${DEMO_BROKEN_DOMAIN}`,
        to: [`ok@${DEMO_BOUNCE_DOMAIN}`, `full@${DEMO_CUSTOMER_DOMAIN}`, `nobody@${DEMO_CUSTOMER_DOMAIN}`],
        probePorts: [25, 587, 465],
        maxMessageBytes: 10 * 1024 * 1024,
      },
      {
        ...common,
        name: 'clinic',
        auth: { user: CLINIC_USER, passwordEnv: 'MAILHEALTH_DEMO_CLINIC_PASSWORD' },
        from: CLINIC_USER,
        to: [`ok@${DEMO_BOUNCE_DOMAIN}`],
        dkimSelectors: [DEMO_DKIM_SELECTOR],
        probePorts: [587],
        maxMessageBytes: 2 * 1024 * 1024,
      },
    ],
    dnsbl: [DEMO_DNSBL_ZONE],
    local: { intervalSeconds: DEMO_INTERVAL_SECONDS, bounceListener: { host: HOST, port: 2525 } },
  });

  const captured: { text: string }[] = [];
  const capture: Notifier = {
    channel: 'slack',
    async send(message) {
      captured.push({ text: message.text });
    },
  };
  const endpoint = `${HOST}:587 → :${provider.ports[587]}`;

  return {
    config,
    secrets: {
      shop: { password: shopPassword, ca: provider.caPem },
      clinic: { password: clinicPassword, ca: provider.caPem },
    },
    portOverrides: provider.ports,
    endpoints: { shop: endpoint, clinic: endpoint },
    hooks: {
      beforeRound(n) {
        round = n;
      },
      afterSend: async () => {
        // Receivers' reports about the demo domains come in once, with the canaries of this round:
        // the older day's first (it is what makes shop's newsletter service a known sender).
        if (round === DEMO_REPORT_ROUND) {
          const [older, ...rest] = demoReportMails({ now: options.now?.() ?? new Date(), bounceDomain: DEMO_BOUNCE_DOMAIN, shopDomain: DEMO_BROKEN_DOMAIN, clinicDomain: DEMO_SIGNED_DOMAIN });
          relay.relay(older!);
          await relay.settled();
          for (const m of rest) relay.relay(m);
        }
        return relay.settled();
      },
    },
    notifiers: [capture],
    captured,
    dnsLookup: dns.lookup,
    intro: (seconds, rounds = null) => {
      const stops = TEXT.stops[lang];
      const how = rounds === null ? stops.never : rounds === 1 ? stops.once : stops.after.replace('%d', String(rounds));
      return TEXT.intro[lang].map((l) => l.replace('%d', String(seconds)).replace('%s', how));
    },
    story: (n) => {
      const line = (TEXT.story[lang] as Record<number, string>)[n];
      return line ? [line] : [];
    },
    epilogue: (reportPath, roundsLeft = null) => {
      const goesOn = TEXT.goesOn[lang];
      const how = roundsLeft === null ? goesOn.forever : roundsLeft === 0 ? goesOn.last : goesOn.more.replace('%d', String(roundsLeft));
      const [story, last] = TEXT.epilogue[lang];
      return [story, last.replace('%s', how).replace('%s', reportPath ?? '')];
    },
    async close() {
      await relay.settled();
      await Promise.all([provider.close(), customer.close(), dns.close()]);
    },
  };
}
