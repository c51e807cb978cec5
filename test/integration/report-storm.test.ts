/**
 * A storm of 1,000 report mails (DMARC from three reporters, TLS-RPT) about 50 domains over 20
 * days, lying in the local intake's inbox as the bounce listener leaves them after a burst:
 * every report is recorded, nothing fails or is kept, and the alerts are one per change (each
 * key once), far fewer than the reports.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createDmarcFileStore } from '#adapters/dmarc-file-store.ts';
import { createFileStore } from '#adapters/file-store.ts';
import type { AlertEvent } from '#core/alert/event.ts';
import { createBounceIntake, type IntakeOutcome } from '#local/intake.ts';
import { createReportReader } from '#local/report-intake.ts';
import { stormDomain, stormReports } from '../helpers/report-storm.ts';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('a storm of 1,000 report mails', () => {
  it('records every report once and alerts once per change', async () => {
    // Prepare
    const dir = await mkdtemp(join(tmpdir(), 'mh-report-storm-'));
    dirs.push(dir);
    await mkdir(join(dir, 'inbox'));
    const mails = stormReports(1000);
    for (const [i, m] of mails.entries()) await writeFile(join(dir, 'inbox', `20260304T000000000Z-1-${String(i).padStart(5, '0')}-storm.eml`), m);
    const store = createFileStore({ dir });
    const reports = createDmarcFileStore({ dir });
    const clock = () => new Date('2026-03-04T00:00:00Z');
    const targets = Array.from({ length: 50 }, (_, d) => ({ name: `shop${d}`, from: `info@${stormDomain(d)}` }));
    const outcomes: IntakeOutcome[] = [];
    const events: AlertEvent[] = [];
    const intake = createBounceIntake({
      stateDir: dir,
      store,
      clock,
      random: (n) => new Uint8Array(n).map((_, i) => (i * 31 + events.length) & 0xff),
      reports: createReportReader({ bounceDomain: 'bounces.example.jp', targets, store, reports, clock, random: (n) => new Uint8Array(n), lookup: null }),
      raise: async (e) => void events.push(...e),
      report: (o) => outcomes.push(o),
    });

    // Act
    await intake.recover();
    await intake.drain();

    // Assess
    expect(outcomes.map((o) => o.kind).filter((k) => k !== 'reports')).toEqual([]);
    let recorded = 0;
    for (const d of await reports.listDomains()) recorded += (await reports.listReports(d, 10_000)).length;
    expect(recorded).toBe(1000);
    const keys = events.map((e) => e.key);
    expect(new Set(keys).size).toBe(keys.length);
    expect(events.length).toBeGreaterThan(50);
    expect(events.length).toBeLessThan(1000 / 2);
    expect(new Set(events.map((e) => (e.kind === 'dmarc' ? e.change : e.kind)))).toEqual(new Set(['unknown', 'failing', 'passing', 'tls-failing', 'tls-ok']));
  }, 240_000);
});
