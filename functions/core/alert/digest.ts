/**
 * Alert grouping for bounce storms, as monitoring systems group alerts (Alertmanager's
 * group_wait/group_interval, Sentry's digests): per target, the first bounce of a kind (its
 * finding code) alerts at once and opens a window of `alerts.bounceDigestMinutes`; what follows
 * in the window is counted, and when the window closes it goes out as one digest. While a storm
 * lasts, the next window carries on (its kinds already alerted), so a storm gives a digest per
 * window, not an alert per bounce; a quiet window ends it.
 * Pure: the shells keep the window in their store and decide when to look at the clock.
 */
import type { Status } from '../findings.ts';
import type { BounceReason } from '../results.ts';
import type { BounceAlert, DigestAlert, DigestSeeAlso } from './event.ts';

/** Recipient domains counted one by one; the rest of a storm's domains are summed up. */
export const MAX_TRACKED_DOMAINS = 50;
/** Addresses a digest names; the rest are in the report, `mailhealth suppressions` and the history. */
export const DIGEST_SAMPLE_SIZE = 5;
/** Domains a digest lists, busiest first. */
export const DIGEST_TOP_DOMAINS = 5;

/** What a window has counted so far. */
export interface BounceTally {
  readonly total: number;
  /** Of them, bounces of canaries (the sending path) and of the shop's own mail (the list's health). */
  readonly canary: number;
  readonly customer: number;
  readonly byReason: Readonly<Partial<Record<BounceReason, number>>>;
  /** Per finding code (BOUNCE_INVALID_ADDRESS, …). */
  readonly byCode: Readonly<Record<string, number>>;
  /** Per recipient domain, for at most MAX_TRACKED_DOMAINS domains. */
  readonly domains: Readonly<Record<string, number>>;
  /** Bounces to domains beyond the tracked ones. */
  readonly otherDomains: number;
  /** The first addresses, in arrival order. */
  readonly sample: readonly string[];
  /** The worst status among them. */
  readonly worst: Status;
  /** ISO times of the first and last bounce counted. */
  readonly firstAt: string | null;
  readonly lastAt: string | null;
}

/** The open window of one target (null target: bounces that belong to no target). */
export interface DigestWindow {
  readonly target: string | null;
  /** ISO time the window opened. */
  readonly openedAt: string;
  /** ISO time the window closes and its digest is due. */
  readonly closesAt: string;
  /** Finding codes already alerted at once (in this window or earlier in the same storm). */
  readonly alerted: readonly string[];
  readonly tally: BounceTally;
  /** Digests this storm has had before this window. */
  readonly digests: number;
  /**
   * The keys of the bounces that alerted at once in this window, when the tally is taken from
   * the bounce history (`tallyFromHistory`): they are not counted again in the digest.
   */
  readonly alertedKeys?: readonly string[];
  /** With the tally from the history: the bounces that arrived from this ISO time on are this window's. */
  readonly countFrom?: string;
}

/** What to do with one bounce alert. */
export type GroupDecision =
  /** Send it now: the first of its kind. */
  | { readonly kind: 'alert' }
  /** Counted in the window's digest, due at `sendAt`. */
  | { readonly kind: 'digest'; readonly sendAt: string };

/** The result of grouping one bounce. */
export interface Grouped {
  readonly decision: GroupDecision;
  /** The window to keep. */
  readonly window: DigestWindow;
  /** A window that had closed before this bounce came and still holds a digest to send. */
  readonly closed: DigestWindow | null;
}

const RANK: Record<Status, number> = { ok: 0, unknown: 1, warning: 2, critical: 3 };

/** An empty tally. */
export function emptyTally(): BounceTally {
  return { total: 0, canary: 0, customer: 0, byReason: {}, byCode: {}, domains: {}, otherDomains: 0, sample: [], worst: 'ok', firstAt: null, lastAt: null };
}

function domainOf(address: string): string {
  const at = address.lastIndexOf('@');
  return at < 0 ? '' : address.slice(at + 1).toLowerCase();
}

