// The worked example of docs/architecture.md ("Writing a plugin"): a user-defined
// connection plugin, registered from outside the project, used from a config,
// trained, checkpointed and reloaded like a built-in one.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  assembleModel,
  ByteTokenizer,
  checkGradients,
  ConfigError,
  corpusFromText,
  getPlugin,
  resolveRunConfig,
  RUN_FILES,
  Trainer,
  type ModelConfig,
} from '@vwn/core';
import { loadModelFromCheckpoint, runDirectory } from '@vwn/core/node';
import { rezeroConnection } from '../../../examples/rezero-plugin.js';

const dims = { vocabSize: 64, dModel: 16, layers: 2, heads: 2, seqLen: 8, seed: 3 } satisfies ModelConfig;
const ids = () =>
  tf.tensor2d(
    Array.from({ length: 2 * 8 }, (_, i) => (i * 5 + 1) % 64),
    [2, 8],
    'int32',
  );

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('worked example plugin: ReZero connection', () => {
  it('is registered by importing its module and parses its config with defaults and named errors', () => {
    expect(getPlugin('connection', 'rezero')).toBe(rezeroConnection);
    const model = assembleModel({ ...dims, connection: { use: 'rezero' } });
    expect(model.config.connection).toEqual({ use: 'rezero', init: 0 });
    expect(model.params.get('layers.1.ffn_connection.alpha')!.decay).toBe(false);
    model.dispose();
    expect(() => assembleModel({ ...dims, connection: { use: 'rezero', init: 'zero' } })).toThrow(/connection\.init: expected a finite number, got "zero"/);
    expect(() => assembleModel({ ...dims, connection: { use: 'rezero', alpha: 1 } })).toThrow(/connection\.alpha: unknown field; allowed here: init/);
    expect(() => assembleModel({ ...dims, embedding: { use: 'standard' }, connection: { use: 'rezero', init: 'x' } })).toThrow(ConfigError);
  });

  it('init 0 makes every layer the identity; init 1 is exactly the residual baseline', () => {
    const x = ids();
    const rezero0 = assembleModel({ ...dims, connection: { use: 'rezero' } });
    // With α = 0 the logits do not depend on any layer's weights.
    const before = rezero0.logits(x);
    for (const p of rezero0.params.list()) {
      if (p.name.startsWith('layers.') && !p.name.endsWith('.alpha')) p.variable.assign(tf.randomNormal(p.variable.shape, 0, 1, 'float32', 5));
    }
    const after = rezero0.logits(x);
    expect(tf.max(tf.abs(tf.sub(before, after))).dataSync()[0]).toBe(0);

    // Parameters are seeded by name, so the two models share every other weight.
    const rezero1 = assembleModel({ ...dims, connection: { use: 'rezero', init: 1 } });
    const residual = assembleModel({ ...dims, connection: { use: 'residual' } });
    const diff = tf.max(tf.abs(tf.sub(rezero1.logits(x), residual.logits(x)))).dataSync()[0]!;
    expect(diff).toBeLessThan(1e-5);
    // Accounting: 4 gates of 1 scalar, 2·D FLOPs per token per connection.
    const row = rezero1.accounting().find((r) => r.component === 'layers.0.mixer_connection')!;
    expect(row).toMatchObject({ plugin: 'rezero', params: 1, flopsPerToken: 2 * dims.dModel });
    expect(rezero1.totals().params - residual.totals().params).toBe(2 * dims.layers);
    tf.dispose([x, before, after]);
    [rezero0, rezero1, residual].forEach((m) => m.dispose());
  });

  it('has correct gradients for α and the weights it gates (finite differences)', () => {
    const model = assembleModel({ ...dims, connection: { use: 'rezero', init: 0.5 } });
    const x = ids();
    // A random linear read-out of the logits: O(1) gradients everywhere (the CE loss at init is flat).
    const c = tf.randomNormal([2 * 8, dims.vocabSize], 0, 1, 'float32', 9);
    const vars = ['layers.0.mixer_connection.alpha', 'layers.1.ffn_connection.alpha', 'layers.0.mixer.wq', 'layers.1.ffn.w2'].map(
      (n) => model.params.get(n)!.variable,
    );
    const checks = checkGradients(() => tf.sum(tf.mul(model.logits(x), c)), vars, { seed: 11 });
    for (const ch of checks) expect(ch.relError, `${ch.name}: ${ch.analytic} vs ${ch.numeric}`).toBeLessThan(2e-2);
    tf.dispose([x, c]);
    model.dispose();
  });

  it('trains from a run config, checkpoints, and reloads from the checkpoint alone', async () => {
    const text = 'to be or not to be, that is the question. '.repeat(80);
    const corpus = corpusFromText(text, { name: 'hamlet', tokenizer: new ByteTokenizer() });
    const config = resolveRunConfig(
      {
        dModel: 16,
        layers: 1,
        heads: 2,
        seqLen: 16,
        connection: { use: 'rezero' },
        train: { batchSize: 4, steps: 30, lr: 1e-2, warmupSteps: 3, evalEvery: 30, evalBatches: 2, checkpointEvery: 30 },
      },
      corpus.tokenizer.vocabSize,
    );
    const dir = await mkdtemp(join(tmpdir(), 'vwn-rezero-'));
    const trainer = await Trainer.create({ config, corpus, store: runDirectory(dir) });
    await trainer.run();
    const records = (await readFile(join(dir, RUN_FILES.metrics), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const train = records.filter((r) => r.type === 'train');
    expect(train).toHaveLength(30);
    expect(train.at(-1).loss).toBeLessThan(train[0].loss - 1);
    const alpha = trainer.model.params.get('layers.0.mixer_connection.alpha')!.variable.dataSync()[0]!;
    expect(Math.abs(alpha)).toBeGreaterThan(1e-3); // the gate learned to open

    const x = ids();
    const { model } = await loadModelFromCheckpoint(join(dir, RUN_FILES.checkpoint));
    expect(model.config.connection).toEqual({ use: 'rezero', init: 0 });
    const diff = tf.max(tf.abs(tf.sub(model.logits(x), trainer.model.logits(x)))).dataSync()[0]!;
    expect(diff).toBe(0);
    x.dispose();
    model.dispose();
    trainer.dispose();
  });

  it('is shown verbatim in the architecture guide', async () => {
    const guide = await readFile(new URL('../../../docs/architecture.md', import.meta.url), 'utf8');
    const source = await readFile(new URL('../../../examples/rezero-plugin.ts', import.meta.url), 'utf8');
    const block = /<!-- example:examples\/rezero-plugin\.ts -->\n```ts\n([\s\S]*?)```/.exec(guide);
    expect(block, 'docs/architecture.md has the example block').not.toBeNull();
    expect(block![1]).toBe(source);
  });
});
