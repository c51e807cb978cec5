import { describe, expect, it } from 'vitest';
import { parseAuthenticationResults, readReceiver } from '#core/placement/auth-results.ts';
import { canaryIdOfHeaders } from '#core/placement/headers.ts';
import { receiverOf } from '#core/placement/providers.ts';
import { seedSchema } from '#core/config.ts';

const seed = (address: string, host: string, extra: Record<string, unknown> = {}) =>
  seedSchema.parse({ name: 's', address, imap: { host, auth: { user: address, passwordEnv: 'P' } }, ...extra });

const GMAIL = seed('shop.seed@gmail.com', 'imap.gmail.com');
const OUTLOOK = seed('shop.seed@outlook.com', 'outlook.office365.com');
const YAHOO = seed('shop.seed@yahoo.com', 'imap.mail.yahoo.com');
const DOCOMO = seed('shop.seed@docomo.ne.jp', 'imap.spmode.ne.jp');

/** The provider's hop and the canary as the receiver got them: a forged field below the provider's Received. */
const SENT = [
  'DKIM-Signature: v=1; a=rsa-sha256; d=example.jp; s=sel; h=from:to; bh=x; b=y',
  'Received: from [192.0.2.10] (client.example.jp [192.0.2.10]) by smtp.provider.jp (Postfix) with ESMTPSA id 4Tq; Mon, 05 Jan 2026 09:00:01 +0900',
  'Authentication-Results: mx.google.com; dmarc=pass header.from=example.jp',
  'Authentication-Results: spf=pass (sender IP is 192.0.2.1) smtp.mailfrom=example.jp; dkim=pass header.d=example.jp;dmarc=pass action=none header.from=example.jp',
  'Authentication-Results: atlas-production.v2.mail.ne1.yahoo.com; dmarc=pass(p=REJECT) header.from=example.jp',
  'Authentication-Results: mfsmax.docomo.ne.jp; dmarc=pass header.from=example.jp',
  'From: shop@example.jp',
  'To: ok@bounces.example.jp',
  'Message-ID: <01KDZ1V2Y4M8N9P0Q1R2S3T4V5@mail-health>',
  'X-Mail-Health-Canary: 01KDZ1V2Y4M8N9P0Q1R2S3T4V5',
  'Subject: mail-health canary',
].join('\r\n');

describe('parseAuthenticationResults', () => {
  it('reads Gmail\'s field: authserv-id, results, properties, the DMARC comment', () => {
    const ar = parseAuthenticationResults(
      'mx.google.com; dkim=pass header.i=@example.jp header.s=sel header.b=AbC1; spf=pass (google.com: domain of bounce+x@bounces.example.jp designates 203.0.113.5 as permitted sender) smtp.mailfrom="bounce+x@bounces.example.jp"; dmarc=pass (p=QUARANTINE sp=QUARANTINE dis=NONE) header.from=example.jp',
    );
    expect(ar?.authservId).toBe('mx.google.com');
    expect(ar?.results.map((r) => `${r.method}=${r.result}`)).toEqual(['dkim=pass', 'spf=pass', 'dmarc=pass']);
    expect(ar?.results[1]?.props['smtp.mailfrom']).toBe('bounce+x@bounces.example.jp');
    expect(ar?.results[2]?.comment).toBe('p=QUARANTINE sp=QUARANTINE dis=NONE');
  });

  it("reads Microsoft's field, which has no authserv-id and no space after some semicolons", () => {
    const ar = parseAuthenticationResults(
      'spf=pass (sender IP is 203.0.113.5) smtp.mailfrom=bounces.example.jp; dkim=pass (signature was verified) header.d=example.jp;dmarc=pass action=none header.from=example.jp;compauth=pass reason=100',
    );
    expect(ar?.authservId).toBeNull();
    expect(ar?.results.map((r) => `${r.method}=${r.result}`)).toEqual(['spf=pass', 'dkim=pass', 'dmarc=pass', 'compauth=pass']);
    expect(ar?.results[3]?.reason).toBe('100');
  });

  it("reads Yahoo's comment glued to the result", () => {
    const ar = parseAuthenticationResults('atlas-production.v2.mail.ne1.yahoo.com; dkim=pass header.i=@example.jp header.s=sel; spf=pass smtp.mailfrom=example.jp; dmarc=pass(p=REJECT) header.from=example.jp;');
    expect(ar?.results.find((r) => r.method === 'dmarc')).toMatchObject({ result: 'pass', comment: 'p=REJECT' });
  });

  it('reads `none` (no checks done) and a version number', () => {
    expect(parseAuthenticationResults('mx.example.jp 1; none')).toEqual({ authservId: 'mx.example.jp', results: [] });
    expect(parseAuthenticationResults('')).toBeNull();
  });
});