function count(tally: BounceTally, bounce: BounceAlert): BounceTally {
  const code = bounce.findings[0]?.code ?? 'BOUNCE_OTHER';
  const reason = bounce.bounce.reason;
  const domain = domainOf(bounce.bounce.recipient);
  const tracked = domain in tally.domains || Object.keys(tally.domains).length < MAX_TRACKED_DOMAINS;
  return {
    total: tally.total + 1,
    canary: tally.canary + (bounce.canaryId !== null ? 1 : 0),
    customer: tally.customer + (bounce.canaryId === null ? 1 : 0),
    byReason: { ...tally.byReason, [reason]: (tally.byReason[reason] ?? 0) + 1 },
    byCode: { ...tally.byCode, [code]: (tally.byCode[code] ?? 0) + 1 },
    domains: tracked ? { ...tally.domains, [domain]: (tally.domains[domain] ?? 0) + 1 } : tally.domains,
    otherDomains: tally.otherDomains + (tracked ? 0 : 1),
    sample: tally.sample.length < DIGEST_SAMPLE_SIZE ? [...tally.sample, bounce.bounce.recipient] : tally.sample,
    worst: RANK[bounce.status] > RANK[tally.worst] ? bounce.status : tally.worst,
    firstAt: tally.firstAt ?? bounce.startedAt,
    lastAt: bounce.startedAt,
  };
}

/** A recorded bounce as the tally counts it (BounceRecord's fields). */
export interface TalliedBounce {
  readonly at: string;
  readonly key?: string;
  readonly canaryId: string | null;
  readonly recipient: BounceAlert['bounce'];
  readonly finding: { readonly code: string; readonly severity: string } | null;
}

/**
 * The tally of a window from the recorded bounces, for shells where many writers record at once
 * (Lambdas): a bounce counted in a digest writes nothing to the window, and the digest counts
 * the window's bounces from the history when it closes. Counted: the failures that arrived in
 * [window.countFrom, window.closesAt), except those that alerted at once.
 * @example const full = { ...window, tally: tallyOfRecords(window, await store.listBounces(target, 1000)) };
 */
export function tallyOfRecords(window: DigestWindow, records: readonly TalliedBounce[]): BounceTally {
  const from = window.countFrom ?? window.openedAt;
  const skip = new Set(window.alertedKeys ?? []);
  const counted = records
    .filter((r) => r.finding !== null && r.finding.severity !== 'info' && r.at >= from && r.at < window.closesAt && !(r.key && skip.has(r.key)))
    .sort((a, b) => a.at.localeCompare(b.at));
  let tally = emptyTally();
  for (const r of counted) {
    const status: Status = r.finding!.severity === 'critical' ? 'critical' : 'warning';
    tally = count(tally, { kind: 'bounce', key: r.key ?? '', incidentId: '', target: window.target, at: r.at, startedAt: r.at, status, findings: [r.finding as BounceAlert['findings'][number]], canaryId: r.canaryId, bounce: r.recipient });
  }
  return tally;
}

const plus = (iso: string, minutes: number) => new Date(Date.parse(iso) + minutes * 60_000).toISOString();

function openWindow(
  target: string | null,
  now: string,
  windowMinutes: number,
  carried: { alerted: readonly string[]; digests: number; countFrom?: string } | null,
  fromHistory = false,
): DigestWindow {
  const window: DigestWindow = { target, openedAt: now, closesAt: plus(now, windowMinutes), alerted: carried?.alerted ?? [], tally: emptyTally(), digests: carried?.digests ?? 0 };
  if (!fromHistory) return window;
  // A storm's first window also takes the bounces that arrived shortly before the one that opened
  // it but were processed after it; a following window starts where the last one ended.
  return { ...window, alertedKeys: [], countFrom: carried?.countFrom ?? plus(now, -windowMinutes) };
}

/**
 * Decides whether a bounce alert goes out now or into its target's digest, and updates the
 * window. With `windowMinutes` 0 every bounce alerts (no window is kept).
 * @example
 * const { decision, window, closed } = groupBounce(stored, event, { now: clock(), windowMinutes: config.alerts.bounceDigestMinutes });
 */
