/**
 * Fused AdamW for `webgpu`: the whole update of up to four parameters (first
 * and second moment, bias correction, decoupled weight decay, gradient
 * scaling for global-norm clipping) in one dispatch that writes parameters
 * and moments in place, instead of ~12 tfjs kernels per parameter; and the
 * global gradient norm in ⌈#grads / 15⌉ + 1 dispatches.
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

/** WGSL of an AdamW update of `k` parameters per dispatch (bindings p, m, v, g per parameter, then the uniforms). */
function adamwWgsl(k: number): string {
  const fields = Array.from({ length: k }, (_, j) => `size${j} : u32, wd${j} : f32,`).join(' ');
  const bindings = Array.from({ length: k }, (_, j) =>
    ['p', 'm', 'v', 'g'].map((n, q) => `@group(0) @binding(${4 * j + q}) var<storage, ${n === 'g' ? 'read' : 'read_write'}> ${n}${j} : array<f32>;`).join('\n'),
  ).join('\n');
  const updates = Array.from({ length: k }, (_, j) => `if (i < u.size${j}) { update(&p${j}, &m${j}, &v${j}, &g${j}, i, u.wd${j}); }`).join('\n  ');
  return `
struct U { lr : f32, beta1 : f32, oneMinusBeta1 : f32, beta2 : f32, oneMinusBeta2 : f32, c1 : f32, c2 : f32, eps : f32, scale : f32, useScale : u32, ${fields} };
${bindings}
@group(0) @binding(${4 * k}) var<uniform> u : U;
fn update(p : ptr<storage, array<f32>, read_write>, m : ptr<storage, array<f32>, read_write>, v : ptr<storage, array<f32>, read_write>, g : ptr<storage, array<f32>, read>, i : u32, wd : f32) {
  var gi = (*g)[i];
  if (u.useScale != 0u) { gi = gi * u.scale; }
  let mi = (*m)[i] * u.beta1 + gi * u.oneMinusBeta1;
  let vi = (*v)[i] * u.beta2 + (gi * gi) * u.oneMinusBeta2;
  (*m)[i] = mi;
  (*v)[i] = vi;
  var upd = (mi / u.c1) / (sqrt(vi / u.c2) + u.eps);
  let pi = (*p)[i];
  if (wd != 0.0) { upd = upd + pi * wd; }
  (*p)[i] = pi - upd * u.lr;
}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid : vec3<u32>, @builtin(num_workgroups) nwg : vec3<u32>) {
  let i = gid.y * nwg.x * ${WG}u + gid.x;
  ${updates}
}`;
}

/** Storage buffers one dispatch may bind (the device's limit; WebGPU guarantees 8). */
function storageLimit(b: WebGpuInternals): number {
  return (b.device as unknown as { limits?: { maxStorageBuffersPerShaderStage?: number } }).limits?.maxStorageBuffersPerShaderStage ?? 8;
}

/** A variable whose data no other tensor shares (writing in place must not change anything else). */
function ownData(b: WebGpuInternals, v: tf.Variable): void {
  if (b.refCount(v.dataId) <= 1) return;
  const copy = tf.tidy(() => tf.mul(v, tf.scalar(1)));
  v.assign(copy);
  copy.dispose();
}

