import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SESClient } from '@aws-sdk/client-ses';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRuleSetHandler } from '../../functions/ses-rule-set/index.ts';

/**
 * A stand-in for the two SES v1 (Query protocol) actions the handler calls: it keeps the active
 * rule set name and records every request's parameters.
 */
function sesStandIn(initiallyActive: string | undefined) {
  const state = { active: initiallyActive, requests: [] as Record<string, string>[] };
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      const params = Object.fromEntries(new URLSearchParams(body));
      state.requests.push(params);
      const ns = 'http://ses.amazonaws.com/doc/2010-12-01/';
      const meta = '<ResponseMetadata><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ResponseMetadata>';
      res.setHeader('content-type', 'text/xml');
      if (params.Action === 'DescribeActiveReceiptRuleSet') {
        const metadata = state.active ? `<Metadata><Name>${state.active}</Name><CreatedTimestamp>2025-01-01T00:00:00Z</CreatedTimestamp></Metadata>` : '';
        res.end(`<DescribeActiveReceiptRuleSetResponse xmlns="${ns}"><DescribeActiveReceiptRuleSetResult>${metadata}<Rules/></DescribeActiveReceiptRuleSetResult>${meta}</DescribeActiveReceiptRuleSetResponse>`);
      } else if (params.Action === 'SetActiveReceiptRuleSet') {
        state.active = params.RuleSetName;
        res.end(`<SetActiveReceiptRuleSetResponse xmlns="${ns}"><SetActiveReceiptRuleSetResult/>${meta}</SetActiveReceiptRuleSetResponse>`);
      } else {
        res.statusCode = 400;
        res.end(`<ErrorResponse xmlns="${ns}"><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>${params.Action}</Message></Error>${meta}</ErrorResponse>`);
      }
    });
  });
  return { server, state };
}

let server: Server;
let state: ReturnType<typeof sesStandIn>['state'];
let client: SESClient;

async function start(active: string | undefined): Promise<void> {
  ({ server, state } = sesStandIn(active));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  client = new SESClient({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
    requestHandler: { requestTimeout: 5_000 },
  });
}

beforeEach(() => {
  state = { active: undefined, requests: [] };
});

afterEach(async () => {
  client?.destroy();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
});

describe('ses-rule-set handler', () => {
  it('activates the rule set on create and names it as the physical id', async () => {
    // Prepare
    await start('someone-elses-set');
    const handler = createRuleSetHandler(client);
    // Act
    const result = await handler({ RequestType: 'Create', ResourceProperties: { RuleSetName: 'MailHealthStack-bounce-intake' } });
    // Assess
    expect(result).toEqual({ PhysicalResourceId: 'MailHealthStack-bounce-intake' });
    expect(state.active).toBe('MailHealthStack-bounce-intake');
  });

  it('activates the new name on update', async () => {
    // Prepare
    await start('old-set');
    const handler = createRuleSetHandler(client);
    // Act
    const result = await handler({ RequestType: 'Update', PhysicalResourceId: 'old-set', ResourceProperties: { RuleSetName: 'new-set' } });
    // Assess
    expect(result.PhysicalResourceId).toBe('new-set');
    expect(state.active).toBe('new-set');
  });

  it('deactivates on delete when the rule set is still the active one', async () => {
    // Prepare
    await start('MailHealthStack-bounce-intake');
    const handler = createRuleSetHandler(client);
    // Act
    await handler({ RequestType: 'Delete', PhysicalResourceId: 'MailHealthStack-bounce-intake', ResourceProperties: {} });
    // Assess
    expect(state.active).toBeUndefined();
    expect(state.requests.map((r) => r.Action)).toEqual(['DescribeActiveReceiptRuleSet', 'SetActiveReceiptRuleSet']);
    expect(state.requests[1]).not.toHaveProperty('RuleSetName');
  });

  it('leaves another active rule set alone on delete', async () => {
    // Prepare
    await start('the-operators-set');
    const handler = createRuleSetHandler(client);
    // Act
    await handler({ RequestType: 'Delete', PhysicalResourceId: 'MailHealthStack-bounce-intake', ResourceProperties: {} });
    // Assess
    expect(state.active).toBe('the-operators-set');
    expect(state.requests.map((r) => r.Action)).toEqual(['DescribeActiveReceiptRuleSet']);
  });

  it('refuses a create without a rule set name', async () => {
    // Prepare
    await start(undefined);
    const handler = createRuleSetHandler(client);
    // Act / Assess
    await expect(handler({ RequestType: 'Create', ResourceProperties: {} })).rejects.toThrow('the RuleSetName property must be a non-empty string');
    expect(state.requests).toEqual([]);
  });
});
