import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { diagnoseAddress, explainAddress } from '#core/address/index.ts';

// RFC 5322 atext (dot-atom characters) and RFC 5321 domain labels (letters, digits, hyphens).
const ATEXT = [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&\'*+-/=?^_`{|}~'];
const LET_DIG = [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'];

const atom = fc.string({ unit: fc.constantFrom(...ATEXT), minLength: 1, maxLength: 12 });
const dotAtom = fc.array(atom, { minLength: 1, maxLength: 5 }).map((atoms) => atoms.join('.'));
const letDig = fc.constantFrom(...LET_DIG);
const label = fc.oneof(
  letDig,
  fc
    .tuple(letDig, fc.string({ unit: fc.constantFrom(...LET_DIG, '-'), maxLength: 40 }), letDig)
    .map(([first, middle, last]) => `${first}${middle}${last}`),
);
const domain = fc.array(label, { minLength: 1, maxLength: 5 }).map((labels) => labels.join('.'));
const rfcAddress = fc
  .tuple(dotAtom, domain)
  .map(([local, dom]) => `${local}@${dom}`)
  .filter((a) => a.indexOf('@') <= 64 && a.length <= 254 && a.length - a.indexOf('@') - 1 <= 255);

// Pieces people really type (and paste): full-width forms, look-alikes, spaces, quotes, brackets.
const PIECES = [
  'taro', 'Yamada', 'a', 'Z', '0', '9', '.', '..', '@', '@@', ',', '、', '。', '＠', '．', 'ｔａｒｏ', '１',
  '　', ' ', '\t', '\r\n', '\u200b', '\u00a0', '"', '\\', '<', '>', '(', ')', '[', ']', ':', ';', '-', 'ー', '’',
  '/', '?', '#', '+', '_', 'é', '日本', 'İ', 'ß', 'K', 'ﬁ', 'mailto:', 'docomo.ne.jp', 'gmial.com', 'yahoo,co.jp',
  'ezweb.ne.jo', 'example.jp', 'EXAMPLE.JP', '192.0.2.1', 'IPv6:2001:db8::1', 'xn--r8jz45g', 'ケーキ',
  // case mappings and compositions that change length or context
  'e\u0301', '\u0301', 'Å', 'ǅ', 'ẞ', 'Σ', 'ς',
];
const typed = fc.array(fc.constantFrom(...PIECES), { maxLength: 12 }).map((parts) => parts.join(''));
// Shaped like an address, so that most inputs get far enough to be normalized.
const shaped = fc.tuple(typed, typed).map(([local, dom]) => `${local}@${dom}`);
const anyText = fc.oneof(
  { arbitrary: shaped, weight: 4 },
  { arbitrary: typed, weight: 2 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 120 }), weight: 1 },
  { arbitrary: fc.string({ unit: 'grapheme', maxLength: 60 }), weight: 1 },
);

describe('diagnoseAddress properties', () => {
  it('normalizes idempotently: a normalized address normalizes to itself', () => {
    fc.assert(
      fc.property(anyText, (input) => {
        const { normalized } = diagnoseAddress(input);
        fc.pre(normalized !== null);
        expect(diagnoseAddress(normalized as string).normalized).toBe(normalized);
      }),
      { numRuns: 2000 },
    );
  });

  it('never gives a critical finding to an RFC-valid dot-atom address', () => {
    fc.assert(
      fc.property(rfcAddress, (address) => {
        const critical = diagnoseAddress(address).findings.filter((f) => f.severity === 'critical');
        expect(critical).toEqual([]);
      }),
      { numRuns: 2000 },
    );
  });

  it('keeps an RFC-valid address as it is, apart from the domain\'s case', () => {
    fc.assert(
      fc.property(rfcAddress, (address) => {
        const at = address.indexOf('@');
        expect(diagnoseAddress(address).normalized).toBe(`${address.slice(0, at)}@${address.slice(at + 1).toLowerCase()}`);
      }),
      { numRuns: 500 },
    );
  });

  it('never throws, and always answers with the contract\'s shape', () => {
    fc.assert(
      fc.property(anyText, (input) => {
        const d = diagnoseAddress(input);
        expect(d.input).toBe(input);
        // ok: no critical finding, and a warning only for an RFC-valid quoted name part
        if (d.findings.every((f) => f.severity === 'info')) expect(d.ok).toBe(true);
        if (d.findings.some((f) => f.severity === 'critical')) expect(d.ok).toBe(false);
        if (d.ok && d.findings.some((f) => f.severity === 'warning')) expect(input).toContain('"');
        for (const f of d.findings) {
          expect(['info', 'warning', 'critical']).toContain(f.severity);
          expect(f.message.en).not.toBe('');
          expect(f.message.ja).not.toBe('');
        }
        expect(explainAddress(input) === null).toBe(d.findings.every((f) => f.severity === 'info'));
      }),
      { numRuns: 2000 },
    );
  });

  it('never puts a line break or a bare space into a normalized address or a suggestion', () => {
    fc.assert(
      fc.property(anyText, (input) => {
        const d = diagnoseAddress(input);
        for (const text of [d.normalized, ...d.findings.map((f) => f.suggestion)]) {
          if (text === null || text === undefined) continue;
          expect(text).not.toMatch(/[\r\n]/);
          // a space is legal only inside a quoted name part
          if (!text.startsWith('"')) expect(text).not.toMatch(/\s/u);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
