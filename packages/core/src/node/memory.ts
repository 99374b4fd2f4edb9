import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';

/**
 * Memory this process may use: the machine's total memory and, when the
 * process runs in a cgroup with a limit (`/sys/fs/cgroup/memory.max`, or
 * cgroup v1's `memory.limit_in_bytes`), that limit, whichever is smaller.
 * Installed as the answer of `availableMemory()` when `@vwn/core/node` is imported.
 *
 * @example
 * ```ts
 * const { bytes, source } = nodeAvailableMemory(); // e.g. { bytes: 25_000_000_000, source: 'machine memory' }
 * ```
 */
export function nodeAvailableMemory(): { bytes: number; source: string } {
  let best = { bytes: totalmem(), source: 'machine memory' };
  for (const [file, label] of [
    ['/sys/fs/cgroup/memory.max', 'cgroup memory.max'],
    ['/sys/fs/cgroup/memory/memory.limit_in_bytes', 'cgroup memory.limit_in_bytes'],
  ] as const) {
    try {
      const v = Number(readFileSync(file, 'utf8').trim()); // "max" → NaN: no limit
      if (Number.isFinite(v) && v > 0 && v < best.bytes) best = { bytes: v, source: label };
    } catch {
      // not in such a cgroup
    }
  }
  return best;
}
