/**
 * A one-line progress display on stderr for long work (`mailhealth bounce` over a folder or a
 * large mbox): files done, messages per second, time left. Only used when stderr is a
 * terminal; redrawn at most a few times a second, and erased when the work is done.
 */

/** What the work reports as it goes. */
export interface Progress {
  /** A file is finished; `bytes` of it not yet reported through `bytes()`. */
  file(bytes: number): void;
  /** Bytes of a streamed input read. */
  bytes(n: number): void;
  /** One message classified. */
  message(): void;
  /** Erases the line. */
  done(): void;
}

const REDRAW_MS = 250;

/** A progress line on `stream` for `totalFiles` inputs of `totalBytes` (0: unknown). */
export function createProgress(stream: NodeJS.WritableStream, totals: { files: number; bytes: number }, now: () => number = () => performance.now()): Progress {
  const started = now();
  let files = 0;
  let bytes = 0;
  let messages = 0;
  let last = -Infinity;
  let shown = false;
  const draw = (force = false) => {
    const t = now();
    if (!force && t - last < REDRAW_MS) return;
    last = t;
    const seconds = (t - started) / 1000;
    const rate = seconds > 0 ? messages / seconds : 0;
    const fraction = totals.bytes > 0 ? Math.min(1, bytes / totals.bytes) : totals.files > 0 ? files / totals.files : 0;
    const left = fraction > 0.02 && seconds > 1 ? formatSeconds((seconds * (1 - fraction)) / fraction) : '…';
    const text = `${files}/${totals.files} files · ${messages} messages · ${Math.round(rate)} msg/s · ${Math.round(fraction * 100)}% · ${left} left`;
    stream.write(`\r\u001b[2K${text}`);
    shown = true;
  };
  return {
    file(n) {
      files++;
      bytes += n;
      draw();
    },
    bytes(n) {
      bytes += n;
      draw();
    },
    message() {
      messages++;
      if ((messages & 63) === 0) draw();
    },
    done() {
      if (shown) stream.write('\r\u001b[2K');
    },
  };
}

function formatSeconds(s: number): string {
  if (s < 60) return `${Math.ceil(s)} s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m} min ${Math.ceil(s % 60)} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}
