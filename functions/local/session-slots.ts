/**
 * How many canary rounds run their SMTP session at once on this machine (the loop and `check`).
 *
 * All 500 targets of an agency started together mean 500 TLS handshakes in one burst: the
 * process spends seconds on them while every other session's reply waits in its queue, so the
 * step timings measure the monitor, not the server (SLOW_STEP blamed on the server), and a
 * provider shared by many targets sees hundreds of connections at once from one address. A
 * target's round starts when a session slot is free and gives it back when its session ends;
 * its port probes (a silent port 25 waits out its timeout) go on without holding a slot.
 */
import type { SmtpSession } from '#core/ports.ts';
import type { TargetResult } from '#core/results.ts';

/**
 * SMTP sessions at once. A session against a nearby server takes tens of milliseconds and one
 * across the internet about a second, so 64 finish 500 targets in seconds either way, while
 * each reply waits at most for a few dozen others to be handled.
 */
export const DEFAULT_SESSION_SLOTS = 64;

/**
 * Runs `round(target, openSession)` for every target, at most `slots` of their sessions at
 * once, and settles like Promise.allSettled (in the targets' order). `round` must open at most
 * one session, through the `openSession` it is given.
 * @example
 * const settled = await withSessionSlots(config.targets, 64, session, (t, openSession) => runCanaryRound(t, ctx, { ...deps, openSession }));
 */
export async function withSessionSlots<T>(
  targets: readonly T[],
  slots: number,
  session: SmtpSession,
  round: (target: T, openSession: SmtpSession) => Promise<TargetResult>,
): Promise<PromiseSettledResult<TargetResult>[]> {
  let free = Math.max(1, Math.floor(slots));
  const waiting: (() => void)[] = [];
  const take = (): Promise<void> => {
    if (free > 0) {
      free--;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => waiting.push(resolve));
  };
  const give = () => {
    const next = waiting.shift();
    if (next) next();
    else free++;
  };
  return Promise.allSettled(
    targets.map(async (target) => {
      await take();
      let held = true;
      const release = () => {
        if (!held) return;
        held = false;
        give();
      };
      try {
        return await round(target, (request) => session(request).finally(release));
      } finally {
        release();
      }
    }),
  );
}
