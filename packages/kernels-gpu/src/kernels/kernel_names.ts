/**
 * Names and typed inputs/attributes of the kernels this package registers
 * (the tfjs `kernel_names.ts` pattern). `UnsortedSegmentSum` is tfjs's own
 * kernel name; the `Vwn*` kernels exist only on `webgpu`, every other backend
 * runs the reference ops in `../ops/reference.ts`.
 *
 * @module
 */
import type { NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs';

/** tfjs's scatter-add kernel, replaced on `webgpu` by a deterministic one. */
export const UNSORTED_SEGMENT_SUM = 'UnsortedSegmentSum';

/**
 * Fused DGHC read (PAPER.md §5): RMSNorm + dynamic coefficients + width
 * connection. One output, packed per token: `[X (m·d_b) | C (n·d_b) | B(H')ᵀ (n·m)]`.
 */
export const VWN_DGHC_READ = 'VwnDghcRead';

/** Fused backward of {@link VWN_DGHC_READ}: every per-row gradient term in one pass (see `dghc_read_grad_webgpu.ts`). */
export const VWN_DGHC_READ_GRAD = 'VwnDghcReadGrad';

/** Fused GHC write: `H'_new = B(H')ᵀ·Z + C`, per token. */
export const VWN_GHC_WRITE = 'VwnGhcWrite';

/** Gradient of {@link VWN_GHC_WRITE} with respect to Z: `dZ = B(H')·dH'`. */
export const VWN_GHC_WRITE_GRAD_Z = 'VwnGhcWriteGradZ';

/** Gradient of {@link VWN_GHC_WRITE} with respect to B(H')ᵀ: `dBᵀ = dH'·Zᵀ`. */
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
