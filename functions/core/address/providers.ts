/**
 * Mail domains the address diagnosis knows by name: the providers whose typos it corrects, the
 * Japanese mobile carriers whose legacy addresses break RFC 5322, and real domains that sit one
 * keystroke away from a provider and must never be "corrected".
 *
 * Classification is data: each row says why it is here. Typo matching is deliberately narrow
 * (one edit, see `suggestDomain`) because a wrong "did you mean" costs the sender a real customer.
 */

/** A consumer mail domain whose typos are worth correcting. */
interface Provider {
  readonly domain: string;
  /**
   * A Japanese mobile carrier that issued addresses with a dot right before `@` or two dots in a
   * row (until about 2009; au.com inherited the ezweb.ne.jp local parts). Those addresses are
   * real, so they are explained rather than "corrected".
   */
  readonly legacyCarrier?: boolean;
  /** Subdomains are this provider's too (`*.pdx.ne.jp`, `*.vodafone.ne.jp`). */
  readonly withSubdomains?: boolean;
}

const PROVIDERS: readonly Provider[] = [
  // Japanese mobile carriers
  { domain: 'docomo.ne.jp', legacyCarrier: true },
  { domain: 'ezweb.ne.jp', legacyCarrier: true, withSubdomains: true },
  { domain: 'au.com', legacyCarrier: true },
  { domain: 'softbank.ne.jp', legacyCarrier: true },
  { domain: 'i.softbank.jp', legacyCarrier: true },
  { domain: 'disney.ne.jp', legacyCarrier: true },
  { domain: 'vodafone.ne.jp', legacyCarrier: true, withSubdomains: true }, // d./h./t./c./k./r./n./s./q. (SoftBank's predecessor)
  { domain: 'ymobile.ne.jp', legacyCarrier: true },
  { domain: 'yahoo.ne.jp' }, // Y!mobile's mail service
  { domain: 'emnet.ne.jp', legacyCarrier: true }, // EMOBILE
  { domain: 'willcom.com', legacyCarrier: true },
  { domain: 'pdx.ne.jp', legacyCarrier: true, withSubdomains: true }, // WILLCOM / DDI Pocket
  { domain: 'uqmobile.jp' },
  { domain: 'rakumail.jp' }, // Rakuten Mobile
  // Free mail and the large Japanese ISPs
  { domain: 'gmail.com' },
  { domain: 'googlemail.com' },
  { domain: 'yahoo.co.jp' },
  { domain: 'ybb.ne.jp' },
  { domain: 'yahoo.com' },
  { domain: 'outlook.jp' },
  { domain: 'outlook.com' },
  { domain: 'hotmail.co.jp' },
  { domain: 'hotmail.com' },
  { domain: 'live.jp' },
  { domain: 'live.com' },
  { domain: 'msn.com' },
  { domain: 'icloud.com' },
  { domain: 'me.com' },
  { domain: 'mac.com' },
  { domain: 'aol.com' },
  { domain: 'nifty.com' },
  { domain: 'biglobe.ne.jp' },
  { domain: 'ocn.ne.jp' },
  { domain: 'so-net.ne.jp' },
  { domain: 'plala.or.jp' },
  { domain: 'dion.ne.jp', withSubdomains: true },
  { domain: 'eonet.ne.jp' },
  { domain: 'odn.ne.jp' },
  { domain: 'zaq.ne.jp', withSubdomains: true }, // J:COM (jcom.zaq.ne.jp)
  { domain: 'jcom.home.ne.jp' },
  { domain: 'commufa.jp' },
  { domain: 'excite.co.jp' },
  { domain: 'protonmail.com' },
  { domain: 'proton.me' },
];

/**
 * Real mail domains one edit away from a provider above: never reported as its typo.
 * (`mail.com` and `email.com` are one letter from gmail.com, `ymail.com` is Yahoo's, …)
 */
