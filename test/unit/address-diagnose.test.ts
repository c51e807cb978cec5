import { describe, expect, it } from 'vitest';
import { diagnoseAddress, explainAddress } from '#core/address/index.ts';

/**
 * One row: the address, the findings it must get (`CODE:severity`, order free), and optionally
 * the normalized address and the suggestion (undefined: not checked; null: must be absent).
 */
interface Row {
  readonly input: string;
  readonly findings: readonly string[];
  readonly normalized?: string | null;
  readonly suggestion?: string | null;
  /** The expected `ok` when it is not "every finding is info" (an RFC-valid quoted name part). */
  readonly ok?: boolean;
}

const local64 = 'a'.repeat(64);
const label63 = 'b'.repeat(63);

const VALID: readonly Row[] = [
  { input: 'ok.user@example.jp', findings: [], normalized: 'ok.user@example.jp', suggestion: null },
  { input: 'user+tag@gmail.com', findings: [] },
  { input: "o'brien@example.ie", findings: [] },
  { input: 'a.b-c_d@sub.example.co.jp', findings: [] },
  { input: 'taro@docomo.ne.jp', findings: [] },
  { input: 'hanako@ezweb.ne.jp', findings: [] },
  { input: 'x@au.com', findings: [] },
  { input: 'taro@softbank.ne.jp', findings: [] },
  { input: 'taro@i.softbank.jp', findings: [] },
  { input: 'taro@t.vodafone.ne.jp', findings: [] },
  { input: 'user@yahoo.co.jp', findings: [] },
  { input: 'user@outlook.jp', findings: [] },
  { input: 'user@hotmail.co.jp', findings: [] },
  { input: 'user@icloud.com', findings: [] },
  { input: 'user@me.com', findings: [] },
  { input: 'user@nifty.com', findings: [] },
  { input: 'user@biglobe.ne.jp', findings: [] },
  { input: 'user@ocn.ne.jp', findings: [] },
  { input: 'user@so-net.ne.jp', findings: [] },
  { input: 'info@例え.jp', findings: [], normalized: 'info@例え.jp' },
  { input: 'info@bücher.de', findings: [] },
  { input: 'info@xn--r8jz45g.jp', findings: [] },
  { input: 'info@ケーキ.jp', findings: [], normalized: 'info@ケーキ.jp' },
  { input: 'first.last@example.com', findings: [] },
  { input: '1234567890@example.com', findings: [] },
  { input: 'bounce+01hzx=example.jp@bounces.example.jp', findings: [] },
  // real domains one letter away from a provider are not "corrected"
  { input: 'x@ymail.com', findings: [] },
  { input: 'x@mail.com', findings: [] },
  { input: 'x@email.com', findings: [] },
  { input: 'someone@yahoo.co.uk', findings: [] },
  // short provider labels only match with the label intact: kcn.ne.jp is not ocn.ne.jp
  { input: 'user@kcn.ne.jp', findings: [] },
  { input: 'a@b.co', findings: [] },
  { input: 'user@example.museum', findings: [] },
  { input: 'user@my-shop.jp', findings: [] },
  { input: `${local64}@example.jp`, findings: [] },
];

