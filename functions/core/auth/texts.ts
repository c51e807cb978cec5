/**
 * What each authentication finding says and what to do about it, in English and Japanese,
 * written for the person who runs the shop. One builder per code, typed by the facts it needs;
 * the checks decide, these only word it.
 */
import type { AuthCode, Localized } from '../findings.ts';

/** A finding's two texts, each in both languages. */
export interface FindingText {
  readonly message: Localized;
  readonly remedy: Localized;
}

/** The SPF ending a text talks about. */
export type SpfEnding = '+all' | '~all' | '?all' | 'none';

/** The facts each code's text needs. */
export interface AuthTextParams {
  SPF_MISSING: { readonly domain: string };
  SPF_MULTIPLE_RECORDS: { readonly domain: string; readonly at: string; readonly count: number };
  SPF_SYNTAX:
    | { readonly variant: 'syntax'; readonly domain: string; readonly at: string; readonly term: string; readonly problem: string }
    | { readonly variant: 'include-missing'; readonly domain: string; readonly at: string; readonly via: string }
    | { readonly variant: 'loop'; readonly domain: string; readonly at: string; readonly via: string };
  SPF_TOO_MANY_LOOKUPS: { readonly domain: string; readonly lookups: number };
  SPF_ALLOWS_ALL: { readonly domain: string; readonly ending: SpfEnding; readonly via: string | null };
  DMARC_MISSING: { readonly domain: string };
  DMARC_SYNTAX: { readonly domain: string; readonly at: string; readonly detail: string };
  DMARC_POLICY_NONE: { readonly domain: string; readonly at: string };
  DKIM_KEY_MISSING: { readonly domain: string; readonly selector: string; readonly name: string; readonly problem: string | null };
  DKIM_KEY_WEAK: { readonly domain: string; readonly selector: string; readonly bits: number };
  DKIM_KEY_REVOKED: { readonly domain: string; readonly selector: string; readonly name: string };
  MX_MISSING: { readonly domain: string; readonly variant: 'none' | 'null' | 'nxdomain' };
  PTR_MISSING: { readonly ip: string };
  PTR_MISMATCH: { readonly ip: string; readonly names: readonly string[] };
  DNSBL_LISTED: { readonly ip: string; readonly zone: string; readonly codes: readonly string[]; readonly text: string | null };
  DNSBL_UNAVAILABLE: { readonly ip: string; readonly zone: string; readonly why: { readonly kind: 'refused'; readonly code: string } | { readonly kind: 'bogus'; readonly code: string } | { readonly kind: 'dns'; readonly code: string } };
  CANARY_SPF_FAIL: { readonly domain: string; readonly result: string; readonly ip: string | null; readonly helo: string | null; readonly mailFrom: string | null };
  CANARY_DKIM_FAIL: { readonly domain: string; readonly signatures: readonly { readonly domain: string; readonly selector: string | null; readonly result: string }[] };
  CANARY_DMARC_FAIL: { readonly domain: string; readonly policy: string | null; readonly spfDomain: string | null; readonly spfResult: string; readonly dkimDomains: readonly string[] };
}

const PROVIDERS: Localized = {
  en: 'Since 2024 Gmail and Yahoo refuse or junk mail that is not authenticated (SPF or DKIM for every sender; SPF, DKIM and DMARC for bulk senders), and the Japanese carriers (docomo, au, SoftBank) let their users refuse mail that fails these checks as spoofed.',
  ja: '2024年から Gmail と Yahoo は認証されていないメールを拒否または迷惑メール扱いにしています（すべての送信者に SPF または DKIM、大量送信者には SPF・DKIM・DMARC のすべてが必要）。ドコモ・au・ソフトバンクも、これらの確認に失敗したメールを「なりすまし」として受信拒否できる設定を利用者に提供しています。',
};

const PERMERROR: Localized = {
  en: 'Receivers treat the whole SPF record as a permanent error (permerror), so SPF fails for all of your mail.',
  ja: '受信側は SPF レコード全体を恒久的なエラー（permerror）として扱うため、すべてのメールで SPF が失敗します。',
};

