/**
 * What the report's parts share to say things the same way: times, status labels, badges and
 * numbered texts. Pure.
 */
import type { Finding, Language, Status } from '#core/findings.ts';
import type { FleetHealth } from '#core/health/fleet.ts';
import { esc } from './svg.ts';

/** How the page is rendered. */
export interface RenderOptions {
  readonly language: Language;
  /** IANA zone of the times shown. @default Asia/Tokyo for ja, UTC for en */
  readonly timeZone?: string;
}

export const STATUS_LABEL: Record<Status, Record<Language, string>> = {
  ok: { en: 'OK', ja: '正常' },
  warning: { en: 'WARNING', ja: '警告' },
  critical: { en: 'CRITICAL', ja: '重大' },
  unknown: { en: 'UNKNOWN', ja: '不明' },
};

export const HEALTH_LABEL: Record<FleetHealth, Record<Language, string>> = {
  ok: { en: 'OK', ja: '正常' },
  warning: { en: 'WARNING', ja: '警告中' },
  failing: { en: 'FAILING', ja: '障害中' },
  unknown: { en: 'NO ROUND YET', ja: '未実行' },
};

/** The badge colour of a health. */
export const HEALTH_TONE: Record<FleetHealth, Status> = { ok: 'ok', warning: 'warning', failing: 'critical', unknown: 'unknown' };

export const SEVERITY_LABEL: Record<Finding['severity'], Record<Language, string>> = {
  info: { en: 'info', ja: '参考' },
  warning: { en: 'warning', ja: '警告' },
  critical: { en: 'critical', ja: '重大' },
};

// Building a DateTimeFormat costs far more than using one; a report formats thousands of times.
const formats = new Map<string, Intl.DateTimeFormat>();
function formatIn(zone: string): Intl.DateTimeFormat {
  let f = formats.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
    formats.set(zone, f);
  }
  return f;
}

/** `2026-01-05 09:30:12 JST`: the report's times, to the second (rounds can be seconds apart). */
export function reportTime(iso: string, language: Language, timeZone?: string): string {
  const zone = timeZone ?? (language === 'ja' ? 'Asia/Tokyo' : 'UTC');
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const parts = formatIn(zone).formatToParts(date);
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '';
  const abbreviation = zone === 'Asia/Tokyo' ? 'JST' : zone === 'UTC' || zone === 'Etc/UTC' ? 'UTC' : zone;
  return `${part('year')}-${part('month')}-${part('day')} ${part('hour')}:${part('minute')}:${part('second')} ${abbreviation}`;
}

/** The time of day of `reportTime` (`09:30:12 JST`). */
export function shortTime(iso: string, language: Language, timeZone?: string): string {
  return reportTime(iso, language, timeZone).slice(11);
}

/** How long ago, roughly: `3 d 4 h`, `2 h 5 min`, `40 s` (`3 日 4 時間`, …). */
export function durationText(ms: number, language: Language): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const [d, h, m] = [Math.floor(s / 86_400), Math.floor((s % 86_400) / 3600), Math.floor((s % 3600) / 60)];
  const u = language === 'ja' ? { d: '日', h: '時間', m: '分', s: '秒' } : { d: 'd', h: 'h', m: 'min', s: 's' };
  if (d > 0) return `${d} ${u.d}${h ? ` ${h} ${u.h}` : ''}`;
  if (h > 0) return `${h} ${u.h}${m ? ` ${m} ${u.m}` : ''}`;
  if (m > 0) return `${m} ${u.m}`;
  return `${s} ${u.s}`;
}

/** Seconds as the report shows them: one decimal under ten. */
export function secondsText(v: number | null, language: Language): string {
  return v === null ? '–' : `${v < 10 ? v.toFixed(1) : Math.round(v)} ${language === 'ja' ? '秒' : 's'}`;
}

/** A coloured label. */
export const badge = (tone: string, text: string): string => `<span class="badge tone-${esc(tone)}">${esc(text)}</span>`;

/** Fills `%d` and `%s` in order. */
export function fillText(template: string, ...values: (string | number)[]): string {
  let i = 0;
  return template.replace(/%[ds]/g, () => String(values[i++] ?? ''));
}