const CHECKLIST: readonly Row[] = [
  // a dot right before @, two dots in a row: real at the legacy carriers, typos elsewhere
  { input: 'taro.@docomo.ne.jp', findings: ['DOT_BEFORE_AT:warning'], normalized: 'taro.@docomo.ne.jp', suggestion: null },
  { input: 'ta..ro@ezweb.ne.jp', findings: ['CONSECUTIVE_DOTS:warning'], suggestion: null },
  { input: 'taro.@au.com', findings: ['DOT_BEFORE_AT:warning'] },
  { input: 'ta..ro.@softbank.ne.jp', findings: ['DOT_BEFORE_AT:warning', 'CONSECUTIVE_DOTS:warning'] },
  { input: 'taro.@gmail.com', findings: ['DOT_BEFORE_AT:critical'], suggestion: 'taro@gmail.com' },
  { input: 'ta..ro@example.com', findings: ['CONSECUTIVE_DOTS:critical'], suggestion: 'ta.ro@example.com' },
  { input: '.taro@docomo.ne.jp', findings: ['LEADING_OR_TRAILING_DOT:critical'], suggestion: 'taro@docomo.ne.jp' },
  { input: 'taro@docomo.ne.jp.', findings: ['LEADING_OR_TRAILING_DOT:critical'], normalized: 'taro@docomo.ne.jp' },
  { input: 'taro@.docomo.ne.jp', findings: ['LEADING_OR_TRAILING_DOT:critical'], normalized: 'taro@docomo.ne.jp' },
  // `/` and `?`: allowed by the RFC, refused by many
  { input: 'a/b?c@example.jp', findings: ['UNUSUAL_CHARACTER:warning'], normalized: 'a/b?c@example.jp' },
  { input: 'taro/home@docomo.ne.jp', findings: ['UNUSUAL_CHARACTER:warning'] },
  { input: 'what?@example.jp', findings: ['UNUSUAL_CHARACTER:warning'] },
  // a comma typed for a dot
  { input: 'user,name@yahoo,co.jp', findings: ['COMMA_FOR_DOT:critical'], normalized: 'user.name@yahoo.co.jp', suggestion: 'user.name@yahoo.co.jp' },
  { input: 'taro@docomo,ne,jp', findings: ['COMMA_FOR_DOT:critical'], normalized: 'taro@docomo.ne.jp' },
  { input: 'taro@docomo.ne.jp,', findings: ['COMMA_FOR_DOT:critical', 'LEADING_OR_TRAILING_DOT:critical'], normalized: 'taro@docomo.ne.jp' },
  { input: 'taro@,', findings: ['COMMA_FOR_DOT:critical', 'LEADING_OR_TRAILING_DOT:critical', 'ADDRESS_SYNTAX:critical'], normalized: null },
  // upper and lower case
  { input: 'Taro@Docomo.ne.jp', findings: ['MIXED_CASE:info'], normalized: 'Taro@docomo.ne.jp', suggestion: 'taro@docomo.ne.jp' },
  { input: 'TARO@EXAMPLE.JP', findings: ['MIXED_CASE:info'], normalized: 'TARO@example.jp', suggestion: 'TARO@example.jp' },
  { input: 'Taro@example.jp', findings: ['MIXED_CASE:info'], normalized: 'Taro@example.jp', suggestion: null },
];

const FULLWIDTH_AND_SPACES: readonly Row[] = [
  { input: 'shop＠example．jp', findings: ['FULLWIDTH_CHARACTER:critical'], normalized: 'shop@example.jp', suggestion: 'shop@example.jp' },
  { input: 'ｔａｒｏ@docomo.ne.jp', findings: ['FULLWIDTH_CHARACTER:critical'], normalized: 'taro@docomo.ne.jp' },
  { input: 'taro１２３@docomo.ne.jp', findings: ['FULLWIDTH_CHARACTER:critical'], normalized: 'taro123@docomo.ne.jp' },
  { input: 'taro@docomo。ne。jp', findings: ['FULLWIDTH_CHARACTER:critical'], normalized: 'taro@docomo.ne.jp' },
  { input: 'taro、yamada@example.jp', findings: ['FULLWIDTH_CHARACTER:critical', 'COMMA_FOR_DOT:critical'], normalized: 'taro.yamada@example.jp' },
  { input: 'ｔａｒｏーｙａｍａｄａ@example.jp', findings: ['FULLWIDTH_CHARACTER:critical'], normalized: 'taro-yamada@example.jp' },
  { input: 'o’brien@example.ie', findings: ['FULLWIDTH_CHARACTER:critical'], normalized: "o'brien@example.ie" },
  { input: 'taro@docomo.ne.jp　', findings: ['FULLWIDTH_CHARACTER:warning'], normalized: 'taro@docomo.ne.jp' },
  { input: 'ta　ro@docomo.ne.jp', findings: ['FULLWIDTH_CHARACTER:critical'], normalized: 'taro@docomo.ne.jp' },
  { input: ' taro@docomo.ne.jp', findings: ['WHITESPACE:warning'], normalized: 'taro@docomo.ne.jp', suggestion: 'taro@docomo.ne.jp' },
  { input: 'taro@docomo.ne.jp\r\n', findings: ['WHITESPACE:warning'], normalized: 'taro@docomo.ne.jp' },
  { input: 'taro @docomo.ne.jp', findings: ['WHITESPACE:critical'], normalized: 'taro@docomo.ne.jp' },
  { input: 'ta ro@docomo.ne.jp', findings: ['WHITESPACE:critical'], normalized: 'taro@docomo.ne.jp' },
  { input: 'taro\u200b@docomo.ne.jp', findings: ['WHITESPACE:critical'], normalized: 'taro@docomo.ne.jp' },
  { input: 'taro@exa mple.jp', findings: ['WHITESPACE:critical'], normalized: 'taro@example.jp' },
  { input: 'user@example.jp\u00a0', findings: ['WHITESPACE:warning'], normalized: 'user@example.jp' },
];