const KNOWN_NEIGHBOURS: readonly string[] = [
  'mail.com',
  'email.com',
  'ymail.com',
  'rocketmail.com',
  'gmx.com',
  'gmx.net',
  'cloud.com',
  'yahoo.co.uk',
  'hotmail.co.uk',
  'live.co.uk',
  'outlook.co.uk',
];

/**
 * Whole domains that are a provider under the wrong public suffix: none of these hosts a
 * mailbox service, so the intended provider is clear.
 */
const WRONG_SUFFIX_DOMAINS: Readonly<Record<string, string>> = {
  'gmail.co.jp': 'gmail.com', // Gmail has only gmail.com (and googlemail.com)
  'gmail.jp': 'gmail.com',
  'gmail.ne.jp': 'gmail.com',
  'icloud.co.jp': 'icloud.com', // Apple's mail domains are global
  'icloud.jp': 'icloud.com',
  'hotmail.jp': 'hotmail.co.jp', // Microsoft's Japanese domains are hotmail.co.jp and outlook.jp
  'outlook.co.jp': 'outlook.jp',
  'docomo.co.jp': 'docomo.ne.jp', // the carrier's mail is under .ne.jp
  'docomo.jp': 'docomo.ne.jp',
  'ezweb.co.jp': 'ezweb.ne.jp',
  'ezweb.jp': 'ezweb.ne.jp',
};

/**
 * Public suffixes that do not exist, each a keystroke away from one that does. The domain cannot
 * be right as written; the fix is near certain, and the provider match then runs on the result.
 */
const WRONG_SUFFIXES: readonly (readonly [wrong: string, right: string])[] = [
  ['con', 'com'],
  ['cmo', 'com'],
  ['ocm', 'com'],
  ['cpm', 'com'],
  ['vom', 'com'],
  ['xom', 'com'],
  ['comm', 'com'],
  ['coom', 'com'],
  ['ner', 'net'],
  ['nte', 'net'],
  ['ogr', 'org'],
  ['jpp', 'jp'],
  ['pj', 'jp'],
  ['ip', 'jp'], // no .ip TLD; i sits next to j
  // Japanese second-level domains typed with .jo: Jordan has no co./ne./or./ac./… under .jo
  ['co.jo', 'co.jp'],
  ['ne.jo', 'ne.jp'],
  ['or.jo', 'or.jp'],
  ['ac.jo', 'ac.jp'],
  ['ad.jo', 'ad.jp'],
  ['go.jo', 'go.jp'],
  ['ed.jo', 'ed.jp'],
  ['gr.jo', 'gr.jp'],
  ['lg.jo', 'lg.jp'],
  // the dot before jp forgotten: no such TLDs
  ['cojp', 'co.jp'],
  ['nejp', 'ne.jp'],
  ['orjp', 'or.jp'],
  ['acjp', 'ac.jp'],
];

/** Provider first labels this short only match with the first label intact (`ocn` vs `kcn`). */
const SHORT_LABEL = 4;

const byDomain = new Map(PROVIDERS.map((p) => [p.domain, p]));
const known = new Set<string>([...PROVIDERS.map((p) => p.domain), ...KNOWN_NEIGHBOURS]);

function providerOf(domain: string): Provider | undefined {
  const exact = byDomain.get(domain);
  if (exact) return exact;
  for (const p of PROVIDERS) if (p.withSubdomains && domain.endsWith(`.${p.domain}`)) return p;
  return undefined;
}

/** A provider or carrier domain (lower case, ASCII or Unicode form) this module knows. */
export function isKnownProvider(domain: string): boolean {
  return providerOf(domain) !== undefined;
}

/** A carrier domain where RFC-violating legacy local parts (`taro.`, `ta..ro`) really exist. */
export function isLegacyCarrier(domain: string): boolean {
  return providerOf(domain)?.legacyCarrier === true;
}

