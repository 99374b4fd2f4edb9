import { BACKENDS, ConfigError } from '@vwn/core';
import { parseQueueUrl } from '../ablate/redis.js';
import { runWorker } from '../ablate/worker.js';

/** Options of `vwn worker`. */
export interface WorkerCommandOptions {
  readonly queue?: string | undefined;
  readonly backend?: string | undefined;
  readonly concurrency?: number | undefined;
  readonly cache?: string | undefined;
  readonly isolated?: boolean | undefined;
  readonly lockMs?: number | undefined;
  readonly stalledMs?: number | undefined;
  readonly blasThreads?: number | undefined;
}

const positiveInt = (v: number | undefined, flag: string): void => {
  if (v !== undefined && (!Number.isInteger(v) || v < 1)) throw new ConfigError(flag, `must be a positive integer, got ${v}`);
};

/**
 * `vwn worker`: trains queued study runs until SIGINT/SIGTERM (running jobs
 * checkpoint and go back to the queue). Returns the exit code.
 */
export async function workerCommand(opts: WorkerCommandOptions): Promise<number> {
  // The URL may come from the environment, so a password stays out of the process list.
  const url = opts.queue ?? process.env['VWN_QUEUE_URL'];
  if (url === undefined) throw new ConfigError('--queue', 'is required (or VWN_QUEUE_URL): redis://[user:pass@]host:port[/db] (or rediss:// for TLS)');
  const queue = parseQueueUrl(url);
  if (opts.backend !== undefined && !(BACKENDS as readonly string[]).includes(opts.backend)) {
    throw new ConfigError('--backend', `got "${opts.backend}"; allowed: ${BACKENDS.map((b) => `"${b}"`).join(', ')}`);
  }
  positiveInt(opts.concurrency, '--concurrency');
  positiveInt(opts.lockMs, '--lock-ms');
  positiveInt(opts.stalledMs, '--stalled-ms');
  positiveInt(opts.blasThreads, '--blas-threads');
  const stop = new AbortController();
  const onSignal = () => {
    if (stop.signal.aborted) process.exit(130);
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await runWorker({ ...opts, queue, cacheDir: opts.cache, signal: stop.signal });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return 0;
}
