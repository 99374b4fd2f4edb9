/**
 * Scatter-add replacement for TensorFlow.js's `UnsortedSegmentSum` kernel on
 * the `cpu` backend.
 *
 * tfjs-backend-cpu implements `UnsortedSegmentSum` by building, for every
 * segment, a dense `equal(segmentId, segmentIds)` mask, multiplying it with
 * `x` and reducing: O(numSegments · N · width) time plus several temporaries
 * per segment. The gradient of `tf.gather` (embedding lookups) goes through
 * this kernel with `numSegments = vocabSize`, which makes embedding backprop
 * scale with the vocabulary. This kernel is a single O(N · width) pass.
 *
 * @module
 */
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';

/** Name under which tfjs registers the kernel (`tf.UnsortedSegmentSum`). */
const KERNEL_NAME = 'UnsortedSegmentSum';

/**
 * Typed arrays the scatter-add reads from and writes to. `float32` tensors are
 * stored as `Float32Array`, `int32` tensors as `Int32Array`; writing into these
 * arrays rounds to float32 / wraps to int32 exactly as TensorFlow does.
 *
 * @example
 * ```ts
 * const out: SegmentSumArray = new Float32Array(8);
 * ```
 */
export type SegmentSumArray = Float32Array | Int32Array;

/**
 * Shape bookkeeping for one `UnsortedSegmentSum` call, as computed by
 * {@link planUnsortedSegmentSum}.
 *
 * @example
 * ```ts
 * const plan: SegmentSumPlan = planUnsortedSegmentSum(x, segmentIds, { numSegments: 10 });
 * plan.outShape; // [10, ...x.shape.slice(segmentIds.shape.length)]
 * ```
 */
export interface SegmentSumPlan {
  /** Output shape: `[numSegments, ...x.shape.slice(segmentIds.rank)]`. */
  readonly outShape: number[];
  /** Output dtype (same as `x`). */
  readonly dtype: 'float32' | 'int32';
  /** Number of segments (rows of the output). */
  readonly numSegments: number;
  /** Number of rows of `x` (`segmentIds.size`). */
  readonly numRows: number;
  /** Elements per row: the product of the trailing dims of `x`. */
  readonly width: number;
}

/**
 * Validates the inputs and attributes of an `UnsortedSegmentSum` kernel call and
 * computes the output shape and row width.
 *
 * Follows TensorFlow semantics: `segmentIds` must be `int32` and its shape must
 * be a prefix of `x.shape` (tfjs always passes a 1-D `segmentIds` matching
 * `x.shape[0]`); the output has shape
 * `[numSegments, ...x.shape.slice(segmentIds.shape.length)]` and the dtype of
 * `x`, which must be `float32` or `int32`.
 *
 * @param x - The data tensor.
 * @param segmentIds - The `int32` segment id of every row of `x`.
 * @param attrs - Kernel attributes; `numSegments` must be a non-negative integer.
 * @returns The plan used by both the `cpu` and `wasm` kernels.
 * @throws Error if a dtype, shape or `numSegments` is invalid.
 *
 * @example
 * ```ts
 * const plan = planUnsortedSegmentSum(
 *   { dataId: {}, shape: [4, 3], dtype: 'float32' },
 *   { dataId: {}, shape: [4], dtype: 'int32' },
 *   { numSegments: 2 },
 * );
 * // plan.outShape = [2, 3], plan.numRows = 4, plan.width = 3
 * ```
 */
export function planUnsortedSegmentSum(x: TensorInfo, segmentIds: TensorInfo, attrs: NamedAttrMap | undefined): SegmentSumPlan {
  const numSegments = attrs?.['numSegments'];
  if (typeof numSegments !== 'number' || !Number.isInteger(numSegments) || numSegments < 0) {
    throw new Error(`${KERNEL_NAME}: numSegments must be a non-negative integer, got ${String(numSegments)}`);
  }
  if (x.dtype !== 'float32' && x.dtype !== 'int32') {
    throw new Error(`${KERNEL_NAME}: x must be float32 or int32, got ${x.dtype}`);
  }
  if (segmentIds.dtype !== 'int32') {
    throw new Error(`${KERNEL_NAME}: segmentIds must be int32, got ${segmentIds.dtype}`);
  }
  const idRank = segmentIds.shape.length;
  if (idRank > x.shape.length) {
    throw new Error(`${KERNEL_NAME}: segmentIds rank ${idRank} exceeds x rank ${x.shape.length}`);
  }
  let numRows = 1;
  for (let d = 0; d < idRank; d++) {
    if (segmentIds.shape[d] !== x.shape[d]) {
      throw new Error(`${KERNEL_NAME}: segmentIds.shape [${segmentIds.shape.join(',')}] must be a prefix ` + `of x.shape [${x.shape.join(',')}]`);
    }
    numRows *= segmentIds.shape[d] as number;
  }
  const rowShape = x.shape.slice(idRank);
  let width = 1;
  for (const d of rowShape) width *= d;
  return { outShape: [numSegments, ...rowShape], dtype: x.dtype, numSegments, numRows, width };
}

