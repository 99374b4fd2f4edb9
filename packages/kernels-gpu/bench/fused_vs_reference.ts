/**
 * Times one DGHC-wrapped sublayer step (read → tanh(X·W) → write), forward and
 * forward+backward, with the fused webgpu kernels vs the reference ops on the
 * same backend, plus the deterministic scatter-add vs tfjs's atomic one.
 *
 *     npx tsx packages/kernels-gpu/bench/fused_vs_reference.ts [N] [m] [n] [d_b]
 */
import * as tf from '@tensorflow/tfjs';

import { dghcReadReference, ghcWriteReference } from '@vwn/ghc';

import { dghcRead, ghcWrite, registerGpuKernels, useWebGpu } from '../src/node.js';

const [N, m, n, db] = process.argv
  .slice(2)
  .map(Number)
  .filter((x) => x > 0)
  .concat([512, 8, 32, 16])
  .slice(0, 4) as [number, number, number, number];
const { adapter } = await useWebGpu();
const rnd = (shape: number[], s = 0.5) => tf.randomUniform(shape, -s, s, 'float32', 1);
const state = rnd([N, n * db], 2);
const p = {
  w: rnd([db, 2 * m + n]),
  gain: tf.ones([db]),
  scaleAlpha: tf.ones([n, m + n]),
  scaleBeta: tf.ones([m, n]),
  read: rnd([n, m]),
  carry: rnd([n, n]),
  write: rnd([m, n]),
};
const w1 = rnd([m * db, m * db], 0.2);

function step(fused: boolean, s: tf.Tensor, w: tf.Tensor): tf.Scalar {
  const r = fused ? dghcRead(s, { ...p, w }, { m, n }) : dghcReadReference(s, { ...p, w }, { m, n });
  const z = tf.tanh(tf.matMul(r.x, w1));
  const out = fused ? ghcWrite(r.carried, z, r.bT) : ghcWriteReference(r.carried, z, r.bT);
  return tf.sum(tf.square(out));
}

async function time(label: string, f: () => tf.Tensor | tf.Tensor[], reps = 10): Promise<number> {
  const sync = async (t: tf.Tensor | tf.Tensor[]) => {
    const ts = Array.isArray(t) ? t : [t];
    await ts[0]!.data();
    tf.dispose(ts);
  };
  await sync(f()); // compile pipelines
  await sync(f());
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) await sync(f());
  const ms = (performance.now() - t0) / reps;
  console.log(`${label.padEnd(44)} ${ms.toFixed(2)} ms`);
  return ms;
}

console.log(`adapter: ${adapter.name}; N=${N} m=${m} n=${n} d_b=${db}`);
const grad = (fused: boolean) => () => tf.grads((s: tf.Tensor, w: tf.Tensor) => step(fused, s, w))([state, p.w]);
const rf = await time('reference forward', () => step(false, state, p.w));
const ff = await time('fused forward', () => step(true, state, p.w));
const rb = await time('reference forward+backward', grad(false));
const fb = await time('fused forward+backward', grad(true));
console.log(`speedup: forward ${(rf / ff).toFixed(2)}x, forward+backward ${(rb / fb).toFixed(2)}x`);

const V = 4096;
const ids = tf.randomUniform([N * 4], 0, V, 'int32', 3) as tf.Tensor1D;
const upd = rnd([N * 4, 64]);
await time(`scatter-add (deterministic) ${N * 4}x64 -> ${V}`, () => tf.unsortedSegmentSum(upd, ids, V));
const ours = tf.getKernel('UnsortedSegmentSum', 'webgpu')!;
tf.unregisterKernel('UnsortedSegmentSum', 'webgpu');
const { unsortedSegmentSumConfig } = (await import('@tensorflow/tfjs-backend-webgpu/dist/kernels/UnsortedSegmentSum.js')) as {
  unsortedSegmentSumConfig: tf.KernelConfig;
};
tf.registerKernel(unsortedSegmentSumConfig);
await time(`scatter-add (tfjs atomic) ${N * 4}x64 -> ${V}`, () => tf.unsortedSegmentSum(upd, ids, V));
tf.unregisterKernel('UnsortedSegmentSum', 'webgpu');
tf.registerKernel(ours);
registerGpuKernels();
process.exit(0);
