/**
 * Names and typed inputs/attributes of the kernels this package registers
 * (the tfjs `kernel_names.ts` pattern). `UnsortedSegmentSum` is tfjs's own
 * kernel name; the `Vwn*` kernels exist only on `webgpu`, every other backend
 * runs `@vwn/ghc`'s reference formulation (`dghcReadReference`, `ghcWriteReference`).
 *
 * @module
 */
import type { NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs';

/**
 * tfjs's scatter-add kernel, replaced on `webgpu` by a deterministic one.
 *
 * @example
 * ```ts
 * UNSORTED_SEGMENT_SUM; // 'UnsortedSegmentSum'
 * tf.getKernel(UNSORTED_SEGMENT_SUM, 'webgpu') !== undefined; // true once @vwn/kernels-gpu is imported
 * tf.unsortedSegmentSum(rows, ids, numSegments); // runs it (e.g. the embedding gather's gradient)
 * ```
 */
export const UNSORTED_SEGMENT_SUM = 'UnsortedSegmentSum';

/**
 * Fused DGHC read (PAPER.md §5): RMSNorm + dynamic coefficients + width
 * connection. One output, packed per token: `[X (m·d_b) | C (n·d_b) | B(H')ᵀ (n·m)]`.
 *
 * @example
 * ```ts
 * VWN_DGHC_READ; // 'VwnDghcRead'
 * const a = tf.concat([read, carry], 1); // static [Å | Â]: [n, m+n]
 * const packed = tf.engine().runKernel(VWN_DGHC_READ, { state, w, gain, scaleAlpha, a, scaleBeta, write },
 *   { m: 2, n: 3, eps: NORM_EPS }) as tf.Tensor2D;
 * packed.shape[1] === dghcReadPackedWidth(2, 3, db); // [X | C | B(H')ᵀ] per token; dghcRead() unpacks it
 * ```
 */
export const VWN_DGHC_READ = 'VwnDghcRead';

/**
 * Fused backward of {@link VWN_DGHC_READ}: every per-row gradient term in one pass (see `dghc_read_grad_webgpu.ts`).
 *
 * @example
 * ```ts
 * VWN_DGHC_READ_GRAD; // 'VwnDghcReadGrad'
 * // run by the registered gradient of VwnDghcRead, e.g. when differentiating through dghcRead on webgpu:
 * const dState = tf.grad((s: tf.Tensor) => tf.sum(dghcRead(s, params, { m: 2, n: 3 }).x))(state);
 * ```
 */
export const VWN_DGHC_READ_GRAD = 'VwnDghcReadGrad';

/**
 * Fused GHC write: `H'_new = B(H')ᵀ·Z + C`, per token.
 *
 * @example
 * ```ts
 * VWN_GHC_WRITE; // 'VwnGhcWrite'
 * const next = tf.engine().runKernel(VWN_GHC_WRITE, { carried, z, bT }, {}) as tf.Tensor2D; // [N, n·d_b]
 * // ghcWrite(carried, z, bT) does this on webgpu and falls back to reference ops elsewhere
 * ```
 */
export const VWN_GHC_WRITE = 'VwnGhcWrite';

/**
 * Gradient of {@link VWN_GHC_WRITE} with respect to Z: `dZ = B(H')·dH'`.
 *
 * @example
 * ```ts
 * VWN_GHC_WRITE_GRAD_Z; // 'VwnGhcWriteGradZ'
 * const dz = tf.engine().runKernel(VWN_GHC_WRITE_GRAD_Z, { dy, z, bT }, {}) as tf.Tensor2D; // [N, m·d_b]
 * ```
 */
export const VWN_GHC_WRITE_GRAD_Z = 'VwnGhcWriteGradZ';

/**
 * Gradient of {@link VWN_GHC_WRITE} with respect to B(H')ᵀ: `dBᵀ = dH'·Zᵀ`.
 *
 * @example
 * ```ts
 * VWN_GHC_WRITE_GRAD_B; // 'VwnGhcWriteGradB'
 * const dbT = tf.engine().runKernel(VWN_GHC_WRITE_GRAD_B, { dy, z, bT }, {}) as tf.Tensor3D; // [N, n, m]
 * ```
 */
export const VWN_GHC_WRITE_GRAD_B = 'VwnGhcWriteGradB';

/**
 * Inputs of {@link VWN_DGHC_READ}; the names follow the GHC plugin's parameters.
 *
 * @example
 * ```ts
 * const inputs: DghcReadInputs = { state, w, gain, scaleAlpha, a: tf.concat([read, carry], 1), scaleBeta, write };
 * ```
 */
export interface DghcReadInputs extends NamedTensorInfoMap {
  /** H': `[N, n·d_b]`. */
  state: TensorInfo;
  /** `[W_α | W_β]`: `[d_b, 2m+n]`. */
  w: TensorInfo;
  /** RMSNorm gain: `[d_b]`. */
  gain: TensorInfo;
  /** S_α: `[n, m+n]`. */
  scaleAlpha: TensorInfo;
  /** Static A = [Å | Â]: `[n, m+n]` (one input, not two: WebGPU's default limit is 8 storage buffers per stage). */
  a: TensorInfo;
  /** S_β: `[m, n]`. */
  scaleBeta: TensorInfo;
  /** B: `[m, n]`. */
  write: TensorInfo;
}

/**
 * Attributes of {@link VWN_DGHC_READ} and {@link VWN_GHC_WRITE}: the GHC shape.
 *
 * @example
 * ```ts
 * const attrs: GhcAttrs = { m: 2, n: 3 };
 * ```
 */
export interface GhcAttrs {
  /** Segments read by the sublayer. */
  m: number;
  /** Segments of the carried state. */
  n: number;
}

/**
 * Inputs of {@link VWN_GHC_WRITE}.
 *
 * @example
 * ```ts
 * const inputs: GhcWriteInputs = { carried, z, bT };
 * ```
 */
export interface GhcWriteInputs extends NamedTensorInfoMap {
  /** C = Â(H')ᵀ·H': `[N, n·d_b]`. */
  carried: TensorInfo;
  /** Sublayer output Z: `[N, m·d_b]`. */
  z: TensorInfo;
  /** B(H')ᵀ per token: `[N, n, m]`. */
  bT: TensorInfo;
}
