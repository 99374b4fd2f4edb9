/**
 * The one plain formulation of a dynamic GHC step (PAPER.md §4–5), written
 * as the equations read, with no reorganization for speed. It is the oracle
 * for every faster path: the `dynamic-ghc` plugin's tuned forward (folded
 * gain, transposed coefficients, wasm tanh), @vwn/kernels-gpu's fused webgpu
 * kernels (which also run it as their fallback on other backends) and any
 * other backend package's fused `dghc` ops.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { NORM_EPS, layerNorm, rmsNorm } from '@vwn/core';

/**
 * DGHC parameters, named as in the plugin's parameter table (`read`, `carry`,
 * `write`, `dynamic.w`, `dynamic.scale_alpha`, `dynamic.scale_beta`,
 * `dynamic.norm.gain`, and for the HC preset `dynamic.norm.bias`).
 *
 * @example
 * ```ts
 * const p: DghcParams = { w, gain, scaleAlpha, scaleBeta, read, carry, write };
 * ```
 */
export interface DghcParams {
  /** `[W_α | W_β]`: `[d_b, 2m+n]`. */
  readonly w: tf.Tensor;
  /** Norm gain g: `[d_b]`. */
  readonly gain: tf.Tensor;
  /** S_α: `[n, m+n]` (GHC) or `[1]` (HC). */
  readonly scaleAlpha: tf.Tensor;
  /** S_β: `[m, n]` (GHC) or `[1]` (HC). */
  readonly scaleBeta: tf.Tensor;
  /** Å: `[n, m]`. */
  readonly read: tf.Tensor;
  /** Â: `[n, n]`. */
  readonly carry: tf.Tensor;
  /** B: `[m, n]`. */
  readonly write: tf.Tensor;
  /** LayerNorm bias b: `[d_b]`. Present only for the HC preset, whose norm is LayerNorm instead of RMSNorm. */
  readonly bias?: tf.Tensor;
}

/**
 * Result of a DGHC read: what the sublayer reads, what is carried, and the
 * per-token write matrix.
 *
 * @example
 * ```ts
 * const { x, carried, bT } = dghcReadReference(state, params, { m: 2, n: 3 });
 * ```
 */
export interface DghcReadResult {
  /** X = Å(H')ᵀ·H', flattened: `[N, m·d_b]` (the sublayer input). */
  readonly x: tf.Tensor2D;
  /** C = Â(H')ᵀ·H', flattened: `[N, n·d_b]`. */
  readonly carried: tf.Tensor2D;
  /** B(H')ᵀ per token: `[N, n, m]`. */
  readonly bT: tf.Tensor3D;
}

/**
 * Fused DGHC ops a backend package may register under `'dghc'` with
 * `registerFusedOps` (@vwn/kernels-gpu does for webgpu). They must compute
 * {@link dghcReadReference} and {@link ghcWriteReference} (values and
 * gradients; matrix scales and RMSNorm only, `bias` is never passed). This
 * package adds them to `@vwn/core`'s `FusedOps` as `dghc`, so registering
 * and looking them up is type-checked.
 *
 * @example
 * ```ts
 * // a backend package offers them (as @vwn/kernels-gpu does for webgpu):
 * registerFusedOps('dghc', { dghcRead, ghcWrite }, ['webgpu']);
 * // the dynamic-ghc connection then runs, per sublayer:
 * const ops = getFusedOps('dghc');
 * const { x, carried, bT } = ops!.dghcRead(state, { w, gain, scaleAlpha, scaleBeta, read, carry, write }, { m, n });
 * const next = ops!.ghcWrite(carried, sublayer(x), bT); // H'_new: [N, D']
 * ```
 */
export interface DghcFusedOps {
  /** Norm + dynamic coefficients + width connection (PAPER.md §5): X `[N, m·d_b]`, C `[N, n·d_b]`, B(H')ᵀ `[N, n, m]`. */
  dghcRead(state: tf.Tensor, p: DghcParams, dims: { m: number; n: number }): DghcReadResult;
  /** Depth connection plus carry, `H'_new = B(H')ᵀ·Z + C` (PAPER.md §4): `[N, n·d_b]`. */
  ghcWrite(carried: tf.Tensor, z: tf.Tensor, bT: tf.Tensor): tf.Tensor2D;
}

declare module '@vwn/core' {
  interface FusedOps {
    /** DGHC read and GHC write (@vwn/ghc's {@link DghcFusedOps}). */
    dghc: DghcFusedOps;
  }
}

