import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { ParameterStore, maxAbsDiff, useBackend, type ForwardContext } from '@vwn/core';
import { createGeneralizedHyperConnection, dghcReference, type DghcParams, type GhcOptions } from '@vwn/ghc';

// The plugin's reorganized path (folded gain, transposed coefficients, wasm tanh
// via sigmoid, GEMM reductions in the backward) against the package's plain
// PAPER.md §5 formulation (dghcReference), values and gradients, on cpu and wasm.

const cases: Array<[string, GhcOptions]> = [
  [
    'GHC (rms, matrix scales), m = 2, n = 3',
    { m: 2, n: 3, dModel: 8, dynamic: true, readSegment: (i) => i, scales: { shape: 'matrix', init: 1 }, norm: 'rms' },
  ],
  [
    'GHC (rms, matrix scales), m = 4, n = 16',
    { m: 4, n: 16, dModel: 16, dynamic: true, readSegment: (i) => i, scales: { shape: 'matrix', init: 1 }, norm: 'rms' },
  ],
  [
    'HC (layer norm, scalar scales), m = 2, n = 4',
    { m: 2, n: 4, dModel: 8, dynamic: true, readSegment: (i) => (i + 1) % 4, scales: { shape: 'scalar', init: 0.01 }, norm: 'layer' },
  ],
];

afterAll(async () => {
  await tf.setBackend('cpu');
});

describe.each(['cpu', 'wasm'] as const)('dynamic GHC on %s matches the plain PAPER.md §5 formulation', (backend) => {
  it.each(cases)('%s: values and gradients', async (_, o) => {
    await useBackend(backend);
    const store = new ParameterStore(0);
    const conn = createGeneralizedHyperConnection(store.scope('c'), o);
    const params = store.list();
    // Away from init, so every term (W, S, gains, A, B) contributes.
    params.forEach((q, i) => q.variable.assign(tf.add(q.variable, tf.randomNormal(q.variable.shape, 0, 0.4, 'float32', 10 + i))));
    const byName = Object.fromEntries(params.map((q) => [q.name.slice('c.'.length), q.variable]));
    const p: DghcParams = {
      w: byName['dynamic.w']!,
      gain: byName['dynamic.norm.gain']!,
      scaleAlpha: byName['dynamic.scale_alpha']!,
      scaleBeta: byName['dynamic.scale_beta']!,
      read: byName['read']!,
      carry: byName['carry']!,
      write: byName['write']!,
      ...(o.norm === 'layer' ? { bias: byName['dynamic.norm.bias']! } : {}),
    };
    const N = 6;
    const state = tf.variable(tf.randomNormal([N, (o.n * o.dModel) / o.m], 0, 1, 'float32', 3)) as tf.Variable<tf.Rank.R2>;
    const Wt = tf.randomNormal([o.dModel, o.dModel], 0, 0.3, 'float32', 4);
    const T = (x: tf.Tensor2D) => tf.tanh(tf.matMul(x, Wt)) as tf.Tensor2D;
    const vars = [...params.map((q) => q.variable), state];
    const run = (f: () => tf.Tensor2D) => {
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.sin(f())), vars);
      const out = { value: value.dataSync()[0]!, grads: vars.map((v) => Array.from(grads[v.name]!.dataSync())) };
      tf.dispose([value, ...Object.values(grads)]);
      return out;
    };
    const got = run(() => conn.apply(state, T, {} as ForwardContext));
    const want = run(() => dghcReference(state, T, p, o));
    expect(got.value).toBeCloseTo(want.value, 4);
    got.grads.forEach((g, i) => {
      const scale = Math.max(1, ...want.grads[i]!.map(Math.abs));
      expect(maxAbsDiff(g, want.grads[i]!) / scale, vars[i]!.name).toBeLessThan(1e-4);
    });
    tf.dispose([state, Wt]);
    expect(tf.getBackend()).toBe(backend);
    store.dispose();
  });
});
