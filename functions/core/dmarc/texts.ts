/**
 * What each DMARC-report finding says and what to do, in English and Japanese, for the person
 * who runs the shop. The summary decides; these only word it.
 */
import type { Localized } from '../findings.ts';

/** One sender as a finding names it. */
export interface NamedSender {
  readonly label: string;
  readonly ips: readonly string[];
  readonly count: number;
}

/** The facts of DMARC_REPORT_FAIL: a known sender of the domain's own mail fails. */
export interface FailFacts {
  readonly domain: string;
  readonly sender: NamedSender;
  /** Its messages in the period, passing and failing. */
  readonly total: number;
  readonly days: readonly string[];
  /** DKIM domains that signed its failing mail (none: unsigned) and whether one passed unaligned. */
  readonly dkimDomains: readonly string[];
  /** The envelope (SPF) domains of its failing mail, and whether SPF passed for them. */
  readonly spfDomains: readonly string[];
  readonly spfPassedUnaligned: boolean;
  readonly quarantined: number;
  readonly rejected: number;
}

/** The facts of DMARC_REPORT_UNKNOWN_SOURCE. */
export interface UnknownFacts {
  readonly domain: string;
  /** The busiest unknown senders (at most five named). */
  readonly senders: readonly NamedSender[];
  readonly senderCount: number;
  readonly messages: number;
}

/** The facts of TLSRPT_FAILURE. */
export interface TlsFacts {
  readonly domain: string;
  readonly failed: number;
  readonly total: number;
  readonly reporters: readonly string[];
  /** Busiest first: result type, the MX it was about, sessions. */
  readonly failures: readonly { readonly resultType: string; readonly mx: string | null; readonly count: number }[];
  /** The failed mail was not delivered (MTA-STS in enforce mode, or DANE). */
  readonly enforced: boolean;
}

/**
 * How a text names a sender: the organisation or domain as it is, a network as "the service
 * sending from 192.0.2.0/24" (a reader cannot ask a network to sign their mail).
 */
export function senderName(label: string, lang: 'en' | 'ja'): string {
  if (!label.includes('/')) return label;
  return lang === 'ja' ? `「${label} から送信しているサービス」` : `the service sending from ${label}`;
}

const listOf = (items: readonly string[], max = 3) => (items.length > max ? `${items.slice(0, max).join(', ')}, …` : items.join(', '));
const senderText = (s: NamedSender, lang: 'en' | 'ja') => `${s.label} (${listOf(s.ips)}${lang === 'ja' ? `、${s.count} 通` : `; ${s.count} messages`})`;

