import { describe, expect, it } from 'vitest';
import { canaryVerdicts, deliveryFindings, organizationalDomain, sesVerdicts, type DeliveryVerdicts } from '#core/auth/canary.ts';
import { parseReceivedFrom, sendingHopOf } from '#core/auth/received.ts';

const passing: DeliveryVerdicts = {
  source: 'local',
  fromDomain: 'example.jp',
  ip: '192.0.2.25',
  helo: 'smtp.example.jp',
  spf: { result: 'pass', domain: 'example.jp', aligned: true },
  dkim: [{ domain: 'example.jp', selector: 's1', result: 'pass', aligned: true }],
  dmarc: { result: 'pass', policy: 'reject' },
};

describe('parseReceivedFrom', () => {
  it.each([
    ['from smtp.example.jp (smtp.example.jp [192.0.2.25]) by mx.example.jp with ESMTPS id 1', { ip: '192.0.2.25', helo: 'smtp.example.jp' }],
    ['from mail.example.jp (unknown [IPv6:2001:DB8::5]) by mx with ESMTP', { ip: '2001:db8::5', helo: 'mail.example.jp' }],
    ['from [192.0.2.7] (port=5301 helo=client) by mx.example.jp', { ip: '192.0.2.7', helo: null }],
    ['from relay.example.jp (198.51.100.4) by mx.example.jp (Postfix)', { ip: '198.51.100.4', helo: 'relay.example.jp' }],
  ])('reads %s', (value, expected) => {
    expect(parseReceivedFrom(value)).toEqual(expected);
  });

  it.each(['by mx.example.jp with LMTP id 1', 'from localhost by mx.example.jp (Postfix, from userid 0)', 'from host (host [999.1.1.1]) by mx'])('names no address for %s', (value) => {
    expect(parseReceivedFrom(value)).toBeNull();
  });

  it('takes the topmost Received header, the one the receiving server wrote, unfolding it', () => {
    const headers = [
      'Return-Path: <bounce+01K@bounces.example.jp>',
      'Received: from smtp.example.jp (smtp.example.jp',
      '\t[192.0.2.25]) by bounces.example.jp with ESMTP',
      'Received: from pc.local (pc.local [10.0.0.5]) by smtp.example.jp with ESMTPSA',
      'Subject: canary',
      '',
      'Received: from body (body [203.0.113.1])',
    ].join('\r\n');
    expect(sendingHopOf(headers)).toEqual({ ip: '192.0.2.25', helo: 'smtp.example.jp' });
  });
});

describe('deliveryFindings', () => {
  it('finds nothing when SPF, DKIM and DMARC pass', () => {
    expect(deliveryFindings(passing)).toEqual([]);
  });

  it('warns about DMARC failing under p=none, critical under quarantine', () => {
    const failing = { ...passing, spf: { ...passing.spf, result: 'fail' as const }, dkim: [], dmarc: { result: 'fail' as const, policy: 'none' } };
    expect(deliveryFindings(failing).map((f) => `${f.code}:${f.severity}`)).toEqual(['CANARY_DMARC_FAIL:warning', 'CANARY_SPF_FAIL:critical', 'CANARY_DKIM_FAIL:critical']);
    expect(deliveryFindings({ ...failing, dmarc: { result: 'fail', policy: 'quarantine' } })[0]!.severity).toBe('critical');
  });

  it('says nothing about SPF checked for another domain than From (the VERP sender at the bounce domain)', () => {
    const verp = { ...passing, spf: { result: 'fail' as const, domain: 'bounces.monitor.test', aligned: false } };
    expect(deliveryFindings(verp)).toEqual([]);
  });

  it('raises no failure for DNS trouble (temperror) on SPF or every signature', () => {
    const temp = { ...passing, spf: { ...passing.spf, result: 'temperror' as const }, dkim: [{ ...passing.dkim[0]!, result: 'temperror' as const }], dmarc: { result: 'temperror' as const, policy: null } };
    expect(deliveryFindings(temp)).toEqual([]);
  });
});

describe('sesVerdicts', () => {
  it('reads the verdicts of an SES receipt event; SPF of the VERP envelope raises nothing', () => {
    // Act
    const v = sesVerdicts(
      { spfVerdict: { status: 'PASS' }, dkimVerdict: { status: 'PASS' }, dmarcVerdict: { status: 'PASS' }, dmarcPolicy: 'REJECT' },
      { fromDomain: 'example.jp', envelopeDomain: 'bounces.monitor.test', ip: '192.0.2.25' },
    );

    // Assess
    expect(v).toMatchObject({ source: 'ses', spf: { result: 'pass', aligned: false }, dkim: [{ domain: 'example.jp', result: 'pass', aligned: true }], dmarc: { result: 'pass', policy: 'reject' } });
    expect(deliveryFindings(v)).toEqual([]);
  });

  it('gives CANARY_DKIM_FAIL for an unsigned canary (GRAY) and CANARY_DMARC_FAIL for a DMARC failure', () => {
    const v = sesVerdicts(
      { spfVerdict: { status: 'PASS' }, dkimVerdict: { status: 'GRAY' }, dmarcVerdict: { status: 'FAIL' }, dmarcPolicy: 'QUARANTINE' },
      { fromDomain: 'example.jp', envelopeDomain: 'bounces.example.jp' },
    );
    expect(v.dkim).toEqual([]);
    // The bounce domain is the shop's own subdomain: SPF for it is aligned and passed.
    expect(deliveryFindings(v).map((f) => `${f.code}:${f.severity}`)).toEqual(['CANARY_DMARC_FAIL:critical', 'CANARY_DKIM_FAIL:warning']);
  });
});

describe('organizationalDomain', () => {
  it.each([
    ['mail.shop.example.jp', 'example.jp'],
    ['shop.example.co.jp', 'example.co.jp'],
    ['bounces.example.com', 'example.com'],
    ['example.ne.jp', 'example.ne.jp'],
  ])('%s belongs to %s', (domain, org) => {
    expect(organizationalDomain(domain)).toBe(org);
  });
});

describe('canaryVerdicts', () => {
  const config = { targets: [{ name: 'shop', from: 'shop@example.jp' }] } as unknown as Parameters<typeof canaryVerdicts>[0];
  const headers = 'Return-Path: <bounce+01K@bounces.monitor.test>\r\nReceived: from smtp.example.jp (smtp.example.jp [203.0.113.5]) by inbound-smtp.us-east-1.amazonaws.com with SMTP id x\r\nFrom: shop@example.jp';

  it('reads the receipt for the target\'s From domain and the sending server of the Received header', () => {
    const v = canaryVerdicts(config, 'shop', { receipt: { spfVerdict: { status: 'PASS' }, dkimVerdict: { status: 'PASS' }, dmarcVerdict: { status: 'PASS' }, dmarcPolicy: 'NONE' }, envelopeSender: 'bounce+01K@bounces.monitor.test', headers });
    expect(v).toMatchObject({ source: 'ses', fromDomain: 'example.jp', ip: '203.0.113.5', helo: 'smtp.example.jp', spf: { domain: 'bounces.monitor.test', aligned: false }, dmarc: { result: 'pass', policy: 'none' } });
  });

  it('gives nothing when the receipt carries no verdict (nothing to judge is no failure) or the target is unknown', () => {
    expect(canaryVerdicts(config, 'shop', { receipt: {}, envelopeSender: null, headers })).toBeNull();
    expect(canaryVerdicts(config, 'clinic', { receipt: { dkimVerdict: { status: 'PASS' } }, envelopeSender: null, headers })).toBeNull();
  });
});
