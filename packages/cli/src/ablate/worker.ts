/**
 * `vwn worker`: takes (variant, seed) jobs from the study queue and trains
 * each in a child process (the worker's own event loop only renews job
 * locks and relays progress, so a long step never looks like a stalled job).
 *
 * Where a run is trained: in the coordinator's study folder when this
 * machine sees it (same absolute path, `study.json` with the job's study
 * hash), resuming from the run's checkpoint there; otherwise in a local
 * cache folder (resuming from there after a restart on the same machine),
 * and the run's files travel back in the job's return value.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile, rename } from 'node:fs/promises';
import { cpus, homedir, hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { RUN_FILES } from '@vwn/core';
import type { Job } from 'bullmq';
import { connectQueue, corpusKey, QUEUE_NAME, type QueueUrl } from './redis.js';
import { DONE_FILE, RUN_INFO_FILE, type DoneInfo, type RunInfo } from './run_one.js';
import type { RunJobData, RunJobProgress, RunJobResult } from './queue.js';
import { RunProcessError, spawnRun } from './spawn.js';

/** Options of {@link runWorker}. */
export interface WorkerOptions {
  readonly queue: QueueUrl;
  /** Backend for every run (default: the one each job's study uses). */
  readonly backend?: string | undefined;
  /** Jobs at once (default 1). */
  readonly concurrency?: number | undefined;
  /** Local folder for runs whose study folder is not visible here (default ~/.cache/vwn/worker). */
  readonly cacheDir?: string | undefined;
  /** Never train in the study folder, even when it is visible (results always travel through Redis). */
  readonly isolated?: boolean | undefined;
  /** Job lock duration (BullMQ `lockDuration`, default 30000 ms). */
  readonly lockMs?: number | undefined;
  /** Stalled-job check period (BullMQ `stalledInterval`, default 30000 ms). */
  readonly stalledMs?: number | undefined;
  /** OpenBLAS threads per run (default cores ÷ concurrency). */
  readonly blasThreads?: number | undefined;
  /** Log lines (default stderr). */
  readonly log?: ((line: string) => void) | undefined;
  /** Aborted to stop: running jobs checkpoint and go back to the queue. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * The default cache folder of a worker (`$XDG_CACHE_HOME/vwn/worker` or `~/.cache/vwn/worker`).
 *
 * @example
 * ```ts
 * defaultCacheDir(); // '/home/me/.cache/vwn/worker'
 * ```
 */
export function defaultCacheDir(): string {
  return join(process.env['XDG_CACHE_HOME'] || join(homedir(), '.cache'), 'vwn', 'worker');
}

async function sharedStudy(data: RunJobData): Promise<boolean> {
  try {
    const saved = JSON.parse(await readFile(join(data.studyDir, 'study.json'), 'utf8')) as { hash?: string };
    return saved.hash === data.studyHash;
  } catch {
    return false;
  }
}

/** The corpus file for a job: none for an embedded corpus, else a cached copy of the bytes stored in Redis. */
async function corpusFile(redis: import('ioredis').Redis, data: RunJobData, cacheDir: string): Promise<string | undefined> {
  if ('embedded' in data.corpus) return undefined;
  const { sha256 } = data.corpus;
  const path = join(cacheDir, 'corpus', `${sha256}.txt`);
  if (existsSync(path)) return path;
  const bytes = await redis.getBuffer(corpusKey(sha256));
  if (!bytes) throw new Error(`corpus ${sha256} is not in Redis (expired?); rerun the coordinator to store it again`);
  if (createHash('sha256').update(bytes).digest('hex') !== sha256) throw new Error(`corpus ${sha256}: the bytes in Redis do not match their hash`);
  await mkdir(join(cacheDir, 'corpus'), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, bytes);
  await rename(tmp, path);
  return path;
}

/**
 * Runs a worker until `signal` aborts: resolves when it has closed (running
 * jobs checkpointed and returned to the queue).
 *
 * @example
 * ```ts
 * const stop = new AbortController();
 * process.once('SIGTERM', () => stop.abort());
 * await runWorker({ queue: parseQueueUrl('redis://127.0.0.1:6379'), concurrency: 2, signal: stop.signal });
 * ```
 */
export async function runWorker(opts: WorkerOptions): Promise<void> {
  const { Worker, UnrecoverableError, WaitingError } = await import('bullmq');
  const log = opts.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const redis = await connectQueue(opts.queue);
  const cacheDir = resolve(opts.cacheDir ?? defaultCacheDir());
  const concurrency = opts.concurrency ?? 1;
  const workerId = `${hostname()}:${process.pid}`;
  const blasThreads = opts.blasThreads ?? (process.env['VWN_BLAS_THREADS'] ? undefined : Math.max(1, Math.floor(cpus().length / concurrency)));
  const stopping = new AbortController();

  const processor = async (job: Job<RunJobData, RunJobResult>, token?: string, lockLost?: AbortSignal): Promise<RunJobResult> => {
    const data = job.data;
    const inPlace = !opts.isolated && (await sharedStudy(data));
    // The job id names (study, folder, variant, seed), so a restarted worker on this machine finds its checkpoint again.
    const dir = inPlace ? join(data.studyDir, data.runDir) : join(cacheDir, 'runs', String(job.id));
    const label = `${data.studyName}/${data.variant}/seed-${data.seed}`;
    log(`${label}: job ${job.id} started (${inPlace ? 'in the shared study folder' : `in ${dir}`})`);
    const corpusPath = await corpusFile(redis, data, cacheDir);
    let fromStep: number | null = null;
    let lastReport = 0;
    const steps = data.config.train.steps;
    try {
      const result = await spawnRun(
        {
          config: data.config,
          seed: data.seed,
          dir,
          backend: opts.backend ?? data.backend,
          requireBackend: data.allowMixed ? undefined : data.backend,
          corpusPath,
          worker: workerId,
          blasThreads,
        },
        {
          // Worker stopping: checkpoint, then the job goes back to the queue.
          signal: stopping.signal,
          // Lock lost (e.g. Redis unreachable longer than the lock): kill at once, the job runs again from the checkpoint.
          kill: lockLost,
          onRecord: (r) => {
            if (r.type !== 'train') return;
            fromStep ??= r.step - 1;
            const now = Date.now();
            if (now - lastReport < 250 && r.step !== steps) return;
            lastReport = now;
            const p: RunJobProgress = { step: r.step, steps, loss: r.loss, fromStep };
            job.updateProgress(p as unknown as object).catch(() => {});
          },
        },
      );
      if (!result.finished) {
        log(`${label}: checkpointed; back in the queue`);
        await job.moveToWait(token);
        throw new WaitingError();
      }
      const t0 = Date.now();
      const run = JSON.parse(await readFile(join(dir, RUN_INFO_FILE), 'utf8')) as RunInfo;
      const done = JSON.parse(await readFile(join(dir, DONE_FILE), 'utf8')) as DoneInfo;
      let files: Record<string, string> | undefined;
      if (!inPlace) {
        files = {};
        for (const name of [RUN_FILES.metrics, RUN_FILES.config, RUN_INFO_FILE, DONE_FILE]) files[name] = await readFile(join(dir, name), 'utf8');
      }
      log(`${label}: done (resumed from step ${run.resumedFromStep}, held-out loss ${done.heldOutLoss?.toFixed(4) ?? '?'})`);
      return {
        inPlace,
        ...(files ? { files, checkpointAt: `${hostname()}:${join(dir, RUN_FILES.checkpoint)}` } : {}),
        done,
        run,
        packMs: Date.now() - t0,
      };
    } catch (e) {
      const err = e as Error;
      if (err.name === 'WaitingError') throw e;
      log(`${label}: ${err.message}`);
      if (e instanceof RunProcessError && (e.childName === 'BackendMismatch' || e.childName === 'NonFiniteLossError'))
        throw new UnrecoverableError(err.message);
      if (err.name === 'ConfigError') throw new UnrecoverableError(err.message);
      throw e;
    }
  };

  const worker = new Worker<RunJobData, RunJobResult>(QUEUE_NAME, processor, {
    connection: redis,
    concurrency,
    name: workerId,
    lockDuration: opts.lockMs ?? 30_000,
    stalledInterval: opts.stalledMs ?? 30_000,
    // A killed worker's job comes back after its lock expires; allow that a few times before calling the job failed.
    maxStalledCount: 5,
  });
  worker.on('error', (e) => log(`queue: ${e.message} (retrying)`));
  worker.on('stalled', (id) => log(`job ${id} stalled (its worker died?); back in the queue`));
  await worker.waitUntilReady();
  log(`worker ${workerId} ready on ${opts.queue.redacted} (concurrency ${concurrency}, cache ${cacheDir}${opts.isolated ? ', isolated' : ''})`);
  await new Promise<void>((r) => {
    if (opts.signal?.aborted) r();
    opts.signal?.addEventListener('abort', () => r(), { once: true });
  });
  log('worker stopping: running jobs checkpoint and return to the queue');
  stopping.abort();
  await worker.close();
  redis.disconnect();
}
