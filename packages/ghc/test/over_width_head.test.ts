import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { AdamW, assembleModel, createForwardContext, maxAbsDiff, rmsNorm, type ModelConfig } from '@vwn/core';
import '@vwn/embedding';
import '@vwn/ghc';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const dims = { vocabSize: 13, dModel: 8, layers: 1, heads: 2, seqLen: 5, ffnHidden: 12, seed: 3 } as const;
const vwn = (m: number, n: number, head?: Record<string, unknown>): ModelConfig => ({
  ...dims,
  embedding: { use: 'over-width', m, n },
  connection: { use: 'dynamic-ghc', m, n },
  ...(head ? { head: { use: 'over-width', ...head } } : {}),
});

/** GroupNorm → W_reduce → RMSNorm → unembedding, written out (PAPER.md §6). */
function referenceLogits(model: ReturnType<typeof assembleModel>, state: tf.Tensor2D, groups: number): number[][] {
  return tf.tidy(() => {
    const D = dims.dModel;
    let h: tf.Tensor2D = state;
    if (groups) {
      const parts = tf.split(state, groups, 1).map((g) => {
        const { mean, variance } = tf.moments(g, 1, true);
        return tf.div(tf.sub(g, mean), tf.sqrt(tf.add(variance, 1e-6)));
      });
      h = tf.mul(tf.concat(parts, 1), model.params.get('head.group_norm.gain')!.variable) as tf.Tensor2D;
    }
    const reduced = tf.matMul(h, model.params.get('head.reduce')!.variable);
    const normed = rmsNorm(reduced, model.params.get('head.norm.gain')!.variable) as tf.Tensor2D;
    expect(normed.shape).toEqual([state.shape[0], D]);
    return tf.matMul(normed, model.params.get('head.unembed')!.variable, false, true).arraySync() as number[][];
  });
}

describe('over-width head (PAPER.md §6)', () => {
  it.each([
    [2, 4, {}, 2],
    [2, 3, {}, 0], // r = 1.5: D' not a multiple of D → no GroupNorm
    [2, 4, { groupNorm: false }, 0],
    [8, 32, {}, 4],
    [2, 2, {}, 1], // D' = D (what MTP reuses)
  ] as const)('m = %i, n = %i, %j: logits match GroupNorm(%i groups) → reduce → RMSNorm → unembed', (m, n, head, groups) => {
    const model = assembleModel(vwn(m, n, head));
    expect(model.config.head.use).toBe('over-width'); // also the default for a wide state
    const wide = (n / m) * dims.dModel;
    expect(model.params.get('head.group_norm.gain')?.variable.shape).toEqual(groups ? [wide] : undefined);
    expect(model.params.get('head.reduce')!.variable.shape).toEqual([wide, dims.dModel]);
    expect(model.params.get('head.group_norm.gain')?.decay ?? false).toBe(false);
    if (groups) model.params.get('head.group_norm.gain')!.variable.assign(tf.randomNormal([wide], 1, 0.3, 'float32', 5));
    const state = tf.add(tf.randomNormal([4, wide], 0, 1, 'float32', 6), tf.linspace(0, 3, wide)) as tf.Tensor2D;
    const got = model.head.logits(state, createForwardContext(1, 4, false));
    expect(maxAbsDiff(got.arraySync(), referenceLogits(model, state, groups))).toBeLessThan(1e-5);
    const D = dims.dModel,
      V = dims.vocabSize;
    expect(model.accounting().find((r) => r.component === 'head')!.flopsPerToken).toBe((groups ? 6 * wide : 0) + 2 * wide * D + 4 * D + 2 * D * V);
    tf.dispose([state, got]);
    model.dispose();
  });

  it('ties to the factorized base table', () => {
    const model = assembleModel({ ...vwn(2, 4), embedding: { use: 'over-width', m: 2, n: 4, factorized: true }, tieEmbeddings: true });
    expect(model.params.get('head.unembed')).toBeUndefined();
    expect(model.embedding.tiedTable).toBe(model.params.get('embedding.table')!.variable);
    model.dispose();
  });
});

describe('training smoke test', () => {
  it('a tiny over-width + dynamic-ghc model learns a learnable sequence in 30 AdamW steps', () => {
    const V = 16,
      T = 8,
      B = 8;
    const model = assembleModel({
      vocabSize: V,
      dModel: 16,
      layers: 2,
      heads: 2,
      seqLen: T,
      ffnHidden: 32,
      seed: 1,
      embedding: { use: 'over-width', m: 4, n: 8 },
      connection: { use: 'dynamic-ghc', m: 4, n: 8 },
    });
    const readAtInit = Array.from(model.params.get('layers.1.ffn_connection.read')!.variable.dataSync());
    // Random starts, then next = (3·prev + 1) mod V: random-looking but fully learnable.
    const batch = (seed: number) => {
      const starts = tf.randomUniform([B], 0, V, 'int32', seed).arraySync() as number[];
      const rows = starts.map((s) => {
        const r = [s];
        for (let t = 0; t < T; t++) r.push((3 * r[t]! + 1) % V);
        return r;
      });
      return tf.tensor2d(rows, [B, T + 1], 'int32');
    };
    const opt = new AdamW(model.params.list(), { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1 });
    const vars = model.params.list().map((p) => p.variable);
    const losses: number[] = [];
    for (let step = 0; step < 30; step++) {
      const rows = batch(step);
      const { value, grads } = tf.variableGrads(() => {
        const { total, terms, metrics } = model.loss(rows, { training: true });
        tf.dispose([...Object.values(terms), ...Object.values(metrics)]);
        return total;
      }, vars);
      losses.push(value.dataSync()[0]!);
      const byName = new Map(model.params.list().map((p) => [p.name, grads[p.variable.name]!] as const));
      opt.apply(byName, 1e-2);
      tf.dispose([rows, value, ...Object.values(grads)]);
    }
    expect(losses[0]).toBeGreaterThan(Math.log(V) - 0.3);
    const last = losses.slice(-5).reduce((a, b) => a + b, 0) / 5;
    expect(last).toBeLessThan(0.5 * losses[0]!);
    // The dynamic branch and the static GHC matrices were trained too.
    expect(
      model.params
        .get('layers.1.ffn_connection.dynamic.w')!
        .variable.dataSync()
        .some((x) => x !== 0),
    ).toBe(true);
    expect(Array.from(model.params.get('layers.1.ffn_connection.read')!.variable.dataSync())).not.toEqual(readAtInit);
    opt.dispose();
    model.dispose();
  });
});
