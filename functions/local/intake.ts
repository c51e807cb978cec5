/**
 * Bounce intake for the local loop: what the bounce Lambda does in AWS, on this machine.
 *
 * Messages come from the embedded bounce listener (`accept`) or from a folder of .eml files
 * (`scanDir`). Each one is analysed with the bounce core and
 * - a delivered canary (it reached the bounce domain's own mailbox) marks its canary delivered;
 * - each bounced recipient is recorded and raises its alert once (recordBounce);
 * - a message that is neither (not a report, or a report that names no recipient) is kept under
 *   `<state>/kept/` with a note saying why, and reported: nothing that arrives is thrown away.
 *
 * Never lose a bounce: a listener message is written to `<state>/inbox/` (fsync, rename) before
 * the sender gets 250, and removed only after it was processed; whatever a crash leaves there is
 * processed by `recover()` on the next start. Files of the bounce folder are never modified; the
 * ones already processed are remembered in `<state>/bounce-dir.json` by path, size and mtime.
 *
 * While a round is sending its canaries the intake is `hold()`: a fast bounce must not be read
 * before its canary is recorded, or it would look unmatched.
 */
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, open, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, join, relative, resolve } from 'node:path';
import { createMailParser } from '#adapters/mail-parser.ts';
import type { AlertEvent } from '#core/alert/event.ts';
import { analyzeBounce, type BounceKind } from '#core/bounce/analyze.ts';
import { canaryRecipientsFromStore } from '#core/bounce/canary.ts';
import { bounceFinding } from '#core/bounce/findings.ts';
import type { Finding } from '#core/findings.ts';
import { recordBounce, recordDelivered } from '#core/health/record.ts';
import type { Clock, MessageParser, RandomSource, Store } from '#core/ports.ts';
import type { BouncedRecipient } from '#core/results.ts';

/** One bounced recipient as the intake recorded it. */
export interface IntakeRecipient {
  readonly recipient: BouncedRecipient;
  /** The finding it raised; null for reports that are not failures (vacation, feedback, delivered). */
  readonly finding: Finding | null;
  /** The target of its canary; null when it matched no canary sent from here. */
  readonly target: string | null;
  /** The same finding for this recipient alerted recently: no alert before this ISO time (alerts.reminderMinutes). */
  readonly heldUntil: string | null;
}

/** What became of one message. */
export type IntakeOutcome =
  | {
      readonly kind: 'bounce';
      readonly source: string;
      readonly messageKind: BounceKind;
      readonly recipients: readonly IntakeRecipient[];
      /** The alerts it raised (delivered through `raise` right after this report). */
      readonly events: readonly AlertEvent[];
    }
  | {
      readonly kind: 'delivered';
      readonly source: string;
      readonly canaryId: string;
      /** Null when the canary was not sent from this state directory. */
      readonly target: string | null;
      /** Round trip in seconds; null for a duplicate arrival or an unknown canary. */
      readonly seconds: number | null;
      readonly recipients: readonly string[];
    }
  | { readonly kind: 'kept'; readonly source: string; readonly keptAs: string; readonly why: string }
  | { readonly kind: 'failed'; readonly source: string; readonly error: string };

/** What the intake needs. */
export interface BounceIntakeOptions {
  readonly stateDir: string;
  readonly store: Store;
  readonly clock: Clock;
  readonly random: RandomSource;
  /** The same bounce finding for the same recipient alerts again only after this long (alerts.reminderMinutes). */
  readonly repeatAfterMinutes?: number;
  /** @default createMailParser() */
  readonly parse?: MessageParser;
  /** Delivers the alerts a message raised (the loop's notifiers). */
  raise(events: readonly AlertEvent[]): Promise<void>;
  /** Told what became of each message. */
  report(outcome: IntakeOutcome): void;
}

/** The intake of one local runtime. */
export interface BounceIntake {
  /**
   * Writes a message to the inbox (durably) and queues it; resolves once it is on disk.
   * `receivedAt` (ISO) is when the message arrived; default now.
   */
  accept(raw: Uint8Array, envelope?: { readonly to?: readonly string[]; readonly receivedAt?: string }): Promise<void>;
  /** Queues the .eml files of `dir` (recursively) not processed before. Resolves with how many. */
  scanDir(dir: string): Promise<number>;
  /** Queues what an earlier run left in the inbox. Resolves with how many. */
  recover(): Promise<number>;
  /** Stops processing (messages are still accepted and queued) until `release()`. */
  hold(): void;
  release(): void;
  /** Resolves when the queue is empty and nothing is being processed. */
  drain(): Promise<void>;
  /** Date.now() of the last message accepted or processed (0: none yet), to tell when mail stopped coming. */
  readonly lastActivityMs: number;
  /** Where kept (unreadable) messages go. */
  readonly keptDir: string;
}