/**
 * Optimal-string-alignment distance (Levenshtein plus adjacent transposition, so `gmial` is
 * one edit from `gmail`), computed on code points and cut off above `max`.
 */
export function editDistance(a: string, b: string, max = Number.POSITIVE_INFINITY): number {
  const s = [...a];
  const t = [...b];
  if (Math.abs(s.length - t.length) > max) return max + 1;
  let prev2: number[] = [];
  let prev = Array.from({ length: t.length + 1 }, (_, j) => j);
  for (let i = 1; i <= s.length; i++) {
    const cur = [i];
    let rowMin = i;
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      let d = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) d = Math.min(d, (prev2[j - 2] ?? 0) + 1);
      cur.push(d);
      rowMin = Math.min(rowMin, d);
    }
    if (rowMin > max) return max + 1;
    prev2 = prev;
    prev = cur;
  }
  return prev[t.length] ?? 0;
}

function firstLabel(domain: string): string {
  return domain.split('.')[0] ?? '';
}

/** The providers exactly one edit away (several: the typo is ambiguous). */
function nearProviders(domain: string): string[] {
  const found: string[] = [];
  for (const p of PROVIDERS) {
    const label = firstLabel(p.domain);
    if ([...label].length <= SHORT_LABEL && firstLabel(domain) !== label) continue;
    if (editDistance(domain, p.domain, 1) === 1) found.push(p.domain);
  }
  return found;
}

function fixSuffix(domain: string): string {
  for (const [wrong, right] of WRONG_SUFFIXES) {
    if (domain.endsWith(`.${wrong}`)) return `${domain.slice(0, -wrong.length)}${right}`;
  }
  return domain;
}

/**
 * The domains the writer may have meant: empty when the domain is known or nothing is close, one
 * when the typo is clear, several when it is ambiguous (`sonet.ne.jp`: so-net or eonet).
 * `domain` is lower case, without leading/trailing dots. `extraKnown` are domains the caller
 * knows to be right (its own), never corrected.
 *
 * @example suggestDomain('gmial.com') // ['gmail.com']
 * @example suggestDomain('docomo.ne.jo') // ['docomo.ne.jp']
 * @example suggestDomain('example.co.jo') // ['example.co.jp']
 */
export function suggestDomain(domain: string, extraKnown: ReadonlySet<string> = new Set()): string[] {
  const isKnown = (d: string) => known.has(d) || extraKnown.has(d) || providerOf(d) !== undefined;
  if (isKnown(domain)) return [];
  const wrongSuffix = WRONG_SUFFIX_DOMAINS[domain];
  if (wrongSuffix) return [wrongSuffix];
  const fixed = fixSuffix(domain);
  if (fixed !== domain && isKnown(fixed)) return [fixed];
  const near = nearProviders(fixed);
  if (near.length > 0) return near;
  return fixed !== domain ? [fixed] : [];
}

/**
 * The provider a domain without any dot most likely stands for (`docomo` → `docomo.ne.jp`), when
 * exactly one provider starts with that label.
 */
export function providerForLabel(label: string): string | null {
  const matches = PROVIDERS.filter((p) => firstLabel(p.domain) === label);
  if (matches.length === 1) return matches[0]?.domain ?? null;
  const near = matches.length === 0 ? nearProviders(label) : [];
  return near.length === 1 ? (near[0] ?? null) : null;
}

/**
 * The provider domain a string without `@` ends with (`tarodocomo.ne.jp`), longest first, for
 * the providers whose first label is long enough not to end ordinary words (`home.com` is not
 * `ho` + `me.com`).
 */
export function providerSuffixOf(text: string): string | null {
  let best: string | null = null;
  for (const p of PROVIDERS) {
    if (p.withSubdomains || [...firstLabel(p.domain)].length <= SHORT_LABEL) continue;
    if (text.length > p.domain.length && text.endsWith(p.domain) && (best === null || p.domain.length > best.length)) best = p.domain;
  }
  return best;
}
