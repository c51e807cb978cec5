/**
 * Just enough of CloudWatch Logs Insights to check a dashboard table against real log lines:
 * a JSON line's discovered fields (nested keys joined with dots, list items by index: `dkim.0`),
 * the `filter message = '…'` and the `fields` clause of a query, with `coalesce` and `as`.
 */

/** The fields Logs Insights discovers in a JSON log line. */
export function discoveredFields(line: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const walk = (value: unknown, at: string) => {
    if (value !== null && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) walk(v, at === '' ? k : `${at}.${k}`);
    } else out[at] = value;
  };
  walk(line, '');
  return out;
}

/** Splits at commas outside parentheses and quotes. */
function splitTop(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "'") quote = !quote;
    else if (!quote && c === '(') depth++;
    else if (!quote && c === ')') depth--;
    else if (!quote && depth === 0 && c === ',') {
      parts.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(text.slice(start).trim());
  return parts;
}

function evaluate(expr: string, fields: Record<string, unknown>): unknown {
  const literal = /^'(.*)'$/.exec(expr);
  if (literal) return literal[1];
  const call = /^(\w+)\((.*)\)$/.exec(expr);
  if (call) {
    if (call[1] !== 'coalesce') throw new Error(`logs-insights: no model of ${call[1]}()`);
    for (const arg of splitTop(call[2]!)) {
      const v = evaluate(arg, fields);
      if (v !== undefined && v !== null) return v;
    }
    return undefined;
  }
  return fields[expr];
}

/**
 * The rows a table query shows for these log lines: the lines its `filter message = '…'` keeps,
 * each as the columns of its `fields` clause (a column is named by its `as`, else its field).
 */
export function tableRows(query: string, lines: readonly Record<string, unknown>[]): Record<string, unknown>[] {
  const message = /filter message = '([^']*)'/.exec(query)?.[1];
  const clause = /\| fields (.*)/.exec(query)?.[1];
  if (message === undefined || clause === undefined) throw new Error(`logs-insights: no filter message or fields clause in ${query}`);
  const columns = splitTop(clause).map((item) => {
    const named = /^(.*) as (\w+)$/.exec(item);
    return { name: named ? named[2]! : item, expr: named ? named[1]!.trim() : item };
  });
  return lines
    .filter((l) => l.message === message)
    .map((l) => {
      const fields = { ...discoveredFields(l), '@timestamp': l.timestamp };
      return Object.fromEntries(columns.map((c) => [c.name, evaluate(c.expr, fields)]));
    });
}
