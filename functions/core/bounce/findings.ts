/**
 * From a bounced recipient to a Finding a shop owner can act on (docs/REFERENCE.md "Bounce reasons"):
 * the reason's alert group decides the code, the text says what happened and what to do, in
 * English and Japanese.
 */
import { explainAddress, isLegacyCarrier } from '../address/index.ts';
import type { BounceCode, Finding, Localized, Severity } from '../findings.ts';
import type { BouncedRecipient, BounceReason } from '../results.ts';
import { alertGroupOf, type AlertGroup } from './alert-groups.ts';

const CODES: Readonly<Record<AlertGroup, BounceCode>> = {
  'mailbox-full': 'BOUNCE_MAILBOX_FULL',
  'invalid-address': 'BOUNCE_INVALID_ADDRESS',
  'too-large': 'BOUNCE_MESSAGE_TOO_LARGE',
  blocked: 'BOUNCE_BLOCKED',
  transient: 'BOUNCE_TRANSIENT',
  other: 'BOUNCE_OTHER',
};

// Mail that can never arrive as things stand is critical; mail that may arrive later, a warning.
const SEVERITY: Readonly<Record<AlertGroup, Severity>> = {
  'mailbox-full': 'warning',
  'invalid-address': 'critical',
  'too-large': 'warning',
  blocked: 'critical',
  transient: 'warning',
  other: 'warning',
};

/** The finding code of a bounce reason, or null when the reason raises none. */
export function bounceCodeOf(reason: BounceReason): BounceCode | null {
  const group = alertGroupOf(reason);
  return group ? CODES[group] : null;
}

/** Options of {@link bounceFinding}. */
export interface BounceFindingOptions {
  /**
   * What the address diagnosis found about the recipient address, appended to
   * BOUNCE_INVALID_ADDRESS: e.g. "there is a dot right before @". Defaults to the address
   * checks' own explanation (`explainAddress`); pass null to leave it out.
   */
  readonly addressNote?: Localized | null;
}

type Text = (r: BouncedRecipient) => { message: Localized; remedy: Localized };

