import * as tf from '@tensorflow/tfjs';
import { getFusedOps } from './fused.js';

/**
 * Fused ops a backend package may offer under the fused-ops name `'nn'`
 * (the WebGPU kernel package does for `webgpu`): {@link rmsNorm}, {@link crossEntropy},
 * the attention's causal softmax and SwiGLU's gate use them when registered
 * for the active backend, and their tfjs formulation otherwise.
 *
 * @example
 * ```ts
 * registerFusedOps('nn', { rmsNorm, causalSoftmax, crossEntropy, swiglu, ropeHeads } satisfies FusedNnOps, ['webgpu']);
 * ```
 */
export interface FusedNnOps {
  rmsNorm?(x: tf.Tensor, gain: tf.Tensor, eps: number): tf.Tensor;
  /** `softmax(scale·scores + causal mask)` over the last axis of `[…, T, T]`. */
  causalSoftmax?(scores: tf.Tensor, scale: number): tf.Tensor;
  /** Mean cross-entropy of `[N, V]` logits against int32 `[N]` targets. */
  crossEntropy?(logits: tf.Tensor2D, targets: tf.Tensor1D): tf.Scalar;
  /** `silu(a)·b`. */
  swiglu?(a: tf.Tensor, b: tf.Tensor): tf.Tensor;
  /** RoPE of `[B, T, H, hd]` (cos/sin `[1, T, 1, hd]`), returned transposed to `[B, H, T, hd]`. */
  ropeHeads?(x: tf.Tensor4D, cos: tf.Tensor, sin: tf.Tensor): tf.Tensor4D;
}

/**
 * The fused `'nn'` ops for the active backend, or undefined (use the tfjs formulation).
 *
 * @example
 * ```ts
 * const fused = fusedNn();
 * const h = fused?.swiglu ? fused.swiglu(a, b) : tf.mul(silu(a), b);
 * ```
 */
export function fusedNn(): FusedNnOps | undefined {
  return getFusedOps('nn');
}

/**
 * Shared numerical building blocks. Everything works on 2-D `[rows, width]`
 * tensors, because tfjs 4.22's rank-3 × rank-2 matMul gradient is broken and
 * 2-D GEMMs are what every backend runs fastest.
 */

/**
 * Epsilon of every norm in vwn (RMSNorm and LayerNorm: the pre-norms, the
 * heads, the DGHC dynamic branch and its fused kernels; PAPER.md §5 Decision):
 * `x / sqrt(mean(x²) + NORM_EPS)`. The default of {@link rmsNorm} and
 * {@link layerNorm}; fused kernels bake the same value in.
 *
 * @example
 * ```ts
 * rmsNorm(rows, gain, NORM_EPS); // same as rmsNorm(rows, gain)
 * ```
 */
export const NORM_EPS = 1e-6;

/**
 * RMSNorm over the last axis: `x / sqrt(mean(x²) + eps) · gain`.
 *
 * @param x `[rows, width]` (any rank; normalizes the last axis)
 * @param gain `[width]`, or null for no gain
 * @example
 * ```ts
 * const y = rmsNorm(tf.tensor2d([[3, 4]]), null); // [[0.8485, 1.1314]]
 * ```
 */
export function rmsNorm(x: tf.Tensor, gain: tf.Tensor | null, eps = NORM_EPS): tf.Tensor {
  const fused = gain ? fusedNn()?.rmsNorm : undefined;
  if (fused && gain) return fused(x, gain, eps);
  return tf.tidy(() => {
    const ms = tf.mean(tf.square(x), -1, true);
    const y = tf.mul(x, tf.rsqrt(tf.add(ms, eps)));
    return gain ? tf.mul(y, gain) : y;
  });
}

/**
 * LayerNorm over the last axis (mean-centred, unit variance), with optional gain and bias.
 *
 * @example
 * ```ts
 * const y = layerNorm(tf.tensor2d([[1, 3]]), null, null); // ≈ [[-1, 1]]
 * ```
 */
export function layerNorm(x: tf.Tensor, gain: tf.Tensor | null, bias: tf.Tensor | null, eps = NORM_EPS): tf.Tensor {
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(x, -1, true);
    let y = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps)));
    if (gain) y = tf.mul(y, gain);
    if (bias) y = tf.add(y, bias);
    return y;
  });
}

/**
 * Affine map `x · W` for `x: [rows, in]`, `W: [in, out]` (no bias, as in the paper's backbone).
 *
 * @example
 * ```ts
 * const y = linear(tf.ones([2, 3]), tf.ones([3, 4])); // [[3,3,3,3],[3,3,3,3]]
 * ```
 */
export function linear(x: tf.Tensor, w: tf.Tensor): tf.Tensor2D {
  const rows = x.size / x.shape[x.rank - 1]!;
  return tf.matMul(x.reshape([rows, x.shape[x.rank - 1]!]) as tf.Tensor2D, w as tf.Tensor2D);
}

/**
 * SiLU (swish): `x · sigmoid(x)`.
 *
 * @example
 * ```ts
 * silu(tf.scalar(0)); // 0
 * ```
 */
export function silu(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(x, tf.sigmoid(x)));
}

/**
 * Mean token cross-entropy from logits, with an optional 0/1 mask of which
 * positions count (masked positions add nothing, the mean is over counted ones).
 *
 * @param logits `[rows, vocab]`
 * @param targets `[rows]` int32
 * @param mask `[rows]` float32 of 0/1, or null for all positions
 * @example
 * ```ts
 * const l = crossEntropy(tf.zeros([2, 4]), tf.tensor1d([0, 3], 'int32'), null); // ln 4
 * ```
 */
export function crossEntropy(logits: tf.Tensor2D, targets: tf.Tensor1D, mask: tf.Tensor1D | null): tf.Scalar {
  const fused = mask ? undefined : fusedNn()?.crossEntropy;
  if (fused && targets.dtype === 'int32') return fused(logits, targets);
  return tf.tidy(() => {
    const vocab = logits.shape[1];
    const logp = tf.logSoftmax(logits);
    const nll = tf.neg(tf.sum(tf.mul(logp, tf.oneHot(targets, vocab)), -1)); // [rows]
    if (!mask) return tf.mean(nll) as tf.Scalar;
    return tf.div(tf.sum(tf.mul(nll, mask)), tf.maximum(tf.sum(mask), 1)) as tf.Scalar;
  });
}

/**
 * Sum of same-shaped tensors by chained adds. Prefer it to `tf.addN` for an
 * unbounded count: WebGPU's AddN binds every input at once and fails past the
 * device's per-shader storage-buffer limit (16 on NVIDIA).
 *
 * @example
 * ```ts
 * sumTensors([tf.scalar(1), tf.scalar(2), tf.scalar(3)]); // 6
 * ```
 */
export function sumTensors(tensors: readonly tf.Tensor[]): tf.Tensor {
  if (tensors.length === 0) throw new Error('sumTensors: needs at least one tensor');
  return tf.tidy(() => tensors.slice(1).reduce<tf.Tensor>((acc, t) => tf.add(acc, t), tf.clone(tensors[0]!)));
}
