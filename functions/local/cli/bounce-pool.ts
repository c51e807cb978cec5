/**
 * Classifies the messages of a `mailhealth bounce` run in order, in this thread alone or side
 * by side with worker threads. The classifier is CPU-bound and a large input has thousands of
 * messages: with a worker, this thread keeps classifying whenever the workers have enough
 * queued, so no core waits on another. Results are always handed on in input order, and only
 * a bounded number of messages and results is held: memory stays flat whatever the input size.
 */
import type { Worker } from 'node:worker_threads';
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
  /** Worker threads beside this one; 0 classifies in this thread only. */
  readonly workers: number;
  /** The worker script (dist/lib/bounce-worker.js); null when there is none (running from source). */
  readonly workerUrl: URL | null;
  readonly stateDir?: string;
}

// A batch goes to a worker when it holds this many messages or bytes: fewer hand-offs than one
// message at a time, small enough that the threads share the work evenly.
const BATCH_MESSAGES = 16;
const BATCH_BYTES = 512 * 1024;
// Batches queued per worker: one being classified and one waiting, so a worker never idles
// between two; past that, this thread classifies the next message itself.
const BATCHES_PER_WORKER = 2;
// Results of this thread waiting for an earlier worker batch: past this many, this thread
// waits for that batch rather than hold more.
const MAX_HELD = 4096;

/** What waits to be handed on, in input order: a worker's batch, or one message done here. */
type Pending = { readonly kind: 'batch'; readonly answered: Promise<readonly MessageResult[]>; done: boolean } | { readonly kind: 'here'; readonly result: MessageResult } | { readonly kind: 'unreadable'; readonly file: string };

interface PoolWorker {
  readonly worker: Worker;
  queued: number;
}

/** Classifies every message of `items`, handing results on in order. */
export async function classifyInOrder(items: AsyncIterable<Incoming>, handlers: ResultHandlers, options: ClassifyOptions): Promise<void> {
  const analyze = createMessageAnalyzer(options.stateDir === undefined ? {} : { stateDir: options.stateDir });
  if (options.workers < 1 || options.workerUrl === null) {
    for await (const item of items) {
      if (item.kind === 'unreadable') handlers.unreadable(item.file);
      else await handlers.result(await analyze(item.bytes, item.file, item.pasted));
    }
    return;
  }

  // Loaded only when workers are asked for: most runs have none, and the module costs start-up time.
  const { Worker } = await import('node:worker_threads');
  const waiting = new Map<number, { resolve: (results: readonly MessageResult[]) => void; reject: (err: Error) => void; from: PoolWorker }>();
  let failure: Error | null = null;
  const failAll = (err: Error) => {
    failure ??= err;
    for (const w of waiting.values()) w.reject(err);
    waiting.clear();
  };
  const pool: PoolWorker[] = Array.from({ length: options.workers }, () => {
    const entry: PoolWorker = { worker: new Worker(options.workerUrl!, { workerData: { stateDir: options.stateDir } }), queued: 0 };
    entry.worker.on('message', (answer: WorkerAnswer) => {
      const w = waiting.get(answer.id);
      if (!w) return;
      waiting.delete(answer.id);
      w.from.queued--;
      w.resolve(answer.results);
    });
    entry.worker.on('error', (err) => failAll(err));
    entry.worker.on('exit', (code) => {
      if (waiting.size > 0) failAll(new Error(`a bounce worker stopped (exit code ${code}) with messages in flight`));
    });
    return entry;
  });

  const pending: Pending[] = [];
  let held = 0;
  let nextId = 0;
  let batch: { file: string; bytes: Uint8Array; pasted?: boolean }[] = [];
  let batchBytes = 0;

  const send = (to: PoolWorker) => {
    if (failure) throw failure;
    const id = nextId++;
    // Each message in a buffer of its own, moved (not copied) to the worker.
    const messages = batch.map((m) => ({ file: m.file, bytes: new Uint8Array(m.bytes), pasted: m.pasted === true }));
    const transfer = messages.map((m) => m.bytes.buffer as ArrayBuffer);
    const entry: Pending & { kind: 'batch' } = {
      kind: 'batch',
      answered: new Promise<readonly MessageResult[]>((resolve, reject) => waiting.set(id, { resolve, reject, from: to })),
      done: false,
    };
    // A worker failure rejects every batch at once; the oldest one reports it, the rest must not crash the process unheard.
    entry.answered.then(
      () => (entry.done = true),
      () => (entry.done = true),
    );
    pending.push(entry);
    to.queued++;
    to.worker.postMessage({ id, messages } satisfies WorkerBatch, transfer);
    batch = [];
    batchBytes = 0;
  };
  // Hands on what is ready at the head. `head`: waits for the head batch first (this thread
  // holds too many results); `all`: waits for every batch (the input is over).
  const handOn = async (wait: 'ready' | 'head' | 'all') => {
    while (pending.length > 0) {
      const head = pending[0]!;
      if (head.kind === 'batch') {
        if (!head.done && wait === 'ready') return;
        const results = await head.answered;
        pending.shift();
        for (const r of results) await handlers.result(r);
        if (wait === 'head') wait = 'ready';
      } else {
        pending.shift();
        if (head.kind === 'here') {
          held--;
          await handlers.result(head.result);
        } else handlers.unreadable(head.file);
      }
    }
  };
  // Lets worker answers in: they arrive as events, which a run of classification here would hold back.
  const yieldToEvents = () => new Promise<void>((done) => setImmediate(done));

  try {
    for await (const item of items) {
      if (item.kind === 'unreadable') {
        pending.push(item);
        continue;
      }
      const free = pool.find((w) => w.queued < BATCHES_PER_WORKER);
      if (free || batch.length > 0) {
        // Filling a batch for a worker.
        batch.push(item);
        batchBytes += item.bytes.length;
        if (batch.length >= BATCH_MESSAGES || batchBytes >= BATCH_BYTES) {
          const to = free ?? pool.reduce((a, b) => (b.queued < a.queued ? b : a));
          send(to);
        }
        continue;
      }
      // Every worker has enough queued: this thread takes the message.
      pending.push({ kind: 'here', result: await analyze(item.bytes, item.file, item.pasted) });
      held++;
      await yieldToEvents();
      await handOn(held >= MAX_HELD ? 'head' : 'ready');
    }
    if (batch.length > 0) send(pool.reduce((a, b) => (b.queued < a.queued ? b : a)));
    await handOn('all');
  } finally {
    await Promise.all(pool.map((p) => p.worker.terminate()));
  }
}