/**
 * DGHC read from plain tfjs ops (PAPER.md §5), for N tokens with state H'
 * of n segments of width d_b:
 *
 *     H̄ = RMSNorm_{d_b}(H') ⊙ g                  # [N·n, d_b], per segment; eps NORM_EPS
 *                                                #   (HC: LayerNorm_{d_b}(H') ⊙ g + b)
 *     τ = sqrt(d_b)
 *     coeff = tanh(H̄ · [W_α | W_β] / τ)          # [N·n, 2m+n] → per token [N, n, 2m+n]
 *     A(H') = S_α ⊙ coeff[:, :, :m+n] + [Å | Â]  # [N, n, m+n]
 *     B(H')ᵀ = S_βᵀ ⊙ coeff[:, :, m+n:] + Bᵀ      # [N, n, m]
 *     [X; C] = A(H')ᵀ · H'                       # [N, m+n, d_b]: X [N, m, d_b], C [N, n, d_b]
 *
 * @param state - H': `[N, n·d_b]`.
 * @param p - DGHC parameters (with `bias`: the HC preset's LayerNorm).
 * @param dims - `{ m, n }`.
 * @returns `{ x: [N, m·d_b], carried: [N, n·d_b], bT: [N, n, m] }`.
 *
 * @example
 * ```ts
 * const { x, carried, bT } = dghcReadReference(tf.ones([5, 6]), params, { m: 2, n: 3 }); // x: [5, 4], carried: [5, 6]
 * ```
 */
export function dghcReadReference(state: tf.Tensor, p: DghcParams, dims: { m: number; n: number }): DghcReadResult {
  const { m, n } = dims;
  return tf.tidy(() => {
    const N = state.shape[0] as number;
    const db = (state.shape[1] as number) / n;
    const rows = state.reshape([N * n, db]); // segments as rows: [N·n, d_b]
    const normed = p.bias ? layerNorm(rows, p.gain, p.bias, NORM_EPS) : rmsNorm(rows, p.gain, NORM_EPS); // H̄: [N·n, d_b]
    const coeff = tf.tanh(tf.div(tf.matMul(normed as tf.Tensor2D, p.w as tf.Tensor2D), Math.sqrt(db))); // [N·n, 2m+n]
    const alpha = tf.slice(coeff, [0, 0], [N * n, m + n]).reshape([N, n, m + n]);
    const beta = tf.slice(coeff, [0, m + n], [N * n, m]).reshape([N, n, m]);
    const a = tf.add(tf.mul(p.scaleAlpha, alpha), tf.concat([p.read, p.carry], 1)) as tf.Tensor3D; // A(H'): [N, n, m+n]
    const bT = tf.add(tf.mul(tf.transpose(p.scaleBeta), beta), tf.transpose(p.write)) as tf.Tensor3D; // B(H')ᵀ: [N, n, m]
    const y = tf.matMul(a, state.reshape([N, n, db]) as tf.Tensor3D, true, false); // A(H')ᵀ·H': [N, m+n, d_b]
    const x = tf.slice(y, [0, 0, 0], [N, m, db]).reshape([N, m * db]) as tf.Tensor2D;
    const carried = tf.slice(y, [0, m, 0], [N, n, db]).reshape([N, n * db]) as tf.Tensor2D;
    return { x, carried, bT };
  });
}

/**
 * GHC write from plain tfjs ops (PAPER.md §4), per token:
 *
 *     H'_new = B(H')ᵀ · Z + C     # [N, n, m]·[N, m, d_b] + [N, n, d_b]
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

/**
 * One whole dynamic GHC step around a sublayer T (PAPER.md §4–5), from the
 * two halves above:
 *
 *     X, C, B(H')ᵀ = read(H')       # dghcReadReference
 *     Z = T(X)                      # [N, m·d_b]
 *     H'_new = B(H')ᵀ · Z + C       # ghcWriteReference: [N, n·d_b]
 *
 * @param state - H': `[N, n·d_b]`.
 * @param sublayer - T: `[N, m·d_b] → [N, m·d_b]`.
 * @param p - DGHC parameters.
 * @param dims - `{ m, n }`.
 * @returns H'_new: `[N, n·d_b]`.
 *
 * @example
 * ```ts
 * const next = dghcReference(state, (x) => x, params, { m: 2, n: 3 }); // same as the dynamic-ghc plugin's apply
 * ```
 */
export function dghcReference(state: tf.Tensor, sublayer: (x: tf.Tensor2D) => tf.Tensor2D, p: DghcParams, dims: { m: number; n: number }): tf.Tensor2D {
  return tf.tidy(() => {
    const { x, carried, bT } = dghcReadReference(state, p, dims);
    return ghcWriteReference(carried, sublayer(x), bT);
  });
}
