/**
 * The loop's report cache (report/data.ts createReportCache): the report the loop writes after
 * every round must be the report `mailhealth report` would write, whether the rounds came
 * through the loop (remembered) or from another process sharing the state (`check --state`).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createFileStore } from '#adapters/file-store.ts';
import { recordRound } from '#core/health/record.ts';
import type { Status } from '#core/findings.ts';
import { collectReportData, createReportCache } from '#local/report/data.ts';
import { renderReportHtml } from '#local/report/html.ts';
import { at, countingRandom, round, T0 } from '../helpers/alert-fixtures.ts';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('the report cache of the loop', () => {
  it('makes the same page as reading the whole history, also after another process recorded a round', async () => {
    // Prepare
    const dir = await mkdtemp(join(tmpdir(), 'mh-report-cache-'));
    dirs.push(dir);
    const store = createFileStore({ dir });
    const random = countingRandom();
    const record = (name: string, minutes: number, status: Status) => recordRound(round(status, at(minutes), { name }), { store, clock: () => new Date(at(minutes)), random, config: { failureThreshold: 2, recoveryThreshold: 2, reminderMinutes: 60 } });
    for (let m = 0; m < 50; m += 5) for (const name of ['shop', 'clinic']) await record(name, m, m >= 30 && name === 'clinic' ? 'critical' : 'ok');
    const cache = createReportCache(20);
    const now = new Date(T0 + 3600_000);
    // The store as the report sees it, counting the rounds it reads.
    let roundsRead = 0;
    const counted = { ...store, listRounds: async (name: string, limit: number) => { const rs = await store.listRounds(name, limit); roundsRead += rs.length; return rs; } };
    const page = async (withCache: boolean) => renderReportHtml(await collectReportData(withCache ? counted : store, { stateDir: dir, now, rounds: 20, ...(withCache ? { cache } : {}) }), { language: 'en' });
    await page(true);
    const firstRead = roundsRead;

    // Act: a round the loop recorded and remembered, then one another process recorded
    await record('shop', 50, 'warning');
    await record('clinic', 50, 'ok');
    cache.remember((await store.listRounds('shop', 1))[0]!);
    cache.remember((await store.listRounds('clinic', 1))[0]!);
    roundsRead = 0;
    const remembered = await page(true);
    const rememberedRead = roundsRead;
    const rememberedFull = await page(false);
    await record('clinic', 55, 'ok');
    roundsRead = 0;
    const fromElsewhere = await page(true);
    const fromElsewhereRead = roundsRead;
    const fromElsewhereFull = await page(false);

    // Assess: the same pages; the cached reports read one round per target, or the history of the target another process wrote to
    expect(remembered).toBe(rememberedFull);
    expect(fromElsewhere).toBe(fromElsewhereFull);
    expect(fromElsewhere).not.toBe(remembered);
    expect(firstRead).toBe(20);
    expect(rememberedRead).toBe(2);
    expect(fromElsewhereRead).toBe(2 + 12);
  });
});
