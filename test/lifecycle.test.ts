import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { assembleModel, createForwardContext, type ModelConfig } from '@vwn/core';
import '@vwn/embedding';
import { virtualWidth } from '@vwn/ghc';
import '@vwn/moe';
import '@vwn/mtp';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

// Model.dispose() frees every module's own tensors and every parameter (plugin specification v2).
describe('lifecycle across packages', () => {
  it.each([
    ['baseline', {}],
    ['VWN + MoE + MTP', { ...virtualWidth({ m: 2, n: 4 }), ffn: { use: 'moe', experts: 4, topK: 2 }, objectives: [{ use: 'mtp', depth: 1 }] }],
  ])('%s: numTensors returns to its starting value after assemble → forward → loss → Model.dispose', (_name, diff) => {
    const start = tf.memory().numTensors;
    const model = assembleModel({ vocabSize: 19, dModel: 8, layers: 2, heads: 2, seqLen: 6, seed: 2, ...diff } as ModelConfig);
    const rows = tf.tidy(() => tf.randomUniform([2, 7], 0, 19, 'int32', 5) as tf.Tensor2D);
    const ids = tf.tidy(() => tf.slice(rows, [0, 0], [2, 6]) as tf.Tensor2D);
    const ctx = createForwardContext(2, 6, true);
    tf.dispose(model.forward(ids, ctx).state);
    ctx.dispose();
    const { total, terms, metrics } = model.loss(rows, { training: true });
    if ('objectives' in diff) expect(Object.keys(terms)).toContain('next2_loss');
    tf.dispose([total, rows, ids, ...Object.values(terms), ...Object.values(metrics)]);
    expect(tf.memory().numTensors).toBeGreaterThan(start);
    model.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });
});
