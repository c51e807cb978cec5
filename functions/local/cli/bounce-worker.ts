/**
 * A worker thread of `mailhealth bounce` (its own entry in the build: dist/lib/bounce-worker.js).
 * It receives batches of messages and answers each batch with their results, in order.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createMessageAnalyzer, type MessageResult } from './bounce-analysis.ts';

/** A batch sent to a worker. */
export interface WorkerBatch {
  readonly id: number;
  readonly messages: readonly { readonly file: string; readonly bytes: Uint8Array; readonly pasted: boolean }[];
}

/** A worker's answer to a batch. */
export interface WorkerAnswer {
  readonly id: number;
  readonly results: readonly MessageResult[];
}

const analyze = createMessageAnalyzer(workerData as { stateDir?: string });

parentPort?.on('message', async (batch: WorkerBatch) => {
  const results: MessageResult[] = [];
  for (const m of batch.messages) results.push(await analyze(m.bytes, m.file, m.pasted));
  parentPort!.postMessage({ id: batch.id, results } satisfies WorkerAnswer);
});
