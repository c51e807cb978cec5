/**
 * Bounce intake for the local loop: what the bounce Lambda does in AWS, on this machine.
 *
 * Messages come from the embedded bounce listener (`accept`) or from a folder of .eml files
 * (`scanDir`). Each one is analysed with the bounce core and
 * - a delivered canary (it reached the bounce domain's own mailbox) marks its canary delivered,
 *   with the time it arrived;
 * - each bounced recipient is recorded and raises its alert once (recordBounce): in a storm the
 *   first of each kind alerts and the rest is counted in the target's digest;
 * - a message that is neither (not a report, or a report that names no recipient) is kept under
 *   `<state>/kept/` with a note saying why, and reported: nothing that arrives is thrown away.
 * The alerts go to `raise` (the outbox): the intake never waits on an alert channel.
 *
 * Never lose a bounce: a listener message is written to `<state>/inbox/` (fsync, rename) before
 * the sender gets 250; once processed it moves to `<state>/raw/<day>/` (as SES keeps raw mail in
 * S3), where the history's `source` points, until `retention.rawMailDays` remove it (noted in
 * `raw/retention.jsonl`). Whatever a crash leaves in the inbox is processed by `recover()` on
 * the next start, which also removes the temp files of writes a crash cut short. Files of the
 * bounce folder are never modified: they are copied into `raw/` and remembered in
 * `<state>/bounce-dir.json` by path, size and mtime.
 *
 * While a round is sending its canaries the intake is `hold()`: a fast bounce must not be read
 * before its canary is recorded, or it would look unmatched. Arrival times come from the
 * receipt, so the wait does not change them.
 */
import { createHash, randomBytes } from 'node:crypto';
import { appendFile, copyFile, mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join, relative, resolve } from 'node:path';
import { removeLeftoverTemps } from '#adapters/file-store.ts';
import { createMailParser } from '#adapters/mail-parser.ts';
import type { AlertEvent, DigestSeeAlso } from '#core/alert/event.ts';
import { analyzeBounce, type BounceAnalysis, type BounceKind } from '#core/bounce/analyze.ts';
import { canaryRecipientsFromStore } from '#core/bounce/canary.ts';
import { bounceFinding } from '#core/bounce/findings.ts';
import type { Finding } from '#core/findings.ts';
import { recordBounce, recordDelivered } from '#core/health/record.ts';
import type { Clock, MessageParser, RandomSource, Store } from '#core/ports.ts';
import type { BouncedRecipient } from '#core/results.ts';
import type { ReportIntakeResult, ReportReader } from './report-intake.ts';

/** One bounced recipient as the intake recorded it. */
export interface IntakeRecipient {
  readonly recipient: BouncedRecipient;
  /** The finding it raised; null for reports that are not failures (vacation, feedback, delivered). */
  readonly finding: Finding | null;
  /** The target of its canary; null when it matched no canary sent from here. */
  readonly target: string | null;
  /** The same finding for this recipient alerted recently: no alert before this ISO time (alerts.reminderMinutes). */
  readonly heldUntil: string | null;
  /** Counted in its target's bounce digest instead of alerting: the ISO time the digest is due. */
  readonly digestAt: string | null;
  /** False when this bounce was already recorded (a copy of a message processed before). */
  readonly first: boolean;
}

