/**
 * The inbox placement findings, worded for the person who runs the shop, in English and
 * Japanese: where the canary landed at a seed, what the receiver said about its authentication,
 * and what to do. The verdicts decide (verdict.ts); these only word them.
 */
import type { Finding, Localized, Severity } from '../findings.ts';
import { relaxedAligned } from '../auth/canary.ts';
import type { ReceiverAuth } from './auth-results.ts';
import type { PlacementRecord } from './verdict.ts';

/** What the placement findings of a record need besides it. */
export interface PlacementContext {
  /** The domain of the target's `from` (whose mail it is). */
  readonly fromDomain: string;
  /** The seed's provider (providers.ts), for provider-specific advice; null when unknown. */
  readonly provider: string | null;
  /** Seconds above which an arrival is PLACEMENT_SLOW. */
  readonly slowSeconds: number;
  /** The blocklists the sending server is listed on, when the round checked it (null: not known). */
  readonly listedOn?: readonly string[] | null;
}

const FAILED = new Set(['fail', 'softfail', 'permerror', 'policy', 'neutral']);

/** The receiver's checks that failed for the shop's own domain (an SPF verdict about the bounce domain does not count). */
export function receiverFailures(auth: ReceiverAuth, fromDomain: string): ('spf' | 'dkim' | 'dmarc')[] {
  const out: ('spf' | 'dkim' | 'dmarc')[] = [];
  if (auth.dmarc === 'fail') out.push('dmarc');
  if (auth.dkim !== undefined && (FAILED.has(auth.dkim) || auth.dkim === 'none')) out.push('dkim');
  const spfAboutFrom = auth.spfDomain === undefined || relaxedAligned(auth.spfDomain, fromDomain);
  if (auth.spf !== undefined && FAILED.has(auth.spf) && spfAboutFrom) out.push('spf');
  return out;
}

function where(r: PlacementRecord): string {
  return `${r.seed} (${r.address})`;
}

const PROVIDER_TOOLS: Localized = {
  en: "the providers' sender tools (Google Postmaster Tools, Microsoft SNDS, Yahoo Sender Hub) show your domain's and server's reputation",
  ja: '各社の送信者向けツール（Google Postmaster Tools、Microsoft SNDS、Yahoo Sender Hub）でドメインと送信サーバーの評価を確認できます',
};

function authSummary(auth: ReceiverAuth | undefined): string {
  if (!auth) return '';
  const parts = (['spf', 'dkim', 'dmarc', 'arc'] as const).filter((m) => auth[m] !== undefined).map((m) => `${m}=${auth[m]}`);
  return parts.join(' ');
}

