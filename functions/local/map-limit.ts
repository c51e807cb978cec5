/**
 * Runs an async function over many items a few at a time: the report and `status` read
 * hundreds of targets without holding all their files (or all their history) at once.
 */

/**
 * Maps `items` through `fn`, at most `limit` at once, keeping their order in the result.
 * @example const rows = await mapLimit(names, 16, (name) => readRow(name));
 */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker));
  return out;
}