export function groupBounce(
  window: DigestWindow | null,
  bounce: BounceAlert,
  options: { readonly now: Date; readonly windowMinutes: number; /** Note the keys alerted at once (see tallyOfRecords). */ readonly tallyFromHistory?: boolean },
): Grouped {
  const now = options.now.toISOString();
  const history = options.tallyFromHistory ?? false;
  let current = window;
  let closed: DigestWindow | null = null;
  if (current && now >= current.closesAt) {
    // The window ended before anyone sent its digest: send it now, and carry on the storm.
    closed = current.tally.total > 0 ? current : null;
    current = closed ? openWindow(bounce.target, now, options.windowMinutes, { alerted: closed.alerted, digests: closed.digests + 1, countFrom: closed.closesAt }, history) : null;
  }
  current ??= openWindow(bounce.target, now, options.windowMinutes, null, history);
  const code = bounce.findings[0]?.code ?? 'BOUNCE_OTHER';
  if (options.windowMinutes <= 0 || !current.alerted.includes(code)) {
    const keys = options.tallyFromHistory ? { alertedKeys: [...(current.alertedKeys ?? []), bounce.key] } : {};
    return { decision: { kind: 'alert' }, window: { ...current, alerted: [...current.alerted, code], ...keys }, closed };
  }
  return { decision: { kind: 'digest', sendAt: current.closesAt }, window: { ...current, tally: count(current.tally, bounce) }, closed };
}

/** What closing a window gives: the digest to send (if it counted anything) and the window to keep. */
export interface ClosedWindow {
  readonly digest: DigestWindow | null;
  /** The storm's next window (when the closed one counted bounces), or null: the window is over. */
  readonly next: DigestWindow | null;
}

/**
 * Closes a window whose time is up (or any window with `force`, when the shell stops and
 * sends what it counted so far). A window that counted bounces hands on to a next window with
 * the same alerted kinds; an empty one ends the storm.
 * @example const { digest, next } = closeWindow(stored, { now: clock(), windowMinutes: 10 });
 */
export function closeWindow(window: DigestWindow, options: { readonly now: Date; readonly windowMinutes: number; readonly force?: boolean }): ClosedWindow | null {
  const now = options.now.toISOString();
  if (!options.force && now < window.closesAt) return null;
  if (window.tally.total === 0) return options.force ? { digest: null, next: window } : { digest: null, next: null };
  const next = openWindow(window.target, now, options.windowMinutes, { alerted: window.alerted, digests: window.digests + 1, countFrom: window.closesAt }, window.alertedKeys !== undefined);
  return { digest: window, next };
}

/**
 * The digest alert of a closed window: counts by reason, the busiest recipient domains, the
 * first addresses, and where to see the rest.
 * @example digestAlert(closed, { at: clock().toISOString(), incidentId, seeAlso: { command: 'mailhealth suppressions --state .mailhealth' } })
 */
export function digestAlert(window: DigestWindow, options: { readonly at: string; readonly incidentId: string; readonly seeAlso: DigestSeeAlso }): DigestAlert {
  const t = window.tally;
  const domains = Object.entries(t.domains)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([domain, n]) => ({ domain, count: n }));
  const top = domains.slice(0, DIGEST_TOP_DOMAINS);
  const rest = domains.slice(DIGEST_TOP_DOMAINS).reduce((sum, d) => sum + d.count, 0) + t.otherDomains;
  return {
    kind: 'digest',
    key: `digest#${window.target ?? '%none'}#${window.openedAt}`,
    incidentId: options.incidentId,
    target: window.target,
    at: options.at,
    startedAt: t.firstAt ?? window.openedAt,
    status: t.worst === 'ok' ? 'warning' : t.worst,
    findings: [],
    windowStart: window.openedAt,
    windowEnd: options.at < window.closesAt ? options.at : window.closesAt,
    total: t.total,
    canary: t.canary,
    customer: t.customer,
    byReason: Object.entries(t.byReason)
      .sort((a, b) => (b[1] ?? 0) - (a[1] ?? 0) || a[0].localeCompare(b[0]))
      .map(([reason, n]) => ({ reason: reason as BounceReason, count: n ?? 0 })),
    topDomains: top,
    otherDomains: rest,
    sample: t.sample,
    alertedAtOnce: window.alerted,
    seeAlso: options.seeAlso,
  };
}