const AT_SIGN_AND_SYNTAX: readonly Row[] = [
  { input: 'tarodocomo.ne.jp', findings: ['MISSING_AT:critical'], normalized: null, suggestion: 'taro@docomo.ne.jp' },
  { input: 'taro.gmail.com', findings: ['MISSING_AT:critical'], normalized: null, suggestion: 'taro@gmail.com' },
  { input: 'taro(at)example.jp', findings: ['MISSING_AT:critical'], suggestion: 'taro@example.jp' },
  { input: 'taro', findings: ['MISSING_AT:critical'], normalized: null, suggestion: null },
  { input: 'tarohome.com', findings: ['MISSING_AT:critical'], suggestion: null },
  { input: 'taro@@docomo.ne.jp', findings: ['MULTIPLE_AT:critical'], normalized: null, suggestion: 'taro@docomo.ne.jp' },
  { input: 'a@x.jp,b@y.jp', findings: ['MULTIPLE_AT:critical'], normalized: null, suggestion: null },
  { input: 'taro@docomo@ne.jp', findings: ['MULTIPLE_AT:critical'], suggestion: null },
  { input: '', findings: ['ADDRESS_SYNTAX:critical'], normalized: null },
  { input: '   ', findings: ['WHITESPACE:warning', 'ADDRESS_SYNTAX:critical'], normalized: null },
  { input: '@docomo.ne.jp', findings: ['ADDRESS_SYNTAX:critical'], normalized: null },
  { input: 'taro@', findings: ['ADDRESS_SYNTAX:critical'], normalized: null },
  { input: 'ta(ro@example.jp', findings: ['ADDRESS_SYNTAX:critical'], normalized: null },
  { input: 'taro;@example.jp', findings: ['ADDRESS_SYNTAX:critical'], normalized: null },
  { input: 'Taro Yamada <taro@example.jp>', findings: ['ADDRESS_SYNTAX:critical'], normalized: 'taro@example.jp', suggestion: 'taro@example.jp' },
  { input: '山田　太郎 <taro@example.jp>', findings: ['ADDRESS_SYNTAX:critical'], normalized: 'taro@example.jp' },
  { input: 'mailto:taro@example.jp', findings: ['ADDRESS_SYNTAX:critical'], normalized: 'taro@example.jp' },
  { input: '"taro"@example.jp', findings: ['UNUSUAL_CHARACTER:warning'], normalized: 'taro@example.jp', suggestion: 'taro@example.jp', ok: true },
  { input: '"john doe"@example.com', findings: ['UNUSUAL_CHARACTER:warning'], normalized: '"john doe"@example.com', suggestion: null, ok: true },
  { input: '"first last"@example.jp', findings: ['UNUSUAL_CHARACTER:warning'], normalized: '"first last"@example.jp', suggestion: null, ok: true },
  { input: '"first \\"the\\" last"@example.jp', findings: ['UNUSUAL_CHARACTER:warning'], suggestion: null, ok: true },
  { input: '"taro."@docomo.ne.jp', findings: ['UNUSUAL_CHARACTER:warning'], normalized: '"taro."@docomo.ne.jp', ok: true },
  { input: '"a@b"@example.jp', findings: ['UNUSUAL_CHARACTER:warning'], ok: true },
  // quoted, but not valid for other reasons: the quotes do not make it ok
  { input: '"first last"@gmial.com', findings: ['UNUSUAL_CHARACTER:warning', 'DOMAIN_TYPO:warning'], ok: false },
  { input: '"first　last"@example.jp', findings: ['UNUSUAL_CHARACTER:warning', 'FULLWIDTH_CHARACTER:critical'], ok: false },
  { input: '"unterminated@example.jp', findings: ['ADDRESS_SYNTAX:critical'], normalized: null },
  { input: '"tab\there"@example.jp', findings: ['ADDRESS_SYNTAX:critical'], normalized: null },
  { input: 'ta"ro@example.jp', findings: ['ADDRESS_SYNTAX:critical'], normalized: null },
  { input: 'user#tag@example.com', findings: ['UNUSUAL_CHARACTER:info'] },
  { input: 'user!x&y@example.com', findings: ['UNUSUAL_CHARACTER:info'] },
];