function spamFinding(r: PlacementRecord, ctx: PlacementContext): Finding {
  const auth = r.receiverAuth;
  const fails = auth ? receiverFailures(auth, ctx.fromDomain) : [];
  const said = auth ? ` The receiver's own verdict: ${authSummary(auth)}.` : '';
  const saidJa = auth ? `受信側自身の判定: ${authSummary(auth)}。` : '';
  const bounceSpf = auth?.spfDomain !== undefined && !relaxedAligned(auth.spfDomain, ctx.fromDomain) && auth.spf !== undefined && auth.spf !== 'pass';
  const listed = ctx.listedOn && ctx.listedOn.length > 0 ? ctx.listedOn : null;
  let remedy: Localized;
  if (fails.length > 0) {
    remedy = {
      en: `Fix the authentication first: the receiver says ${fails.join(', ')} failed for ${ctx.fromDomain} (see PLACEMENT_AUTH_FAIL for which record). Mail that fails DMARC goes to spam or is refused at Gmail, Outlook and Yahoo whatever its content.`,
      ja: `まず認証を直してください。受信側は ${ctx.fromDomain} の ${fails.join('、')} を失敗と判定しています（どのレコードを直すかは PLACEMENT_AUTH_FAIL を参照）。DMARC に失敗したメールは、内容にかかわらず Gmail・Outlook・Yahoo で迷惑メール扱いまたは受信拒否になります。`,
    };
  } else {
    const blocklist = listed
      ? { en: ` The sending server is listed on ${listed.join(', ')}: ask for delisting first.`, ja: `送信サーバーが ${listed.join('、')} に登録されています。まず登録解除を申請してください。` }
      : { en: ' Check the sending server against blocklists (mailhealth dns --ip ADDRESS).', ja: '送信サーバーがブラックリストに載っていないか確認してください（mailhealth dns --ip アドレス）。' };
    remedy = {
      en: `Authentication passed, so the receiver judged your reputation or content.${blocklist.en} Then: ${PROVIDER_TOOLS.en}; send steadily rather than in bursts, only to people who asked for your mail, with a one-click unsubscribe for bulk mail; avoid link shorteners, image-only mail and attachments in order mails. Ask the seed's owner to mark the canary "Not spam" only as a test: it teaches the filter for that mailbox alone.`,
      ja: `認証には合格しているため、受信側は送信者の評価（レピュテーション）または内容で判断しています。${blocklist.ja}そのうえで、${PROVIDER_TOOLS.ja}。一度に大量に送らず一定のペースで、希望した相手にだけ送り、一斉配信には ワンクリック登録解除を付けてください。注文メールでは短縮 URL、画像だけのメール、添付ファイルを避けてください。シードで「迷惑メールではない」を押すのはそのメールボックスにしか効かないため、確認用にとどめてください。`,
    };
  }
  const envelope: Localized = bounceSpf
    ? {
        en: ` (SPF was checked for the canary's envelope sender at ${auth!.spfDomain}, the bounce domain: ${auth!.spf}. Your own mail does not have that envelope; list your provider in the bounce domain's SPF so the canary is judged like your mail.)`,
        ja: `（SPF はテストメールのエンベロープ送信者 ${auth!.spfDomain}（バウンス用ドメイン）について判定され、${auth!.spf} でした。通常のメールにはないものです。テストメールが通常のメールと同じ条件で判定されるよう、バウンス用ドメインの SPF にもプロバイダーを記載してください。）`,
      }
    : { en: '', ja: '' };
  return {
    code: 'PLACEMENT_SPAM',
    severity: 'critical',
    recipient: r.address,
    message: {
      en: `The canary landed in the spam folder (${r.folder ?? 'spam'}) of the seed ${where(r)}: customers at this provider find your mail among spam, or never see it.${said}${envelope.en}`,
      ja: `テストメールがシード ${where(r)} の迷惑メールフォルダー（${r.folder ?? 'spam'}）に入りました。このプロバイダーを使うお客様には、メールが迷惑メールとして扱われているか、気づかれていない可能性があります。${saidJa}${envelope.ja}`,
    },
    remedy,
  };
}

function missingFinding(r: PlacementRecord, timeoutMinutes: number, ctx: PlacementContext): Finding {
  const ms: Localized =
    ctx.provider === 'microsoft'
      ? { en: ' Outlook.com sometimes accepts mail from a sender it distrusts and drops it without a bounce.', ja: 'Outlook.com は信用していない送信者のメールを受け付けたうえで、返送せずに破棄することがあります。' }
      : { en: '', ja: '' };
  return {
    code: 'PLACEMENT_MISSING',
    severity: 'critical',
    recipient: r.address,
    message: {
      en: `The canary was accepted by your provider but was in neither the inbox nor the spam folder of the seed ${where(r)} within ${timeoutMinutes} minutes, and no bounce came back.${ms.en}`,
      ja: `テストメールはプロバイダーに受け付けられましたが、${timeoutMinutes} 分以内にシード ${where(r)} の受信トレイにも迷惑メールフォルダーにも届かず、返送もありませんでした。${ms.ja}`,
    },
    remedy: {
      en: `Look for Message-ID <${r.canaryId}@mail-health> in your provider's sending log: a deferral (4xx) from ${r.address.slice(r.address.indexOf('@') + 1)} means the receiver is slowing you down, usually for reputation; no trace means the provider held it. Check that no filter or forwarding rule in the seed mailbox moves mail elsewhere. ${PROVIDER_TOOLS.en[0]!.toUpperCase()}${PROVIDER_TOOLS.en.slice(1)}.`,
      ja: `プロバイダーの送信ログで Message-ID <${r.canaryId}@mail-health> を探してください。${r.address.slice(r.address.indexOf('@') + 1)} から一時エラー（4xx）が返っていれば、受信側が主に評価を理由に受信を遅らせています。記録がなければプロバイダー側で止まっています。シードのメールボックスに、メールを別の場所へ移すフィルターや転送設定がないかも確認してください。${PROVIDER_TOOLS.ja}。`,
    },
  };
}

