/**
 * Runs one (variant, seed) run in a child process (see `child.ts`), for
 * `vwn ablate --parallel` and `vwn worker`.
 *
 * @module
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ConfigError, type MetricsRecord, type RunConfig } from '@vwn/core';
import type { TrainRunResult } from './run_one.js';

/**
 * What a child process needs to train one run.
 *
 * @example
 * ```ts
 * const task: RunTask = { config: plan.variants[0]!.config, seed: 0, dir: '/data/study/runs/baseline/seed-0', backend: 'cpu', worker: 'local' };
 * ```
 */
export interface RunTask {
  /** The variant's resolved config (without the seed applied). */
  readonly config: RunConfig;
  readonly seed: number;
  /** Absolute run directory. */
  readonly dir: string;
  /** Backend to select (`auto`, `native`, `cpu`, …). */
  readonly backend: string;
  /** Refuse to train unless the selected backend's label is this one. */
  readonly requireBackend?: string | undefined;
  /** Read the corpus text from this file instead of `config.data.corpus` (same text, e.g. a worker's cached copy). */
  readonly corpusPath?: string | undefined;
  /** Recorded in run.json: a worker id or `"local"`. */
  readonly worker: string;
  /** OpenBLAS threads for this process (sets `VWN_BLAS_THREADS`). */
  readonly blasThreads?: number | undefined;
}

/** Parent → child messages. */
export type ParentMessage = { type: 'task'; task: RunTask } | { type: 'stop' };

/** Child → parent messages. */
export type ChildMessage =
  | { type: 'backend'; backend: string; note: string }
  | { type: 'record'; record: MetricsRecord }
  | { type: 'result'; result: TrainRunResult }
  | { type: 'error'; name: string; message: string; field?: string | undefined };

/**
 * A run's child process failed: its error name and message (a
 * `ConfigError` in the child is rethrown as one).
 *
 * @example
 * ```ts
 * try { await spawnRun(task); } catch (e) { if (e instanceof RunProcessError) console.error(e.childName, e.message); }
 * ```
 */
export class RunProcessError extends Error {
  constructor(
    message: string,
    /** The child's error name (`ConfigError`, `NonFiniteLossError`, `BackendMismatch`, or `exit` when it died). */
    readonly childName: string,
  ) {
    super(message);
    this.name = 'RunProcessError';
  }
}

/** Options of {@link spawnRun}. */
export interface SpawnRunOptions {
  readonly onRecord?: ((record: MetricsRecord) => void) | undefined;
  readonly onBackend?: ((backend: string, note: string) => void) | undefined;
  /** Aborting asks the child to checkpoint and stop. */
  readonly signal?: AbortSignal | undefined;
  /** Aborting kills the child at once (no checkpoint: e.g. the job's lock was lost and another worker may take it). */
  readonly kill?: AbortSignal | undefined;
  /** Extra environment for the child. */
  readonly env?: NodeJS.ProcessEnv | undefined;
}

/** Path of the child entry and the Node flags to run it (tsx when running from TypeScript sources). */
function childCommand(): { file: string; execArgv: string[] } {
  const here = fileURLToPath(import.meta.url);
  const ts = here.endsWith('.ts');
  const file = fileURLToPath(new URL(`./child${ts ? '.ts' : '.js'}`, import.meta.url));
  const execArgv = [...process.execArgv];
  if (ts && !execArgv.some((a) => a.includes('tsx'))) execArgv.push('--import', 'tsx');
  return { file, execArgv };
}

/**
 * Trains one run in a fresh Node process; resolves to its result. The
 * child exits by itself when this process dies.
 *
 * @example
 * ```ts
 * const result = await spawnRun(task, { onRecord: (r) => r.type === 'train' && console.log(r.step, r.loss) });
 * result.finished; // true
 * ```
 */
export function spawnRun(task: RunTask, opts: SpawnRunOptions = {}): Promise<TrainRunResult> {
  const { file, execArgv } = childCommand();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...execArgv, file], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      env: { ...process.env, ...opts.env },
    });
    let stderr = '';
    let settled = false;
    let result: TrainRunResult | null = null;
    let error: RunProcessError | ConfigError | null = null;
    child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    const onAbort = () => {
      if (child.connected) child.send({ type: 'stop' } satisfies ParentMessage);
    };
    const onKill = () => child.kill('SIGKILL');
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    opts.kill?.addEventListener('abort', onKill, { once: true });
    child.on('message', (m: ChildMessage) => {
      if (m.type === 'record') opts.onRecord?.(m.record);
      else if (m.type === 'backend') opts.onBackend?.(m.backend, m.note);
      else if (m.type === 'result') result = m.result;
      else if (m.type === 'error') {
        error = m.name === 'ConfigError' && m.field ? new ConfigError(m.field, m.message.slice(m.field.length + 2)) : new RunProcessError(m.message, m.name);
      }
    });
    const finish = (code: number | null, signal: NodeJS.Signals | null) => {
      if (settled) return;
      settled = true;
      opts.signal?.removeEventListener('abort', onAbort);
      opts.kill?.removeEventListener('abort', onKill);
      if (result) resolve(result);
      else if (error) reject(error);
      else {
        const last = stderr.trim().split('\n').slice(-5).join('\n');
        reject(new RunProcessError(`run process ended (${signal ?? `exit code ${code}`}) without a result${last ? `:\n${last}` : ''}`, 'exit'));
      }
    };
    child.on('close', finish);
    child.on('error', (e) => {
      error = new RunProcessError(`could not start the run process: ${e.message}`, 'exit');
      finish(null, null);
    });
    child.send({ type: 'task', task } satisfies ParentMessage);
  });
}
