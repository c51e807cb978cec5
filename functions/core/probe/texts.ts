/**
 * What each probe finding says and what to do about it, in English and Japanese, written for
 * the person who runs the shop, not for a mail administrator. Pure functions of the facts.
 */
import type { Localized, ProbeCode, SmtpStep } from '../findings.ts';
import type { StepFailureKind } from './types.ts';

/** The facts a text may mention. Only the ones a code needs are set. */
export interface TextParams {
  readonly host: string;
  readonly port: number;
  readonly step?: SmtpStep;
  readonly reply?: string;
  readonly recipient?: string;
  /** The envelope sender used (the VERP address). */
  readonly sender?: string;
  readonly replyCode?: number;
  readonly failureKind?: StepFailureKind;
  readonly detail?: string;
  readonly servername?: string;
  /** The server's SIZE limit, when it announced one. */
  readonly sizeLimitBytes?: number;
  readonly maxMessageBytes?: number;
  readonly daysLeft?: number;
  readonly ms?: number;
  readonly limitMs?: number;
  /** For port findings: the port the text is about, and the ports that did answer. */
  readonly probedPort?: number;
  readonly openPorts?: readonly number[];
  readonly referenceHost?: string;
  /** The target's `tls` setting (TLS_MODE_MISMATCH says which way round it is wrong). */
  readonly tlsMode?: 'starttls' | 'implicit';
  /** For port findings: which situation (see ports-analysis.ts). */
  readonly variant?: 'confirmed' | 'not-listening' | 'dropped-here-only';
}

/** A finding's two texts, each in both languages. */
export interface FindingText {
  readonly message: Localized;
  readonly remedy: Localized;
}

const STEP_NAMES: Record<SmtpStep, Localized> = {
  connect: { en: 'connect', ja: '接続' },
  greeting: { en: 'greeting', ja: 'グリーティング（最初の応答）' },
  ehlo: { en: 'EHLO', ja: 'EHLO（あいさつ）' },
  starttls: { en: 'STARTTLS (encryption)', ja: 'STARTTLS（暗号化）' },
  auth: { en: 'login (AUTH)', ja: 'ログイン（AUTH）' },
  mail: { en: 'sender (MAIL FROM)', ja: '送信者（MAIL FROM）' },
  rcpt: { en: 'recipient (RCPT TO)', ja: '宛先（RCPT TO）' },
  data: { en: 'message (DATA)', ja: '本文送信（DATA）' },
  quit: { en: 'QUIT', ja: '終了（QUIT）' },
};

/**
 * Megabytes for people: one decimal below 10 MB, whole numbers above.
 * @example formatMb(5 * 1024 * 1024) // '5'
 */
export function formatMb(bytes: number): string {
  const mb = bytes / (1024 * 1024);
  return mb < 10 ? String(Math.round(mb * 10) / 10) : String(Math.round(mb));
}

function seconds(ms: number | undefined): string {
  if (ms === undefined) return '?';
  return ms < 1000 ? `${ms} ms` : `${Math.round(ms / 100) / 10} s`;
}

function stepName(p: TextParams): Localized {
  return p.step ? STEP_NAMES[p.step] : { en: 'the session', ja: 'セッション' };
}

// The reply goes in quotes at the end so the text still reads when it is long or odd.
function replyEn(p: TextParams): string {
  return p.reply ? ` The server replied: "${oneLine(p.reply)}".` : '';
}
function replyJa(p: TextParams): string {
  return p.reply ? `サーバーの応答：「${oneLine(p.reply)}」` : '';
}
function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' / ');
}

