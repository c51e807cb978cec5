/**
 * The alert outbox of the local runtime: alerts wait in `<state>/outbox/` and a sender delivers
 * them to their routes at each webhook's pace, so whoever raises an alert (a round, the bounce
 * intake) never waits on Slack or SES.
 *
 * - One file per alert, named by its priority and its key: writing the same alert twice keeps
 *   one, and the files survive a restart (the next sender picks them up). Its delivery state is
 *   kept per destination (`slack`, `email@shop-owner`, …: functions/core/alert/routes.ts), so a
 *   Slack outage of one route never re-sends the email, nor another route's Slack.
 * - Where an alert goes is its route as the config says when it is sent: a file written before
 *   routes existed (its state keyed `slack`/`email`) goes to its target's route, what a channel
 *   already sent counted as sent there.
 * - Canary health alerts (failing, warning, reminder, recovered, not delivered, alarms) go
 *   before bounce alerts and digests, whatever was queued first: a storm never holds them back.
 * - One send at a time per pace key (one webhook, however many routes name it; SES for every
 *   email), at most one per `paceMs` (Slack takes about one post a second per webhook). A 429
 *   pauses the webhook for the Retry-After it names; other failures are retried with a growing
 *   delay, `maxAttempts` times, then recorded as failed.
 * - Grouping (functions/core/alert/group.ts): when a webhook may post again, the health alerts
 *   ready for one destination go as one post naming the targets (at most `maxGroup`), so a
 *   hundred targets failing at once are a few posts, not a hundred seconds of them.
 * - When every destination is done the alert and its outcomes go into the history and the file
 *   is removed. A send that a crash interrupts is tried again by the next sender (at least
 *   once); two senders on one directory never send the same alert to one destination at the
 *   same time (a lease claim in the store).
 */
import { createHash } from 'node:crypto';
import { link, mkdir, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AlertEvent, DeliveryOutcome } from '#core/alert/event.ts';
import { formatEmailPost } from '#core/alert/email.ts';
import { alertPriority, MAX_GROUP, nextPost } from '#core/alert/group.ts';
import type { AlertDestination } from '#core/alert/routes.ts';
import { formatSlackPost } from '#core/alert/slack.ts';
import { DeliveryError } from '#core/errors.ts';
import type { Language } from '#core/findings.ts';
import type { Clock, Store } from '#core/ports.ts';
import type { AlertChannels, LocalDestination, LocalRoute } from './alerting.ts';

type Channel = AlertDestination['channel'];

/** Where one destination of one alert stands. */
interface ChannelState {
  readonly state: 'pending' | 'sent' | 'failed';
  readonly attempts: number;
  /** Date.now() before which it is not tried again. */
  readonly nextAt: number;
  readonly error?: string;
}

/** One alert in the outbox (the file's content). */
export interface OutboxEntry {
  readonly event: AlertEvent;
  /** ISO time it was queued. */
  readonly queuedAt: string;
  /**
   * Delivery state per destination id. Files written before alert routes have no `routed`
   * and key it by channel (`slack`, `email`).
   */
  readonly channels: Readonly<Record<string, ChannelState>>;
  /** The keys of `channels` are destination ids. */
  readonly routed?: true;
}

/** What the outbox tells about its work. */
export type OutboxReport =
  /** Every destination is done with the alert (sent, or given up). */
  | { readonly kind: 'delivered'; readonly event: AlertEvent; readonly outcomes: readonly DeliveryOutcome[] }
  /** A post went out (one alert, or a group), or was given up. */
  | { readonly kind: 'sent'; readonly destination: AlertDestination; readonly language: Language; readonly events: readonly AlertEvent[]; readonly outcome: DeliveryOutcome }
  /** A post failed and is tried again at `retryAt` (ISO). */
  | { readonly kind: 'retry'; readonly destination: AlertDestination; readonly events: readonly AlertEvent[]; readonly error: string; readonly retryAt: string };

/** What the outbox is built from. */
export interface OutboxOptions {
  /** The folder of the entries, e.g. `<state>/outbox`. */
  readonly dir: string;
  /** The history the delivered alerts go into, and the lease claims. */
  readonly store: Store;
  /** Where each alert goes and in which language (functions/local/alerting.ts). */
  readonly channels: AlertChannels;
  /** Times in the history. */
  readonly clock: Clock;
  /**
   * The least time between two posts of one pace key (a webhook; SES), in ms.
   * @default slack 1000 (one post a second per webhook), email 1000
   */
  readonly paceMs?: Partial<Record<Channel, number>>;
  /** At most this many health alerts in one post. @default MAX_GROUP */
  readonly maxGroup?: number;
  /** @default 6 */
  readonly maxAttempts?: number;
  readonly report: (report: OutboxReport) => void;
  /** Real time for pacing and retries. @default Date.now */
  readonly now?: () => number;
}

