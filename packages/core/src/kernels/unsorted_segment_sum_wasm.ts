/**
 * `UnsortedSegmentSum` kernel for the `wasm` backend.
 *
 * tfjs-backend-wasm 4.22 ships no `UnsortedSegmentSum` kernel, so the gradient
 * of `tf.gather` (and therefore every embedding gradient) throws on `wasm`.
 * This kernel is written in JS, like the wasm backend's own Slice/Reshape
 * kernels: it allocates the output on the wasm heap with `makeOutput` and
 * scatter-adds through typed-array views of the heap.
 *
 * @module
 */
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';

import { planUnsortedSegmentSum, scatterAddRows } from './unsorted_segment_sum_cpu.js';
import type { SegmentSumArray } from './unsorted_segment_sum_cpu.js';

/** Name under which tfjs registers the kernel (`tf.UnsortedSegmentSum`). */
const KERNEL_NAME = 'UnsortedSegmentSum';

/**
 * The subset of tfjs-backend-wasm's `BackendWasm` this kernel uses (see
 * `@tensorflow/tfjs-backend-wasm/dist/backend_wasm.d.ts`).
 */
interface WasmBackendLike {
  makeOutput(shape: number[], dtype: 'float32' | 'int32'): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array | Int32Array | Uint8Array;
}

/**
 * `UnsortedSegmentSum` kernel function for the `wasm` backend: an O(N · width)
 * scatter-add over views of the wasm heap.
 *
 * The output is allocated first (`makeOutput` may grow the heap, which
 * detaches earlier views), then views of `x`, `segmentIds` and the output are
 * taken and the output is zero-filled (wasm `malloc` does not clear memory).
 * When `numSegments · width == 0` the heap is not touched at all.
 *
 * @param params - Kernel params: inputs `x` (float32 or int32) and
 *   `segmentIds` (int32), attribute `numSegments`, and the wasm backend.
 * @returns A new tensor of shape `[numSegments, ...x.shape.slice(1)]` and
 *   dtype `x.dtype`.
 *
 * @example
 * ```ts
 * import '@tensorflow/tfjs-backend-wasm';
 * await tf.setBackend('wasm');
 * // after importing './register_all.js':
 * tf.unsortedSegmentSum(tf.tensor1d([1, 2, 3]), tf.tensor1d([0, 0, 1], 'int32'), 2); // [3, 3]
 * ```
 */
export const unsortedSegmentSumWasm: KernelFunc = ({ inputs, backend, attrs }) => {
  const x = inputs['x'];
  const segmentIds = inputs['segmentIds'];
  if (x === undefined || segmentIds === undefined) {
    throw new Error(`${KERNEL_NAME}: missing input x or segmentIds`);
  }
  const wasm = backend as WasmBackendLike;
  const plan = planUnsortedSegmentSum(x, segmentIds, attrs);
  const out = wasm.makeOutput(plan.outShape, plan.dtype);
  if (plan.numSegments * plan.width === 0) return out;

  // Views are taken only after every allocation so none is detached.
  const outVals = wasm.typedArrayFromHeap(out) as SegmentSumArray;
  outVals.fill(0);
  if (plan.numRows > 0) {
    const xVals = wasm.typedArrayFromHeap(x);
    const idVals = wasm.typedArrayFromHeap(segmentIds);
    scatterAddRows(xVals, idVals, outVals, plan.numSegments, plan.numRows, plan.width);
  }
  return out;
};

/**
 * Kernel config registering {@link unsortedSegmentSumWasm} as
 * `UnsortedSegmentSum` for the `wasm` backend. Register it through
 * `registerVwnKernels()` from `./register_all.js`.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * tf.registerKernel(unsortedSegmentSumWasmConfig);
 * ```
 */
export const unsortedSegmentSumWasmConfig: KernelConfig = {
  kernelName: KERNEL_NAME,
  backendName: 'wasm',
  kernelFunc: unsortedSegmentSumWasm,
};
