/**
 * Health state per target: `health/<target>.json`, `{ version, state }`, written whole
 * (atomically and fsynced) under the target's lock at the version it was read.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { HealthState } from '#core/health/state.ts';
import type { Store, Versioned } from '#core/ports.ts';
import { dirName, isErrno, readJson, readJsonSync, writeAtomic } from './files.ts';
import type { StateDir } from './state-dir.ts';

/** The Store's health methods. */
export type HealthStore = Pick<Store, 'getHealth' | 'putHealth' | 'listTargets'>;

/**
 * The health states of a state directory.
 * @example const health = healthFiles(openStateDir(dir, Date.now)); await health.listTargets();
 */
export function healthFiles(state: StateDir): HealthStore {
  const folder = join(state.dir, 'health');
  const healthPath = async (target: string) => join(await state.ensureDir(folder), `${dirName(target)}.json`);

  return {
    async getHealth(target: string): Promise<Versioned<HealthState> | null> {
      await state.ready();
      // Synchronous: a small file, read for every target of a round and of `status`.
      const doc = readJsonSync<{ version: number; state: HealthState } | null>(await healthPath(target), null);
      return doc === null ? null : { value: doc.state, version: doc.version };
    },

    async putHealth(target: string, health: HealthState, expectedVersion: number | null): Promise<boolean> {
      await state.ready();
      const path = await healthPath(target);
      return state.withLock(`health-${dirName(target)}`, async () => {
        const doc = await readJson<{ version: number } | null>(path, null);
        if ((doc?.version ?? null) !== expectedVersion) return false;
        await writeAtomic(path, JSON.stringify({ version: (expectedVersion ?? 0) + 1, state: health }, null, 2), { sync: true });
        return true;
      });
    },

    async listTargets(): Promise<string[]> {
      let names: string[];
      try {
        names = await readdir(folder);
      } catch (err) {
        if (isErrno(err, 'ENOENT')) return [];
        throw err;
      }
      return names
        .filter((n) => n.endsWith('.json'))
        .map((n) => decodeURIComponent(n.slice(0, -'.json'.length)))
        .sort();
    },
  };
}
