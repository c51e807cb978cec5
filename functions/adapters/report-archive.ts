/**
 * Unpacking the archives receivers send reports in (RFC 7489 §7.2.1.1: gzip or zip; RFC 8460
 * §5.3: gzip), over node:zlib, with every limit checked before and while inflating:
 * - sizes a zip declares are checked before a byte is inflated (a "gigabyte attachment"
 *   declared is refused at once), and inflating stops at `maxOutputLength` whatever was
 *   declared (a bomb that lies about its size is cut off, never held in memory);
 * - the output may not exceed a ratio of the packed size (past a small floor);
 * - zip entry names are only shown (cleaned of control characters) and looked at for their
 *   extension: never used as paths, so `../../etc/passwd` is just a name;
 * - encrypted entries, zip64, multi-disk archives and methods other than stored and deflate
 *   (which reports never use) are refused by name.
 * The zip reader is our own over inflateRaw: the central directory is read, each entry's local
 * header located, its data inflated and its CRC-32 checked.
 */
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { problem, unpackBudget, type ReportLimits, type ReportProblem } from '#core/dmarc/problems.ts';

/** A file unpacked from an archive (or the input itself when it was not packed). */
export interface UnpackedFile {
  /** What to call it: the input's name, or `input.zip › entry.xml` (cleaned, for display only). */
  readonly name: string;
  readonly bytes: Uint8Array;
}

/** What unpacking gave: the files, and a named problem for each part that could not be unpacked. */
export interface Unpacked {
  readonly files: readonly UnpackedFile[];
  readonly problems: readonly { readonly name: string; readonly problem: ReportProblem }[];
}

const gunzipAsync = promisify(zlib.gunzip);
const inflateRawAsync = promisify(zlib.inflateRaw);
// Most reports are a few KiB: inflated on this thread they take microseconds, where a trip
// through libuv's thread pool waits its turn on a busy machine. Big ones go to the pool so the
// event loop (the bounce listener's SMTP sessions) keeps turning.
const SYNC_BELOW_BYTES = 256 * 1024;
const gunzip = (b: Uint8Array, o: zlib.ZlibOptions) => (b.length < SYNC_BELOW_BYTES ? Promise.resolve().then(() => zlib.gunzipSync(b, o)) : gunzipAsync(b, o));
const inflateRaw = (b: Uint8Array, o: zlib.ZlibOptions) => (b.length < SYNC_BELOW_BYTES ? Promise.resolve().then(() => zlib.inflateRawSync(b, o)) : inflateRawAsync(b, o));

/** The kind of packing, from the first bytes (never from the name alone). */
export function packingOf(bytes: Uint8Array): 'gzip' | 'zip' | 'none' {
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) return 'gzip';
  if (bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && ((bytes[2] === 3 && bytes[3] === 4) || (bytes[2] === 5 && bytes[3] === 6))) return 'zip';
  return 'none';
}

/** A name fit to show: no control characters, at most 200 characters. */
export function displayName(name: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = name.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
  return clean.length > 200 ? `${clean.slice(0, 197)}...` : clean;
}

const MIB = 1024 * 1024;
const mib = (n: number) => `${(n / MIB).toFixed(n < MIB ? 2 : 0)} MiB`;

function isTooLarge(err: unknown): boolean {
  const e = err as { code?: unknown } | null;
  return e !== null && typeof e === 'object' && (e.code === 'ERR_BUFFER_TOO_LARGE' || e.code === 'ERR_OUT_OF_RANGE');
}

/** The problem of an output that hit its budget: the ratio, or a size limit. */
function overBudget(what: string, packed: number, budget: number, limits: ReportLimits, totalLeft: number): ReportProblem {
  const byRatio = Math.max(limits.ratioFloorBytes, packed * limits.ratio);
  if (byRatio <= Math.min(limits.reportBytes, totalLeft)) {
    return problem('RATIO_EXCEEDED', `${what} inflates to more than ${limits.ratio} times its ${packed} packed bytes (stopped at ${mib(budget)}): a decompression bomb, not a report`);
  }
  return problem('TOO_LARGE', `${what} unpacks to more than ${mib(budget)} (the limit for one report)`);
}

