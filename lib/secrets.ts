/**
 * What an IAM policy names for a Secrets Manager secret the config gives by name or by ARN.
 * A secret's ARN ends in `-` and six random characters that a name does not have: a policy for
 * a name must match `<name>-??????`. An ARN given in full already has them and is named as it
 * is (`<arn>-??????` would match nothing, the finding of issue 27); an ARN without them (a
 * partial ARN, which GetSecretValue accepts too) gets them like a name.
 */
import { Arn, ArnFormat, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';

/** The only call the functions make on a secret (functions/adapters/secrets.ts). */
export const SECRET_READ_ACTIONS = ['secretsmanager:GetSecretValue'] as const;

const FULL_ARN = /^arn:[^:]+:secretsmanager:[^:]*:\d{12}:secret:.+-[A-Za-z0-9]{6}$/;

/**
 * The policy resource of a secret given as a name, a full ARN or a partial ARN.
 * @example secretResourceArn('mail-health/shop-smtp', stack) // arn:…:secret:mail-health/shop-smtp-??????
 */
export function secretResourceArn(nameOrArn: string, scope: Construct): string {
  // A secret of the stack itself: its ARN, complete, known at deploy.
  if (Token.isUnresolved(nameOrArn)) return nameOrArn;
  if (nameOrArn.startsWith('arn:')) return FULL_ARN.test(nameOrArn) ? nameOrArn : `${nameOrArn}-??????`;
  return Arn.format({ service: 'secretsmanager', resource: 'secret', resourceName: `${nameOrArn}-??????`, arnFormat: ArnFormat.COLON_RESOURCE_NAME }, Stack.of(scope));
}

/** Lets `grantee` read the value of each secret (names, ARNs, or a name prefix ending in `*`), nothing more. */
export function grantSecretRead(grantee: iam.IGrantable, secrets: readonly string[], scope: Construct, prefix?: string): void {
  const resources = secrets.map((s) => secretResourceArn(s, scope));
  if (prefix !== undefined) {
    resources.push(prefix.startsWith('arn:') ? `${prefix}*` : Arn.format({ service: 'secretsmanager', resource: 'secret', resourceName: `${prefix}*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME }, Stack.of(scope)));
  }
  if (resources.length === 0) return;
  iam.Grant.addToPrincipal({ grantee, actions: [...SECRET_READ_ACTIONS], resourceArns: [...new Set(resources)] });
}
