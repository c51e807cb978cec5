/**
 * The alert outbox of the local runtime: alerts wait in `<state>/outbox/` and a sender delivers
 * them at each channel's pace, so whoever raises an alert (a round, the bounce intake) never
 * waits on Slack or SES.
 *
 * - One file per alert, named by its priority and its key: writing the same alert twice keeps
 *   one, and the files survive a restart (the next sender picks them up).
 * - Canary health alerts (failing, warning, reminder, recovered, not delivered, alarms) go
 *   before bounce alerts and digests, whatever was queued first: a storm never holds them back.
 * - One send at a time per channel, at most one per `paceMs` (Slack takes about one post a
 *   second per webhook; SES its account's send rate). A 429 pauses the channel for the
 *   Retry-After it names; other failures are retried with a growing delay, `maxAttempts`
 *   times, then recorded as failed.
 * - When every channel is done the alert and its outcomes go into the history and the file is
 *   removed. A send that a crash interrupts is tried again by the next sender (at least once);
 *   two senders on one directory (`run` and `check --state`) never send the same alert at the
 *   same time (a lease claim in the store).
 */
import { createHash } from 'node:crypto';
import { link, mkdir, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AlertEvent, DeliveryOutcome } from '#core/alert/event.ts';
import { formatEmail } from '#core/alert/email.ts';
import { formatSlack } from '#core/alert/slack.ts';
import { DeliveryError } from '#core/errors.ts';
import type { Language } from '#core/findings.ts';
import type { Clock, Notifier, Store } from '#core/ports.ts';

type Channel = Notifier['channel'];

/** Where each channel of one alert stands. */
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
  readonly channels: Partial<Record<Channel, ChannelState>>;
}

/** What the outbox tells about its work. */
export type OutboxReport =
  /** Every channel is done with the alert (sent, or given up). */
  | { readonly kind: 'delivered'; readonly event: AlertEvent; readonly outcomes: readonly DeliveryOutcome[] }
  /** A channel failed and tries again at `retryAt` (ISO). */
  | { readonly kind: 'retry'; readonly event: AlertEvent; readonly channel: Channel; readonly error: string; readonly retryAt: string };

/** What the outbox is built from. */
export interface OutboxOptions {
  /** The folder of the entries, e.g. `<state>/outbox`. */
  readonly dir: string;
  /** The history the delivered alerts go into, and the lease claims. */
  readonly store: Store;
  readonly notifiers: readonly Notifier[];
  readonly language: Language;
  /** Times in the history. */
  readonly clock: Clock;
  /**
   * The least time between two sends of a channel, in ms.
   * @default slack 1000 (one post a second per webhook), email 1000
   */
  readonly paceMs?: Partial<Record<Channel, number>>;
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

/** Health alerts first, then bounces and digests. */
function priorityOf(event: AlertEvent): number {
  return event.kind === 'bounce' || event.kind === 'digest' ? 1 : 0;
}

const hashOf = (key: string) => createHash('sha256').update(key).digest('hex').slice(0, 32);
const fileOf = (event: AlertEvent) => `${priorityOf(event)}-${hashOf(event.key)}.json`;

function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Creates the outbox of a state directory.
 * @example
 * const outbox = createOutbox({ dir: join(stateDir, 'outbox'), store, notifiers, language: 'ja', clock, report: print });
 * outbox.start();
 * await outbox.enqueue(events);
 */
export function createOutbox(options: OutboxOptions): Outbox {
  const { dir, store, notifiers } = options;
  const now = options.now ?? Date.now;
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  const pace = { ...DEFAULT_PACE_MS, ...options.paceMs };
  // When each channel may send next (pace, or a 429's Retry-After).
  const freeAt: Record<Channel, number> = { slack: 0, email: 0 };
  const busy = new Set<Channel>();
  let running = false;
  let loop: Promise<void> | null = null;
  let wake: (() => void) | null = null;
  const inFlight = new Set<Promise<void>>();
  let counter = 0;

  const poke = () => {
    const w = wake;
    wake = null;
    w?.();
  };

  async function write(name: string, entry: OutboxEntry): Promise<void> {
    const temp = join(dir, `${name}.${process.pid}.${++counter}.tmp`);
    await writeFile(temp, JSON.stringify(entry));
    await rename(temp, join(dir, name));
  }

  async function entries(): Promise<{ name: string; entry: OutboxEntry }[]> {
    const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith('.json'));
    const out: { name: string; entry: OutboxEntry }[] = [];
    for (const name of names) {
      try {
        out.push({ name, entry: JSON.parse(await readFile(join(dir, name), 'utf8')) as OutboxEntry });
      } catch {
        // Sent and removed meanwhile by another sender, or being replaced: the next scan sees it.
      }
    }
    return out.sort((a, b) => a.name.slice(0, 1).localeCompare(b.name.slice(0, 1)) || a.entry.queuedAt.localeCompare(b.entry.queuedAt));
  }

  function outcomesOf(entry: OutboxEntry): DeliveryOutcome[] {
    return notifiers.map((n): DeliveryOutcome => {
      const c = entry.channels[n.channel];
      return c?.state === 'sent' ? { channel: n.channel, ok: true } : { channel: n.channel, ok: false, error: c?.error ?? 'not sent' };
    });
  }

  async function finish(name: string, entry: OutboxEntry): Promise<void> {
    const outcomes = outcomesOf(entry);
    await store.appendAlert({ at: options.clock().toISOString(), event: entry.event, outcomes });
    await unlink(join(dir, name)).catch(() => undefined);
    options.report({ kind: 'delivered', event: entry.event, outcomes });
  }

