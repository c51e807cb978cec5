/**
 * Recipient address diagnosis: the checklist's "is the address you are about to send to really
 * right?", answered the way a support desk would (the second of the four causes the README names). Pure: no DNS here; the
 * optional mail-server check lives in mail-server.ts behind the Resolver port.
 *
 * Severity policy (what `ok`, `statusOf` and the `address` exit code read):
 * - critical: the address cannot be sent as written, or is certainly wrong. A missing or
 *   doubled `@`, characters no address may contain (comma, full-width or look-alike characters,
 *   spaces inside, `(`, `<` …), an empty part, a broken domain (bad characters, a label starting
 *   or ending with `-`, a label over 63), the length limits (64 / 255 / 254 octets), and the
 *   RFC-violating dots (`.taro@`, `taro.@`, `ta..ro@`) at domains other than the legacy Japanese
 *   carriers, where no provider issues them so they are typos; non-ASCII in the name part at a
 *   provider that only issues ASCII addresses.
 * - warning: likely a problem, though the address may be real or the RFC allows it. `taro.@` and
 *   `ta..ro@` at the legacy carriers (real addresses many servers refuse), `/` `?` or a quoted
 *   name part (RFC-valid, refused by many providers and forms; a quoted name part such as
 *   `"first last"@example.jp` is the one warning that leaves `ok` true: RFC 5321 defines that
 *   form, so the address is valid and only other software may fail it), non-ASCII in the name part
 *   (needs SMTPUTF8), domain typos ("did you mean"; only DNS can prove a domain wrong, so
 *   NO_MAIL_SERVER is the critical one), a domain without a dot or with a TLD that cannot exist,
 *   IP-address domains, and spaces only before or after the address (most programs trim them).
 * - info: a note that needs no action: capital letters (servers ignore case) and rare but valid
 *   symbols (`#`, `&`, `%` …).
 * An RFC 5321/5322-valid dot-atom address therefore never gets a critical finding.
 *
 * `normalized` applies only fixes that are certain (NFKC, full-width → ASCII, whitespace
 * removed, `,` → `.`, the domain lower-cased with stray dots removed, a name or `mailto:`
 * around the address dropped); guesses (typo domains, removing a dot in the name part) only
 * ever appear as a finding's `suggestion`.
 */
import type { AddressCode, Localized, Severity } from '../findings.ts';
import { MESSAGES, showChars, suggestionSentence } from './messages.ts';
import { isKnownProvider, isLegacyCarrier, providerForLabel, providerSuffixOf, suggestDomain } from './providers.ts';

/** One address problem (or note), with the corrected address where one can be given. */
export interface AddressFinding {
  readonly code: AddressCode;
  readonly severity: Severity;
  /** The whole corrected address, e.g. `info@gmail.com` for `info@gmial.com`. */
  readonly suggestion?: string;
  readonly message: Localized;
}

/** The diagnosis of one address: the `address --json` element of docs/REFERENCE.md. */
export interface AddressDiagnosis {
  /** The address exactly as given. */
  readonly input: string;
  /** The address as it should be written (certain fixes only), or null when none can be made. */
  readonly normalized: string | null;
  /**
   * True when the address is valid as written: no critical finding, and no warning except the
   * caution that many services refuse an RFC-valid quoted name part (info notes do not count).
   */
  readonly ok: boolean;
  /** Most severe first. */
  readonly findings: readonly AddressFinding[];
}

/** Options of {@link diagnoseAddress}. */
export interface AddressOptions {
  /** Domains known to be right (e.g. your own), never reported as a provider's typo. */
  readonly knownDomains?: readonly string[];
}

type Fix = 'none' | 'certain' | 'guess';

interface Draft {
  readonly code: AddressCode;
  readonly severity: Severity;
  readonly fix: Fix;
  readonly message: Localized;
  /**
   * The address is valid as written (RFC 5321 allows this form); the warning is about other
   * software that refuses it, so it does not make the address invalid (`ok` stays true).
   */
  readonly rfcValid?: true;
}

