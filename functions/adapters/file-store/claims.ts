/**
 * Once-only claims: `claims/<sha256 of key>.json`, an empty file whose modification time is its
 * expiry. Creating it with O_EXCL is the atomic test-and-set and no data is written (claims of
 * older versions hold JSON `{ key, expiresAt }`). Expired claims are removed at most hourly.
 */
import { createHash } from 'node:crypto';
import { closeSync, futimesSync, openSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Store } from '#core/ports.ts';
import { isErrno } from './files.ts';
import type { StateDir } from './state-dir.ts';

const PRUNE_EVERY_MS = 3600_000;

/** The Store's claim methods. */
export type ClaimStore = Pick<Store, 'claim' | 'release' | 'claimedUntil'>;

function claimExpiry(path: string): number | null {
  const info = statSync(path, { throwIfNoEntry: false });
  if (!info) return null;
  if (info.size === 0) return info.mtimeMs;
  try {
    const doc = JSON.parse(readFileSync(path, 'utf8')) as { expiresAt?: unknown };
    return typeof doc.expiresAt === 'number' ? doc.expiresAt : info.mtimeMs;
  } catch {
    return info.mtimeMs;
  }
}

function createClaim(path: string, expiresAtMs: number): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx');
  } catch (err) {
    if (isErrno(err, 'EEXIST')) return false;
    throw err;
  }
  try {
    futimesSync(fd, expiresAtMs / 1000, expiresAtMs / 1000);
  } finally {
    closeSync(fd);
  }
  return true;
}

/**
 * The claims of a state directory.
 * @example const claims = claimFiles(openStateDir(dir, Date.now)); await claims.claim('alert:shop:1', 3600);
 */
export function claimFiles(state: StateDir): ClaimStore {
  const { dir, now } = state;
  let lastPrune = 0;

  async function pruneClaims(claimsDir: string): Promise<void> {
    lastPrune = now();
    for (const name of await readdir(claimsDir)) {
      if (!name.endsWith('.json')) continue;
      const expires = claimExpiry(join(claimsDir, name));
      if (expires !== null && expires <= now()) await unlink(join(claimsDir, name)).catch(() => undefined);
    }
  }

  const claimPath = (key: string) => join(dir, 'claims', `${createHash('sha256').update(key).digest('hex')}.json`);

  return {
    async release(key: string): Promise<void> {
      await unlink(claimPath(key)).catch((err: unknown) => {
        if (!isErrno(err, 'ENOENT')) throw err;
      });
    },

    async claimedUntil(key: string): Promise<string | null> {
      const expires = claimExpiry(claimPath(key));
      if (expires === null || expires <= now()) return null;
      return new Date(expires).toISOString();
    },

    async claim(key: string, ttlSeconds: number): Promise<boolean> {
      await state.ready();
      const claimsDir = await state.ensureDir(join(dir, 'claims'));
      if (now() - lastPrune > PRUNE_EVERY_MS) await pruneClaims(claimsDir);
      const path = claimPath(key);
      const expiresAt = now() + ttlSeconds * 1000;
      if (createClaim(path, expiresAt)) return true;
      const hash = path.slice(path.lastIndexOf('/') + 1, -'.json'.length);
      return state.withLock(`claim-${hash}`, async () => {
        const existing = claimExpiry(path);
        if (existing !== null && existing > now()) return false;
        // Vanished meanwhile (released): only a fresh exclusive create may take it.
        if (existing === null) return createClaim(path, expiresAt);
        // Expired: taken over in place, under the lock.
        writeFileSync(path, '');
        utimesSync(path, expiresAt / 1000, expiresAt / 1000);
        return true;
      });
    },
  };
}
