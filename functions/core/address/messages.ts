/**
 * What a support desk would say about each address problem, in English and Japanese.
 * Pure text builders: the diagnosis decides, these only word it.
 */
import type { Localized } from '../findings.ts';

/** Quotes characters for display; invisible ones are shown by their code point. */
export function showChars(chars: Iterable<string>): string {
  const shown = [...new Set(chars)].map((c) => (/^[\p{L}\p{N}\p{P}\p{S}]$/u.test(c) ? `"${c}"` : `U+${(c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`));
  return shown.join(' ');
}

/** The sentence that offers the corrected address: certain fixes are stated, guesses asked. */
export function suggestionSentence(suggestion: string, guess: boolean): Localized {
  return guess
    ? { en: `Did you mean ${suggestion}?`, ja: `正しくは ${suggestion} ではありませんか？` }
    : { en: `Write it as ${suggestion}.`, ja: `正しくは ${suggestion} です。` };
}

const CARRIER_ADVICE: Localized = {
  en: 'Japanese mobile carriers issued such addresses until about 2009; they may be real, but many mail services (Gmail among them) refuse to send to them. Ask the recipient for another address, or to change this one at the carrier.',
  ja: '2009年ごろまで携帯キャリアで作成できた形式で、実在する可能性はありますが、Gmail をはじめ多くのメールサービスはこの宛先に送信できません。別のアドレスを教えてもらうか、キャリアでアドレスを変更してもらうようお願いしてください。',
};

const TYPO_ADVICE: Localized = {
  en: 'No provider issues such addresses, so it is most likely a typing mistake, and most mail servers refuse it.',
  ja: 'このような形式のアドレスは発行されていないため入力ミスの可能性が高く、ほとんどのメールサーバーは受け付けません。',
};

function join(...parts: Localized[]): Localized {
  return { en: parts.map((p) => p.en).join(' '), ja: parts.map((p) => p.ja).join('') };
}