/**
 * The scatter-add itself: for `i = 0 … numRows-1` in ascending order,
 * `out[ids[i]] += x[i]` row-wise. Rows whose id is outside `[0, numSegments)`
 * are skipped (TensorFlow semantics). `out` must be zero-filled by the caller
 * and hold at least `numSegments · width` elements.
 *
 * @param x - Row-major data, `numRows · width` elements.
 * @param ids - Segment id of each row, `numRows` elements.
 * @param out - Zero-initialised output, `numSegments · width` elements.
 * @param numSegments - Number of output rows.
 * @param numRows - Number of input rows.
 * @param width - Elements per row.
 *
 * @example
 * ```ts
 * const out = new Float32Array(2 * 2);
 * scatterAddRows(new Float32Array([1, 2, 3, 4, 5, 6]), new Int32Array([1, 0, 1]), out, 2, 3, 2);
 * // out = [3, 4, 6, 8]
 * ```
 */
export function scatterAddRows(x: ArrayLike<number>, ids: ArrayLike<number>, out: SegmentSumArray, numSegments: number, numRows: number, width: number): void {
  if (width === 0 || numSegments === 0) return;
  if (width === 1) {
    for (let i = 0; i < numRows; i++) {
      const s = ids[i] as number;
      if (s >= 0 && s < numSegments) out[s] = (out[s] as number) + (x[i] as number);
    }
    return;
  }
  for (let i = 0; i < numRows; i++) {
    const s = ids[i] as number;
    if (!(s >= 0 && s < numSegments)) continue;
    const o = s * width;
    const xo = i * width;
    for (let j = 0; j < width; j++) out[o + j] = (out[o + j] as number) + (x[xo + j] as number);
  }
}

/** The subset of tfjs-backend-cpu's `MathBackendCPU` this kernel uses. */
interface CpuBackendLike {
  data: { get(dataId: object): { values?: unknown } | undefined };
  makeTensorInfo(shape: number[], dtype: 'float32' | 'int32', values?: SegmentSumArray): TensorInfo;
}

function readCpuValues(backend: CpuBackendLike, t: TensorInfo, what: string): ArrayLike<number> {
  const values = backend.data.get(t.dataId)?.values;
  if (values == null || typeof (values as ArrayLike<number>).length !== 'number') {
    throw new Error(`${KERNEL_NAME}: ${what} has no numeric values on the cpu backend`);
  }
  return values as ArrayLike<number>;
}

/**
 * `UnsortedSegmentSum` kernel function for the `cpu` backend: a single
 * O(N · width) scatter-add instead of tfjs's per-segment masked reductions.
 *
 * @param params - Kernel params: inputs `x` (float32 or int32) and
 *   `segmentIds` (int32), attribute `numSegments`, and the cpu backend.
 * @returns A new tensor of shape `[numSegments, ...x.shape.slice(1)]` and
 *   dtype `x.dtype`.
 *
 * @example
 * ```ts
 * // Normally reached through tf.unsortedSegmentSum / the gradient of tf.gather
 * // after importing './register_all.js':
 * tf.unsortedSegmentSum(tf.tensor1d([1, 2, 3]), tf.tensor1d([0, 0, 1], 'int32'), 2); // [3, 3]
 * ```
 */
export const unsortedSegmentSumCpu: KernelFunc = ({ inputs, backend, attrs }) => {
  const x = inputs['x'];
  const segmentIds = inputs['segmentIds'];
  if (x === undefined || segmentIds === undefined) {
    throw new Error(`${KERNEL_NAME}: missing input x or segmentIds`);
  }
  const cpu = backend as CpuBackendLike;
  const plan = planUnsortedSegmentSum(x, segmentIds, attrs);
  const size = plan.numSegments * plan.width;
  const out = plan.dtype === 'int32' ? new Int32Array(size) : new Float32Array(size);
  if (size > 0 && plan.numRows > 0) {
    scatterAddRows(readCpuValues(cpu, x, 'x'), readCpuValues(cpu, segmentIds, 'segmentIds'), out, plan.numSegments, plan.numRows, plan.width);
  }
  return cpu.makeTensorInfo(plan.outShape, plan.dtype, out);
};

/**
 * Kernel config registering {@link unsortedSegmentSumCpu} as
 * `UnsortedSegmentSum` for the `cpu` backend. Register it through
 * `registerVwnKernels()` from `./register_all.js`, which replaces tfjs's kernel.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * tf.unregisterKernel('UnsortedSegmentSum', 'cpu');
 * tf.registerKernel(unsortedSegmentSumCpuConfig);
 * ```
 */
export const unsortedSegmentSumCpuConfig: KernelConfig = {
  kernelName: KERNEL_NAME,
  backendName: 'cpu',
  kernelFunc: unsortedSegmentSumCpu,
};
