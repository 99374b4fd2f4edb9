import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ParameterStore, createForwardContext, getFusedOps, randomValues, registerFusedOps, unregisterFusedOps, relativeError } from '@vwn/core';
import { createGeneralizedHyperConnection } from '@vwn/ghc';
import { dghcRead, ghcWrite } from '@vwn/kernels-gpu';

// Runs without a GPU. The package registers its ops as the `dghc` fused-ops
// group for webgpu; here they are registered for cpu too, so the dynamic-ghc
// plugin takes its fused branch (the ops, which on cpu run @vwn/ghc's
// reference formulation) and must give what its own tuned path gives: the
// parameter mapping between plugin and ops is right, and swapping the ops in
// changes nothing.
describe('dynamic-ghc through the registered dghc ops = its own path (cpu)', () => {
  for (const [m, n, D] of [
    [2, 3, 6],
    [4, 8, 20],
    [8, 32, 24],
  ] as const) {
    it(`m=${m} n=${n} D=${D}: same output and same parameter gradients`, async () => {
      await tf.setBackend('cpu');
      (tf.findBackend('cpu') as { firstUse?: boolean }).firstUse = false;
      const db = D / m;
      const store = new ParameterStore(0);
      const conn = createGeneralizedHyperConnection(store.scope('c'), {
        m,
        n,
        dModel: D,
        dynamic: true,
        readSegment: (i) => i,
        scales: { shape: 'matrix', init: 1 },
        norm: 'rms',
      });
      const params = store.list();
      params.forEach((p, i) => p.variable.assign(tf.add(p.variable, tf.tensor(randomValues(p.variable.size, 40 + i, 0.5), p.variable.shape))));
      const N = 7;
      const state = tf.tensor2d(randomValues(N * n * db, 3, 2), [N, n * db]);
      const w1 = tf.tensor2d(randomValues(D * D, 4, 0.3), [D, D]);
      const sublayer = (x: tf.Tensor2D) => tf.tanh(tf.matMul(x, w1)) as tf.Tensor2D;
      const ctx = createForwardContext(1, N, true);
      const loss = () => tf.sum(tf.square(conn.apply(state, sublayer, ctx))) as tf.Scalar;
      const vars = params.map((p) => p.variable);

      expect(getFusedOps('dghc')).toBeUndefined(); // registered for webgpu only
      const own = tf.variableGrads(loss, vars);
      let calls = 0;
      registerFusedOps('dghc', { dghcRead: (...a) => (calls++, dghcRead(...a)), ghcWrite }, ['cpu']);
      try {
        expect(getFusedOps('dghc')).toBeDefined();
        const viaOps = tf.variableGrads(loss, vars);
        expect(calls).toBe(1);
        expect(relativeError(await viaOps.value.data(), await own.value.data())).toBeLessThan(1e-6);
        for (const p of params) {
          expect(relativeError(await viaOps.grads[p.variable.name]!.data(), await own.grads[p.variable.name]!.data()), p.name).toBeLessThan(1e-5);
        }
      } finally {
        unregisterFusedOps('cpu', 'dghc'); // the webgpu registration stays as it was
      }
    });
  }
});
