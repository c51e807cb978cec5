import { describe, expect, it } from 'vitest';
import { canaryIdFromEnvelope, canaryIdFromText, canaryIdOfMessage } from '#core/bounce/canary.ts';
import { newCanaryId, verpSender } from '#core/canary-id.ts';

const ID = newCanaryId(Date.parse('2025-04-01T00:00:00Z'), new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]));

describe('canary matching', () => {
  it('finds the id in the VERP envelope recipient of a bounce', () => {
    // Prepare
    const headers = [{ name: 'to', value: `<${verpSender(ID, 'bounces.example.jp')}>` }];
    // Act / Assess
    expect(canaryIdFromEnvelope(headers)).toBe(ID);
  });

  it('accepts a VERP address some MTA lower-cased', () => {
    const headers = [{ name: 'delivered-to', value: verpSender(ID, 'bounces.example.jp').toLowerCase() }];
    expect(canaryIdFromEnvelope(headers)).toBe(ID);
  });

  it('finds the id in a returned original by header, then Message-ID', () => {
    expect(canaryIdFromText(`From: shop@example.jp\nX-Mail-Health-Canary: ${ID}\n`)).toBe(ID);
    expect(canaryIdFromText(`Message-ID: <${ID}@mail-health>\nSubject: x\n`)).toBe(ID);
  });

  it('says null when nothing carries an id', () => {
    expect(canaryIdFromEnvelope([{ name: 'to', value: 'shop@example.jp' }])).toBeNull();
    expect(canaryIdFromText('Message-ID: <abc@example.jp>\n')).toBeNull();
    expect(canaryIdOfMessage([{ name: 'message-id', value: '<abc@example.jp>' }])).toBeNull();
  });

  it('does not take an id-like token from an unrelated Message-ID', () => {
    expect(canaryIdFromText(`Message-ID: <${ID}@example.jp>\n`)).toBeNull();
  });

  it('recognizes a delivered canary by its own headers', () => {
    expect(canaryIdOfMessage([{ name: 'x-mail-health-canary', value: ID }])).toBe(ID);
    expect(canaryIdOfMessage([{ name: 'message-id', value: `<${ID.toLowerCase()}@mail-health>` }])).toBe(ID);
  });
});
