/**
 * MailFunction: the one place that decides how a mail-health Lambda is built and run.
 * Every function of the stack (and the custom resource handler) goes through it.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, SourceMapMode, type ICommandHooks } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** The repository root: entries, package.json "imports" and the lock file are resolved from here. */
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The CloudWatch namespace of every mail-health metric (README, "What it costs"). */
export const METRICS_NAMESPACE = 'MailHealth';

/**
 * The Powertools service name of every mail-health function. Powertools Metrics adds it to each
 * metric as the dimension `service`, so it must be the same everywhere for the alarms to match.
 */
export const SERVICE_NAME = 'mail-health';

/**
 * The esbuild settings of every bundle, shared with bench/lambda.ts so the benchmark measures
 * exactly what is deployed.
 */
export const BUNDLE = {
  target: 'node24',
  format: 'esm',
  minify: true,
  sourceMap: true,
  // Non-ASCII as is instead of \uXXXX escapes: a fifth off mailparser's charset tables.
  charset: 'utf8',
  // Stack traces only need the mappings; the sources themselves would double the asset.
  sourcesContent: false,
  // ESM entry points of dependencies first, so esbuild can drop what a handler does not use.
  mainFields: ['module', 'main'],
  // CommonJS dependencies (nodemailer, mailparser) call require() for Node built-ins, which an
  // ESM bundle does not define.
  banner: "import{createRequire as __mhRequire}from'node:module';const require=__mhRequire(import.meta.url);",
  // The Node.js runtime ships the AWS SDK v3; bundling it would triple the canary bundle
  // (and break its 400 KB target) for a faster init: see MailFunctionProps.bundleAwsSdk.
  externalModules: ['@aws-sdk/*', '@smithy/*'],
} as const;

/** The path inside the Lambda sandbox where the bundle (and any extra files) is unpacked. */
export const LAMBDA_TASK_ROOT = '/var/task';

const MAX_TIMEOUT_SECONDS = 900;

/** Properties of a {@link MailFunction}. */
export interface MailFunctionProps {
  /** The handler's TypeScript entry, relative to the project root (or absolute); it exports `handler`. */
  readonly entry: string;
  /**
   * What the function does, shown in the console.
   * @default no description
   */
  readonly description?: string;
  /**
   * How long one invocation may run.
   * @default Duration.seconds(30)
   */
  readonly timeout?: Duration;
  /**
   * Memory in MB (CPU scales with it).
   * @default 256
   */
  readonly memorySize?: number;
  /**
   * How long the function's log group keeps its events.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * What happens to the log group when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly logRemovalPolicy?: RemovalPolicy;
  /**
   * Extra environment variables (the stack's handler contract). The Powertools and source map
   * variables are set here and cannot be overridden.
   * @default none
   */
  readonly environment?: Readonly<Record<string, string>>;
  /**
   * Retries of a failed asynchronous invocation (0 to 2).
   * @default 2 (Lambda's default)
   */
  readonly retryAttempts?: number;
  /**
   * The oldest asynchronous event Lambda still runs (60 s to 6 h).
   * @default Duration.hours(6) (Lambda's default)
   */
  readonly maxEventAge?: Duration;
  /**
   * Bundle the AWS SDK (tree-shaken, minified) instead of using the runtime's copy: a cold init
   * about twice as fast and an SDK version of our choosing, for a bundle 300-450 KB larger.
   * @default false
   */
  readonly bundleAwsSdk?: boolean;
  /**
   * Files copied into the bundle, keyed by their path relative to the bundle root; at run time
   * they are at `/var/task/<key>`. The sources are absolute paths on the synthesizing machine.
   * @default none
   */
  readonly extraFiles?: Readonly<Record<string, string>>;
}

/**
 * NodejsFunction silently switches to Docker when it finds no local esbuild; we never want
 * that (slow, needs a daemon and the network), so a missing esbuild fails the synth instead.
 */
function assertLocalEsbuild(): void {
  try {
    createRequire(join(PROJECT_ROOT, 'package.json')).resolve('esbuild');
  } catch {
    throw new Error('MailFunction: esbuild is not installed in node_modules; run npm ci (bundling never falls back to Docker)');
  }
}

