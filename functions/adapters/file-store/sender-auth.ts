/**
 * What the authentication check keeps per target (core/auth/round.ts): `sender-auth.json`, one
 * object by target name, rewritten whole (atomically and fsynced) under its lock.
 */
import { join } from 'node:path';
import type { SenderAuthMemo } from '#core/auth/facts.ts';
import type { Store } from '#core/ports.ts';
import { readJson, writeAtomic } from './files.ts';
import type { StateDir } from './state-dir.ts';

/** The Store's sender-authentication methods. */
export type SenderAuthStore = Pick<Store, 'getSenderAuth' | 'putSenderAuth'>;

/**
 * The sender-authentication memo of a state directory.
 * @example const auth = senderAuthFile(openStateDir(dir, Date.now)); await auth.getSenderAuth('shop');
 */
export function senderAuthFile(state: StateDir): SenderAuthStore {
  const senderAuthPath = async () => join(await state.ensureDir(state.dir), 'sender-auth.json');
  return {
    async getSenderAuth(target: string): Promise<SenderAuthMemo> {
      const all = await readJson<Record<string, Partial<SenderAuthMemo>>>(await senderAuthPath(), {});
      return { delivery: all[target]?.delivery ?? null, sendingIp: all[target]?.sendingIp ?? null };
    },

    async putSenderAuth(target: string, parts: Partial<SenderAuthMemo>): Promise<void> {
      const path = await senderAuthPath();
      await state.withLock('sender-auth', async () => {
        const all = await readJson<Record<string, Partial<SenderAuthMemo>>>(path, {});
        all[target] = { ...all[target], ...parts };
        await writeAtomic(path, JSON.stringify(all), { sync: true });
      });
    },
  };
}
