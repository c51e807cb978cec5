/**
 * The report's charts as inline SVG text: no library, no script, nothing fetched. Pure
 * functions of plain numbers and labels; every label is escaped here.
 */

/** Escapes text for HTML/SVG content and attribute values. */
export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const num = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(1));

/** One cell of the timeline: a round and its colour class. */
export interface TimelineCell {
  /** CSS class of the cell (a status: ok, warning, critical, unknown). */
  readonly tone: 'ok' | 'warning' | 'critical' | 'unknown';
  /** Tooltip text (time and status). */
  readonly title: string;
}

/** Colours by tone, shared with the page's CSS. */
export const TONE_COLOURS = { ok: '#2e7d32', warning: '#f0a202', critical: '#c62828', unknown: '#8a8a8a' } as const;

/**
 * A row of squares, oldest left: the success timeline of one target.
 * @example timelineSvg([{ tone: 'ok', title: '09:00 OK' }], 'shop: success timeline')
 */
export function timelineSvg(cells: readonly TimelineCell[], label: string): string {
  const width = 800;
  const height = 26;
  const gap = 2;
  const cell = cells.length === 0 ? 0 : Math.min(16, (width - gap * (cells.length - 1)) / cells.length);
  const rects = cells.map((c, i) => {
    const x = i * (cell + gap);
    return `<rect x="${num(x)}" y="2" width="${num(cell)}" height="${height - 4}" rx="2" fill="${TONE_COLOURS[c.tone]}"><title>${esc(c.title)}</title></rect>`;
  });
  return `<svg class="chart timeline" role="img" aria-label="${esc(label)}" viewBox="0 0 ${width} ${height}" width="100%" height="${height}" preserveAspectRatio="xMinYMid meet" xmlns="http://www.w3.org/2000/svg">${rects.join('')}</svg>`;
}

/** One line of a line chart. */
export interface Series {
  readonly name: string;
  readonly colour: string;
  /** y per x index; null where the round has no value. */
  readonly values: readonly (number | null)[];
}

/** A round tick step (1, 2 or 5 times a power of ten) giving about four ticks up to `max`. */
function niceStep(max: number): number {
  if (max <= 0) return 5;
  const raw = max / 4;
  const pow = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * pow >= raw) return m * pow;
  return 10 * pow;
}

/**
 * A line chart of several series over the same x positions (rounds), with a y axis in `unit`
 * and up to three x labels (first, middle, last).
 * @example lineChartSvg([{ name: 'auth', colour: '#9467bd', values: [12, 15] }], ['09:00', '09:05'], 'ms', 'latency')
 */
export function lineChartSvg(series: readonly Series[], xLabels: readonly string[], unit: string, label: string): string {
  const width = 800;
  const height = 240;
  const left = 56;
  const right = 12;
  const top = 24;
  const bottom = 28;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const n = xLabels.length;
  const highest = Math.max(0, ...series.flatMap((s) => s.values.filter((v): v is number => v !== null)));
  const step = niceStep(highest);
  const ticksY = Math.max(1, Math.ceil(highest / step));
  const max = step * ticksY;
  const x = (i: number) => left + (n <= 1 ? plotW / 2 : (i / (n - 1)) * plotW);
  const y = (v: number) => top + plotH - (v / max) * plotH;
  const parts: string[] = [];
  for (let k = 0; k <= ticksY; k++) {
    const v = step * k;
    parts.push(`<line class="grid" x1="${left}" x2="${width - right}" y1="${num(y(v))}" y2="${num(y(v))}" stroke="#ddd" stroke-width="1"/>`);
    parts.push(`<text x="${left - 6}" y="${num(y(v) + 4)}" text-anchor="end" font-size="11" fill="#555">${esc(num(v))}</text>`);
  }
  parts.push(`<text x="${left - 6}" y="12" text-anchor="end" font-size="11" fill="#555">${esc(unit)}</text>`);
  const ticks = n <= 1 ? [0] : [...new Set([0, Math.floor((n - 1) / 2), n - 1])];
  for (const i of ticks) {
    const anchor = n <= 1 ? 'middle' : i === 0 ? 'start' : i === n - 1 ? 'end' : 'middle';
    parts.push(`<text x="${num(x(i))}" y="${height - 8}" text-anchor="${anchor}" font-size="11" fill="#555">${esc(xLabels[i] ?? '')}</text>`);
  }
  for (const s of series) {
    const points = s.values.map((v, i) => (v === null ? null : `${num(x(i))},${num(y(v))}`));
    // A gap (a round without this step) breaks the line.
    let run: string[] = [];
    const flush = () => {
      if (run.length > 1) parts.push(`<polyline fill="none" stroke="${esc(s.colour)}" stroke-width="2" points="${run.join(' ')}"/>`);
      run = [];
    };
    for (const p of points) {
      if (p === null) flush();
      else run.push(p);
    }
    flush();
    s.values.forEach((v, i) => {
      if (v !== null) {
        parts.push(`<circle cx="${num(x(i))}" cy="${num(y(v))}" r="2.5" fill="${esc(s.colour)}"><title>${esc(`${s.name} ${xLabels[i] ?? ''}: ${num(v)} ${unit}`)}</title></circle>`);
      }
    });
  }
  return `<svg class="chart line" role="img" aria-label="${esc(label)}" viewBox="0 0 ${width} ${height}" width="100%" xmlns="http://www.w3.org/2000/svg">${parts.join('')}</svg>`;
}

/** One bar of a bar chart. */
export interface Bar {
  readonly label: string;
  readonly value: number;
  readonly colour: string;
}

/**
 * Horizontal bars, one per row, with the label on the left and the count on the right.
 * @example barChartSvg([{ label: 'mailboxfull', value: 3, colour: '#f0a202' }], 'bounces by reason')
 */
export function barChartSvg(bars: readonly Bar[], label: string): string {
  const width = 800;
  const row = 26;
  const labelW = 300;
  const countW = 48;
  const height = Math.max(1, bars.length) * row + 4;
  const max = Math.max(1, ...bars.map((b) => b.value));
  const parts = bars.map((b, i) => {
    const y = i * row + 4;
    const w = ((width - labelW - countW) * b.value) / max;
    return (
      `<text x="${labelW - 8}" y="${y + 15}" text-anchor="end" font-size="12" fill="#222">${esc(b.label)}</text>` +
      `<rect x="${labelW}" y="${y + 2}" width="${num(Math.max(2, w))}" height="${row - 8}" rx="2" fill="${esc(b.colour)}"><title>${esc(`${b.label}: ${b.value}`)}</title></rect>` +
      `<text x="${num(labelW + Math.max(2, w) + 6)}" y="${y + 15}" font-size="12" fill="#222">${b.value}</text>`
    );
  });
  return `<svg class="chart bars" role="img" aria-label="${esc(label)}" viewBox="0 0 ${width} ${height}" width="100%" xmlns="http://www.w3.org/2000/svg">${parts.join('')}</svg>`;
}
