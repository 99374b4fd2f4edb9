import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { ParameterStore, rmsNorm, layerNorm, useBackend, type ForwardContext } from '@vwn/core';
import { createGeneralizedHyperConnection, type GhcOptions } from '@vwn/ghc';

/**
 * The DGHC step of PAPER.md §5 written plainly (one coefficient GEMM sliced into
 * α, β; per-token A(H'), B(H')ᵀ; one batched read product), against which the
 * plugin's reorganized path (folded gain, transposed coefficients, wasm tanh via
 * sigmoid, GEMM reductions in the backward) must agree, values and gradients,
 * on cpu and on wasm.
 */
function reference(state: tf.Tensor2D, T: (x: tf.Tensor2D) => tf.Tensor2D, p: Record<string, tf.Variable>, o: GhcOptions): tf.Tensor2D {
  const { m, n, dModel } = o;
  const db = dModel / m;
  const N = state.shape[0];
  const rows = state.reshape([N * n, db]);
  const gain = p['dynamic.norm.gain']!;
  const normed = o.norm === 'layer' ? layerNorm(rows, gain, p['dynamic.norm.bias']!, 1e-6) : rmsNorm(rows, gain, 1e-6); // H̄
  const coeff = tf.tanh(tf.div(tf.matMul(normed as tf.Tensor2D, p['dynamic.w']!), Math.sqrt(db))); // [N·n, 2m+n]
  const alpha = tf.slice(coeff, [0, 0], [N * n, m + n]).reshape([N, n, m + n]);
  const beta = tf.slice(coeff, [0, m + n], [N * n, m]).reshape([N, n, m]);
  const scalar = o.scales.shape === 'scalar';
  const a = tf.add(tf.mul(p['dynamic.scale_alpha']!, alpha), tf.concat([p['read']!, p['carry']!], 1)) as tf.Tensor3D; // A(H')
  const sBetaT = scalar ? p['dynamic.scale_beta']! : tf.transpose(p['dynamic.scale_beta']!);
  const bT = tf.add(tf.mul(sBetaT, beta), tf.transpose(p['write']!)) as tf.Tensor3D; // B(H')ᵀ
  const y = tf.matMul(a, state.reshape([N, n, db]) as tf.Tensor3D, true, false); // A(H')ᵀ·H': [N, m+n, d_b]
  const x = tf.slice(y, [0, 0, 0], [N, m, db]).reshape([N, m * db]) as tf.Tensor2D;
  const carried = tf.slice(y, [0, m, 0], [N, n, db]);
  const z = T(x).reshape([N, m, db]) as tf.Tensor3D;
  return tf.add(carried, tf.matMul(bT, z)).reshape([N, n * db]) as tf.Tensor2D;
}

const cases: Array<[string, GhcOptions]> = [
  ['GHC (rms, matrix scales), m = 2, n = 3', { m: 2, n: 3, dModel: 8, dynamic: true, readSegment: (i) => i, scales: { shape: 'matrix', init: 1 }, norm: 'rms' }],
  ['GHC (rms, matrix scales), m = 4, n = 16', { m: 4, n: 16, dModel: 16, dynamic: true, readSegment: (i) => i, scales: { shape: 'matrix', init: 1 }, norm: 'rms' }],
  ['HC (layer norm, scalar scales), m = 2, n = 4', { m: 2, n: 4, dModel: 8, dynamic: true, readSegment: (i) => (i + 1) % 4, scales: { shape: 'scalar', init: 0.01 }, norm: 'layer' }],
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
    const want = run(() => reference(state, T, byName, o));
    expect(got.value).toBeCloseTo(want.value, 4);
    got.grads.forEach((g, i) => {
      const scale = Math.max(1, ...want.grads[i]!.map(Math.abs));
      const diff = Math.max(...g.map((v, j) => Math.abs(v - want.grads[i]![j]!)));
      expect(diff / scale, vars[i]!.name).toBeLessThan(1e-4);
    });
    tf.dispose([state, Wt]);
    expect(tf.getBackend()).toBe(backend);
    store.dispose();
  });
});
