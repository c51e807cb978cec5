/**
 * The delivered canary's authentication, verified the way the bounce domain's mail server would:
 * mailauth (DKIM, SPF for the connecting IP, DMARC with alignment) asking a real DNS server on
 * 127.0.0.1, never the machine's resolver. Messages are signed with a key generated now.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDnsLookup } from '#adapters/dns-client.ts';
import { createMailauthVerifier, signDkim, type MessageVerifier } from '#adapters/mailauth.ts';
import { deliveryFindings } from '#core/auth/canary.ts';
import { startDnsServer, type DnsServer } from '#local/dns-server.ts';
import { authWorld, IPS, type AuthWorld } from '../helpers/auth-zone.ts';

function canary(from: string): Buffer {
  return Buffer.from(
    [
      `From: Shop <${from}>`,
      'To: canary@bounces.clean.test',
      'Subject: mail-health canary',
      'Date: Tue, 01 Dec 2026 05:00:00 +0000',
      'Message-ID: <01KCANARY0000000000000000@mail-health>',
      'X-Mail-Health-Canary: 01KCANARY0000000000000000',
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      '',
      'This is a mail-health canary.',
      '',
    ].join('\r\n'),
  );
}

const codesOf = (findings: readonly { code: string; severity: string }[]) => findings.map((f) => `${f.code}:${f.severity}`);

describe('verifying a delivered canary with mailauth against a DNS server on 127.0.0.1', () => {
  let dns: DnsServer;
  let world: AuthWorld;
  let verify: MessageVerifier;

  beforeAll(async () => {
    world = authWorld();
    dns = await startDnsServer({ zone: world.zone });
    verify = createMailauthVerifier({ lookup: createDnsLookup({ servers: [dns.address] }), mta: 'bounces.clean.test' });
  });
  afterAll(async () => {
    await dns?.close();
  });

  it('passes SPF, DKIM and DMARC for a canary signed by its own domain and sent from an allowed server', async () => {
    // Prepare
    const signed = await signDkim(canary('shop@clean.test'), { domain: 'clean.test', selector: 's2048', privateKeyPem: world.keys.strong.privateKeyPem });

    // Act
    const verdicts = await verify(signed, { ip: IPS.clean, helo: 'mail.clean.test', sender: 'shop@clean.test' });

    // Assess
    expect(verdicts).toMatchObject({
      source: 'local',
      fromDomain: 'clean.test',
      spf: { result: 'pass', domain: 'clean.test', aligned: true },
      dkim: [{ domain: 'clean.test', selector: 's2048', result: 'pass', aligned: true }],
      dmarc: { result: 'pass', policy: 'reject' },
    });
    expect(deliveryFindings(verdicts)).toEqual([]);
    // Every answer came from the server on 127.0.0.1.
    expect(dns.queries.map((q) => `${q.type} ${q.name}`)).toEqual(expect.arrayContaining(['TXT s2048._domainkey.clean.test', 'TXT _dmarc.clean.test', 'TXT _spf.provider.test']));
  });

  it('fails SPF, DKIM and DMARC for an unsigned canary from a server the domain does not list', async () => {
    // Act
    const verdicts = await verify(canary('shop@spf-broken.test'), { ip: IPS.clean, helo: 'mail.clean.test', sender: 'shop@spf-broken.test' });

    // Assess
    expect(verdicts).toMatchObject({ spf: { result: 'fail', domain: 'spf-broken.test' }, dkim: [], dmarc: { result: 'fail', policy: 'reject' } });
    const findings = deliveryFindings(verdicts);
    expect(codesOf(findings)).toEqual(['CANARY_DMARC_FAIL:critical', 'CANARY_SPF_FAIL:critical', 'CANARY_DKIM_FAIL:critical']);
    expect(findings[1]!.message.en).toContain(IPS.clean);
    for (const f of findings) expect(`${f.remedy.en} ${f.message.en}`).toMatch(/Gmail|Yahoo/);
  });

  it('passes DMARC through an aligned signature when SPF fails, and warns only about SPF', async () => {
    // Prepare: keys.test lists IPS.clean only; the canary leaves from another address.
    const signed = await signDkim(canary('shop@clean.test'), { domain: 'clean.test', selector: 's2048', privateKeyPem: world.keys.strong.privateKeyPem });

    // Act
    const verdicts = await verify(signed, { ip: IPS.listed, helo: 'mail.listed.test', sender: 'shop@clean.test' });

    // Assess
    expect(verdicts).toMatchObject({ spf: { result: 'fail' }, dkim: [{ result: 'pass', aligned: true }], dmarc: { result: 'pass' } });
    expect(codesOf(deliveryFindings(verdicts))).toEqual(['CANARY_SPF_FAIL:warning']);
  });

  it('fails DKIM for a message changed after signing, and DMARC fails for a signature by another domain', async () => {
    // Prepare
    const key = { domain: 'clean.test', selector: 's2048', privateKeyPem: world.keys.strong.privateKeyPem };
    const tampered = Buffer.from((await signDkim(canary('shop@clean.test'), key)).toString('latin1').replace('This is a mail-health canary.', 'Changed on the way.'), 'latin1');
    const foreign = await signDkim(canary('shop@spf-broken.test'), key);

    // Act
    const changed = await verify(tampered, { ip: IPS.clean, helo: 'mail.clean.test', sender: 'shop@clean.test' });
    const other = await verify(foreign, { ip: IPS.clean, helo: 'mail.clean.test', sender: 'shop@spf-broken.test' });

    // Assess
    // mailauth words a body that no longer matches its hash "neutral" (RFC 8601 leaves it open): not a pass.
    expect(changed.dkim).toMatchObject([{ domain: 'clean.test', result: 'neutral' }]);
    expect(codesOf(deliveryFindings(changed))).toEqual(['CANARY_DKIM_FAIL:warning']);
    expect(other.dkim).toMatchObject([{ domain: 'clean.test', result: 'pass', aligned: false }]);
    expect(other.dmarc.result).toBe('fail');
    // Signed, so authenticated as Gmail asks of every sender, but not by the From domain: DMARC
    // fails and its finding names the signing domain.
    const findings = deliveryFindings(other);
    expect(codesOf(findings)).toEqual(['CANARY_DMARC_FAIL:critical', 'CANARY_SPF_FAIL:warning']);
    expect(findings[0]!.message.en).toContain('clean.test');
  });

  it('gives temperror, never a failure finding, when DNS does not answer', async () => {
    // Prepare: a server that answers nothing in time.
    const silent = await startDnsServer({ zone: {}, misbehave: { 'clean.test': 'SERVFAIL', '_dmarc.clean.test': 'SERVFAIL', 's2048._domainkey.clean.test': 'SERVFAIL' } });
    try {
      const verifyOffline = createMailauthVerifier({ lookup: createDnsLookup({ servers: [silent.address], timeoutMs: 1_000 }) });
      const signed = await signDkim(canary('shop@clean.test'), { domain: 'clean.test', selector: 's2048', privateKeyPem: world.keys.strong.privateKeyPem });

      // Act
      const verdicts = await verifyOffline(signed, { ip: IPS.clean, helo: 'mail.clean.test', sender: 'shop@clean.test' });

      // Assess
      expect(verdicts.spf.result).toBe('temperror');
      expect(verdicts.dkim.map((d) => d.result)).toEqual(['temperror']);
      expect(deliveryFindings(verdicts).map((f) => f.code)).toEqual([]);
    } finally {
      await silent.close();
    }
  });
});