/** The texts, one builder per situation. */
export const MESSAGES = {
  empty: (): Localized => ({ en: 'The address is empty.', ja: 'アドレスが入力されていません。' }),
  localEmpty: (): Localized => ({
    en: 'There is nothing before the @: the name part of the address is missing.',
    ja: '@ の前（名前の部分）がありません。',
  }),
  domainEmpty: (): Localized => ({
    en: 'There is nothing after the @: the domain (e.g. example.jp) is missing.',
    ja: '@ の後ろ（example.jp のようなドメインの部分）がありません。',
  }),
  localBadChars: (chars: string): Localized => ({
    en: `The part before @ contains characters an address cannot have: ${chars}.`,
    ja: `@ の前に、メールアドレスには使えない文字（${chars}）が含まれています。`,
  }),
  misplacedQuote: (): Localized => ({
    en: 'The address has a quotation mark (") where none is allowed.',
    ja: 'アドレスに、使えない位置の引用符（"）が含まれています。',
  }),
  unterminatedQuote: (): Localized => ({
    en: 'The address opens a quotation mark (") but never closes it.',
    ja: 'アドレスの引用符（"）が閉じられていません。',
  }),
  controlInQuotes: (): Localized => ({
    en: 'The quoted part contains a tab, line break or control character, which no address may contain.',
    ja: '引用符の中に、タブ・改行・制御文字が含まれています。アドレスには使えません。',
  }),
  displayName: (): Localized => ({
    en: 'It contains a name or angle brackets (< >) besides the address: enter the address alone.',
    ja: '名前や < > が含まれています。アドレスだけを入力してください。',
  }),
  mailto: (): Localized => ({
    en: 'It starts with "mailto:", which belongs to links, not to the address.',
    ja: '先頭の「mailto:」はリンク用の記号で、アドレスの一部ではありません。',
  }),
  missingAt: (): Localized => ({
    en: 'The address has no @. Every address has the form name@domain.',
    ja: 'アドレスに @ がありません。メールアドレスは「名前@ドメイン」の形です。',
  }),
  multipleAt: (): Localized => ({
    en: 'The address has more than one @. An address has exactly one; if these are several addresses, enter them one at a time.',
    ja: '@ が複数あります。アドレスに含まれる @ は1つだけです。複数のアドレスの場合は1つずつ入力してください。',
  }),
  dotBeforeAtCarrier: (): Localized =>
    join({ en: 'The address has a dot (.) right before the @, which the mail standard (RFC 5322) forbids.', ja: '@ の直前にドット（.）があります。メールの規格（RFC 5322）では認められていない形式です。' }, CARRIER_ADVICE),
  dotBeforeAt: (): Localized =>
    join({ en: 'The address has a dot (.) right before the @, which the mail standard (RFC 5322) forbids.', ja: '@ の直前にドット（.）があります。メールの規格（RFC 5322）では認められていない形式です。' }, TYPO_ADVICE),
  consecutiveDotsCarrier: (): Localized =>
    join({ en: 'The part before @ has two or more dots in a row (..), which the mail standard (RFC 5322) forbids.', ja: '@ の前にドット（.）が連続しています。メールの規格（RFC 5322）では認められていない形式です。' }, CARRIER_ADVICE),
  consecutiveDots: (): Localized =>
    join({ en: 'The part before @ has two or more dots in a row (..), which the mail standard (RFC 5322) forbids.', ja: '@ の前にドット（.）が連続しています。メールの規格（RFC 5322）では認められていない形式です。' }, TYPO_ADVICE),
  domainDots: (): Localized => ({
    en: 'The domain has two dots in a row (..): a domain name cannot have an empty part.',
    ja: 'ドメインにドット（.）が連続しています。ドメイン名としてありえない形です。',
  }),
  leadingDot: (): Localized =>
    join({ en: 'The address starts with a dot (.), which the mail standard (RFC 5322) forbids.', ja: 'アドレスがドット（.）で始まっています。メールの規格（RFC 5322）では認められていない形式です。' }, TYPO_ADVICE),
  domainEdgeDot: (): Localized => ({
    en: 'The domain starts or ends with a dot (.), so mail cannot be delivered to it as written.',
    ja: 'ドメインがドット（.）で始まっているか、ドット（.）で終わっています。このままでは配信できません。',
  }),
  slashOrQuestion: (chars: string): Localized => ({
    en: `The part before @ contains ${chars}. The mail standard allows these, but many mail services and web forms refuse such addresses; double-check it with the recipient.`,
    ja: `@ の前に ${chars} が含まれています。規格上は使える文字ですが、受け付けないメールサービスや入力フォームが多いため、受信者に確認してください。`,
  }),
  rareSymbols: (chars: string): Localized => ({
    en: `The part before @ contains ${chars}: allowed by the mail standard, but rare, and some web forms refuse it.`,
    ja: `@ の前に ${chars} が含まれています。規格上は使える文字ですが珍しく、受け付けない入力フォームもあります。`,
  }),
  quoted: (): Localized => ({
    en: 'The address is valid: the mail standard (RFC 5321) allows the part before @ in quotation marks ("…"), spaces included. But many mail services and web forms refuse such addresses, so mail to it may be refused on the way; if it comes back, ask the recipient for another address.',
    ja: 'このアドレスは有効です。規格（RFC 5321）では @ の前を引用符（"…"）で囲む書き方（空白を含むものも）が認められています。ただし、このようなアドレスを受け付けないメールサービスや入力フォームが多く、途中で拒否されることがあります。届かずに戻ってきた場合は、別のアドレスを相手に確認してください。',
  }),
  needlessQuotes: (): Localized => ({
    en: 'The part before @ is in quotation marks ("…") that it does not need; many mail services and web forms refuse quotation marks.',
    ja: '@ の前が不要な引用符（"…"）で囲まれています。引用符を受け付けないメールサービスや入力フォームが多くあります。',
  }),
  comma: (): Localized => ({
    en: 'The address has a comma (,) where a dot (.) belongs; an address never contains a comma.',
    ja: 'ドット（.）の代わりにカンマ（,）が入力されています。メールアドレスにカンマは使えません。',
  }),
  fullwidth: (chars: string): Localized => ({
    en: `The address contains full-width or look-alike characters (${chars}), typically typed with Japanese input on. Addresses are written in half-width (ASCII) characters.`,
    ja: `全角文字や似た形の記号（${chars}）が含まれています。日本語入力がオンのまま入力された可能性があります。メールアドレスは半角英数字で入力してください。`,
  }),
  fullwidthEdges: (): Localized => ({
    en: 'There is a full-width space before or after the address, typically typed with Japanese input on.',
    ja: 'アドレスの前後に全角スペースが入っています。日本語入力がオンのまま入力された可能性があります。',
  }),
  whitespaceEdges: (): Localized => ({
    en: 'There is a space or line break before or after the address. Many programs remove it, but an address never contains one.',
    ja: 'アドレスの前後にスペースや改行が入っています。自動で取り除かれることも多いですが、アドレスには含められません。',
  }),
  whitespaceInside: (): Localized => ({
    en: 'There is a space or an invisible character inside the address; an address cannot contain one.',
    ja: 'アドレスの途中にスペースや目に見えない文字が入っています。アドレスには含められません。',
  }),
  domainBadChars: (chars: string): Localized => ({
    en: `The domain contains characters a domain name cannot have: ${chars}. Only letters, digits, hyphens (-) and dots are allowed.`,
    ja: `ドメインに使えない文字（${chars}）が含まれています。使えるのは英数字・ハイフン（-）・ドットだけです。`,
  }),
  domainUnconvertible: (): Localized => ({
    en: 'The domain contains characters that no domain name can have.',
    ja: 'ドメインに、ドメイン名には使えない文字が含まれています。',
  }),
  labelHyphen: (label: string): Localized => ({
    en: `The domain part "${label}" starts or ends with a hyphen (-), which a domain name cannot.`,
    ja: `ドメインの「${label}」がハイフン（-）で始まっているか終わっています。ドメイン名としてありえない形です。`,
  }),
  labelTooLong: (label: string): Localized => ({
    en: `The domain part "${label}" is longer than 63 characters, the limit for one part of a domain name.`,
    ja: `ドメインの「${label}」が63文字を超えています（ドメイン名の1区切りの上限です）。`,
  }),
  dotlessDomain: (domain: string): Localized => ({
    en: `The domain "${domain}" has no dot; on the Internet a mail domain always has at least one (e.g. example.jp).`,
    ja: `ドメイン「${domain}」にドット（.）がありません。インターネットのメールドメインには必ずドットがあります（例: example.jp）。`,
  }),
  badTld: (tld: string): Localized => ({
    en: `The domain ends in ".${tld}", which is not a top-level domain that exists.`,
    ja: `ドメインの末尾「.${tld}」は実在するトップレベルドメインではありません。`,
  }),
  bareIp: (): Localized => ({
    en: 'The domain is an IP address. It must be written in brackets ([192.0.2.1]), and many mail servers refuse such addresses; use the domain name if there is one.',
    ja: 'ドメインの部分が IP アドレスです。角かっこ（[192.0.2.1]）で囲む必要があり、受け付けないメールサーバーも多いため、ドメイン名があればそちらを使ってください。',
  }),
  ipLiteral: (): Localized => ({
    en: 'The domain is an IP address in brackets. The mail standard allows this, but many mail servers refuse it; use the domain name if there is one.',
    ja: 'ドメインの部分が角かっこで囲んだ IP アドレスです。規格上は認められていますが、受け付けないメールサーバーが多いため、ドメイン名があればそちらを使ってください。',
  }),
  badIpLiteral: (): Localized => ({
    en: 'The domain is in brackets but is not a valid IP address.',
    ja: 'ドメインの部分が角かっこで囲まれていますが、正しい IP アドレスではありません。',
  }),
  typo: (domain: string, meant: readonly string[]): Localized =>
    meant.length === 1
      ? { en: `The domain "${domain}" looks like a typing mistake for "${meant[0]}".`, ja: `ドメイン「${domain}」は「${meant[0]}」の入力ミスのようです。` }
      : {
          en: `The domain "${domain}" looks like a typing mistake for ${meant.map((m) => `"${m}"`).join(' or ')}; check it with the recipient.`,
          ja: `ドメイン「${domain}」は${meant.map((m) => `「${m}」`).join('か')}の入力ミスのようです。受信者に確認してください。`,
        },
  mixedCaseProvider: (): Localized => ({
    en: 'The address contains capital letters. Mail services ignore case, so this is usually harmless, but addresses are normally written in lower case.',
    ja: 'アドレスに大文字が含まれています。大文字と小文字は区別されないため通常は届きますが、アドレスは小文字で書くのが普通です。',
  }),
  mixedCase: (): Localized => ({
    en: 'The address contains capital letters. The domain ignores case and nearly every server treats the name part the same way; if mail does not arrive, write it exactly as the recipient gave it.',
    ja: 'アドレスに大文字が含まれています。ドメインでは大文字と小文字は区別されず、@ の前もほとんどのサーバーで区別されませんが、届かない場合は受信者から聞いたとおりに入力してください。',
  }),
  nonAsciiProvider: (chars: string): Localized => ({
    en: `The part before @ contains characters other than half-width letters, digits and symbols (${chars}); this provider only issues addresses in those.`,
    ja: `@ の前に半角英数字・記号以外の文字（${chars}）が含まれています。このメールサービスのアドレスには使えない文字です。`,
  }),
  nonAscii: (chars: string): Localized => ({
    en: `The part before @ contains non-ASCII characters (${chars}). Sending to it needs SMTPUTF8 (RFC 6531) on every server on the way, which many do not support.`,
    ja: `@ の前に半角英数字以外の文字（${chars}）が含まれています。送信には経路上のすべてのサーバーが SMTPUTF8（RFC 6531）に対応している必要があり、対応していないサーバーが多くあります。`,
  }),
  localTooLong: (octets: number): Localized => ({
    en: `The part before @ is ${octets} bytes long; the limit is 64.`,
    ja: `@ の前が ${octets} バイトあります。上限は 64 バイトです。`,
  }),
  domainTooLong: (octets: number): Localized => ({
    en: `The domain is ${octets} bytes long; the limit is 255.`,
    ja: `ドメインが ${octets} バイトあります。上限は 255 バイトです。`,
  }),
  pathTooLong: (octets: number): Localized => ({
    en: `The address is ${octets} bytes long; mail servers accept at most 254.`,
    ja: `アドレス全体が ${octets} バイトあります。メールサーバーが受け付けるのは 254 バイトまでです。`,
  }),
  noMailServer: (domain: string): Localized => ({
    en: `The domain "${domain}" has no mail server (neither MX nor an address record): mail to it cannot be delivered. Check the spelling of the domain.`,
    ja: `ドメイン「${domain}」にはメールサーバーがありません（MX レコードもアドレスレコードもありません）。このドメインには配信できません。ドメインの綴りを確認してください。`,
  }),
  domainNotFound: (domain: string): Localized => ({
    en: `The domain "${domain}" does not exist: mail to it cannot be delivered. Check the spelling of the domain.`,
    ja: `ドメイン「${domain}」は存在しません。このドメインには配信できません。ドメインの綴りを確認してください。`,
  }),
  nullMx: (domain: string): Localized => ({
    en: `The domain "${domain}" declares that it accepts no mail (null MX, RFC 7505).`,
    ja: `ドメイン「${domain}」はメールを受け付けないと宣言しています（null MX、RFC 7505）。`,
  }),
  dnsUnavailable: (domain: string, code: string): Localized => ({
    en: `Could not look up the mail servers of "${domain}" (${code}); the domain was not checked.`,
    ja: `「${domain}」のメールサーバーを確認できませんでした（${code}）。ドメインは未確認です。`,
  }),
} as const;
