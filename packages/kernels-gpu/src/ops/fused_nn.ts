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

import { dispatchGrid, rawPipeline, recordDispatch, webgpuInternals } from '../kernels/raw_dispatch.js';
import { f32Literal } from '../kernels/webgpu_program.js';

const RMS_WG = 64;

/** WGSL: one workgroup per row writes dx and the row's [r, Σ g·dy·x] (two outputs: a raw dispatch). */
function rmsNormGradWgsl(D: number, eps: string): string {
  const reduce = (v: string, name: string) => `
  red[lid] = ${v};
  workgroupBarrier();
  for (var w = ${RMS_WG / 2}u; w > 0u; w = w / 2u) {
    if (lid < w) { red[lid] = red[lid] + red[lid + w]; }
    workgroupBarrier();
  }
  let ${name} = red[0];
  workgroupBarrier();`;
  return `
struct U { rows : u32 };
@group(0) @binding(0) var<storage, read_write> dx : array<f32>;
@group(0) @binding(1) var<storage, read_write> stats : array<f32>;
@group(0) @binding(2) var<storage, read> x : array<f32>;
@group(0) @binding(3) var<storage, read> gain : array<f32>;
@group(0) @binding(4) var<storage, read> dy : array<f32>;
@group(0) @binding(5) var<uniform> u : U;
var<workgroup> red : array<f32, ${RMS_WG}>;
@compute @workgroup_size(${RMS_WG})
fn main(@builtin(local_invocation_index) lid : u32, @builtin(workgroup_id) wid : vec3<u32>, @builtin(num_workgroups) nwg : vec3<u32>) {
  let row = wid.y * nwg.x + wid.x;
  let valid = row < u.rows;
  let base = select(0u, row, valid) * ${D}u;
  var s = 0.0;
  var p = 0.0;
  for (var d = lid; d < ${D}u; d += ${RMS_WG}u) { let v = x[base + d]; s += v * v; p += gain[d] * dy[base + d] * v; }
  ${reduce('s', 'ss')}
  ${reduce('p', 'dot')}
  let r = inverseSqrt(ss / ${D}.0 + ${eps});
  if (valid) {
    for (var d = lid; d < ${D}u; d += ${RMS_WG}u) {
      dx[base + d] = r * gain[d] * dy[base + d] - (r * r * r / ${D}.0) * x[base + d] * dot;
    }
    if (lid == 0u) { stats[row * 2u] = r; stats[row * 2u + 1u] = dot; }
  }
}`;
}

/** RMSNorm's dx and per-row stats in one dispatch (falls back to two tfjs programs off webgpu internals). */
function rmsNormGradXStats(x: tf.Tensor, gain: tf.Tensor, dy: tf.Tensor, eps: number): { dx: tf.Tensor; stats: tf.Tensor } {
  const b = webgpuInternals();
  const D = x.shape[x.rank - 1]!;
  const rows = x.size / D;
  if (!b) {
    const stats = run(VWN_RMS_NORM_STATS, { x, gain, dy }, { eps });
    return { dx: run(VWN_RMS_NORM_GRAD_X, { x, gain, dy, stats }), stats };
  }
  const epsLit = f32Literal(eps);
  const pipeline = rawPipeline(b, `vwnRmsNormGrad_D${D}_eps${epsLit}`, rmsNormGradWgsl(D, epsLit));
  const dxInfo = b.makeTensorInfo([...x.shape], 'float32');
  const statsInfo = b.makeTensorInfo([rows, 2], 'float32');
  recordDispatch(b, pipeline, [dxInfo, statsInfo, x, gain, dy], [{ type: 'uint32', data: [rows] }], dispatchGrid(rows));
  const engine = tf.engine() as unknown as { makeTensorFromTensorInfo(t: tf.TensorInfo): tf.Tensor };
  return { dx: engine.makeTensorFromTensorInfo(dxInfo), stats: engine.makeTensorFromTensorInfo(statsInfo) };
}

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
        const { dx, stats } = rmsNormGradXStats(xs, gs, d, eps); // one dispatch

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
  if (scores.rank < 2 || scores.shape[scores.rank - 2] !== T)
    throw new Error(`fusedCausalSoftmax: scores must be [..., T, T], got [${scores.shape.join(', ')}]`);
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [s, save] = args as [tf.Tensor, tf.GradSaveFunc];
    const p = run(VWN_CAUSAL_SOFTMAX, { scores: s }, { scale });
    save([p]);
    return {
      value: p,
      gradFunc: (dp: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => [run(VWN_CAUSAL_SOFTMAX_GRAD, { p: saved[0]!, dp: dp as tf.Tensor }, { scale })],
    };
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
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => [
        run(VWN_CROSS_ENTROPY_GRAD, { logits: saved[0]!, targets: saved[1]!, dy: dy as tf.Tensor }),
      ],
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
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => [
        run(VWN_ROPE_HEADS_GRAD, { dy: dy as tf.Tensor, cos: saved[0]!, sin: saved[1]! }, { dims }),
      ],
    };
  });
  return op(x) as tf.Tensor4D;
}
