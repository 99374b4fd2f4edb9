/**
 * Differentiable fused ops on `webgpu` (forward and backward each a few
 * dispatches), offered to @vwn/core under the fused-ops name `'nn'`:
 * RMSNorm, causal masked softmax, mean cross-entropy and SwiGLU's gate.
 * Each equals @vwn/core's tfjs formulation (tested against it on llvmpipe).
 * They must be called with the `webgpu` backend active.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs';

import {
  VWN_CAUSAL_SOFTMAX,
  VWN_CAUSAL_SOFTMAX_GRAD,
  VWN_CROSS_ENTROPY,
  VWN_CROSS_ENTROPY_GRAD,
  VWN_RMS_NORM,
  VWN_RMS_NORM_GRAD_GAIN,
  VWN_RMS_NORM_GRAD_X,
  VWN_RMS_NORM_STATS,
  VWN_ROPE_HEADS,
  VWN_ROPE_HEADS_GRAD,
  VWN_SWIGLU,
  VWN_SWIGLU_GRAD_A,
  VWN_SWIGLU_GRAD_B,
} from '../kernels/fused_nn_webgpu.js';

const run = (name: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, number | number[]> = {}) =>
  tf.engine().runKernel(name, inputs as unknown as tf.NamedTensorMap, attrs) as tf.Tensor;

/**
 * RMSNorm over the last axis with a gain: `x · rsqrt(mean(x²) + eps) · gain`.
 *
 * @param x - Any rank; normalized over its last axis (width D).
 * @param gain - `[D]`.
 * @param eps - Added to the mean square.
 *
 * @example
 * ```ts
 * const y = fusedRmsNorm(x, gain, 1e-6); // same shape as x
 * ```
 */
export function fusedRmsNorm(x: tf.Tensor, gain: tf.Tensor, eps = 1e-6): tf.Tensor {
  const D = x.shape[x.rank - 1]!;
  if (gain.size !== D) throw new Error(`fusedRmsNorm: gain has ${gain.size} values, x's last axis ${D}`);
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [xi, g, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    save([xi, g]);
    return {
      value: run(VWN_RMS_NORM, { x: xi, gain: g }, { eps }),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [xs, gs] = saved as [tf.Tensor, tf.Tensor];
        const d = dy as tf.Tensor;
        const stats = run(VWN_RMS_NORM_STATS, { x: xs, gain: gs, dy: d }, { eps });
        const dx = run(VWN_RMS_NORM_GRAD_X, { x: xs, gain: gs, dy: d, stats });
        const dg = run(VWN_RMS_NORM_GRAD_GAIN, { x: xs, dy: d, stats }).reshape(gs.shape);
        stats.dispose();
        return [dx, dg];
      },
    };
  });
  return op(x, gain);
}

/**
 * Causal softmax of attention scores: `softmax(scale · s + M)` over the last
 * axis with keys after the query masked out (`M = −∞` above the diagonal).
 *
 * @param scores - `[…, T, T]` (query × key), raw `q·kᵀ`.
 * @param scale - Usually `1/√head_dim`.
 *
 * @example
 * ```ts
 * const probs = fusedCausalSoftmax(tf.matMul(q, k, false, true), 1 / Math.sqrt(hd));
 * ```
 */
export function fusedCausalSoftmax(scores: tf.Tensor, scale: number): tf.Tensor {
  const T = scores.shape[scores.rank - 1]!;
  if (scores.rank < 2 || scores.shape[scores.rank - 2] !== T) throw new Error(`fusedCausalSoftmax: scores must be [..., T, T], got [${scores.shape.join(', ')}]`);
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [s, save] = args as [tf.Tensor, tf.GradSaveFunc];
    const p = run(VWN_CAUSAL_SOFTMAX, { scores: s }, { scale });
    save([p]);
    return { value: p, gradFunc: (dp: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => [run(VWN_CAUSAL_SOFTMAX_GRAD, { p: saved[0]!, dp: dp as tf.Tensor }, { scale })] };
  });
  return op(scores);
}

/**
 * Mean next-token cross-entropy `mean_i(logsumexp(l_i) − l_i[t_i])` with its
 * gradient `(softmax − onehot)/N` in one kernel.
 *
 * @param logits - `[N, V]`.
 * @param targets - `[N]` int32.
 *
 * @example
 * ```ts
 * const loss = fusedCrossEntropy(logits, targets); // tf.Scalar
 * ```
 */
export function fusedCrossEntropy(logits: tf.Tensor2D, targets: tf.Tensor1D): tf.Scalar {
  if (targets.dtype !== 'int32' || targets.size !== logits.shape[0]) throw new Error('fusedCrossEntropy: targets must be int32 [N] for logits [N, V]');
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [l, save] = args as [tf.Tensor, tf.GradSaveFunc];
    save([l, targets]);
    const nll = run(VWN_CROSS_ENTROPY, { logits: l, targets });
    const value = tf.mean(nll);
    nll.dispose();
    return {
      value,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => [run(VWN_CROSS_ENTROPY_GRAD, { logits: saved[0]!, targets: saved[1]!, dy: dy as tf.Tensor })],
    };
  });
  return op(logits) as tf.Scalar;
}

/**
 * SwiGLU's gate `silu(a) · b` (a = x·W₁, b = x·W₃).
 *
 * @example
 * ```ts
 * const h = fusedSwiGlu(linear(x, w1), linear(x, w3));
 * ```
 */
export function fusedSwiGlu(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  if (a.size !== b.size) throw new Error(`fusedSwiGlu: a and b differ in size (${a.size}, ${b.size})`);
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [ai, bi, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    save([ai, bi]);
    return {
      value: run(VWN_SWIGLU, { a: ai, b: bi }),
      gradFunc: (dh: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const d = dh as tf.Tensor;
        return [run(VWN_SWIGLU_GRAD_A, { a: saved[0]!, b: saved[1]!, dh: d }), run(VWN_SWIGLU_GRAD_B, { a: saved[0]!, dh: d })];
      },
    };
  });
  return op(a, b);
}

/**
 * Rotary position embedding of per-head vectors, written in attention layout:
 * `x [B, T, H, hd]` → `[B, H, T, hd]` with `y = x·cos + rotate_half(x)·sin`
 * (rotate_half(x) = [−x₂, x₁] for x = [x₁, x₂]); the transpose is free.
 *
 * @param x - `[B, T, H, hd]`, hd even.
 * @param cos - `[1, T, 1, hd]` (or any shape with T·hd values, t-major).
 * @param sin - Same as `cos`.
 *
 * @example
 * ```ts
 * const q = fusedRopeHeads(linear(x, wq).reshape([B, T, H, hd]) as tf.Tensor4D, cos, sin); // [B, H, T, hd]
 * ```
 */
export function fusedRopeHeads(x: tf.Tensor4D, cos: tf.Tensor, sin: tf.Tensor): tf.Tensor4D {
  const [B, T, H, hd] = x.shape;
  if (hd % 2 !== 0 || cos.size !== T * hd || sin.size !== T * hd) throw new Error(`fusedRopeHeads: needs even hd and cos/sin of T·hd = ${T * hd} values`);
  const dims = [B, T, H, hd];
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [xi, save] = args as [tf.Tensor, tf.GradSaveFunc];
    save([cos, sin]);
    return {
      value: run(VWN_ROPE_HEADS, { x: xi, cos, sin }, { dims }),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => [run(VWN_ROPE_HEADS_GRAD, { dy: dy as tf.Tensor, cos: saved[0]!, sin: saved[1]! }, { dims })],
    };
  });
  return op(x) as tf.Tensor4D;
}
