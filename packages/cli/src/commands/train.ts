import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, Trainer, resolveRunConfig, RUN_FILES, type MetricsRecord } from '@vwn/core';
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
}

/** `vwn train`: trains a model and writes checkpoint + metrics into `--out`. */
export async function trainCommand(opts: TrainOptions): Promise<number> {
  const overrides: Record<string, unknown> = {};
  if (opts.steps !== undefined) overrides['train'] = { steps: opts.steps };
  if (opts.seed !== undefined) overrides['train'] = { ...(overrides['train'] as object), seed: opts.seed };
  const input = await loadRunConfigInput(opts, 'tiny', overrides);
  const outDir = opts.out ?? join('runs', opts.preset ?? 'tiny');
  if (!opts.resume && !opts.force && existsSync(join(outDir, RUN_FILES.checkpoint))) {
    throw new ConfigError('--out', `${outDir} already holds a checkpoint; pass --resume to continue it or --force to start over`);
  }
  await selectBackend(opts, input, opts.json);
  const corpus = await loadCorpus(dataConfigOf(input));
  const config = resolveRunConfig(input, corpus.tokenizer.vocabSize);
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
      progress.update(r.step, {
        loss: lastLoss.toFixed(3),
        val: Number.isNaN(evalLoss) ? '-' : evalLoss.toFixed(3),
        'tok/s': r.tokensPerSecond.toFixed(0),
      }, (remaining * r.stepMs) / 1000);
    }
  };
  const trainer = await Trainer.create({ config, corpus, outDir, resume: opts.resume ?? false, onRecord });
  const totals = trainer.model.totals();
  if (!opts.json) {
    process.stderr.write(
      `model: ${(totals.params / 1e6).toFixed(2)}M params, ${(totals.flopsPerToken / 1e6).toFixed(2)} MFLOP/token; ` +
        `corpus ${corpus.name}: ${corpus.train.length} train / ${corpus.validation.length} held-out tokens; out ${outDir}` +
        (trainer.step > 0 ? `; resuming at step ${trainer.step}` : '') + '\n',
    );
  }
  const stop = () => {
    process.stderr.write('\ninterrupted: saving a checkpoint after this step (Ctrl-C again to abort)\n');
    trainer.requestStop();
    process.once('SIGINT', () => process.exit(130));
  };
  process.once('SIGINT', stop);
  const t0 = Date.now();
  try {
    await trainer.run();
  } finally {
    process.off('SIGINT', stop);
  }
  const interrupted = trainer.step < config.train.steps;
  if (!opts.json) {
    progress.finish(
      `${interrupted ? 'stopped' : 'done'} at step ${trainer.step}: train loss ${lastLoss.toFixed(4)}, held-out loss ${
        trainer.lastEval?.loss.toFixed(4) ?? '-'
      } nats, ${formatDuration((Date.now() - t0) / 1000)}; checkpoint ${join(outDir, RUN_FILES.checkpoint)}`,
    );
  }
  trainer.dispose();
  return interrupted ? 130 : 0;
}