/** A running outbox. */
export interface Outbox {
  /** Queues alerts (durably; an alert already queued is kept once). Never waits on a channel. */
  enqueue(events: readonly AlertEvent[]): Promise<void>;
  /** Starts the sender (idempotent). */
  start(): void;
  /**
   * Resolves once nothing is left to send, or after `maxMs`, whichever is first, with the
   * number of alerts still queued. `keys` narrows the wait to those alerts.
   */
  settle(options: { readonly maxMs: number; readonly keys?: readonly string[] }): Promise<number>;
  /** Stops the sender after its sends in flight; what is left stays on disk for the next start. */
  stop(): Promise<void>;
  /** Alerts queued and not yet done. */
  pending(): Promise<number>;
}

const DEFAULT_PACE_MS: Record<Channel, number> = { slack: 1000, email: 1000 };
const DEFAULT_MAX_ATTEMPTS = 6;
const FIRST_RETRY_MS = 2_000;
const MAX_RETRY_MS = 5 * 60_000;
// A Retry-After beyond this is a broken server: wait this long instead.
const MAX_RETRY_AFTER_MS = 10 * 60_000;
// Other processes may queue alerts into the same folder: look for them at least this often.
const RESCAN_MS = 1_000;
// A send that takes longer than this is from a process that died mid-send.
const LEASE_SECONDS = 120;

const PENDING: ChannelState = { state: 'pending', attempts: 0, nextAt: 0 };

const hashOf = (key: string) => createHash('sha256').update(key).digest('hex').slice(0, 32);
const fileOf = (event: AlertEvent) => `${alertPriority(event)}-${hashOf(event.key)}.json`;

function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** An entry with its route resolved: a state for each destination that can send it. */
interface Resolved {
  readonly name: string;
  readonly entry: OutboxEntry;
  readonly route: LocalRoute;
  readonly states: ReadonlyMap<string, ChannelState>;
}

/**
 * Creates the outbox of a state directory.
 * @example
 * const outbox = createOutbox({ dir: join(stateDir, 'outbox'), store, channels, clock, report: print });
 * outbox.start();
 * await outbox.enqueue(events);
 */
