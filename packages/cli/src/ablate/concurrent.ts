/**
 * The two concurrent ways to run a study from `vwn ablate`: `--parallel N`
 * (local child processes) and `--queue URL` (BullMQ workers), with one
 * status display ({@link StudyTracker}) and Ctrl-C handling.
 *
 * @module
 */
import { cpus } from 'node:os';
import { resolveDataConfig } from '@vwn/core';
import { runStudyParallel } from './parallel.js';
import { runStudyOnQueue } from './queue.js';
import { parseQueueUrl } from './redis.js';
import { openStudy, plannedRuns, type StudyManifest } from './runner.js';
import { StudyTracker } from './tracker.js';
import type { StudySpec } from './studies.js';

/** Options of {@link runConcurrentStudy}. */
export interface ConcurrentOptions {
  readonly spec: StudySpec;
  readonly plan: StudyManifest;
  readonly outDir: string;
  /** `--queue URL`: run on BullMQ workers. */
  readonly queue?: string | undefined;
  /** `--parallel N`: local child processes (ignored with `queue`). */
  readonly parallel?: number | undefined;
  /** Backend the runs select (`--backend`, default `auto`). */
  readonly backend: string;
  /** Backend label the study records and every run must use. */
  readonly backendLabel: string;
  readonly allowMixed?: boolean | undefined;
  readonly blasThreads?: number | undefined;
  readonly json?: boolean | undefined;
  /** Aborted by the caller's SIGINT/SIGTERM handler: local runs checkpoint and stop; a queued study detaches (the workers go on). */
  readonly signal: AbortSignal;
}

/**
 * Runs (or resumes, or re-attaches to) a study concurrently; resolves to
 * whether it is complete (false after Ctrl-C).
 *
 * @example
 * ```ts
 * const complete = await runConcurrentStudy({ spec, plan, outDir: 'ablate-out/quick', parallel: 2, backend: 'auto', backendLabel: 'native' });
 * ```
 */
export async function runConcurrentStudy(opts: ConcurrentOptions): Promise<boolean> {
  const queue = opts.queue !== undefined ? parseQueueUrl(opts.queue) : null;
  const manifest = await openStudy(opts.outDir, opts.plan, { backend: opts.backendLabel, allowMixed: opts.allowMixed });
  const tracker = new StudyTracker(plannedRuns(manifest), { json: Boolean(opts.json) });
  if (queue) {
    if (!opts.json) process.stderr.write(`study ${manifest.hash} on ${queue.redacted}: ${plannedRuns(manifest).length} runs, backend ${manifest.backend}\n`);
    return runStudyOnQueue({
      outDir: opts.outDir,
      manifest,
      queue,
      corpus: resolveDataConfig(opts.spec.base.data ?? {}).corpus,
      allowMixed: opts.allowMixed,
      tracker,
      signal: opts.signal,
    });
  }
  const parallel = opts.parallel ?? 1;
  return runStudyParallel({
    outDir: opts.outDir,
    manifest,
    parallel,
    backend: opts.backend,
    blasThreads: opts.blasThreads ?? (process.env['VWN_BLAS_THREADS'] ? undefined : Math.max(1, Math.floor(cpus().length / parallel))),
    tracker,
    signal: opts.signal,
  });
}