async function inflateWith(fn: (b: Uint8Array, o: zlib.ZlibOptions) => Promise<Buffer>, data: Uint8Array, what: string, limits: ReportLimits, totalLeft: number): Promise<Uint8Array | ReportProblem> {
  const budget = unpackBudget(data.length, limits, totalLeft);
  try {
    // maxOutputLength must be at least 1; a budget of 0 means the total is used up.
    if (budget < 1) return problem('TOO_LARGE', `${what}: the ${mib(limits.totalBytes)} limit for everything unpacked from one input is used up`);
    return await fn(data, { maxOutputLength: budget });
  } catch (err) {
    if (isTooLarge(err)) return overBudget(what, data.length, budget, limits, totalLeft);
    return problem('ARCHIVE_CORRUPT', `${what} cannot be inflated: ${err instanceof Error ? err.message : String(err)}`);
  }
}

interface ZipEntry {
  readonly name: string;
  readonly flags: number;
  readonly method: number;
  readonly crc: number;
  readonly packed: number;
  readonly size: number;
  readonly localOffset: number;
}

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

/** Reads the central directory; a problem when the archive cannot be read or uses what reports never do. */
function zipEntries(buf: Buffer, limits: ReportLimits, what: string): ZipEntry[] | ReportProblem {
  // The end record is in the last 22 + 65535 bytes (its comment is at most 65535 bytes).
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (buf.readUInt32LE(i) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) return problem('ARCHIVE_CORRUPT', `${what} is not a complete zip archive (no end of central directory)`);
  const disk = buf.readUInt16LE(eocd + 4);
  const cdDisk = buf.readUInt16LE(eocd + 6);
  const count = buf.readUInt16LE(eocd + 10);
  const cdSize = buf.readUInt32LE(eocd + 12);
  const cdOffset = buf.readUInt32LE(eocd + 16);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) return problem('ARCHIVE_UNSUPPORTED', `${what} is a zip64 archive, which reports never need`);
  if (disk !== 0 || cdDisk !== 0) return problem('ARCHIVE_UNSUPPORTED', `${what} is split over several disks`);
  if (count > limits.zipEntries) return problem('TOO_MANY_ENTRIES', `${what} holds ${count} files (a report archive holds one; at most ${limits.zipEntries} are read)`);
  if (cdOffset + cdSize > eocd) return problem('ARCHIVE_CORRUPT', `${what}: its central directory lies outside the archive`);
  const entries: ZipEntry[] = [];
  let at = cdOffset;
  for (let n = 0; n < count; n++) {
    if (at + 46 > eocd || buf.readUInt32LE(at) !== CENTRAL) return problem('ARCHIVE_CORRUPT', `${what}: central directory entry ${n + 1} is damaged`);
    const nameLength = buf.readUInt16LE(at + 28);
    const extraLength = buf.readUInt16LE(at + 30);
    const commentLength = buf.readUInt16LE(at + 32);
    const flags = buf.readUInt16LE(at + 8);
    // Bit 11: the name is UTF-8; otherwise CP437, shown as latin1 (it is only ever shown).
    const name = buf.subarray(at + 46, at + 46 + nameLength).toString(flags & 0x800 ? 'utf8' : 'latin1');
    entries.push({
      name,
      flags,
      method: buf.readUInt16LE(at + 10),
      crc: buf.readUInt32LE(at + 16),
      packed: buf.readUInt32LE(at + 20),
      size: buf.readUInt32LE(at + 24),
      localOffset: buf.readUInt32LE(at + 42),
    });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

const crc32: ((data: Uint8Array) => number) | undefined = (zlib as unknown as { crc32?: (data: Uint8Array) => number }).crc32;

async function unzip(bytes: Uint8Array, name: string, limits: ReportLimits, totalLeftBefore: () => number): Promise<Unpacked> {
  let unpacked = 0;
  const totalLeft = () => totalLeftBefore() - unpacked;
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const what = displayName(name);
  const entries = zipEntries(buf, limits, what);
  if (!Array.isArray(entries)) return { files: [], problems: [{ name: what, problem: entries }] };
  const files: UnpackedFile[] = [];
  const problems: { name: string; problem: ReportProblem }[] = [];
  for (const e of entries) {
    const entryName = `${what} › ${displayName(e.name)}`;
    if (e.name.endsWith('/')) continue;
    const fail = (p: ReportProblem) => problems.push({ name: entryName, problem: p });
    if (e.flags & 0x1) {
      fail(problem('ARCHIVE_UNSUPPORTED', `${entryName} is encrypted`));
      continue;
    }
    if (e.method !== 0 && e.method !== 8) {
      fail(problem('ARCHIVE_UNSUPPORTED', `${entryName} uses compression method ${e.method} (reports use deflate)`));
      continue;
    }
    const budget = unpackBudget(e.packed, limits, totalLeft());
    // The declared size is checked before anything is inflated.
    if (e.size > budget) {
      fail(e.size > Math.min(limits.reportBytes, totalLeft()) ? problem('TOO_LARGE', `${entryName} declares ${e.size} bytes unpacked, more than the ${mib(Math.min(limits.reportBytes, totalLeft()))} limit`) : overBudget(entryName, e.packed, budget, limits, totalLeft()));
      continue;
    }
    const local = e.localOffset;
    if (local + 30 > buf.length || buf.readUInt32LE(local) !== LOCAL) {
      fail(problem('ARCHIVE_CORRUPT', `${entryName}: its local header is missing`));
      continue;
    }
    const dataStart = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    if (dataStart + e.packed > buf.length) {
      fail(problem('ARCHIVE_CORRUPT', `${entryName}: its data runs past the end of the archive`));
      continue;
    }
    const data = buf.subarray(dataStart, dataStart + e.packed);
    let out: Uint8Array | ReportProblem;
    if (e.method === 0) out = data;
    else out = await inflateWith(inflateRaw, data, entryName, limits, totalLeft());
    if (!(out instanceof Uint8Array)) {
      fail(out);
      continue;
    }
    if (out.length !== e.size) {
      fail(problem('ARCHIVE_CORRUPT', `${entryName} unpacks to ${out.length} bytes, not the ${e.size} its directory declares`));
      continue;
    }
    if (crc32 && crc32(out) >>> 0 !== e.crc) {
      fail(problem('ARCHIVE_CORRUPT', `${entryName}: CRC-32 mismatch (the data is damaged)`));
      continue;
    }
    unpacked += out.length;
    files.push({ name: entryName, bytes: out });
  }
  return { files, problems };
}

/**
 * Unpacks one input: a gzip file gives its content, a zip file its entries (a gzip inside a zip
 * is unpacked too, one level), anything else is returned as it is. Never throws for bad input.
 * @example
 * const { files, problems } = await unpackReport(bytes, 'google.com!example.jp!1709251200!1709337599.zip', DEFAULT_REPORT_LIMITS);
 */
export async function unpackReport(bytes: Uint8Array, name: string, limits: ReportLimits): Promise<Unpacked> {
  let used = 0;
  const totalLeft = () => limits.totalBytes - used;
  const files: UnpackedFile[] = [];
  const problems: { name: string; problem: ReportProblem }[] = [];
  const take = (u: Unpacked) => {
    problems.push(...u.problems);
    for (const f of u.files) {
      used += f.bytes.length;
      files.push(f);
    }
  };
  const gz = async (data: Uint8Array, what: string): Promise<Unpacked> => {
    const out = await inflateWith(gunzip, data, what, limits, totalLeft());
    return out instanceof Uint8Array ? { files: [{ name: what, bytes: out }], problems: [] } : { files: [], problems: [{ name: what, problem: out }] };
  };
  const what = displayName(name);
  const packing = packingOf(bytes);
  if (packing === 'none') {
    if (bytes.length > limits.reportBytes) return { files: [], problems: [{ name: what, problem: problem('TOO_LARGE', `${what} is ${mib(bytes.length)}, more than the ${mib(limits.reportBytes)} limit for one report`) }] };
    return { files: [{ name: what, bytes }], problems: [] };
  }
  if (packing === 'gzip') {
    take(await gz(bytes, what));
    return { files, problems };
  }
  const zipped = await unzip(bytes, name, limits, totalLeft);
  problems.push(...zipped.problems);
  for (const f of zipped.files) {
    if (packingOf(f.bytes) === 'gzip') take(await gz(f.bytes, f.name));
    else if (packingOf(f.bytes) === 'zip') problems.push({ name: f.name, problem: problem('ARCHIVE_UNSUPPORTED', `${f.name} is a zip inside a zip, which reports never are`) });
    else take({ files: [f], problems: [] });
  }
  return { files, problems };
}