interface Job {
  readonly path: string;
  readonly source: string;
  readonly origin: 'inbox' | 'dir';
  /** For folder files: what identifies this version of the file. */
  readonly fingerprint?: string;
}

/** The kept-message note next to each kept .eml (`<name>.json`). */
export interface KeptNote {
  readonly at: string;
  readonly source: string;
  readonly why: string;
  readonly notes: readonly string[];
}

const SEEN_FILE = 'bounce-dir.json';

async function writeDurable(path: string, data: Uint8Array | string): Promise<void> {
  const temp = `${path}.${process.pid}.tmp`;
  const fh = await open(temp, 'w');
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(temp, path);
}

async function walkEml(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const out: string[] = [];
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const path = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walkEml(path)));
    else if (e.isFile() && /\.eml$/i.test(e.name)) out.push(path);
  }
  return out;
}

/** `20260301T091500123Z`: a receipt time in a file name, to the millisecond. */
function receiptStamp(at: Date): string {
  return at.toISOString().replace(/[-:.]/g, '');
}

/** The receipt time an inbox file name starts with; null for a name this intake did not make. */
export function receivedAtOfName(name: string): string | null {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z-/.exec(name);
  if (!m) return null;
  const iso = `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.${m[7]}Z`;
  return Number.isNaN(Date.parse(iso)) ? null : iso;
}

/** Why a message is kept instead of recorded, or null when it was understood. */
function keptReason(kind: BounceKind, recipients: number, deliveredCanaryId: string | null): string | null {
  if (deliveredCanaryId) return null;
  if (kind === 'none') return 'neither a bounce nor a canary: not understood';
  if (recipients === 0) return 'a bounce that names no recipient';
  return null;
}

/**
 * Creates the intake of a state directory.
 * @example
 * const intake = createBounceIntake({ stateDir, store, clock, random, raise: deliverAll, report: print });
 * await intake.recover();
 */