const TEXTS: Record<ProbeCode, (p: TextParams) => FindingText> = {
  PORT25_BLOCKED: (p) => {
    const ports = p.openPorts ?? [];
    const openEn = ports.length > 1 ? `ports ${ports.slice(0, -1).join(', ')} and ${ports.at(-1)} answer` : `port ${ports[0] ?? '?'} answers`;
    const openJa = `ポート${ports.join('と')}`;
    const confirmedEn =
      p.variant === 'confirmed' ? ` Port 25 of ${p.referenceHost}, a server known to listen there, is silent too, which confirms it.` : '';
    const confirmedJa =
      p.variant === 'confirmed' ? `ポート25で待ち受けているはずの ${p.referenceHost} も応答しないため、ブロックされていることが確認できました。` : '';
    return {
      message: {
        en: `Port 25 of ${p.host} does not answer (connections are silently dropped) while ${openEn}. This is outbound port 25 blocking (OP25B): your internet provider or network stops connections to port 25 to fight spam. This is normal (AWS Lambda, where the monitor runs in the cloud, blocks port 25 too).${confirmedEn}`,
        ja: `${p.host} のポート25は応答しません（接続が黙って破棄されます）が、${openJa}は応答します。これは OP25B（Outbound Port 25 Blocking）です。迷惑メール対策のため、インターネット回線やネットワーク側でポート25への接続が止められている状態で、よくあることです（クラウドで監視を動かす AWS Lambda でもポート25はブロックされています）。${confirmedJa}`,
      },
      remedy: {
        en: 'Nothing to fix as long as you send through port 587: submit mail on port 587 with STARTTLS and your user name and password (SMTP AUTH), or on port 465. Do not set up your shop system to send on port 25.',
        ja: 'ポート587で送信していれば対応は不要です。メールはポート587（STARTTLS＋ユーザー名とパスワードによる SMTP 認証）またはポート465で送信してください。ショップのシステムをポート25で送信する設定にはしないでください。',
      },
    };
  },

  PORT_UNREACHABLE: (p) => {
    const port = p.probedPort ?? p.port;
    if (p.variant === 'not-listening') {
      return {
        message: {
          en: `Port ${port} of ${p.host} refuses connections. That only means this server does not take mail on port ${port}; it is not port 25 blocking (OP25B), which drops connections silently instead.`,
          ja: `${p.host} のポート${port}は接続を拒否しました。これはこのサーバーがポート${port}でメールを受け付けていないというだけで、OP25B（ポート25のブロック。接続は黙って破棄されます）ではありません。`,
        },
        remedy: { en: `Nothing to do: send on port ${p.port}.`, ja: `対応は不要です。ポート${p.port}で送信してください。` },
      };
    }
    if (p.variant === 'dropped-here-only') {
      return {
        message: {
          en: `Port ${port} of ${p.host} does not answer, but port 25 of ${p.referenceHost} does: port 25 is not blocked on your side, this server simply does not accept connections on port 25.`,
          ja: `${p.host} のポート${port}は応答しませんが、${p.referenceHost} のポート25は応答します。こちら側でポート25がブロックされているのではなく、このサーバーがポート25の接続を受け付けていないだけです。`,
        },
        remedy: { en: `Nothing to do: send on port ${p.port}.`, ja: `対応は不要です。ポート${p.port}で送信してください。` },
      };
    }
    if (p.failureKind === 'timeout') {
      return {
        message: {
          en: `Port ${port} of ${p.host} does not answer: connections are silently dropped, usually by a firewall.`,
          ja: `${p.host} のポート${port}が応答しません。接続が黙って破棄されています（多くはファイアウォールによるものです）。`,
        },
        remedy: {
          en: `Check the port in the settings your mail provider gave you (usually 587), and ask your network administrator or provider whether outgoing connections to port ${port} are allowed.`,
          ja: `メール事業者から案内された設定のポート番号（通常は587）を確認し、ポート${port}への外向きの接続が許可されているかをネットワーク管理者または事業者に確認してください。`,
        },
      };
    }
    if (p.failureKind === 'unreachable') {
      return {
        message: {
          en: `${p.host} cannot be reached from here (no route to the host).`,
          ja: `ここから ${p.host} に到達できません（ホストへの経路がありません）。`,
        },
        remedy: {
          en: 'Check the network connection of the machine running mail-health, then the server name in the settings.',
          ja: 'mail-health を動かしている機器のネットワーク接続を確認し、次に設定のサーバー名を確認してください。',
        },
      };
    }
    return {
      message: {
        en: `Nothing accepts connections on port ${port} of ${p.host} (connection refused).`,
        ja: `${p.host} のポート${port}は接続を受け付けていません（接続拒否）。`,
      },
      remedy: {
        en: 'Check the server name and port against the settings your mail provider gave you (usually port 587). If they are right, the mail server may be down: ask your provider.',
        ja: 'サーバー名とポート番号をメール事業者の案内（通常はポート587）と照らし合わせてください。正しい場合はメールサーバーが停止している可能性があります。事業者に問い合わせてください。',
      },
    };
  },

  DNS_NOT_FOUND: (p) => ({
    message: {
      en: `The server name ${p.host} does not exist (it is not found in DNS).`,
      ja: `サーバー名 ${p.host} が見つかりません（DNS に登録されていません）。`,
    },
    remedy: {
      en: "Check the spelling of the SMTP server name in the settings; copy it from your provider's instructions.",
      ja: '設定の SMTP サーバー名のつづりを確認してください。事業者の案内からコピーするのが確実です。',
    },
  }),

  GREETING_TIMEOUT: (p) => ({
    message: {
      en: `The server ${p.host}:${p.port} accepted the connection but never greeted (waited ${seconds(p.limitMs)}).`,
      ja: `${p.host}:${p.port} は接続を受け付けましたが、最初の応答（グリーティング）を返しませんでした（${seconds(p.limitMs)}待機）。`,
    },
    remedy: {
      en: 'The server may be overloaded, or something in between (a firewall or an antivirus that inspects mail) holds the connection. If it persists, contact your provider.',
      ja: 'サーバーの過負荷か、途中の機器（ファイアウォールやメールを検査するウイルス対策ソフト）が接続を止めている可能性があります。続く場合は事業者に問い合わせてください。',
    },
  }),

  GREETING_REJECTED: (p) => {
    const ehlo = p.step === 'ehlo';
    const busy = p.replyCode === 421;
    return {
      message: {
        en: `${ehlo ? 'The server refused our EHLO greeting.' : busy ? 'The server is not accepting connections right now.' : 'The server refused the session right at the start.'}${replyEn(p)}`,
        ja: `${ehlo ? 'サーバーが EHLO（あいさつ）を拒否しました。' : busy ? 'サーバーは現在接続を受け付けていません。' : 'サーバーが最初の段階でセッションを拒否しました。'}${replyJa(p)}`,
      },
      remedy: {
        en: busy
          ? 'Usually temporary (a busy server). If it lasts, contact your provider with this reply.'
          : 'If the reply mentions your IP address or a block list, ask your provider why your connection is refused; otherwise send them this reply.',
        ja: busy
          ? '多くは一時的なもの（サーバーの混雑）です。続く場合はこの応答を添えて事業者に問い合わせてください。'
          : '応答に IP アドレスやブロックリストの記載があれば、接続が拒否される理由を事業者に確認してください。それ以外の場合もこの応答を事業者に伝えてください。',
      },
    };
  },

  STARTTLS_UNAVAILABLE: (p) => ({
    message: {
      en: `The server does not offer encryption (STARTTLS) on port ${p.port}, so the user name and password would travel unprotected. mail-health did not send them.${replyEn(p)}`,
      ja: `サーバーがポート${p.port}で暗号化（STARTTLS）を提供していません。このままではユーザー名とパスワードが暗号化されずに送られるため、mail-health は送信しませんでした。${replyJa(p)}`,
    },
    remedy: {
      en: 'Ask your provider for the encrypted sending settings (port 587 with STARTTLS, or port 465 with SSL/TLS). Never switch encryption off in your shop system.',
      ja: '暗号化された送信設定（ポート587＋STARTTLS、またはポート465＋SSL/TLS）を事業者に確認してください。ショップのシステムで暗号化を無効にしないでください。',
    },
  }),

  TLS_HANDSHAKE_FAILED: (p) => ({
    message: {
      en: `The encrypted connection (TLS) to ${p.host} could not be set up${p.detail ? ` (${p.detail})` : ''}.`,
      ja: `${p.host} との暗号化通信（TLS）を確立できませんでした${p.detail ? `（${p.detail}）` : ''}。`,
    },
    remedy: {
      en: 'The server may only support outdated TLS versions. Ask your provider which TLS versions they support.',
      ja: 'サーバーが古い TLS バージョンにしか対応していない可能性があります。対応している TLS バージョンを事業者に確認してください。',
    },
  }),

  TLS_MODE_MISMATCH: (p) =>
    p.tlsMode === 'starttls'
      ? {
          message: {
            en: `Port ${p.port} of ${p.host} expects encryption from the first byte (implicit TLS, as on port 465) and never greets in plain text, but this target is set to "tls": "starttls" (a plain greeting first, then STARTTLS). Nothing was sent.`,
            ja: `${p.host} のポート${p.port}は最初から暗号化された通信（暗黙の TLS、ポート465と同じ方式）を待っており、暗号化なしのあいさつ（グリーティング）を返しません。一方、この対象は "tls": "starttls"（暗号化なしで始めて STARTTLS で暗号化する方式）に設定されています。メールは送信されていません。`,
          },
          remedy: {
            en: 'This port speaks TLS from the start: set "tls": "implicit" for it (the usual setting for port 465), or send on port 587 with "tls": "starttls".',
            ja: 'このポートは最初から TLS で通信します。このポートには "tls": "implicit" を設定する（ポート465の通常の設定）か、ポート587で "tls": "starttls" を使って送信してください。',
          },
        }
      : {
          message: {
            en: `Port ${p.port} of ${p.host} speaks plain SMTP first (it greets without encryption and switches to encryption with STARTTLS), but this target is set to "tls": "implicit" (encryption from the first byte). The two sides could not understand each other; nothing was sent. This is a setting mismatch, not an outdated server.`,
            ja: `${p.host} のポート${p.port}は暗号化なしの SMTP で始まる方式（あいさつの後に STARTTLS で暗号化）ですが、この対象は "tls": "implicit"（最初から暗号化する方式）に設定されています。方式が合わないため通信できず、メールは送信されていません。サーバーが古いのではなく、設定の不一致です。`,
          },
          remedy: {
            en: 'The port speaks plain SMTP first: set "tls": "starttls" for it (the usual setting for port 587), or use port 465 with "tls": "implicit" for encryption from the start.',
            ja: 'このポートは暗号化なしの SMTP で始まります。このポートには "tls": "starttls" を設定する（ポート587の通常の設定）か、最初から暗号化する場合はポート465で "tls": "implicit" を使ってください。',
          },
        },

  TLS_CERT_INVALID: (p) => {
    const name = p.servername ?? p.host;
    if (p.failureKind === 'tls-expired') {
      return {
        message: {
          en: `The server's security certificate has expired (or is not valid yet), so the connection cannot be trusted.`,
          ja: 'サーバーのセキュリティ証明書の有効期限が切れている（またはまだ有効になっていない）ため、接続を信頼できません。',
        },
        remedy: {
          en: 'Ask your provider (or whoever runs the server) to renew the certificate. Until then, mail programs refuse to send.',
          ja: '事業者（またはサーバーの管理者）に証明書の更新を依頼してください。更新されるまでメールソフトは送信を拒否します。',
        },
      };
    }
    if (p.failureKind === 'tls-hostname') {
      return {
        message: {
          en: `The server's security certificate is not issued for ${name}: it belongs to another name.`,
          ja: `サーバーのセキュリティ証明書が ${name} のものではありません（別の名前用の証明書です）。`,
        },
        remedy: {
          en: "Use the server name your provider documents (the one on its certificate), not an IP address or another alias. If the host is an IP address, set \"servername\" to that name.",
          ja: '事業者が案内しているサーバー名（証明書に書かれた名前）を使ってください。IP アドレスや別名は使わないでください。IP アドレスで接続する場合は "servername" にその名前を設定してください。',
        },
      };
    }
    return {
      message: {
        en: `The server's security certificate is not from a trusted authority (self-signed or unknown issuer)${p.detail ? ` (${p.detail})` : ''}.`,
        ja: `サーバーのセキュリティ証明書が信頼できる発行元のものではありません（自己署名または不明な発行元）${p.detail ? `（${p.detail}）` : ''}。`,
      },
      remedy: {
        en: 'Ask your provider to install a certificate from a public certificate authority. If you run a private CA on purpose, put its certificate in the target\'s "ca" setting.',
        ja: '公的な認証局の証明書を導入するよう事業者に依頼してください。意図してプライベート認証局を使っている場合は、その証明書を対象の "ca" 設定に指定してください。',
      },
    };
  },

  TLS_CERT_EXPIRING: (p) => ({
    message: {
      en: `The server's security certificate expires in ${p.daysLeft} day${p.daysLeft === 1 ? '' : 's'}.`,
      ja: `サーバーのセキュリティ証明書はあと${p.daysLeft}日で期限切れになります。`,
    },
    remedy: {
      en: 'Ask your provider (or whoever runs the server) to renew it before it expires; after that, sending stops.',
      ja: '期限が切れる前に更新するよう事業者（またはサーバーの管理者）に依頼してください。期限が切れると送信できなくなります。',
    },
  }),

  AUTH_UNAVAILABLE: (p) => ({
    message: {
      en: `The server does not offer login (SMTP AUTH) on port ${p.port}, so mail-health could not log in.`,
      ja: `サーバーがポート${p.port}でログイン（SMTP 認証）を提供していないため、mail-health はログインできませんでした。`,
    },
    remedy: {
      en: 'Sending needs a login: check that you use the submission port your provider gives (usually 587). Port 25 usually offers no login.',
      ja: '送信にはログインが必要です。事業者が案内する送信用ポート（通常は587）を使っているか確認してください。ポート25では通常ログインできません。',
    },
  }),

  AUTH_FAILED: (p) => {
    const required = p.step === 'mail';
    return {
      message: {
        en: `${required ? 'The server requires a login before sending.' : 'The server refused the user name or password.'}${replyEn(p)}`,
        ja: `${required ? 'サーバーは送信前のログインを求めています。' : 'サーバーがユーザー名またはパスワードを拒否しました。'}${replyJa(p)}`,
      },
      remedy: {
        en: required
          ? 'Add the login ("auth": user and password) to this target in the settings.'
          : 'Check the user name (often the full mail address) and the password. If the password was changed recently, update it here too. Some providers need a separate app password.',
        ja: required
          ? '設定のこの対象にログイン情報（"auth" のユーザー名とパスワード）を追加してください。'
          : 'ユーザー名（多くはメールアドレス全体）とパスワードを確認してください。最近パスワードを変更した場合はここでも更新してください。事業者によってはアプリ用パスワードが必要です。',
      },
    };
  },

  SENDER_REJECTED: (p) => ({
    message: {
      en: `The server refused the sender address ${p.sender ?? ''}.${replyEn(p)}`,
      ja: `サーバーが送信者アドレス ${p.sender ?? ''} を拒否しました。${replyJa(p)}`,
    },
    remedy: {
      en: 'mail-health sends with a return address on your bounce domain so that returned mail finds its way back. Ask your provider to allow that domain as sender for your account, or use a bounce domain your account may send from.',
      ja: 'mail-health は戻ってきたメールを受け取るため、バウンス用ドメインの差出人アドレスで送信します。お使いのアカウントでそのドメインを差出人として使えるよう事業者に依頼するか、アカウントで使えるバウンス用ドメインを設定してください。',
    },
  }),

  RELAY_DENIED: (p) => ({
    message: {
      en: `The server will not pass mail on to ${p.recipient ?? 'this recipient'} (relaying denied).${replyEn(p)}`,
      ja: `サーバーが ${p.recipient ?? 'この宛先'} へのメールの中継を拒否しました。${replyJa(p)}`,
    },
    remedy: {
      en: "Usually the login is missing or not accepted for sending: check the \"auth\" settings, and that you send through your own provider's server on port 587.",
      ja: '多くの場合、ログインしていないか、ログインが送信に使えない状態です。"auth" の設定と、契約している事業者のサーバーのポート587で送信していることを確認してください。',
    },
  }),

  RECIPIENT_UNKNOWN: (p) => ({
    message: {
      en: `The address ${p.recipient ?? ''} does not exist.${replyEn(p)}`,
      ja: `宛先アドレス ${p.recipient ?? ''} は存在しません。${replyJa(p)}`,
    },
    remedy: {
      en: 'Check the address for typos (for example gmial.com, a comma instead of a dot, a dot right before @). Ask the recipient for the correct address.',
      ja: 'アドレスの入力ミス（gmial.com のようなつづり間違い、ドットの代わりのカンマ、@ の直前のドットなど）を確認し、正しいアドレスを相手に確認してください。',
    },
  }),

  MAILBOX_FULL: (p) => ({
    message: {
      en: `The mailbox of ${p.recipient ?? 'the recipient'} is full.${replyEn(p)}`,
      ja: `${p.recipient ?? '宛先'} のメールボックスが満杯です。${replyJa(p)}`,
    },
    remedy: {
      en: 'Ask the recipient to delete old mail (especially messages with large attachments) or to get a bigger mailbox. Mail sent meanwhile comes back undelivered.',
      ja: '古いメール（特に大きな添付ファイル付きのもの）を削除するか、容量を増やすよう相手に依頼してください。それまでに送ったメールは届かずに戻ってきます。',
    },
  }),

  MESSAGE_TOO_LARGE: (p) => {
    const limit = p.sizeLimitBytes ? formatMb(p.sizeLimitBytes) : undefined;
    return {
      message: {
        en: `The message was refused as too large${limit ? `: this server accepts at most ${limit} MB` : ''}.${replyEn(p)}`,
        ja: `メールが大きすぎるため拒否されました${limit ? `（このサーバーが受け付けるのは最大${limit}MBです）` : ''}。${replyJa(p)}`,
      },
      remedy: {
        en: `Keep messages ${limit ? `under ${limit} MB` : 'small'}: shrink or compress attachments, or send a download link instead of a big file. Attachments grow by about a third when sent.`,
        ja: `メールは${limit ? `${limit}MB未満` : '小さく'}にしてください。添付ファイルを縮小・圧縮するか、大きなファイルはダウンロードリンクで送ってください。添付ファイルは送信時に約3分の1大きくなります。`,
      },
    };
  },

  SIZE_LIMIT_LOW: (p) => {
    const limit = formatMb(p.sizeLimitBytes ?? 0);
    const max = formatMb(p.maxMessageBytes ?? 0);
    return {
      message: {
        en: `This server accepts messages of at most ${limit} MB, less than the ${max} MB your settings expect (maxMessageBytes). Larger messages will be refused.`,
        ja: `このサーバーが受け付けるメールは最大${limit}MBで、設定で想定している${max}MB（maxMessageBytes）より小さいです。これより大きなメールは拒否されます。`,
      },
      remedy: {
        en: `Keep attachments well under ${limit} MB (they grow by about a third when sent). If ${limit} MB is really your provider's limit, lower maxMessageBytes; otherwise ask your provider for a higher limit.`,
        ja: `添付ファイルは${limit}MBより十分小さくしてください（送信時に約3分の1大きくなります）。これが事業者の上限であれば maxMessageBytes を下げ、そうでなければ上限を上げられないか事業者に確認してください。`,
      },
    };
  },

  MESSAGE_REJECTED: (p) => ({
    message: {
      en: `The server refused the message at the ${stepName(p).en} step${p.recipient ? ` for ${p.recipient}` : ''}.${replyEn(p)}`,
      ja: `サーバーが${stepName(p).ja}の段階でメールを拒否しました${p.recipient ? `（宛先 ${p.recipient}）` : ''}。${replyJa(p)}`,
    },
    remedy: {
      en: 'The reply often names the reason (spam filter, policy). If it is unclear, send the reply text to your provider.',
      ja: '応答に理由（迷惑メールフィルター、ポリシーなど）が書かれていることが多いです。分からない場合は応答の文面を事業者に伝えてください。',
    },
  }),

  TEMPORARY_FAILURE: (p) => ({
    message: {
      en: `The server asked to try again later at the ${stepName(p).en} step${p.recipient ? ` for ${p.recipient}` : ''}.${replyEn(p)}`,
      ja: `サーバーが${stepName(p).ja}の段階で「後でもう一度試してください」と応答しました${p.recipient ? `（宛先 ${p.recipient}）` : ''}。${replyJa(p)}`,
    },
    remedy: {
      en: 'Usually temporary (a busy server, greylisting); mail servers retry by themselves. If it lasts more than an hour, contact your provider with this reply.',
      ja: '多くは一時的なもの（サーバーの混雑、グレーリスティング）で、メールサーバーが自動で再送します。1時間以上続く場合はこの応答を添えて事業者に問い合わせてください。',
    },
  }),

  CONNECTION_LOST: (p) => ({
    message: {
      en: `The connection was cut during the ${stepName(p).en} step${p.detail ? ` (${p.detail})` : ''}.${replyEn(p)}`,
      ja: `${stepName(p).ja}の途中で接続が切れました${p.detail ? `（${p.detail}）` : ''}。${replyJa(p)}`,
    },
    remedy: {
      en: 'Often a restarting or overloaded server; a firewall or an antivirus that inspects mail can also cut connections. If it happens again, contact your provider.',
      ja: 'サーバーの再起動や過負荷のほか、メールを検査するファイアウォールやウイルス対策ソフトが接続を切ることもあります。繰り返す場合は事業者に問い合わせてください。',
    },
  }),

  STEP_TIMEOUT: (p) => ({
    message: {
      en: `The server did not answer within ${seconds(p.limitMs)} at the ${stepName(p).en} step${p.recipient ? ` for ${p.recipient}` : ''}.`,
      ja: `${stepName(p).ja}の段階でサーバーが${seconds(p.limitMs)}以内に応答しませんでした${p.recipient ? `（宛先 ${p.recipient}）` : ''}。`,
    },
    remedy: {
      en: 'A slow or overloaded server, or a network problem. If it persists, contact your provider.',
      ja: 'サーバーの遅延・過負荷、またはネットワークの問題です。続く場合は事業者に問い合わせてください。',
    },
  }),

  SLOW_STEP: (p) => ({
    message: {
      en: `The ${stepName(p).en} step took ${seconds(p.ms)} (the limit for "slow" is ${seconds(p.limitMs)}).`,
      ja: `${stepName(p).ja}に${seconds(p.ms)}かかりました（「遅い」とする基準は${seconds(p.limitMs)}です）。`,
    },
    remedy: {
      en: 'Nothing is broken yet, but a slow server makes sending time out sooner or later. If it stays slow, tell your provider.',
      ja: 'まだ問題は起きていませんが、遅いままだといずれ送信がタイムアウトします。遅い状態が続く場合は事業者に伝えてください。',
    },
  }),
};

/**
 * The message and remedy of a probe finding.
 * @example probeText('MAILBOX_FULL', { host: 'smtp.example.jp', port: 587, recipient: 'a@example.jp' })
 */
export function probeText(code: ProbeCode, params: TextParams): FindingText {
  return TEXTS[code](params);
}
