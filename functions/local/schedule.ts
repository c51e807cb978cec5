/**
 * When the local loop runs its rounds: the config's EventBridge `schedule` read on this machine,
 * or `local.intervalSeconds` (or `run --interval`) when given. Pure: the time is a parameter.
 *
 * - `rate(N minutes|hours|days)`: a round every N units, counted from the start of the previous
 *   round (a slow round does not push the schedule back).
 * - `cron(min hour day-of-month month day-of-week year)`: EventBridge's six fields, in UTC, with
 *   `*`, `?`, lists, ranges, steps and month/day names. `L`, `W` and `#` are refused with a
 *   ConfigError that says to set `local.intervalSeconds` instead.
 */
import type { Config } from '#core/config.ts';
import { ConfigError } from '#core/errors.ts';

/** When the next round starts. */
export interface Schedule {
  /** Human description, e.g. `every 5 minutes`. */
  readonly description: string;
  /** The start of the round after one that started at `lastStart`, never before `now`. */
  next(lastStart: Date, now: Date): Date;
}

const UNIT_SECONDS: Record<string, number> = { minute: 60, minutes: 60, hour: 3600, hours: 3600, day: 86_400, days: 86_400 };
// A cron schedule that matches nothing within this many minutes is a config mistake (e.g. 30 February).
const CRON_HORIZON_MINUTES = 366 * 24 * 60 * 5;

/** A round every `seconds` seconds. */
export function intervalSchedule(seconds: number): Schedule {
  if (!(seconds > 0)) throw new ConfigError(`the interval must be a positive number of seconds (got ${seconds})`, 'local.intervalSeconds');
  const ms = seconds * 1000;
  return {
    description: seconds % 60 === 0 ? `every ${seconds / 60} minute${seconds === 60 ? '' : 's'}` : `every ${seconds} s`,
    next(lastStart, now) {
      return new Date(Math.max(lastStart.getTime() + ms, now.getTime()));
    },
  };
}

/**
 * The schedule of a local run: `override` seconds (the `--interval` option), else
 * `local.intervalSeconds`, else the config's `schedule`.
 * @example scheduleOf(config).next(lastStart, new Date())
 */
export function scheduleOf(config: Pick<Config, 'schedule' | 'local'>, overrideSeconds?: number): Schedule {
  if (overrideSeconds !== undefined) return intervalSchedule(overrideSeconds);
  if (config.local?.intervalSeconds !== undefined) return intervalSchedule(config.local.intervalSeconds);
  return parseSchedule(config.schedule);
}

/**
 * Reads an EventBridge schedule expression.
 * @example parseSchedule('rate(5 minutes)').description // 'every 5 minutes'
 */
export function parseSchedule(expression: string): Schedule {
  const rate = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression.trim());
  if (rate) return intervalSchedule(Number(rate[1]) * UNIT_SECONDS[rate[2]!]!);
  const cron = /^cron\((.+)\)$/.exec(expression.trim());
  if (cron) return cronSchedule(cron[1]!);
  throw new ConfigError(`schedule: ${expression} is neither rate(...) nor cron(...)`, 'schedule');
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

interface FieldSpec {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
  /** The value of the first name (JAN = 1, SUN = 1 in EventBridge). */
  readonly nameBase?: number;
}

const FIELDS: readonly FieldSpec[] = [
  { name: 'minutes', min: 0, max: 59 },
  { name: 'hours', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTHS, nameBase: 1 },
  { name: 'day-of-week', min: 1, max: 7, names: DAYS, nameBase: 1 },
  { name: 'year', min: 1970, max: 2199 },
];

/** The set of values a field allows; null for `*` / `?` (anything). */
function parseField(text: string, spec: FieldSpec, expression: string): Set<number> | null {
  if (text === '*' || text === '?') return null;
  // L, W and # (last, weekday, nth) are looked for outside the names (JUL and WED are fine).
  const withoutNames = spec.names ? text.toUpperCase().replace(new RegExp(spec.names.join('|'), 'g'), '') : text;
  if (/[LW#]/i.test(withoutNames)) {
    throw new ConfigError(
      `schedule: cron(${expression}): ${spec.name} "${text}" (L, W, #) is not supported by the local loop; set local.intervalSeconds`,
      'schedule',
    );
  }
  const value = (s: string): number => {
    const upper = s.toUpperCase();
    const named = spec.names?.indexOf(upper) ?? -1;
    const n = named >= 0 ? named + (spec.nameBase ?? 0) : /^\d+$/.test(s) ? Number(s) : Number.NaN;
    if (!Number.isInteger(n) || n < spec.min || n > spec.max) {
      throw new ConfigError(`schedule: cron(${expression}): ${spec.name} "${s}" is not in ${spec.min}-${spec.max}`, 'schedule');
    }
    return n;
  };
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const [range, stepText] = part.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1) throw new ConfigError(`schedule: cron(${expression}): bad step in ${spec.name} "${part}"`, 'schedule');
    let from: number;
    let to: number;
    if (range === '*') [from, to] = [spec.min, spec.max];
    else if (range?.includes('-')) {
      const [a, b] = range.split('-');
      [from, to] = [value(a ?? ''), value(b ?? '')];
    } else {
      from = value(range ?? '');
      to = stepText === undefined ? from : spec.max;
    }
    if (from > to) throw new ConfigError(`schedule: cron(${expression}): empty range in ${spec.name} "${part}"`, 'schedule');
    for (let v = from; v <= to; v += step) out.add(v);
  }
  return out;
}

function cronSchedule(expression: string): Schedule {
  const parts = expression.trim().split(/\s+/);
  if (parts.length !== 6) throw new ConfigError(`schedule: cron(${expression}) needs six fields (minutes hours day-of-month month day-of-week year)`, 'schedule');
  const [minutes, hours, dom, month, dow, year] = parts.map((p, i) => parseField(p, FIELDS[i]!, expression));
  const ok = (set: Set<number> | null | undefined, v: number) => !set || set.has(v);
  const matches = (d: Date) =>
    ok(minutes, d.getUTCMinutes()) &&
    ok(hours, d.getUTCHours()) &&
    ok(dom, d.getUTCDate()) &&
    ok(month, d.getUTCMonth() + 1) &&
    ok(dow, d.getUTCDay() + 1) &&
    ok(year, d.getUTCFullYear());
  return {
    description: `cron(${expression}) UTC`,
    next(lastStart, now) {
      // The first whole minute after both the last start and now that the expression matches.
      const from = Math.max(lastStart.getTime(), now.getTime() - 1);
      let t = Math.floor(from / 60_000) * 60_000 + 60_000;
      for (let i = 0; i < CRON_HORIZON_MINUTES; i++, t += 60_000) {
        const d = new Date(t);
        if (matches(d)) return d;
      }
      throw new ConfigError(`schedule: cron(${expression}) never fires`, 'schedule');
    },
  };
}
