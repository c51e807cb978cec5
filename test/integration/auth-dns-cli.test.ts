/**
 * `mailhealth dns` against a real DNS server on 127.0.0.1 (the embedded one, answering from a
 * zone with one domain or address per finding; TXT records split into 255-byte strings, DKIM
 * keys generated now): every authentication code of docs/REFERENCE.md, a clean domain and a clean
 * sending address with nothing above info, the JSON contract, the exit codes.
 */
import { execFile } from 'node:child_process';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '#core/errors.ts';
import type { CliIO } from '#local/cli/io.ts';
import { createDnsCommand } from '#local/cli/dns.ts';
import { startDnsServer, type DnsServer } from '#local/dns-server.ts';
import { authWorld, DNSBL, IPS } from '../helpers/auth-zone.ts';
import { BUILT_CLI } from '../helpers/built-cli.ts';

function fakeIO(env: NodeJS.ProcessEnv = { LANG: 'C' }): CliIO & { out: () => string } {
  const chunks: string[] = [];
  const stdout = new Writable({
    write(chunk: Buffer | string, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return { stdout, stderr: new Writable({ write: (_c, _e, d) => d() }), env, cwd: '/', out: () => chunks.join('') };
}

interface Doc {
  status: string;
  domains: { domain: string; status: string; records: Record<string, unknown>; findings: { code: string; severity: string; message: { en: string; ja: string }; remedy: { en: string; ja: string } }[] }[];
  ips: { ip: string; status: string; records: Record<string, unknown>; findings: { code: string; severity: string; message: { en: string; ja: string } }[] }[];
}

describe('mailhealth dns against a DNS server on 127.0.0.1', () => {
  let dns: DnsServer;
  const run = async (...argv: string[]): Promise<{ code: number; doc: Doc }> => {
    const io = fakeIO();
    const code = await createDnsCommand()([...argv, '--json', '--dns-server', dns.address], io);
    return { code, doc: JSON.parse(io.out()) as Doc };
  };
  const codesOf = (findings: readonly { code: string; severity: string }[]) => findings.map((f) => `${f.code}:${f.severity}`);

  beforeAll(async () => {
    dns = await startDnsServer({ zone: authWorld().zone });
  });
  afterAll(async () => {
    await dns?.close();
  });

  it('finds nothing above info for a clean domain with a 2048-bit key split over several TXT strings', async () => {
    // Act
    const { code, doc } = await run('clean.test', '--selector', 's2048');

    // Assess
    expect(code).toBe(0);
    expect(doc.status).toBe('ok');
    const [domain] = doc.domains;
    expect(domain).toMatchObject({ domain: 'clean.test', status: 'ok', findings: [] });
    expect(domain!.records).toMatchObject({
      spf: { records: ['v=spf1 include:_spf.provider.test -all'], lookups: 1, ending: '-all' },
      dmarc: { record: 'v=DMARC1; p=reject; rua=mailto:dmarc@clean.test', policy: 'reject' },
      mx: { exchanges: [{ exchange: 'mx.clean.test', priority: 10 }], nullMx: false },
      dkim: { s2048: { keyType: 'rsa', bits: 2048, revoked: false } },
    });
    // The key record really came in several strings: the server split it, the client joined it.
    expect(((domain!.records.dkim as Record<string, { record: string }>).s2048!.record).length).toBeGreaterThan(255);
    expect(doc.ips).toEqual([]);
  });

  it('finds nothing above info for a clean sending address, IPv4 and IPv6', async () => {
    // Act
    const { code, doc } = await run('--ip', IPS.clean, '--ip', IPS.cleanV6, '--dnsbl', DNSBL.lists);

    // Assess
    expect(code).toBe(0);
    expect(doc.domains).toEqual([]);
    for (const ip of doc.ips) {
      expect(ip.status).toBe('ok');
      expect(ip.findings).toEqual([]);
      expect(ip.records).toEqual({ ptr: { names: ['mail.clean.test'], confirmed: true }, dnsbl: [{ zone: DNSBL.lists, listed: false, codes: [], text: null }] });
    }
  });

  it.each([
    ['bare.test', ['SPF_MISSING:warning', 'DMARC_MISSING:warning', 'MX_MISSING:warning'], 1],
    ['multiple.test', ['SPF_MULTIPLE_RECORDS:critical', 'DMARC_MISSING:warning'], 2],
    ['syntax.test', ['SPF_SYNTAX:critical', 'DMARC_MISSING:warning'], 2],
    ['broken-include.test', ['SPF_SYNTAX:critical', 'DMARC_MISSING:warning'], 2],
    ['toomany.test', ['SPF_TOO_MANY_LOOKUPS:critical', 'DMARC_MISSING:warning'], 2],
    ['allowall.test', ['SPF_ALLOWS_ALL:warning', 'DMARC_MISSING:warning'], 1],
    ['soft.test', ['SPF_ALLOWS_ALL:info'], 0],
    ['dmarc-syntax.test', ['DMARC_SYNTAX:warning'], 1],
    ['dmarc-none.test', ['DMARC_POLICY_NONE:info'], 0],
    ['nullmx.test', ['MX_MISSING:warning'], 1],
  ])('reports %s as %j (exit %i)', async (domain, expected, exit) => {
    const { code, doc } = await run(domain);
    expect(codesOf(doc.domains[0]!.findings)).toEqual(expected);
    expect(code).toBe(exit);
  });

  it('reports each DKIM key problem by selector, following a CNAME to a hosted key', async () => {
    // Act
    const { code, doc } = await run('keys.test', '-s', 'hosted', '-s', 's1024', '-s', 's512', '-s', 'old', '-s', 'nosuch');

    // Assess
    expect(code).toBe(2);
    const findings = doc.domains[0]!.findings;
    expect(codesOf(findings)).toEqual(['DKIM_KEY_WEAK:critical', 'DKIM_KEY_REVOKED:critical', 'DKIM_KEY_MISSING:critical', 'DKIM_KEY_WEAK:info']);
    expect(findings[0]!.message.en).toContain('only 512-bit RSA');
    expect(findings[2]!.message.en).toContain('nosuch._domainkey.keys.test');
    expect(findings[3]!.message.en).toContain('1024-bit RSA');
    expect(doc.domains[0]!.records.dkim).toMatchObject({ hosted: { bits: 2048 }, s1024: { bits: 1024 }, s512: { bits: 512 }, old: { revoked: true }, nosuch: { record: null } });
  });

  it('names the include that is counted over the limit, and the one that does not exist', async () => {
    const { doc } = await run('toomany.test', 'broken-include.test');
    expect(doc.domains[0]!.records.spf).toMatchObject({ lookups: 11 });
    expect(doc.domains[0]!.findings[0]!.message.en).toContain('needs 11 DNS lookups');
    expect(doc.domains[1]!.findings[0]!.message.en).toContain('includes _spf.gone.test, which publishes no SPF record');
    expect(doc.domains[1]!.findings[0]!.remedy.ja).toContain('include:_spf.gone.test');
  });

  it('reports the sending address problems, a listing with its code and text, and a refusing list as info only', async () => {
    // Act
    const { code, doc } = await run('--ip', IPS.noPtr, '--ip', IPS.mismatch, '--ip', IPS.listed, '--dnsbl', DNSBL.lists, '--dnsbl', DNSBL.refuses);

    // Assess
    expect(code).toBe(2);
    const [noPtr, mismatch, listed] = doc.ips;
    expect(codesOf(noPtr!.findings)).toEqual(['PTR_MISSING:critical', 'DNSBL_UNAVAILABLE:info']);
    expect(codesOf(mismatch!.findings)).toEqual(['PTR_MISMATCH:warning', 'DNSBL_UNAVAILABLE:info']);
    expect(mismatch!.findings[0]!.message.en).toContain('dynamic-77.isp.test');
    expect(codesOf(listed!.findings)).toEqual(['DNSBL_LISTED:critical', 'DNSBL_UNAVAILABLE:info']);
    expect(listed!.findings[0]!.message.en).toContain(`${DNSBL.lists} (answer 127.0.0.2): "Listed for sending spam; see https://${DNSBL.lists}/lookup?ip=${IPS.listed}"`);
    expect(listed!.records.dnsbl).toEqual([
      { zone: DNSBL.lists, listed: true, codes: ['127.0.0.2'], text: `Listed for sending spam; see https://${DNSBL.lists}/lookup?ip=${IPS.listed}` },
      { zone: DNSBL.refuses, listed: null, codes: ['127.255.255.254'], text: null, error: 'refused: 127.255.255.254' },
    ]);
    // Refused is never a listing: an otherwise clean address stays OK.
    const clean = await run('--ip', IPS.clean, '--dnsbl', DNSBL.refuses);
    expect(clean.code).toBe(0);
    expect(codesOf(clean.doc.ips[0]!.findings)).toEqual(['DNSBL_UNAVAILABLE:info']);
  });

  it('prints the JSON of docs/REFERENCE.md: status, domains and ips, findings with en/ja message and remedy', async () => {
    const { doc } = await run('bare.test', '--ip', IPS.noPtr, '--dnsbl', DNSBL.lists);
    expect(Object.keys(doc)).toEqual(['status', 'domains', 'ips']);
    expect(Object.keys(doc.domains[0]!)).toEqual(['domain', 'status', 'records', 'findings']);
    expect(Object.keys(doc.ips[0]!)).toEqual(['ip', 'status', 'records', 'findings']);
    expect(Object.keys(doc.domains[0]!.records)).toEqual(['spf', 'dmarc', 'mx']);
    expect(Object.keys(doc.ips[0]!.records)).toEqual(['ptr', 'dnsbl']);
    for (const f of [...doc.domains[0]!.findings, ...doc.ips[0]!.findings]) {
      expect(Object.keys(f)).toEqual(['code', 'severity', 'message', 'remedy']);
      expect(f.message.ja).toMatch(/[\u3040-\u30ff]/);
    }
    expect(doc.status).toBe('critical');
  });

  it('says UNKNOWN (exit 3) when the DNS server does not answer, never a made-up finding', async () => {
    // Prepare: a server that never answers anything.
    const silent = await startDnsServer({ zone: {}, misbehave: { 'clean.test': 'TIMEOUT', '_dmarc.clean.test': 'SERVFAIL', 'mx-less.test': 'TIMEOUT' } });
    try {
      const io = fakeIO();
      // Act
      const code = await createDnsCommand({})(['clean.test', '--json', '--dns-server', silent.address], io);
      // Assess
      const doc = JSON.parse(io.out()) as Doc;
      expect(code).toBe(3);
      expect(doc.domains[0]!.status).toBe('unknown');
      expect(doc.domains[0]!.findings.map((f) => f.code)).not.toContain('SPF_MISSING');
      expect(doc.domains[0]!.records.spf).toMatchObject({ error: expect.stringContaining('ETIMEOUT') });
      expect(doc.domains[0]!.records.dmarc).toMatchObject({ error: expect.stringContaining('ESERVFAIL') });
    } finally {
      await silent.close();
    }
  }, 20_000);

  it('never says "No problems found." beside UNKNOWN: the built program names what was not checked', async () => {
    // Prepare: every lookup for the domain fails at once (SERVFAIL).
    const failing = await startDnsServer({ zone: {}, misbehave: { 'fail.test': 'SERVFAIL', '_dmarc.fail.test': 'SERVFAIL' } });
    try {
      // Act
      const run = await new Promise<{ code: number; stdout: string }>((resolve) => {
        execFile(process.execPath, [BUILT_CLI, 'dns', 'fail.test', '--dns-server', failing.address], { timeout: 20_000, env: { ...process.env, LANG: 'C' } }, (err, stdout) =>
          resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout }),
        );
      });
      // Assess
      expect(run.code).toBe(3);
      expect(run.stdout).toContain('Overall: UNKNOWN (exit 3)');
      expect(run.stdout).not.toContain('No problems found.');
      expect(run.stdout).toContain('Not everything could be checked: a DNS lookup failed');
    } finally {
      await failing.close();
    }
  });

  it('prints the findings with their remedies for people, in Japanese with LANG=ja_JP', async () => {
    // Act
    const io = fakeIO({ LANG: 'ja_JP.UTF-8' });
    const code = await createDnsCommand()(['soft.test', 'bare.test', '--dns-server', dns.address], io);

    // Assess
    expect(code).toBe(1);
    const out = io.out();
    expect(out).toContain('soft.test  OK（正常）');
    expect(out).toContain('SPF    v=spf1 ip4:192.0.2.25 ~all  (DNS 参照 0 回（上限 10）)');
    expect(out).toContain('[警告] SPF_MISSING');
    expect(out).toContain('対処:');
    expect(out).toContain('総合: WARNING（警告） (exit 1)');
  });

  it('answers as the built program, with the exit code of the worst status', async () => {
    const spawn = (...args: string[]) =>
      new Promise<{ code: number; stdout: string }>((resolve) => {
        execFile(process.execPath, [BUILT_CLI, 'dns', ...args, '--dns-server', dns.address], { timeout: 20_000, env: { ...process.env, LANG: 'C' } }, (err, stdout) =>
          resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout }),
        );
      });
    const clean = await spawn('clean.test', '--json');
    expect(clean.code).toBe(0);
    expect((JSON.parse(clean.stdout) as Doc).domains[0]!.status).toBe('ok');
    const broken = await spawn('syntax.test', '--ip', IPS.noPtr, '--dnsbl', DNSBL.lists);
    expect(broken.code).toBe(2);
    expect(broken.stdout).toContain('[critical] SPF_SYNTAX');
    expect(broken.stdout).toContain('[critical] PTR_MISSING');
  });

  it.each([
    [[]],
    [['user@example.jp']],
    [['--ip', '192.0.2.300']],
    [['example.jp', '--dnsbl', 'zen.spamhaus.org']],
    [['example.jp', '--dns-server', 'dns.example.jp']],
    [['example.jp', '--selector', 'bad selector']],
  ])('refuses bad usage %j with a UsageError (exit 3) before asking DNS', async (argv) => {
    const before = dns.queries.length;
    await expect(createDnsCommand()(argv, fakeIO())).rejects.toBeInstanceOf(UsageError);
    expect(dns.queries.length).toBe(before);
  });
});
