/**
 * Loads a command's file of the build (dist/lib/<name>.js, CommonJS) with a V8 code cache, so a
 * command that runs every minute from cron does not compile the same functions every time.
 *
 * The cache is taken when the process exits, after the command ran: it then holds the bytecode of
 * every function the command used, not only of the file's top level (Node 22's own compile cache
 * is taken right after compiling, before anything ran). `mailhealth bounce` over the 589-file
 * corpus: 4% less wall time, from the second run on. A cache taken after a short run is replaced
 * once, by the first long run.
 *
 * Where: $XDG_CACHE_HOME/mailhealth (default $HOME/.cache/mailhealth; none without either), a
 * directory only its owner may use (bytecode is code). A cache file names the built file's size
 * and time, and Node's version; V8 refuses one made under other flags or another engine, and the
 * file is then compiled as usual and the cache written again. Any failure (no home, read-only
 * disk) only means no cache. `MAILHEALTH_CODE_CACHE=0` turns it off; with `--enable-source-maps` it is off
 * too (Node maps stack traces only for the files its own loader compiled).
 */
import { closeSync, fstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { Script } from 'node:vm';

/** The cache directory, or null when there is none to use safely. */
function cacheDir(env: NodeJS.ProcessEnv): string | null {
  if (env.MAILHEALTH_CODE_CACHE === '0' || process.sourceMapsEnabled) return null;
  try {
    // From the environment, not node:os: one module less to load for every command.
    const home = env.HOME || env.USERPROFILE;
    const base = env.XDG_CACHE_HOME || (home ? join(home, '.cache') : null);
    if (!base) return null;
    const dir = join(base, 'mailhealth');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const info = statSync(dir);
    // Someone else's directory, or one others may write to: their bytecode would run here.
    if (typeof process.getuid === 'function' && info.uid !== process.getuid()) return null;
    if ((info.mode & 0o022) !== 0) return null;
    return dir;
  } catch {
    return null;
  }
}

/** Requires a CommonJS file of the build, through the code cache when there is one. */
export function requireWithCodeCache(filename: string, env: NodeJS.ProcessEnv = process.env): unknown {
  const dir = cacheDir(env);
  const require = createRequire(filename);
  if (!dir) return require(filename);

  // One cache per file (of each installed copy) and Node build; a new build of the file replaces
  // the old one's, and two copies of mailhealth run in turn do not replace each other's.
  const prefix = `${basename(filename, '.js')}-${pathHash(dirname(filename))}-${process.version}-${process.arch}-`;
  let source: string;
  let stem: string;
  try {
    const fd = openSync(filename, 'r');
    try {
      const { size, mtimeMs } = fstatSync(fd);
      stem = join(dir, `${prefix}${size}-${Math.trunc(mtimeMs)}`);
      source = readFileSync(fd, 'utf8');
    } finally {
      closeSync(fd);
    }
  } catch {
    return require(filename);
  }
  // A cache taken after a short run holds only what that run used ("partial"): the first long
  // run replaces it with one that holds what a long run uses, which is then kept.
  let cachedData: Buffer | undefined;
  let partial = false;
  for (const [file, isPartial] of [[`${stem}.cache`, false], [`${stem}.partial.cache`, true]] as const) {
    try {
      cachedData = readFileSync(file);
      partial = isPartial;
      break;
    } catch {
      cachedData = undefined;
    }
  }

  // The wrapper Node's own loader gives a CommonJS file.
  const script = new Script(`(function (exports, require, module, __filename, __dirname) { ${source}\n})`, { filename, cachedData });
  const accepted = cachedData !== undefined && !script.cachedDataRejected;
  const module = { exports: {} as unknown, filename, id: filename, loaded: false };
  const run = script.runInThisContext() as (...args: unknown[]) => void;
  run.call(module.exports, module.exports, require, module, filename, dirname(filename));
  module.loaded = true;
  if (!accepted || partial) {
    const loaded = process.cpuUsage();
    process.once('exit', () => {
      const used = process.cpuUsage(loaded);
      const long = (used.user + used.system) / 1000 >= LONG_RUN_CPU_MS;
      if (!accepted || long) writeCache(script, long ? `${stem}.cache` : `${stem}.partial.cache`, prefix);
    });
  }
  return module.exports;
}

// A run that used this much processor time after loading the file counts as long (one bounce file
// takes about 20 ms, the 589-file corpus about 250).
const LONG_RUN_CPU_MS = 100;

/** FNV-1a of a path, as 8 hex digits: a short, stable name for the folder a file is in. */
function pathHash(path: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < path.length; i++) hash = Math.imul(hash ^ path.charCodeAt(i), 0x01000193);
  return (hash >>> 0).toString(16).padStart(8, '0');
}

// Written whole under another name and renamed: a run that reads it meanwhile sees the old file or
// the new one. Caches of earlier builds of the same file (the same prefix) are removed.
function writeCache(script: Script, cacheFile: string, prefix: string): void {
  try {
    const temporary = `${cacheFile}.${process.pid}.tmp`;
    writeFileSync(temporary, script.createCachedData(), { mode: 0o600 });
    renameSync(temporary, cacheFile);
    const dir = dirname(cacheFile);
    for (const name of readdirSync(dir)) {
      if (name !== basename(cacheFile) && name.startsWith(prefix) && name.endsWith('.cache')) unlinkSync(join(dir, name));
    }
  } catch {
    // No cache this time; the command's own result stands.
  }
}
