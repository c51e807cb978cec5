/**
 * An alert as an email: subject, plain text and HTML. Pure.
 * Everything from outside is HTML-escaped in the HTML part; the subject is one line.
 */
import type { Language } from '../findings.ts';
import type { AlertEvent } from './event.ts';
import { alertGroupView } from './group.ts';
import { alertView, displayWidth, type AlertTone, type AlertView, type FormatOptions } from './view.ts';

/** An alert email: a one-line subject, a plain-text body and an HTML body. */
export interface EmailMessage {
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

// A subject is a header: a CR or LF in it would start a new header.
const oneLine = (s: string) => s.replace(/[\r\n]+/g, ' ').trim();

const TONE_COLOUR: Record<AlertTone, string> = { critical: '#c0392b', warning: '#b7791f', ok: '#2f855a', neutral: '#4a5568' };

/**
 * Formats an alert for email.
 * @example const { subject, text, html } = formatEmail(event, 'en');
 */
export function formatEmail(event: AlertEvent, lang: Language, options: FormatOptions = {}): EmailMessage {
  return emailOfView(alertView(event, lang, options));
}

/**
 * Formats one post of alerts as an email: one alert as formatEmail does, several health alerts
 * of one destination as one email naming the targets (functions/core/alert/group.ts).
 * @example await emailNotifier.send(formatEmailPost(post.events, post.language));
 */
export function formatEmailPost(events: readonly AlertEvent[], lang: Language, options: FormatOptions = {}): EmailMessage {
  return emailOfView(alertGroupView(events, lang, options));
}

function emailOfView(view: AlertView): EmailMessage {
  const subject = oneLine(view.subject);

  const text: string[] = [`${view.emoji} ${view.title}`, '', view.summary, ''];
  const labelWidth = Math.max(...view.facts.map(([label]) => displayWidth(label)));
  for (const [label, value] of view.facts) {
    // A fact of several lines (a digest's counts) keeps its lines under the value column.
    const [first, ...more] = value.split('\n');
    text.push(`${label}:${' '.repeat(labelWidth - displayWidth(label) + 1)}${first}`, ...more.map((l) => `${' '.repeat(labelWidth + 2)}${l}`));
  }
  for (const list of view.lists ?? []) text.push('', list.heading, '-'.repeat(20), ...list.lines.map((l) => `- ${l}`));
  if (view.causes.length > 0) {
    text.push('', view.causesHeading, '-'.repeat(20));
    for (const c of view.causes) {
      const where = [c.step, c.recipient].filter((x): x is string => x !== null);
      text.push(`[${c.code}]${where.length ? ` ${where.join(' · ')}` : ''}`, c.message);
      if (c.reply) text.push(`  ${view.labels.reply}: ${c.reply}`);
      text.push(`  ${view.labels.remedy}: ${c.remedy}`, '');
    }
    if (view.moreCauses) text.push(view.moreCauses, '');
    text.pop();
  }
  if (view.steps.length > 0) text.push('', view.stepsHeading, '-'.repeat(20), ...view.steps);
  text.push('', '-- ', view.footer, '');

  const colour = TONE_COLOUR[view.tone];
  const h = escapeHtml;
  const html: string[] = [
    '<!doctype html>',
    `<html lang="${view.lang}"><head><meta charset="utf-8"><title>${h(subject)}</title></head>`,
    '<body style="font-family:sans-serif;color:#1a202c;line-height:1.5">',
    `<h2 style="color:${colour};margin:0 0 8px">${h(view.emoji)} ${h(view.title)}</h2>`,
    `<p>${h(view.summary).replace(/\n/g, '<br>')}</p>`,
    '<table style="border-collapse:collapse">',
    ...view.facts.map(
      ([label, value]) =>
        `<tr><th style="text-align:left;padding:2px 12px 2px 0;vertical-align:top">${h(label)}</th><td style="padding:2px 0">${h(value).replace(/\n/g, '<br>')}</td></tr>`,
    ),
    '</table>',
  ];
  for (const list of view.lists ?? []) {
    html.push(`<h3>${h(list.heading)}</h3>`, '<ul>', ...list.lines.map((l) => `<li>${h(l)}</li>`), '</ul>');
  }
  if (view.causes.length > 0) {
    html.push(`<h3>${h(view.causesHeading)}</h3>`);
    for (const c of view.causes) {
      const where = [c.step, c.recipient].filter((x): x is string => x !== null);
      html.push(
        `<div style="border-left:4px solid ${TONE_COLOUR[c.severity === 'critical' ? 'critical' : c.severity === 'warning' ? 'warning' : 'neutral']};padding:4px 12px;margin:8px 0">`,
        `<p style="margin:0"><strong>${h(c.code)}</strong>${where.length ? ` · ${h(where.join(' · '))}` : ''}</p>`,
        `<p style="margin:4px 0">${h(c.message)}</p>`,
        ...(c.reply ? [`<p style="margin:4px 0">${h(view.labels.reply)}: <code>${h(c.reply)}</code></p>`] : []),
        `<p style="margin:4px 0"><strong>${h(view.labels.remedy)}:</strong> ${h(c.remedy)}</p>`,
        '</div>',
      );
    }
    if (view.moreCauses) html.push(`<p>${h(view.moreCauses)}</p>`);
  }
  if (view.steps.length > 0) {
    html.push(`<h3>${h(view.stepsHeading)}</h3>`, `<pre style="background:#f7fafc;padding:8px">${h(view.steps.join('\n'))}</pre>`);
  }
  html.push(`<p style="color:#718096;font-size:12px">${h(view.footer)}</p>`, '</body></html>', '');

  return { subject, text: text.join('\n'), html: html.join('\n') };
}
