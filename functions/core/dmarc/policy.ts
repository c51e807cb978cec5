/**
 * Which DMARC policy to publish next, from what the reports show: stay at p=none while any of
 * the domain's own mail fails (a stricter policy would junk or refuse it), and move towards
 * p=quarantine and p=reject once all of it passes, so forged mail stops arriving.
 */
import type { Localized } from '../findings.ts';
import type { PublishedPolicy } from './model.ts';
import { senderName } from './texts.ts';

/** The advice for one domain. */
export interface PolicyRecommendation {
  /** The policy the receivers found (`none` when the report gives none). */
  readonly current: string;
  /** The policy to publish now. */
  readonly suggested: 'none' | 'quarantine' | 'reject';
  readonly message: Localized;
}

/** Days of clean reports before a stricter policy is advised (a week shows the weekly senders too). */
export const CLEAN_DAYS_BEFORE_QUARANTINE = 7;

/** The facts the advice reads (the summary's source lines). */
export interface PolicyInputs {
  readonly domain: string;
  readonly policy: PublishedPolicy;
  readonly sources: readonly { readonly known: boolean; readonly dmarc: 'pass' | 'fail'; readonly forwarded: boolean; readonly sender: string }[];
  /** How many days the reports cover. */
  readonly days: number;
}

/**
 * Advises the next DMARC policy of a domain.
 * @example recommendPolicy({ domain: 'example.jp', policy: { p: 'none', … }, sources, days: 10 }).suggested // 'quarantine'
 */
export function recommendPolicy(input: PolicyInputs): PolicyRecommendation {
  const { domain } = input;
  const current = input.policy.p ?? 'none';
  const own = input.sources.filter((s) => s.known && !s.forwarded);
  const failing = [...new Set(own.filter((s) => s.dmarc === 'fail').map((s) => s.sender))];
  const record = (p: string) => `v=DMARC1; p=${p}; rua=mailto:…`;

  if (!own.some((s) => s.dmarc === 'pass')) {
    return {
      current,
      suggested: 'none',
      message: {
        en: `None of the mail in these reports passed DMARC for ${domain}. Set up SPF and DKIM at the services that send your mail first, and keep p=none meanwhile.`,
        ja: `これらのレポートには ${domain} の DMARC に合格したメールがありません。まずメールを送っているサービスで SPF と DKIM を設定し、それまでは p=none のままにしてください。`,
      },
    };
  }
  if (failing.length > 0) {
    const whoEn = failing.slice(0, 3).map((f) => senderName(f, 'en')).join(', ');
    const whoJa = failing.slice(0, 3).map((f) => senderName(f, 'ja')).join('、');
    return {
      current,
      suggested: 'none',
      message:
        current === 'none'
          ? {
              en: `Stay at p=none until ${whoEn} passes DMARC again: a stricter policy would send your own mail to spam or refuse it.`,
              ja: `${whoJa} が再び DMARC に合格するまで p=none のままにしてください。厳しいポリシーにすると、あなた自身のメールが迷惑メールになるか拒否されます。`,
            }
          : {
              en: `Your policy is p=${current} while your own mail from ${whoEn} fails DMARC: receivers junk or refuse it now. Fix ${whoEn} at once; if that takes time, go back to p=none meanwhile.`,
              ja: `ポリシーが p=${current} のまま、${whoJa} からのあなた自身のメールが DMARC に失敗しているため、受信側で迷惑メール扱いまたは拒否されています。すぐに ${whoJa} を修正し、時間がかかる場合はその間 p=none に戻してください。`,
            },
    };
  }
  const pct = input.policy.pct;
  if (current === 'none') {
    if (input.days < CLEAN_DAYS_BEFORE_QUARANTINE) {
      return {
        current,
        suggested: 'none',
        message: {
          en: `All of your own mail passes DMARC in ${input.days} day(s) of reports. After ${CLEAN_DAYS_BEFORE_QUARANTINE} clean days (so weekly senders show up too), move to p=quarantine.`,
          ja: `${input.days} 日分のレポートでは、あなた自身のメールはすべて DMARC に合格しています。週 1 回だけ送るサービスも確認できるよう ${CLEAN_DAYS_BEFORE_QUARANTINE} 日分問題がなければ p=quarantine に上げてください。`,
        },
      };
    }
    return {
      current,
      suggested: 'quarantine',
      message: {
        en: `All of your own mail passes DMARC: publish "${record('quarantine')}" (you may start with pct=25) so receivers send forged mail to spam.`,
        ja: `あなた自身のメールはすべて DMARC に合格しています。「${record('quarantine')}」を公開し（最初は pct=25 でも構いません）、なりすましメールが迷惑メールになるようにしてください。`,
      },
    };
  }
  if (pct !== null && pct < 100) {
    const p = current === 'reject' ? 'reject' : 'quarantine';
    return {
      current,
      suggested: p,
      message: {
        en: `All of your own mail passes DMARC: raise pct=${pct} to 100 so the policy applies to all forged mail.`,
        ja: `あなた自身のメールはすべて DMARC に合格しています。pct=${pct} を 100 に上げ、すべてのなりすましメールにポリシーが適用されるようにしてください。`,
      },
    };
  }
  if (current === 'quarantine') {
    return {
      current,
      suggested: 'reject',
      message: {
        en: `All of your own mail passes DMARC under p=quarantine: when a few weeks of reports stay like this, publish p=reject so forged mail is refused outright.`,
        ja: `p=quarantine の下で、あなた自身のメールはすべて DMARC に合格しています。数週間この状態が続いたら p=reject にして、なりすましメールを受信拒否させてください。`,
      },
    };
  }
  return {
    current,
    suggested: 'reject',
    message: {
      en: `p=reject and all of your own mail passes: forged mail is refused. Keep reading the reports for new senders.`,
      ja: `p=reject で、あなた自身のメールはすべて合格しています。なりすましメールは拒否されています。新しい送信元がないか引き続きレポートを確認してください。`,
    },
  };
}