  // The channels of one alert finish at different times: their updates of its file take turns.
  const updating = new Map<string, Promise<void>>();
  function update(name: string, channel: Channel, next: ChannelState): Promise<void> {
    const run = (updating.get(name) ?? Promise.resolve()).then(async () => {
      let current: OutboxEntry;
      try {
        current = JSON.parse(await readFile(join(dir, name), 'utf8')) as OutboxEntry;
      } catch {
        return;
      }
      const updated: OutboxEntry = { ...current, channels: { ...current.channels, [channel]: next } };
      if (Object.values(updated.channels).every((c) => c.state !== 'pending')) await finish(name, updated);
      else await write(name, updated);
    });
    const settled = run.catch(() => undefined);
    updating.set(name, settled);
    void settled.then(() => {
      if (updating.get(name) === settled) updating.delete(name);
    });
    return run;
  }

  async function send(name: string, entry: OutboxEntry, notifier: Notifier): Promise<void> {
    const channel = notifier.channel;
    const lease = `outbox#${entry.event.key}#${channel}`;
    if (!(await store.claim(lease, LEASE_SECONDS))) return;
    try {
      // Another sender may have finished it between our scan and our lease.
      let current: OutboxEntry;
      try {
        current = JSON.parse(await readFile(join(dir, name), 'utf8')) as OutboxEntry;
      } catch {
        return;
      }
      const state = current.channels[channel];
      if (!state || state.state !== 'pending') return;
      let next: ChannelState;
      try {
        if (notifier.channel === 'slack') await notifier.send(formatSlack(current.event, options.language));
        else await notifier.send(formatEmail(current.event, options.language));
        next = { state: 'sent', attempts: state.attempts + 1, nextAt: 0 };
      } catch (err) {
        const attempts = state.attempts + 1;
        const retryAfter = err instanceof DeliveryError ? err.retryAfterMs : null;
        const permanent = err instanceof DeliveryError && err.permanent;
        if (retryAfter !== null) freeAt[channel] = Math.max(freeAt[channel], now() + Math.min(retryAfter, MAX_RETRY_AFTER_MS));
        if (permanent || attempts >= maxAttempts) {
          next = { state: 'failed', attempts, nextAt: 0, error: reasonOf(err) };
        } else {
          const delay = retryAfter !== null ? Math.min(retryAfter, MAX_RETRY_AFTER_MS) : Math.min(FIRST_RETRY_MS * 2 ** (attempts - 1), MAX_RETRY_MS);
          next = { state: 'pending', attempts, nextAt: now() + delay, error: reasonOf(err) };
          options.report({ kind: 'retry', event: current.event, channel, error: reasonOf(err), retryAt: new Date(next.nextAt).toISOString() });
        }
      }
      await update(name, channel, next);
    } finally {
      await store.release(lease);
    }
  }

  /** Starts what can be sent now; returns when to look again. */
  async function cycle(): Promise<number> {
    const list = await entries();
    let wakeAt = now() + RESCAN_MS;
    for (const { name, entry } of list) {
      // Queued while no channel was configured, or every channel already done: only the history is left.
      if (Object.values(entry.channels).every((c) => c.state !== 'pending')) {
        await finish(name, entry);
        continue;
      }
    }
    for (const notifier of notifiers) {
      const channel = notifier.channel;
      if (busy.has(channel)) continue;
      const t = now();
      if (freeAt[channel] > t) {
        wakeAt = Math.min(wakeAt, freeAt[channel]);
        continue;
      }
      const candidates = list.filter(({ entry }) => entry.channels[channel]?.state === 'pending');
      const ready = candidates.find(({ entry }) => entry.channels[channel]!.nextAt <= t);
      for (const c of candidates) wakeAt = Math.min(wakeAt, Math.max(c.entry.channels[channel]!.nextAt, t));
      if (!ready) continue;
      busy.add(channel);
      freeAt[channel] = t + pace[channel];
      const job = send(ready.name, ready.entry, notifier)
        .catch(() => undefined)
        .finally(() => {
          // The pace counts from the end of a send too: however long a request travelled, the
          // next one cannot reach the channel sooner than `pace` after this one did.
          freeAt[channel] = Math.max(freeAt[channel], now() + pace[channel]);
          busy.delete(channel);
          inFlight.delete(job);
          poke();
        });
      inFlight.add(job);
      wakeAt = Math.min(wakeAt, freeAt[channel]);
    }
    return wakeAt;
  }

  async function run(): Promise<void> {
    while (running) {
      let wakeAt: number;
      try {
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

  return {
    async enqueue(events) {
      if (events.length === 0) return;
      await mkdir(dir, { recursive: true });
      for (const event of events) {
        const name = fileOf(event);
        const entry: OutboxEntry = {
          event,
          queuedAt: options.clock().toISOString(),
          channels: Object.fromEntries(notifiers.map((n) => [n.channel, { state: 'pending', attempts: 0, nextAt: 0 } satisfies ChannelState])),
        };
        // link() of a complete temp file: the entry appears whole, and only if it is not queued yet.
        const temp = join(dir, `${name}.${process.pid}.${++counter}.tmp`);
        await writeFile(temp, JSON.stringify(entry));
        await link(temp, join(dir, name)).catch((err: unknown) => {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        });
        await unlink(temp).catch(() => undefined);
      }
      poke();
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