const METHOD_FIX: Record<'spf' | 'dkim' | 'dmarc', (d: string) => Localized> = {
  spf: (d) => ({
    en: `SPF: add your provider's sending servers to the SPF record of ${d} (one TXT record "v=spf1 include:<your provider's SPF domain> -all"; mailhealth dns ${d} shows the record as published).`,
    ja: `SPF: ${d} の SPF レコードにプロバイダーの送信サーバーを追加してください（TXT レコード「v=spf1 include:<事業者の SPF 用ドメイン> -all」を 1 つ。公開中の内容は mailhealth dns ${d} で確認できます）。`,
  }),
  dkim: (d) => ({
    en: `DKIM: have your provider sign with d=${d} (turn on DKIM signing in its control panel and publish the selector's public key as the TXT record it gives, <selector>._domainkey.${d}).`,
    ja: `DKIM: プロバイダーの管理画面で DKIM 署名を有効にし、d=${d} で署名させてください。表示される公開鍵を TXT レコード <セレクター>._domainkey.${d} として公開します。`,
  }),
  dmarc: (d) => ({
    en: `DMARC: it passes when SPF or DKIM passes for ${d} itself (aligned). A DKIM signature with d=${d} is the sure way, since forwarding breaks SPF.`,
    ja: `DMARC: ${d} 自身について（アライメントして）SPF か DKIM が合格すれば合格します。転送で SPF は失敗するため、d=${d} の DKIM 署名が確実です。`,
  }),
};

function authFailFinding(r: PlacementRecord, fails: readonly ('spf' | 'dkim' | 'dmarc')[], ctx: PlacementContext): Finding {
  const auth = r.receiverAuth!;
  const severity: Severity = fails.includes('dmarc') ? 'critical' : 'warning';
  const policy = auth.dmarcPolicy ? ` (p=${auth.dmarcPolicy})` : '';
  const fixes = fails.map((m) => METHOD_FIX[m](ctx.fromDomain));
  return {
    code: 'PLACEMENT_AUTH_FAIL',
    severity,
    recipient: r.address,
    message: {
      en: `The receiver of the seed ${where(r)} (${auth.authservId}) says ${fails.join(', ')} failed for ${ctx.fromDomain}${policy}: ${authSummary(auth)}. The receiver's own verdict outranks the monitor's check: this is what decides where your mail lands there.`,
      ja: `シード ${where(r)} の受信側（${auth.authservId}）は ${ctx.fromDomain} の ${fails.join('、')} を失敗と判定しました${policy}: ${authSummary(auth)}。監視側の確認より受信側自身の判定が優先されます。このプロバイダーでメールがどこに届くかは、この判定で決まります。`,
    },
    remedy: { en: fixes.map((f) => f.en).join(' '), ja: fixes.map((f) => f.ja).join('') },
  };
}

function slowFinding(r: PlacementRecord, ctx: PlacementContext): Finding {
  const minutes = Math.round((r.seconds ?? 0) / 60);
  return {
    code: 'PLACEMENT_SLOW',
    severity: 'warning',
    recipient: r.address,
    message: {
      en: `The canary took ${r.seconds} s (about ${minutes} min) from your provider to the seed ${where(r)}, more than ${ctx.slowSeconds} s: password resets and one-time codes arrive too late.`,
      ja: `テストメールがプロバイダーからシード ${where(r)} に届くまで ${r.seconds} 秒（約 ${minutes} 分）かかりました（基準 ${ctx.slowSeconds} 秒）。パスワード再設定や確認コードのメールが遅れて届きます。`,
    },
    remedy: {
      en: `Look up Message-ID <${r.canaryId}@mail-health> in your provider's sending log: deferrals (4xx, "try again later") from the receiver mean it is rate-limiting you, usually for reputation or volume; a long wait before the first attempt means your provider's queue is slow: ask them.`,
      ja: `プロバイダーの送信ログで Message-ID <${r.canaryId}@mail-health> を確認してください。受信側からの一時エラー（4xx、"try again later"）は、主に評価や送信量を理由とした受信制限です。最初の送信までに時間がかかっている場合はプロバイダーの送信キューが遅れているため、問い合わせてください。`,
    },
  };
}