/** DMARC_REPORT_FAIL's message and remedy. */
export function failText(f: FailFacts): { message: Localized; remedy: Localized } {
  const s = f.sender;
  const en = senderName(s.label, 'en');
  const ja = senderName(s.label, 'ja');
  const failed = s.count;
  const days = listOf(f.days, 4);
  const dkimEn = f.dkimDomains.length === 0 ? 'it carried no DKIM signature' : f.dkimDomains.includes(f.domain) ? `its DKIM signature for ${f.domain} did not verify` : `it was signed for ${listOf(f.dkimDomains)}, not for ${f.domain}`;
  const dkimJa = f.dkimDomains.length === 0 ? 'DKIM 署名がありません' : f.dkimDomains.includes(f.domain) ? `${f.domain} の DKIM 署名を検証できませんでした` : `DKIM 署名が ${f.domain} ではなく ${listOf(f.dkimDomains)} のものでした`;
  const spfEn = f.spfPassedUnaligned ? `SPF passed for ${listOf(f.spfDomains)}, which is not ${f.domain}` : `SPF did not pass for ${f.domain}`;
  const spfJa = f.spfPassedUnaligned ? `SPF は ${listOf(f.spfDomains)} で合格しましたが、${f.domain} ではありません` : `${f.domain} の SPF に合格しませんでした`;
  const fateEn = f.rejected + f.quarantined > 0 ? ` Receivers rejected ${f.rejected} and sent ${f.quarantined} to spam.` : '';
  const fateJa = f.rejected + f.quarantined > 0 ? `受信側は ${f.rejected} 通を拒否し、${f.quarantined} 通を迷惑メールにしました。` : '';
  return {
    message: {
      en: `Mail sent as ${f.domain} from ${senderText(s, 'en')} failed DMARC: ${failed} of ${f.total} messages (${days}). This sender's mail passed DMARC before, so this is your own mail: ${dkimEn}, and ${spfEn}.${fateEn}`,
      ja: `${senderText(s, 'ja')} から ${f.domain} として送られたメールが DMARC に失敗しました（${days}、${f.total} 通中 ${failed} 通）。この送信元のメールは以前 DMARC に合格しているため、あなた自身のメールです。${dkimJa}。また、${spfJa}。${fateJa}`,
    },
    remedy: {
      en: `Have ${en} sign your mail with DKIM for ${f.domain} (in its settings, usually "domain authentication" or "custom DKIM": publish the records it gives), or send with a return path at ${f.domain} that your SPF record allows. If nothing changed on your side, ask ${en} what changed (a new server, a lost DKIM key). Keep the DMARC policy at p=none until it passes again.`,
      ja: `${ja} の設定（「ドメイン認証」「独自ドメインの DKIM」など）で ${f.domain} の DKIM 署名を有効にし、表示される DNS レコードを登録してください。または、SPF レコードで許可した ${f.domain} のリターンパスで送信するよう設定してください。こちらで何も変更していない場合は、${ja} に変更点（新しいサーバー、DKIM 鍵の消失など）を問い合わせてください。再び合格するまで DMARC ポリシーは p=none のままにしてください。`,
    },
  };
}

/** DMARC_REPORT_UNKNOWN_SOURCE's message and remedy. */
export function unknownText(f: UnknownFacts): { message: Localized; remedy: Localized } {
  const named = f.senders.slice(0, 5);
  const more = f.senderCount - named.length;
  const listEn = named.map((s) => senderText(s, 'en')).join('; ') + (more > 0 ? `; and ${more} more` : '');
  const listJa = named.map((s) => senderText(s, 'ja')).join('、') + (more > 0 ? `、ほか ${more} 件` : '');
  return {
    message: {
      en: `${f.senderCount} sender${f.senderCount === 1 ? '' : 's'} that never passed DMARC for ${f.domain} sent ${f.messages} messages as ${f.domain}: ${listEn}. This is someone forging your address, or a service sending for you that was never set up (a newsletter tool, a booking system, a copier that mails scans).`,
      ja: `${f.domain} の DMARC に一度も合格したことのない送信元 ${f.senderCount} 件が、${f.domain} として ${f.messages} 通のメールを送っています: ${listJa}。第三者によるなりすましか、設定されていないまま代わりにメールを送っているサービス（メルマガ配信、予約システム、スキャンをメールする複合機など）です。`,
    },
    remedy: {
      en: `If you know the service, set up DKIM for ${f.domain} there and add it to your SPF record: once its mail passes, it counts as your own. If you do not know it, it is forgery: once all of your own mail passes, raise the DMARC policy to p=quarantine (later p=reject) so receivers stop delivering it.`,
      ja: `心当たりのあるサービスなら、そのサービスで ${f.domain} の DKIM を設定し、SPF レコードに追加してください。合格すればあなた自身のメールとして扱われます。心当たりがなければなりすましです。自分のメールがすべて合格するようになったら、DMARC ポリシーを p=quarantine（その後 p=reject）に上げ、受信側が配信しないようにしてください。`,
    },
  };
}

