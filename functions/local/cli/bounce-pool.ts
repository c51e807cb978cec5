/**
 * Classifies the messages of a `mailhealth bounce` run in order, in this thread or spread over
 * worker threads. The classifier is CPU-bound and a large input has thousands of messages, so
 * on a machine with two or more cores workers classify side by side while this thread reads
 * the files and writes the results. Results are always handed on in input order, and only a
 * bounded number of messages is in flight: memory stays flat whatever the input size.
 */
import { Worker } from 'node:worker_threads';
import { createMessageAnalyzer, type MessageResult } from './bounce-analysis.ts';
import type { WorkerAnswer, WorkerBatch } from './bounce-worker.ts';

/** What the reader yields: a message of a file, or a file that could not be read. */
export type Incoming = { readonly kind: 'message'; readonly file: string; readonly bytes: Uint8Array; readonly pasted?: boolean } | { readonly kind: 'unreadable'; readonly file: string };

/** Where results go, in input order. */
export interface ResultHandlers {
  result(result: MessageResult): Promise<void>;
  unreadable(file: string): void;
}

/** How to classify. */
export interface ClassifyOptions {
  /** Worker threads to use; 0 classifies in this thread. */
  readonly workers: number;
  /** The worker script (dist/bounce-worker.js); null when there is none (running from source). */
  readonly workerUrl: URL | null;
  readonly stateDir?: string;
}

// A batch goes to a worker when it holds this many messages or bytes: fewer hand-offs than one
// message at a time, small enough that the workers share the work evenly.
const BATCH_MESSAGES = 16;
const BATCH_BYTES = 512 * 1024;
// Batches in flight per worker: enough that a worker never waits for the next, few enough
// that the messages held stay a few megabytes.
const BATCHES_PER_WORKER = 3;

/** Classifies every message of `items`, handing results on in order. */
export async function classifyInOrder(items: AsyncIterable<Incoming>, handlers: ResultHandlers, options: ClassifyOptions): Promise<void> {
  if (options.workers < 1 || options.workerUrl === null) return classifyHere(items, handlers, options);
  return classifyInWorkers(items, handlers, options.workerUrl, options.workers, options);
}

async function classifyHere(items: AsyncIterable<Incoming>, handlers: ResultHandlers, options: { stateDir?: string }): Promise<void> {
  const analyze = createMessageAnalyzer(options.stateDir === undefined ? {} : { stateDir: options.stateDir });
  for await (const item of items) {
    if (item.kind === 'unreadable') handlers.unreadable(item.file);
    else await handlers.result(await analyze(item.bytes, item.file, item.pasted));
  }
}

interface PoolWorker {
  readonly worker: Worker;
  inFlight: number;
}

async function classifyInWorkers(items: AsyncIterable<Incoming>, handlers: ResultHandlers, workerUrl: URL, count: number, options: { stateDir?: string }): Promise<void> {
  const waiting = new Map<number, { resolve: (results: readonly MessageResult[]) => void; reject: (err: Error) => void; from: PoolWorker }>();
  let failure: Error | null = null;
  const failAll = (err: Error) => {
    failure ??= err;
    for (const w of waiting.values()) w.reject(err);
    waiting.clear();
  };
  const pool: PoolWorker[] = Array.from({ length: count }, () => {
    const entry: PoolWorker = { worker: new Worker(workerUrl, { workerData: { stateDir: options.stateDir } }), inFlight: 0 };
    entry.worker.on('message', (answer: WorkerAnswer) => {
      const w = waiting.get(answer.id);
      if (!w) return;
      waiting.delete(answer.id);
      w.from.inFlight--;
      w.resolve(answer.results);
    });
    entry.worker.on('error', (err) => failAll(err));
    entry.worker.on('exit', (code) => {
      if (waiting.size > 0) failAll(new Error(`a bounce worker stopped (exit code ${code}) with messages in flight`));
    });
    return entry;
  });

  // Batches in input order; each resolves to its results.
  const queue: Promise<readonly MessageResult[]>[] = [];
  let nextId = 0;
  let batch: { file: string; bytes: Uint8Array; pasted?: boolean }[] = [];
  let batchBytes = 0;

  const send = () => {
    if (batch.length === 0) return;
    if (failure) throw failure;
    const to = pool.reduce((a, b) => (b.inFlight < a.inFlight ? b : a));
    const id = nextId++;
    // Each message in a buffer of its own, moved (not copied) to the worker.
    const messages = batch.map((m) => ({ file: m.file, bytes: new Uint8Array(m.bytes), pasted: m.pasted === true }));
    const transfer = messages.map((m) => m.bytes.buffer as ArrayBuffer);
    const answered = new Promise<readonly MessageResult[]>((resolve, reject) => waiting.set(id, { resolve, reject, from: to }));
    // A worker failure rejects every batch at once; the oldest one reports it, the rest must not crash the process unheard.
    answered.catch(() => undefined);
    queue.push(answered);
    to.inFlight++;
    to.worker.postMessage({ id, messages } satisfies WorkerBatch, transfer);
    batch = [];
    batchBytes = 0;
  };
  const handOnOldest = async () => {
    const results = await queue.shift()!;
    for (const r of results) await handlers.result(r);
  };

  try {
    for await (const item of items) {
      if (item.kind === 'unreadable') {
        handlers.unreadable(item.file);
        continue;
      }
      batch.push(item);
      batchBytes += item.bytes.length;
      if (batch.length >= BATCH_MESSAGES || batchBytes >= BATCH_BYTES) {
        send();
        while (queue.length >= count * BATCHES_PER_WORKER) await handOnOldest();
      }
    }
    send();
    while (queue.length > 0) await handOnOldest();
  } finally {
    await Promise.all(pool.map((p) => p.worker.terminate()));
  }
}
