import { describe, expect, it } from 'vitest';
import { addressPreflight } from '#core/probe/preflight.ts';

describe('addressPreflight', () => {
  it('flags a likely domain typo in a canary recipient, with the corrected address in the remedy', () => {
    // Prepare
    const target = { from: 'shop@example.jp', to: ['owner@example.jp', 'owner@gmial.com'] };
    // Act
    const findings = addressPreflight(target);
    // Assess
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ code: 'DOMAIN_TYPO', severity: 'warning', step: 'rcpt', recipient: 'owner@gmial.com' });
    expect(findings[0]?.remedy.en).toContain('owner@gmail.com');
    expect(findings[0]?.remedy.ja).toContain('owner@gmail.com');
  });

  it('explains a carrier address with a dot before @ as a warning', () => {
    const findings = addressPreflight({ from: 'shop@example.jp', to: ['taro.@docomo.ne.jp'] });
    expect(findings.map((f) => [f.code, f.severity])).toEqual([['DOT_BEFORE_AT', 'warning']]);
  });

  it('says nothing about clean addresses or the bounce domain itself', () => {
    expect(addressPreflight({ from: 'Shop@Example.jp', to: ['canary@bounces.example.jp'] }, ['bounces.example.jp'])).toEqual([]);
  });
});
