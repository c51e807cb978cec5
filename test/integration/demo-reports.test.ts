/**
 * The demo's DMARC and TLS reports (`npm start`): in round 2 receivers' reports about the demo
 * domains arrive at the bounce listener; shop's newsletter service, which passed the day
 * before, fails (one failing known sender, one alert), a stranger sends as shop, clinic's
 * reports are clean, and `mailhealth dmarc --state` reads the same history.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDmarcFileStore } from '#adapters/dmarc-file-store.ts';
import type { CliIO } from '#local/cli/io.ts';
import { expectContract } from '#local/cli/json-contracts.ts';
import { createRunCommand } from '#local/cli/run.ts';
import { createStatusCommand } from '#local/cli/status.ts';

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void) {
    this.text += chunk.toString('utf8');
    cb();
  }
}

describe('the demo receives DMARC reports', () => {
  let cwd: string;
  let output: string;

  beforeAll(async () => {
    cwd = await mkdtemp(join(tmpdir(), 'mh-demo-reports-'));
    const out = new Capture();
    await createRunCommand()(['--rounds', '2', '--interval', '1', '--drain', '5'], { stdout: out, stderr: new Capture(), env: { LANG: 'C' }, cwd });
    output = out.text;
  }, 90_000);
  afterAll(async () => {
    if (cwd) await rm(cwd, { recursive: true, force: true });
  });

  it("shows shop's newsletter service failing DMARC in round 2, with one alert", () => {
    const round2 = output.split(/^── round 2 · .*$/m)[1] ?? '';
    expect(round2).toMatch(/report ← DMARC Enterprise Outlook shop\.mail-health\.test \d{4}-\d\d-\d\d: 21 messages → DMARC_REPORT_FAIL, DMARC_REPORT_UNKNOWN_SOURCE {2}\(shop\)/);
    expect(round2).toMatch(/report ← DMARC google\.com demo\.mail-health\.test \d{4}-\d\d-\d\d: 9 messages {2}\(clinic\)/);
    expect(output.match(/alert → Slack \(demo capture\): 🔴 Your own mail fails DMARC: SendGrid for shop\.mail-health\.test/g)).toHaveLength(1);
    expect(output).toMatch(/alert → Slack \(demo capture\): 🟡 Unknown senders send as shop\.mail-health\.test \(1\)/);
  });

  it('keeps the reports of both domains in the state', async () => {
    const reports = createDmarcFileStore({ dir: join(cwd, '.mailhealth', 'demo') });
    expect(await reports.listDomains()).toEqual(['demo.mail-health.test', 'shop.mail-health.test']);
    const shop = await reports.listReports('shop.mail-health.test', 10);
    expect(shop.map((r) => [r.org, r.messages, r.passed])).toEqual([
      ['Enterprise Outlook', 21, 0],
      ['google.com', 42, 42],
    ]);
    const clinic = await reports.listReports('demo.mail-health.test', 10);
    expect(clinic.flatMap((r) => r.findings)).toEqual([]);
  });

  it("shows each target's latest DMARC findings in mailhealth status, and leaves its exit code to the health", async () => {
    const out = new Capture();
    const io = { stdout: out, stderr: new Capture(), env: { LANG: 'C' }, cwd };
    const code = await createStatusCommand()(['--state', join('.mailhealth', 'demo'), '--json'], io);
    const doc = JSON.parse(out.text) as { status: string; targets: { name: string; dmarc?: { domains: string[]; findings: string[] } }[] };
    expectContract('status', '--json', doc);
    expect(doc.targets.find((t) => t.name === 'shop')?.dmarc).toMatchObject({ domains: ['shop.mail-health.test'], findings: ['DMARC_REPORT_FAIL', 'DMARC_REPORT_UNKNOWN_SOURCE'] });
    expect(doc.targets.find((t) => t.name === 'clinic')?.dmarc).toMatchObject({ domains: ['demo.mail-health.test'], findings: [] });
    expect(code).toBe({ ok: 0, warning: 1, critical: 2, unknown: 3 }[doc.status]);
    const text = new Capture();
    await createStatusCommand()(['--state', join('.mailhealth', 'demo')], { ...io, stdout: text });
    expect(text.text).toMatch(/DMARC reports/);
    expect(text.text).toMatch(/DMARC_REPORT_FAIL, DMARC_REPORT_UNKNOWN_SOURCE \(\d{4}-\d\d-\d\d\)/);
  });
});
