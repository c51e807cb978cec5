/** Vitest global setup: the tests that run `mailhealth` as a process need a current dist/. */
import { ensureBuiltCli } from '../helpers/built-cli.ts';

export default async function setup(): Promise<void> {
  await ensureBuiltCli();
}