export function createOutbox(options: OutboxOptions): Outbox {
  const { dir, store, channels } = options;
  const now = options.now ?? Date.now;
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  const maxGroup = options.maxGroup ?? MAX_GROUP;
  const pace = { ...DEFAULT_PACE_MS, ...options.paceMs };
  // When each pace key may send next (pace, or a 429's Retry-After).
  const freeAt = new Map<string, number>();
  const busy = new Set<string>();
  let running = false;
  let loop: Promise<void> | null = null;
  let wake: (() => void) | null = null;
  const inFlight = new Set<Promise<void>>();
  // Enqueues of this process still writing: the sender waits for them, so the alerts of one
  // round are all on disk when it picks the next post (they group instead of trickling).
  const enqueuing = new Set<Promise<void>>();
  let counter = 0;

  const poke = () => {
    const w = wake;
    wake = null;
    w?.();
  };

  /** The entry's state per destination of its route as it stands now (see the file comment). */
  function resolve(name: string, entry: OutboxEntry): Resolved {
    const route = channels.routeOf(entry.event);
    const states = new Map<string, ChannelState>();
    for (const d of route.destinations) states.set(d.id, entry.channels[d.id] ?? (entry.routed ? undefined : entry.channels[d.channel]) ?? PENDING);
    return { name, entry, route, states };
  }

  async function read(name: string): Promise<Resolved | null> {
    try {
      return resolve(name, JSON.parse(await readFile(join(dir, name), 'utf8')) as OutboxEntry);
    } catch {
      // Sent and removed meanwhile by another sender, or being replaced: the next scan sees it.
      return null;
    }
  }

  async function write(name: string, entry: OutboxEntry): Promise<void> {
    const temp = join(dir, `${name}.${process.pid}.${++counter}.tmp`);
    await writeFile(temp, JSON.stringify(entry));
    await rename(temp, join(dir, name));
  }

  async function entries(): Promise<Resolved[]> {
    const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith('.json'));
    const out: Resolved[] = [];
    for (const name of names) {
      const r = await read(name);
      if (r) out.push(r);
    }
    return out.sort((a, b) => a.name.slice(0, 1).localeCompare(b.name.slice(0, 1)) || a.entry.queuedAt.localeCompare(b.entry.queuedAt));
  }

  function outcomesOf(r: Resolved): DeliveryOutcome[] {
    return r.route.destinations.map((d): DeliveryOutcome => {
      const c = r.states.get(d.id);
      const where = { destination: d.id, route: d.route };
      return c?.state === 'sent' ? { channel: d.channel, ok: true, ...where } : { channel: d.channel, ok: false, error: c?.error ?? 'not sent', ...where };
    });
  }

  const isDone = (r: Resolved) => [...r.states.values()].every((c) => c.state !== 'pending');

  async function finish(r: Resolved): Promise<void> {
    const outcomes = outcomesOf(r);
    await store.appendAlert({ at: options.clock().toISOString(), event: r.entry.event, outcomes });
    await unlink(join(dir, r.name)).catch(() => undefined);
    options.report({ kind: 'delivered', event: r.entry.event, outcomes });
  }

  // The destinations of one alert finish at different times: their updates of its file take turns.
  const updating = new Map<string, Promise<void>>();
  function update(name: string, destination: string, next: ChannelState): Promise<void> {
    const run = (updating.get(name) ?? Promise.resolve()).then(async () => {
      const current = await read(name);
      if (!current) return;
      const states = new Map(current.states).set(destination, next);
      const updated: Resolved = { ...current, states, entry: { event: current.entry.event, queuedAt: current.entry.queuedAt, routed: true, channels: Object.fromEntries(states) } };
      if (isDone(updated)) await finish(updated);
      else await write(name, updated.entry);
    });
    const settled = run.catch(() => undefined);
    updating.set(name, settled);
    void settled.then(() => {
      if (updating.get(name) === settled) updating.delete(name);
    });
    return run;
  }

  /** Sends one post of `items` to `destination`; every alert in it gets the post's outcome. */
  async function send(items: readonly Resolved[], destination: LocalDestination, language: Language): Promise<void> {
    const leases: string[] = [];
    try {
      const current: { name: string; event: AlertEvent; state: ChannelState }[] = [];
      for (const item of items) {
        const lease = `outbox#${item.entry.event.key}#${destination.id}`;
        if (!(await store.claim(lease, LEASE_SECONDS))) continue;
        leases.push(lease);
        // Another sender may have finished it between our scan and our lease.
        const fresh = await read(item.name);
        const state = fresh?.states.get(destination.id);
        if (fresh && state?.state === 'pending') current.push({ name: item.name, event: fresh.entry.event, state });
      }
      if (current.length === 0) return;
      const events = current.map((c) => c.event);
      const where = { destination: destination.id, route: destination.route };
      let next: (state: ChannelState) => ChannelState;
      try {
        if (destination.notifier.channel === 'slack') await destination.notifier.send(formatSlackPost(events, language));
        else await destination.notifier.send(formatEmailPost(events, language));
        next = (state) => ({ state: 'sent', attempts: state.attempts + 1, nextAt: 0 });
        options.report({ kind: 'sent', destination, language, events, outcome: { channel: destination.channel, ok: true, ...where } });
      } catch (err) {
        const error = reasonOf(err);
        const retryAfter = err instanceof DeliveryError ? err.retryAfterMs : null;
        const permanent = err instanceof DeliveryError && err.permanent;
        const key = destination.paceKey;
        if (retryAfter !== null) freeAt.set(key, Math.max(freeAt.get(key) ?? 0, now() + Math.min(retryAfter, MAX_RETRY_AFTER_MS)));
        // The alerts of a group share the post's fate, and so its count of attempts.
        const attempts = Math.max(...current.map((c) => c.state.attempts)) + 1;
        if (permanent || attempts >= maxAttempts) {
          next = () => ({ state: 'failed', attempts, nextAt: 0, error });
          options.report({ kind: 'sent', destination, language, events, outcome: { channel: destination.channel, ok: false, error, ...where } });
        } else {
          const delay = retryAfter !== null ? Math.min(retryAfter, MAX_RETRY_AFTER_MS) : Math.min(FIRST_RETRY_MS * 2 ** (attempts - 1), MAX_RETRY_MS);
          const nextAt = now() + delay;
          next = () => ({ state: 'pending', attempts, nextAt, error });
          options.report({ kind: 'retry', destination, events, error, retryAt: new Date(nextAt).toISOString() });
        }
      }
      await Promise.all(current.map((c) => update(c.name, destination.id, next(c.state))));
    } finally {
      for (const lease of leases) await store.release(lease);
    }
  }

  /** Starts what can be sent now; returns when to look again. */
  async function cycle(): Promise<number> {
    const list = await entries();
    let wakeAt = now() + RESCAN_MS;
    // Per pace key, the (alert, destination) pairs still to send, in sending order.
    const byPace = new Map<string, { item: Resolved; destination: LocalDestination; state: ChannelState }[]>();
    for (const item of list) {
      // Queued while no channel could send, or every destination already done: only the history is left.
      if (isDone(item)) {
        await finish(item);
        continue;
      }
      for (const destination of item.route.destinations) {
        const state = item.states.get(destination.id)!;
        if (state.state !== 'pending') continue;
        const queue = byPace.get(destination.paceKey) ?? [];
        queue.push({ item, destination, state });
        byPace.set(destination.paceKey, queue);
      }
    }
    for (const [key, queue] of byPace) {
      if (busy.has(key)) continue;
      const t = now();
      const free = freeAt.get(key) ?? 0;
      if (free > t) {
        wakeAt = Math.min(wakeAt, free);
        continue;
      }
      // Waiting retries wake the sender when due; what is ready now goes, or waits for the pace below.
      for (const c of queue) if (c.state.nextAt > t) wakeAt = Math.min(wakeAt, c.state.nextAt);
      const ready = queue.filter((c) => c.state.nextAt <= t);
      const first = ready[0];
      if (!first) continue;
      // The first in line decides the destination and language; what else is ready for them may join it.
      const language = first.item.route.language;
      const same = ready.filter((c) => c.destination.id === first.destination.id && c.item.route.language === language);
      const post = nextPost(same, (c) => c.item.entry.event, maxGroup);
      const gap = pace[first.destination.channel];
      busy.add(key);
      freeAt.set(key, t + gap);
      const job = send(
        post.map((c) => c.item),
        first.destination,
        language,
      )
        .catch(() => undefined)
        .finally(() => {
          // The pace counts from the end of a send too: however long a request travelled, the
          // next one cannot reach the webhook sooner than `pace` after this one did.
          freeAt.set(key, Math.max(freeAt.get(key) ?? 0, now() + gap));
          busy.delete(key);
          inFlight.delete(job);
          poke();
        });
      inFlight.add(job);
      wakeAt = Math.min(wakeAt, t + gap);
    }
    return wakeAt;
  }

  async function run(): Promise<void> {
    while (running) {
      let wakeAt: number;
      try {
        await Promise.all([...enqueuing]);
        wakeAt = await cycle();
      } catch {
        wakeAt = now() + RESCAN_MS;
      }
      if (!running) break;
      const ms = Math.max(5, wakeAt - now());
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          wake = null;
          resolve();
        }, ms);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  async function enqueue(events: readonly AlertEvent[]): Promise<void> {
    await mkdir(dir, { recursive: true });
    for (const event of events) {
      const name = fileOf(event);
      const destinations = channels.routeOf(event).destinations;
      const entry: OutboxEntry = {
        event,
        queuedAt: options.clock().toISOString(),
        routed: true,
        channels: Object.fromEntries(destinations.map((d) => [d.id, PENDING])),
      };
      // link() of a complete temp file: the entry appears whole, and only if it is not queued yet.
      const temp = join(dir, `${name}.${process.pid}.${++counter}.tmp`);
      await writeFile(temp, JSON.stringify(entry));
      await link(temp, join(dir, name)).catch((err: unknown) => {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      });
      await unlink(temp).catch(() => undefined);
    }
  }

  return {
    async enqueue(events) {
      if (events.length === 0) return;
      const writing = enqueue(events);
      const tracked = writing.catch(() => undefined);
      enqueuing.add(tracked);
      try {
        await writing;
      } finally {
        enqueuing.delete(tracked);
        poke();
      }
    },

    start() {
      if (running) return;
      running = true;
      loop = run();
    },

    async settle({ maxMs, keys }) {
      const deadline = now() + maxMs;
      const wanted = keys ? new Set(keys.map((k) => `${hashOf(k)}.json`)) : null;
      for (;;) {
        const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith('.json'));
        const left = wanted ? names.filter((n) => wanted.has(n.slice(2))).length : names.length;
        if (left === 0 || now() >= deadline) return left;
        await new Promise((r) => setTimeout(r, Math.min(50, Math.max(1, deadline - now()))));
      }
    },

    async stop() {
      running = false;
      poke();
      await loop;
      await Promise.all([...inFlight]);
    },

    async pending() {
      return (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith('.json')).length;
    },
  };
}
