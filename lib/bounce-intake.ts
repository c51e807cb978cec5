/**
 * BounceIntake: SES receives mail for the bounce domain (bounces and delivered canaries),
 * stores the raw message in S3, then invokes the bounce Lambda, which reads it from there
 * (the SES Lambda action carries the headers only).
 */
import { Arn, ArnFormat, Aws, CustomResource, Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as ses from 'aws-cdk-lib/aws-ses';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { MailFunction } from './mail-function.ts';

/** The key prefix of raw messages: the object key is this prefix + the SES message id. */
export const RAW_MAIL_PREFIX = 'raw/';

/** Properties of {@link BounceIntake}. */
export interface BounceIntakeProps {
  /** The domain whose MX points at SES inbound (config `bounceDomain`). */
  readonly bounceDomain: string;
  /** Environment shared by every handler (the stack's contract). */
  readonly environment: Readonly<Record<string, string>>;
  /**
   * Files copied into the function's bundle (the deployed config), keyed by their path in it.
   * @default none
   */
  readonly extraFiles?: Readonly<Record<string, string>>;
  /**
   * Name of the receipt rule set (unique in the account and region).
   * @default `<stack name>-bounce-intake`
   */
  readonly ruleSetName?: string;
  /**
   * Make the rule set the account's active one at deploy time. An account and region has a
   * single active rule set, so this replaces whatever set is active.
   * @default false
   */
  readonly activateRuleSet?: boolean;
  /**
   * The name of a rule set the account already has (usually its active one: WorkMail, another
   * application): mail-health's rule is added to it instead of a set of its own, so mail-health
   * receives beside what the account already receives. Not with `activateRuleSet`.
   * @default a rule set of its own
   */
  readonly existingRuleSetName?: string;
  /**
   * How long raw messages stay in the bucket.
   * @default Duration.days(30)
   */
  readonly rawMailRetention?: Duration;
  /**
   * Log retention of the bounce function.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * How often the bounce function looks for bounce digests whose window closed (a storm's last
   * digest goes out at most this long after its window; `null`: never, for
   * `alerts.bounceDigestMinutes: 0`).
   * @default Duration.minutes(5)
   */
  readonly digestFlushInterval?: Duration | null;
}

/** The environment variables of the bounce Lambda added by this construct. */
export const BOUNCE_ENV = { bucket: 'RAW_MAIL_BUCKET', prefix: 'RAW_MAIL_PREFIX' } as const;

/** An SES receipt action given as its raw configuration; the construct sets up its permissions. */
class ConfiguredAction implements ses.IReceiptRuleAction {
  constructor(private readonly config: ses.ReceiptRuleActionConfig) {}
  bind(): ses.ReceiptRuleActionConfig {
    return this.config;
  }
}

/** The raw-mail bucket, the bounce Lambda and the SES receipt rule set feeding them. */
export class BounceIntake extends Construct {
  /** Raw messages as SES received them (encrypted, private, TLS only, expiring). */
  readonly bucket: s3.Bucket;
  /** The bounce Lambda. */
  readonly bounceFunction: MailFunction;
  /** The receipt rule set (its own, inactive unless `activateRuleSet`; or the existing one named). */
  readonly ruleSet: ses.IReceiptRuleSet;
  /** The receipt rule: S3 then Lambda. */
  readonly rule: ses.ReceiptRule;
  /** The name of the receipt rule set. */
  readonly ruleSetName: string;
  /** The custom resource machinery that activates the rule set, when `activateRuleSet` is on. */
  readonly ruleSetActivation?: { readonly handler: MailFunction; readonly provider: cr.Provider };
  /** The schedule that sends due bounce digests (functions/bounce `{"flushDigests": true}`). */
  readonly digestFlush?: events.Rule;

  constructor(scope: Construct, id: string, props: BounceIntakeProps) {
    super(scope, id);
    const stack = Stack.of(this);
    if (Token.isUnresolved(stack.stackName) && props.ruleSetName === undefined) {
      throw new Error('BounceIntake: the stack name is not known at synth; pass ruleSetName');
    }
    const existing = props.existingRuleSetName;
    if (existing !== undefined && props.activateRuleSet) {
      throw new Error('BounceIntake: existingRuleSetName adds the rule to a set the account has; activateRuleSet would replace the active set: give one of them');
    }
    if (existing !== undefined && props.ruleSetName !== undefined) throw new Error('BounceIntake: give ruleSetName or existingRuleSetName, not both');
    this.ruleSetName = existing ?? props.ruleSetName ?? `${stack.stackName}-bounce-intake`;
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(this.ruleSetName)) {
      throw new Error(`BounceIntake: rule set name ${this.ruleSetName} must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit`);
    }
    // In a set of the account's, the rule's name says whose it is (names are unique per set).
    const ruleName = existing === undefined ? 'bounce-intake' : `${stack.stackName}-bounce-intake`.slice(0, 64);
    const retention = props.rawMailRetention ?? Duration.days(30);
    if (retention.toDays() < 1) throw new Error('BounceIntake: rawMailRetention must be at least one day');

    // The exact rule that may write and invoke: SES passes it as aws:SourceArn.
    const ruleArn = Arn.format(
      { service: 'ses', resource: 'receipt-rule-set', resourceName: `${this.ruleSetName}:receipt-rule/${ruleName}`, arnFormat: ArnFormat.SLASH_RESOURCE_NAME },
      stack,
    );

    this.bucket = new s3.Bucket(this, 'RawMail', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [{ id: 'expire-raw-mail', expiration: retention, abortIncompleteMultipartUploadAfter: Duration.days(1) }],
    });
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowSesToStoreRawMail',
        principals: [new iam.ServicePrincipal('ses.amazonaws.com')],
        actions: ['s3:PutObject'],
        resources: [this.bucket.arnForObjects(`${RAW_MAIL_PREFIX}*`)],
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID, 'aws:SourceArn': ruleArn } },
      }),
    );

    this.bounceFunction = new MailFunction(this, 'BounceFunction', {
      entry: 'functions/bounce/index.ts',
      description: 'mail-health: classifies a received bounce (or a delivered canary) read from S3',
      timeout: Duration.seconds(60),
      // mailparser holds the whole message in memory; SES accepts messages up to 40 MB.
      memorySize: 512,
      environment: { ...props.environment, [BOUNCE_ENV.bucket]: this.bucket.bucketName, [BOUNCE_ENV.prefix]: RAW_MAIL_PREFIX },
      extraFiles: props.extraFiles,
      logRetention: props.logRetention,
    });
    iam.Grant.addToPrincipal({
      grantee: this.bounceFunction.role,
      actions: ['s3:GetObject'],
      resourceArns: [this.bucket.arnForObjects(`${RAW_MAIL_PREFIX}*`)],
    });
    // Without ListBucket S3 answers a missing key with AccessDenied, never NoSuchKey (the adapter tells them apart).
    iam.Grant.addToPrincipal({ grantee: this.bounceFunction.role, actions: ['s3:ListBucket'], resourceArns: [this.bucket.bucketArn] });
    this.bounceFunction.function.addPermission('InvokedBySesReceiptRule', {
      principal: new iam.ServicePrincipal('ses.amazonaws.com'),
      action: 'lambda:InvokeFunction',
      sourceAccount: Aws.ACCOUNT_ID,
      sourceArn: ruleArn,
    });

    this.ruleSet =
      existing === undefined ? new ses.ReceiptRuleSet(this, 'RuleSet', { receiptRuleSetName: this.ruleSetName }) : ses.ReceiptRuleSet.fromReceiptRuleSetName(this, 'RuleSet', existing);
    this.rule = new ses.ReceiptRule(this, 'Rule', {
      ruleSet: this.ruleSet,
      receiptRuleName: ruleName,
      recipients: [props.bounceDomain],
      enabled: true,
      // SES's spam and virus verdicts reach the bounce Lambda in the receipt event; a virus is never parsed.
      scanEnabled: true,
      // Bounces come from any MTA, some without TLS; refusing them would hide the bounce.
      tlsPolicy: ses.TlsPolicy.OPTIONAL,
      actions: [
        new ConfiguredAction({ s3Action: { bucketName: this.bucket.bucketName, objectKeyPrefix: RAW_MAIL_PREFIX } }),
        new ConfiguredAction({ lambdaAction: { functionArn: this.bounceFunction.function.functionArn, invocationType: 'Event' } }),
      ],
    });
    // SES checks both permissions when the rule is created.
    this.rule.node.addDependency(this.bucket.policy!);
    const permission = this.bounceFunction.function.permissionsNode.tryFindChild('InvokedBySesReceiptRule');
    if (permission) this.rule.node.addDependency(permission);

    if (props.activateRuleSet ?? false) this.ruleSetActivation = this.activate();

    const flushEvery = props.digestFlushInterval === undefined ? Duration.minutes(5) : props.digestFlushInterval;
    if (flushEvery !== null) {
      this.digestFlush = new events.Rule(this, 'DigestFlush', {
        description: 'mail-health: sends the bounce digests whose window closed',
        schedule: events.Schedule.rate(flushEvery),
        targets: [
          new targets.LambdaFunction(this.bounceFunction.function, {
            event: events.RuleTargetInput.fromObject({ flushDigests: true, scheduledTime: events.EventField.time }),
            // The next run comes soon and sees the same windows.
            retryAttempts: 0,
          }),
        ],
      });
    }
  }

  /** A custom resource that makes the rule set active and, on delete, deactivates it if still active. */
  private activate(): { handler: MailFunction; provider: cr.Provider } {
    const activator = new MailFunction(this, 'RuleSetActivator', {
      entry: 'functions/ses-rule-set/index.ts',
      description: 'mail-health: activates the bounce receipt rule set (CloudFormation custom resource)',
      timeout: Duration.seconds(60),
      memorySize: 128,
    });
    // These two SES v1 actions support no resource-level permissions: the resource must be *.
    activator.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['ses:SetActiveReceiptRuleSet', 'ses:DescribeActiveReceiptRuleSet'], resources: ['*'] }),
    );
    const provider = new cr.Provider(this, 'RuleSetActivation', {
      onEventHandler: activator.function,
      logGroup: new logs.LogGroup(this, 'RuleSetActivationLogs', { retention: logs.RetentionDays.ONE_MONTH }),
    });
    const active = new CustomResource(this, 'ActiveRuleSet', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::SesActiveReceiptRuleSet',
      properties: { RuleSetName: this.ruleSetName },
    });
    // Activate once the rule exists; on delete, deactivate before the set is removed.
    active.node.addDependency(this.rule);
    return { handler: activator, provider };
  }
}
