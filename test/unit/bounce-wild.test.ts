import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createMailParser } from '#adapters/mail-parser.ts';
import { analyzeBounce, type BounceAnalysis } from '#core/bounce/analyze.ts';

/**
 * The project's own bounce set (test/fixtures/bounces-wild, see its README): notice formats and
 * languages the Sisimai set has few or none of. Every message must give its labelled recipients
 * (inferred ones marked, and those whose domain is not a host name flagged) and, for the causes a
 * shop acts on, its labelled reason; the other reasons are scored by `npm run bench:bounce`
 * against its floor. A message labelled as no bounce (a read receipt, a challenge-response
 * request) must be read as that kind, naming nobody.
 */
const DIR = join(import.meta.dirname, '..', 'fixtures', 'bounces-wild');
interface Label {
  file: string;
  family: string;
  language: string;
  charset: string;
  /** Null for a message that is not a bounce (see expectedKind). */
  expectedRecipient: string | null;
  expectedReason: string | null;
  expectedStatus: string | null;
  expectedHardBounce: boolean;
  expectedInferred?: boolean;
  expectedDomainInvalid?: boolean;
  expectedIsBounce?: boolean;
  expectedKind?: string;
}
const labels = readFileSync(join(DIR, 'labels.jsonl'), 'utf8')
  .split('\n')
  .filter((l) => l.trim())
  .map((l) => JSON.parse(l) as Label);
const files = [...new Set(labels.filter((l) => l.expectedRecipient !== null).map((l) => l.file))];
const notBounces = labels.filter((l) => l.expectedRecipient === null);
const HEADLINE = new Set(['mailboxfull', 'userunknown', 'hostunknown', 'mesgtoobig', 'exceedlimit']);
const parse = createMailParser();
const results = new Map<string, Promise<BounceAnalysis>>();
const analysisOf = (file: string) => {
  let result = results.get(file);
  if (!result) {
    result = analyzeBounce(new Uint8Array(readFileSync(join(DIR, file))), { parse });
    results.set(file, result);
  }
  return result;
};

describe('the own bounce set (bounces-wild)', () => {
  it('has at least 80 messages, covering the families and languages issue 12 names', () => {
    expect(files.length).toBeGreaterThanOrEqual(80);
    const families = labels.map((l) => l.family).join(' | ');
    for (const family of ['IMail', 'Exchange 5.5', 'Exchange 2000/2003', 'GroupWise', 'Domino', 'MDaemon', 'qmail/vpopmail', 'Sendmail', 'FAILED MAIL', 'delay warning', 'pasted body']) {
      expect(families).toContain(family);
    }
    const languages = new Set(labels.map((l) => l.language));
    for (const language of ['fr', 'it', 'de', 'es', 'pt', 'ru', 'zh', 'zh-tw', 'ja']) expect(languages).toContain(language);
    const charsets = new Set(labels.map((l) => l.charset));
    for (const charset of ['koi8-r', 'gb2312', 'gbk', 'big5', 'iso-2022-jp']) expect(charsets).toContain(charset);
  });

  it.each(files)('%s gives its labelled recipients, and the labelled reason for a headline cause', async (file) => {
    // Prepare
    const mine = labels.filter((l) => l.file === file);
    // Act
    const analysis = await analysisOf(file);
    // Assess
    expect(analysis.isBounce).toBe(true);
    expect(analysis.recipients.map((r) => r.recipient.toLowerCase()).sort()).toEqual(mine.map((l) => l.expectedRecipient!.toLowerCase()).sort());
    for (const label of mine) {
      const got = analysis.recipients.find((r) => r.recipient.toLowerCase() === label.expectedRecipient!.toLowerCase())!;
      expect(got.recipientInferred ?? false, `${label.expectedRecipient} inferred`).toBe(label.expectedInferred ?? false);
      expect(got.recipientDomainInvalid ?? false, `${label.expectedRecipient} domain flagged`).toBe(label.expectedDomainInvalid ?? false);
      if (label.expectedReason !== null && HEADLINE.has(label.expectedReason)) {
        expect(got.reason, `${label.expectedRecipient}: ${got.diagnostic ?? ''}`).toBe(label.expectedReason);
        expect(got.hard).toBe(label.expectedHardBounce);
      }
    }
  });

  it.each(notBounces.map((l) => [l.file, l.expectedKind!] as const))('%s is no bounce (%s), and names nobody', async (file, kind) => {
    // Act
    const analysis = await analysisOf(file);
    // Assess
    expect(analysis).toMatchObject({ isBounce: false, kind, recipients: [] });
  });
});
