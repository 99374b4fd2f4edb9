/**
 * Fused AdamW for `webgpu`: the whole update of one parameter (first and
 * second moment, bias correction, decoupled weight decay, gradient scaling
 * for global-norm clipping) in one dispatch that writes parameter and both
 * moments in place, instead of ~12 tfjs kernels per parameter; and the global
 * gradient norm in one dispatch per gradient plus one.
 *
 * Same arithmetic, in the same order, as @vwn/core's reference `AdamW.apply`
 * (constants such as 1 − β₁ are computed in double precision on the host as
 * the reference does), so results agree to float32 rounding.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs';

import { dispatchGrid, rawPipeline, recordDispatch, webgpuInternals, type WebGpuInternals } from '../kernels/raw_dispatch.js';

/**
 * One parameter's slot in a fused AdamW update.
 *
 * @example
 * ```ts
 * const entry: AdamWEntry = { param: p.variable, m, v, grad: g, decay: true };
 * ```
 */
export interface AdamWEntry {
  readonly param: tf.Variable;
  readonly m: tf.Variable;
  readonly v: tf.Variable;
  readonly grad: tf.Tensor;
  /** Apply decoupled weight decay to this parameter. */
  readonly decay: boolean;
}

/**
 * Hyper-parameters of one fused AdamW step.
 *
 * @example
 * ```ts
 * const hp: AdamWStep = { lr: 3e-4, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, step: 1, gradScale: 1 };
 * ```
 */
export interface AdamWStep {
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  /** The step number after this update (1 for the first), for bias correction. */
  readonly step: number;
  /** Factor on every gradient (global-norm clipping; 1 = none). */
  readonly gradScale: number;
}

const WG = 256;

const ADAMW_WGSL = `
struct U { size : u32, lr : f32, beta1 : f32, oneMinusBeta1 : f32, beta2 : f32, oneMinusBeta2 : f32, c1 : f32, c2 : f32, eps : f32, wd : f32, scale : f32, useScale : u32 };
@group(0) @binding(0) var<storage, read_write> p : array<f32>;
@group(0) @binding(1) var<storage, read_write> m : array<f32>;
@group(0) @binding(2) var<storage, read_write> v : array<f32>;
@group(0) @binding(3) var<storage, read> g : array<f32>;
@group(0) @binding(4) var<uniform> u : U;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid : vec3<u32>, @builtin(num_workgroups) nwg : vec3<u32>) {
  let i = gid.y * nwg.x * ${WG}u + gid.x;
  if (i >= u.size) { return; }
  var gi = g[i];
  if (u.useScale != 0u) { gi = gi * u.scale; }
  let mi = m[i] * u.beta1 + gi * u.oneMinusBeta1;
  let vi = v[i] * u.beta2 + (gi * gi) * u.oneMinusBeta2;
  m[i] = mi;
  v[i] = vi;
  var upd = (mi / u.c1) / (sqrt(vi / u.c2) + u.eps);
  let pi = p[i];
  if (u.wd != 0.0) { upd = upd + pi * u.wd; }
  p[i] = pi - upd * u.lr;
}`;

/** A variable whose data no other tensor shares (writing in place must not change anything else). */
function ownData(b: WebGpuInternals, v: tf.Variable): void {
  if (b.refCount(v.dataId) <= 1) return;
  const copy = tf.tidy(() => tf.mul(v, tf.scalar(1)));
  v.assign(copy);
  copy.dispose();
}

/**
 * Applies AdamW to every entry with one dispatch per parameter, in place.
 * Must run with the `webgpu` backend active.
 *
 * @param entries - Parameters with their moments and gradients.
 * @param hp - Learning rate, betas, eps, weight decay, step and gradient scale.
 *
 * @example
 * ```ts
 * fusedAdamW([{ param, m, v, grad, decay: true }], { lr: 1e-3, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, step: 1, gradScale: 1 });
 * ```
 */
