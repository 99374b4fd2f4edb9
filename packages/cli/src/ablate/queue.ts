/**
 * The coordinator of a distributed study (`vwn ablate --queue URL`): one
 * BullMQ job per (variant, seed), ids derived from the study, so a restarted
 * coordinator re-attaches instead of enqueueing twice; progress and a
 * whole-study ETA from the jobs' progress; results written into the study
 * folder (by the worker itself when it sees the folder, else from the job's
 * return value).
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ConfigError, type RunConfig } from '@vwn/core';
import { writeFileAtomic } from '@vwn/core/node';
import { EMBEDDED_CORPORA } from '@vwn/datasets';
import type { Job, Queue, QueueEvents } from 'bullmq';
import { connectQueue, corpusKey, QUEUE_NAME, type QueueUrl } from './redis.js';
import { DONE_FILE, RUN_INFO_FILE, type DoneInfo, type RunInfo } from './run_one.js';
import { plannedRuns, type PlannedRun, type StudyManifest } from './runner.js';
import type { StudyTracker } from './tracker.js';

/** Where a job's corpus comes from: an embedded corpus, or bytes stored in Redis under their sha256. */
export type CorpusRef = { readonly embedded: string } | { readonly sha256: string; readonly bytes: number };

/**
 * The data of one queue job: everything a worker needs to train one run.
 *
 * @example
 * ```ts
 * const data: RunJobData = job.data; // in a worker
 * data.studyDir; // the coordinator's absolute study folder
 * ```
 */
export interface RunJobData {
  readonly studyHash: string;
  readonly studyName: string;
  /** The coordinator's absolute study folder (a worker that sees it trains in place). */
  readonly studyDir: string;
  readonly variant: string;
  readonly seed: number;
  /** Run directory relative to the study folder. */
  readonly runDir: string;
  /** The variant's resolved config (seed applied by the worker). */
  readonly config: RunConfig;
  /** Backend label the study's runs use. */
  readonly backend: string;
  /** `--allow-mixed`: a worker with another backend may train it. */
  readonly allowMixed: boolean;
  readonly corpus: CorpusRef;
}

/**
 * A job's return value.
 *
 * @example
 * ```ts
 * const r = job.returnvalue as RunJobResult;
 * if (!r.inPlace) console.log(Object.keys(r.files)); // metrics.jsonl, config.json, run.json, done.json
 * ```
 */
export interface RunJobResult {
  /** The worker wrote into the study folder itself (shared storage). */
  readonly inPlace: boolean;
  /** The run's files (when not in place): name → content. */
  readonly files?: Readonly<Record<string, string>>;
  readonly done: DoneInfo;
  readonly run: RunInfo;
  /** Where the run's checkpoint stays (`host:path`) when it did not travel. */
  readonly checkpointAt?: string;
  /** Milliseconds the worker spent collecting the files. */
  readonly packMs: number;
}

/** Progress a worker reports on its job. */
export interface RunJobProgress {
  readonly step: number;
  readonly steps: number;
  readonly loss: number;
  /** The step the current attempt started from. */
  readonly fromStep: number;
}

/**
 * The job id of a run: study hash, a hash of the absolute study folder (two
 * folders with the same grid are two studies), variant and seed; no `:`
 * (BullMQ's rule for custom ids).
 *
 * @example
 * ```ts
 * jobId('3f9a0c12d4e5b6a7', '/data/quick', 'vwn-r4', 2); // 'vwn-3f9a0c12d4e5b6a7-1c2d3e4f-vwn-r4-s2'
 * ```
 */
export function jobId(studyHash: string, studyDir: string, variant: string, seed: number): string {
  const folder = createHash('sha256').update(resolve(studyDir)).digest('hex').slice(0, 8);
  return `vwn-${studyHash}-${folder}-${variant}-s${seed}`;
}

