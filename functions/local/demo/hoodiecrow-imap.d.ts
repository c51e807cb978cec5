/**
 * The parts of hoodiecrow-imap (a scriptable IMAP server, CommonJS, no types of its own) that the
 * embedded seed mailbox uses.
 */
declare module 'hoodiecrow-imap' {
  import type { EventEmitter } from 'node:events';
  import type { Server } from 'node:net';

  interface HoodiecrowMessage {
    raw: string;
    flags?: string[];
    internaldate?: string | Date;
    uid?: number;
  }
  interface HoodiecrowMailbox {
    messages: HoodiecrowMessage[];
    path: string;
  }
  interface HoodiecrowServer extends EventEmitter {
    server: Server;
    users: Record<string, { password: string; xoauth2?: { accessToken: string; sessionTimeout: number } }>;
    searchHandlers: Record<string, (...args: never[]) => boolean>;
    listen(port: number, host: string, callback?: () => void): void;
    close(callback?: () => void): void;
    getMailbox(path: string): HoodiecrowMailbox | undefined;
    appendMessage(mailbox: string | HoodiecrowMailbox, flags: string[], internaldate: string | Date | undefined, raw: string): { mailbox: HoodiecrowMailbox; message: HoodiecrowMessage };
  }
  function hoodiecrow(options: Record<string, unknown>): HoodiecrowServer;
  export = hoodiecrow;
}
