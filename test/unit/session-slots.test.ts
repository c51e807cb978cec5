import { describe, expect, it } from 'vitest';
import type { SessionRequest, SessionTranscript, SmtpSession } from '#core/ports.ts';
import type { TargetResult } from '#core/results.ts';
import { withSessionSlots } from '#local/session-slots.ts';

const result = (name: string): TargetResult => ({ name, status: 'ok', canaryId: name, startedAt: '2026-01-05T00:00:00.000Z', steps: [], ports: {}, extensions: {}, findings: [] });

/** A session port whose sessions end when the test says so, counting how many run at once. */
function heldSessions() {
  let running = 0;
  let most = 0;
  const open: (() => void)[] = [];
  const session: SmtpSession = () =>
    new Promise<SessionTranscript>((resolve) => {
      running++;
      most = Math.max(most, running);
      open.push(() => {
        running--;
        resolve({ steps: [] });
      });
    });
  return { session, most: () => most, running: () => running, endOne: () => open.shift()?.(), pending: () => open.length };
}

const tick = () => new Promise<void>((r) => setImmediate(r));

describe('withSessionSlots', () => {
  it('runs at most the given number of sessions at once and every target in the end', async () => {
    // Prepare
    const s = heldSessions();
    const targets = Array.from({ length: 10 }, (_, i) => `t${i}`);
    const started: string[] = [];

    // Act
    const all = withSessionSlots(targets, 3, s.session, async (t, openSession) => {
      started.push(t);
      await openSession({} as SessionRequest);
      return result(t);
    });
    for (let i = 0; i < 50 && (s.pending() > 0 || started.length < targets.length); i++) {
      await tick();
      expect(s.running()).toBeLessThanOrEqual(3);
      s.endOne();
    }
    const settled = await all;

    // Assess: never more than three, first come first served, all fulfilled in the targets' order
    expect(s.most()).toBe(3);
    expect(started).toEqual(targets);
    expect(settled.map((x) => (x.status === 'fulfilled' ? x.value.name : 'rejected'))).toEqual(targets);
  });

  it('frees the slot of a round that fails before its session, and reports the failure', async () => {
    // Prepare
    const s = heldSessions();

    // Act
    const all = withSessionSlots(['bad', 'good'], 1, s.session, async (t, openSession) => {
      if (t === 'bad') throw new Error('no password for bad');
      await openSession({} as SessionRequest);
      return result(t);
    });
    await tick();
    s.endOne();
    const settled = await all;

    // Assess
    expect(settled[0]).toMatchObject({ status: 'rejected', reason: new Error('no password for bad') });
    expect(settled[1]).toMatchObject({ status: 'fulfilled', value: { name: 'good' } });
  });

  it('frees the slot when the session ends, while the rest of the round (its port probes) goes on', async () => {
    // Prepare
    const s = heldSessions();
    let probesDone: () => void = () => undefined;
    const probes = new Promise<void>((r) => (probesDone = r));
    const order: string[] = [];

    // Act: the first round's probes outlast its session; the second round may start meanwhile
    const all = withSessionSlots(['slow-probes', 'next'], 1, s.session, async (t, openSession) => {
      order.push(`start ${t}`);
      await Promise.all([openSession({} as SessionRequest), t === 'slow-probes' ? probes : Promise.resolve()]);
      return result(t);
    });
    await tick();
    s.endOne();
    await tick();
    const startedWhileProbing = [...order];
    s.endOne();
    probesDone();
    await all;

    // Assess
    expect(startedWhileProbing).toEqual(['start slow-probes', 'start next']);
    expect(s.most()).toBe(1);
  });
});
