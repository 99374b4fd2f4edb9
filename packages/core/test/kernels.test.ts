import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { registerVwnKernels, VWN_KERNEL_CONFIGS } from '../src/kernels/register_all.js';
import { Rng } from '../src/rng.js';
import { maxAbsDiff } from '../src/testing.js';
import { unsortedSegmentSumCpu } from '../src/kernels/unsorted_segment_sum_cpu.js';
import { unsortedSegmentSumWasm } from '../src/kernels/unsorted_segment_sum_wasm.js';

const KERNEL = 'UnsortedSegmentSum';
const TOL = 1e-6;

/** Deterministic uniform [0, 1) draws from the project's own generator. */
function rng(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.next();
}

function prod(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Naive reference: ascending i, ids outside [0, numSegments) skipped, same dtype as x. */
function naiveSegmentSum(
  x: ArrayLike<number>,
  ids: ArrayLike<number>,
  numSegments: number,
  width: number,
  dtype: 'float32' | 'int32',
): Float32Array | Int32Array {
  const out = dtype === 'int32' ? new Int32Array(numSegments * width) : new Float32Array(numSegments * width);
  for (let i = 0; i < ids.length; i++) {
    const s = ids[i] as number;
    if (s < 0 || s >= numSegments) continue;
    for (let j = 0; j < width; j++) out[s * width + j] += x[i * width + j] as number;
  }
  return out;
}

interface Case {
  name: string;
  xShape: number[];
  numSegments: number;
  dtype: 'float32' | 'int32';
  /** Fraction of ids drawn outside [0, numSegments). */
  outOfRange: number;
}

const CASES: Case[] = [
  { name: 'width 1 (2-D)', xShape: [40, 1], numSegments: 7, dtype: 'float32', outOfRange: 0 },
  { name: '1-D x (scalar rows)', xShape: [33], numSegments: 5, dtype: 'float32', outOfRange: 0.2 },
  { name: 'matrix, many repeats', xShape: [64, 16], numSegments: 4, dtype: 'float32', outOfRange: 0 },
  { name: 'matrix, out-of-range ids', xShape: [50, 9], numSegments: 30, dtype: 'float32', outOfRange: 0.3 },
  { name: 'rank 3 rows', xShape: [21, 3, 5], numSegments: 11, dtype: 'float32', outOfRange: 0.1 },
  { name: 'more segments than rows', xShape: [6, 4], numSegments: 100, dtype: 'float32', outOfRange: 0 },
  { name: 'int32 data', xShape: [45, 6], numSegments: 9, dtype: 'int32', outOfRange: 0.2 },
  { name: 'int32 width 1', xShape: [17, 1], numSegments: 3, dtype: 'int32', outOfRange: 0 },
  { name: 'N = 0 rows', xShape: [0, 5], numSegments: 4, dtype: 'float32', outOfRange: 0 },
  { name: 'numSegments = 0', xShape: [8, 3], numSegments: 0, dtype: 'float32', outOfRange: 0 },
  { name: 'width 0', xShape: [8, 0], numSegments: 3, dtype: 'float32', outOfRange: 0 },
  { name: 'all ids out of range', xShape: [10, 4], numSegments: 3, dtype: 'int32', outOfRange: 1 },
];

function makeCase(c: Case, seed: number) {
  const r = rng(seed);
  const n = c.xShape[0] as number;
  const size = prod(c.xShape);
  const xVals =
    c.dtype === 'int32' ? Int32Array.from({ length: size }, () => Math.floor(r() * 2001) - 1000) : Float32Array.from({ length: size }, () => r() * 2 - 1);
  const ids = Int32Array.from({ length: n }, () => {
    if (r() < c.outOfRange) {
      // below 0 or at/above numSegments
      return r() < 0.5 ? -1 - Math.floor(r() * 5) : c.numSegments + Math.floor(r() * 5);
    }
    return c.numSegments === 0 ? 0 : Math.floor(r() * c.numSegments);
  });
  return { xVals, ids };
}

const BACKENDS = ['cpu', 'wasm'] as const;

describe('VWN kernel registration', () => {
  it('installs our UnsortedSegmentSum for cpu and wasm', () => {
    expect(tf.getKernel(KERNEL, 'cpu').kernelFunc).toBe(unsortedSegmentSumCpu);
    expect(tf.getKernel(KERNEL, 'wasm').kernelFunc).toBe(unsortedSegmentSumWasm);
    expect(VWN_KERNEL_CONFIGS.map((k) => `${k.kernelName}/${k.backendName}`)).toEqual([`${KERNEL}/cpu`, `${KERNEL}/wasm`]);
  });

  it('is idempotent and warning-free when called again, and reinstalls over a replacement', async () => {
    const warn = vi.spyOn(console, 'warn');
    try {
      registerVwnKernels();
      registerVwnKernels();
      // Importing the side-effect module again is a no-op (module cache) and harmless.
      await import('../src/kernels/register_all.js');
      expect(tf.getKernel(KERNEL, 'cpu').kernelFunc).toBe(unsortedSegmentSumCpu);
      expect(tf.getKernel(KERNEL, 'wasm').kernelFunc).toBe(unsortedSegmentSumWasm);

      // Someone else replaces the kernel: registerVwnKernels puts ours back.
      const other: tf.KernelFunc = () => {
        throw new Error('not ours');
      };
      tf.unregisterKernel(KERNEL, 'cpu');
      tf.registerKernel({ kernelName: KERNEL, backendName: 'cpu', kernelFunc: other });
      registerVwnKernels();
      expect(tf.getKernel(KERNEL, 'cpu').kernelFunc).toBe(unsortedSegmentSumCpu);

      // And it also works when nothing is registered.
      tf.unregisterKernel(KERNEL, 'wasm');
      registerVwnKernels();
      expect(tf.getKernel(KERNEL, 'wasm').kernelFunc).toBe(unsortedSegmentSumWasm);
      expect(warn).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
    }
  });
});

describe.each(BACKENDS)('UnsortedSegmentSum on %s', (backend) => {
  let previous: string | undefined;
  beforeAll(async () => {
    previous = tf.getBackend() as string | undefined; // undefined before first use
    expect(await tf.setBackend(backend)).toBe(true);
    await tf.ready();
    expect(tf.getBackend()).toBe(backend);
  });
  afterAll(async () => {
    if (previous !== undefined) {
      await tf.setBackend(previous);
      await tf.ready();
    }
  });

  it.runIf(backend === 'wasm')('without our kernel, embedding gradients throw on wasm', () => {
    const table = tf.ones([4, 2]);
    const ids = tf.tensor1d([0, 3], 'int32');
    tf.unregisterKernel(KERNEL, 'wasm');
    try {
      expect(() => tf.grad((t: tf.Tensor) => tf.sum(tf.gather(t, ids)))(table)).toThrow(/UnsortedSegmentSum/);
    } finally {
      registerVwnKernels();
    }
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.gather(t, ids)))(table);
    expect(Array.from(g.dataSync())).toEqual([1, 1, 0, 0, 0, 0, 1, 1]);
    tf.dispose([table, ids, g]);
  });

  it.each(CASES.map((c, k) => [c.name, c, k] as const))('kernel matches naive reference: %s', (_name, c, k) => {
    for (let rep = 0; rep < 3; rep++) {
      const { xVals, ids } = makeCase(c, 1000 * k + rep + 1);
      const width = prod(c.xShape.slice(1));
      const expected = naiveSegmentSum(xVals, ids, c.numSegments, width, c.dtype);

      const x = tf.tensor(xVals, c.xShape, c.dtype);
      const segIds = tf.tensor1d(ids, 'int32');
      const out = tf.unsortedSegmentSum(x, segIds, c.numSegments);
      expect(out.shape).toEqual([c.numSegments, ...c.xShape.slice(1)]);
      expect(out.dtype).toBe(c.dtype);
      const got = out.dataSync();
      expect(maxAbsDiff(got, expected)).toBeLessThanOrEqual(c.dtype === 'int32' ? 0 : TOL);
      tf.dispose([x, segIds, out]);
    }
  });

  it('does not overwrite stale heap memory (output is zero-filled)', () => {
    // Allocate and free a large tensor of garbage, then reuse the heap.
    for (let rep = 0; rep < 3; rep++) {
      const junk = tf.fill([64, 32], 12345.5);
      junk.dataSync();
      junk.dispose();
      const x = tf.ones([2, 32]);
      const segIds = tf.tensor1d([0, 0], 'int32');
      const out = tf.unsortedSegmentSum(x, segIds, 64);
      const vals = out.dataSync();
      const expected = new Float32Array(64 * 32);
      expected.fill(2, 0, 32);
      expect(maxAbsDiff(vals, expected)).toBe(0);
      tf.dispose([x, segIds, out]);
    }
  });

  it.each([
    ['vocab 50, 1-D ids, width 8', 50, [30], 8],
    ['vocab 7, 1-D ids, width 1 (heavy repeats)', 7, [64], 1],
    ['vocab 300, 2-D ids [4, 25], width 16', 300, [4, 25], 16],
    ['vocab 5, 2-D ids [3, 4], width 3', 5, [3, 4], 3],
  ] as const)('gradient of tf.gather w.r.t. the table matches the reference: %s', (_n, vocab, idShape, width) => {
    const r = rng(vocab * 31 + width);
    const numIds = prod(idShape);
    const ids = Int32Array.from({ length: numIds }, () => Math.floor(r() * vocab));
    const upstream = Float32Array.from({ length: numIds * width }, () => r() * 2 - 1);
    const expected = naiveSegmentSum(upstream, ids, vocab, width, 'float32');

    const table = tf.randomNormal([vocab, width]);
    const idT = tf.tensor(ids, [...idShape], 'int32');
    const dy = tf.tensor(upstream, [...idShape, width], 'float32');
    const f = (t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, idT), dy));
    const grad = tf.grad(f)(table);
    expect(grad.shape).toEqual([vocab, width]);
    expect(maxAbsDiff(grad.dataSync(), expected)).toBeLessThanOrEqual(TOL);

    // Also through an optimizer-style variableGrads call (the training path).
    const v = tf.variable(table);
    const { grads, value } = tf.variableGrads(() => tf.sum(tf.mul(tf.gather(v, idT), dy)) as tf.Scalar, [v]);
    const g = grads[v.name];
    expect(g).toBeDefined();
    expect(maxAbsDiff((g as tf.Tensor).dataSync(), expected)).toBeLessThanOrEqual(TOL);
    tf.dispose([table, idT, dy, grad, v, value, ...Object.values(grads)]);
  });

  it('does not leak tensors or backend data across calls', () => {
    const table = tf.randomNormal([128, 8]);
    const ids = tf.tensor1d(
      Int32Array.from({ length: 40 }, (_, i) => (i * 7) % 128),
      'int32',
    );
    const x = tf.randomNormal([40, 8]);
    const step = () => {
      const out = tf.unsortedSegmentSum(x, ids, 128);
      out.dataSync();
      out.dispose();
      const g = tf.grad((t: tf.Tensor) => tf.sum(tf.gather(t, ids)))(table);
      g.dataSync();
      g.dispose();
      // Degenerate shapes too.
      tf.tidy(() => tf.unsortedSegmentSum(tf.zeros([0, 8]), tf.tensor1d([], 'int32'), 5).dataSync());
      tf.tidy(() => tf.unsortedSegmentSum(x, ids, 0).dataSync());
    };
    step(); // warm-up
    const tensorsBefore = tf.memory().numTensors;
    const dataIdsBefore = tf.engine().backend.numDataIds();
    for (let i = 0; i < 5; i++) step();
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    expect(tf.engine().backend.numDataIds()).toBe(dataIdsBefore);
    tf.dispose([table, ids, x]);
  });
});
