/**
 * Matching a returned message to the canary that caused it. A canary carries its id three
 * ways (README, "Reading bounces"): the VERP envelope sender `bounce+<id>@<bounceDomain>`,
 * `Message-ID: <<id>@mail-health>` and `X-Mail-Health-Canary: <id>`. Remote MTAs return
 * different parts, so every one is looked for.
 */
import type { CanaryRecipientLookup, Store } from '../ports.ts';
import type { MessageHeader } from './message.ts';

const ULID = '[0-9A-HJKMNP-TV-Z]{26}';
const VERP = new RegExp(String.raw`\bbounce\+(${ULID})@`, 'i');
const CANARY_HEADER = new RegExp(String.raw`^x-mail-health-canary:[ \t]*<?(${ULID})>?`, 'im');
const CANARY_MESSAGE_ID = new RegExp(String.raw`<(${ULID})@mail-health>`, 'i');

// What each of the three forms contains: a text without it names no canary.
const MAY_NAME_CANARY = /mail-health|bounce\+/i;

// Headers of the bounce that carry its envelope recipient (the VERP sender of the canary).
const ENVELOPE_HEADERS = ['to', 'delivered-to', 'x-original-to', 'envelope-to', 'x-envelope-to', 'x-rcpt-to', 'return-path'];

/** The canary id in the envelope recipient of a bounce (its VERP token), or null. */
export function canaryIdFromEnvelope(headers: readonly MessageHeader[]): string | null {
  for (let i = 0; i < headers.length; i++) {
    const h = headers[i]!;
    if (!ENVELOPE_HEADERS.includes(h.name)) continue;
    const m = VERP.exec(h.value);
    if (m) return m[1]!.toUpperCase();
  }
  return null;
}

/**
 * The canary id in a returned original (its headers, or the whole text of a report):
 * `X-Mail-Health-Canary`, then `Message-ID <id@mail-health>`, then a VERP Return-Path.
 */
export function canaryIdFromText(text: string): string | null {
  // Cheap substring checks first: these texts can be megabytes of returned message, and most
  // hold no canary at all (one scan says so).
  if (!MAY_NAME_CANARY.test(text)) return null;
  const header = /mail-health-canary/i.test(text) ? CANARY_HEADER.exec(text) : null;
  if (header) return header[1]!.toUpperCase();
  const mid = /@mail-health>/i.test(text) ? CANARY_MESSAGE_ID.exec(text) : null;
  if (mid) return mid[1]!.toUpperCase();
  const verp = /bounce\+/i.test(text) ? VERP.exec(text) : null;
  return verp ? verp[1]!.toUpperCase() : null;
}

/**
 * {@link canaryIdFromText} of the texts joined by line breaks, without joining them when none
 * of them can name a canary (the usual case).
 */
export function canaryIdFromTexts(texts: readonly string[]): string | null {
  return texts.some((t) => MAY_NAME_CANARY.test(t)) ? canaryIdFromText(texts.join('\n')) : null;
}

/** The canary id a message itself carries as a delivered canary (its own headers), or null. */
export function canaryIdOfMessage(headers: readonly MessageHeader[]): string | null {
  for (const h of headers) {
    if (h.name === 'x-mail-health-canary') {
      const m = new RegExp(`^<?(${ULID})>?$`, 'i').exec(h.value.trim());
      if (m) return m[1]!.toUpperCase();
    }
  }
  for (const h of headers) {
    if (h.name === 'message-id') {
      const m = CANARY_MESSAGE_ID.exec(h.value);
      if (m) return m[1]!.toUpperCase();
    }
  }
  return null;
}

// How far back a target's rounds are searched for a canary (a day of rounds every 5 minutes):
// a report that names no recipient comes back within hours.
const ROUNDS_SEARCHED = 288;

/**
 * The canary record lookup of {@link analyzeBounce}'s `canaryRecipients`, over the state store:
 * the canary's record gives its target, and that target's round with the canary's id lists the
 * recipients the provider accepted (the canary record itself keeps only the bounce domain's own
 * mailboxes). Null for an unknown canary.
 * @example analyzeBounce(bytes, { parse, canaryRecipients: canaryRecipientsFromStore(store) })
 */
export function canaryRecipientsFromStore(store: Pick<Store, 'getCanary' | 'listRounds'>): CanaryRecipientLookup {
  return async (canaryId) => {
    const canary = await store.getCanary(canaryId.toUpperCase());
    if (!canary) return null;
    const rounds = await store.listRounds(canary.target, ROUNDS_SEARCHED);
    const round = rounds.find((r) => r.canaryId.toUpperCase() === canary.id.toUpperCase());
    const accepted = round?.steps.filter((s) => s.step === 'rcpt' && s.ok && s.recipient !== undefined).map((s) => s.recipient!) ?? [];
    return accepted.length ? accepted : canary.recipients;
  };
}
