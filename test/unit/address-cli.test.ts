import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { UsageError } from '#core/errors.ts';
import type { Resolver } from '#core/ports.ts';
import { addressCommand, createAddressCommand } from '#local/cli/address.ts';
import type { CliIO } from '#local/cli/io.ts';

function fakeIO(env: NodeJS.ProcessEnv = {}, isTTY = false): CliIO & { out: () => string; err: () => string } {
  const sink = () => {
    const chunks: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer | string, _enc, done) {
        chunks.push(chunk.toString());
        done();
      },
    });
    return { stream, text: () => chunks.join('') };
  };
  const stdout = sink();
  const stderr = sink();
  return {
    stdout: Object.assign(stdout.stream, { isTTY }),
    stderr: stderr.stream,
    env,
    cwd: '/',
    out: stdout.text,
    err: stderr.text,
  };
}

const CHECKLIST = ['taro.@docomo.ne.jp', 'ta..ro@ezweb.ne.jp', 'shop＠example．jp', 'info@gmial.com', 'a/b?c@example.jp', 'user,name@yahoo,co.jp', 'ok.user@example.jp'];

describe('addressCommand', () => {
  it('prints one JSON document in the contract shape and exits 2 on errors', async () => {
    // Prepare
    const io = fakeIO();

    // Act
    const code = await addressCommand(['--json', ...CHECKLIST], io);

    // Assess
    expect(code).toBe(2);
    const doc = JSON.parse(io.out()) as { addresses: Record<string, unknown>[] };
    expect(Object.keys(doc)).toEqual(['addresses']);
    expect(doc.addresses.map((a) => a.input)).toEqual(CHECKLIST);
    for (const a of doc.addresses) {
      expect(Object.keys(a)).toEqual(['input', 'normalized', 'ok', 'findings']);
      for (const f of a.findings as Record<string, unknown>[]) {
        expect(Object.keys(f).filter((k) => k !== 'suggestion')).toEqual(['code', 'severity', 'message']);
        expect(Object.keys(f.message as object)).toEqual(['en', 'ja']);
      }
    }
    const byInput = new Map(doc.addresses.map((a) => [a.input, a]));
    expect(byInput.get('shop＠example．jp')).toMatchObject({ normalized: 'shop@example.jp', ok: false });
    expect(byInput.get('info@gmial.com')).toMatchObject({ ok: false, findings: [{ code: 'DOMAIN_TYPO', severity: 'warning', suggestion: 'info@gmail.com' }] });
    expect(byInput.get('ok.user@example.jp')).toEqual({ input: 'ok.user@example.jp', normalized: 'ok.user@example.jp', ok: true, findings: [] });
    expect(io.err()).toBe('');
  });

  it.each([
    [['ok.user@example.jp'], 0],
    [['ok.user@example.jp', 'Taro@Example.jp', 'user#x@example.jp'], 0],
    [['ok.user@example.jp', 'info@gmial.com'], 1],
    [['taro.@docomo.ne.jp'], 1],
    [['info@gmial.com', 'shop＠example．jp'], 2],
    [['taro'], 2],
  ])('exits with the worst verdict of %j: %i', async (addresses, expected) => {
    expect(await addressCommand([...addresses, '--json'], fakeIO())).toBe(expected);
    expect(await addressCommand(addresses, fakeIO())).toBe(expected);
  });

  it('prints verdicts, findings and the suggestion in English without colours off a terminal', async () => {
    // Prepare
    const io = fakeIO({ LANG: 'C.UTF-8' });

    // Act
    await addressCommand(['info@gmial.com', 'ok.user@example.jp'], io);

    // Assess
    const out = io.out();
    expect(out).toMatch(/^! info@gmial\.com +CHECK$/m);
    expect(out).toMatch(/DOMAIN_TYPO/);
    expect(out).toMatch(/looks like a typing mistake for "gmail\.com"/);
    expect(out).toMatch(/→ Suggestion: info@gmail\.com/);
    expect(out).toMatch(/^✓ ok\.user@example\.jp +OK$/m);
    expect(out).not.toMatch(/\u001b\[/);
  });

  it('calls a quoted name part with a space valid, with its warning (ok: true, exit 1)', async () => {
    // Prepare
    const json = fakeIO();
    const human = fakeIO({ LANG: 'C.UTF-8' });

    // Act
    const code = await addressCommand(['--json', '"first last"@example.jp'], json);
    await addressCommand(['"first last"@example.jp'], human);

    // Assess
    expect(code).toBe(1);
    const [entry] = (JSON.parse(json.out()) as { addresses: Record<string, unknown>[] }).addresses;
    expect(entry).toMatchObject({ input: '"first last"@example.jp', normalized: '"first last"@example.jp', ok: true, findings: [{ code: 'UNUSUAL_CHARACTER', severity: 'warning' }] });
    expect(human.out()).toMatch(/^! "first last"@example\.jp +VALID, CHECK$/m);
    expect(human.out()).toMatch(/many mail services and web forms refuse such addresses/);
  });

  it('speaks Japanese when LANG says so', async () => {
    const io = fakeIO({ LANG: 'ja_JP.UTF-8' });
    await addressCommand(['shop＠example．jp', 'taro@docomo.ne.jp'], io);
    expect(io.out()).toMatch(/^✗ shop＠example．jp +エラー$/m);
    expect(io.out()).toMatch(/全角文字/);
    expect(io.out()).toMatch(/候補: shop@example\.jp/);
    expect(io.out()).toMatch(/問題なし/);
  });

  it('colours the verdict on a terminal', async () => {
    const io = fakeIO({}, true);
    await addressCommand(['taro'], io);
    expect(io.out()).toMatch(/\u001b\[31m/);
  });

  it('adds the mail-server check with --dns, through the given resolver', async () => {
    // Prepare
    const asked: string[] = [];
    const resolver = (async (name: string, rrtype: string) => {
      asked.push(`${rrtype} ${name}`);
      if (name === 'example.jp' && rrtype === 'MX') return [{ exchange: 'mx.example.jp', priority: 10 }];
      throw Object.assign(new Error(`queryMx ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
    }) as Resolver;
    const command = createAddressCommand({ resolver: () => resolver });
    const io = fakeIO();

    // Act
    const code = await command(['--dns', '--json', 'ok@example.jp', 'ok@no-such.example.jp'], io);

    // Assess
    expect(code).toBe(2);
    const doc = JSON.parse(io.out()) as { addresses: { ok: boolean; findings: { code: string; severity: string }[] }[] };
    expect(doc.addresses[0]).toMatchObject({ ok: true, findings: [] });
    expect(doc.addresses[1]).toMatchObject({ ok: false, findings: [{ code: 'NO_MAIL_SERVER', severity: 'critical' }] });
    expect(asked).toEqual(['MX example.jp', 'MX no-such.example.jp']);
  });

  it('does not touch DNS without --dns', async () => {
    let used = false;
    const command = createAddressCommand({
      resolver: () => {
        used = true;
        throw new Error('no DNS expected');
      },
    });
    expect(await command(['ok@example.jp'], fakeIO())).toBe(0);
    expect(used).toBe(false);
  });

  it('takes an address that starts with a dash after --', async () => {
    const io = fakeIO();
    expect(await addressCommand(['--json', '--', '-taro@example.jp'], io)).toBe(0);
    expect(JSON.parse(io.out())).toMatchObject({ addresses: [{ input: '-taro@example.jp', ok: true }] });
  });

  it('refuses a missing address or an unknown option as a usage error', async () => {
    await expect(addressCommand([], fakeIO())).rejects.toThrow(UsageError);
    await expect(addressCommand(['--json'], fakeIO())).rejects.toThrow(/at least one address/);
    await expect(addressCommand(['--jsno', 'a@example.jp'], fakeIO())).rejects.toThrow(UsageError);
  });
});