/**
 * The findings of one decided record: PLACEMENT_SPAM, PLACEMENT_MISSING, PLACEMENT_AUTH_FAIL
 * (the receiver says a check failed for the shop's own domain), PLACEMENT_SLOW. A refused seed
 * raises none here (its RCPT refusal or bounce has its own finding), nor does a pending or
 * unreadable one (the seed's login problem is reported once, by seed: `seedLoginFinding`).
 * @example placementFindings(record, 15, { fromDomain: 'example.jp', provider: 'gmail', slowSeconds: 300 }).map((f) => f.code)
 */
export function placementFindings(r: PlacementRecord, timeoutMinutes: number, ctx: PlacementContext): Finding[] {
  const out: Finding[] = [];
  if (r.verdict === 'spam') out.push(spamFinding(r, ctx));
  if (r.verdict === 'missing') out.push(missingFinding(r, timeoutMinutes, ctx));
  if ((r.verdict === 'inbox' || r.verdict === 'spam' || r.verdict === 'other') && r.receiverAuth) {
    const fails = receiverFailures(r.receiverAuth, ctx.fromDomain);
    if (fails.length > 0) out.push(authFailFinding(r, fails, ctx));
  }
  if (r.seconds !== null && r.seconds > ctx.slowSeconds) out.push(slowFinding(r, ctx));
  return out;
}

/** Why a seed could not be read. */
export type SeedFailureKind = 'auth' | 'token' | 'connect' | 'tls' | 'timeout' | 'protocol' | 'secret';

const LOGIN_HELP: Record<string, Localized> = {
  gmail: {
    en: 'At Gmail: an app password needs 2-Step Verification on the account (Google Account → Security → App passwords), and IMAP must be on (Gmail settings → Forwarding and POP/IMAP); an OAuth refresh token stops working when the account owner removes the app\'s access or changes the password.',
    ja: 'Gmail の場合: アプリ パスワードにはアカウントの 2 段階認証が必要です（Google アカウント → セキュリティ → アプリ パスワード）。Gmail の設定（メール転送と POP/IMAP）で IMAP を有効にしてください。OAuth のリフレッシュトークンは、アカウント所有者がアプリのアクセス権を削除したりパスワードを変更したりすると無効になります。',
  },
  microsoft: {
    en: 'At Outlook.com and Microsoft 365 IMAP takes no password: use oauth2 with a refresh token of an app registered in Microsoft Entra (scope https://outlook.office.com/IMAP.AccessAsUser.All offline_access). Its refresh tokens expire after 90 days without use: make a new one.',
    ja: 'Outlook.com と Microsoft 365 の IMAP はパスワードでログインできません。Microsoft Entra に登録したアプリのリフレッシュトークンで oauth2 を使ってください（スコープ https://outlook.office.com/IMAP.AccessAsUser.All offline_access）。リフレッシュトークンは 90 日使わないと失効するため、その場合は作り直してください。',
  },
  yahoo: {
    en: 'At Yahoo: create an app password (Account Info → Account Security → Generate app password) and use it instead of the account password.',
    ja: 'Yahoo の場合: アプリ パスワードを作成し（アカウント情報 → アカウントのセキュリティ → アプリ パスワードを生成）、アカウントのパスワードの代わりに使ってください。',
  },
  docomo: {
    en: 'At docomo mail: turn on IMAP use in the docomo mail settings of the d ACCOUNT and log in with the address and the password set there.',
    ja: 'ドコモメールの場合: d アカウントのドコモメール設定で IMAP の利用を有効にし、そこで設定したアドレスとパスワードでログインしてください。',
  },
};

/**
 * The SEED_LOGIN_FAILED finding of a seed: a warning about the monitor's own setup (placement at
 * this seed is not being checked), never about the shop's mail.
 * @example seedLoginFinding({ seed: 'gmail', address: 's@gmail.com', kind: 'auth', detail: 'AUTHENTICATIONFAILED', provider: 'gmail' })
 */
