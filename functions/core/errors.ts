/**
 * Exceptions are for bugs and bad configuration only; expected outcomes (a 550, a timeout,
 * a bounce) are values. Every error carries a closed `code` so callers can branch on it.
 */
export type MailHealthErrorCode = 'CONFIG_INVALID' | 'USAGE' | 'INPUT_UNREADABLE' | 'STATE_CORRUPT' | 'DELIVERY_FAILED';

const ERROR_CODES: ReadonlySet<string> = new Set<MailHealthErrorCode>(['CONFIG_INVALID', 'USAGE', 'INPUT_UNREADABLE', 'STATE_CORRUPT', 'DELIVERY_FAILED']);

/**
 * The code of a mail-health error, or undefined for anything else (a bug, a system error).
 * Recognises the error by its `code`, not by its class: the built CLI has one copy of these
 * classes per command file, and an error thrown in a command's file is not an `instanceof` the
 * entry's copy (nor is its class name reliable: the bundler may rename it). Node's own errors
 * carry codes too (`ENOENT`), but none of the closed list.
 * @example mailHealthErrorCode(new UsageError('x')) // 'USAGE'
 */
export function mailHealthErrorCode(err: unknown): MailHealthErrorCode | undefined {
  if (!(err instanceof Error)) return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && ERROR_CODES.has(code) ? (code as MailHealthErrorCode) : undefined;
}

export class MailHealthError extends Error {
  readonly code: MailHealthErrorCode = 'CONFIG_INVALID';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A config file or value that cannot be used; the message names the field. */
export class ConfigError extends MailHealthError {
  override readonly code = 'CONFIG_INVALID' as const;
  constructor(
    message: string,
    /** Dotted path of the offending field, e.g. `targets[0].port`. */
    readonly field?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Wrong command-line usage. */
export class UsageError extends MailHealthError {
  override readonly code = 'USAGE' as const;
}

/** An input file that cannot be read at all (not: a malformed message, which is a result). */
export class InputError extends MailHealthError {
  override readonly code = 'INPUT_UNREADABLE' as const;
}

/** Stored state that cannot be parsed. */
export class StateError extends MailHealthError {
  override readonly code = 'STATE_CORRUPT' as const;
}

/** An alert channel that failed after its retries. */
export class DeliveryError extends MailHealthError {
  override readonly code = 'DELIVERY_FAILED' as const;
  /** How long the channel asked to wait before the next try (HTTP Retry-After); null when it did not say. */
  readonly retryAfterMs: number | null;
  /** True when trying again cannot help (a revoked webhook, a malformed message). */
  readonly permanent: boolean;
  constructor(message: string, options?: { cause?: unknown; retryAfterMs?: number | null; permanent?: boolean }) {
    super(message, options);
    this.retryAfterMs = options?.retryAfterMs ?? null;
    this.permanent = options?.permanent ?? false;
  }
}
