/**
 * The ports of the core: every outside system the core needs, as an interface or a plain
 * function type. Adapters in functions/adapters implement them; tests pass declarative fakes.
 */
import type { PortState } from './results.ts';

/** The current time. The core never reads the clock itself. */
export type Clock = () => Date;

/** Random bytes (canary ids, incident ids). */
export type RandomSource = (length: number) => Uint8Array;

/**
 * DNS lookups, shaped like a resolver function: resolves to the records or rejects with an
 * error whose `code` is ENOTFOUND / ENODATA like node:dns.
 */
export type Resolver = {
  (name: string, rrtype: 'MX'): Promise<{ exchange: string; priority: number }[]>;
  (name: string, rrtype: 'A' | 'AAAA'): Promise<string[]>;
};

/** Probes one TCP port: open only when the service greets (SMTP banner, or TLS on 465). */
export type PortProber = (
  host: string,
  port: number,
  options: { readonly timeoutMs: number; readonly implicitTls: boolean },
) => Promise<PortState>;

/** The raw bytes of a stored message (S3 object, file on disk). */
export type RawMailSource = (ref: string) => Promise<Uint8Array>;

/** Where metrics go (EMF in Lambda, nowhere or the history locally). */
export interface MetricsSink {
  add(name: string, value: number, unit: 'Count' | 'Milliseconds' | 'Seconds' | 'None', dimensions?: Record<string, string>): void;
}
