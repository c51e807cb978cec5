/**
 * A state directory as an agency's loop leaves it after weeks: N targets with D days of rounds
 * every M minutes, written the way the file store keeps them (rounds as JSON Lines, health
 * through the store), from two real round results as templates (one OK, one AUTH_FAILED).
 * Every fifth target (t004, t009, …) has failed its login for the last `failingHours`, and the
 * health, its incident and its alerts follow from the core's own state machine over those
 * rounds; the others are OK throughout. The canaries of the last `canaryHours` are recorded
 * (delivered after a few seconds) through the store. For bench/fleet.ts (report and status at
 * 500 targets and 35 days) and the report's browser test.
 */
import { mkdir, open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createFileStore } from '#adapters/file-store.ts';
import { newCanaryId } from '#core/canary-id.ts';
import { advanceHealth, initialHealthState, type HealthState } from '#core/health/state.ts';
import type { TargetResult } from '#core/results.ts';
import { fleetTargetName, hasWrongPassword } from './fleet.ts';

/** What the state holds. */
export interface FleetStateOptions {
  readonly dir: string;
  readonly targets: number;
  readonly days: number;
  readonly intervalMinutes: number;
  /** The time of the newest round. */
  readonly now: Date;
  /** A real round of a healthy target and one of a target whose password is wrong. */
  readonly templates: { readonly ok: TargetResult; readonly authFailed: TargetResult };
  /** How long the wrong-password targets have been failing. @default 2 */
  readonly failingHours?: number;
  /** Canaries recorded for the last this many hours (each through the store). @default 24 */
  readonly canaryHours?: number;
  readonly language?: 'en' | 'ja';
}

const THRESHOLDS = { failureThreshold: 2, recoveryThreshold: 2, reminderMinutes: 60 };
// Lines written to a history file at once.
const WRITE_BATCH = 2000;

function idBytes(seed: number): Uint8Array {
  const bytes = new Uint8Array(10);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < 10; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    bytes[i] = x >>> 24;
  }
  return bytes;
}

/**
 * Writes the state. Resolves with what it wrote.
 * @example await writeFleetState({ dir, targets: 500, days: 35, intervalMinutes: 5, now: new Date(), templates });
 */
export async function writeFleetState(o: FleetStateOptions): Promise<{ readonly rounds: number; readonly canaries: number }> {
  const intervalMs = o.intervalMinutes * 60_000;
  const count = Math.floor((o.days * 86_400_000) / intervalMs);
  const failingFrom = o.now.getTime() - (o.failingHours ?? 2) * 3_600_000;
  const canaryFrom = o.now.getTime() - (o.canaryHours ?? 24) * 3_600_000;
  const store = createFileStore({ dir: o.dir });
  let rounds = 0;
  let canaries = 0;
  for (let t = 0; t < o.targets; t++) {
    const name = fleetTargetName(t);
    const wrong = hasWrongPassword(t);
    const folder = join(o.dir, 'history', name);
    await mkdir(folder, { recursive: true });
    const file = await open(join(folder, 'rounds.jsonl'), 'w');
    let health: HealthState = initialHealthState(name);
    let batch: string[] = [];
    const tail: TargetResult[] = [];
    try {
      for (let i = 0; i < count; i++) {
        const at = o.now.getTime() - (count - 1 - i) * intervalMs;
        const failing = wrong && at >= failingFrom;
        const template = failing ? o.templates.authFailed : o.templates.ok;
        const round: TargetResult = { ...template, name, canaryId: newCanaryId(at, idBytes(t * 1_000_003 + i)), startedAt: new Date(at).toISOString() };
        batch.push(JSON.stringify(round));
        if (batch.length >= WRITE_BATCH) {
          await file.write(`${batch.join('\n')}\n`);
          batch = [];
        }
        // The state machine sees the rounds from a little before the failure on.
        if (at >= failingFrom - 3 * intervalMs) tail.push(round);
        if (at >= canaryFrom && !failing) {
          const sentAt = new Date(at + 300).toISOString();
          await store.putCanary({ id: round.canaryId, target: name, sentAt, recipients: ['canary@bounces.fleet.test'], deliveredAt: new Date(at + 2_300 + (i % 7) * 400).toISOString() });
          canaries++;
        }
        rounds++;
      }
      if (batch.length > 0) await file.write(`${batch.join('\n')}\n`);
    } finally {
      await file.close();
    }
    const firstAt = new Date(o.now.getTime() - (count - 1) * intervalMs).toISOString();
    for (const round of tail) {
      const step = advanceHealth(health, round, { now: new Date(round.startedAt), thresholds: THRESHOLDS, newIncidentId: () => newCanaryId(Date.parse(round.startedAt), idBytes(t + 7)) });
      if (step.kind !== 'applied') continue;
      health = step.state;
      for (const event of step.events) await store.appendAlert({ at: event.at, event, outcomes: [] });
    }
    // OK throughout: good since the first round of the history, not only the window applied.
    if (health.state === 'ok') health = { ...health, goodSince: firstAt, okSince: firstAt };
    await store.putHealth(name, health, null);
  }
  const meta = { rounds: count, lastRoundAt: o.now.toISOString(), language: o.language ?? 'en', targets: Array.from({ length: o.targets }, (_, i) => fleetTargetName(i)) };
  await writeFile(join(o.dir, 'run.json'), JSON.stringify(meta, null, 2));
  return { rounds, canaries };
}