const NON_ASCII_AND_LENGTH: readonly Row[] = [
  { input: '山田@example.jp', findings: ['NON_ASCII:warning'], normalized: '山田@example.jp' },
  { input: 'josé@example.es', findings: ['NON_ASCII:warning'] },
  { input: 'たろう@docomo.ne.jp', findings: ['NON_ASCII:critical'] },
  { input: 'たろう@gmail.com', findings: ['NON_ASCII:critical'] },
  { input: `${local64}a@example.jp`, findings: ['TOO_LONG:critical'] },
  { input: `${'あ'.repeat(22)}@example.jp`, findings: ['NON_ASCII:warning', 'TOO_LONG:critical'] },
  { input: `user@${label63}.${label63}.${label63}.${label63.slice(0, 55)}.jp`, findings: ['TOO_LONG:critical'] },
  { input: `user@${label63}b.jp`, findings: ['DOMAIN_INVALID:critical'] },
];

const DOMAINS: readonly Row[] = [
  { input: 'user@exa_mple.jp', findings: ['DOMAIN_INVALID:critical'], normalized: null },
  { input: 'user@example!.jp', findings: ['DOMAIN_INVALID:critical'], normalized: null },
  { input: 'user@-example.jp', findings: ['DOMAIN_INVALID:critical'] },
  { input: 'user@example-.jp', findings: ['DOMAIN_INVALID:critical'] },
  { input: 'user@localhost', findings: ['DOMAIN_INVALID:warning'], suggestion: null },
  { input: 'taro@docomo', findings: ['DOMAIN_INVALID:warning'], suggestion: 'taro@docomo.ne.jp' },
  { input: 'taro@gmailcom', findings: ['DOMAIN_INVALID:warning'], suggestion: 'taro@gmail.com' },
  { input: 'user@192.0.2.1', findings: ['DOMAIN_INVALID:warning'], suggestion: 'user@[192.0.2.1]' },
  { input: 'user@[192.0.2.1]', findings: ['DOMAIN_INVALID:warning'], normalized: 'user@[192.0.2.1]' },
  { input: 'user@[IPv6:2001:db8::1]', findings: ['DOMAIN_INVALID:warning'] },
  { input: 'user@[300.1.1.1]', findings: ['DOMAIN_INVALID:critical'], normalized: null },
  { input: 'user@[example.jp]', findings: ['DOMAIN_INVALID:critical'] },
  { input: 'user@example.c', findings: ['DOMAIN_INVALID:warning'] },
  { input: 'user@example.123', findings: ['DOMAIN_INVALID:warning'] },
  { input: 'user@example..jp', findings: ['CONSECUTIVE_DOTS:critical'], normalized: 'user@example.jp' },
  { input: 'user@Example.JP', findings: ['MIXED_CASE:info'], normalized: 'user@example.jp', suggestion: 'user@example.jp' },
];