/** Options of {@link runStudyOnQueue}. */
export interface QueueStudyOptions {
  readonly outDir: string;
  /** The opened manifest (`openStudy`), with its hash and backend. */
  readonly manifest: StudyManifest;
  readonly queue: QueueUrl;
  /** The corpus the study names (embedded name or file path). */
  readonly corpus: string;
  readonly allowMixed?: boolean | undefined;
  readonly tracker: StudyTracker;
  /** Aborted on Ctrl-C: the coordinator detaches (jobs go on; rerun to re-attach). */
  readonly signal?: AbortSignal | undefined;
  /** Fallback poll period of job states (default 1000 ms; events wake it sooner). */
  readonly pollMs?: number | undefined;
}

/**
 * A job of the study failed for good (e.g. non-finite loss, backend
 * mismatch): rerun the coordinator to retry it.
 *
 * @example
 * ```ts
 * try { await runStudyOnQueue(opts); } catch (e) { if (e instanceof QueueJobError) console.error(e.jobId, e.message); }
 * ```
 */
export class QueueJobError extends Error {
  constructor(
    message: string,
    readonly jobId: string,
  ) {
    super(message);
    this.name = 'QueueJobError';
  }
}

/** Per-job timings the coordinator measured (for `--json` and the docs' overhead numbers). */
interface Timing {
  /** Enqueue → a worker took it (ms). */
  queueMs: number | null;
  /** Worker finished → files written here (ms). */
  resultMs: number;
  /** Return value size (bytes). */
  resultBytes: number;
  /** A worker took it → its run process had the model ready (process start, imports, backend, corpus). */
  spawnMs: number | null;
  readonly worker: string;
  readonly timestamp: number;
  readonly processedOn: number | null;
  readonly finishedOn: number | null;
}

const median = (xs: number[]): number | null => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/**
 * The queue's overhead per job, from the coordinator's timings: pickup =
 * enqueue (or the same worker's previous job's end, when it was busy) →
 * a worker took the job; spawn = took it → model ready; result = the
 * worker finished → files written in the study folder.
 */
function overhead(timings: readonly Timing[]) {
  const pickup: number[] = [];
  for (const t of timings) {
    if (t.processedOn === null) continue;
    const prevEnd = Math.max(
      0,
      ...timings.filter((o) => o !== t && o.worker === t.worker && o.finishedOn !== null && o.finishedOn <= t.processedOn!).map((o) => o.finishedOn!),
    );
    pickup.push(t.processedOn - Math.max(t.timestamp, prevEnd));
  }
  return {
    jobs: timings.length,
    pickupMsMedian: median(pickup),
    pickupMsMax: pickup.length ? Math.max(...pickup) : null,
    spawnMsMedian: median(timings.flatMap((t) => (t.spawnMs === null ? [] : [t.spawnMs]))),
    resultMsMedian: median(timings.map((t) => t.resultMs)),
    resultBytesMedian: median(timings.map((t) => t.resultBytes)),
  };
}

async function storeCorpus(redis: import('ioredis').Redis, corpus: string): Promise<CorpusRef> {
  if ((EMBEDDED_CORPORA as readonly string[]).includes(corpus)) return { embedded: corpus };
  if (!existsSync(corpus)) throw new ConfigError('data.corpus', `file not found: ${corpus} (or use one of: ${EMBEDDED_CORPORA.join(', ')})`);
  const bytes = await readFile(corpus);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const key = corpusKey(sha256);
  // Stored once per content; kept 30 days after the last coordinator start.
  await redis.set(key, bytes, 'EX', 30 * 24 * 3600, 'NX');
  await redis.expire(key, 30 * 24 * 3600);
  return { sha256, bytes: bytes.length };
}

/**
 * Runs a study on the queue: enqueues (or re-attaches to) one job per
 * unfinished run, tracks them until every run has its `done.json`, writing
 * results that travelled back in the job's return value. Resolves to true
 * when complete, false when detached (Ctrl-C); throws {@link QueueJobError}
 * when a job failed for good.
 *
 * @example
 * ```ts
 * const manifest = await openStudy(outDir, plan, { backend: 'native' });
 * await runStudyOnQueue({ outDir, manifest, queue: parseQueueUrl('redis://127.0.0.1:6379'), corpus: 'tinyshakespeare', tracker });
 * ```
 */
