/**
 * The demo of `npm start`, run in-process as the CLI runs it (`run` without a config, with
 * `--rounds` and a short `--interval`): its own provider, customer server and bounce listener on
 * 127.0.0.1, real DSNs, the real loop. The story must show, in the terminal, the checklist's four
 * causes within the first two rounds, one alert and its recovery, and the report's path.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIO } from '#local/cli/io.ts';
import { createReportCommand } from '#local/cli/report.ts';
import { createRunCommand } from '#local/cli/run.ts';
import { createSuppressionsCommand } from '#local/cli/suppressions.ts';

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void) {
    this.text += chunk.toString('utf8');
    cb();
  }
}

function io(cwd: string, env: NodeJS.ProcessEnv = { LANG: 'C' }): CliIO & { out: Capture; err: Capture } {
  const out = new Capture();
  const err = new Capture();
  return { stdout: out, stderr: err, env, cwd, out, err };
}

/** The text of each round, by number (index 0: what came before round 1). */
function rounds(text: string): string[] {
  return text.split(/^── round \d+ · .*$/m);
}

describe('mailhealth run without a config (the demo)', () => {
  let cwd: string;
  let output: string;
  let code: number;

  beforeAll(async () => {
    // Act: four rounds one second apart, as `npm start -- --rounds 4 --interval 1` would.
    cwd = await mkdtemp(join(tmpdir(), 'mh-demo-'));
    const run = io(cwd);
    code = await createRunCommand()(['--rounds', '4', '--interval', '1'], run);
    output = run.out.text;
  }, 90_000);

  afterAll(async () => {
    if (cwd) await rm(cwd, { recursive: true, force: true });
  });

  it('shows each of the four causes of the checklist within its first two rounds', () => {
    const firstTwo = rounds(output).slice(1, 3).join('\n');
    expect(code).toBe(0);
    expect(firstTwo).toMatch(/\[info\] PORT25_BLOCKED \(connect\)/);
    expect(firstTwo).toMatch(/\[warning\] SIZE_LIMIT_LOW \(ehlo\)/);
    // Real DSNs from the provider, read back by the bounce listener and matched to shop's canary.
    expect(firstTwo).toMatch(/bounce ← full@customers\.demo\.mail-health\.test {2}mailboxfull 552 5\.2\.2 → BOUNCE_MAILBOX_FULL {2}\(shop, canary [0-9A-Z]{26}\)/);
    expect(firstTwo).toMatch(/bounce ← nobody@customers\.demo\.mail-health\.test {2}userunknown 550 5\.1\.1 → BOUNCE_INVALID_ADDRESS {2}\(shop, canary [0-9A-Z]{26}\)/);
    expect(firstTwo).toMatch(/arrived ← canary [0-9A-Z]{26} \(shop\) → ok@bounces\.demo\.mail-health\.test/);
  });

  it('says that the repeated bounces of round 2 are held back, and until when', () => {
    // The same full mailbox and unknown user bounce every round; alerts.reminderMinutes (60) holds the repeats.
    const [, r1, r2] = rounds(output);
    const held = (code: string, address: string) =>
      new RegExp(`held back: ${code} for ${address.replace(/\./g, '\\.')} was alerted less than alerts\\.reminderMinutes ago; the next alert for it not before (\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d) UTC`);
    const full = held('BOUNCE_MAILBOX_FULL', 'full@customers.demo.mail-health.test');
    expect(r1).not.toMatch(full);
    const until = full.exec(r2!)?.[1];
    expect(until, r2).toBeDefined();
    expect(r2).toMatch(held('BOUNCE_INVALID_ADDRESS', 'nobody@customers.demo.mail-health.test'));
    // An hour after round 1's alert (the demo's first round is seconds before round 2).
    const roundOne = /^── round 1 · (\d\d:\d\d:\d\d)/m.exec(output)![1]!;
    const expected = new Date(`${until!.slice(0, 10)}T${roundOne}Z`).getTime() + 3600_000;
    expect(Math.abs(Date.parse(`${until!.replace(' ', 'T')}Z`) - expected)).toBeLessThan(30_000);
  });

  it('raises one alert in round 2 and its recovery in round 4, captured instead of sent', () => {
    const [, r1, r2, r3, r4] = rounds(output);
    const failing = 'alert → Slack (demo capture): 🔴 Mail sending is failing: clinic';
    const recovered = 'alert → Slack (demo capture): ✅ Recovered: clinic';
    expect(r1).toMatch(/clinic +CRITICAL .*auth ✗ 535 5\.7\.8/);
    expect(r1).not.toContain(failing);
    expect(r2).toContain(failing);
    expect(r3).toMatch(/clinic +OK/);
    expect(r3).not.toContain(recovered);
    expect(r4).toContain(recovered);
    expect(output.split(failing)).toHaveLength(2);
    expect(output.split(recovered)).toHaveLength(2);
  });

  it('tells what it is doing and where the report is, and leaves nothing unprocessed', async () => {
    const stateDir = join(cwd, '.mailhealth', 'demo');
    const reportPath = join(stateDir, 'report.html');
    expect(output).toContain('mail-health demo: the whole loop on this machine');
    expect(output).toContain(`report → ${reportPath}`);
    expect(output).toContain(`Open the report: ${reportPath}`);
    expect(existsSync(reportPath)).toBe(true);
    expect(await readdir(join(stateDir, 'inbox')).catch(() => [])).toEqual([]);
    expect(existsSync(join(stateDir, 'kept'))).toBe(false);
  });

  it('says it stops by itself under --rounds, never that the loop goes on until Ctrl-C', () => {
    const [intro] = rounds(output);
    const last = rounds(output).at(-1)!;
    expect(intro).toContain('It stops by itself after 4 rounds (--rounds); Ctrl-C stops sooner.');
    expect(intro).not.toMatch(/\. Ctrl-C stops\.$/m);
    expect(last).toContain('demo: that was the last round (--rounds): the run stops once the mail of this round is back. Open the report: ');
    expect(output).not.toContain('the loop goes on');
  });

  it("points a plain `suppressions` and `report` at the demo's state, which --state DIR keeps in DIR/demo", async () => {
    // Act: the commands with their default state directory, as after `npm start`
    const list = io(cwd);
    const listed = await createSuppressionsCommand()([], list);
    const page = io(cwd);
    const written = await createReportCommand()(['--out', join(cwd, 'default.html')], page);

    // Assess
    const demo = join(cwd, '.mailhealth', 'demo');
    const hint = `the demo (npm start, mailhealth run without a config) keeps its state in ${demo}: pass --state ${demo}`;
    expect(listed).toBe(0);
    expect(list.err.text).toBe(`mailhealth: suppressions: no bounce recorded in ${join(cwd, '.mailhealth')} (${hint})\n`);
    expect(written).toBe(0);
    expect(page.err.text).toContain(hint);
  });

  it('writes the report again on demand, in the language asked for', async () => {
    // Act
    const out = join(cwd, 'copy.html');
    const report = io(cwd);
    const exit = await createReportCommand()(['--state', join(cwd, '.mailhealth', 'demo'), '--out', out, '--lang', 'ja'], report);

    // Assess
    expect(exit).toBe(0);
    expect(report.out.text.trim()).toBe(out);
    const html = await readFile(out, 'utf8');
    expect(html).toContain('<html lang="ja">');
    expect(html).toContain('全対象の状態（問題のあるものから順に）');
    expect(html).toContain('clinic');
  });

  it('starts afresh each time and exits with the round status with --once', async () => {
    // Act: a second demo in the same directory, one round.
    const again = io(cwd);
    const exit = await createRunCommand()(['--once'], again);

    // Assess: round 1 again (clinic's login fails: CRITICAL, exit 2).
    expect(exit).toBe(2);
    expect(again.out.text).toMatch(/^── round 1 · /m);
    expect(again.out.text).not.toMatch(/^── round 2 · /m);
  }, 60_000);
});
