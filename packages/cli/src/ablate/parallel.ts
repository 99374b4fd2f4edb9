/**
 * `vwn ablate --parallel N`: N (variant, seed) runs at once, each in its own
 * local child process, no Redis. Results land in the study folder exactly as
 * in the sequential path (each child calls the same `trainRun`).
 *
 * @module
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DONE_FILE } from './run_one.js';
import { plannedRuns, type StudyManifest } from './runner.js';
import { spawnRun } from './spawn.js';
import type { StudyTracker } from './tracker.js';

/** Options of {@link runStudyParallel}. */
export interface ParallelOptions {
  readonly outDir: string;
  /** The opened manifest (from `openStudy`). */
  readonly manifest: StudyManifest;
  /** Runs at once (≥ 1). */
  readonly parallel: number;
  /** Backend each child selects (`auto`, `native`, `cpu`, …). */
  readonly backend: string;
  /** OpenBLAS threads per child (default: cores ÷ N, at least 1). */
  readonly blasThreads?: number | undefined;
  readonly tracker: StudyTracker;
  /** Aborted on Ctrl-C: children checkpoint and stop. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * Runs every unfinished run of the study, `parallel` at a time, in child
 * processes; resolves to whether the study is complete (false when
 * stopped). A failing run rejects after the others have stopped.
 *
 * @example
 * ```ts
 * const manifest = await openStudy(outDir, plan, { backend: 'native' });
 * const complete = await runStudyParallel({ outDir, manifest, parallel: 2, backend: 'native', tracker });
 * ```
 */
export async function runStudyParallel(opts: ParallelOptions): Promise<boolean> {
  const runs = plannedRuns(opts.manifest);
  const todo = runs.filter((r) => {
    if (existsSync(join(opts.outDir, r.dir, DONE_FILE))) {
      opts.tracker.set(r.index, 'skipped');
      return false;
    }
    opts.tracker.set(r.index, 'queued');
    return true;
  });
  let next = 0;
  let stopped = false;
  let failure = null as { error: unknown } | null; // the first run's error, rethrown as it was (set in the lanes)
  const inner = new AbortController();
  const stopAll = () => inner.abort();
  opts.signal?.addEventListener('abort', stopAll, { once: true });
  const lane = async () => {
    while (next < todo.length && !inner.signal.aborted) {
      const run = todo[next++]!;
      opts.tracker.set(run.index, 'active', { where: 'local' });
      try {
        const result = await spawnRun(
          {
            config: run.variant.config,
            seed: run.seed,
            dir: resolve(opts.outDir, run.dir),
            backend: opts.backend,
            requireBackend: opts.manifest.backend,
            worker: 'local',
            blasThreads: opts.blasThreads,
          },
          {
            signal: inner.signal,
            onRecord: (r) => {
              if (r.type === 'train') opts.tracker.progress(run.index, r.step, r.loss);
            },
          },
        );
        if (result.finished) opts.tracker.set(run.index, 'done', { heldOutLoss: result.done?.heldOutLoss ?? null });
        else stopped = true;
      } catch (e) {
        opts.tracker.set(run.index, 'failed', { error: (e as Error).message });
        failure ??= { error: e };
        inner.abort();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.parallel, todo.length)) }, lane));
  opts.signal?.removeEventListener('abort', stopAll);
  opts.tracker.finish();
  if (failure) throw failure.error;
  return !stopped && !inner.signal.aborted;
}
