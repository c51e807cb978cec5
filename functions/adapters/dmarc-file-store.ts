/**
 * The DmarcStore over files under the state directory (`--state DIR`), for the CLI and the
 * local loop:
 *   DIR/dmarc/<domain>/state.json       { version, state }: the domain's memory, written atomically
 *   DIR/dmarc/<domain>/reports.jsonl    one record per report read, appended (JSON Lines)
 * A write of the memory happens under a lock file (O_EXCL) and only at the version read, so a
 * `mailhealth run` and another process on the same directory never lose each other's update.
 * A record appended twice (a crash between the append and the claim) is read back once.
 * The small reads and writes of a report use the synchronous file calls, as the file store does
 * (file-store.ts): each takes microseconds, where a trip through libuv's thread pool waits its
 * turn on a busy machine (a storm of reports ran four times slower with the pool).
 */
import { appendFileSync, closeSync, constants, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StateError } from '#core/errors.ts';
import type { DmarcReportRecord } from '#core/dmarc/record.ts';
import type { DmarcDomainState } from '#core/dmarc/state.ts';
import type { DmarcStore, Versioned } from '#core/ports.ts';

// A lock is held for one small read-compare-write; an older one belongs to a dead process.
const LOCK_STALE_MS = 10_000;
const LOCK_WAIT_MS = 5_000;
const LOCK_POLL_MS = 10;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
// Domain names are safe file names once lower case; encodeURIComponent covers anything else.
const dirOf = (root: string, domain: string) => join(root, encodeURIComponent(domain.toLowerCase()));

let temps = 0;

async function withLock<T>(path: string, work: () => Promise<T>): Promise<T> {
  const lock = `${path}.lock`;
  const started = Date.now();
  for (;;) {
    try {
      closeSync(openSync(lock, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      try {
        if (Date.now() - statSync(lock).mtimeMs > LOCK_STALE_MS) unlinkSync(lock);
      } catch {
        // Gone meanwhile: try again.
      }
      if (Date.now() - started > LOCK_WAIT_MS) throw new StateError(`waited more than ${LOCK_WAIT_MS / 1000} s for the lock ${lock}`);
      await sleep(LOCK_POLL_MS);
    }
  }
  try {
    return await work();
  } finally {
    try {
      unlinkSync(lock);
    } catch {
      // Removed as stale by another process: nothing to do.
    }
  }
}

/**
 * A DmarcStore in `<stateDir>/dmarc/`.
 * @example const reports = createDmarcFileStore({ dir: '.mailhealth' });
 */
export function createDmarcFileStore(options: { readonly dir: string }): DmarcStore {
  const root = join(options.dir, 'dmarc');

  const made = new Set<string>();
  const ensureDir = (dir: string) => {
    if (made.has(dir)) return;
    mkdirSync(dir, { recursive: true });
    made.add(dir);
  };

  function readState(domain: string): Versioned<DmarcDomainState> | null {
    const path = join(dirOf(root, domain), 'state.json');
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      return null;
    }
    try {
      const doc = JSON.parse(text) as { version: number; state: DmarcDomainState };
      return { value: doc.state, version: doc.version };
    } catch (err) {
      throw new StateError(`${path} cannot be read as JSON: ${(err as Error).message}`, { cause: err });
    }
  }

  return {
    getDomainState: async (domain) => readState(domain),

    async putDomainState(domain, state, expectedVersion) {
      const dir = dirOf(root, domain);
      ensureDir(dir);
      const path = join(dir, 'state.json');
      return withLock(path, async () => {
        const current = readState(domain);
        if ((current?.version ?? null) !== expectedVersion) return false;
        const temp = `${path}.${process.pid}.${++temps}.tmp`;
        writeFileSync(temp, JSON.stringify({ version: (expectedVersion ?? 0) + 1, state }));
        renameSync(temp, path);
        return true;
      });
    },

    async appendReport(record) {
      const dir = dirOf(root, record.domain);
      ensureDir(dir);
      appendFileSync(join(dir, 'reports.jsonl'), `${JSON.stringify(record)}\n`);
    },

    async listReports(domain, limit) {
      const text = await readFile(join(dirOf(root, domain), 'reports.jsonl'), 'utf8').catch(() => '');
      const byKey = new Map<string, DmarcReportRecord>();
      for (const line of text.split('\n')) {
        if (!line.trim()) continue;
        try {
          const r = JSON.parse(line) as DmarcReportRecord;
          if (!byKey.has(r.key)) byKey.set(r.key, r);
        } catch {
          // A line cut by a crash says nothing reliable.
        }
      }
      return [...byKey.values()].sort((a, b) => b.day.localeCompare(a.day) || b.receivedAt.localeCompare(a.receivedAt)).slice(0, Math.max(0, limit));
    },

    async listDomains() {
      const names = await readdir(root).catch(() => [] as string[]);
      return names.map((n) => decodeURIComponent(n)).sort();
    },
  };
}
