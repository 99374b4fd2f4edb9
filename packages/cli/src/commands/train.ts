import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { checkMemory, ConfigError, estimateMemory, Trainer, resolveRunConfig, RUN_FILES, type MetricsRecord } from '@vwn/core';
import { lockFolder, removeOrphanTempFiles, runDirectory } from '@vwn/core/node';
import { onStopSignals } from '../signals.js';
import { dataConfigOf, loadCorpus, loadRunConfigInput, selectBackend, type CommonOptions } from '../setup.js';
import { Progress, formatDuration } from '../progress.js';

/** Options of `vwn train`. */
export interface TrainOptions extends CommonOptions {
  readonly out?: string | undefined;
  readonly steps?: number | undefined;
  readonly seed?: number | undefined;
  readonly resume?: boolean | undefined;
  readonly force?: boolean | undefined;
  readonly json?: boolean | undefined;
  /** Train even when the memory estimate exceeds what the machine offers. */
  readonly ignoreMemoryCheck?: boolean | undefined;
}

/** `vwn train`: trains a model and writes checkpoint + metrics into `--out`. */
export async function trainCommand(opts: TrainOptions): Promise<number> {
  const overrides: Record<string, unknown> = {};
  if (opts.steps !== undefined) overrides['train'] = { steps: opts.steps };
  if (opts.seed !== undefined) overrides['train'] = { ...(overrides['train'] as object), seed: opts.seed };
  const input = await loadRunConfigInput(opts, 'tiny', overrides);
  const outDir = opts.out ?? join('runs', opts.preset ?? 'tiny');
  if (opts.resume && opts.force) throw new ConfigError('--force', 'cannot be combined with --resume (one continues the run, the other starts over)');
  // The config, corpus and memory are checked before the folder is touched.
  const { backend } = await selectBackend(opts, input, opts.json);
  const corpus = await loadCorpus(dataConfigOf(input));
  const config = resolveRunConfig(input, corpus.tokenizer.vocabSize);
  checkMemory(estimateMemory(config, tf.getBackend() ?? backend), { ignore: opts.ignoreMemoryCheck ?? false });
  // One process per folder: a second `vwn train --out` on it (even with --force) is refused.
  const lock = await lockFolder(outDir, { command: 'vwn train', onNotice: (m) => process.stderr.write(`${outDir}: ${m}\n`) });
  try {
    return await trainLocked(opts, config, corpus, outDir);
  } finally {
    await lock.release();
  }
}

async function trainLocked(
  opts: TrainOptions,
  config: ReturnType<typeof resolveRunConfig>,
  corpus: Awaited<ReturnType<typeof loadCorpus>>,
  outDir: string,
): Promise<number> {
  await removeOrphanTempFiles(outDir, { exclusive: true });
  if (!opts.resume && !opts.force && existsSync(join(outDir, RUN_FILES.checkpoint))) {
    throw new ConfigError('--out', `${outDir} already holds a checkpoint; pass --resume to continue it or --force to start over`);
  }
  const progress = new Progress('train', config.train.steps);
  let lastLoss = NaN;
  let evalLoss = NaN;
  const onRecord = (r: MetricsRecord) => {
    if (opts.json) {
      process.stdout.write(JSON.stringify(r) + '\n');
      return;
    }
    if (r.type === 'eval') evalLoss = r.loss;
    else {
      lastLoss = r.loss;
      const remaining = config.train.steps - r.step;
      progress.update(
        r.step,
        {
          loss: lastLoss.toFixed(3),
          val: Number.isNaN(evalLoss) ? '-' : evalLoss.toFixed(3),
          'tok/s': r.tokensPerSecond.toFixed(0),
        },
        (remaining * r.stepMs) / 1000,
      );
    }
  };
  const trainer = await Trainer.create({ config, corpus, store: runDirectory(outDir), resume: opts.resume ?? false, onRecord, ignoreMemoryCheck: true });
  const totals = trainer.model.totals();
  evalLoss = trainer.lastEval?.loss ?? NaN;
  if (!opts.json) {
    process.stderr.write(
      `model: ${(totals.params / 1e6).toFixed(2)}M params, ${(totals.flopsPerToken / 1e6).toFixed(2)} MFLOP/token; ` +
        `corpus ${corpus.name}: ${corpus.train.length} train / ${corpus.validation.length} held-out tokens; out ${outDir}` +
        (trainer.step > 0 ? `; resuming at step ${trainer.step}` : '') +
        '\n',
    );
  }
  const signals = onStopSignals(() => trainer.requestStop(), 'saving a checkpoint after this step');
  const t0 = Date.now();
  try {
    await trainer.run();
  } finally {
    signals.dispose();
    trainer.dispose();
  }
  const interrupted = trainer.step < config.train.steps;
  if (!opts.json) {
    progress.finish(
      `${interrupted ? 'stopped' : 'done'} at step ${trainer.step}: train loss ${lastLoss.toFixed(4)}, held-out loss ${
        trainer.lastEval?.loss.toFixed(4) ?? '-'
      } nats, ${formatDuration((Date.now() - t0) / 1000)}; checkpoint ${join(outDir, RUN_FILES.checkpoint)}`,
    );
  }
  return signals.received ? signals.exitCode() : interrupted ? 1 : 0;
}
