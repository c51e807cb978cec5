import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { AlertEvent } from '#core/alert/event.ts';
import type { TargetResult } from '#core/results.ts';
import type { CliIO } from '#local/cli/io.ts';
import { createTerminalReporter } from '#local/terminal.ts';

class Capture extends Writable {
  text = '';
  isTTY = false;
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void) {
    this.text += chunk.toString('utf8');
    cb();
  }
}

function io(tty: boolean): CliIO & { out: Capture } {
  const out = new Capture();
  out.isTTY = tty;
  return { stdout: out, stderr: new Capture(), env: {}, cwd: '/', out };
}

const result: TargetResult = {
  name: 'shop',
  status: 'critical',
  canaryId: '01JGZ8W5V4N6K2M3P7Q9R1S0TX',
  startedAt: '2026-01-05T09:00:00Z',
  steps: [
    { step: 'connect', ok: true, ms: 3 },
    { step: 'auth', ok: false, ms: 40, reply: '535 5.7.8 Authentication credentials invalid' },
  ],
  ports: { '25': 'timeout', '587': 'open' },
  extensions: {},
  findings: [
    {
      code: 'AUTH_FAILED',
      severity: 'critical',
      step: 'auth',
      message: { en: 'The server refused the password.', ja: 'パスワードが拒否されました。' },
      remedy: { en: 'Check the password.', ja: 'パスワードを確認してください。' },
    },
  ],
};

const failing: AlertEvent = {
  kind: 'failing',
  key: 'k#failing',
  incidentId: '01JGZ8W5V4N6K2M3P7Q9R1S0TY',
  target: 'shop',
  at: '2026-01-05T09:00:10Z',
  startedAt: '2026-01-05T09:00:00Z',
  status: 'critical',
  findings: result.findings,
  canaryId: result.canaryId,
  failedStep: 'auth',
  steps: result.steps,
  durationMs: 10_000,
};

describe('createTerminalReporter', () => {
  it('prints a target, its findings and the remedy once, and each post with its destination, route and outcome', () => {
    // Prepare
    const out = io(false);
    const report = createTerminalReporter(out, { language: 'en', channelNames: { slack: 'Slack (demo capture)' } });

    // Act
    report({ kind: 'round-start', round: 1, at: '2026-01-05T09:00:00Z', targets: ['shop'] });
    report({ kind: 'progress', text: 'round 1: sending canaries' });
    report({ kind: 'target', round: 1, result });
    report({ kind: 'target', round: 2, result });
    const slack = { channel: 'slack', id: 'slack', route: null, paceKey: 'slack' } as const;
    const email = { channel: 'email', id: 'email@shop-owner', route: 'shop-owner', from: 'monitor@example.jp', to: ['owner@example.jp'], paceKey: 'email' } as const;
    report({ kind: 'alert-sent', destination: slack, events: [failing], outcome: { channel: 'slack', ok: true } });
    report({ kind: 'alert-sent', destination: email, events: [failing], outcome: { channel: 'email', ok: false, error: 'SES refused' } });
    report({ kind: 'alert', event: failing, outcomes: [{ channel: 'slack', ok: true }] });
    report({ kind: 'alert', event: failing, outcomes: [] });
    report({ kind: 'alert-sent', destination: slack, events: ['a', 'b', 'c'].map((target) => ({ ...failing, target })), outcome: { channel: 'slack', ok: true } });
    report.close();

    // Assess: plain lines, no spinner or colour off a terminal.
    const text = out.out.text;
    expect(text).toContain('── round 1 · 09:00:00 UTC');
    expect(text).toMatch(/^shop +CRITICAL {2}25 timeout · 587 open {2}auth ✗ 535 5\.7\.8 Authentication credentials invalid$/m);
    expect(text.match(/\[critical\] AUTH_FAILED \(auth\) {2}The server refused the password\./g)).toHaveLength(2);
    expect(text.match(/→ What to do: Check the password\./g)).toHaveLength(1);
    expect(text).toContain('  alert → Slack (demo capture): 🔴 Mail sending is failing: shop');
    expect(text).toContain('  alert → email (route shop-owner) ✗ SES refused: 🔴 Mail sending is failing: shop');
    expect(text).toContain('  alert (no channel configured): 🔴 Mail sending is failing: shop');
    expect(text.match(/alert → Slack \(demo capture\): 🔴 Mail sending is failing: shop$/gm)).toHaveLength(1);
    expect(text).toContain('  alert → Slack (demo capture): 🔴 Mail sending is failing: 3 targets (a, b, c)');
    expect(text).not.toContain('\u001b[');
    expect(text).not.toContain('sending canaries');
  });

  it("calls a bounce with another installation's canary id the shop's own mail, not a canary's", () => {
    // Prepare
    const out = io(false);
    const report = createTerminalReporter(out, { language: 'en' });
    const recipient = { recipient: 'taro@example.com', reason: 'userunknown' as const, status: '5.1.1', replyCode: 550, hard: true, diagnostic: null, remoteMta: null, canaryId: '01JGZ8W5V4N6K2M3P7Q9R1S0TZ' };

    // Act
    report({ kind: 'intake', outcome: { kind: 'bounce', source: 'raw/2026-01-05/x.eml', messageKind: 'bounce', recipients: [{ recipient, target: null, finding: null, first: true, heldUntil: null, digestAt: null }], events: [] } });
    report.close();

    // Assess
    expect(out.out.text).toContain('(your own mail: canary id 01JGZ8W5V4N6K2M3P7Q9R1S0TZ is not one of ours, raw/2026-01-05/x.eml)');
  });

  it('shows a spinner and colours on a terminal, and clears the spinner line before each output line', () => {
    const out = io(true);
    const report = createTerminalReporter(out, { language: 'en' });
    report({ kind: 'progress', text: 'round 1: sending canaries' });
    report({ kind: 'target', round: 1, result });
    report.close();
    const text = out.out.text;
    expect(text).toContain('round 1: sending canaries');
    expect(text).toContain('\r\u001b[2K');
    expect(text).toContain('\u001b[31mCRITICAL\u001b[39m');
  });
});
