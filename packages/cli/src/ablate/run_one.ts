/**
 * One (variant, seed) run of a study: the function the sequential, the
 * `--parallel` and the queue paths all call. It trains (or resumes from the
 * run directory's checkpoint), writes `done.json` when finished and records
 * who made the run in `run.json`.
 *
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Trainer, type Corpus, type MetricsRecord, type RunConfig } from '@vwn/core';
import { runDirectory, writeFileAtomic } from '@vwn/core/node';

/** File that marks a finished run. */
export const DONE_FILE = 'done.json';
/** File that records where and by whom a run was made. */
export const RUN_INFO_FILE = 'run.json';

/**
 * `runs/<variant>/seed-<s>/run.json`: the host, backend and process that made
 * a run (the last attempt; earlier attempts of a resumed run are in `attempts`).
 *
 * @example
 * ```ts
 * const info = JSON.parse(readFileSync('ablate-out/quick/runs/baseline/seed-0/run.json', 'utf8')) as RunInfo;
 * console.log(`${info.host} (${info.backend}), worker ${info.worker}, resumed from step ${info.resumedFromStep}`);
 * ```
 */
export interface RunInfo {
  readonly host: string;
  /** Backend label: `native`, `wasm`, `cpu`, `tensorflow` or `webgpu`. */
  readonly backend: string;
  readonly pid: number;
  readonly startedAt: string;
  /** Null while the run is in progress (or was stopped). */
  readonly finishedAt: string | null;
  /** The BullMQ worker id, or `"local"` (sequential or `--parallel` run). */
  readonly worker: string;
  /** Version of @vwn/cli that made the run. */
  readonly vwnVersion: string;
  /** Step the last attempt started from (0 = from scratch, > 0 = resumed from a checkpoint). */
  readonly resumedFromStep: number;
  /** Earlier attempts (stopped or killed), oldest first. */
  readonly attempts?: readonly Omit<RunInfo, 'attempts'>[];
}

/**
 * `done.json`: written when a run reached its last step.
 *
 * @example
 * ```ts
 * const done = JSON.parse(readFileSync('runs/baseline/seed-0/done.json', 'utf8')) as DoneInfo;
 * done.heldOutLoss; // e.g. 2.0512
 * ```
 */
export interface DoneInfo {
  readonly step: number;
  readonly tokens: number;
  readonly heldOutLoss: number | null;
  readonly elapsedMs: number;
}

/**
 * The version of @vwn/cli (from its package.json).
 *
 * @example
 * ```ts
 * vwnVersion(); // '0.1.0'
 * ```
 */
export function vwnVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/**
 * The label a backend selection is recorded under: `native` when @vwn/blas's
 * matMul is on, else tfjs's backend name.
 *
 * @example
 * ```ts
 * backendLabel(await useBackend('auto')); // 'native' with @vwn/blas built, else 'wasm'
 * ```
 */
export function backendLabel(selected: { backend: string; note: string }): string {
  return selected.backend === 'wasm' && /native BLAS/.test(selected.note) ? 'native' : selected.backend;
}

/**
 * The config a seed runs: the variant's config with model and data seeds set.
 *
 * @example
 * ```ts
 * seededConfig(plan.variants[0]!.config, 2).train.seed; // 2
 * ```
 */
export function seededConfig(base: RunConfig, seed: number): RunConfig {
  return { ...base, model: { ...base.model, seed }, train: { ...base.train, seed } };
}

/** Options of {@link trainRun}. */
export interface TrainRunOptions {
  /** The variant's resolved config (the seed is applied here). */
  readonly config: RunConfig;
  readonly seed: number;
  readonly corpus: Corpus;
  /** Run directory (checkpoint, metrics.jsonl, config.json, done.json, run.json). */
  readonly dir: string;
  /** Backend label recorded in run.json (see {@link backendLabel}). */
  readonly backend: string;
  /** Worker id recorded in run.json (default `"local"`). */
  readonly worker?: string | undefined;
  /** Called with every metrics record. */
  readonly onRecord?: ((record: MetricsRecord) => void) | undefined;
  /** Asked after every train step; true stops after a checkpoint. */
  readonly shouldStop?: (() => boolean) | undefined;
}

/** What {@link trainRun} did. */
export interface TrainRunResult {
  /** The run reached its last step (done.json written). */
  readonly finished: boolean;
  /** The run was already finished: nothing was trained. */
  readonly skipped: boolean;
  /** Step it started from (0 or the checkpoint's). */
  readonly resumedFromStep: number;
  readonly done: DoneInfo | null;
}

async function readInfo(path: string): Promise<RunInfo | null> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as RunInfo;
  } catch {
    return null;
  }
}

/**
 * Trains one (variant, seed) run in `dir`, resuming from its checkpoint;
 * skips it when `done.json` is there. Writes `run.json` at the start and
 * again when finished, and `done.json` last.
 *
 * @example
 * ```ts
 * const r = await trainRun({ config: plan.variants[0]!.config, seed: 0, corpus, dir: 'out/runs/baseline/seed-0', backend: 'cpu' });
 * r.finished; // true
 * ```
 */
export async function trainRun(opts: TrainRunOptions): Promise<TrainRunResult> {
  const { dir } = opts;
  if (existsSync(join(dir, DONE_FILE))) {
    const done = JSON.parse(await readFile(join(dir, DONE_FILE), 'utf8')) as DoneInfo;
    return { finished: true, skipped: true, resumedFromStep: done.step, done };
  }
  const config = seededConfig(opts.config, opts.seed);
  const trainer = await Trainer.create({
    config,
    corpus: opts.corpus,
    store: runDirectory(dir),
    resume: true,
    onRecord: (record) => {
      opts.onRecord?.(record);
      if (record.type === 'train' && opts.shouldStop?.()) trainer.requestStop();
    },
  });
  try {
    const infoPath = join(dir, RUN_INFO_FILE);
    const previous = await readInfo(infoPath);
    const { attempts: earlier = [], ...prevAttempt } = previous ?? ({} as RunInfo);
    const info: RunInfo = {
      host: hostname(),
      backend: opts.backend,
      pid: process.pid,
      startedAt: new Date().toISOString(),
      finishedAt: null,
      worker: opts.worker ?? 'local',
      vwnVersion: vwnVersion(),
      resumedFromStep: trainer.step,
      ...(previous ? { attempts: [...earlier, prevAttempt as Omit<RunInfo, 'attempts'>] } : {}),
    };
    await writeFileAtomic(infoPath, JSON.stringify(info, null, 2) + '\n');
    await trainer.run();
    const finished = trainer.step >= config.train.steps;
    let done: DoneInfo | null = null;
    if (finished) {
      done = { step: trainer.step, tokens: trainer.tokens, heldOutLoss: trainer.lastEval?.loss ?? null, elapsedMs: trainer.elapsedMs };
      await writeFileAtomic(infoPath, JSON.stringify({ ...info, finishedAt: new Date().toISOString() }, null, 2) + '\n');
      await writeFileAtomic(join(dir, DONE_FILE), JSON.stringify(done) + '\n');
    }
    return { finished, skipped: false, resumedFromStep: info.resumedFromStep, done };
  } finally {
    trainer.dispose();
  }
}