const TEXTS: Readonly<Record<AlertGroup, Text>> = {
  'mailbox-full': (r) => ({
    message: {
      en: `The mailbox of ${r.recipient} is full, so the message was returned.`,
      ja: `${r.recipient} のメールボックスが満杯のため、メールが返送されました。`,
    },
    remedy: {
      en: 'Ask the recipient to delete old mail or enlarge the mailbox, then send again. Reach them another way (phone, SMS) meanwhile.',
      ja: '受信者に古いメールの削除か容量の拡大を依頼してから再送してください。それまでは電話やSMSなど別の方法で連絡してください。',
    },
  }),
  'invalid-address': (r) => ({
    message: {
      en: `${r.recipient} does not exist or cannot receive mail (${reasonText(r.reason).en}).`,
      ja: `${r.recipient} は存在しないか、メールを受け取れないアドレスです（${reasonText(r.reason).ja}）。`,
    },
    remedy: {
      en: 'Check the address for typos (e.g. gmial.com, a dot before @, full-width characters) and ask the recipient for their current address. Remove it from your lists if it stays invalid.',
      ja: 'アドレスの入力ミス（gmial.com、@の直前のドット、全角文字など）を確認し、受信者に現在のアドレスを確かめてください。無効なままなら送信リストから外してください。',
    },
  }),
  'too-large': (r) => ({
    message: {
      en: `The message to ${r.recipient} was too large for the receiving server.`,
      ja: `${r.recipient} 宛てのメールは、受信側サーバーの上限を超える大きさでした。`,
    },
    remedy: {
      en: 'Make attachments smaller (compress images, send a download link instead of files) and send again.',
      ja: '添付ファイルを小さくする（画像を圧縮する、ファイルの代わりにダウンロードリンクを送る）などしてから再送してください。',
    },
  }),
  blocked: (r) => ({
    message: {
      en: `The receiving side refused the message to ${r.recipient} (${reasonText(r.reason).en}).`,
      ja: `受信側が ${r.recipient} 宛てのメールを拒否しました（${reasonText(r.reason).ja}）。`,
    },
    remedy: {
      en: 'Check that your sending domain has SPF, DKIM and DMARC set up and your server has reverse DNS; check block lists for your IP. If the recipient filters mail, ask them to allow your address.',
      ja: '送信ドメインのSPF・DKIM・DMARCと送信サーバーの逆引きDNSが設定されているか、送信IPがブロックリストに載っていないか確認してください。受信者が受信拒否設定をしている場合は、あなたのアドレスを許可してもらってください。',
    },
  }),
  transient: (r) => ({
    message: {
      en: `The message to ${r.recipient} could not be delivered for now (${reasonText(r.reason).en}).`,
      ja: `${r.recipient} 宛てのメールを現在は配送できませんでした（${reasonText(r.reason).ja}）。`,
    },
    remedy: {
      en: 'This is usually temporary: send again later. If it keeps happening, ask your mail provider to check the route to the recipient’s server.',
      ja: '多くは一時的な問題です。時間をおいて再送してください。繰り返す場合は、メール事業者に相手サーバーまでの経路の確認を依頼してください。',
    },
  }),
  other: (r) => ({
    message: {
      en: `The message to ${r.recipient} was returned (${reasonText(r.reason).en}).`,
      ja: `${r.recipient} 宛てのメールが返送されました（${reasonText(r.reason).ja}）。`,
    },
    remedy: {
      en: 'Read the server’s reply below; if it is unclear, forward the returned message to your mail provider.',
      ja: '下記のサーバーの応答を確認してください。不明な場合は、返送されたメールをメール事業者に転送して相談してください。',
    },
  }),
};

const DESCRIPTIONS: Readonly<Record<BounceReason, Localized>> = {
  userunknown: { en: 'no such mailbox', ja: '宛先のユーザーが存在しません' },
  hostunknown: { en: 'the domain does not exist', ja: 'ドメインが存在しません' },
  hasmoved: { en: 'the recipient has moved', ja: '宛先は移転しました' },
  notaccept: { en: 'the domain accepts no mail', ja: 'ドメインがメールを受け付けていません' },
  mailboxfull: { en: 'mailbox full', ja: 'メールボックスが満杯' },
  mesgtoobig: { en: 'message too large', ja: 'メールが大きすぎます' },
  exceedlimit: { en: 'over the recipient’s size limit', ja: '受信者のサイズ上限を超えています' },
  filtered: { en: 'the recipient’s filter refused it', ja: '受信者の受信拒否設定' },
  rejected: { en: 'the sender address was refused', ja: '送信者アドレスが拒否されました' },
  blocked: { en: 'your sending server is blocked', ja: '送信サーバーがブロックされています' },
  spamdetected: { en: 'judged to be spam', ja: '迷惑メールと判定されました' },
  policyviolation: { en: 'against the receiving policy', ja: '受信側のポリシーに違反' },
  authfailure: { en: 'SPF/DKIM/DMARC check failed', ja: 'SPF・DKIM・DMARCの認証に失敗' },
  requireptr: { en: 'no reverse DNS for your server', ja: '送信サーバーの逆引きDNSがありません' },
  badreputation: { en: 'poor sender reputation', ja: '送信元の評価が低いため' },
  securityerror: { en: 'a security requirement was not met', ja: 'セキュリティ要件を満たしていません' },
  norelaying: { en: 'relaying denied', ja: '中継が拒否されました' },
  virusdetected: { en: 'a virus was detected', ja: 'ウイルスが検出されました' },
  contenterror: { en: 'the content was refused', ja: '内容が受け付けられませんでした' },
  notcompliantrfc: { en: 'the message format breaks the standards', ja: 'メールの形式が規格に反しています' },
  expired: { en: 'delivery kept failing and expired', ja: '配送を再試行しましたが期限切れになりました' },
  networkerror: { en: 'a network or DNS problem', ja: 'ネットワークまたはDNSの問題' },
  systemerror: { en: 'an error on the receiving server', ja: '受信側サーバーのエラー' },
  systemfull: { en: 'the receiving server is out of space', ja: '受信側サーバーの容量不足' },
  toomanyconn: { en: 'too many connections', ja: '接続数が多すぎます' },
  speeding: { en: 'sending too fast', ja: '送信頻度が高すぎます' },
  suspend: { en: 'the mailbox is suspended', ja: 'メールボックスが停止されています' },
  syntaxerror: { en: 'an SMTP protocol error', ja: 'SMTPの手順エラー' },
  mailererror: { en: 'a delivery program failed', ja: '配送プログラムのエラー' },
  onhold: { en: 'failed, with no clear cause given (undecided)', ja: '配送失敗(原因が明示されていないため判定保留)' },
  undefined: { en: 'cause unknown', ja: '原因不明' },
  vacation: { en: 'an automatic reply', ja: '自動応答' },
  feedback: { en: 'a complaint report', ja: '苦情の報告' },
  delivered: { en: 'delivered', ja: '配送済み' },
};