/** What became of one message. */
export type IntakeOutcome =
  | {
      readonly kind: 'bounce';
      readonly source: string;
      readonly messageKind: BounceKind;
      readonly recipients: readonly IntakeRecipient[];
      /** The alerts it raised (handed to `raise` right after this report). */
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
  /** A DMARC or TLS report mail (report-intake.ts), with the reports it gave. */
  | ({ readonly kind: 'reports'; readonly source: string } & ReportIntakeResult)
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
  /** Bounce storms: the digest window in minutes (alerts.bounceDigestMinutes; 0: no grouping). */
  readonly digestMinutes?: number;
  /** Where a digest says the rest of the bounces are. */
  readonly seeAlso?: DigestSeeAlso;
  /**
   * Days raw received messages are kept in `<state>/raw/` (retention.rawMailDays).
   * @default 30
   */
  readonly rawMailDays?: number;
  /** @default createMailParser() */
  readonly parse?: MessageParser;
  /**
   * Verifies a delivered canary's authentication and keeps the verdicts (functions/local/auth.ts).
   * Must not reject: a message is never re-processed for it.
   */
  readonly authenticate?: (raw: Uint8Array, delivered: { readonly canaryId: string; readonly target: string; readonly at: string }) => Promise<void>;
  /** Reads DMARC and TLS report mails before the bounce classifier (report-intake.ts); absent: none are. */
  readonly reports?: ReportReader;
  /** Takes the alerts a message raised (the outbox); must not wait on a channel. */
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
  /**
   * Queues what an earlier run left in the inbox (after removing the temp files of writes a
   * crash cut short) and applies the raw-mail retention. Resolves with how many were queued.
   */
  recover(): Promise<number>;
  /** Stops processing (messages are still accepted and queued) until `release()`. */
  hold(): void;
  release(): void;
  /** Resolves when the queue is empty and nothing is being processed. */
  drain(): Promise<void>;
  /** Date.now() of the last message accepted or processed (0: none yet), to tell when mail stopped coming. */
  readonly lastActivityMs: number;
  /** Messages queued and not processed yet. */
  readonly backlog: number;
  /** Where kept (unreadable) messages go. */
  readonly keptDir: string;
}

interface Job {
  readonly path: string;
  /** Where the message is kept once processed, relative to the state directory. */
  readonly rawRef: string;
  /** What the user knows the message by: the inbox file or the folder-relative path. */
  readonly source: string;
  readonly origin: 'inbox' | 'dir';
  /** For folder files: what identifies this version of the file. */
  readonly fingerprint?: string;
  /** For folder files: the modification time, its arrival. */
  readonly mtime?: string;
}

/** The kept-message note next to each kept .eml (`<name>.json`). */
export interface KeptNote {
  readonly at: string;
  readonly source: string;
  readonly why: string;
  readonly notes: readonly string[];
}

/** One line of `raw/retention.jsonl`: raw messages removed for their age. */
export interface RawRetentionNote {
  readonly at: string;
  /** The days (folders) removed, e.g. `2026-01-05`. */
  readonly days: readonly string[];
  readonly files: number;
  readonly rawMailDays: number;
}

const SEEN_FILE = 'bounce-dir.json';
const RAW_DIR = 'raw';
const RAW_RETENTION_FILE = 'retention.jsonl';
const RAW_RETENTION_EVERY_MS = 3600_000;

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
  if (kind === 'receipt') return 'a read receipt (the message was displayed or processed), not a bounce';
  if (kind === 'challenge') return 'a challenge-response request (the recipient\'s system holds the message until the sender confirms), not a bounce';
  if (kind === 'none') return 'neither a bounce nor a canary: not understood';
  if (recipients === 0) return 'a bounce that names no recipient';
  return null;
}

/**
 * Reads what the raw-mail retention removed from a state directory, newest first (for the report).
 * @example const notes = await readRawRetention('.mailhealth');
 */
export async function readRawRetention(stateDir: string): Promise<RawRetentionNote[]> {
  const text = await readFile(join(stateDir, RAW_DIR, RAW_RETENTION_FILE), 'utf8').catch(() => '');
  const notes: RawRetentionNote[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      notes.push(JSON.parse(line) as RawRetentionNote);
    } catch {
      // A line cut by a crash says nothing reliable.
    }
  }
  return notes.reverse();
}

/**
 * Creates the intake of a state directory.
 * @example
 * const intake = createBounceIntake({ stateDir, store, clock, random, raise: (events) => outbox.enqueue(events), report: print });
 * await intake.recover();
 */