export function seedLoginFinding(input: { readonly seed: string; readonly address: string; readonly kind: SeedFailureKind; readonly detail: string; readonly provider: string | null; readonly oauth2?: boolean }): Finding {
  const who = `${input.seed} (${input.address})`;
  const help = input.provider ? LOGIN_HELP[input.provider] : undefined;
  const what: Record<SeedFailureKind, Localized> = {
    auth: { en: 'the IMAP server refused the login', ja: 'IMAP サーバーがログインを拒否しました' },
    token: { en: 'the OAuth token endpoint refused the refresh token (revoked or expired)', ja: 'OAuth のトークン発行先がリフレッシュトークンを拒否しました（取り消しまたは失効）' },
    connect: { en: 'the IMAP server could not be reached', ja: 'IMAP サーバーに接続できませんでした' },
    tls: { en: 'the TLS connection to the IMAP server failed', ja: 'IMAP サーバーとの TLS 接続に失敗しました' },
    timeout: { en: 'the IMAP server did not answer in time', ja: 'IMAP サーバーが時間内に応答しませんでした' },
    protocol: { en: 'the IMAP server answered with an error', ja: 'IMAP サーバーがエラーを返しました' },
    secret: { en: 'its credentials could not be read', ja: '認証情報を読み取れませんでした' },
  };
  const fix: Record<SeedFailureKind, Localized> = {
    auth: input.oauth2
      ? { en: 'Check the account named in imap.auth.user and that the token was issued for it with IMAP access.', ja: 'imap.auth.user のアカウントと、そのアカウントに IMAP のアクセス権付きでトークンが発行されているかを確認してください。' }
      : { en: 'Check imap.auth.user and the password (an app password where the provider wants one); a changed account password revokes app passwords at most providers.', ja: 'imap.auth.user とパスワード（プロバイダーが求める場合はアプリ パスワード）を確認してください。多くのプロバイダーでは、アカウントのパスワードを変更するとアプリ パスワードも無効になります。' },
    token: { en: 'Authorize the app again for this mailbox and store the new refresh token where oauth2 reads it (refreshTokenEnv or the secret).', ja: 'このメールボックスでアプリをもう一度承認し、新しいリフレッシュトークンを oauth2 の読み取り先（refreshTokenEnv またはシークレット）に保存してください。' },
    connect: { en: 'Check seeds[].imap.host and port (993 with TLS at the big providers) and that this machine may connect out on that port.', ja: 'seeds[].imap.host と port（大手プロバイダーでは TLS の 993）、このマシンからそのポートへ接続できるかを確認してください。' },
    tls: { en: 'Check seeds[].imap.tls (implicit for 993, starttls for 143) and the server certificate (seeds[].imap.ca for a private CA).', ja: 'seeds[].imap.tls（993 は implicit、143 は starttls）とサーバー証明書（独自 CA なら seeds[].imap.ca）を確認してください。' },
    timeout: { en: 'If it persists, check the host and port; a server that accepts the connection and stays silent is often a firewall in between.', ja: '続く場合はホストとポートを確認してください。接続は受け付けるのに応答しない場合、途中のファイアウォールが原因のことがよくあります。' },
    protocol: { en: 'Check that IMAP access is enabled for the mailbox at the provider.', ja: 'プロバイダー側でこのメールボックスの IMAP アクセスが有効になっているか確認してください。' },
    secret: { en: 'Check the environment variable or Secrets Manager secret named in seeds[].imap.auth.', ja: 'seeds[].imap.auth で指定した環境変数または Secrets Manager のシークレットを確認してください。' },
  };
  return {
    code: 'SEED_LOGIN_FAILED',
    severity: 'warning',
    recipient: input.address,
    message: {
      en: `The seed ${who} cannot be read: ${what[input.kind].en} (${input.detail}). Inbox placement at this seed is not being checked until it can; your mail itself is not affected.`,
      ja: `シード ${who} を読み取れません: ${what[input.kind].ja}（${input.detail}）。読み取れるようになるまで、このシードでの受信場所（受信トレイか迷惑メールか）は確認できません。メール送信そのものには影響ありません。`,
    },
    remedy: {
      en: `${fix[input.kind].en}${help ? ` ${help.en}` : ''}`,
      ja: `${fix[input.kind].ja}${help ? help.ja : ''}`,
    },
  };
}