export function fusedAdamW(entries: readonly AdamWEntry[], hp: AdamWStep): void {
  const b = webgpuInternals();
  if (!b) throw new Error('fusedAdamW: the webgpu backend is not active');
  const pipeline = rawPipeline(b, 'vwnAdamW', ADAMW_WGSL);
  const c1 = 1 - Math.pow(hp.beta1, hp.step);
  const c2 = 1 - Math.pow(hp.beta2, hp.step);
  for (const e of entries) {
    if (e.grad.dtype !== 'float32' || e.param.dtype !== 'float32') throw new Error(`fusedAdamW: ${e.param.name} must be float32`);
    if (e.grad.size !== e.param.size) throw new Error(`fusedAdamW: gradient of ${e.param.name} has ${e.grad.size} values, parameter ${e.param.size}`);
    for (const t of [e.param, e.m, e.v]) ownData(b, t);
    const wd = e.decay ? hp.weightDecay : 0;
    recordDispatch(
      b,
      pipeline,
      [e.param, e.m, e.v, e.grad],
      [
        { type: 'uint32', data: [e.param.size] },
        { type: 'float32', data: [hp.lr] },
        { type: 'float32', data: [hp.beta1] },
        { type: 'float32', data: [1 - hp.beta1] },
        { type: 'float32', data: [hp.beta2] },
        { type: 'float32', data: [1 - hp.beta2] },
        { type: 'float32', data: [c1] },
        { type: 'float32', data: [c2] },
        { type: 'float32', data: [hp.eps] },
        { type: 'float32', data: [wd] },
        { type: 'float32', data: [hp.gradScale] },
        { type: 'uint32', data: [hp.gradScale === 1 ? 0 : 1] },
      ],
      dispatchGrid(Math.ceil(e.param.size / WG)),
    );
  }
}

const SUMSQ_WGSL = `
struct U { size : u32, slot : u32 };
@group(0) @binding(0) var<storage, read_write> partial : array<f32>;
@group(0) @binding(1) var<storage, read> g : array<f32>;
@group(0) @binding(2) var<uniform> u : U;
var<workgroup> acc : array<f32, ${WG}>;
@compute @workgroup_size(${WG})
fn main(@builtin(local_invocation_index) lid : u32) {
  var s = 0.0;
  for (var i = lid; i < u.size; i += ${WG}u) { let x = g[i]; s += x * x; }
  acc[lid] = s;
  workgroupBarrier();
  for (var w = ${WG / 2}u; w > 0u; w = w / 2u) {
    if (lid < w) { acc[lid] += acc[lid + w]; }
    workgroupBarrier();
  }
  if (lid == 0u) { partial[u.slot] = acc[0]; }
}`;

const NORM_WGSL = `
struct U { count : u32 };
@group(0) @binding(0) var<storage, read_write> norm : array<f32>;
@group(0) @binding(1) var<storage, read> partial : array<f32>;
@group(0) @binding(2) var<uniform> u : U;
var<workgroup> acc : array<f32, ${WG}>;
@compute @workgroup_size(${WG})
fn main(@builtin(local_invocation_index) lid : u32) {
  var s = 0.0;
  for (var i = lid; i < u.count; i += ${WG}u) { s += partial[i]; }
  acc[lid] = s;
  workgroupBarrier();
  for (var w = ${WG / 2}u; w > 0u; w = w / 2u) {
    if (lid < w) { acc[lid] += acc[lid + w]; }
    workgroupBarrier();
  }
  if (lid == 0u) { norm[0] = sqrt(acc[0]); }
}`;

/**
 * Global L2 norm `sqrt(Σ_k Σ g_k²)` of a list of gradients: one dispatch per
 * gradient (a workgroup reduction into its slot) plus one for the total,
 * instead of square + sum per gradient and a chain of adds.
 *
 * @param grads - Float32 gradients (any shapes).
 * @returns A scalar on the GPU.
 *
 * @example
 * ```ts
 * const norm = fusedGlobalNorm([...grads.values()]); // tf.Scalar
 * ```
 */
export function fusedGlobalNorm(grads: readonly tf.Tensor[]): tf.Scalar {
  const b = webgpuInternals();
  if (!b) throw new Error('fusedGlobalNorm: the webgpu backend is not active');
  if (grads.length === 0) throw new Error('fusedGlobalNorm: needs at least one gradient');
  const sumsq = rawPipeline(b, 'vwnSumSq', SUMSQ_WGSL);
  const total = rawPipeline(b, 'vwnNorm', NORM_WGSL);
  const partial = b.makeTensorInfo([grads.length], 'float32');
  const norm = b.makeTensorInfo([], 'float32');
  grads.forEach((g, slot) => {
    if (g.dtype !== 'float32') throw new Error('fusedGlobalNorm: gradients must be float32');
    recordDispatch(b, sumsq, [partial, g], [{ type: 'uint32', data: [g.size] }, { type: 'uint32', data: [slot] }], [1, 1, 1]);
  });
  recordDispatch(b, total, [norm, partial], [{ type: 'uint32', data: [grads.length] }], [1, 1, 1]);
  const engine = tf.engine() as unknown as { makeTensorFromTensorInfo(t: tf.TensorInfo, backend?: unknown): tf.Tensor };
  const partialT = engine.makeTensorFromTensorInfo(partial);
  partialT.dispose();
  return engine.makeTensorFromTensorInfo(norm) as tf.Scalar;
}
