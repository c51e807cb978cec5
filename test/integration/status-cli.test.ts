/**
 * `mailhealth status` over a state directory the real recording path wrote (recordRound and the
 * file store): one line per target, worst first, the exit code of the worst target, and the
 * `--json` document.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { createFileStore } from '#adapters/file-store.ts';
import { UsageError } from '#core/errors.ts';
import { recordRound } from '#core/health/record.ts';
import type { Status } from '#core/findings.ts';
import { expectContract } from '#local/cli/json-contracts.ts';
import { createStatusCommand } from '#local/cli/status.ts';
import { at, countingRandom, round, T0 } from '../helpers/alert-fixtures.ts';

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void) {
    this.text += chunk.toString('utf8');
    cb();
  }
}

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

const NOW = new Date(T0 + 60 * 60_000);
const CONFIG = { failureThreshold: 2, recoveryThreshold: 2, reminderMinutes: 60 };

/** A state directory where each target had these rounds (one every ten minutes from T0). */
async function stateWith(targets: Record<string, readonly Status[]>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mh-status-'));
  dirs.push(dir);
  const store = createFileStore({ dir });
  const random = countingRandom();
  for (const [name, statuses] of Object.entries(targets)) {
    for (const [i, status] of statuses.entries()) {
      const startedAt = at(i * 10);
      await recordRound(round(status, startedAt, { name }), { store, clock: () => new Date(startedAt), random, config: CONFIG });
    }
  }
  await store.putCanary({ id: 'C1', target: 'shop', sentAt: at(40), recipients: ['canary@bounces.example.jp'], deliveredAt: new Date(Date.parse(at(40)) + 3_200).toISOString() });
  return dir;
}

async function status(argv: string[], cwd = tmpdir()) {
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await createStatusCommand({ now: () => NOW })(argv, { stdout, stderr, env: { LANG: 'C' }, cwd });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

describe('mailhealth status', () => {
  it('prints one line per target, worst first, and exits with the worst target: CRITICAL', async () => {
    // Prepare: clinic failing since minute 10, shop OK, school warning since minute 20, lab failing since minute 30
    const dir = await stateWith({
      shop: ['ok', 'ok', 'ok', 'ok', 'ok'],
      clinic: ['ok', 'critical', 'critical', 'critical', 'critical'],
      school: ['ok', 'ok', 'warning', 'warning', 'warning'],
      lab: ['ok', 'ok', 'ok', 'critical', 'critical'],
    });

    // Act
    const { code, stdout } = await status(['--state', dir]);

    // Assess
    expect(code).toBe(2);
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`4 targets: 2 failing, 0 not checked yet, 1 warning, 1 OK · ${dir}`);
    expect(lines[1]).toMatch(/^health\s+target\s+since\s+failing step or finding\s+round trip\s+placement\s+DMARC reports\s+last round$/);
    expect(lines.slice(2).map((l) => l.split(/\s+/).slice(0, 2).join(' '))).toEqual(['FAILING clinic', 'FAILING lab', 'WARNING school', 'OK shop']);
    expect(lines[2]).toMatch(/^FAILING\s+clinic\s+2026-01-05 00:10:00 UTC \(50 min\)\s+auth AUTH_FAILED\s+–\s+–\s+–\s+CRITICAL 2026-01-05 00:40:00 UTC$/);
    expect(lines[4]).toMatch(/^WARNING\s+school\s+2026-01-05 00:20:00 UTC \(40 min\)\s+starttls TLS_CERT_EXPIRING\s+/);
    expect(lines[5]).toMatch(/^OK\s+shop\s+2026-01-05 00:00:00 UTC \(1 h\)\s+–\s+3\.2 s\s+–\s+–\s+OK 2026-01-05 00:40:00 UTC$/);
    // The columns line up.
    const column = lines[1]!.indexOf('since');
    for (const line of lines.slice(2)) expect(line.slice(column, column + 4)).toBe('2026');
  });

  it('prints the JSON document and exits like check: WARNING when the worst target warns', async () => {
    // Prepare
    const dir = await stateWith({ shop: ['ok', 'ok', 'ok', 'ok', 'ok'], school: ['warning', 'warning', 'warning'] });

    // Act
    const { code, stdout } = await status(['--state', dir, '--json']);

    // Assess
    expect(code).toBe(1);
    const doc = JSON.parse(stdout) as Record<string, unknown>;
    expectContract('status', '--json', doc);
    expect(doc).toEqual({
      status: 'warning',
      generatedAt: NOW.toISOString(),
      stateDir: dir,
      lastRoundAt: null,
      counts: { failing: 0, warning: 1, ok: 1, unknown: 0 },
      targets: [
        {
          name: 'school',
          health: 'warning',
          status: 'warning',
          since: at(0),
          lastRoundAt: at(20),
          lastRoundStatus: 'warning',
          problem: { step: 'starttls', code: 'TLS_CERT_EXPIRING', severity: 'warning' },
          roundTrip: null,
          placement: null,
        },
        {
          name: 'shop',
          health: 'ok',
          status: 'ok',
          since: at(0),
          lastRoundAt: at(40),
          lastRoundStatus: 'ok',
          problem: null,
          roundTrip: { canaryId: 'C1', sentAt: at(40), state: 'arrived', seconds: 3.2 },
          placement: null,
        },
      ],
    });
  });

  it('exits 0 when every target is OK', async () => {
    const dir = await stateWith({ shop: ['ok', 'ok'], clinic: ['ok'] });
    expect((await status(['--state', dir, '--json'])).code).toBe(0);
  });

  it('is UNKNOWN (3) with a hint when nothing was checked yet, and a usage error without a state directory', async () => {
    // Prepare
    const empty = await mkdtemp(join(tmpdir(), 'mh-status-empty-'));
    dirs.push(empty);

    // Act
    const human = await status(['--state', empty]);
    const json = await status(['--state', empty, '--json']);

    // Assess
    expect(human.code).toBe(3);
    expect(human.stderr).toContain('no target has been checked in');
    expect(json.code).toBe(3);
    expect(JSON.parse(json.stdout)).toMatchObject({ status: 'unknown', counts: { failing: 0, warning: 0, ok: 0, unknown: 0 }, targets: [] });
    await expect(status(['--state', join(empty, 'missing')])).rejects.toThrow(UsageError);
    await expect(status(['--state', empty, '--verbose'])).rejects.toThrow(/status: .*--verbose/);
  });
});
