/**
 * The demo world's mail authentication (`npm start`): its embedded DNS server answers for the
 * demo domains, its provider DKIM-signs clinic's domain, the bounce listener records who
 * delivered each canary, and the loop verifies what arrived. clinic's canaries pass DKIM and
 * DMARC; shop's domain, whose SPF still names its old provider, shows CANARY_SPF_FAIL and
 * CANARY_DMARC_FAIL with their remedies.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFileStore } from '#adapters/file-store.ts';
import type { SenderAuthMemo } from '#core/auth/facts.ts';
import type { TargetResult } from '#core/results.ts';
import { createRunCommand } from '#local/cli/run.ts';
import { DEMO_BROKEN_DOMAIN, DEMO_SIGNED_DOMAIN } from '#local/demo/dns.ts';

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void) {
    this.text += chunk.toString('utf8');
    cb();
  }
}

describe('the demo world: authentication of the delivered canaries', () => {
  let cwd: string;
  let output: string;
  let clinic: SenderAuthMemo;
  let shop: SenderAuthMemo;
  let shopRounds: TargetResult[];
  let clinicRounds: TargetResult[];

  beforeAll(async () => {
    // Act: three demo rounds (clinic's login works from round 3), as `npm start -- --rounds 3` would.
    cwd = await mkdtemp(join(tmpdir(), 'mh-auth-demo-'));
    const out = new Capture();
    await createRunCommand()(['--rounds', '3', '--interval', '1', '--drain', '10'], { stdout: out, stderr: new Capture(), env: { LANG: 'C' }, cwd });
    output = out.text;
    const store = createFileStore({ dir: join(cwd, '.mailhealth', 'demo') });
    [clinic, shop, shopRounds, clinicRounds] = await Promise.all([store.getSenderAuth('clinic'), store.getSenderAuth('shop'), store.listRounds('shop', 10), store.listRounds('clinic', 10)]);
  }, 90_000);

  afterAll(async () => {
    if (cwd) await rm(cwd, { recursive: true, force: true });
  });

  it('verifies a canary signed by the demo provider as DKIM pass and DMARC pass, from the address the listener recorded', () => {
    expect(clinic.delivery?.verdicts).toMatchObject({
      source: 'local',
      fromDomain: DEMO_SIGNED_DOMAIN,
      ip: '127.0.0.1',
      helo: 'smtp.demo.mail-health.test',
      spf: { result: 'pass', domain: DEMO_SIGNED_DOMAIN },
      dkim: [{ domain: DEMO_SIGNED_DOMAIN, selector: 'demo2026', result: 'pass', aligned: true }],
      dmarc: { result: 'pass', policy: 'reject' },
    });
  });

  it('gives the shop, whose SPF names its old provider, CANARY_SPF_FAIL and CANARY_DMARC_FAIL with remedies', () => {
    // Assess: what the receiver concluded
    expect(shop.delivery?.verdicts).toMatchObject({ fromDomain: DEMO_BROKEN_DOMAIN, spf: { result: 'fail' }, dkim: [], dmarc: { result: 'fail', policy: 'quarantine' } });
    // … became findings of the next rounds, which raise an incident like any other
    const [latest] = shopRounds;
    expect(latest!.status).toBe('critical');
    expect(latest!.findings.map((f) => f.code)).toEqual(expect.arrayContaining(['CANARY_SPF_FAIL', 'CANARY_DKIM_FAIL', 'CANARY_DMARC_FAIL']));
    expect(latest!.authentication).toMatchObject({ domain: DEMO_BROKEN_DOMAIN, published: { spf: '-all', dmarcPolicy: 'quarantine' }, sendingIp: { ip: '127.0.0.1', status: 'ok' } });
    // … and the terminal shows them with the remedy.
    expect(output).toContain(`[critical] CANARY_SPF_FAIL  The canary sent from 127.0.0.1 (HELO smtp.demo.mail-health.test) did not pass SPF for ${DEMO_BROKEN_DOMAIN}`);
    expect(output).toContain(`your provider's include or ip4:127.0.0.1`);
    expect(output).toMatch(/\[critical\] CANARY_DMARC_FAIL .*policy quarantine/);
    expect(output).toContain('Mail sending is failing: shop');
    // The sending server (the provider's, as the listener's Received header named it) was checked once, and is fine.
    expect(shop.sendingIp?.report).toMatchObject({ ip: '127.0.0.1', status: 'ok', findings: [], records: { ptr: { names: ['smtp.demo.mail-health.test'], confirmed: true } } });
  });

  it('shows each target\'s published records, latest canary verdicts and sending server in the HTML report', async () => {
    // Act
    const html = await readFile(join(cwd, '.mailhealth', 'demo', 'report.html'), 'utf8');

    // Assess
    const section = /<section id="authentication">.*?<\/section>/s.exec(html)?.[0] ?? '';
    const rowOf = (name: string) => new RegExp(`<tr data-target="${name}">.*?</tr>`, 's').exec(section)?.[0] ?? '';
    expect(rowOf('shop')).toContain(DEMO_BROKEN_DOMAIN);
    expect(rowOf('shop')).toContain('<span class="badge tone-critical">SPF fail</span>');
    expect(rowOf('shop')).toContain('<span class="badge tone-critical">DMARC fail</span>');
    expect(rowOf('shop')).toContain('DMARC p=quarantine');
    expect(rowOf('shop')).toContain('127.0.0.1 · PTR smtp.demo.mail-health.test · on no list checked');
    expect(rowOf('clinic')).toContain('DKIM demo2026: 2048 bit');
  });

  it('finds nothing about the authentication of clinic\'s domain, whose DKIM key is checked every round', () => {
    expect(clinicRounds.length).toBe(3);
    for (const round of clinicRounds) {
      expect(round.findings.filter((f) => /SPF|DKIM|DMARC|MX_|PTR|DNSBL/.test(f.code))).toEqual([]);
      expect(round.authentication).toMatchObject({ domain: DEMO_SIGNED_DOMAIN, domainStatus: 'ok', published: { spf: '-all', dmarcPolicy: 'reject', dkim: { demo2026: 2048 } } });
    }
  });
});
