import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { dghcReadReference, ghcWriteReference, type DghcParams } from '@vwn/ghc';
import { dghcRead, fusedAvailable, ghcWrite } from '@vwn/kernels-gpu';

import { dghcParamValues, hasGpu, onCpu, onGpu, randomValues, relativeError } from './helpers.js';

const TOL = 1e-4;
// (m, n) from the brief; d_b = 3 and N = 67 are odd and not multiples of the 64-wide workgroup.
const CASES: Array<{ m: number; n: number; db: number; N: number }> = [
  { m: 2, n: 3, db: 3, N: 67 },
  { m: 4, n: 8, db: 5, N: 13 },
  { m: 8, n: 32, db: 3, N: 5 },
];
const PARAM_NAMES = ['w', 'gain', 'scaleAlpha', 'scaleBeta', 'read', 'carry', 'write'] as const;

function makeInputs(m: number, n: number, db: number, N: number) {
  const vals = dghcParamValues(m, n, db, m * 100 + n);
  const state = tf.tensor2d(randomValues(N * n * db, 9, 2), [N, n * db]);
  const params = Object.fromEntries(PARAM_NAMES.map((k) => [k, tf.tensor(vals[k].values, vals[k].shape)])) as unknown as DghcParams;
  // Random cotangents for every output, so every gradient path is exercised.
  const cx = tf.tensor2d(randomValues(N * m * db, 11), [N, m * db]);
  const cc = tf.tensor2d(randomValues(N * n * db, 12), [N, n * db]);
  const cb = tf.tensor3d(randomValues(N * n * m, 13), [N, n, m]);
  return { state, params, cx, cc, cb };
}

async function values(ts: tf.Tensor[]): Promise<Float32Array[]> {
  return Promise.all(ts.map(async (t) => (await t.data()) as Float32Array));
}

describe.skipIf(!hasGpu)('fused DGHC read / GHC write on webgpu vs the reference ops', () => {
  for (const { m, n, db, N } of CASES) {
    it(`dghcRead m=${m} n=${n} d_b=${db} N=${N}: forward and all 8 gradients within ${TOL}`, async () => {
      await onGpu();
      expect(fusedAvailable('VwnDghcRead')).toBe(true);
      const { state, params, cx, cc, cb } = makeInputs(m, n, db, N);
      const before = tf.memory().numTensors;
      const run = (fused: boolean) => {
        const f = (s: tf.Tensor, ...p: tf.Tensor[]) => {
          const pp = Object.fromEntries(PARAM_NAMES.map((k, i) => [k, p[i]])) as unknown as DghcParams;
          const r = fused ? dghcRead(s, pp, { m, n }) : dghcReadReference(s, pp, { m, n });
          return tf.addN([tf.sum(tf.mul(r.x, cx)), tf.sum(tf.mul(r.carried, cc)), tf.sum(tf.mul(r.bT, cb))]) as tf.Scalar;
        };
        const out = fused ? dghcRead(state, params, { m, n }) : dghcReadReference(state, params, { m, n });
        const grads = tf.grads(f)([state, ...PARAM_NAMES.map((k) => params[k])]);
        return [out.x, out.carried, out.bT, ...grads];
      };
      const fused = run(true);
      const ref = run(false);
      const [fv, rv] = [await values(fused), await values(ref)];
      const names = ['x', 'carried', 'bT', 'dState', ...PARAM_NAMES.map((k) => `d${k}`)];
      for (let i = 0; i < names.length; i++) {
        expect(relativeError(fv[i]!, rv[i]!), names[i]).toBeLessThan(TOL);
      }
      tf.dispose([...fused, ...ref]);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([state, cx, cc, cb, ...Object.values(params)]);
    });

    it(`ghcWrite m=${m} n=${n} d_b=${db} N=${N}: forward and all 3 gradients within ${TOL}`, async () => {
      await onGpu();
      const carried = tf.tensor2d(randomValues(N * n * db, 21), [N, n * db]);
      const z = tf.tensor2d(randomValues(N * m * db, 22), [N, m * db]);
      const bT = tf.tensor3d(randomValues(N * n * m, 23), [N, n, m]);
      const cot = tf.tensor2d(randomValues(N * n * db, 24), [N, n * db]);
      const run = (fused: boolean) => {
        const op = fused ? ghcWrite : ghcWriteReference;
        const grads = tf.grads((c: tf.Tensor, zz: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(op(c, zz, b), cot)) as tf.Scalar)([carried, z, bT]);
        return [op(carried, z, bT), ...grads];
      };
      const [fv, rv] = [await values(run(true)), await values(run(false))];
      ['out', 'dCarried', 'dZ', 'dBT'].forEach((name, i) => expect(relativeError(fv[i]!, rv[i]!), name).toBeLessThan(TOL));
    });
  }

  it('falls back to the reference ops on cpu (same results as webgpu)', async () => {
    const { m, n, db, N } = CASES[0]!;
    await onCpu();
    expect(fusedAvailable('VwnDghcRead')).toBe(false);
    let inp = makeInputs(m, n, db, N);
    const cpu = await values(Object.values(dghcRead(inp.state, inp.params, { m, n })));
    await onGpu();
    inp = makeInputs(m, n, db, N);
    const gpu = await values(Object.values(dghcRead(inp.state, inp.params, { m, n })));
    cpu.forEach((c, i) => expect(relativeError(gpu[i]!, c)).toBeLessThan(TOL));
  });
});
