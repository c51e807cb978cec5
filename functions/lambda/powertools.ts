/**
 * The one Powertools Logger of a function (service name and log level come from the POWERTOOLS_*
 * variables the stack sets). Handlers and helpers import it; nobody creates another. The one
 * Metrics instance is in metrics.ts, so a function that emits no metrics does not load it.
 */
import { Logger } from '@aws-lambda-powertools/logger';

/** Structured JSON logs. Never give it a whole event, a secret or a message body. */
export const logger: Logger = new Logger();

/** The fields of the Lambda context the log lines carry (function, version, request id). */
export interface LambdaContext {
  readonly functionName: string;
  readonly functionVersion: string;
  readonly invokedFunctionArn: string;
  readonly memoryLimitInMB: string;
  readonly awsRequestId: string;
}

/** Adds the invocation's context (request id, cold start) to every following log line. */
export function useContext(context: LambdaContext | undefined): void {
  if (context) logger.addContext(context as Parameters<Logger['addContext']>[0]);
}