export async function runStudyOnQueue(opts: QueueStudyOptions): Promise<boolean> {
  const { Queue, QueueEvents } = await import('bullmq');
  const redis = await connectQueue(opts.queue);
  const queue: Queue = new Queue(QUEUE_NAME, { connection: redis });
  queue.on('error', () => {});
  let events: QueueEvents | null = null;
  let eventsRedis: import('ioredis').Redis | null = null;
  const studyDir = resolve(opts.outDir);
  const manifest = opts.manifest;
  const runs = plannedRuns(manifest);
  const ids = new Map<string, PlannedRun>();
  const jobData = new Map<string, RunJobData>();
  const jobOpts = { removeOnComplete: false, removeOnFail: false, attempts: 3, backoff: { type: 'fixed' as const, delay: 1000 } };
  const pending = new Set<number>();
  let wake: () => void = () => {};
  // Set by events that arrive while the loop is busy, so it looks again at once instead of sleeping.
  let dirty = false;
  try {
    const corpus = await storeCorpus(redis, opts.corpus);
    for (const run of runs) {
      if (existsSync(join(studyDir, run.dir, DONE_FILE))) {
        opts.tracker.set(run.index, 'skipped');
        continue;
      }
      const id = jobId(manifest.hash!, studyDir, run.variant.name, run.seed);
      ids.set(id, run);
      pending.add(run.index);
      const data: RunJobData = {
        studyHash: manifest.hash!,
        studyName: manifest.name,
        studyDir,
        variant: run.variant.name,
        seed: run.seed,
        runDir: run.dir,
        config: run.variant.config,
        backend: manifest.backend!,
        allowMixed: opts.allowMixed ?? false,
        corpus,
      };
      // Same id → BullMQ keeps the existing job: a restarted coordinator never enqueues twice.
      jobData.set(id, data);
      const added = await queue.add('run', data, { jobId: id, ...jobOpts });
      // add() hands back a local object; the stored job (enqueued earlier, when re-attaching) has the real timestamp.
      const job = (await queue.getJob(id)) ?? added;
      const state = await job.getState();
      if (state === 'failed') await job.retry('failed');
      opts.tracker.set(run.index, 'queued', { jobId: id, state: state === 'failed' ? 'retried' : state, enqueuedAt: job.timestamp });
    }
    if (pending.size === 0) return true;

    eventsRedis = redis.duplicate();
    eventsRedis.on('error', () => {});
    events = new QueueEvents(QUEUE_NAME, { connection: eventsRedis });
    events.on('error', () => {});
    for (const name of ['active', 'progress', 'completed', 'failed', 'stalled'] as const) {
      events.on(name, ({ jobId: id }: { jobId: string }) => {
        if (!ids.has(id)) return;
        dirty = true;
        wake();
      });
    }

    const timings: Timing[] = [];
    const lastStep = new Map<number, number>();
    while (pending.size > 0) {
      if (opts.signal?.aborted) return false;
      dirty = false;
      for (const [id, run] of ids) {
        if (!pending.has(run.index)) continue;
        // State first: a job seen 'completed' already has its return value (both change in one Redis script).
        const state = await queue.getJobState(id);
        const job = (await queue.getJob(id)) as Job<RunJobData, RunJobResult> | undefined;
        if (!job || state === 'unknown') {
          // Gone (queue obliterated, Redis restarted without persistence): store the corpus and enqueue it again.
          await storeCorpus(redis, opts.corpus);
          await queue.add('run', jobData.get(id)!, { jobId: id, ...jobOpts });
          opts.tracker.set(run.index, 'queued', { jobId: id, state: 're-enqueued' });
          continue;
        }
        if (state === 'active') {
          if (opts.tracker.state(run.index) !== 'active' && job.processedOn)
            opts.tracker.set(run.index, 'active', {
              where: job.processedBy ?? '',
              jobId: id,
              queueMs: job.processedOn ? job.processedOn - job.timestamp : null,
            });
          const p = job.progress as RunJobProgress | number;
          if (typeof p === 'object' && p !== null && p.step !== lastStep.get(run.index)) {
            lastStep.set(run.index, p.step);
            opts.tracker.progress(run.index, p.step, p.loss);
          }
        } else if (state === 'completed' && job.returnvalue) {
          const t0 = Date.now();
          const result = job.returnvalue;
          await writeResult(studyDir, run, result);
          const timing: Timing = {
            queueMs: job.processedOn ? job.processedOn - job.timestamp : null,
            resultMs: Date.now() - (job.finishedOn ?? t0),
            resultBytes: Buffer.byteLength(JSON.stringify(result)),
            spawnMs: job.processedOn ? Date.parse(result.run.startedAt) - job.processedOn : null,
            worker: job.processedBy ?? result.run.worker,
            timestamp: job.timestamp,
            processedOn: job.processedOn ?? null,
            finishedOn: job.finishedOn ?? null,
          };
          timings.push(timing);
          pending.delete(run.index);
          opts.tracker.set(run.index, 'done', {
            where: `${result.run.host} ${result.run.worker}`,
            jobId: id,
            inPlace: result.inPlace,
            resumedFromStep: result.run.resumedFromStep,
            attempts: job.attemptsStarted ?? job.attemptsMade,
            stalled: job.stalledCounter ?? 0,
            packMs: result.packMs,
            writeMs: Date.now() - t0,
            queueMs: timing.queueMs,
            spawnMs: timing.spawnMs,
            resultMs: timing.resultMs,
            resultBytes: timing.resultBytes,
          });
        } else if (state === 'waiting' || state === 'delayed' || state === 'prioritized') {
          // Back in the queue (its worker stopped or died).
          if (opts.tracker.state(run.index) === 'active') opts.tracker.set(run.index, 'queued', { jobId: id, state });
        } else if (state === 'failed') {
          opts.tracker.set(run.index, 'failed', { jobId: id, error: job.failedReason });
          throw new QueueJobError(
            `${run.variant.name} seed ${run.seed} failed on a worker: ${job.failedReason}; fix the cause and rerun the same command to retry it`,
            id,
          );
        }
      }
      if (pending.size === 0) break;
      opts.tracker.line();
      if (dirty) continue;
      await new Promise<void>((r) => {
        const done = () => {
          clearTimeout(t);
          opts.signal?.removeEventListener('abort', done);
          wake = () => {};
          r();
        };
        const t = setTimeout(done, opts.pollMs ?? 1000);
        wake = done;
        opts.signal?.addEventListener('abort', done, { once: true });
      });
    }
    opts.tracker.finish();
    if (timings.length > 0) opts.tracker.emit({ type: 'queue-overhead', ...overhead(timings) });
    // Every result is in the folder now: free Redis of this study's jobs.
    for (const id of ids.keys()) await (await queue.getJob(id))?.remove().catch(() => {});
    return true;
  } finally {
    await events?.close().catch(() => {});
    await queue.close().catch(() => {});
    // BullMQ does not close connections it was given.
    eventsRedis?.disconnect();
    redis.disconnect();
  }
}

/** Writes a completed job's result into the study folder (unless the worker did), done.json last. */
async function writeResult(studyDir: string, run: PlannedRun, result: RunJobResult): Promise<void> {
  const dir = join(studyDir, run.dir);
  if (result.inPlace) {
    if (!existsSync(join(dir, DONE_FILE))) {
      throw new QueueJobError(
        `the worker reported ${run.variant.name} seed ${run.seed} done in place, but ${join(dir, DONE_FILE)} is missing (is the study folder shared?)`,
        run.dir,
      );
    }
    return;
  }
  const files = result.files ?? {};
  for (const [name, content] of Object.entries(files)) {
    if (name === DONE_FILE || name.includes('/') || name.includes('\\')) continue;
    const text = name === RUN_INFO_FILE ? JSON.stringify({ ...(JSON.parse(content) as RunInfo), checkpointAt: result.checkpointAt }, null, 2) + '\n' : content;
    await writeFileAtomic(join(dir, name), text);
  }
  await writeFileAtomic(join(dir, DONE_FILE), files[DONE_FILE] ?? JSON.stringify(result.done) + '\n');
}
