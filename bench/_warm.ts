import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createMailParser } from '#adapters/mail-parser.ts';
import { analyzeBounce } from '#core/bounce/analyze.ts';
const dir = process.argv[2]!;
const files = readdirSync(dir).sort().map((f) => new Uint8Array(readFileSync(join(dir, f))));
const parse = createMailParser();
for (let pass = 0; pass < 6; pass++) {
  const t0 = performance.now();
  let tParse = 0;
  for (const f of files) { const a = performance.now(); await parse(f); tParse += performance.now() - a; }
  const t1 = performance.now();
  for (const f of files) await analyzeBounce(f, { parse });
  const t2 = performance.now();
  console.log(`pass ${pass}: parse only ${(t1 - t0).toFixed(0)} ms; analyze ${(t2 - t1).toFixed(0)} ms`);
}
