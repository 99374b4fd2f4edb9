import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ParameterStore, createForwardContext } from '@vwn/core';
import { createGeneralizedHyperConnection } from '@vwn/ghc';
import { dghcRead, ghcWrite } from '@vwn/kernels-gpu';

import { randomValues, relativeError } from './helpers.js';

// Runs without a GPU: the ops (reference path on cpu) must be the GHC plugin's
// dynamic-ghc forward, so swapping them into @vwn/ghc changes nothing.
describe('dghcRead + ghcWrite reproduce @vwn/ghc dynamic-ghc (cpu)', () => {
  for (const [m, n, D] of [[2, 3, 6], [4, 8, 20], [8, 32, 24]] as const) {
    it(`m=${m} n=${n} D=${D}: same output and same parameter gradients`, async () => {
      await tf.setBackend('cpu');
      (tf.findBackend('cpu') as { firstUse?: boolean }).firstUse = false;
      const db = D / m;
      const store = new ParameterStore(0);
      const conn = createGeneralizedHyperConnection(store.scope('c'), {
        m, n, dModel: D, dynamic: true, readSegment: (i) => i, scales: { shape: 'matrix', init: 1 }, norm: 'rms',
      });
      const params = store.list();
      params.forEach((p, i) => p.variable.assign(tf.add(p.variable, tf.tensor(randomValues(p.variable.size, 40 + i, 0.5), p.variable.shape))));
      const get = (name: string) => store.get(`c.${name}`)!.variable;
      const N = 7;
      const state = tf.tensor2d(randomValues(N * n * db, 3, 2), [N, n * db]);
      const w1 = tf.tensor2d(randomValues(D * D, 4, 0.3), [D, D]);
      const sublayer = (x: tf.Tensor2D) => tf.tanh(tf.matMul(x, w1)) as tf.Tensor2D;
      const ctx = createForwardContext(1, N, true);
      const viaPlugin = () => tf.sum(tf.square(conn.apply(state, sublayer, ctx))) as tf.Scalar;
      const viaOps = () => {
        const { x, carried, bT } = dghcRead(state, {
          w: get('dynamic.w'), gain: get('dynamic.norm.gain'), scaleAlpha: get('dynamic.scale_alpha'), scaleBeta: get('dynamic.scale_beta'),
          read: get('read'), carry: get('carry'), write: get('write'),
        }, { m, n });
        return tf.sum(tf.square(ghcWrite(carried, sublayer(x), bT))) as tf.Scalar;
      };
      const vars = params.map((p) => p.variable);
      const a = tf.variableGrads(viaPlugin, vars);
      const b = tf.variableGrads(viaOps, vars);
      expect(relativeError(await a.value.data(), await b.value.data())).toBeLessThan(1e-6);
      for (const p of params) {
        expect(relativeError(await b.grads[p.variable.name]!.data(), await a.grads[p.variable.name]!.data()), p.name).toBeLessThan(1e-5);
      }
    });
  }
});
