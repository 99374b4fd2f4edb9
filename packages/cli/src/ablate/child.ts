/**
 * Child-process entry of one (variant, seed) run, for `vwn ablate --parallel`
 * and `vwn worker`: training runs here so the parent's event loop stays free
 * (a BullMQ worker keeps renewing its job lock however long a step takes).
 *
 * Protocol (Node IPC): the parent sends one `{type: 'task', task}` (a
 * {@link RunTask}), later maybe `{type: 'stop'}` (checkpoint and end); the
 * child sends `backend`, then `record`s, then `result` or `error`, and exits.
 * SIGINT/SIGTERM (sent to the whole process group by Ctrl-C, systemd, Slurm)
 * act like `stop`. When the parent dies (IPC disconnect) the child exits at once, without
 * writing anything more, so a restarted job never races an orphan.
 *
 * @module
 */
import type { MetricsRecord } from '@vwn/core';
import type { ChildMessage, ParentMessage, RunTask } from './spawn.js';

// Before the (slow) imports: signals and the parent's messages that arrive while modules load.

const send = (m: ChildMessage): Promise<void> =>
  new Promise((resolve) => {
    if (!process.connected) process.exit(1);
    process.send!(m, undefined, undefined, () => resolve());
  });

process.on('disconnect', () => process.exit(1));
let stop = false;
// Ctrl-C, systemd and Slurm signal the whole process group: checkpoint and stop, like the parent's `stop`.
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => (stop = true));
const task = new Promise<RunTask>((resolve) => {
  process.on('message', (m: ParentMessage) => {
    if (m.type === 'task') resolve(m.task);
    if (m.type === 'stop') stop = true;
  });
});
const { loadPluginsFor, useBackend } = await import('@vwn/core');
const { loadCorpus } = await import('../setup.js');
const { backendLabel, trainRun } = await import('./run_one.js');

await run(await task);

async function run(task: RunTask): Promise<void> {
  try {
    if (task.blasThreads) process.env['VWN_BLAS_THREADS'] = String(task.blasThreads);
    const selected = await useBackend(task.backend);
    const backend = backendLabel(selected);
    await send({ type: 'backend', backend, note: selected.note });
    if (task.requireBackend && task.requireBackend !== backend) {
      throw Object.assign(
        new Error(
          `backend "${task.backend}" here is "${backend}", the study's runs use "${task.requireBackend}" (start the worker with --backend ${task.requireBackend} or without --backend, or pass --allow-mixed to the coordinator)`,
        ),
        { name: 'BackendMismatch' },
      );
    }
    await loadPluginsFor(task.config.model as unknown as Record<string, unknown>);
    if (stop) {
      // Stopped while starting: nothing trained, nothing to checkpoint.
      await send({ type: 'result', result: { finished: false, skipped: false, resumedFromStep: 0, done: null } });
      process.exit(0);
    }
    const corpus = await loadCorpus({ ...task.config.data, corpus: task.corpusPath ?? task.config.data.corpus });
    let pending: Promise<void> = Promise.resolve();
    const result = await trainRun({
      config: task.config,
      seed: task.seed,
      corpus,
      dir: task.dir,
      backend,
      worker: task.worker,
      shouldStop: () => stop,
      onRecord: (record: MetricsRecord) => {
        if (!process.connected) process.exit(1);
        pending = send({ type: 'record', record });
      },
    });
    await pending;
    await send({ type: 'result', result });
    process.exit(0);
  } catch (e) {
    const err = e as Error;
    await send({ type: 'error', name: err.name ?? 'Error', message: err.message, field: (err as { field?: string }).field });
    process.exit(1);
  }
}
