/**
 * A local HTTP server on 127.0.0.1 that records every request and answers as told: the
 * stand-in for a Slack incoming webhook (or any small HTTP API) in tests.
 *
 * @example
 * const slack = await startHttpCapture((req, i) => (i === 0 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 200, body: 'ok' }));
 * // … post to slack.url …
 * expect(slack.requests).toHaveLength(2);
 * await slack.close();
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CapturedRequest {
  readonly method: string;
  /** Path and query, e.g. `/services/T000/B000/XXXX`. */
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** Date.now() when the request had arrived completely. */
  readonly receivedAt: number;
  /** The body parsed as JSON (throws when it is not JSON). */
  json<T = unknown>(): T;
}

export interface CaptureReply {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body?: string;
}

/** Decides the reply to the request number `index` (0-based). */
export type CaptureHandler = (request: CapturedRequest, index: number) => CaptureReply | Promise<CaptureReply>;

export interface HttpCapture {
  /** Base URL, e.g. `http://127.0.0.1:54321`. */
  readonly url: string;
  readonly requests: CapturedRequest[];
  /** Resolves once `count` requests arrived; rejects after `timeoutMs`. */
  waitFor(count: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** Starts the server on a free port of 127.0.0.1; answers 200 `ok` unless a handler says otherwise. */
export async function startHttpCapture(handler: CaptureHandler = () => ({ status: 200, body: 'ok' })): Promise<HttpCapture> {
  const requests: CapturedRequest[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const captured: CapturedRequest = {
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        headers: req.headers,
        body,
        receivedAt: Date.now(),
        json: <T>() => JSON.parse(body) as T,
      };
      const index = requests.length;
      requests.push(captured);
      for (const w of waiters) if (requests.length >= w.count) w.resolve();
      Promise.resolve(handler(captured, index)).then(
        (reply) => {
          res.writeHead(reply.status, { 'content-type': 'text/plain', ...reply.headers });
          res.end(reply.body ?? '');
        },
        (err: unknown) => {
          res.writeHead(500);
          res.end(String(err));
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    waitFor(count, timeoutMs = 5000) {
      if (requests.length >= count) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`expected ${count} requests within ${timeoutMs} ms, got ${requests.length}`)), timeoutMs);
        waiters.push({ count, resolve: () => (clearTimeout(timer), resolve()) });
      });
    },
    close() {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
