import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFileStore } from '#adapters/file-store.ts';
import { createBounceIntake } from '#local/intake.ts';
import { buildDsn } from '#local/demo/dsn.ts';
import { systemClock, systemRandom } from '#adapters/clock.ts';
const N = Number(process.argv[2] ?? 300);
const dir = await mkdtemp(join(tmpdir(), 'mh-bench-'));
await mkdir(join(dir, 'inbox'));
for (let i = 0; i < N; i++) {
  const full = i % 3 === 0;
  const raw = buildDsn({ reportingMta: 'mta.shop.example', returnTo: 'bounces@bounces.example.jp', arrivalDate: new Date(), date: new Date(), token: `T${i}`,
    recipients: [{ recipient: `user${i}@d${i % 17}.example`, action: 'failed', status: full ? '5.2.2' : '5.1.1', remoteMta: `mx.d${i%17}.example`, diagnostic: full ? '552 5.2.2 Mailbox full' : '550 5.1.1 User unknown' }],
    original: `From: shop@shop.example\r\nTo: user${i}@d${i%17}.example\r\nSubject: news\r\nMessage-ID: <n${i}@shop.example>\r\n\r\nhi\r\n` });
  await writeFile(join(dir, 'inbox', `20260301T000000000Z-1-${String(i).padStart(5,'0')}-aaaaaa.eml`), raw);
}
const store = createFileStore({ dir });
const intake = createBounceIntake({ stateDir: dir, store, clock: systemClock, random: systemRandom, repeatAfterMinutes: 60, digestMinutes: 10, raise: async () => {}, report: () => {} });
const t = performance.now();
await intake.recover();
await intake.drain();
const ms = performance.now() - t;
console.log(`${N} messages in ${ms.toFixed(0)} ms: ${(N / ms * 1000).toFixed(0)} msg/s`);
await rm(dir, { recursive: true, force: true });
