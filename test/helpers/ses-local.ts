/**
 * aws-ses-v2-local (an SES v1/v2 API stand-in) on a free port of 127.0.0.1, in-process, with
 * an SESv2 client pointed at it and a way to read the sent mail back (its `GET /store`).
 * Its mailbox is module-global: one instance per test file (vitest runs files in separate
 * processes), and `clear()` between tests.
 *
 * @example
 * const ses = await startSesLocal();
 * await createSesEmailNotifier({ client: ses.client, from: 'monitor@example.jp', to: ['owner@example.jp'] }).send(mail);
 * const [sent] = await ses.emails();
 * await ses.close();
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import * as sesLocal from 'aws-ses-v2-local';

/** A mail as aws-ses-v2-local keeps it. */
export interface SentEmail {
  readonly messageId: string;
  readonly from: string;
  readonly destination: { readonly to: string[]; readonly cc: string[]; readonly bcc: string[] };
  readonly subject: string;
  readonly body: { readonly text?: string; readonly html?: string };
  /** Epoch seconds. */
  readonly at: number;
}

export interface SesLocalHandle {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  /** A client for the stand-in: region us-east-1, dummy static credentials. */
  readonly client: SESv2Client;
  /** Every mail sent so far, oldest first. */
  emails(): Promise<SentEmail[]>;
  clear(): Promise<void>;
  close(): Promise<void>;
}

type StartServer = (config?: { host?: string; port?: number }) => Promise<Server>;

// The package is CommonJS with `exports.default`; ESM loaders differ on which object `default` is.
function starter(): StartServer {
  const mod = sesLocal as unknown as { default: StartServer | { default: StartServer } };
  return typeof mod.default === 'function' ? mod.default : mod.default.default;
}

export async function startSesLocal(): Promise<SesLocalHandle> {
  const server = await starter()({ host: '127.0.0.1', port: 0 });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new SESv2Client({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
  return {
    endpoint,
    client,
    async emails() {
      const res = await fetch(`${endpoint}/store`);
      const doc = (await res.json()) as { emails: SentEmail[] };
      return doc.emails;
    },
    async clear() {
      await fetch(`${endpoint}/clear-store`, { method: 'POST' });
    },
    async close() {
      client.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
