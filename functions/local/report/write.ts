/**
 * Writes the report page of a state directory to a file, atomically (a browser that reloads
 * while `run` refreshes it sees the old page or the new one, never half of one).
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { RetentionConfig } from '#core/config.ts';
import type { Language } from '#core/findings.ts';
import type { Store } from '#core/ports.ts';
import { collectReportData, type ReportCache } from './data.ts';
import { renderReportHtml } from './html.ts';

/** What the report is made from. */
export interface WriteReportOptions {
  readonly language: Language;
  readonly stateDir: string;
  readonly now: Date;
  readonly timeZone?: string;
  /** The settings the report explains (the run's config, or run.json). */
  readonly retention?: RetentionConfig;
  readonly deliveryTimeoutMinutes?: number;
  /** The loop's rounds so far, so the report reads only what it lacks (data.ts createReportCache). */
  readonly cache?: ReportCache;
}

/**
 * Renders the report of `store` and writes it to `path`.
 * @example await writeReportFile(store, '.mailhealth/report.html', { language: 'ja', stateDir: '.mailhealth', now: new Date() });
 */
export async function writeReportFile(store: Store, path: string, options: WriteReportOptions): Promise<void> {
  const data = await collectReportData(store, {
    stateDir: options.stateDir,
    now: options.now,
    reportDir: dirname(path),
    ...(options.retention ? { retention: options.retention } : {}),
    ...(options.deliveryTimeoutMinutes !== undefined ? { deliveryTimeoutMinutes: options.deliveryTimeoutMinutes } : {}),
    ...(options.cache ? { cache: options.cache } : {}),
  });
  const html = renderReportHtml(data, { language: options.language, ...(options.timeZone ? { timeZone: options.timeZone } : {}) });
  await mkdir(dirname(path), { recursive: true });
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, html, 'utf8');
  await rename(temp, path);
}
