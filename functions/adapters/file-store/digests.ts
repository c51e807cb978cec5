/**
 * Open bounce digest windows: `digests/<target>.json`, `{ version, window }`. A window is
 * rewritten for every bounce of a storm: in place (no new file, no rename), padded with spaces
 * to the length it had, so it is never shorter than what it replaces and JSON reads it whole.
 * One the power cut in half reads as no window (its bounces stay in the history; only the count
 * of the next digest is smaller).
 */
import { closeSync, constants, fstatSync, openSync, writeSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { DigestWindow } from '#core/alert/digest.ts';
import type { Store, Versioned } from '#core/ports.ts';
import { dirName, readJsonSync } from './files.ts';
import type { StateDir } from './state-dir.ts';

/** The Store's digest methods. */
export type DigestStore = Pick<Store, 'getDigest' | 'putDigest' | 'listDigests'>;

type DigestDoc = { version: number; window: DigestWindow | null };

function readDigest(path: string): DigestDoc | null {
  try {
    return readJsonSync<DigestDoc | null>(path, null);
  } catch {
    return null;
  }
}

function writeDigest(path: string, text: string): void {
  const fd = openSync(path, constants.O_RDWR | constants.O_CREAT, 0o644);
  try {
    const size = fstatSync(fd).size;
    writeSync(fd, text.padEnd(size, ' '), 0);
  } finally {
    closeSync(fd);
  }
}

/**
 * The digest windows of a state directory.
 * @example const digests = digestFiles(openStateDir(dir, Date.now)); await digests.listDigests();
 */
export function digestFiles(state: StateDir): DigestStore {
  const folder = join(state.dir, 'digests');
  const digestPath = async (target: string | null) => join(await state.ensureDir(folder), `${dirName(target)}.json`);

  return {
    async getDigest(target: string | null): Promise<Versioned<DigestWindow | null> | null> {
      await state.ready();
      const doc = readDigest(await digestPath(target));
      return doc === null ? null : { value: doc.window, version: doc.version };
    },

    async putDigest(target: string | null, window: DigestWindow | null, expectedVersion: number | null): Promise<boolean> {
      await state.ready();
      const path = await digestPath(target);
      // One process (the run loop) keeps the digests of a state directory: its calls take turns.
      return state.serialized(`digest-${dirName(target)}`, async () => {
        if ((readDigest(path)?.version ?? null) !== expectedVersion) return false;
        writeDigest(path, JSON.stringify({ version: (expectedVersion ?? 0) + 1, window }));
        return true;
      });
    },

    async listDigests(): Promise<Versioned<DigestWindow>[]> {
      await state.ready();
      const names = await readdir(folder).catch(() => [] as string[]);
      const out: Versioned<DigestWindow>[] = [];
      for (const name of names.filter((n) => n.endsWith('.json')).sort()) {
        const doc = readDigest(join(folder, name));
        if (doc?.window) out.push({ value: doc.window, version: doc.version });
      }
      return out;
    },
  };
}
