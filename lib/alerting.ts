/**
 * Alerting: the encrypted SNS alert topic every alert goes through (health transitions from
 * the canary, bounce findings, CloudWatch alarms), the alert queue behind it (lib/alert-
 * delivery.ts) and the alert Lambda that delivers each alert to the Slack and email of its
 * route (the config's `alerts`, or a target's `alerts.routes[]` entry).
 */
import { Annotations, Arn, ArnFormat, Aws, Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { AlertsConfig } from '#core/config.ts';
import { ConfigError } from '#core/errors.ts';
import { ALERT_QUEUE_ENV, AlertDelivery } from './alert-delivery.ts';
import { MailFunction } from './mail-function.ts';
import { grantSecretRead } from './secrets.ts';

/** The one SES call of the alert Lambda (SES v2 SendEmail; functions/adapters/ses-email.ts). */
export const SES_SEND_ACTIONS = ['ses:SendEmail'] as const;

/** Properties of {@link Alerting}. */
export interface AlertingProps {
  /** The `alerts` section of the config: Slack secret, email sender and recipients. */
  readonly alerts: AlertsConfig;
  /** Environment shared by every handler (the stack's contract). */
  readonly environment: Readonly<Record<string, string>>;
  /**
   * Files copied into the function's bundle (the deployed config), keyed by their path in it.
   * @default none
   */
  readonly extraFiles?: Readonly<Record<string, string>>;
  /**
   * Log retention of the alert function.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}

/** The environment variable naming the Slack webhook secret (name or ARN) for the alert Lambda. */
export const SLACK_SECRET_ENV = 'SLACK_SECRET_ID';
export { ALERT_QUEUE_ENV } from './alert-delivery.ts';

/** The encrypted alert topic and the alert Lambda subscribed to it. */
export class Alerting extends Construct {
  /** The SNS topic alerts and alarm actions are published to. */
  readonly topic: sns.Topic;
  /** The customer managed key of the topic (CloudWatch alarms cannot use the AWS managed SNS key). */
  readonly key: kms.Key;
  /** The alert Lambda. */
  readonly alertFunction: MailFunction;
  /** The alert queue between the topic and the alert Lambda, its dead-letter queue and alarm. */
  readonly delivery: AlertDelivery;
  /** The Slack webhook secret, when Slack alerts are configured. */
  readonly slackSecret?: secretsmanager.ISecret;
  /** The Slack webhook secret this construct created (no `alerts.slack.secretName`), to be filled after deploy. */
  readonly createdSlackSecret?: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: AlertingProps) {
    super(scope, id);
    const { alerts } = props;

    this.key = new kms.Key(this, 'TopicKey', {
      description: 'mail-health alert topic encryption',
      enableKeyRotation: true,
    });
    // CloudWatch publishes alarm notifications through SNS, which needs the key on its behalf.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToUseTheKey',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
      }),
    );
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'mail-health alerts',
      masterKey: this.key,
      enforceSSL: true,
    });
    // Once a topic has a policy, same-account CloudWatch alarms need an explicit grant.
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsOfThisAccount',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
          ArnLike: {
            'aws:SourceArn': Arn.format({ service: 'cloudwatch', resource: 'alarm', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }, Stack.of(this)),
          },
        },
      }),
    );

    const environment: Record<string, string> = { ...props.environment };
    // Each route's webhook has its own secret: an environment variable cannot reach a Lambda.
    alerts.routes.forEach((route, i) => {
      if (route.slack && !route.slack.secretName) {
        throw new ConfigError(
          `alerts.routes[${i}].slack.secretName: required for the AWS deployment (route ${route.name}: the alert Lambda reads its Slack webhook URL from Secrets Manager; webhookUrlEnv is for local runs)`,
          `alerts.routes[${i}].slack.secretName`,
        );
      }
    });
    if (alerts.slack) {
      if (alerts.slack.secretName) {
        this.slackSecret = secretsmanager.Secret.fromSecretNameV2(this, 'SlackWebhook', alerts.slack.secretName);
      } else {
        this.createdSlackSecret = this.emptySlackSecret();
        this.slackSecret = this.createdSlackSecret;
      }
      environment[SLACK_SECRET_ENV] = alerts.slack.secretName ?? this.slackSecret.secretArn;
    }
    if (!alerts.slack && !alerts.email) {
      Annotations.of(this).addWarningV2(
        'mail-health:alerts-without-channel',
        'alerts has neither slack nor email: alerts reach the alert Lambda and its logs only',
      );
    }

    this.alertFunction = new MailFunction(this, 'AlertFunction', {
      entry: 'functions/alert/index.ts',
      description: 'mail-health: delivers alerts and alarm notifications from the alert queue to the Slack and email of their routes',
      // A batch of alerts at each channel's pace (about a second per alert and destination).
      timeout: Duration.seconds(60),
      environment,
      extraFiles: props.extraFiles,
      logRetention: props.logRetention,
    });
    this.delivery = new AlertDelivery(this, 'Delivery', { topic: this.topic, alertFunction: this.alertFunction.function, role: this.alertFunction.role });
    this.alertFunction.function.addEnvironment(ALERT_QUEUE_ENV, this.delivery.queue.queueUrl);

    const slackSecrets = [
      ...(this.slackSecret ? [alerts.slack?.secretName ?? this.slackSecret.secretArn] : []),
      ...alerts.routes.flatMap((r) => (r.slack?.secretName ? [r.slack.secretName] : [])),
    ];
    grantSecretRead(this.alertFunction.role, slackSecrets, this);
    const senders = [...new Set([...(alerts.email ? [alerts.email.from] : []), ...alerts.routes.flatMap((r) => (r.email ? [r.email.from ?? alerts.email!.from] : []))])];
    for (const from of senders) this.grantSendFrom(this.alertFunction.role, from);
  }

  /**
   * Lets `grantee` publish alerts: sns:Publish on the topic and the two KMS operations SNS needs
   * for an encrypted topic (named exactly, no action wildcards).
   */
  grantPublish(grantee: iam.IGrantable): void {
    iam.Grant.addToPrincipal({ grantee, actions: ['sns:Publish'], resourceArns: [this.topic.topicArn] });
    this.key.grant(grantee, 'kms:Decrypt', 'kms:GenerateDataKey');
  }

  /** An empty secret the operator fills with the webhook URL after the first deploy. */
  private emptySlackSecret(): secretsmanager.Secret {
    const secret = new secretsmanager.Secret(this, 'SlackWebhook', {
      description: 'mail-health Slack incoming webhook URL: put the URL (plain text) here after deploying',
    });
    // CloudFormation creates a secret without a value when neither property is given.
    (secret.node.defaultChild as secretsmanager.CfnSecret).addPropertyDeletionOverride('GenerateSecretString');
    return secret;
  }

  /** SES sending for the configured sender only: its address identity or its domain's. */
  private grantSendFrom(grantee: iam.IGrantable, from: string): void {
    const domain = from.slice(from.lastIndexOf('@') + 1);
    const identity = (name: string) => Arn.format({ service: 'ses', resource: 'identity', resourceName: name }, Stack.of(this));
    iam.Grant.addToPrincipal({
      grantee,
      actions: [...SES_SEND_ACTIONS],
      resourceArns: [identity(from), identity(domain)],
      conditions: { StringEquals: { 'ses:FromAddress': from } },
    });
  }
}
