/**
 * An alert as a Slack Block Kit message for an incoming webhook. Pure.
 * Every text from outside (findings, server replies, addresses) is escaped for mrkdwn, so a
 * reply containing `<!channel>` or `<http://x|y>` shows as text instead of pinging or linking.
 */
import type { Language } from '../findings.ts';
import type { AlertEvent } from './event.ts';
import { alertGroupView } from './group.ts';
import { alertView, type AlertView, type FormatOptions } from './view.ts';

/** A Block Kit text object. */
export interface SlackText {
  type: 'mrkdwn' | 'plain_text';
  text: string;
}

/** The Block Kit blocks this formatter emits (a subset of Slack's KnownBlock). */
export type SlackBlock =
  | { type: 'header'; text: { type: 'plain_text'; text: string; emoji: boolean } }
  | { type: 'section'; text: SlackText }
  | { type: 'section'; fields: SlackText[] }
  | { type: 'divider' }
  | { type: 'context'; elements: SlackText[] };

/** The webhook payload: `text` is the notification fallback, `blocks` the message. */
export interface SlackMessage {
  text: string;
  blocks: SlackBlock[];
}

// Slack's documented limits; longer texts make the whole webhook call fail with 400.
const HEADER_MAX = 150;
const SECTION_MAX = 3000;
const FIELD_MAX = 2000;
const FIELDS_MAX = 10;

/** Escapes the three characters Slack's mrkdwn treats as control characters. */
export function escapeMrkdwn(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function clip(s: string, max: number): string {
  const chars = [...s];
  return chars.length <= max ? s : `${chars.slice(0, max - 1).join('')}…`;
}

const mrkdwn = (text: string, max = SECTION_MAX): SlackText => ({ type: 'mrkdwn', text: clip(text, max) });

/**
 * Formats an alert for Slack.
 * @example await slackNotifier.send(formatSlack(event, 'ja'));
 */
export function formatSlack(event: AlertEvent, lang: Language, options: FormatOptions = {}): SlackMessage {
  return slackOfView(alertView(event, lang, options));
}

/**
 * Formats one post of alerts for Slack: one alert as formatSlack does, several health alerts of
 * one destination as one message naming the targets (functions/core/alert/group.ts).
 * @example await slackNotifier.send(formatSlackPost(post.events, post.language));
 */
export function formatSlackPost(events: readonly AlertEvent[], lang: Language, options: FormatOptions = {}): SlackMessage {
  return slackOfView(alertGroupView(events, lang, options));
}

/** Lines as sections of at most SECTION_MAX characters, the heading on the first. */
function listSections(heading: string, lines: readonly string[]): SlackBlock[] {
  const sections: SlackBlock[] = [];
  let text = `*${escapeMrkdwn(heading)}*`;
  for (const line of lines) {
    const item = `• ${clip(escapeMrkdwn(line), SECTION_MAX - 10)}`;
    if (text.length + 1 + item.length > SECTION_MAX) {
      sections.push({ type: 'section', text: mrkdwn(text) });
      text = item;
    } else text = `${text}\n${item}`;
  }
  sections.push({ type: 'section', text: mrkdwn(text) });
  return sections;
}

function slackOfView(view: AlertView): SlackMessage {
  const blocks: SlackBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: clip(`${view.emoji} ${view.title}`, HEADER_MAX), emoji: true } },
    { type: 'section', text: mrkdwn(escapeMrkdwn(view.summary)) },
    {
      type: 'section',
      fields: view.facts.slice(0, FIELDS_MAX).map(([label, value]) => mrkdwn(`*${escapeMrkdwn(label)}*\n${escapeMrkdwn(value)}`, FIELD_MAX)),
    },
  ];
  for (const list of view.lists ?? []) blocks.push(...listSections(list.heading, list.lines));
  if (view.causes.length > 0) {
    blocks.push({ type: 'divider' }, { type: 'section', text: mrkdwn(`*${escapeMrkdwn(view.causesHeading)}*`) });
    for (const c of view.causes) {
      const where = [c.step, c.recipient].filter((x): x is string => x !== null).map(escapeMrkdwn);
      const lines = [
        `*${c.code}*${where.length ? ` · ${where.join(' · ')}` : ''}`,
        escapeMrkdwn(c.message),
        ...(c.reply ? [`> ${escapeMrkdwn(c.reply.replace(/\s+/g, ' '))}`] : []),
        `*${escapeMrkdwn(view.labels.remedy)}:* ${escapeMrkdwn(c.remedy)}`,
      ];
      blocks.push({ type: 'section', text: mrkdwn(lines.join('\n')) });
    }
    if (view.moreCauses) blocks.push({ type: 'context', elements: [mrkdwn(escapeMrkdwn(view.moreCauses))] });
  }
  if (view.steps.length > 0) {
    blocks.push({
      type: 'section',
      text: mrkdwn(`*${escapeMrkdwn(view.stepsHeading)}*\n\`\`\`${clip(escapeMrkdwn(view.steps.join('\n')), SECTION_MAX - 100)}\`\`\``),
    });
  }
  blocks.push({ type: 'context', elements: [mrkdwn(escapeMrkdwn(view.footer))] });
  return { text: clip(escapeMrkdwn(`${view.emoji} ${view.title}\n${view.summary}`), SECTION_MAX), blocks };
}