/** Quotes a string for the POSIX shell that runs the bundling command hooks. */
function shellQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/**
 * A Node.js 24 arm64 Lambda bundled locally with esbuild (minified ESM with source maps), with
 * its own log group and a role that may write only to it.
 */
export class MailFunction extends Construct {
  /** The Lambda function. */
  readonly function: NodejsFunction;
  /** The function's log group (retention set, the only group its role may write to). */
  readonly logGroup: logs.LogGroup;
  /** The execution role; grants are added to it by the stack. */
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: MailFunctionProps) {
    super(scope, id);
    const timeout = props.timeout ?? Duration.seconds(30);
    const memorySize = props.memorySize ?? 256;
    const entry = isAbsolute(props.entry) ? props.entry : join(PROJECT_ROOT, props.entry);
    const extraFiles = Object.entries(props.extraFiles ?? {});

    if (timeout.toSeconds() > MAX_TIMEOUT_SECONDS) {
      throw new Error(`MailFunction ${id}: timeout ${timeout.toSeconds()} s exceeds Lambda's limit of ${MAX_TIMEOUT_SECONDS} s`);
    }
    if (!Number.isInteger(memorySize) || memorySize < 128 || memorySize > 10_240) {
      throw new Error(`MailFunction ${id}: memorySize ${memorySize} must be an integer between 128 and 10240 MB`);
    }
    if (props.retryAttempts !== undefined && (props.retryAttempts < 0 || props.retryAttempts > 2)) {
      throw new Error(`MailFunction ${id}: retryAttempts ${props.retryAttempts} must be 0, 1 or 2`);
    }
    if (!existsSync(entry)) throw new Error(`MailFunction ${id}: entry ${entry} does not exist`);
    assertLocalEsbuild();
    for (const [target, source] of extraFiles) {
      if (isAbsolute(target) || target.split('/').includes('..')) {
        throw new Error(`MailFunction ${id}: extra file ${target} must be a relative path inside the bundle`);
      }
      if (!existsSync(source)) throw new Error(`MailFunction ${id}: extra file ${source} (for ${target}) does not exist`);
    }

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
    });
    // Our own role instead of AWSLambdaBasicExecutionRole: that managed policy may write to
    // every log group of the account, this one only to the function's own.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of the mail-health ${id} function`,
    });
    this.logGroup.grantWrite(this.role);

    const commandHooks: ICommandHooks | undefined =
      extraFiles.length === 0
        ? undefined
        : {
            beforeBundling: () => [],
            beforeInstall: () => [],
            afterBundling: (_inputDir: string, outputDir: string) =>
              extraFiles.map(([target, source]) => {
                const dest = `${outputDir}/${target}`;
                return `mkdir -p ${shellQuote(resolve(dest, '..'))} && cp ${shellQuote(source)} ${shellQuote(dest)}`;
              }),
          };

    this.function = new NodejsFunction(this, 'Function', {
      entry,
      handler: 'handler',
      description: props.description,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      timeout,
      memorySize,
      role: this.role,
      logGroup: this.logGroup,
      retryAttempts: props.retryAttempts,
      maxEventAge: props.maxEventAge,
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
      environment: {
        ...props.environment,
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        POWERTOOLS_LOG_LEVEL: 'INFO',
      },
      bundling: {
        target: BUNDLE.target,
        format: OutputFormat.ESM,
        minify: BUNDLE.minify,
        sourceMap: BUNDLE.sourceMap,
        sourceMapMode: SourceMapMode.DEFAULT,
        sourcesContent: BUNDLE.sourcesContent,
        // NodejsFunction's own `charset` prop is not passed to esbuild (aws-cdk-lib 2.276): give the flag.
        esbuildArgs: { '--charset': BUNDLE.charset },
        mainFields: [...BUNDLE.mainFields],
        banner: BUNDLE.banner,
        externalModules: props.bundleAwsSdk ? [] : [...BUNDLE.externalModules],
        forceDockerBundling: false,
        commandHooks,
      },
    });
  }
}
