import { mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { faultDue, injectedEnospc, killSelf } from './fault.js';

const IGNORED_DIR_SYNC_ERRORS = new Set(['EINVAL', 'EISDIR', 'ENOTSUP', 'EPERM']);

/**
 * Writes a file atomically: `${path}.tmp-${pid}-${random}` in the same folder
 * (created if missing), fsync, rename over `path`, fsync the folder (skipped
 * where the file system cannot, e.g. EINVAL/EISDIR). Readers see the old file
 * or the new one, never a mix; on any error the temp file is removed and the
 * old file is left intact. A process killed mid-write leaves its temp file
 * behind; {@link removeOrphanTempFiles} deletes those.
 *
 * @example
 * ```ts
 * await writeFileAtomic('runs/a/config.json', JSON.stringify(cfg));
 * ```
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string, opts: { faultPoint?: string } = {}): Promise<void> {
  if (typeof path !== 'string' || path.length === 0) throw new Error(`writeFileAtomic: path must be a non-empty string, got ${JSON.stringify(path)}`);
  if (typeof data !== 'string' && !(data instanceof Uint8Array)) throw new Error('writeFileAtomic: data must be a string or a Uint8Array');
  const fault = opts.faultPoint ?? 'atomic';
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
  try {
    const fh = await open(tmp, 'wx');
    try {
      const partial = faultDue(`${fault}-partial`);
      if (partial) {
        const bytes = typeof data === 'string' ? Buffer.from(data) : data;
        await fh.write(bytes.subarray(0, bytes.length >> 1));
        if (partial === 'kill') {
          await fh.sync();
          killSelf();
        }
        throw partial === 'throw' ? new Error('injected internal error') : injectedEnospc(tmp);
      }
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw e;
  }
  if (faultDue(`${fault}-renamed`)) killSelf();
  let dh: Awaited<ReturnType<typeof open>> | undefined;
  try {
    dh = await open(dir, 'r');
    await dh.sync();
  } catch (e) {
    if (!IGNORED_DIR_SYNC_ERRORS.has((e as NodeJS.ErrnoException).code ?? '')) throw e;
  } finally {
    await dh?.close();
  }
}

const TEMP_FILE = /\.tmp-(\d+)-[0-9a-f]{12}$/;

function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Deletes the temp files {@link writeFileAtomic} left in `dir` when a process
 * died mid-write (`<name>.tmp-<pid>-<hex>` whose process is no longer running,
 * or any such file but this process's own when `exclusive` says the caller
 * holds the folder's lock). Not recursive. Returns the names removed.
 *
 * @example
 * ```ts
 * const removed = await removeOrphanTempFiles('runs/tiny'); // ['checkpoint.safetensors.tmp-4242-0a1b2c3d4e5f']
 * ```
 */
export async function removeOrphanTempFiles(dir: string, opts: { exclusive?: boolean } = {}): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = TEMP_FILE.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || (!opts.exclusive && processAlive(pid))) continue;
    await rm(join(dir, basename(name)), { force: true });
    removed.push(name);
  }
  return removed;
}