const TYPOS: readonly Row[] = [
  { input: 'info@gmial.com', findings: ['DOMAIN_TYPO:warning'], normalized: 'info@gmial.com', suggestion: 'info@gmail.com' },
  { input: 'taro@docomo.ne.jo', findings: ['DOMAIN_TYPO:warning'], suggestion: 'taro@docomo.ne.jp' },
  { input: 'taro@yahoo.co.jo', findings: ['DOMAIN_TYPO:warning'], suggestion: 'taro@yahoo.co.jp' },
  { input: 'user@gmail.con', findings: ['DOMAIN_TYPO:warning'], suggestion: 'user@gmail.com' },
  { input: 'user@gamil.com', findings: ['DOMAIN_TYPO:warning'], suggestion: 'user@gmail.com' },
  { input: 'user@gmai.com', findings: ['DOMAIN_TYPO:warning'], suggestion: 'user@gmail.com' },
  { input: 'user@hotmial.co.jp', findings: ['DOMAIN_TYPO:warning'], suggestion: 'user@hotmail.co.jp' },
  { input: 'user@ezweb.ne.jo', findings: ['DOMAIN_TYPO:warning'], suggestion: 'user@ezweb.ne.jp' },
  { input: 'user@docomo.nejp', findings: ['DOMAIN_TYPO:warning'], suggestion: 'user@docomo.ne.jp' },
  { input: 'user@docom.ne.jo', findings: ['DOMAIN_TYPO:warning'], suggestion: 'user@docomo.ne.jp' },
  { input: 'user@sofbank.ne.jp', findings: ['DOMAIN_TYPO:warning'], suggestion: 'user@softbank.ne.jp' },
  { input: 'user@i.sofbank.jp', findings: ['DOMAIN_TYPO:warning'], suggestion: 'user@i.softbank.jp' },
  { input: 'user@gmail.co.jp', findings: ['DOMAIN_TYPO:warning'], suggestion: 'user@gmail.com' },
  { input: 'user@icloud.co', findings: ['DOMAIN_TYPO:warning'], suggestion: 'user@icloud.com' },
  { input: 'user@ocn.ne.jo', findings: ['DOMAIN_TYPO:warning'], suggestion: 'user@ocn.ne.jp' },
  { input: 'user@outlook.jo', findings: ['DOMAIN_TYPO:warning'], suggestion: 'user@outlook.jp' },
  { input: 'user@so-net.ne.jo', findings: ['DOMAIN_TYPO:warning'], suggestion: 'user@so-net.ne.jp' },
  // one edit from both so-net.ne.jp and eonet.ne.jp: said so, but no guess
  { input: 'user@sonet.ne.jp', findings: ['DOMAIN_TYPO:warning'], suggestion: null },
  { input: 'user@example.co.jo', findings: ['DOMAIN_TYPO:warning'], suggestion: 'user@example.co.jp' },
  { input: 'user@example.con', findings: ['DOMAIN_TYPO:warning'], suggestion: 'user@example.com' },
  // a Cyrillic і in place of the Latin i
  { input: 'user@gmaіl.com', findings: ['DOMAIN_TYPO:warning'], suggestion: 'user@gmail.com' },
  // several problems at once: every fix ends up in the one suggestion
  { input: 'Info＠Gmial,com', findings: ['FULLWIDTH_CHARACTER:critical', 'COMMA_FOR_DOT:critical', 'DOMAIN_TYPO:warning', 'MIXED_CASE:info'], normalized: 'Info@gmial.com', suggestion: 'info@gmail.com' },
  { input: 'taro.@docomo.ne.jo', findings: ['DOT_BEFORE_AT:warning', 'DOMAIN_TYPO:warning'], suggestion: 'taro.@docomo.ne.jp' },
  { input: 'taro.@gmial.com', findings: ['DOT_BEFORE_AT:critical', 'DOMAIN_TYPO:warning'], suggestion: 'taro@gmail.com' },
];

const TABLE: readonly Row[] = [...VALID, ...CHECKLIST, ...FULLWIDTH_AND_SPACES, ...AT_SIGN_AND_SYNTAX, ...NON_ASCII_AND_LENGTH, ...DOMAINS, ...TYPOS];

