/**
 * The custom resource behind `activateRuleSet` (lib/bounce-intake.ts), run by the CDK Provider
 * framework: makes the bounce receipt rule set the account's active one, and on delete
 * deactivates it only when it is still the active one (the operator may have switched since).
 */
import { DescribeActiveReceiptRuleSetCommand, SESClient, SetActiveReceiptRuleSetCommand } from '@aws-sdk/client-ses';

/** The AWS calls this module makes, each with the IAM action it needs. */
export const AWS_CALLS = {
  DescribeActiveReceiptRuleSetCommand: ['ses:DescribeActiveReceiptRuleSet'],
  SetActiveReceiptRuleSetCommand: ['ses:SetActiveReceiptRuleSet'],
} as const;

/** The part of the CloudFormation custom resource event this handler reads. */
export interface RuleSetEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  /** Set on Update and Delete: the rule set name this resource activated. */
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: { readonly RuleSetName?: unknown };
}

/** What the Provider framework reports back to CloudFormation. */
export interface RuleSetResult {
  /** The activated rule set's name; a new name on Update makes CloudFormation delete the old one. */
  readonly PhysicalResourceId: string;
}

/** The one SES client method the handler needs (a real SESClient, or one pointed at a stand-in). */
export type SesSender = Pick<SESClient, 'send'>;

/** Builds the handler around an SES client. */
export function createRuleSetHandler(ses: SesSender): (event: RuleSetEvent) => Promise<RuleSetResult> {
  return async (event) => {
    if (event.RequestType === 'Delete') {
      const ours = event.PhysicalResourceId ?? '';
      const active = await ses.send(new DescribeActiveReceiptRuleSetCommand({}));
      // No RuleSetName deactivates: the account then has no active set, as before we came.
      if (ours !== '' && active.Metadata?.Name === ours) await ses.send(new SetActiveReceiptRuleSetCommand({}));
      return { PhysicalResourceId: ours || 'none' };
    }
    const name = event.ResourceProperties.RuleSetName;
    if (typeof name !== 'string' || name === '') throw new Error('the RuleSetName property must be a non-empty string');
    await ses.send(new SetActiveReceiptRuleSetCommand({ RuleSetName: name }));
    return { PhysicalResourceId: name };
  };
}

/** The Lambda entry point. */
export const handler = createRuleSetHandler(new SESClient({}));
