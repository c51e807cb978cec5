import { describe, expect, it } from 'vitest';
import { buildCanaryMessage, canaryMessageId, rfc5322Date } from '#core/probe/canary-message.ts';

const input = { canaryId: '01JH8X3Q4ZC6M1V2B7N5K9P0RT', from: 'shop@example.jp', to: ['canary@bounces.example.jp', 'owner@example.jp'], date: new Date('2026-01-05T09:08:07Z') };

function headersOf(raw: string): Record<string, string> {
  const head = raw.slice(0, raw.indexOf('\r\n\r\n'));
  return Object.fromEntries(head.split('\r\n').map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]));
}

describe('buildCanaryMessage', () => {
  it('carries the canary id in Message-ID and X-Mail-Health-Canary, with Date, From and To', () => {
    // Act
    const headers = headersOf(buildCanaryMessage(input));

    // Assess
    expect(headers).toMatchObject({
      From: 'shop@example.jp',
      To: 'canary@bounces.example.jp, owner@example.jp',
      Date: 'Mon, 05 Jan 2026 09:08:07 +0000',
      'Message-ID': '<01JH8X3Q4ZC6M1V2B7N5K9P0RT@mail-health>',
      'X-Mail-Health-Canary': '01JH8X3Q4ZC6M1V2B7N5K9P0RT',
      'Content-Type': 'text/plain; charset=utf-8',
      'Auto-Submitted': 'auto-generated',
    });
  });

  it('is small, uses CRLF only, and has a body in both languages', () => {
    const raw = buildCanaryMessage(input);
    expect(raw.length).toBeLessThan(2_000);
    expect(raw.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
    const body = Buffer.from(raw.slice(raw.indexOf('\r\n\r\n') + 4).replace(/\r\n/g, ''), 'base64').toString('utf8');
    expect(body).toContain('automatic test message');
    expect(body).toContain('テストメール');
  });

  it('refuses a header value with a line break (header injection)', () => {
    expect(() => buildCanaryMessage({ ...input, from: 'shop@example.jp\r\nBcc: victim@example.com' })).toThrow(/single line/);
  });

  it('formats dates and message ids as RFC 5322 wants', () => {
    expect(rfc5322Date(new Date('2026-12-31T23:59:59Z'))).toBe('Thu, 31 Dec 2026 23:59:59 +0000');
    expect(canaryMessageId('X')).toBe('<X@mail-health>');
  });
});
