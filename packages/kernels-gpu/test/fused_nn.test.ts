import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { crossEntropy, fusedNn, rmsNorm, silu } from '@vwn/core';
import { diffGpuCounters, gpuCounters } from '@vwn/kernels-gpu';

import { hasGpu, onCpu, onGpu, randomValues, relativeError } from './helpers.js';

// Odd sizes (not multiples of the 64-wide workgroups). The same formula runs
// through @vwn/core on cpu (its tfjs formulation) and on webgpu (fused kernels).
const T = 13;
const causalMask = () =>
  tf.tensor2d(
    Float32Array.from({ length: T * T }, (_, k) => (k % T > Math.floor(k / T) ? -1e9 : 0)),
    [T, T],
  );
const CASES: Array<{ name: string; shapes: number[][]; f: (...xs: tf.Tensor[]) => tf.Tensor; dispatches: number }> = [
  { name: 'RMSNorm', shapes: [[2, 5, 37], [37]], f: (x, g) => rmsNorm(x!, g!, 1e-6), dispatches: 1 + 2 },
  {
    name: 'causal softmax',
    shapes: [[2, 3, T, T]],
    f: (s) => {
      const fused = fusedNn();
      return fused?.causalSoftmax ? fused.causalSoftmax(s!, 0.37) : tf.softmax(tf.add(tf.mul(s!, 0.37), causalMask()));
    },
    dispatches: 1 + 1,
  },
  {
    name: 'cross-entropy',
    shapes: [[19, 29]],
    f: (l) =>
      crossEntropy(
        l as tf.Tensor2D,
        tf.tensor1d(
          Int32Array.from({ length: 19 }, (_, i) => (i * 7) % 29),
          'int32',
        ),
        null,
      ),
    dispatches: 2 + 1, // kernel + mean; gradient
  },
  {
    name: 'SwiGLU gate',
    shapes: [
      [7, 33],
      [7, 33],
    ],
    f: (a, b) => {
      const fused = fusedNn();
      return fused?.swiglu ? fused.swiglu(a!, b!) : tf.mul(silu(a!), b!);
    },
    dispatches: 1 + 2,
  },
  {
    name: 'RoPE (+ head transpose)',
    shapes: [[2, 5, 3, 6]],
    f: (x) => {
      const [, t, , hd] = x!.shape as number[];
      const cos = tf.tensor(randomValues(t! * hd!, 41), [1, t!, 1, hd!]);
      const sin = tf.tensor(randomValues(t! * hd!, 42), [1, t!, 1, hd!]);
      const fused = fusedNn();
      if (fused?.ropeHeads) return fused.ropeHeads(x as tf.Tensor4D, cos, sin);
      const [x1, x2] = tf.split(x!, 2, 3);
      return tf.add(tf.mul(x!, cos), tf.mul(tf.concat([tf.neg(x2!), x1!], 3), sin)).transpose([0, 2, 1, 3]);
    },
    dispatches: 1 + 1,
  },
];

/** Value and gradients of sum(f(xs) · w) (w random, so every output element matters), and the dispatches on webgpu. */
async function evaluate(c: (typeof CASES)[number]): Promise<{ value: Float32Array; grads: Float32Array[]; dispatches: number }> {
  const xs = c.shapes.map((s, i) =>
    tf.tensor(
      randomValues(
        s.reduce((a, b) => a * b, 1),
        3 + i,
        2,
      ),
      s,
    ),
  );
  await Promise.all(xs.map((x) => x.data()));
  const value = c.f(...xs);
  const w = tf.tensor(randomValues(value.size, 99), value.shape);
  const before = gpuCounters();
  const { value: _, grads } = tf.valueAndGrads((...ins: tf.Tensor[]) => tf.sum(tf.mul(c.f(...ins), w)))(xs);
  const after = gpuCounters();
  const out = {
    value: (await value.data()) as Float32Array,
    grads: await Promise.all(grads.map(async (g) => (await g.data()) as Float32Array)),
    dispatches: diffGpuCounters(after, before).dispatches,
  };
  tf.dispose([...xs, value, w, _, ...grads]);
  return out;
}

describe.skipIf(!hasGpu)('fused nn kernels on webgpu', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s: forward and gradients equal the tfjs reference', async (_name, c) => {
    await onCpu();
    expect(fusedNn()).toBeUndefined();
    const cpu = await evaluate(c);
    await onGpu();
    expect(fusedNn()).toBeDefined();
    const gpu = await evaluate(c);
    expect(relativeError(gpu.value, cpu.value)).toBeLessThan(1e-5);
    gpu.grads.forEach((g, i) => expect(relativeError(g, cpu.grads[i]!), `gradient ${i}`).toBeLessThan(1e-4));
    // Counted on the device: forward + backward of the fused op, plus the mul/sum/ones/… of the test's own sum(f·w).
    expect(gpu.dispatches).toBeLessThan(c.dispatches + 6);
  });
});
