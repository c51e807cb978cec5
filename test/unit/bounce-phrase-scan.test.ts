import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { normalizeText, phraseRowFor } from '#core/bounce/classify.ts';
import { REASON_PHRASES } from '#core/bounce/tables.ts';

// phraseRowFor scans each group of rows as one alternation and reads which row matched from
// markers; it must give exactly what testing the rows one by one, in order, gives.
const rowByRow = (...texts: string[]) => {
  const normalized = texts.map(normalizeText).filter(Boolean);
  return REASON_PHRASES.find((row) => normalized.some((t) => new RegExp(row.pattern.source, row.pattern.flags).test(t)));
};

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
const fixtureTexts = (): string[] => {
  const texts: string[] = [];
  for (const dir of ['bounces', 'bounces-wild']) {
    for (const file of readdirSync(join(fixtures, dir)).filter((f) => f.endsWith('.eml'))) {
      const text = readFileSync(join(fixtures, dir, file)).toString('utf8');
      texts.push(...text.split(/\n\s*\n/), ...text.split('\n'));
    }
  }
  return texts.filter((t) => t.trim());
};

describe('phrase rows found by scanning their groups', () => {
  it('gives the first row in table order, not the phrase that comes first in the text', () => {
    // Prepare: two neighbouring rows, the later one's phrase written first
    const overQuota = REASON_PHRASES.findIndex((r) => r.pattern.test('user is over quota'));
    const exceeded = REASON_PHRASES.findIndex((r) => r.pattern.test('mailbox has exceeded the limit'));
    const text = 'mailbox has exceeded the limit; user is over quota';

    // Act
    const row = phraseRowFor(text);

    // Assert
    expect(overQuota).toBeLessThan(exceeded);
    expect(row).toBe(REASON_PHRASES[overQuota]);
    expect(row).toBe(rowByRow(text));
  });

  it('agrees with testing the rows one by one on every line and paragraph of the bounce fixtures', () => {
    // Prepare
    const texts = fixtureTexts();

    // Act
    const differ = texts.filter((t) => phraseRowFor(t) !== rowByRow(t));

    // Assert
    expect(texts.length).toBeGreaterThan(1000);
    expect(differ).toEqual([]);
  });

  it('agrees on several texts at once, the first row matching any of them winning', () => {
    // Prepare: pairs of fixture paragraphs, each the other's context
    const texts = fixtureTexts().filter((t) => t.length > 40);
    const pairs = texts.slice(0, 400).map((t, i) => [t, texts[(i * 7 + 3) % texts.length]!] as const);

    // Act
    const differ = pairs.filter(([a, b]) => phraseRowFor(a, b) !== rowByRow(a, b));

    // Assert
    expect(differ).toEqual([]);
  });
});