describe('readReceiver', () => {
  it('trusts Gmail\'s field below its entry Received and above the provider\'s, not the forged one further down', () => {
    // Prepare: Gmail's order: its internal hop, ARC, its entry Received, Received-SPF, its Authentication-Results.
    const headers = [
      'Delivered-To: shop.seed@gmail.com',
      'Received: by 2002:a05:6a10:b8a:b0:5e8:1c2f:9b4d with SMTP id r10csp12345; Mon, 5 Jan 2026 00:00:03 -0800 (PST)',
      'ARC-Authentication-Results: i=1; mx.google.com; dmarc=fail header.from=example.jp',
      'Return-Path: <bounce+01KDZ1V2Y4M8N9P0Q1R2S3T4V5@bounces.example.jp>',
      'Received: from smtp.provider.jp (smtp.provider.jp. [203.0.113.5])',
      '        by mx.google.com with ESMTPS id a1si123;',
      '        Mon, 05 Jan 2026 00:00:02 -0800 (PST)',
      'Received-SPF: softfail (google.com: domain of transitioning bounce+x@bounces.example.jp does not designate 203.0.113.5 as permitted sender) client-ip=203.0.113.5;',
      'Authentication-Results: mx.google.com;',
      '       dkim=pass header.i=@example.jp header.s=sel header.b=AbC1;',
      '       spf=softfail (google.com: domain of transitioning bounce+x@bounces.example.jp does not designate 203.0.113.5 as permitted sender) smtp.mailfrom="bounce+x@bounces.example.jp";',
      '       dmarc=pass (p=NONE sp=NONE dis=NONE) header.from=example.jp',
      SENT,
    ].join('\r\n');

    // Act
    const r = readReceiver(headers, receiverOf(GMAIL));

    // Assess
    expect(r.auth).toEqual({
      authservId: 'mx.google.com',
      spf: 'softfail',
      dkim: 'pass',
      dmarc: 'pass',
      spfDomain: 'bounces.example.jp',
      dkimDomains: ['example.jp'],
      dmarcPolicy: 'none',
      fromDomain: 'example.jp',
    });
    expect(r.arrivedAt).toBe('2026-01-05T08:00:02.000Z');
    expect(r.ignored).toBe(1);
  });

  it("trusts Microsoft's id-less field above its entry Received, not the forged id-less one", () => {
    const headers = [
      'Received: from TY3PR01MB1234.jpnprd01.prod.outlook.com (2603:1096:404:8000::12) by OS3PR01MB5678.jpnprd01.prod.outlook.com with HTTPS; Mon, 5 Jan 2026 08:00:04 +0000',
      'Authentication-Results: spf=fail (sender IP is 203.0.113.5) smtp.mailfrom=example.jp; dkim=none (message not signed) header.d=none;dmarc=fail action=quarantine header.from=example.jp;compauth=fail reason=000',
      'Received-SPF: Fail (protection.outlook.com: domain of example.jp does not designate 203.0.113.5 as permitted sender)',
      'Received: from smtp.provider.jp (203.0.113.5) by TYZAPC01FT012.mail.protection.outlook.com (10.118.152.12) with Microsoft SMTP Server (version=TLS1_3, cipher=TLS_AES_256_GCM_SHA384) id 15.20.8000.12 via Frontend Transport; Mon, 5 Jan 2026 08:00:03 +0000',
      SENT,
    ].join('\r\n');
    const r = readReceiver(headers, receiverOf(OUTLOOK));
    expect(r.auth).toMatchObject({ authservId: '(none)', spf: 'fail', dkim: 'none', dmarc: 'fail', spfDomain: 'example.jp', fromDomain: 'example.jp' });
    expect(r.arrivedAt).toBe('2026-01-05T08:00:03.000Z');
    expect(r.ignored).toBe(1);
  });

  it("trusts Yahoo's field above its entry line, whose `by` is an internal address", () => {
    const headers = [
      'X-Apparently-To: shop.seed@yahoo.com; Mon, 5 Jan 2026 08:00:05 +0000',
      'Return-Path: <bounce+x@bounces.example.jp>',
      'Authentication-Results: atlas-production.v2.mail.ne1.yahoo.com; dkim=pass header.i=@example.jp header.s=sel; spf=pass smtp.mailfrom=bounces.example.jp; dmarc=pass(p=REJECT) header.from=example.jp;',
      'Received: from 203.0.113.5 (EHLO smtp.provider.jp) by 10.217.151.75 with SMTPs; Mon, 05 Jan 2026 08:00:05 +0000',
      SENT,
    ].join('\r\n');
    const r = readReceiver(headers, receiverOf(YAHOO));
    expect(r.auth).toMatchObject({ authservId: 'atlas-production.v2.mail.ne1.yahoo.com', dkim: 'pass', spf: 'pass', dmarc: 'pass', dmarcPolicy: 'reject' });
    expect(r.arrivedAt).toBe('2026-01-05T08:00:05.000Z');
  });

  it("trusts a docomo-like receiver's field, and a seed's own authservIds override the table", () => {
    const headers = [
      'Authentication-Results: mfsmax.docomo.ne.jp; spf=pass smtp.mailfrom=example.jp; dkim=fail header.d=example.jp; dmarc=fail header.from=example.jp',
      'Received: from smtp.provider.jp ([203.0.113.5]) by mfsmax.docomo.ne.jp (mfsmax) with ESMTP id ABC; Mon, 5 Jan 2026 17:00:06 +0900 (JST)',
      SENT,
    ].join('\r\n');
    expect(readReceiver(headers, receiverOf(DOCOMO)).auth).toMatchObject({ authservId: 'mfsmax.docomo.ne.jp', spf: 'pass', dkim: 'fail', dmarc: 'fail' });
    // Another authserv-id only: the docomo field is then not the receiver's.
    expect(readReceiver(headers, receiverOf({ ...DOCOMO, authservIds: ['mx.other.example'] })).auth).toBeNull();
  });

  it('trusts nothing when the only field with the receiver\'s id came with the message', () => {
    const headers = ['Received: from smtp.provider.jp ([203.0.113.5]) by mx.google.com with ESMTPS id 1; Mon, 5 Jan 2026 08:00:02 +0000', SENT].join('\r\n');
    const r = readReceiver(headers, receiverOf(GMAIL));
    expect(r.auth).toBeNull();
    expect(r.ignored).toBe(1);
  });
});

describe('canaryIdOfHeaders', () => {
  it('reads the canary id from X-Mail-Health-Canary, else the Message-ID', () => {
    expect(canaryIdOfHeaders(SENT)).toBe('01KDZ1V2Y4M8N9P0Q1R2S3T4V5');
    expect(canaryIdOfHeaders('Message-ID: <01kdz1v2y4m8n9p0q1r2s3t4v5@mail-health>\r\n')).toBe('01KDZ1V2Y4M8N9P0Q1R2S3T4V5');
    expect(canaryIdOfHeaders('Message-ID: <abc@example.jp>\r\n')).toBeNull();
  });
});
