/**
 * The report's server-drawn chart (bounces by reason) as inline SVG text, and the escaping every
 * part of the page uses. The targets' timelines and line charts are drawn by the page's script
 * (script.ts) from the numbers the page carries. Pure; every label is escaped here.
 */

/** Escapes text for HTML/SVG content and attribute values. */
export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const num = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(1));

/** Colours by tone, shared with the page's CSS. */
export const TONE_COLOURS = { ok: '#2e7d32', warning: '#f0a202', critical: '#c62828', unknown: '#8a8a8a' } as const;

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