function list(items: readonly string[]): string {
  return items.join(', ');
}

/** The text builders, one per authentication code. */
export const AUTH_TEXTS: { readonly [C in AuthCode]: (p: AuthTextParams[C]) => FindingText } = {
  SPF_MISSING: (p) => ({
    message: {
      en: `${p.domain} publishes no SPF record, so receivers cannot tell which servers may send its mail. ${PROVIDERS.en}`,
      ja: `${p.domain} には SPF レコードがないため、受信側はどのサーバーがこのドメインのメールを送ってよいのか判断できません。${PROVIDERS.ja}`,
    },
    remedy: {
      en: `Add one TXT record at ${p.domain} that starts with v=spf1 and lists the servers that send your mail, usually your provider's include (e.g. "v=spf1 include:<your provider's SPF domain> -all"; your provider's manual gives the exact text).`,
      ja: `${p.domain} に v=spf1 で始まる TXT レコードを 1 つ追加し、メールを送るサーバー（通常はメール事業者の include）を記載してください（例:「v=spf1 include:<事業者の SPF 用ドメイン> -all」。正確な内容は事業者のマニュアルに記載されています）。`,
    },
  }),

  SPF_MULTIPLE_RECORDS: (p) => {
    const nested = p.at !== p.domain;
    return {
      message: {
        en: `${p.at} publishes ${p.count} SPF records (TXT records starting with v=spf1)${nested ? `, and the SPF record of ${p.domain} includes it` : ''}. A domain may have only one. ${PERMERROR.en}`,
        ja: `${p.at} に SPF レコード（v=spf1 で始まる TXT レコード）が ${p.count} 個あります${nested ? `（${p.domain} の SPF レコードがこれを include しています）` : ''}。SPF レコードは 1 つのドメインに 1 つだけです。${PERMERROR.ja}`,
      },
      remedy: nested
        ? {
            en: `Tell the operator of ${p.at} (the service you include) about it, or remove include:${p.at} from your record if you no longer use that service.`,
            ja: `${p.at} の運営者（include しているサービス）に連絡するか、そのサービスを使っていなければ include:${p.at} を削除してください。`,
          }
        : {
            en: `Merge them into one TXT record: one "v=spf1" at the start, the include:, ip4: and ip6: terms of all of them, and a single -all or ~all at the end. Then delete the others.`,
            ja: '1 つの TXT レコードにまとめてください。先頭に「v=spf1」を 1 回、すべてのレコードの include:・ip4:・ip6: を並べ、最後に -all または ~all を 1 つだけ置きます。その後、残りのレコードを削除してください。',
          },
    };
  },

  SPF_SYNTAX: (p) => {
    if (p.variant === 'include-missing') {
      return {
        message: {
          en: `The SPF record of ${p.via} includes ${p.at}, which publishes no SPF record${p.via !== p.domain ? ` (reached from ${p.domain})` : ''}. ${PERMERROR.en}`,
          ja: `${p.via} の SPF レコードが include している ${p.at} には SPF レコードがありません${p.via !== p.domain ? `（${p.domain} からたどった先です）` : ''}。${PERMERROR.ja}`,
        },
        remedy: {
          en: `Check include:${p.at} letter by letter against your provider's current instructions (providers sometimes rename it), or remove it if you no longer send through that service.`,
          ja: `include:${p.at} のつづりをメール事業者の最新の案内と 1 文字ずつ照らし合わせてください（事業者が名前を変更することもあります）。そのサービスを使っていなければ削除してください。`,
        },
      };
    }
    if (p.variant === 'loop') {
      return {
        message: {
          en: `The SPF records of ${p.via} and ${p.at} include each other in a loop. ${PERMERROR.en}`,
          ja: `${p.via} と ${p.at} の SPF レコードが互いに include し合ってループしています。${PERMERROR.ja}`,
        },
        remedy: { en: `Remove the include that points back to ${p.at}.`, ja: `${p.at} に戻る include を削除してください。` },
      };
    }
    const where = p.at === p.domain ? `The SPF record of ${p.domain}` : `The SPF record of ${p.at} (included by ${p.domain})`;
    const whereJa = p.at === p.domain ? `${p.domain} の SPF レコード` : `${p.at} の SPF レコード（${p.domain} が include しています）`;
    return {
      message: {
        en: `${where} has an error at "${p.term}": ${p.problem}. ${PERMERROR.en}`,
        ja: `${whereJa}の「${p.term}」の部分に誤りがあります（${p.problem}）。${PERMERROR.ja}`,
      },
      remedy: {
        en: `Correct "${p.term}" in the TXT record of ${p.at} (typical mistakes: a missing colon, "ip4:" with a wrong address, a typo in "include"), then check again with mailhealth dns ${p.domain}.`,
        ja: `${p.at} の TXT レコードの「${p.term}」を修正し（よくある誤り: コロンの抜け、ip4: のアドレスの誤り、include のつづり間違い）、mailhealth dns ${p.domain} で再確認してください。`,
      },
    };
  },

  SPF_TOO_MANY_LOOKUPS: (p) => ({
    message: {
      en: `The SPF record of ${p.domain} needs ${p.lookups} DNS lookups (include, a, mx, ptr, exists and redirect, counted through every include). Receivers stop at 10 (RFC 7208). ${PERMERROR.en}`,
      ja: `${p.domain} の SPF レコードは DNS 参照を ${p.lookups} 回必要とします（include・a・mx・ptr・exists・redirect を、include の先まで数えた回数）。受信側は 10 回で打ち切ります（RFC 7208）。${PERMERROR.ja}`,
    },
    remedy: {
      en: 'Remove includes of services you no longer send through, replace "a" and "mx" by the ip4:/ip6: addresses they stand for, and drop "ptr". Keep the count at 10 or fewer.',
      ja: '使っていないサービスの include を削除し、a や mx はそれが指す ip4:/ip6: のアドレスに置き換え、ptr は削除してください。参照回数を 10 回以内に収めてください。',
    },
  }),

  SPF_ALLOWS_ALL: (p) => {
    const via = p.via ? ` (through include:${p.via})` : '';
    const viaJa = p.via ? `（include:${p.via} を通じて）` : '';
    if (p.ending === '+all') {
      return {
        message: {
          en: `The SPF record of ${p.domain} ends with +all${via}: every server in the world passes SPF for ${p.domain}, so anyone can send mail in your name and SPF proves nothing.`,
          ja: `${p.domain} の SPF レコードは +all で終わっています${viaJa}。世界中のどのサーバーも ${p.domain} の SPF に合格するため、誰でもあなたの名前でメールを送れてしまい、SPF が意味をなしません。`,
        },
        remedy: {
          en: 'Replace +all by -all (or ~all) once the record lists every server that sends your mail (usually your provider\'s include).',
          ja: 'メールを送るサーバー（通常は事業者の include）をすべて記載したうえで、+all を -all（または ~all）に置き換えてください。',
        },
      };
    }
    if (p.ending === '~all') {
      return {
        message: {
          en: `The SPF record of ${p.domain} ends with ~all (softfail): mail from servers it does not list is marked suspicious, not refused, and receivers decide with DMARC. A common and acceptable setting.`,
          ja: `${p.domain} の SPF レコードは ~all（softfail）で終わっています。記載のないサーバーからのメールは拒否ではなく「疑わしい」扱いになり、最終的な判断は DMARC に委ねられます。一般的で問題のない設定です。`,
        },
        remedy: {
          en: 'Nothing required. When all your mail goes through the servers listed, -all is stricter; keep DMARC at quarantine or reject so that forged mail is refused.',
          ja: '対応は必須ではありません。記載したサーバーだけからメールを送っているなら -all がより厳格です。なりすましメールが拒否されるよう、DMARC は quarantine か reject にしておいてください。',
        },
      };
    }
    const what = p.ending === '?all' ? 'ends with ?all (neutral)' : 'has no "all" at its end, which means neutral';
    const whatJa = p.ending === '?all' ? 'は ?all（neutral）で終わっており' : 'の末尾に all がなく（neutral と同じ扱い）';
    return {
      message: {
        en: `The SPF record of ${p.domain} ${what}: it says nothing about servers it does not list, so it does not discourage mail forged in your name.`,
        ja: `${p.domain} の SPF レコード${whatJa}、記載のないサーバーについて何も示していないため、なりすましメールの抑止になりません。`,
      },
      remedy: {
        en: 'End the record with ~all or -all.',
        ja: 'レコードの末尾を ~all または -all にしてください。',
      },
    };
  },

  DMARC_MISSING: (p) => ({
    message: {
      en: `${p.domain} has no DMARC record (a TXT record at _dmarc.${p.domain}). Gmail and Yahoo require one from bulk senders (5,000 or more messages a day), and without it receivers have no instruction for mail forged in your name.`,
      ja: `${p.domain} には DMARC レコード（_dmarc.${p.domain} の TXT レコード）がありません。Gmail と Yahoo は大量送信者（1 日 5,000 通以上）に DMARC を必須としており、DMARC がないと、あなたの名前をかたるメールをどう扱うべきか受信側に伝わりません。`,
    },
    remedy: {
      en: `Add a TXT record at _dmarc.${p.domain}: "v=DMARC1; p=none; rua=mailto:<an address that collects reports>". Start with p=none to receive reports, then move to p=quarantine or p=reject once your own mail passes.`,
      ja: `_dmarc.${p.domain} に TXT レコード「v=DMARC1; p=none; rua=mailto:<レポートを受け取るアドレス>」を追加してください。まず p=none でレポートを受け取り、自社のメールが合格していることを確認してから p=quarantine または p=reject に強化します。`,
    },
  }),

  DMARC_SYNTAX: (p) => ({
    message: {
      en: `The DMARC record at _dmarc.${p.at} cannot be read: ${p.detail}. Receivers ignore it, as if ${p.domain} had no DMARC policy.`,
      ja: `_dmarc.${p.at} の DMARC レコードを解釈できません（${p.detail}）。受信側はこれを無視するため、${p.domain} に DMARC ポリシーがないのと同じ状態です。`,
    },
    remedy: {
      en: `Keep exactly one record at _dmarc.${p.at}, written as "v=DMARC1; p=none|quarantine|reject; rua=mailto:…" (v first, p second, tags separated by semicolons).`,
      ja: `_dmarc.${p.at} のレコードを 1 つだけにし、「v=DMARC1; p=none|quarantine|reject; rua=mailto:…」の形（v が先頭、次に p、タグはセミコロン区切り）で書いてください。`,
    },
  }),

  DMARC_POLICY_NONE: (p) => ({
    message: {
      en: `The DMARC policy of ${p.domain} is p=none${p.at !== p.domain ? ` (from _dmarc.${p.at})` : ''}: monitoring only. It meets Gmail's and Yahoo's requirement for bulk senders, but mail forged in your name is still delivered.`,
      ja: `${p.domain} の DMARC ポリシーは p=none です${p.at !== p.domain ? `（_dmarc.${p.at} のもの）` : ''}。監視のみの設定で、Gmail と Yahoo の大量送信者向けの要件は満たしますが、あなたの名前をかたるメールはそのまま届きます。`,
    },
    remedy: {
      en: 'When the DMARC reports (rua) show that your own mail passes, raise the policy to p=quarantine, then to p=reject.',
      ja: 'DMARC レポート（rua）で自社のメールが合格していることを確認したら、ポリシーを p=quarantine、さらに p=reject へ強化してください。',
    },
  }),

  DKIM_KEY_MISSING: (p) => ({
    message: p.problem
      ? {
          en: `The DKIM record of selector "${p.selector}" at ${p.name} is not a usable key: ${p.problem}. Signatures made with this selector fail verification.`,
          ja: `${p.name} にあるセレクター「${p.selector}」の DKIM レコードは有効な鍵ではありません（${p.problem}）。このセレクターで付けた署名は検証に失敗します。`,
        }
      : {
          en: `No DKIM key is published for selector "${p.selector}" of ${p.domain} (nothing at ${p.name}), so signatures made with this selector fail verification.`,
          ja: `${p.domain} のセレクター「${p.selector}」の DKIM 公開鍵が公開されていません（${p.name} に何もありません）。このセレクターで付けた署名は検証に失敗します。`,
        },
    remedy: {
      en: `Publish the TXT (or CNAME) record your provider gives for selector "${p.selector}". If your provider signs with another selector, correct targets[].dkimSelectors (or --selector).`,
      ja: `メール事業者が案内するセレクター「${p.selector}」用の TXT（または CNAME）レコードを公開してください。事業者が別のセレクターで署名している場合は targets[].dkimSelectors（または --selector）を修正してください。`,
    },
  }),

  DKIM_KEY_WEAK: (p) =>
    p.bits < 1024
      ? {
          message: {
            en: `The DKIM key of selector "${p.selector}" of ${p.domain} is only ${p.bits}-bit RSA. Receivers (Gmail among them, RFC 8301) refuse keys under 1024 bits, so DKIM fails for mail signed with it.`,
            ja: `${p.domain} のセレクター「${p.selector}」の DKIM 鍵は ${p.bits} ビットの RSA 鍵です。Gmail をはじめ受信側は 1024 ビット未満の鍵を認めない（RFC 8301）ため、この鍵で署名したメールの DKIM は失敗します。`,
          },
          remedy: {
            en: 'Create a 2048-bit key at your provider, publish it under a new selector, switch signing to it, then delete the old record.',
            ja: '事業者で 2048 ビットの鍵を作成して新しいセレクターで公開し、署名をその鍵に切り替えてから古いレコードを削除してください。',
          },
        }
      : {
          message: {
            en: `The DKIM key of selector "${p.selector}" of ${p.domain} is ${p.bits}-bit RSA: accepted today, but 2048 bits is recommended.`,
            ja: `${p.domain} のセレクター「${p.selector}」の DKIM 鍵は ${p.bits} ビットの RSA 鍵です。現在は受け入れられていますが、2048 ビットが推奨されています。`,
          },
          remedy: {
            en: 'When convenient, create a 2048-bit key under a new selector, switch signing to it, then remove the old one.',
            ja: '都合のよいときに、新しいセレクターで 2048 ビットの鍵を作成し、署名を切り替えてから古い鍵を削除してください。',
          },
        },

  DKIM_KEY_REVOKED: (p) => ({
    message: {
      en: `The DKIM key of selector "${p.selector}" of ${p.domain} is revoked (the record at ${p.name} has an empty p=): signatures made with it fail.`,
      ja: `${p.domain} のセレクター「${p.selector}」の DKIM 鍵は失効しています（${p.name} のレコードの p= が空です）。この鍵で付けた署名は失敗します。`,
    },
    remedy: {
      en: `If mail is still signed with "${p.selector}", publish its current key or switch signing to the selector in use; if "${p.selector}" is retired, remove it from targets[].dkimSelectors.`,
      ja: `まだ「${p.selector}」で署名しているなら現在の鍵を公開するか、使用中のセレクターに署名を切り替えてください。「${p.selector}」を廃止済みなら targets[].dkimSelectors から削除してください。`,
    },
  }),

  MX_MISSING: (p) =>
    p.variant === 'null'
      ? {
          message: {
            en: `${p.domain} publishes a null MX (RFC 7505): it declares that it receives no mail. Replies and bounces to your address are refused, and receivers may refuse mail from a domain that cannot receive any.`,
            ja: `${p.domain} は null MX（RFC 7505）を公開しており、メールを一切受け取らないと宣言しています。あなたのアドレスへの返信やバウンスは拒否され、受信できないドメインからのメールを受信側が拒否することもあります。`,
          },
          remedy: {
            en: `If ${p.domain} should receive replies, replace the null MX by MX records of your mail server; otherwise send from an address of a domain that receives mail.`,
            ja: `${p.domain} で返信を受け取るべきなら、null MX をメールサーバーの MX レコードに置き換えてください。そうでなければ、メールを受信できるドメインのアドレスから送信してください。`,
          },
        }
      : {
          message: {
            en: `${p.domain} ${p.variant === 'nxdomain' ? 'does not exist in DNS' : 'has no MX record'}, so replies and bounces to your address cannot be delivered, and receivers may refuse mail from a domain that cannot receive any.`,
            ja: `${p.domain} は${p.variant === 'nxdomain' ? ' DNS に存在しない' : ' MX レコードがない'}ため、あなたのアドレスへの返信やバウンスが届きません。受信できないドメインからのメールを受信側が拒否することもあります。`,
          },
          remedy: {
            en: `Add MX records for ${p.domain} pointing at the server that receives its mail (your provider's manual names it).`,
            ja: `${p.domain} に、メールを受信するサーバー（事業者のマニュアルに記載）を指す MX レコードを追加してください。`,
          },
        },

  PTR_MISSING: (p) => ({
    message: {
      en: `The sending server ${p.ip} has no reverse DNS name (PTR record). Gmail refuses mail from such servers ("550-5.7.25"), and many providers, Japanese ISPs and carriers among them, refuse or junk it too.`,
      ja: `送信サーバー ${p.ip} には逆引き DNS の名前（PTR レコード）がありません。Gmail はこのようなサーバーからのメールを拒否し（「550-5.7.25」）、国内の ISP や携帯キャリアを含む多くの事業者も拒否または迷惑メール扱いにします。`,
    },
    remedy: {
      en: `Only the owner of the address (your provider or hosting company) can set its PTR: ask them for one that resolves back to ${p.ip}. On a shared server, tell your provider.`,
      ja: `PTR はアドレスの管理者（メール事業者やホスティング会社）しか設定できません。${p.ip} に正引きで戻る名前を設定するよう依頼してください。共用サーバーの場合は事業者に連絡してください。`,
    },
  }),

  PTR_MISMATCH: (p) => ({
    message: {
      en: `The reverse DNS name of ${p.ip} is ${list(p.names)}, but ${p.names.length > 1 ? 'none of these names resolves' : 'that name does not resolve'} back to ${p.ip} (forward-confirmed reverse DNS fails). Gmail and other receivers check this and refuse or junk mail that fails it.`,
      ja: `${p.ip} の逆引き名は ${list(p.names)} ですが、その名前を正引きしても ${p.ip} に戻りません（正引き・逆引きの一致の確認に失敗）。Gmail などの受信側はこれを確認しており、一致しないメールを拒否または迷惑メール扱いにします。`,
    },
    remedy: {
      en: `Ask whoever manages the DNS of ${p.names[0] ?? 'that name'} to add an A (or AAAA) record pointing at ${p.ip}, or ask the owner of ${p.ip} to set a PTR to a name that does.`,
      ja: `${p.names[0] ?? 'その名前'} の DNS 管理者に ${p.ip} を指す A（または AAAA）レコードの追加を依頼するか、${p.ip} の管理者に、正引きで戻る名前を PTR に設定するよう依頼してください。`,
    },
  }),

  DNSBL_LISTED: (p) => ({
    message: {
      en: `The sending server ${p.ip} is listed on the blocklist ${p.zone} (answer ${list(p.codes)})${p.text ? `: "${p.text}"` : ''}. Receivers that use this list refuse or junk mail from this server.`,
      ja: `送信サーバー ${p.ip} はブロックリスト ${p.zone} に掲載されています（応答 ${list(p.codes)}）${p.text ? `:「${p.text}」` : ''}。このリストを使う受信側は、このサーバーからのメールを拒否または迷惑メール扱いにします。`,
    },
    remedy: {
      en: `Find out why on the list's lookup page${p.text ? ' (the text above usually links to it)' : ''}, fix the cause (a hijacked account or web form sending spam), then request removal there. On a shared server, send this to your provider: only they can fix it.`,
      ja: `リストの検索ページで理由を確認し${p.text ? '（上の文面に多くの場合リンクがあります）' : ''}、原因（乗っ取られたアカウントや迷惑メールを送るウェブフォームなど）を解消してから、そこで掲載解除を申請してください。共用サーバーの場合は、対応できるのは事業者だけなので、この内容を事業者に伝えてください。`,
    },
  }),

  DNSBL_UNAVAILABLE: (p) => {
    const why =
      p.why.kind === 'refused'
        ? {
            en: `answered ${p.why.code}, its way of refusing the question (Spamhaus does so for queries through public or unregistered resolvers)`,
            ja: `${p.why.code} と応答しました。これは問い合わせを拒否する応答です（Spamhaus は公開 DNS や未登録のリゾルバー経由の問い合わせにこう応答します）`,
          }
        : p.why.kind === 'bogus'
          ? { en: `answered ${p.why.code}, which is not a blocklist answer (a resolver that rewrites answers, or a list that is gone)`, ja: `${p.why.code} と応答しましたが、これはブロックリストの応答ではありません（応答を書き換えるリゾルバーか、運用を終えたリスト）` }
          : { en: `did not answer (${p.why.code})`, ja: `応答しませんでした（${p.why.code}）` };
    return {
      message: {
        en: `The blocklist ${p.zone} ${why.en}, so whether ${p.ip} is listed there is unknown. This is not a listing.`,
        ja: `ブロックリスト ${p.zone} は${why.ja}。そのため ${p.ip} が掲載されているかは不明です。掲載されているという意味ではありません。`,
      },
      remedy: {
        en: 'Nothing to fix in your mail. To check this list, query it through your own resolver rather than a public one (8.8.8.8, 1.1.1.1), or register with the list (Spamhaus: a free Data Query Service key), and name it with --dnsbl.',
        ja: 'メール側で直すことはありません。このリストを確認するには、公開 DNS（8.8.8.8、1.1.1.1）ではなく自前のリゾルバー経由で問い合わせるか、リストに登録（Spamhaus なら無料の Data Query Service キー）して --dnsbl で指定してください。',
      },
    };
  },

  CANARY_SPF_FAIL: (p) => {
    const from = [p.ip ? `from ${p.ip}` : null, p.helo ? `(HELO ${p.helo})` : null].filter(Boolean).join(' ');
    const fromJa = [p.ip ? `${p.ip}` : null, p.helo ? `（HELO ${p.helo}）` : null].filter(Boolean).join('');
    return {
      message: {
        en: `The canary sent ${from || 'by your provider'} did not pass SPF for ${p.domain}${p.mailFrom ? ` (envelope sender ${p.mailFrom})` : ''}: the result was ${p.result}. ${PROVIDERS.en}`,
        ja: `${fromJa ? `${fromJa} から` : '事業者から'}送られたテストメールは ${p.domain} の SPF に合格しませんでした${p.mailFrom ? `（エンベロープ送信者 ${p.mailFrom}）` : ''}。結果: ${p.result}。${PROVIDERS.ja}`,
      },
      remedy: {
        en: `Make sure the SPF record of ${p.domain} lists the server that sends your mail (your provider's include${p.ip ? ` or ip4:${p.ip}` : ''}) and has no error: run mailhealth dns ${p.domain}.`,
        ja: `${p.domain} の SPF レコードに、メールを送るサーバー（事業者の include${p.ip ? ` または ip4:${p.ip}` : ''}）が記載され、誤りがないことを確認してください（mailhealth dns ${p.domain} で確認できます）。`,
      },
    };
  },

  CANARY_DKIM_FAIL: (p) => {
    const none = p.signatures.length === 0;
    const sigs = p.signatures.map((s) => `d=${s.domain}${s.selector ? ` s=${s.selector}` : ''}: ${s.result}`).join('; ');
    return {
      message: none
        ? {
            en: `The canary from ${p.domain} arrived without a DKIM signature. ${PROVIDERS.en}`,
            ja: `${p.domain} からのテストメールには DKIM 署名がありませんでした。${PROVIDERS.ja}`,
          }
        : {
            en: `The DKIM signature of the canary from ${p.domain} did not verify (${sigs}). ${PROVIDERS.en}`,
            ja: `${p.domain} からのテストメールの DKIM 署名は検証に失敗しました（${sigs}）。${PROVIDERS.ja}`,
          },
      remedy: none
        ? {
            en: `Turn on DKIM signing for ${p.domain} at your provider and publish the key record it gives; then list its selector in targets[].dkimSelectors so the key is checked every round.`,
            ja: `メール事業者で ${p.domain} の DKIM 署名を有効にし、案内される鍵のレコードを公開してください。そのセレクターを targets[].dkimSelectors に加えると、毎回の確認で鍵もチェックされます。`,
          }
        : {
            en: `Check that the published key matches the one your provider signs with (run mailhealth dns ${p.domain} --selector <s>), and that nothing changes the message after signing (a footer added by a relay or a list).`,
            ja: `公開している鍵が事業者の署名に使われている鍵と一致しているか（mailhealth dns ${p.domain} --selector <s> で確認）、署名後にメールを書き換えるもの（中継サーバーやメーリングリストが付けるフッターなど）がないかを確認してください。`,
          },
    };
  },

  CANARY_DMARC_FAIL: (p) => {
    const dkim = p.dkimDomains.length > 0 ? `DKIM passed only for ${list(p.dkimDomains)}` : 'no DKIM signature passed';
    const dkimJa = p.dkimDomains.length > 0 ? `DKIM は ${list(p.dkimDomains)} でのみ合格` : '合格した DKIM 署名なし';
    const spf = p.spfDomain ? `SPF was ${p.spfResult} for ${p.spfDomain}` : `SPF was ${p.spfResult}`;
    const spfJa = p.spfDomain ? `SPF は ${p.spfDomain} で ${p.spfResult}` : `SPF は ${p.spfResult}`;
    const policy = p.policy ?? 'none';
    const effect =
      policy === 'reject'
        ? { en: 'With p=reject, receivers refuse such mail.', ja: 'p=reject のため、受信側はこのようなメールを拒否します。' }
        : policy === 'quarantine'
          ? { en: 'With p=quarantine, receivers put such mail in the spam folder.', ja: 'p=quarantine のため、受信側はこのようなメールを迷惑メールフォルダーに入れます。' }
          : { en: 'Gmail and Yahoo expect bulk senders to pass DMARC.', ja: 'Gmail と Yahoo は大量送信者に DMARC への合格を求めています。' };
    return {
      message: {
        en: `The canary failed DMARC for ${p.domain} (policy ${policy}): neither SPF nor DKIM passed for the From domain itself (${spf}; ${dkim}). ${effect.en}`,
        ja: `テストメールは ${p.domain} の DMARC に失敗しました（ポリシー ${policy}）。From のドメインそのものについて SPF も DKIM も合格していません（${spfJa}、${dkimJa}）。${effect.ja}`,
      },
      remedy: {
        en: `Make at least one of them pass aligned with ${p.domain}: have your provider sign with d=${p.domain} (DKIM, the sturdier choice) and publish its key, or send with an envelope sender in ${p.domain} that its SPF record covers. Gmail and Yahoo require this alignment from bulk senders.`,
        ja: `少なくとも一方を ${p.domain} と一致（アライメント）した状態で合格させてください。事業者に d=${p.domain} で DKIM 署名してもらい鍵を公開する（より確実な方法）か、SPF レコードで許可された ${p.domain} のエンベロープ送信者で送信します。Gmail と Yahoo は大量送信者にこの一致を求めています。`,
      },
    };
  },
};
