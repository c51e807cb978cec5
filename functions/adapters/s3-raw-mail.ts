/**
 * Raw received messages in S3 (what the SES receipt rule's S3 action stored): the RawMailSource
 * of the bounce Lambda. The S3 client is loaded on the first read, not at import, so the SDK's
 * S3 package costs nothing at cold start until a message actually has to be read.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { InputError } from '#core/errors.ts';
import type { RawMailSource } from '#core/ports.ts';

/**
 * The AWS calls this module makes, each with the IAM actions it needs: without s3:ListBucket a
 * missing key answers AccessDenied, and the NoSuchKey branch below could never run.
 */
export const AWS_CALLS = { GetObjectCommand: ['s3:GetObject', 's3:ListBucket'] } as const;

/** Where the messages are. */
export interface S3RawMailOptions {
  /** The bucket SES writes to. */
  readonly bucket: string;
  /**
   * The client to use.
   * @default a new S3Client with the SDK's default configuration (region, credentials and
   * endpoint from the environment), created on the first read
   */
  readonly client?: S3Client;
  /**
   * Objects larger than this are refused rather than read into memory (SES accepts up to 40 MB).
   * @default 41943040 (40 MB)
   */
  readonly maxBytes?: number;
}

const DEFAULT_MAX_BYTES = 40 * 1024 * 1024;

function errorName(err: unknown): string {
  return typeof err === 'object' && err !== null && 'name' in err ? String((err as { name: unknown }).name) : 'Error';
}

/**
 * A RawMailSource reading `s3://<bucket>/<ref>`; `ref` is the object key. Rejects with an
 * InputError naming the key when the object is missing, too large or unreadable.
 * @example
 * const raw = createS3RawMailSource({ bucket: process.env.RAW_MAIL_BUCKET! });
 * const bytes = await raw(`raw/${messageId}`);
 */
export function createS3RawMailSource(options: S3RawMailOptions): RawMailSource {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  let sdk: Promise<typeof import('@aws-sdk/client-s3')> | undefined;
  let client: S3Client | undefined = options.client;

  return async (key) => {
    sdk ??= import('@aws-sdk/client-s3');
    const { GetObjectCommand, S3Client } = await sdk;
    client ??= new S3Client({});
    const where = `s3://${options.bucket}/${key}`;
    let bytes: Uint8Array;
    try {
      const out = await client.send(new GetObjectCommand({ Bucket: options.bucket, Key: key }));
      if (out.ContentLength !== undefined && out.ContentLength > maxBytes) {
        // Release the connection without downloading the body.
        (out.Body as { destroy?: () => void } | undefined)?.destroy?.();
        throw new InputError(`${where} is ${out.ContentLength} bytes, above the ${maxBytes} bytes a raw message may have`);
      }
      if (!out.Body) throw new InputError(`${where} has no body`);
      bytes = await out.Body.transformToByteArray();
    } catch (err) {
      if (err instanceof InputError) throw err;
      const name = errorName(err);
      if (name === 'NoSuchKey' || name === 'NotFound') {
        throw new InputError(`${where} does not exist (the SES receipt rule stores each message before it invokes the bounce Lambda)`, { cause: err });
      }
      throw new InputError(`${where} could not be read (${name})`, { cause: err });
    }
    return bytes;
  };
}
