/**
 * The Slack channel: an incoming webhook (`@slack/webhook`), with bounded retries.
 * 429 and 5xx answers and network errors are retried with exponential backoff; a Retry-After
 * header is honoured, capped so a misbehaving server cannot park a Lambda. Other 4xx answers
 * (a revoked webhook, a malformed message) fail at once: retrying cannot fix them.
 * The webhook URL is a secret: it never appears in an error message or a log line.
 */
import { IncomingWebhook, IncomingWebhookHTTPError, type FetchFunction } from '@slack/webhook';
import { DeliveryError } from '#core/errors.ts';
import type { SlackMessage } from '#core/alert/slack.ts';
import type { Notifier } from '#core/ports.ts';

/** The webhook and its retry policy. */
export interface SlackWebhookOptions {
  /** The incoming webhook URL (from Secrets Manager or an env var; see secrets.ts). */
  readonly url: string;
  /**
   * Attempts after the first one, on 429, 5xx and network errors.
   * @default 3
   */
  readonly retries?: number;
  /**
   * The first backoff when the server gives no Retry-After; doubled on each retry.
   * @default 1000
   */
  readonly baseDelayMs?: number;
  /**
   * The longest wait between two attempts, Retry-After included.
   * @default 30000
   */
  readonly maxDelayMs?: number;
  /**
   * Per-request timeout.
   * @default 10000
   */
  readonly timeoutMs?: number;
  /** How to wait between attempts (tests pass one that records the delays). @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** The Slack notifier, with what it did on its last `send` (for logs and tests). */
export type SlackNotifier = Extract<Notifier, { channel: 'slack' }> & {
  /** Delays waited before each retry of the last send, in ms. */
  readonly lastDelays: readonly number[];
};

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Retry-After as milliseconds: delta-seconds or an HTTP date; null when absent or unreadable. */
export function retryAfterMs(value: string | null, nowMs: number = Date.now()): number | null {
  if (value === null || value.trim() === '') return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - nowMs);
}

/**
 * A Notifier posting to a Slack incoming webhook.
 * @example
 * const slack = createSlackNotifier({ url: await secrets.get({ envVar: 'SLACK_WEBHOOK_URL' }) });
 * await deliverAlert(event, [slack], 'ja');
 */
export function createSlackNotifier(options: SlackWebhookOptions): SlackNotifier {
  const retries = options.retries ?? 3;
  const baseDelayMs = options.baseDelayMs ?? 1000;
  const maxDelayMs = options.maxDelayMs ?? 30_000;
  const sleep = options.sleep ?? realSleep;
  const url = options.url;
  let lastDelays: number[] = [];
  const scrub = (s: string) => (url ? s.split(url).join('[webhook URL]') : s);

  return {
    channel: 'slack',
    get lastDelays() {
      return lastDelays;
    },
    async send(message: SlackMessage): Promise<void> {
      const delays: number[] = [];
      lastDelays = delays;
      let lastRetryAfter: string | null = null;
      // A fetch that remembers Retry-After: the library's HTTP error does not carry headers.
      const fetchRecordingRetryAfter: FetchFunction = async (input, init) => {
        const response = await fetch(input, init as RequestInit);
        lastRetryAfter = response.headers.get('retry-after');
        return response;
      };
      const webhook = new IncomingWebhook(url, {
        fetch: fetchRecordingRetryAfter,
        timeout: options.timeoutMs ?? 10_000,
        retryConfig: { retries: 0 },
      });
      for (let attempt = 0; ; attempt++) {
        lastRetryAfter = null;
        let reason: string;
        let retryable: boolean;
        try {
          await webhook.send({ text: message.text, blocks: message.blocks });
          return;
        } catch (err) {
          if (err instanceof IncomingWebhookHTTPError) {
            reason = `Slack answered HTTP ${err.statusCode}${err.body ? ` (${err.body.slice(0, 200)})` : ''}`;
            retryable = err.statusCode === 429 || err.statusCode >= 500;
          } else {
            const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
            reason = `Slack webhook request failed: ${err instanceof Error ? err.message : String(err)}${cause}`;
            retryable = true;
          }
        }
        if (!retryable || attempt >= retries) {
          // The caller may retry later itself (the local outbox): tell it whether that can help, and when.
          throw new DeliveryError(scrub(`${reason}${attempt > 0 ? ` after ${attempt + 1} attempts` : ''}`), {
            retryAfterMs: retryAfterMs(lastRetryAfter),
            permanent: !retryable,
          });
        }
        const backoff = baseDelayMs * 2 ** attempt;
        const delay = Math.min(retryAfterMs(lastRetryAfter) ?? backoff, maxDelayMs);
        delays.push(delay);
        await sleep(delay);
      }
    },
  };
}
