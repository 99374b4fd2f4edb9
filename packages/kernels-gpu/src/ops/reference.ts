/**
 * Reference implementations of the fused ops from plain tfjs ops, with
 * exactly the math (and op order) of `@vwn/ghc`'s `dynamic-ghc` forward
 * (`packages/ghc/src/generalized_hyper_connection.ts`). Every backend except
 * `webgpu` runs these; on `webgpu` they are the oracle the fused kernels are
 * tested against, and {@link dghcReadReference} also supplies the fused read's
 * backward pass.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { rmsNorm } from '@vwn/core';

/**
 * Epsilon of the DGHC RMSNorm (PAPER.md §5 Decision), baked into the fused kernels.
 *
 * @example
 * ```ts
 * rmsNorm(rows, gain, DGHC_NORM_EPS);
 * ```
 */
export const DGHC_NORM_EPS = 1e-6;

/**
 * DGHC parameters, named as in `@vwn/ghc` (`read`, `carry`, `write`,
 * `dynamic.w`, `dynamic.scale_alpha`, `dynamic.scale_beta`, `dynamic.norm.gain`).
 *
 * @example
 * ```ts
 * const p: DghcParams = { w, gain, scaleAlpha, scaleBeta, read, carry, write };
 * ```
 */
export interface DghcParams {
  /** `[W_α | W_β]`: `[d_b, 2m+n]`. */
  readonly w: tf.Tensor;
  /** RMSNorm gain: `[d_b]`. */
  readonly gain: tf.Tensor;
  /** S_α: `[n, m+n]` (matrix scales only). */
  readonly scaleAlpha: tf.Tensor;
  /** S_β: `[m, n]`. */
  readonly scaleBeta: tf.Tensor;
  /** Å: `[n, m]`. */
  readonly read: tf.Tensor;
  /** Â: `[n, n]`. */
  readonly carry: tf.Tensor;
  /** B: `[m, n]`. */
  readonly write: tf.Tensor;
}

/**
 * Result of a DGHC read: what the sublayer reads, what is carried, and the
 * per-token write matrix.
 *
 * @example
 * ```ts
 * const { x, carried, bT } = dghcRead(state, params, { m: 2, n: 3 });
 * ```
 */
export interface DghcReadResult {
  /** X = A_read(H')ᵀ·H', flattened: `[N, m·d_b]` (the sublayer input). */
  readonly x: tf.Tensor2D;
  /** C = Â(H')ᵀ·H': `[N, n·d_b]`. */
  readonly carried: tf.Tensor2D;
  /** B(H')ᵀ per token: `[N, n, m]`. */
  readonly bT: tf.Tensor3D;
}

/**
 * DGHC read from plain tfjs ops (PAPER.md §5):
 *
 *     H̄ = RMSNorm_{d_b}(H')                     # [N·n, d_b]
 *     coeff = tanh(H̄·[W_α | W_β] / τ)            # [N·n, 2m+n], τ = sqrt(d_b)
 *     A(H') = S_α ⊙ coeff[:, :m+n] + [Å | Â]     # [N, n, m+n]
 *     B(H')ᵀ = S_βᵀ ⊙ coeff[:, m+n:] + Bᵀ        # [N, n, m]
 *     [X; C] = A(H')ᵀ·H'                         # [N, m+n, d_b]
 *
 * @param state - H': `[N, n·d_b]`.
 * @param p - DGHC parameters.
 * @param dims - `{ m, n }`.
 * @returns `{ x, carried, bT }`.
 *
 * @example
 * ```ts
 * const { x } = dghcReadReference(tf.ones([5, 6]), params, { m: 2, n: 3 }); // x: [5, 4]
 * ```
 */
export function dghcReadReference(state: tf.Tensor, p: DghcParams, dims: { m: number; n: number }): DghcReadResult {
  const { m, n } = dims;
  return tf.tidy(() => {
    const N = state.shape[0] as number;
    const db = (state.shape[1] as number) / n;
    const tau = Math.sqrt(db);
    const rows = state.reshape([N * n, db]); // segments as rows: [N·n, d_b]
    const normed = rmsNorm(rows, p.gain, DGHC_NORM_EPS); // H̄
    const coeff = tf.tanh(tf.div(tf.matMul(normed as tf.Tensor2D, p.w as tf.Tensor2D), tau)); // [N·n, 2m+n]
    const alpha = tf.slice(coeff, [0, 0], [N * n, m + n]).reshape([N, n, m + n]);
    const beta = tf.slice(coeff, [0, m + n], [N * n, m]).reshape([N, n, m]);
    const a = tf.concat([p.read, p.carry], 1); // [Å | Â]: [n, m+n]
    const aTok = tf.add(tf.mul(p.scaleAlpha, alpha), a) as tf.Tensor3D; // A(H'): [N, n, m+n]
    const bT = tf.add(tf.mul(tf.transpose(p.scaleBeta), beta), tf.transpose(p.write)) as tf.Tensor3D; // B(H')ᵀ: [N, n, m]
    const h = state.reshape([N, n, db]) as tf.Tensor3D;
    const y = tf.matMul(aTok, h, true, false); // A(H')ᵀ·H': [N, m+n, d_b]
    const x = tf.slice(y, [0, 0, 0], [N, m, db]).reshape([N, m * db]) as tf.Tensor2D;
    const carried = tf.slice(y, [0, m, 0], [N, n, db]).reshape([N, n * db]) as tf.Tensor2D;
    return { x, carried, bT };
  });
}

/**
 * GHC write from plain tfjs ops: `H'_new = B(H')ᵀ·Z + C` per token.
 *
 * @param carried - C: `[N, n·d_b]`.
 * @param z - Sublayer output Z: `[N, m·d_b]`.
 * @param bT - B(H')ᵀ: `[N, n, m]`.
 * @returns H'_new: `[N, n·d_b]`.
 *
 * @example
 * ```ts
 * const next = ghcWriteReference(tf.zeros([5, 6]), tf.ones([5, 4]), bT); // [5, 6]
 * ```
 */
export function ghcWriteReference(carried: tf.Tensor, z: tf.Tensor, bT: tf.Tensor): tf.Tensor2D {
  return tf.tidy(() => {
    const [N, n, m] = bT.shape as [number, number, number];
    const db = (z.shape[1] as number) / m;
    const z3 = z.reshape([N, m, db]) as tf.Tensor3D;
    return tf.add(carried.reshape([N, n, db]), tf.matMul(bT as tf.Tensor3D, z3)).reshape([N, n * db]) as tf.Tensor2D;
  });
}
