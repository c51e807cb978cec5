/**
 * The local intake (a real state directory, the file store) with messages that come back to the
 * bounce address without being bounces: a read receipt and a challenge-response request are kept
 * and reported as what they are, never recorded as bounces and never alerted; a receipt that
 * reports the message deleted unread is a bounce like any other.
 */
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createFileStore } from '#adapters/file-store.ts';
import type { AlertEvent } from '#core/alert/event.ts';
import { createBounceIntake, type IntakeOutcome } from '#local/intake.ts';

const WILD = join(import.meta.dirname, '..', 'fixtures', 'bounces-wild');
const dirs: string[] = [];

afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function intakeIn(): Promise<{ stateDir: string; outcomes: IntakeOutcome[]; raised: AlertEvent[]; intake: ReturnType<typeof createBounceIntake> }> {
  const stateDir = await mkdtemp(join(tmpdir(), 'mh-intake-'));
  dirs.push(stateDir);
  const outcomes: IntakeOutcome[] = [];
  const raised: AlertEvent[] = [];
  const store = createFileStore({ dir: stateDir });
  const intake = createBounceIntake({
    stateDir,
    store,
    clock: () => new Date('2025-04-01T03:00:00Z'),
    random: (n) => new Uint8Array(n).fill(7),
    raise: async (events) => {
      raised.push(...events);
    },
    report: (o) => outcomes.push(o),
  });
  return { stateDir, outcomes, raised, intake };
}

describe('the local intake and messages that are not bounces', () => {
  it('keeps a read receipt and a challenge-response request, says what each is, and alerts on neither', async () => {
    // Prepare
    const { stateDir, outcomes, raised, intake } = await intakeIn();

    // Act
    await intake.accept(new Uint8Array(readFileSync(join(WILD, 'mdn-displayed.eml'))));
    await intake.accept(new Uint8Array(readFileSync(join(WILD, 'challenge-tmda.eml'))));
    await intake.drain();

    // Assess
    expect(outcomes.map((o) => o.kind)).toEqual(['kept', 'kept']);
    const whys = outcomes.map((o) => (o.kind === 'kept' ? o.why : ''));
    expect(whys[0]).toMatch(/read receipt.*not a bounce/);
    expect(whys[1]).toMatch(/challenge-response.*not a bounce/);
    expect(raised).toEqual([]);
    // Nothing lost: both messages are in the kept folder, each with its note.
    const kept = (await readdir(join(stateDir, 'kept'))).sort();
    expect(kept.filter((f) => f.endsWith('.eml'))).toHaveLength(2);
    const notes = await Promise.all(kept.filter((f) => f.endsWith('.json')).map(async (f) => JSON.parse(await readFile(join(stateDir, 'kept', f), 'utf8')) as { why: string }));
    expect(notes.map((n) => n.why).sort()).toEqual([...whys].sort());
  });

  it('records a receipt that reports the message deleted unread as a bounce of its recipient', async () => {
    // Prepare
    const { outcomes, intake } = await intakeIn();

    // Act
    await intake.accept(new Uint8Array(readFileSync(join(WILD, 'mdn-deleted-automatic.eml'))));
    await intake.drain();

    // Assess
    expect(outcomes).toMatchObject([{ kind: 'bounce', messageKind: 'bounce', recipients: [{ recipient: { recipient: 'yumi@example.com', reason: 'filtered' } }] }]);
  });
});
