/**
 * Deterministic scatter-add `UnsortedSegmentSum` for the `webgpu` backend.
 *
 * tfjs-backend-webgpu's kernel adds rows with float atomics (a CAS loop), so
 * the summation order changes from run to run and concurrent updates can be
 * lost (tensorflow/tfjs#8174). This kernel has no atomics and sums every
 * segment's rows in ascending row order, exactly like the `cpu` kernel in
 * `@vwn/core` (`out[s] += x[i]` for i = 0…N−1), so the result is bitwise
 * deterministic and bitwise equal to `cpu`'s:
 *
 * 1. `chains` (one invocation per row i, O(N) each): is i the first row of its
 *    segment, and which row j > i is the next one with the same id?
 * 2. `zero`: fill the `[numSegments, width]` output with 0.
 * 3. `gather-sum` (one invocation per (row, column)): the first row of each
 *    segment walks its chain in row order, `acc = 0; acc += x[i]; acc += x[next]…`,
 *    and writes the one output element it owns.
 *
 * Cost: O(N²) integer compares in pass 1 (N = rows, e.g. batch·seq; fine up to
 * tens of thousands of rows), O(N·width) float adds in pass 3, independent of
 * numSegments (the vocabulary, for embedding gradients).
 *
 * @module
 */
import type { KernelConfig, KernelFunc } from '@tensorflow/tfjs';

import { UNSORTED_SEGMENT_SUM } from './kernel_names.js';
import { flatProgram, type WebGpuBackendLike } from './webgpu_program.js';

/**
 * `UnsortedSegmentSum` kernel function for `webgpu` (see the module comment).
 *
 * @param params - Inputs `x` (float32 or int32, `[N, ...]`) and `segmentIds`
 *   (int32, `[N]`), attribute `numSegments`, and the webgpu backend.
 * @returns `[numSegments, ...x.shape.slice(1)]`, dtype of `x`.
 *
 * @example
 * ```ts
 * await useWebGpu();
 * tf.unsortedSegmentSum(tf.tensor1d([1, 2, 3]), tf.tensor1d([0, 0, 1], 'int32'), 2); // [3, 3]
 * ```
 */
export const unsortedSegmentSumWebGpu: KernelFunc = ({ inputs, backend, attrs }) => {
  const x = inputs['x'];
  const segmentIds = inputs['segmentIds'];
  if (x === undefined || segmentIds === undefined) throw new Error(`${UNSORTED_SEGMENT_SUM}: missing input x or segmentIds`);
  const numSegments = attrs?.['numSegments'];
  if (typeof numSegments !== 'number' || !Number.isInteger(numSegments) || numSegments < 0) {
    throw new Error(`${UNSORTED_SEGMENT_SUM}: numSegments must be a non-negative integer, got ${String(numSegments)}`);
  }
  if (x.dtype !== 'float32' && x.dtype !== 'int32') throw new Error(`${UNSORTED_SEGMENT_SUM}: x must be float32 or int32, got ${x.dtype}`);
  if (segmentIds.dtype !== 'int32') throw new Error(`${UNSORTED_SEGMENT_SUM}: segmentIds must be int32, got ${segmentIds.dtype}`);
  const idRank = segmentIds.shape.length;
  for (let d = 0; d < idRank; d++) {
    if (segmentIds.shape[d] !== x.shape[d]) {
      throw new Error(`${UNSORTED_SEGMENT_SUM}: segmentIds.shape [${segmentIds.shape.join(',')}] must be a prefix of x.shape [${x.shape.join(',')}]`);
    }
  }
  const rows = segmentIds.shape.reduce((a, b) => a * b, 1);
  const rowShape = x.shape.slice(idRank);
  const width = rowShape.reduce((a, b) => a * b, 1);
  const outShape = [numSegments, ...rowShape];
  const gpu = backend as WebGpuBackendLike;
  const dtype = x.dtype;
  const wgslType = dtype === 'int32' ? 'i32' : 'f32';
  const zeroLit = dtype === 'int32' ? '0' : '0.0';

  const size = numSegments * width;
  const out = gpu.runWebGPUProgram(flatProgram(`vwnZero_${wgslType}`, outShape, [], `result[index] = ${zeroLit};`), [], dtype);
  if (size === 0 || rows === 0) return out;

  // Pass 1: chains[2i] = 1 if row i is the first of its segment, chains[2i+1] = next row with the same id or -1.
  const chains = gpu.runWebGPUProgram(
    flatProgram(
      `vwnSegmentChains_${rows}`,
      [rows, 2],
      ['segmentIds'],
      `
        let s = segmentIds[index];
        var head = 1;
        for (var j = 0; j < index; j++) { if (segmentIds[j] == s) { head = 0; break; } }
        var next = -1;
        for (var j = index + 1; j < ${rows}; j++) { if (segmentIds[j] == s) { next = j; break; } }
        result[2 * index] = head;
        result[2 * index + 1] = next;`,
    ),
    [segmentIds],
    'int32',
  );
  // Pass 3: the head row of each segment sums its chain in ascending row order.
  gpu.runWebGPUProgram(
    flatProgram(
      `vwnSegmentGatherSum_${wgslType}_${rows}_${width}_${numSegments}`,
      [rows, width],
      ['x', 'segmentIds', 'chains'],
      `
        let i = index / ${width};
        let c = index % ${width};
        let s = segmentIds[i];
        if (chains[2 * i] == 0 || s < 0 || s >= ${numSegments}) { return; }
        var acc : ${wgslType} = ${zeroLit};
        var j = i;
        loop {
          acc = acc + x[j * ${width} + c];
          j = chains[2 * j + 1];
          if (j < 0) { break; }
        }
        result[s * ${width} + c] = acc;`,
    ),
    [x, segmentIds, chains],
    dtype,
    undefined,
    out,
  );
  gpu.disposeData(chains.dataId);
  return out;
};

/**
 * Kernel config registering {@link unsortedSegmentSumWebGpu} as
 * `UnsortedSegmentSum` for `webgpu`; installed by `registerGpuKernels()`,
 * which replaces tfjs-backend-webgpu's atomic kernel.
 *
 * @example
 * ```ts
 * tf.unregisterKernel('UnsortedSegmentSum', 'webgpu');
 * tf.registerKernel(unsortedSegmentSumWebGpuConfig);
 * ```
 */
export const unsortedSegmentSumWebGpuConfig: KernelConfig = {
  kernelName: UNSORTED_SEGMENT_SUM,
  backendName: 'webgpu',
  kernelFunc: unsortedSegmentSumWebGpu,
};