/**
 * Applies AdamW to every entry in place, up to four parameters per dispatch
 * (as the device's storage-buffer limit allows).
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
  const c1 = 1 - Math.pow(hp.beta1, hp.step);
  const c2 = 1 - Math.pow(hp.beta2, hp.step);
  for (const e of entries) {
    if (e.grad.dtype !== 'float32' || e.param.dtype !== 'float32') throw new Error(`fusedAdamW: ${e.param.name} must be float32`);
    if (e.grad.size !== e.param.size) throw new Error(`fusedAdamW: gradient of ${e.param.name} has ${e.grad.size} values, parameter ${e.param.size}`);
    for (const t of [e.param, e.m, e.v]) ownData(b, t);
  }
  // Up to 4 parameters per dispatch (4 storage buffers each), similar sizes together.
  const perDispatch = Math.max(1, Math.min(4, Math.floor(storageLimit(b) / 4)));
  const sorted = [...entries].sort((x, y) => x.param.size - y.param.size);
  const shared = [hp.lr, hp.beta1, 1 - hp.beta1, hp.beta2, 1 - hp.beta2, c1, c2, hp.eps, hp.gradScale].map((x) => ({ type: 'float32', data: [x] }));
  for (let s = 0; s < sorted.length; s += perDispatch) {
    const group = sorted.slice(s, s + perDispatch);
    const pipeline = rawPipeline(b, `vwnAdamW${group.length}`, adamwWgsl(group.length));
    recordDispatch(
      b,
      pipeline,
      group.flatMap((e) => [e.param, e.m, e.v, e.grad]),
      [
        ...shared,
        { type: 'uint32', data: [hp.gradScale === 1 ? 0 : 1] },
        ...group.flatMap((e) => [
          { type: 'uint32', data: [e.param.size] },
          { type: 'float32', data: [e.decay ? hp.weightDecay : 0] },
        ]),
      ],
      dispatchGrid(Math.ceil(Math.max(...group.map((e) => e.param.size)) / WG)),
    );
  }
}

/** WGSL: workgroup w (< k) writes Σ g_w² into partial[slot0 + w]. */
function sumsqWgsl(k: number): string {
  const bindings = Array.from({ length: k }, (_, j) => `@group(0) @binding(${j + 1}) var<storage, read> g${j} : array<f32>;`).join('\n');
  const branches = Array.from(
    { length: k },
    (_, j) => `${j > 0 ? 'else ' : ''}if (w == ${j}u) { for (var i = lid; i < u.size${j}; i += ${WG}u) { let x = g${j}[i]; s += x * x; } }`,
  ).join('\n  ');
  return `
struct U { slot0 : u32, ${Array.from({ length: k }, (_, j) => `size${j} : u32,`).join(' ')} };
@group(0) @binding(0) var<storage, read_write> partial : array<f32>;
${bindings}
@group(0) @binding(${k + 1}) var<uniform> u : U;
var<workgroup> acc : array<f32, ${WG}>;
@compute @workgroup_size(${WG})
fn main(@builtin(local_invocation_index) lid : u32, @builtin(workgroup_id) wid : vec3<u32>) {
  let w = wid.x;
  var s = 0.0;
  ${branches}
  acc[lid] = s;
  workgroupBarrier();
  for (var h = ${WG / 2}u; h > 0u; h = h / 2u) {
    if (lid < h) { acc[lid] += acc[lid + h]; }
    workgroupBarrier();
  }
  if (lid == 0u) { partial[u.slot0 + w] = acc[0]; }
}`;
}

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
 * group of up to 15 gradients (one workgroup reduction per gradient into
 * its slot) plus one for the total, instead of square + sum per gradient and
 * a chain of adds.
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
  const total = rawPipeline(b, 'vwnNorm', NORM_WGSL);
  const partial = b.makeTensorInfo([grads.length], 'float32');
  const norm = b.makeTensorInfo([], 'float32');
  for (const g of grads) if (g.dtype !== 'float32') throw new Error('fusedGlobalNorm: gradients must be float32');
  // One workgroup per gradient; as many gradients per dispatch as the storage-buffer limit allows (≤ 15).
  const perDispatch = Math.max(1, Math.min(15, storageLimit(b) - 1));
  for (let s = 0; s < grads.length; s += perDispatch) {
    const group = grads.slice(s, s + perDispatch);
    const pipeline = rawPipeline(b, `vwnSumSq${group.length}`, sumsqWgsl(group.length));
    recordDispatch(
      b,
      pipeline,
      [partial, ...group],
      [{ type: 'uint32', data: [s] }, ...group.map((g) => ({ type: 'uint32', data: [g.size] }))],
      [group.length, 1, 1],
    );
  }
  recordDispatch(b, total, [norm, partial], [{ type: 'uint32', data: [grads.length] }], [1, 1, 1]);
  const engine = tf.engine() as unknown as { makeTensorFromTensorInfo(t: tf.TensorInfo, backend?: unknown): tf.Tensor };
  const partialT = engine.makeTensorFromTensorInfo(partial);
  partialT.dispose();
  return engine.makeTensorFromTensorInfo(norm) as tf.Scalar;
}
