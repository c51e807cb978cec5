import { SESv2Client } from '@aws-sdk/client-sesv2';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSesEmailNotifier } from '#adapters/ses-email.ts';
import { formatEmail } from '#core/alert/email.ts';
import type { AlertEvent } from '#core/alert/event.ts';
import { DeliveryError } from '#core/errors.ts';
import { advanceHealth, initialHealthState } from '#core/health/state.ts';
import { at, canaryAt, round, T0 } from '../helpers/alert-fixtures.ts';
import { startHttpCapture } from '../helpers/http-capture.ts';
import { startSesLocal, type SesLocalHandle } from '../helpers/ses-local.ts';

function failing(): AlertEvent {
  const step = advanceHealth(initialHealthState('shop'), round('critical', at(0), { canaryId: canaryAt(0) }), {
    now: new Date(T0 + 10_000),
    thresholds: { failureThreshold: 1, recoveryThreshold: 1, reminderMinutes: 0 },
    newIncidentId: () => '01KE5R0000INCIDENT0000000A',
  });
  if (step.kind !== 'applied' || !step.events[0]) throw new Error('an alert was expected');
  return step.events[0];
}

describe('createSesEmailNotifier', () => {
  let ses: SesLocalHandle;
  beforeAll(async () => {
    ses = await startSesLocal();
  });
  afterAll(async () => {
    await ses.close();
  });
  beforeEach(async () => {
    await ses.clear();
  });

  it('sends the alert from the configured sender with subject, text and HTML in UTF-8', async () => {
    // Prepare
    const message = formatEmail(failing(), 'ja');
    const email = createSesEmailNotifier({ client: ses.client, from: 'monitor@example.jp', to: ['owner@example.jp', 'it@example.jp'] });

    // Act
    await email.send(message);

    // Assess
    const sent = await ses.emails();
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({
      from: 'monitor@example.jp',
      destination: { to: ['owner@example.jp', 'it@example.jp'], cc: [], bcc: [] },
      subject: '[mail-health] 障害 shop: AUTH_FAILED @ 認証 (AUTH)',
      body: { text: message.text, html: message.html },
    });
  });

  it('reports a refused send as a DeliveryError with the reason', async () => {
    // Prepare: an endpoint answering every call with an SES-style 400
    const refusing = await startHttpCapture(() => ({
      status: 400,
      headers: { 'content-type': 'application/json', 'x-amzn-errortype': 'MessageRejected' },
      body: JSON.stringify({ message: 'Email address is not verified.' }),
    }));
    const client = new SESv2Client({
      endpoint: refusing.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    });

    try {
      // Act
      const error = await createSesEmailNotifier({ client, from: 'monitor@example.jp', to: ['owner@example.jp'] })
        .send(formatEmail(failing(), 'en'))
        .catch((e: unknown) => e);

      // Assess
      expect(error).toBeInstanceOf(DeliveryError);
      expect((error as DeliveryError).message).toBe('SES did not take the alert email (MessageRejected: Email address is not verified.)');
    } finally {
      client.destroy();
      await refusing.close();
    }
  });
});
