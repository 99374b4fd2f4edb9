import * as tf from '@tensorflow/tfjs';

import { dghcWorkgroupBytes } from '../kernels/dghc_read_grad_webgpu.js';
import { VWN_DGHC_READ } from '../kernels/kernel_names.js';
import { NORM_EPS } from '@vwn/core';
import { dghcReadReference, type DghcParams, type DghcReadResult } from '@vwn/ghc';

/**
 * DGHC read (PAPER.md §5): per-segment RMSNorm, dynamic coefficients and the
 * width connection, `[X; C] = A(H')ᵀ·H'`, plus the per-token write matrix
 * B(H')ᵀ. On `webgpu` (with this package's kernels registered) it runs the
 * fused `VwnDghcRead` kernel, on every other backend `@vwn/ghc`'s
 * `dghcReadReference`; both have the same math and gradients.
 *
 * Matrix scales and RMSNorm only (`dynamic-ghc`); the HC variant (scalar
 * scales, LayerNorm) never reaches the fused ops.
 *
 * @param state - H': `[N, n·d_b]`.
 * @param p - DGHC parameters (`w`, `gain`, `scaleAlpha`, `scaleBeta`, `read`, `carry`, `write`).
 * @param dims - `{ m, n }`.
 * @returns `{ x: [N, m·d_b], carried: [N, n·d_b], bT: [N, n, m] }`.
 *
 * @example
 * ```ts
 * const { x, carried, bT } = dghcRead(state, params, { m: 2, n: 3 });
 * const next = ghcWrite(carried, sublayer(x), bT); // H'_new
 * ```
 */
export function dghcRead(state: tf.Tensor, p: DghcParams, dims: { m: number; n: number }): DghcReadResult {
  const { m, n } = dims;
  checkShapes(state, p, m, n);
  if (!fusedAvailable(VWN_DGHC_READ) || !fitsWorkgroupMemory(m, n)) return dghcReadReference(state, p, dims);
  return tf.tidy(() => {
    const N = state.shape[0] as number;
    const db = (state.shape[1] as number) / n;
    const a = tf.concat([p.read, p.carry], 1); // [Å | Â]: [n, m+n]
    const inputs = { state, w: p.w, gain: p.gain, scaleAlpha: p.scaleAlpha, a, scaleBeta: p.scaleBeta, write: p.write };
    const packed = tf.engine().runKernel(VWN_DGHC_READ, inputs as unknown as tf.NamedTensorMap, { m, n, eps: NORM_EPS }) as tf.Tensor2D;
    const x = tf.slice(packed, [0, 0], [N, m * db]) as tf.Tensor2D;
    const carried = tf.slice(packed, [0, m * db], [N, n * db]) as tf.Tensor2D;
    const bT = tf.slice(packed, [0, (m + n) * db], [N, n * m]).reshape([N, n, m]) as tf.Tensor3D;
    return { x, carried, bT };
  });
}

/**
 * True when the active backend is `webgpu` and the fused kernel is registered
 * for it (importing this package registers it).
 *
 * @example
 * ```ts
 * fusedAvailable('VwnDghcRead'); // false on cpu
 * ```
 */
export function fusedAvailable(kernelName: string): boolean {
  return tf.getBackend() === 'webgpu' && tf.getKernel(kernelName, 'webgpu') !== undefined;
}

/**
 * The fused kernels keep c and du for one token (n rows of 2m+n) in workgroup
 * memory; when that exceeds the device's limit (16 KiB by default, usually
 * 32 KiB+), e.g. n = 64, m = 16, the reference ops run instead.
 */
function fitsWorkgroupMemory(m: number, n: number): boolean {
  const device = (tf.backend() as { device?: { limits?: { maxComputeWorkgroupStorageSize?: number } } }).device;
  return dghcWorkgroupBytes(m, n) <= (device?.limits?.maxComputeWorkgroupStorageSize ?? 16384);
}

function checkShapes(state: tf.Tensor, p: DghcParams, m: number, n: number): void {
  const fail = (what: string): never => {
    throw new Error(`dghcRead: ${what}`);
  };
  if (!Number.isInteger(m) || !Number.isInteger(n) || m < 1 || n < 1) fail(`m, n must be positive integers, got ${m}, ${n}`);
  if (state.rank !== 2 || (state.shape[1] as number) % n !== 0) fail(`state must be [N, n·d_b] with n = ${n}, got [${state.shape.join(', ')}]`);
  const db = (state.shape[1] as number) / n;
  const want: Array<[string, tf.Tensor, number[]]> = [
    ['w', p.w, [db, 2 * m + n]],
    ['gain', p.gain, [db]],
    ['scaleAlpha', p.scaleAlpha, [n, m + n]],
    ['scaleBeta', p.scaleBeta, [m, n]],
    ['read', p.read, [n, m]],
    ['carry', p.carry, [n, n]],
    ['write', p.write, [m, n]],
  ];
  for (const [name, t, shape] of want) {
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      fail(`${name} must be [${shape.join(', ')}], got [${t.shape.join(', ')}]`);
    }
  }
}
