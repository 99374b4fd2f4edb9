import { hostname } from 'node:os';
import { readFileSync, unlinkSync } from 'node:fs';
import { link, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { RunStateError } from '../errors.js';

/**
 * Name of the lock file inside a locked folder.
 *
 * @example
 * ```ts
 * existsSync(join('runs/tiny', LOCK_FILE)); // true while `vwn train --out runs/tiny` runs
 * ```
 */
export const LOCK_FILE = '.vwn.lock';

/**
 * What a lock file records about its owner.
 *
 * @example
 * ```ts
 * const owner: LockOwner = JSON.parse(readFileSync('runs/tiny/.vwn.lock', 'utf8'));
 * console.log(`held by pid ${owner.pid} on ${owner.host} since ${owner.since}`);
 * ```
 */
export interface LockOwner {
  readonly pid: number;
  readonly host: string;
  /** What holds it (e.g. `vwn train`). */
  readonly command: string;
  /** ISO time the lock was taken. */
  readonly since: string;
  /** The owner's start time in clock ticks since boot (Linux, from /proc), to tell a reused pid from the owner. */
  readonly startTicks: number | null;
  /** Random token that tells two owners with the same pid apart. */
  readonly token: string;
}

/**
 * A held folder lock; {@link FolderLock.release} gives it back (also done at process exit).
 *
 * @example
 * ```ts
 * const lock = await lockFolder('runs/tiny', { command: 'vwn train' });
 * try { await trainer.run(); } finally { await lock.release(); }
 * ```
 */
export interface FolderLock {
  /** The lock file. */
  readonly path: string;
  readonly owner: LockOwner;
  /** Set when a stale lock (dead owner on this host) was taken over. */
  readonly tookOver: LockOwner | null;
  /** Removes the lock file if it is still this lock's. */
  release(): Promise<void>;
}

function startTicks(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22 (starttime); the command name (field 2) may hold spaces, so count after its ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const v = Number(fields[19]);
    return Number.isFinite(v) ? v : null;
  } catch {
    return null;
  }
}

/** Whether the recorded owner still runs (on this host). */
function ownerAlive(o: LockOwner): boolean {
  try {
    process.kill(o.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  // The pid exists; it is the owner unless its start time says it was reused.
  const now = startTicks(o.pid);
  return o.startTicks === null || now === null || now === o.startTicks;
}

function parseOwner(text: string): LockOwner | null {
  try {
    const o = JSON.parse(text) as LockOwner;
    return typeof o.pid === 'number' && typeof o.host === 'string' && typeof o.token === 'string' ? o : null;
  } catch {
    return null;
  }
}

const held = new Set<string>();
let exitHook = false;

/**
 * Takes the lock of an output folder (created if missing) so that two
 * processes never write one run or study: the lock file `.vwn.lock` records
 * the owner's pid, host and start. A lock whose owner no longer runs on this
 * host (killed, crashed) is stale and taken over (`onNotice` says so); a live
 * owner, or one on another host, gives a {@link RunStateError} naming it.
 * Released by {@link FolderLock.release} or when the process exits; a
 * `kill -9` leaves a stale lock, which the next run takes over.
 *
 * @example
 * ```ts
 * const lock = await lockFolder('runs/tiny', { command: 'vwn train', onNotice: (m) => console.error(m) });
 * // … train …
 * await lock.release();
 * ```
 */
export async function lockFolder(dir: string, opts: { command?: string; onNotice?: (message: string) => void } = {}): Promise<FolderLock> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || code === 'ENOTDIR') throw new RunStateError(dir, `${dir} is a file, not a folder; choose another --out`);
    throw e;
  }
  const path = join(dir, LOCK_FILE);
  const owner: LockOwner = {
    pid: process.pid,
    host: hostname(),
    command: opts.command ?? 'vwn',
    since: new Date().toISOString(),
    startTicks: startTicks(process.pid),
    token: randomBytes(8).toString('hex'),
  };
  const text = JSON.stringify(owner) + '\n';
  // The lock appears with its content at once: written to a temp name, then hard-linked (fails if taken).
  const tmp = `${path}.${owner.token}`;
  await writeFile(tmp, text);
  let tookOver: LockOwner | null = null;
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await link(tmp, path);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      let current: string;
      try {
        current = await readFile(path, 'utf8');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue; // released meanwhile: try again
        throw e;
      }
      const other = parseOwner(current);
      const describeOther = other ? `pid ${other.pid} on ${other.host} (${other.command}, since ${other.since})` : 'an unreadable lock file';
      if (other && other.host === owner.host && other.pid === process.pid && held.has(path)) {
        throw new RunStateError(dir, `${dir} is already locked by this process`);
      }
      if (other && other.host !== owner.host) {
        throw new RunStateError(dir, `${dir} is in use by ${describeOther}; wait for it to finish, or delete ${path} if that process is gone`);
      }
      if (other && ownerAlive(other)) {
        throw new RunStateError(dir, `${dir} is in use by ${describeOther}; wait for it to finish or choose another --out`);
      }
      if (attempt > 5) throw new RunStateError(dir, `cannot take the lock ${path} (it keeps changing); retry`);
      // Stale: replace it, unless someone else replaced it first.
      if ((await readFile(path, 'utf8').catch(() => '')) !== current) continue;
      await rename(tmp, path);
      await writeFile(tmp, text); // keep tmp for the cleanup below
      const now = await readFile(path, 'utf8').catch(() => '');
      if (now !== text) continue;
      tookOver = other ?? { pid: -1, host: owner.host, command: '(unreadable)', since: '', startTicks: null, token: '' };
      opts.onNotice?.(`taking over the lock of ${describeOther}: that process is no longer running`);
      break;
    }
  } finally {
    await rm(tmp, { force: true });
  }
  held.add(path);
  if (!exitHook) {
    exitHook = true;
    process.on('exit', () => {
      for (const p of held) {
        try {
          if (parseOwner(readFileSync(p, 'utf8'))?.pid === process.pid) unlinkSync(p);
        } catch {
          // already gone
        }
      }
    });
  }
  return {
    path,
    owner,
    tookOver,
    async release() {
      if (!held.delete(path)) return;
      const now = await readFile(path, 'utf8').catch(() => '');
      if (parseOwner(now)?.token === owner.token) await rm(path, { force: true });
    },
  };
}
