/**
 * `mailhealth status [--state DIR] [--json]`: one line per target of a state directory, worst
 * first (core/health/fleet.ts, the rows of the report's fleet view): its health and since when,
 * the step or finding it fails at, its last round trip, placement, and its last round. Reads
 * only what a line needs (the health, the newest round, the newest canaries), a few targets at
 * a time. Exit code like `check`: the worst target's (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN: a
 * target not checked yet, no target at all, or bad usage).
 *
 * `--json`: `{ "status", "generatedAt", "stateDir", "lastRoundAt", "counts": { "failing",
 * "warning", "ok", "unknown" }, "targets": [ { "name", "health", "status", "since",
 * "lastRoundAt", "lastRoundStatus", "problem": { "step", "code", "severity" } | null,
 * "roundTrip": { "canaryId", "sentAt", "state", "seconds" } | null, "placement": null,
 * "dmarc"?: { "domains", "day", "findings" } } ] }` (`dmarc`: the latest day of the DMARC and TLS
 * reports about the target's domains, report/dmarc-section.ts; only for targets with reports).
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { createFileStore } from '#adapters/file-store.ts';
import { UsageError } from '#core/errors.ts';
import { exitCodeOf, worstStatus, type Language, type Status } from '#core/findings.ts';
import { compareFleetRows, fleetCounts, fleetRowOf, type FleetRow } from '#core/health/fleet.ts';
import type { Store } from '#core/ports.ts';
import { readRunMeta } from '../loop.ts';
import { dmarcStatusByTarget, type DmarcStatusCell } from '../report/dmarc-section.ts';
import { durationText, reportTime, secondsText } from '../report/format.ts';
import { DEFAULT_STATE_DIR } from './run.ts';
import { parseCommandArgs, usageLine } from './commands.ts';
import { languageFromEnv, padDisplay, styler, writeJson, type CliIO, type Command } from './io.ts';

// Targets read at once: each read is a few small files.
const TARGETS_AT_ONCE = 16;
// The newest canaries a line looks at for the last round trip.
const CANARIES_PER_TARGET = 3;
const DEFAULT_DELIVERY_TIMEOUT_MINUTES = 15;

const L = {
  summary: { en: '%d targets: %d failing, %d not checked yet, %d warning, %d OK · %s', ja: '対象 %d 件: 障害中 %d 件、未実行 %d 件、警告中 %d 件、正常 %d 件 · %s' },
  lastRound: { en: 'last round of the loop %s', ja: 'ループの最終チェック %s' },
  none: { en: 'no target has been checked in %s yet: run `mailhealth run` (or `mailhealth check --state DIR`) first', ja: '%s にはまだチェックの記録がありません。先に `mailhealth run`（または `mailhealth check --state DIR`）を実行してください' },
  columns: {
    en: ['health', 'target', 'since', 'failing step or finding', 'round trip', 'placement', 'DMARC reports', 'last round'],
    ja: ['状態', '対象', 'いつから', '失敗したステップ・診断', '往復確認', '受信箱到達', 'DMARC レポート', '最終チェック'],
  },
  health: {
    en: { failing: 'FAILING', warning: 'WARNING', ok: 'OK', unknown: 'NOT CHECKED' },
    ja: { failing: '障害中', warning: '警告中', ok: '正常', unknown: '未実行' },
  },
  status: {
    en: { ok: 'OK', warning: 'WARNING', critical: 'CRITICAL', unknown: 'UNKNOWN' },
    ja: { ok: '正常', warning: '警告', critical: '重大', unknown: '不明' },
  },
  late: { en: 'not delivered', ja: '未着' },
  dmarcPass: { en: 'all pass', ja: 'すべて合格' },
  onTheWay: { en: 'on the way', ja: '配送中' },
} as const;

function fill(template: string, ...values: (string | number)[]): string {
  let i = 0;
  return template.replace(/%[ds]/g, () => String(values[i++] ?? ''));
}

function parse(argv: readonly string[]): { state?: string; json: boolean } {
  const { values } = parseCommandArgs('status', argv, { allowPositionals: false });
  const state = values.text('state');
  return { ...(state !== undefined ? { state } : {}), json: values.flag('json') };
}

/** Maps `items` through `fn`, at most `limit` at once, keeping their order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/**
 * The fleet rows of a store, worst first.
 * @example const rows = await fleetRows(createFileStore({ dir }), { now: new Date(), deliveryTimeoutMinutes: 15 });
 */
export async function fleetRows(store: Store, options: { readonly now: Date; readonly deliveryTimeoutMinutes: number }): Promise<FleetRow[]> {
  const names = await store.listTargets();
  const rows = await mapLimit(names, TARGETS_AT_ONCE, async (name) => {
    const [health, rounds, canaries] = await Promise.all([store.getHealth(name), store.listRounds(name, 1), store.listCanaries(name, CANARIES_PER_TARGET)]);
    return fleetRowOf({ name, health: health?.value ?? null, lastRound: rounds[0] ?? null, canaries }, options);
  });
  return rows.sort(compareFleetRows);
}