export function createBounceIntake(options: BounceIntakeOptions): BounceIntake {
  const { stateDir, store, clock, random } = options;
  const parse = options.parse ?? createMailParser();
  const inboxDir = join(stateDir, 'inbox');
  const keptDir = join(stateDir, 'kept');
  const rawDir = join(stateDir, RAW_DIR);
  const seenPath = join(stateDir, SEEN_FILE);
  const rawMailDays = options.rawMailDays ?? 30;
  const queue: Job[] = [];
  const queued = new Set<string>();
  let held = false;
  let running: Promise<void> | null = null;
  let counter = 0;
  let lastActivityMs = 0;
  let lastRawPrune = 0;

  // The name starts with the receipt time: the round trip counts to when a message arrived, not
  // to when the intake got to it (it waits while a round sends its canaries).
  const uniqueName = (receivedAt: Date = clock()) => `${receiptStamp(receivedAt)}-${process.pid}-${++counter}-${randomBytes(3).toString('hex')}.eml`;
  const dayOf = (iso: string) => iso.slice(0, 10);

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
  function receivedAtOf(job: Job): string {
    if (job.origin === 'inbox') return receivedAtOfName(basename(job.path)) ?? clock().toISOString();
    return job.mtime ?? clock().toISOString();
  }

  const made = new Set<string>();
  async function ensureDir(path: string): Promise<void> {
    if (made.has(path)) return;
    await mkdir(path, { recursive: true });
    made.add(path);
  }

  /** Moves (inbox) or copies (folder) the message to where the history points. */
  async function keepRaw(job: Job): Promise<void> {
    const target = join(stateDir, job.rawRef);
    await ensureDir(join(target, '..'));
    if (job.origin === 'inbox') await rename(job.path, target);
    else await copyFile(job.path, target);
  }

  async function onDelivered(canaryId: string, job: Job, receivedAt: string, raw: Uint8Array): Promise<void> {
    const id = canaryId.toUpperCase();
    const seconds = await recordDelivered(id, { store, clock, at: receivedAt });
    const canary = await store.getCanary(id);
    if (canary && options.authenticate) await options.authenticate(raw, { canaryId: id, target: canary.target, at: receivedAt });
    options.report({ kind: 'delivered', source: job.source, canaryId: id, target: canary?.target ?? null, seconds, recipients: canary?.recipients ?? [] });
  }

  async function onBounce(analysis: BounceAnalysis, job: Job, receivedAt: string): Promise<void> {
    const canary = analysis.canaryId ? await store.getCanary(analysis.canaryId.toUpperCase()) : null;
    const recipients: IntakeRecipient[] = [];
    const events: AlertEvent[] = [];
    for (const r of analysis.recipients) {
      const finding = bounceFinding(r);
      const recorded = await recordBounce(r, finding, {
        store,
        clock,
        random,
        source: job.rawRef,
        receivedAt,
        ...(options.repeatAfterMinutes !== undefined ? { repeatAfterMinutes: options.repeatAfterMinutes } : {}),
        ...(options.digestMinutes !== undefined ? { digestMinutes: options.digestMinutes } : {}),
        ...(options.seeAlso ? { seeAlso: options.seeAlso } : {}),
      });
      events.push(...recorded.events);
      recipients.push({ recipient: r, finding, target: canary?.target ?? null, heldUntil: recorded.heldUntil, digestAt: recorded.digestAt, first: recorded.first });
    }
    options.report({ kind: 'bounce', source: job.source, messageKind: analysis.kind, recipients, events });
    if (events.length > 0) await options.raise(events);
  }

  /** A report mail: kept in raw/ like any message, or under kept/ when it gave no report at all. */
  async function onReports(result: ReportIntakeResult, job: Job): Promise<void> {
    if (result.reports.length === 0) {
      const why = `a report mail with no readable report: ${result.problems.map((p) => `${p.problem.code} ${p.problem.message}`).join('; ')}`;
      const keptAs = await keep(job, why, []);
      await markSeen(job);
      options.report({ kind: 'kept', source: job.source, keptAs, why });
      return;
    }
    await keepRaw(job);
    await markSeen(job);
    options.report({ kind: 'reports', source: job.source, ...result });
    if (result.events.length > 0) await options.raise(result.events);
  }

  async function processJob(job: Job): Promise<void> {
    const raw = await readFile(job.path);
    const receivedAt = receivedAtOf(job);
    const reports = options.reports ? await options.reports(raw, { source: job.source, rawRef: job.rawRef, receivedAt }) : null;
    if (reports) return onReports(reports, job);
    const analysis = await analyzeBounce(raw, { parse, canaryRecipients: canaryRecipientsFromStore(store) });
    const why = keptReason(analysis.kind, analysis.recipients.length, analysis.deliveredCanaryId);
    if (why) {
      const keptAs = await keep(job, why, analysis.notes);
      await markSeen(job);
      options.report({ kind: 'kept', source: job.source, keptAs, why });
      return;
    }
    // A folder file is copied first, so the history never points at nothing; an inbox file
    // moves last, so a crash before that processes it again (recording is idempotent).
    if (job.origin === 'dir') await keepRaw(job);
    if (analysis.deliveredCanaryId) await onDelivered(analysis.deliveredCanaryId, job, receivedAt, raw);
    if (analysis.recipients.length > 0) await onBounce(analysis, job, receivedAt);
    if (job.origin === 'inbox') await keepRaw(job);
    await markSeen(job);
  }

  /** Removes the raw-mail days older than rawMailDays and notes what went. */
  async function pruneRaw(): Promise<void> {
    lastRawPrune = Date.now();
    const cutoff = dayOf(new Date(clock().getTime() - rawMailDays * 86_400_000).toISOString());
    const days = (await readdir(rawDir).catch(() => [] as string[])).filter((d) => /^\d{4}-\d{2}-\d{2}$/.test(d) && d < cutoff).sort();
    if (days.length === 0) return;
    let files = 0;
    for (const day of days) {
      files += (await readdir(join(rawDir, day)).catch(() => [] as string[])).length;
      await rm(join(rawDir, day), { recursive: true, force: true });
      made.delete(join(rawDir, day));
    }
    const note: RawRetentionNote = { at: clock().toISOString(), days, files, rawMailDays };
    await appendFile(join(rawDir, RAW_RETENTION_FILE), `${JSON.stringify(note)}\n`);
  }

  return {
    keptDir,
    get lastActivityMs() {
      return lastActivityMs;
    },
    get backlog() {
      return queue.length + (running ? 1 : 0);
    },

    async accept(raw, envelope) {
      await ensureDir(inboxDir);
      const receivedAt = envelope?.receivedAt ? new Date(envelope.receivedAt) : clock();
      const name = uniqueName(receivedAt);
      const path = join(inboxDir, name);
      await writeDurable(path, raw);
      lastActivityMs = Date.now();
      enqueue({ path, rawRef: `${RAW_DIR}/${dayOf(receivedAt.toISOString())}/${name}`, source: `inbox/${name}`, origin: 'inbox' });
      if (Date.now() - lastRawPrune > RAW_RETENTION_EVERY_MS) void pruneRaw().catch(() => undefined);
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
        const mtime = info.mtime.toISOString();
        // The same version of the same file always gets the same name in raw/.
        const id = createHash('sha256').update(`${path}|${fingerprint}`).digest('hex').slice(0, 12);
        const rawRef = `${RAW_DIR}/${dayOf(mtime)}/dir-${id}-${basename(path)}`;
        if (enqueue({ path, rawRef, source: relative(root, path) || basename(path), origin: 'dir', fingerprint, mtime })) added++;
      }
      return added;
    },

    async recover() {
      await removeLeftoverTemps(inboxDir);
      await pruneRaw();
      const names = await readdir(inboxDir).catch(() => [] as string[]);
      let added = 0;
      for (const name of names.filter((n) => n.endsWith('.eml')).sort()) {
        const receivedAt = receivedAtOfName(name) ?? clock().toISOString();
        if (enqueue({ path: join(inboxDir, name), rawRef: `${RAW_DIR}/${dayOf(receivedAt)}/${name}`, source: `inbox/${name}`, origin: 'inbox' })) added++;
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
