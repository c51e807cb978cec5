/**
 * Sent canaries of the last `canaryRetentionDays`: `canaries.json`, one object by canary id,
 * rewritten whole (atomically and fsynced) under its lock. It is read for every delivered
 * canary and bounce, so it is kept parsed while the file is unchanged.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { CanaryRecord } from '#core/health/records.ts';
import type { Store } from '#core/ports.ts';
import { readJson, writeAtomic } from './files.ts';
import type { StateDir } from './state-dir.ts';

/** The Store's canary methods. */
export type CanaryStore = Pick<Store, 'putCanary' | 'getCanary' | 'listCanaries' | 'markDelivered' | 'listUndelivered'>;

type CanaryMap = Record<string, CanaryRecord>;

/**
 * The canary records of a state directory; records sent more than `retentionMs` ago go when
 * the next one is written.
 * @example const canaries = canaryFile(openStateDir(dir, Date.now), 7 * 86_400_000);
 */
export function canaryFile(state: StateDir, retentionMs: number): CanaryStore {
  const canariesPath = async () => join(await state.ensureDir(state.dir), 'canaries.json');
  let canaryCache: { stamp: string; map: CanaryMap } | null = null;

  async function readCanaries(): Promise<CanaryMap> {
    const path = await canariesPath();
    const info = statSync(path, { throwIfNoEntry: false });
    if (!info) return {};
    const stamp = `${info.ino}:${info.size}:${info.mtimeMs}`;
    if (canaryCache?.stamp !== stamp) canaryCache = { stamp, map: await readJson<CanaryMap>(path, {}) };
    return canaryCache.map;
  }

  async function writeCanaries(all: CanaryMap): Promise<void> {
    canaryCache = null;
    await writeAtomic(await canariesPath(), JSON.stringify(all), { sync: true });
  }

  return {
    async putCanary(record: CanaryRecord): Promise<void> {
      await state.ready();
      await state.withLock('canaries', async () => {
        const all = { ...(await readCanaries()) };
        const cutoff = state.now() - retentionMs;
        for (const [id, c] of Object.entries(all)) if (Date.parse(c.sentAt) < cutoff) delete all[id];
        all[record.id] = { ...record, deliveredAt: all[record.id]?.deliveredAt ?? record.deliveredAt };
        await writeCanaries(all);
      });
    },

    async getCanary(id: string): Promise<CanaryRecord | null> {
      return (await readCanaries())[id] ?? null;
    },

    async listCanaries(target: string, limit: number): Promise<CanaryRecord[]> {
      return Object.values(await readCanaries())
        .filter((c) => c.target === target)
        .sort((a, b) => Date.parse(b.sentAt) - Date.parse(a.sentAt))
        .slice(0, Math.max(0, limit));
    },

    async markDelivered(id: string, at: string) {
      await state.ready();
      return state.withLock('canaries', async () => {
        const all = { ...(await readCanaries()) };
        const record = all[id];
        if (record === undefined) return null;
        if (record.deliveredAt !== null) return { record, first: false };
        const updated = { ...record, deliveredAt: at };
        all[id] = updated;
        await writeCanaries(all);
        return { record: updated, first: true };
      });
    },

    async listUndelivered(target: string, window: { sentAfter: string; sentBefore: string; limit: number }): Promise<CanaryRecord[]> {
      const after = Date.parse(window.sentAfter);
      const before = Date.parse(window.sentBefore);
      return Object.values(await readCanaries())
        .filter((c) => c.target === target && c.deliveredAt === null)
        .filter((c) => Date.parse(c.sentAt) >= after && Date.parse(c.sentAt) < before)
        .sort((a, b) => Date.parse(a.sentAt) - Date.parse(b.sentAt))
        .slice(0, window.limit);
    },
  };
}