/** The `status --json` document. */
export function statusJson(rows: readonly FleetRow[], meta: { readonly generatedAt: string; readonly stateDir: string; readonly lastRoundAt: string | null }, dmarc: ReadonlyMap<string, DmarcStatusCell> = new Map()): unknown {
  return {
    status: rows.length === 0 ? 'unknown' : worstStatus(rows.map((r) => r.status)),
    generatedAt: meta.generatedAt,
    stateDir: meta.stateDir,
    lastRoundAt: meta.lastRoundAt,
    counts: fleetCounts(rows),
    targets: rows.map((r) => ({
      name: r.name,
      health: r.health,
      status: r.status,
      since: r.since,
      lastRoundAt: r.lastRoundAt,
      lastRoundStatus: r.lastRoundStatus,
      problem: r.problem,
      roundTrip: r.roundTrip,
      placement: r.placement,
      ...(dmarc.has(r.name) ? { dmarc: dmarc.get(r.name) } : {}),
    })),
  };
}

const TONE: Record<Status, 'red' | 'yellow' | 'green' | 'dim'> = { critical: 'red', warning: 'yellow', ok: 'green', unknown: 'dim' };

/** The human table: a summary line, then one line per target. */
export function formatStatus(rows: readonly FleetRow[], o: { readonly language: Language; readonly now: Date; readonly stateDir: string; readonly lastRoundAt: string | null; readonly io: CliIO; readonly timeZone?: string; readonly dmarc?: ReadonlyMap<string, DmarcStatusCell> }): string {
  const lang = o.language;
  const s = styler(o.io);
  const counts = fleetCounts(rows);
  const time = (iso: string) => reportTime(iso, lang, o.timeZone);
  const cells = rows.map((r) => {
    const rt = r.roundTrip;
    return [
      L.health[lang][r.health],
      r.name,
      r.since ? `${time(r.since)} (${durationText(o.now.getTime() - Date.parse(r.since), lang)})` : '–',
      r.problem ? `${r.problem.step ? `${r.problem.step} ` : ''}${r.problem.code}` : '–',
      !rt ? '–' : rt.state === 'arrived' ? secondsText(rt.seconds, lang) : rt.state === 'late' ? L.late[lang] : L.onTheWay[lang],
      r.placement ? r.placement.summary : '–',
      dmarcCell(o.dmarc?.get(r.name), lang),
      r.lastRoundAt ? `${L.status[lang][r.lastRoundStatus ?? 'unknown']} ${time(r.lastRoundAt)}` : '–',
    ];
  });
  const head = [...L.columns[lang]];
  const widths = head.map((h, i) => Math.max(widthOf(h), ...cells.map((c) => widthOf(c[i]!))));
  const line = (c: readonly string[]) => c.map((v, i) => (i === c.length - 1 ? v : padDisplay(v, widths[i]!))).join('  ').trimEnd();
  const summary = [fill(L.summary[lang], rows.length, counts.failing, counts.unknown, counts.warning, counts.ok, o.stateDir), ...(o.lastRoundAt ? [fill(L.lastRound[lang], time(o.lastRoundAt))] : [])].join(' · ');
  const body = cells.map((c, i) => {
    const text = line(c);
    const colour = s[TONE[rows[i]!.status]];
    const health = c[0]!;
    return colour(health) + text.slice(health.length);
  });
  return `${summary}\n${s.bold(line(head))}\n${body.join('\n')}\n`;
}

/** The DMARC column: the latest report day's findings, or that all passed. */
function dmarcCell(cell: DmarcStatusCell | undefined, lang: Language): string {
  if (!cell) return '–';
  return `${cell.findings.length > 0 ? cell.findings.join(', ') : L.dmarcPass[lang]}${cell.day ? ` (${cell.day})` : ''}`;
}

/** Columns a text takes in a terminal (East Asian wide characters take two). */
function widthOf(s: string): number {
  let w = 0;
  for (const ch of s) w += /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/.test(ch) ? 2 : 1;
  return w;
}

/** Builds the `status` command (`now` for tests). */
export function createStatusCommand(deps: { readonly now?: () => Date } = {}): Command {
  return async (argv: readonly string[], io: CliIO) => {
    const args = parse(argv);
    const stateDir = resolve(io.cwd, args.state ?? DEFAULT_STATE_DIR);
    if (!existsSync(stateDir)) throw new UsageError(`status: no state directory ${stateDir}: run \`mailhealth run\` first (or pass --state DIR)\n${usageLine('status')}`);
    const meta = await readRunMeta(stateDir);
    const now = (deps.now ?? (() => new Date()))();
    const store = createFileStore({ dir: stateDir });
    const rows = await fleetRows(store, { now, deliveryTimeoutMinutes: meta?.deliveryTimeoutMinutes ?? DEFAULT_DELIVERY_TIMEOUT_MINUTES });
    const status: Status = rows.length === 0 ? 'unknown' : worstStatus(rows.map((r) => r.status));
    const lastRoundAt = meta?.lastRoundAt ?? null;
    // DMARC and TLS reports are shown beside the health; they alert on their own and never change the exit code.
    const dmarc = await dmarcStatusByTarget(stateDir);
    if (args.json) {
      writeJson(io, statusJson(rows, { generatedAt: now.toISOString(), stateDir, lastRoundAt }, dmarc));
    } else {
      const language = meta?.language ?? languageFromEnv(io.env);
      if (rows.length === 0) io.stderr.write(`mailhealth: status: ${fill(L.none[language], stateDir)}\n`);
      else io.stdout.write(formatStatus(rows, { language, now, stateDir, lastRoundAt, io, dmarc }));
    }
    return exitCodeOf(status);
  };
}

/** `mailhealth status [--state DIR] [--json]`. */
export const statusCommand: Command = createStatusCommand();