const TLS_REMEDY: Record<string, (mx: string, domain: string) => Localized> = {
  'certificate-expired': (mx) => ({ en: `Renew the TLS certificate of ${mx}.`, ja: `${mx} の TLS 証明書を更新してください。` }),
  'certificate-host-mismatch': (mx) => ({
    en: `Install a certificate on ${mx} that names ${mx} (and list that name in the mx: lines of your MTA-STS policy).`,
    ja: `${mx} という名前を含む証明書を ${mx} に設定してください（MTA-STS ポリシーの mx: 行にもその名前を記載してください）。`,
  }),
  'certificate-not-trusted': (mx) => ({
    en: `Use a certificate from a public certificate authority on ${mx}, with its intermediate certificates.`,
    ja: `${mx} には公的な認証局の証明書を、中間証明書と一緒に設定してください。`,
  }),
  'starttls-not-supported': (mx) => ({ en: `Turn on STARTTLS on ${mx}.`, ja: `${mx} で STARTTLS を有効にしてください。` }),
  'validation-failure': (mx) => ({ en: `Check the TLS set-up of ${mx}: its certificate, chain and protocol versions.`, ja: `${mx} の TLS 設定（証明書、中間証明書、プロトコルのバージョン）を確認してください。` }),
  'sts-policy-fetch-error': (_mx, domain) => ({
    en: `Make your MTA-STS policy reachable: https://mta-sts.${domain}/.well-known/mta-sts.txt over HTTPS with a valid certificate.`,
    ja: `MTA-STS ポリシー https://mta-sts.${domain}/.well-known/mta-sts.txt を、有効な証明書の HTTPS で取得できるようにしてください。`,
  }),
  'sts-policy-invalid': (_mx, domain) => ({
    en: `Correct your MTA-STS policy at https://mta-sts.${domain}/.well-known/mta-sts.txt (version, mode, every MX in mx: lines, max_age).`,
    ja: `https://mta-sts.${domain}/.well-known/mta-sts.txt の MTA-STS ポリシー（version、mode、すべての MX の mx: 行、max_age）を修正してください。`,
  }),
  'sts-webpki-invalid': (_mx, domain) => ({
    en: `The certificate of mta-sts.${domain} is not valid: renew it or fix its chain.`,
    ja: `mta-sts.${domain} の証明書が無効です。更新するか中間証明書を設定してください。`,
  }),
  'tlsa-invalid': (mx) => ({ en: `Update the TLSA records of ${mx} to match its current certificate.`, ja: `${mx} の TLSA レコードを現在の証明書に合わせて更新してください。` }),
  'dnssec-invalid': (mx) => ({ en: `Fix DNSSEC of the zone of ${mx}: its TLSA records cannot be validated.`, ja: `${mx} のゾーンの DNSSEC を修正してください（TLSA レコードを検証できません）。` }),
  'dane-required': (mx) => ({ en: `Publish DNSSEC-signed TLSA records for ${mx}, or stop requiring DANE.`, ja: `${mx} の TLSA レコードを DNSSEC 署名付きで公開するか、DANE の要求をやめてください。` }),
};

/** TLSRPT_FAILURE's message and remedy. */
export function tlsText(f: TlsFacts): { message: Localized; remedy: Localized } {
  const kinds = f.failures.slice(0, 3).map((x) => `${x.resultType}${x.mx ? ` @ ${x.mx}` : ''}: ${x.count}`);
  const top = f.failures[0];
  const mx = top?.mx ?? `the MX of ${f.domain}`;
  const mxJa = top?.mx ?? `${f.domain} の MX`;
  const remedy = TLS_REMEDY[top?.resultType ?? ''];
  const specific = remedy ? remedy(top?.mx ?? mx, f.domain) : { en: `Check the TLS set-up of ${mx}.`, ja: `${mxJa} の TLS 設定を確認してください。` };
  return {
    message: {
      en: `${listOf(f.reporters)} could not deliver mail to ${f.domain} over TLS in ${f.failed} of ${f.total} sessions (${kinds.join('; ')}). ${f.enforced ? 'Your MTA-STS or DANE policy requires TLS, so that mail was not delivered.' : 'That mail was sent without encryption or retried later.'}`,
      ja: `${listOf(f.reporters)} から ${f.domain} へのメール配送で、${f.total} 回中 ${f.failed} 回 TLS 接続に失敗しました（${kinds.join('、')}）。${f.enforced ? 'MTA-STS または DANE で TLS を必須にしているため、そのメールは配送されていません。' : 'そのメールは暗号化なしで送られたか、後で再送されています。'}`,
    },
    remedy: {
      en: `${specific.en} Customers' mail to you depends on it.`,
      ja: `${specific.ja}お客様からあなたへのメールの受信に関わります。`,
    },
  };
}
