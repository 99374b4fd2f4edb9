import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import '@vwn/core';
import { dghcRead, ghcWrite } from '@vwn/kernels-gpu';

import { dghcParamValues, hasGpu, onCpu, onGpu, randomValues } from './helpers.js';

// A tiny over-width LM step: embedding (gather → scatter-add gradient), one
// DGHC-wrapped tanh sublayer (fused on webgpu, reference on cpu), linear head.
const V = 11;
const M = 2;
const N_SEG = 3;
const DB = 4;
const TOKENS = 24;
const STEPS = 20;

async function lossCurve(): Promise<number[]> {
  const p = dghcParamValues(M, N_SEG, DB, 7);
  const v = (values: Float32Array, shape: number[], name: string) => tf.variable(tf.tensor(values, shape), true, `${name}_${tf.getBackend()}`);
  const table = v(randomValues(V * N_SEG * DB, 1, 0.5), [V, N_SEG * DB], 'table');
  const w1 = v(randomValues(M * DB * M * DB, 2, 0.5), [M * DB, M * DB], 'w1');
  const head = v(randomValues(N_SEG * DB * V, 3, 0.5), [N_SEG * DB, V], 'head');
  const dyn = Object.fromEntries(Object.entries(p).map(([k, t]) => [k, v(t.values, t.shape, k)])) as unknown as Parameters<typeof dghcRead>[1];
  const ids = tf.tensor1d(
    Int32Array.from({ length: TOKENS }, (_, i) => (i * 7 + 3) % V),
    'int32',
  );
  const targets = tf.oneHot(
    tf.tensor1d(
      Int32Array.from({ length: TOKENS }, (_, i) => (i * 5 + 1) % V),
      'int32',
    ),
    V,
  );
  const opt = tf.train.sgd(0.5);
  const losses: number[] = [];
  for (let step = 0; step < STEPS; step++) {
    const loss = opt.minimize(() => {
      const state = tf.gather(table, ids); // H': [T, n·d_b]
      const { x, carried, bT } = dghcRead(state, dyn, { m: M, n: N_SEG });
      const z = tf.tanh(tf.matMul(x, w1)); // sublayer
      const next = ghcWrite(carried, z, bT);
      return tf.losses.softmaxCrossEntropy(targets, tf.matMul(next, head)) as tf.Scalar;
    }, true)!;
    losses.push((await loss.data())[0]!);
    loss.dispose();
  }
  tf.dispose([table, w1, head, ids, targets, ...Object.values(dyn)]);
  opt.dispose();
  return losses;
}

describe.skipIf(!hasGpu)('training on webgpu', () => {
  it(`follows the cpu loss curve within 1e-3 for ${STEPS} steps`, async () => {
    await onCpu();
    const cpu = await lossCurve();
    await onGpu();
    const gpu = await lossCurve();
    expect(cpu[STEPS - 1]!).toBeLessThan(cpu[0]! - 0.1); // it does learn
    for (let i = 0; i < STEPS; i++) expect(Math.abs(gpu[i]! - cpu[i]!), `step ${i}: gpu ${gpu[i]} cpu ${cpu[i]}`).toBeLessThan(1e-3);
  });
});