export function createBounceIntake(options: BounceIntakeOptions): BounceIntake {
  const { stateDir, store, clock, random } = options;
  const parse = options.parse ?? createMailParser();
  const inboxDir = join(stateDir, 'inbox');
  const keptDir = join(stateDir, 'kept');
  const seenPath = join(stateDir, SEEN_FILE);
  const queue: Job[] = [];
  const queued = new Set<string>();
  let held = false;
  let running: Promise<void> | null = null;
  let counter = 0;
  let lastActivityMs = 0;

  // The name starts with the receipt time: the round trip counts to when a message arrived, not
  // to when the intake got to it (it waits while a round sends its canaries).
  const uniqueName = (receivedAt: Date = clock()) => `${receiptStamp(receivedAt)}-${process.pid}-${++counter}-${randomBytes(3).toString('hex')}.eml`;

  function enqueue(job: Job): boolean {
    if (queued.has(job.path)) return false;
    queued.add(job.path);
    queue.push(job);
    pump();
    return true;
  }

  function pump(): void {
    if (held || running || queue.length === 0) return;
    running = (async () => {
      while (!held && queue.length > 0) {
        const job = queue.shift()!;
        try {
          await processJob(job);
        } catch (err) {
          // The file stays where it is (inbox, or not marked seen): the next round tries again.
          options.report({ kind: 'failed', source: job.source, error: err instanceof Error ? err.message : String(err) });
        } finally {
          queued.delete(job.path);
          lastActivityMs = Date.now();
        }
      }
    })().finally(() => {
      running = null;
      pump();
    });
  }

  // Read-modify-writes of the seen list run one at a time.
  let seenChain: Promise<unknown> = Promise.resolve();
  function updateSeen(change: (seen: Record<string, string>) => boolean): Promise<void> {
    const next = seenChain.then(async () => {
      const seen = await readSeen();
      if (change(seen)) await writeDurable(seenPath, JSON.stringify(seen));
    });
    seenChain = next.catch(() => undefined);
    return next;
  }

  async function markSeen(job: Job): Promise<void> {
    const fingerprint = job.fingerprint;
    if (fingerprint === undefined) return;
    await updateSeen((seen) => {
      seen[job.path] = fingerprint;
      return true;
    });
  }

  async function readSeen(): Promise<Record<string, string>> {
    try {
      return JSON.parse(await readFile(seenPath, 'utf8')) as Record<string, string>;
    } catch {
      return {};
    }
  }

  async function keep(job: Job, why: string, notes: readonly string[]): Promise<string> {
    await mkdir(keptDir, { recursive: true });
    const name = job.origin === 'inbox' ? basename(job.path) : `${uniqueName().slice(0, -4)}-${basename(job.path)}`;
    const keptAs = join(keptDir, name);
    if (job.origin === 'inbox') await rename(job.path, keptAs);
    else await copyFile(job.path, keptAs);
    const note: KeptNote = { at: clock().toISOString(), source: job.source, why, notes };
    await writeFile(`${keptAs}.json`, JSON.stringify(note, null, 2));
    return keptAs;
  }

  /** When the message arrived: stamped in the inbox name, or the folder file's modification time. */
  async function receivedAtOf(job: Job): Promise<string> {
    if (job.origin === 'inbox') {
      const stamped = receivedAtOfName(basename(job.path));
      if (stamped) return stamped;
    }
    const info = await stat(job.path).catch(() => null);
    return info ? info.mtime.toISOString() : clock().toISOString();
  }

  async function processJob(job: Job): Promise<void> {
    const raw = await readFile(job.path);
    const receivedAt = await receivedAtOf(job);
    const analysis = await analyzeBounce(raw, { parse, canaryRecipients: canaryRecipientsFromStore(store) });
    const why = keptReason(analysis.kind, analysis.recipients.length, analysis.deliveredCanaryId);
    if (why) {
      const keptAs = await keep(job, why, analysis.notes);
      await markSeen(job);
      options.report({ kind: 'kept', source: job.source, keptAs, why });
      return;
    }
    const deps = { store, clock, random, source: job.source, ...(options.repeatAfterMinutes !== undefined ? { repeatAfterMinutes: options.repeatAfterMinutes } : {}) };
    if (analysis.deliveredCanaryId) {
      const id = analysis.deliveredCanaryId.toUpperCase();
      const seconds = await recordDelivered(id, { ...deps, at: receivedAt });
      const canary = await store.getCanary(id);
      options.report({ kind: 'delivered', source: job.source, canaryId: id, target: canary?.target ?? null, seconds, recipients: canary?.recipients ?? [] });
    }
    if (analysis.recipients.length > 0) {
      const canary = analysis.canaryId ? await store.getCanary(analysis.canaryId.toUpperCase()) : null;
      const recipients: IntakeRecipient[] = [];
      const events: AlertEvent[] = [];
      for (const r of analysis.recipients) {
        const finding = bounceFinding(r);
        const recorded = await recordBounce(r, finding, deps);
        events.push(...recorded.events);
        recipients.push({ recipient: r, finding, target: canary?.target ?? null, heldUntil: recorded.heldUntil });
      }
      options.report({ kind: 'bounce', source: job.source, messageKind: analysis.kind, recipients, events });
      if (events.length > 0) await options.raise(events);
    }
    if (job.origin === 'inbox') await unlink(job.path);
    await markSeen(job);
  }

  return {
    keptDir,
    get lastActivityMs() {
      return lastActivityMs;
    },

    async accept(raw, envelope) {
      await mkdir(inboxDir, { recursive: true });
      const name = uniqueName(envelope?.receivedAt ? new Date(envelope.receivedAt) : clock());
      const path = join(inboxDir, name);
      await writeDurable(path, raw);
      lastActivityMs = Date.now();
      enqueue({ path, source: `inbox/${name}`, origin: 'inbox' });
    },

    async scanDir(dir) {
      const root = resolve(dir);
      const files = await walkEml(root);
      // Forget files that are gone, so the list does not grow for ever.
      const present = new Set(files);
      await updateSeen((seen) => {
        const stale = Object.keys(seen).filter((p) => p.startsWith(`${root}/`) && !present.has(p));
        for (const p of stale) delete seen[p];
        return stale.length > 0;
      });
      const seen = await readSeen();
      let added = 0;
      for (const path of files) {
        const info = await stat(path).catch(() => null);
        if (!info) continue;
        const fingerprint = `${info.size}:${Math.floor(info.mtimeMs)}`;
        if (seen[path] === fingerprint) continue;
        if (enqueue({ path, source: relative(root, path) || basename(path), origin: 'dir', fingerprint })) added++;
      }
      return added;
    },

    async recover() {
      const names = await readdir(inboxDir).catch(() => [] as string[]);
      let added = 0;
      for (const name of names.filter((n) => n.endsWith('.eml')).sort()) {
        if (enqueue({ path: join(inboxDir, name), source: `inbox/${name}`, origin: 'inbox' })) added++;
      }
      return added;
    },

    hold() {
      held = true;
    },

    release() {
      held = false;
      pump();
    },

    async drain() {
      while (running || (!held && queue.length > 0)) {
        if (running) await running;
        else pump();
      }
    },
  };
}
