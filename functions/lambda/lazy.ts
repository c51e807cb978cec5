/**
 * Deferred construction for Lambda globals: built on first use inside an invocation (so a
 * handler's cold start does not pay for clients a code path may never need), then kept for
 * the warm invocations that follow.
 */

/** `make()` on the first call, the same value afterwards. */
export function once<T>(make: () => T): () => T {
  let made = false;
  let value: T;
  return () => {
    if (!made) {
      value = make();
      made = true;
    }
    return value;
  };
}

/** `make()` on the first call, the same promise afterwards; a rejection is retried next time. */
export function onceAsync<T>(make: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    if (pending === undefined) {
      const p = make();
      pending = p;
      p.catch(() => {
        if (pending === p) pending = undefined;
      });
    }
    return pending;
  };
}
