/**
 * npm run bench:intake [-- --messages N] [--runs R] [--min-rate MSG_PER_S]
 *
 * The processing rate of the local bounce intake (functions/local/intake.ts), the part that
 * crawled at about 30 messages a second in issue 17: N DSNs of a newsletter storm lie in a
 * fresh state directory's inbox/ as the listener leaves them; the intake reads, classifies and
 * records each one (history as JSON Lines, digest window, raw copy in raw/<day>/) with the real
 * file store. Prints messages/second per run and the median of R runs. `--min-rate` makes a
 * median below it exit 1 (CI floor).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { systemClock, systemRandom } from '#adapters/clock.ts';
import { createFileStore } from '#adapters/file-store.ts';
import { createBounceIntake } from '#local/intake.ts';
import { stormMessages } from '../test/helpers/storm-messages.ts';

const USAGE = 'usage: npm run bench:intake [-- --messages N] [--runs R] [--min-rate MSG_PER_S]\n';
function usageError(message: string): never {
  process.stderr.write(`bench:intake: ${message}\n${USAGE}`);
  process.exit(2);
}
const { values } = (() => {
  try {
    return parseArgs({ options: { messages: { type: 'string', default: '1000' }, runs: { type: 'string', default: '5' }, 'min-rate': { type: 'string' } } });
  } catch (err) {
    return usageError(err instanceof Error ? err.message : String(err));
  }
})();
const count = Number(values.messages);
const runs = Number(values.runs);
const minRate = values['min-rate'] === undefined ? null : Number(values['min-rate']);
if (!Number.isInteger(count) || count < 1) usageError(`--messages ${values.messages}: expected a positive integer`);
if (!Number.isInteger(runs) || runs < 1) usageError(`--runs ${values.runs}: expected a positive integer`);
if (minRate !== null && !(minRate > 0)) usageError(`--min-rate ${values['min-rate']}: expected a positive number`);

const messages = stormMessages(count);

/** One run: a fresh state directory, the inbox filled, recover() + drain() timed. */
async function once(): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'mh-bench-intake-'));
  try {
    await mkdir(join(dir, 'inbox'));
    // Names as the listener stamps them (arrival time first), so arrival order is kept.
    const stamp = new Date().toISOString().replace(/[-:.]/g, '');
    for (const [i, m] of messages.entries()) await writeFile(join(dir, 'inbox', `${stamp}-${process.pid}-${String(i).padStart(6, '0')}-bench.eml`), m.raw);
    const store = createFileStore({ dir });
    const intake = createBounceIntake({ stateDir: dir, store, clock: systemClock, random: systemRandom, repeatAfterMinutes: 60, digestMinutes: 10, raise: async () => {}, report: () => {} });
    const started = performance.now();
    await intake.recover();
    await intake.drain();
    const ms = performance.now() - started;
    const recorded = (await store.listBounces(null, Number.POSITIVE_INFINITY)).length;
    if (recorded !== count) throw new Error(`recorded ${recorded} bounces of ${count}`);
    return (count / ms) * 1000;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const rates: number[] = [];
for (let r = 1; r <= runs; r++) {
  const rate = await once();
  rates.push(rate);
  process.stdout.write(`run ${r}/${runs}: ${count} messages, ${rate.toFixed(0)} msg/s\n`);
}
const sorted = [...rates].sort((a, b) => a - b);
const median = sorted.length % 2 ? sorted[(sorted.length - 1) / 2]! : (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2;
process.stdout.write(`local intake: median ${median.toFixed(0)} msg/s over ${runs} run(s) of ${count} messages (min ${sorted[0]!.toFixed(0)}, max ${sorted.at(-1)!.toFixed(0)}) · Node ${process.versions.node}\n`);
if (minRate !== null && median < minRate) {
  process.stdout.write(`FAIL: the median ${median.toFixed(0)} msg/s is below --min-rate ${minRate}\n`);
  process.exitCode = 1;
}