interface Analysis {
  readonly drafts: Draft[];
  readonly normalized: string | null;
  /** The fully corrected address (certain fixes and guesses), or null. */
  readonly best: string | null;
  readonly guessed: boolean;
}

const SEVERITY_ORDER: Record<Severity, number> = { critical: 0, warning: 1, info: 2 };

// Characters of RFC 5322 atext that every provider accepts.
const COMMON_ATEXT = /^[A-Za-z0-9_'+\-=]$/;
// RFC-valid, but refused by many providers and web forms (the checklist's `/` and `?`).
const REFUSED_ATEXT = new Set(['/', '?']);
// RFC-valid and rare; some forms refuse them.
const RARE_ATEXT = new Set(['!', '#', '$', '%', '&', '*', '^', '`', '{', '|', '}', '~']);
const DOT_ATOM = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+(?:\.[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+)*$/;

const IDEOGRAPHIC_SPACE = '\u3000';
const IDEOGRAPHIC_STOPS = /^[\u3002\uff61\ufe12]$/;
const IDEOGRAPHIC_COMMAS = /^[\u3001\uff64\ufe11]$/;
// An IME turns `-` into `ー` and word processors turn `'` into `’`; only between ASCII letters
// or digits are they surely meant as ASCII (`ー` is a legitimate character in a Japanese IDN).
const HYPHEN_LOOKALIKES = /^[\u2010-\u2015\u2212\u30fc\uff70]$/;
const APOSTROPHE_LOOKALIKES = /^[\u2018\u2019\u201b\u2032]$/;
const ASCII_ALNUM = /^[A-Za-z0-9]$/;
const PRINTABLE_ASCII = /^[\x21-\x7e]+$/;
const SPACE = /^\s$/u;
const INVISIBLE = /^[\p{Cc}\p{Cf}]$/u;
const NON_ASCII = /[^\x00-\x7f]/;
const UPPER = /\p{Lu}/u;
const MAX_DEPTH = 1;

type CharKind = 'plain' | 'lookalike' | 'ideographic-space' | 'space' | 'invisible';

interface Token {
  /** The character after normalization (NFKC and the look-alike mappings). */
  readonly text: string;
  readonly kind: CharKind;
  readonly original: string;
}

function tokenize(input: string): Token[] {
  const chars = [...input];
  const nfkc = chars.map((c) => c.normalize('NFKC'));
  const blank = chars.map((c) => c === IDEOGRAPHIC_SPACE || SPACE.test(c) || INVISIBLE.test(c));
  // The character next to position i as the normalized address will have it: blanks are removed
  // and the domain lower-cased later (`ﬁ` → `fi`, `İ` → `i̇`), and the decision must not change then.
  const neighbour = (i: number, step: -1 | 1): string => {
    let j = i + step;
    while (blank[j]) j += step;
    const seen = [...(nfkc[j] ?? '').toLowerCase()];
    return (step === -1 ? seen[seen.length - 1] : seen[0]) ?? '';
  };
  return chars.map((c, i): Token => {
    const n = nfkc[i] ?? c;
    if (c === IDEOGRAPHIC_SPACE) return { text: ' ', kind: 'ideographic-space', original: c };
    if (SPACE.test(c)) return { text: n, kind: 'space', original: c };
    if (INVISIBLE.test(c)) return { text: c, kind: 'invisible', original: c };
    if (IDEOGRAPHIC_STOPS.test(c)) return { text: '.', kind: 'lookalike', original: c };
    if (IDEOGRAPHIC_COMMAS.test(c)) return { text: ',', kind: 'lookalike', original: c };
    const betweenAscii = ASCII_ALNUM.test(neighbour(i, -1)) && ASCII_ALNUM.test(neighbour(i, 1));
    if (betweenAscii && HYPHEN_LOOKALIKES.test(c)) return { text: '-', kind: 'lookalike', original: c };
    if (betweenAscii && APOSTROPHE_LOOKALIKES.test(c)) return { text: "'", kind: 'lookalike', original: c };
    if (NON_ASCII.test(c) && PRINTABLE_ASCII.test(n)) return { text: n, kind: 'lookalike', original: c };
    return { text: n, kind: 'plain', original: c };
  });
}

/** For each token: is it inside a quoted string (quotes included)? */
function quotedMask(tokens: readonly Token[]): boolean[] {
  const mask: boolean[] = [];
  let inQuote = false;
  let escaped = false;
  for (const t of tokens) {
    if (inQuote) {
      mask.push(true);
      if (escaped) escaped = false;
      else if (t.text === '\\') escaped = true;
      else if (t.text === '"') inQuote = false;
    } else {
      mask.push(t.text === '"');
      if (t.text === '"') inQuote = true;
    }
  }
  return mask;
}

const isBlank = (t: Token) => t.kind === 'space' || t.kind === 'ideographic-space' || t.kind === 'invisible';

function utf8Length(s: string): number {
  let n = 0;
  for (const c of s) {
    const cp = c.codePointAt(0) ?? 0;
    n += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  }
  return n;
}

function ipv4(s: string): boolean {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  return m !== null && m.slice(1).every((p) => Number(p) <= 255);
}

function ipv6(s: string): boolean {
  if (!/^[0-9A-Fa-f:.]+$/.test(s)) return false;
  try {
    new URL(`http://[${s}]/`);
    return true;
  } catch {
    return false;
  }
}

/** The ASCII (A-label) form of a domain, or null when no domain name can have these characters. */
function toAsciiDomain(domain: string): string | null {
  if (!NON_ASCII.test(domain)) return domain;
  try {
    const host = new URL(`http://${domain}/`).hostname;
    return /^[a-z0-9.-]+$/.test(host) && host.split('.').length === domain.split('.').length ? host : null;
  } catch {
    return null;
  }
}

function fullwidthMessage(chars: readonly string[]): Localized {
  const visible = chars.filter((c) => c !== IDEOGRAPHIC_SPACE);
  const hasSpace = chars.includes(IDEOGRAPHIC_SPACE);
  const list = (space: string) => [visible.length ? showChars(visible) : '', hasSpace ? space : ''].filter(Boolean).join(' ');
  const en = MESSAGES.fullwidth(list('full-width space')).en;
  const ja = MESSAGES.fullwidth(list('全角スペース')).ja;
  return { en, ja };
}

function analyse(input: string, knownDomains: ReadonlySet<string>, depth: number): Analysis {
  const drafts: Draft[] = [];
  const add = (code: AddressCode, severity: Severity, fix: Fix, message: Localized, rfcValid?: true) =>
    drafts.push({ code, severity, fix, message, ...(rfcValid ? { rfcValid } : {}) });
  const fail = (): Analysis => ({ drafts, normalized: null, best: null, guessed: false });

  // A name and angle brackets around the address ("Taro <taro@example.jp>"): keep what is inside.
  let tokens = tokenize(input);
  {
    const mask = quotedMask(tokens);
    const opens = tokens.flatMap((t, i) => (t.text === '<' && !mask[i] ? [i] : []));
    const closes = tokens.flatMap((t, i) => (t.text === '>' && !mask[i] ? [i] : []));
    const open = opens[0];
    const close = closes[0];
    if (opens.length === 1 && closes.length === 1 && open !== undefined && close !== undefined && open < close && tokens.slice(close + 1).every(isBlank)) {
      tokens = tokens.slice(open + 1, close);
      add('ADDRESS_SYNTAX', 'critical', 'certain', MESSAGES.displayName());
    }
  }

  // Full-width and look-alike characters, then whitespace (legal only as a space inside quotes).
  const mask = quotedMask(tokens);
  const firstSolid = tokens.findIndex((t) => !isBlank(t));
  const lastSolid = tokens.length - 1 - [...tokens].reverse().findIndex((t) => !isBlank(t));
  const atEdge = (i: number) => firstSolid === -1 || i < firstSolid || i > lastSolid;
  const lookalikes: string[] = [];
  let ideographicEdge = false;
  let blankInside = false;
  let blankEdge = false;
  let badInQuotes = false;
  const kept: string[] = [];
  tokens.forEach((t, i) => {
    if (t.kind === 'lookalike') lookalikes.push(t.original);
    if (t.kind === 'ideographic-space') {
      if (mask[i] || !atEdge(i)) lookalikes.push(t.original);
      else ideographicEdge = true;
    }
    if (mask[i]) {
      if (t.kind === 'invisible' || (t.kind === 'space' && t.text !== ' ')) badInQuotes = true;
      kept.push(t.text);
    } else if (isBlank(t)) {
      if (t.kind !== 'ideographic-space') {
        if (atEdge(i) && t.kind === 'space') blankEdge = true;
        else blankInside = true;
      }
    } else kept.push(t.text);
  });
  if (lookalikes.length > 0) add('FULLWIDTH_CHARACTER', 'critical', 'certain', fullwidthMessage(lookalikes));
  else if (ideographicEdge) add('FULLWIDTH_CHARACTER', 'warning', 'certain', MESSAGES.fullwidthEdges());
  if (blankInside) add('WHITESPACE', 'critical', 'certain', MESSAGES.whitespaceInside());
  else if (blankEdge) add('WHITESPACE', 'warning', 'certain', MESSAGES.whitespaceEdges());
  if (badInQuotes) {
    add('ADDRESS_SYNTAX', 'critical', 'none', MESSAGES.controlInQuotes());
    return fail();
  }

  let w = kept.join('').normalize('NFKC');
  if (/^mailto:/i.test(w)) {
    while (/^mailto:/i.test(w)) w = w.slice('mailto:'.length);
    add('ADDRESS_SYNTAX', 'critical', 'certain', MESSAGES.mailto());
  }
  if (w === '') {
    add('ADDRESS_SYNTAX', 'critical', 'none', MESSAGES.empty());
    return fail();
  }

  // Split into the name part and the domain, a quoted name part taken whole.
  let local: string;
  let domain: string;
  if (w.startsWith('"')) {
    let i = 1;
    while (i < w.length && w[i] !== '"') i += w[i] === '\\' ? 2 : 1;
    if (i >= w.length) {
      add('ADDRESS_SYNTAX', 'critical', 'none', MESSAGES.unterminatedQuote());
      return fail();
    }
    local = w.slice(0, i + 1);
    const rest = w.slice(i + 1);
    if (!rest.includes('@')) return repairAt(w, 'MISSING_AT');
    if (!rest.startsWith('@')) {
      add('ADDRESS_SYNTAX', 'critical', 'none', MESSAGES.misplacedQuote());
      return fail();
    }
    domain = rest.slice(1);
    if (domain.includes('@')) return repairAt(w, 'MULTIPLE_AT');
    if (domain.includes('"')) {
      add('ADDRESS_SYNTAX', 'critical', 'none', MESSAGES.misplacedQuote());
      return fail();
    }
  } else {
    const ats = [...w].filter((c) => c === '@').length;
    if (ats === 0) return repairAt(w, 'MISSING_AT');
    if (ats > 1) return repairAt(w, 'MULTIPLE_AT');
    if (w.includes('"')) {
      add('ADDRESS_SYNTAX', 'critical', 'none', MESSAGES.misplacedQuote());
      return fail();
    }
    const at = w.indexOf('@');
    local = w.slice(0, at);
    domain = w.slice(at + 1);
  }

  let broken = false;
  let hadComma = false;
  let upperDomain = false;

  // The domain first: what the name part may contain depends on whose it is.
  let normDomain = domain;
  let asciiDomain: string | null = null;
  let domainGuess: string | null = null;
  if (domain === '' || /^\.+$/.test(domain)) {
    add('ADDRESS_SYNTAX', 'critical', 'none', MESSAGES.domainEmpty());
    broken = true;
  } else if (domain.startsWith('[')) {
    const inner = domain.endsWith(']') ? domain.slice(1, -1) : null;
    const v6 = inner !== null && /^ipv6:/i.test(inner) ? inner.slice(5) : null;
    if (inner !== null && (ipv4(inner) || (v6 !== null && ipv6(v6)))) {
      add('DOMAIN_INVALID', 'warning', 'none', MESSAGES.ipLiteral());
      asciiDomain = domain;
    } else {
      add('DOMAIN_INVALID', 'critical', 'none', MESSAGES.badIpLiteral());
      broken = true;
    }
  } else {
    if (domain.includes(',')) hadComma = true;
    if (UPPER.test(domain)) upperDomain = true;
    normDomain = domain.replaceAll(',', '.').toLowerCase().normalize('NFKC');
    if (/^\.|\.$/.test(normDomain)) {
      add('LEADING_OR_TRAILING_DOT', 'critical', 'certain', MESSAGES.domainEdgeDot());
      normDomain = normDomain.replace(/^\.+|\.+$/g, '');
    }
    if (normDomain.includes('..')) {
      add('CONSECUTIVE_DOTS', 'critical', 'certain', MESSAGES.domainDots());
      normDomain = normDomain.replace(/\.{2,}/g, '.');
    }
  }
  // An IP literal is done above; a name is checked here, once commas and stray dots are gone.
  if (!broken && asciiDomain === null && normDomain === '') {
    add('ADDRESS_SYNTAX', 'critical', 'none', MESSAGES.domainEmpty());
    broken = true;
  } else if (!broken && asciiDomain === null) {
    const badAscii = [...normDomain].filter((c) => !NON_ASCII.test(c) && !/[a-z0-9.-]/.test(c));
    if (badAscii.length > 0) {
      add('DOMAIN_INVALID', 'critical', 'none', MESSAGES.domainBadChars(showChars(badAscii)));
      broken = true;
    } else {
      asciiDomain = toAsciiDomain(normDomain);
      if (asciiDomain === null) {
        add('DOMAIN_INVALID', 'critical', 'none', MESSAGES.domainUnconvertible());
        broken = true;
      }
    }
    if (asciiDomain !== null) {
      const labels = asciiDomain.split('.');
      const unicodeLabels = normDomain.split('.');
      const longLabel = labels.findIndex((l) => l.length > 63);
      const hyphenLabel = labels.findIndex((l) => /^-|-$/.test(l));
      const tld = labels[labels.length - 1] ?? '';
      if (longLabel >= 0) add('DOMAIN_INVALID', 'critical', 'none', MESSAGES.labelTooLong(unicodeLabels[longLabel] ?? ''));
      if (hyphenLabel >= 0) add('DOMAIN_INVALID', 'critical', 'none', MESSAGES.labelHyphen(unicodeLabels[hyphenLabel] ?? ''));
      if (longLabel < 0 && hyphenLabel < 0) {
        if (labels.length === 1) {
          domainGuess = providerForLabel(normDomain);
          add('DOMAIN_INVALID', 'warning', domainGuess ? 'guess' : 'none', MESSAGES.dotlessDomain(normDomain));
        } else if (ipv4(asciiDomain)) {
          domainGuess = `[${asciiDomain}]`;
          add('DOMAIN_INVALID', 'warning', 'guess', MESSAGES.bareIp());
        } else if (/^\d+$/.test(tld) || tld.length === 1) {
          add('DOMAIN_INVALID', 'warning', 'none', MESSAGES.badTld(tld));
        } else {
          const meant = suggestDomain(normDomain, knownDomains);
          if (meant.length === 1) domainGuess = meant[0] ?? null;
          if (meant.length > 0) add('DOMAIN_TYPO', 'warning', meant.length === 1 ? 'guess' : 'none', MESSAGES.typo(normDomain, meant));
        }
      }
    }
  }
  const meantDomain = domainGuess ?? normDomain;
  const provider = isKnownProvider(meantDomain);
  const carrier = isLegacyCarrier(meantDomain);

  // The name part.
  let normLocal = local;
  const quoted = local.startsWith('"');
  let fixLeading = false;
  let fixTrailing = false;
  let fixDots = false;
  if (quoted) {
    const content = local.slice(1, -1);
    // RFC 5321 allows a quoted name part (`"first last"@example.jp`): valid, but many refuse it.
    if (DOT_ATOM.test(content)) {
      add('UNUSUAL_CHARACTER', 'warning', 'certain', MESSAGES.needlessQuotes(), true);
      normLocal = content;
    } else add('UNUSUAL_CHARACTER', 'warning', 'none', MESSAGES.quoted(), true);
  }
  const unquoted = !normLocal.startsWith('"');
  if (unquoted) {
    if (normLocal.includes(',')) hadComma = true;
    normLocal = normLocal.replaceAll(',', '.');
  }
  const nonAscii = [...normLocal].filter((c) => NON_ASCII.test(c));
  if (normLocal === '') {
    add('ADDRESS_SYNTAX', 'critical', 'none', MESSAGES.localEmpty());
    broken = true;
  } else if (unquoted) {
    const chars = [...normLocal].filter((c) => c !== '.' && !NON_ASCII.test(c));
    const bad = chars.filter((c) => !COMMON_ATEXT.test(c) && !REFUSED_ATEXT.has(c) && !RARE_ATEXT.has(c));
    const refused = chars.filter((c) => REFUSED_ATEXT.has(c));
    const rare = chars.filter((c) => RARE_ATEXT.has(c));
    if (bad.length > 0) {
      add('ADDRESS_SYNTAX', 'critical', 'none', MESSAGES.localBadChars(showChars(bad)));
      broken = true;
    }
    if (normLocal.startsWith('.')) {
      fixLeading = true;
      add('LEADING_OR_TRAILING_DOT', 'critical', 'guess', MESSAGES.leadingDot());
    }
    if (normLocal.endsWith('.')) {
      fixTrailing = !carrier;
      add('DOT_BEFORE_AT', carrier ? 'warning' : 'critical', carrier ? 'none' : 'guess', carrier ? MESSAGES.dotBeforeAtCarrier() : MESSAGES.dotBeforeAt());
    }
    if (normLocal.includes('..')) {
      fixDots = !carrier;
      add('CONSECUTIVE_DOTS', carrier ? 'warning' : 'critical', carrier ? 'none' : 'guess', carrier ? MESSAGES.consecutiveDotsCarrier() : MESSAGES.consecutiveDots());
    }
    if (refused.length > 0) add('UNUSUAL_CHARACTER', 'warning', 'none', MESSAGES.slashOrQuestion(showChars(refused)));
    else if (rare.length > 0) add('UNUSUAL_CHARACTER', 'info', 'none', MESSAGES.rareSymbols(showChars(rare)));
  }
  if (nonAscii.length > 0) {
    if (provider) add('NON_ASCII', 'critical', 'none', MESSAGES.nonAsciiProvider(showChars(nonAscii)));
    else add('NON_ASCII', 'warning', 'none', MESSAGES.nonAscii(showChars(nonAscii)));
  }
  if (hadComma) add('COMMA_FOR_DOT', 'critical', 'certain', MESSAGES.comma());

  // Upper case: harmless for the domain (lower-cased here) and at the providers (none is case-sensitive).
  const upperLocal = UPPER.test(local);
  if (upperLocal || upperDomain) {
    const fix: Fix = upperLocal && provider && unquoted ? 'guess' : upperDomain ? 'certain' : 'none';
    add('MIXED_CASE', 'info', fix, provider ? MESSAGES.mixedCaseProvider() : MESSAGES.mixedCase());
  }

  // Length limits of RFC 5321 §4.5.3.1, in octets on the wire.
  if (!broken && asciiDomain !== null) {
    const localOctets = utf8Length(normLocal);
    const domainOctets = asciiDomain.length;
    if (localOctets > 64) add('TOO_LONG', 'critical', 'none', MESSAGES.localTooLong(localOctets));
    else if (domainOctets > 255) add('TOO_LONG', 'critical', 'none', MESSAGES.domainTooLong(domainOctets));
    else if (localOctets + 1 + domainOctets > 254) add('TOO_LONG', 'critical', 'none', MESSAGES.pathTooLong(localOctets + 1 + domainOctets));
  }

  if (broken) return fail();
  const normalized = `${normLocal}@${normDomain}`;
  let bestLocal = normLocal;
  if (unquoted) {
    if (fixLeading) bestLocal = bestLocal.replace(/^\.+/, '');
    if (fixTrailing) bestLocal = bestLocal.replace(/\.+$/, '');
    if (fixDots) bestLocal = bestLocal.replace(/\.{2,}/g, '.');
    if (provider) bestLocal = bestLocal.toLowerCase();
  }
  const best = bestLocal === '' || bestLocal === '.' ? null : `${bestLocal}@${meantDomain}`;
  return { drafts, normalized, best, guessed: best !== null && best !== normalized };

  /** No single `@`: say so, and offer the address it most likely is. */
  function repairAt(text: string, code: 'MISSING_AT' | 'MULTIPLE_AT'): Analysis {
    add(code, 'critical', 'guess', code === 'MISSING_AT' ? MESSAGES.missingAt() : MESSAGES.multipleAt());
    let candidate: string | null = null;
    if (code === 'MISSING_AT') {
      const spelled = text.replace(/\((?:at)\)|\[(?:at)\]|\{(?:at)\}/i, '@');
      if (spelled !== text) candidate = spelled;
      else {
        const suffix = providerSuffixOf(text.toLowerCase());
        if (suffix) {
          const name = text.slice(0, -suffix.length).replace(/\.$/, '');
          if (name !== '') candidate = `${name}@${suffix}`;
        }
      }
    } else if (/^[^@]+@{2,}[^@]+$/.test(text)) candidate = text.replace(/@+/, '@');
    if (candidate === null || depth >= MAX_DEPTH) return fail();
    const repaired = analyse(candidate, knownDomains, depth + 1);
    return { drafts, normalized: null, best: repaired.best ?? repaired.normalized, guessed: true };
  }
}

/**
 * Diagnoses one recipient address: what is wrong with it, how sure we are, and the corrected
 * address where one can be given. Never throws; any string is a valid input.
 *
 * @example
 * diagnoseAddress('info@gmial.com');
 * // { input: 'info@gmial.com', normalized: 'info@gmial.com', ok: false, findings: [
 * //   { code: 'DOMAIN_TYPO', severity: 'warning', suggestion: 'info@gmail.com', message: { en: '… Did you mean info@gmail.com?', ja: '…' } } ] }
 * diagnoseAddress('shop＠example．jp').normalized; // 'shop@example.jp'
 */
export function diagnoseAddress(input: string, options: AddressOptions = {}): AddressDiagnosis {
  const knownDomains = new Set((options.knownDomains ?? []).map((d) => d.toLowerCase().normalize('NFKC')));
  const analysis = analyse(input, knownDomains, 0);
  const suggestion = analysis.best !== null && analysis.best !== input ? analysis.best : undefined;
  const findings = analysis.drafts
    .map((d, i) => ({ d, i }))
    .sort((a, b) => SEVERITY_ORDER[a.d.severity] - SEVERITY_ORDER[b.d.severity] || a.i - b.i)
    .map(({ d }): AddressFinding => {
      if (d.fix === 'none' || suggestion === undefined) return { code: d.code, severity: d.severity, message: d.message };
      const sentence = suggestionSentence(suggestion, analysis.guessed);
      return {
        code: d.code,
        severity: d.severity,
        suggestion,
        message: { en: `${d.message.en} ${sentence.en}`, ja: `${d.message.ja}${sentence.ja}` },
      };
    });
  const ok = analysis.drafts.every((d) => d.severity === 'info' || d.rfcValid === true);
  return { input, normalized: analysis.normalized, ok, findings };
}

/**
 * Why an address is likely wrong, in both languages: the message of its most severe warning or
 * critical finding, or null when the address looks right. For explaining an invalid-address
 * bounce (`BOUNCE_INVALID_ADDRESS`) next to the server's reply.
 *
 * @example
 * explainAddress('taro.@docomo.ne.jp')?.en; // 'The address has a dot (.) right before the @, …'
 * explainAddress('taro@docomo.ne.jp'); // null
 */
export function explainAddress(address: string, options: AddressOptions = {}): Localized | null {
  const top = diagnoseAddress(address, options).findings[0];
  return top && top.severity !== 'info' ? top.message : null;
}
