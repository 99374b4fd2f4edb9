import { join } from 'node:path';
import { existsSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { ConfigError, evaluationBatches, RUN_FILES, type DataConfig } from '@vwn/core';
import { loadModelFromCheckpoint } from '@vwn/core/node';
import { loadCorpus, selectBackend, type CommonOptions } from '../setup.js';

/** Options of `vwn eval`. */
export interface EvalOptions extends CommonOptions {
  readonly out?: string | undefined;
  readonly checkpoint?: string | undefined;
  readonly batches?: number | undefined;
  readonly json?: boolean | undefined;
}

/** Resolves `--checkpoint` or `--out DIR` to a checkpoint file. */
export function checkpointPath(opts: { out?: string | undefined; checkpoint?: string | undefined }): string {
  const path = opts.checkpoint ?? join(opts.out ?? join('runs', 'tiny'), RUN_FILES.checkpoint);
  if (!existsSync(path)) throw new ConfigError(opts.checkpoint ? '--checkpoint' : '--out', `no checkpoint at ${path}; train one with \`vwn train\``);
  return path;
}

/**
 * Refuses the common flags a checkpoint command cannot honour: the model,
 * tokenizer and data settings come from the checkpoint, so `--config` and
 * `--preset` would be silently ignored.
 */
export function rejectConfigFlags(opts: CommonOptions, command: string, corpusAllowed: boolean): void {
  const flags: Array<[string, string | undefined]> = [
    ['--config', opts.config],
    ['--preset', opts.preset],
  ];
  if (!corpusAllowed) flags.push(['--corpus', opts.corpus]);
  for (const [flag, value] of flags) {
    if (value !== undefined) {
      throw new ConfigError(
        flag,
        `\`vwn ${command}\` uses the config stored in the checkpoint (model, tokenizer, data) and cannot apply ${flag}` +
          (corpusAllowed ? '; to evaluate on another text, pass --corpus FILE' : '; choose the run with --out DIR or --checkpoint FILE'),
      );
    }
  }
}

/** `vwn eval`: held-out next-token loss of a checkpoint (MTP modules not run). */
export async function evalCommand(opts: EvalOptions): Promise<number> {
  rejectConfigFlags(opts, 'eval', true);
  if (opts.batches !== undefined && (!Number.isInteger(opts.batches) || opts.batches < 1)) {
    throw new ConfigError('--batches', `must be a positive integer, got ${opts.batches}`);
  }
  await selectBackend(opts, undefined, opts.json);
  const path = checkpointPath(opts);
  const { model, checkpoint } = await loadModelFromCheckpoint(path);
  const saved = checkpoint.state.config as { data: DataConfig; train: { batchSize: number } };
  const data = opts.corpus ? { ...saved.data, corpus: opts.corpus } : saved.data;
  const corpus = await loadCorpus(data, checkpoint.state.tokenizer as never);
  const batches = evaluationBatches(corpus.validation, {
    batchSize: saved.train.batchSize,
    seqLen: model.config.seqLen,
    maxBatches: opts.batches ?? 32,
  });
  let sum = 0;
  let rows = 0;
  for (const b of batches) {
    const ids = tf.tensor2d(b.tokens, [b.batchSize, b.width], 'int32');
    const out = model.loss(ids, { training: false, objectives: false });
    const v = (await out.terms['loss']!.data())[0]!;
    tf.dispose([ids, out.total, ...Object.values(out.terms), ...Object.values(out.metrics)]);
    sum += v * b.batchSize;
    rows += b.batchSize;
  }
  const loss = sum / rows;
  const result = {
    checkpoint: path,
    step: checkpoint.state.trainer.step,
    corpus: data.corpus,
    tokens: rows * model.config.seqLen,
    loss,
    bitsPerToken: loss / Math.LN2,
    perplexity: Math.exp(loss),
  };
  if (opts.json) process.stdout.write(JSON.stringify(result) + '\n');
  else {
    process.stdout.write(
      `held-out next-token loss ${loss.toFixed(4)} nats (${result.bitsPerToken.toFixed(3)} bits/token, perplexity ${result.perplexity.toFixed(2)}) ` +
        `over ${result.tokens} tokens of ${data.corpus}; checkpoint step ${result.step}\n`,
    );
  }
  model.dispose();
  return 0;
}