describe('diagnoseAddress', () => {
  it('has a table of at least 80 addresses', () => {
    expect(TABLE.length).toBeGreaterThanOrEqual(80);
  });

  it.each(TABLE)('diagnoses $input', (row) => {
    // Act
    const d = diagnoseAddress(row.input);

    // Assess
    expect(d.input).toBe(row.input);
    expect(d.findings.map((f) => `${f.code}:${f.severity}`).sort()).toEqual([...row.findings].sort());
    expect(d.ok).toBe(row.ok ?? row.findings.every((f) => f.endsWith(':info')));
    if (row.normalized !== undefined) expect(d.normalized).toBe(row.normalized);
    const suggestions = new Set(d.findings.flatMap((f) => (f.suggestion === undefined ? [] : [f.suggestion])));
    if (row.suggestion === null) expect(suggestions.size).toBe(0);
    else if (row.suggestion !== undefined) expect([...suggestions]).toEqual([row.suggestion]);
  });

  it('gives every finding a message in both languages, naming the suggestion when there is one', () => {
    for (const row of TABLE) {
      for (const f of diagnoseAddress(row.input).findings) {
        expect(f.message.en.length, `${row.input} ${f.code}`).toBeGreaterThan(10);
        expect(f.message.ja.length, `${row.input} ${f.code}`).toBeGreaterThan(5);
        if (f.suggestion) {
          expect(f.message.en).toContain(f.suggestion);
          expect(f.message.ja).toContain(f.suggestion);
        }
      }
    }
  });

  it('lists the most severe findings first', () => {
    const d = diagnoseAddress('Info＠Gmial,com');
    const ranks = d.findings.map((f) => ({ critical: 0, warning: 1, info: 2 })[f.severity]);
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
  });

  it('explains legacy carrier addresses and asks for another address', () => {
    const [f] = diagnoseAddress('taro.@docomo.ne.jp').findings;
    expect(f?.message.en).toMatch(/carrier/);
    expect(f?.message.en).toMatch(/another address/);
    expect(f?.message.ja).toMatch(/別のアドレス/);
  });

  it('says "did you mean" for guesses and states certain fixes plainly', () => {
    expect(diagnoseAddress('info@gmial.com').findings[0]?.message.en).toMatch(/Did you mean info@gmail\.com\?$/);
    expect(diagnoseAddress('shop＠example．jp').findings[0]?.message.en).toMatch(/Write it as shop@example\.jp\.$/);
  });

  it('names both providers of an ambiguous typo without guessing', () => {
    const [f] = diagnoseAddress('user@sonet.ne.jp').findings;
    expect(f?.message.en).toMatch(/"so-net\.ne\.jp" or "eonet\.ne\.jp"/);
    expect(f?.message.ja).toMatch(/「so-net\.ne\.jp」か「eonet\.ne\.jp」/);
  });

  it('calls a quoted name part with a space valid (RFC 5321), warning that many services refuse it', () => {
    // Act
    const d = diagnoseAddress('"first last"@example.jp');

    // Assess
    expect(d).toMatchObject({ ok: true, normalized: '"first last"@example.jp' });
    expect(d.findings).toMatchObject([{ code: 'UNUSUAL_CHARACTER', severity: 'warning' }]);
    expect(d.findings[0]?.message.en).toMatch(/valid/);
    expect(d.findings[0]?.message.en).toMatch(/many mail services .* refuse/);
    expect(d.findings[0]?.message.ja).toMatch(/有効/);
    expect(d.findings[0]?.message.ja).toMatch(/受け付けない/);
  });

  it('leaves the caller\'s own domains alone', () => {
    expect(diagnoseAddress('info@gmial.com', { knownDomains: ['gmial.com'] }).findings).toEqual([]);
    expect(diagnoseAddress('info@Example.con', { knownDomains: ['EXAMPLE.CON'] }).findings.map((f) => f.code)).toEqual(['MIXED_CASE']);
  });

  it('never lets CR or LF through to the normalized address or a suggestion', () => {
    for (const input of ['taro@example.jp\r\nRCPT TO:<x@evil.example>', 'taro\n@example.jp', '"a\r\nb"@example.jp']) {
      const d = diagnoseAddress(input);
      expect(d.ok).toBe(false);
      for (const text of [d.normalized ?? '', ...d.findings.map((f) => f.suggestion ?? '')]) expect(text).not.toMatch(/[\r\n]/);
    }
  });
});

describe('explainAddress', () => {
  it('gives the most severe problem in both languages', () => {
    const text = explainAddress('info＠gmial.com');
    expect(text?.en).toMatch(/full-width/);
    expect(text?.ja).toMatch(/全角/);
  });

  it('names the typo for a bounce explanation', () => {
    expect(explainAddress('info@gmial.com')?.en).toMatch(/gmail\.com/);
  });

  it('returns null for an address that looks right, notes included', () => {
    expect(explainAddress('taro@docomo.ne.jp')).toBeNull();
    expect(explainAddress('Taro@Docomo.ne.jp')).toBeNull();
  });
});