// Japanese mobile carriers refuse mail that the recipient's reception settings (designated-domain
// reception, the spam filter) do not allow, the commonest reason a shop's mail never reaches a
// phone; docomo even words it "Unknown user". The fix is on the recipient's side.
const CARRIER_FILTER_REMEDY: Localized = {
  en: 'The recipient’s mobile carrier refused it, most often because of the recipient’s reception settings (some carriers answer "Unknown user" for this too). Ask the recipient to add your sending domain to their allowed senders (designated-domain reception) in the carrier’s mail settings and to confirm the address, then send again.',
  ja: '受信者の携帯キャリアが受信を拒否しました。多くは受信者の受信設定によるものです（この場合も「Unknown user」と返すキャリアがあります）。受信者に、キャリアのメール設定（迷惑メール対策・ドメイン指定受信）で送信元ドメインを受信許可に追加し、アドレスが正しいかも確認してもらってから再送してください。',
};

/** A short description of a reason in both languages (for tables and alert lines). */
export function reasonText(reason: BounceReason): Localized {
  return DESCRIPTIONS[reason];
}

/**
 * The finding for one bounced recipient; null for `vacation`, `feedback` and `delivered`.
 * @example
 * bounceFinding({ recipient: 'taro@example.jp', reason: 'mailboxfull', status: '5.2.2', … })
 * // { code: 'BOUNCE_MAILBOX_FULL', severity: 'warning', recipient: 'taro@example.jp', … }
 */
export function bounceFinding(r: BouncedRecipient, options: BounceFindingOptions = {}): Finding | null {
  const group = alertGroupOf(r.reason);
  if (!group) return null;
  const texts = TEXTS[group](r);
  const domain = r.recipient.slice(r.recipient.lastIndexOf('@') + 1);
  const carrierFilter = (r.reason === 'filtered' || r.reason === 'rejected') && isLegacyCarrier(domain);
  const { message } = texts;
  const remedy = carrierFilter ? CARRIER_FILTER_REMEDY : texts.remedy;
  // An invalid-address bounce is most often a mistyped address: say what looks wrong with it.
  const note = group === 'invalid-address' ? (options.addressNote === undefined ? explainAddress(r.recipient) : options.addressNote) : null;
  return {
    code: CODES[group],
    severity: SEVERITY[group],
    recipient: r.recipient,
    ...(r.diagnostic ? { reply: r.diagnostic } : {}),
    message: note ? { en: `${message.en} ${note.en}`, ja: `${message.ja}${note.ja}` } : message,
    remedy,
  };
}
