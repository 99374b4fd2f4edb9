import * as tf from '@tensorflow/tfjs';

import { VWN_GHC_WRITE } from '../kernels/kernel_names.js';
import { fusedAvailable } from './dghc_read.js';
import { ghcWriteReference } from '@vwn/ghc';

/**
 * GHC write (PAPER.md §4): `H'_new = B(H')ᵀ·Z + C` per token. Fused
 * `VwnGhcWrite` kernel on `webgpu`, `@vwn/ghc`'s `ghcWriteReference`
 * elsewhere (same math and gradients).
 *
 * @param carried - C = Â(H')ᵀ·H': `[N, n·d_b]`.
 * @param z - Sublayer output Z: `[N, m·d_b]`.
 * @param bT - B(H')ᵀ per token: `[N, n, m]` (from {@link dghcRead}).
 * @returns H'_new: `[N, n·d_b]`.
 *
 * @example
 * ```ts
 * const { x, carried, bT } = dghcRead(state, params, { m: 2, n: 3 });
 * const next = ghcWrite(carried, sublayer(x), bT);
 * ```
 */
export function ghcWrite(carried: tf.Tensor, z: tf.Tensor, bT: tf.Tensor): tf.Tensor2D {
  if (bT.rank !== 3) throw new Error(`ghcWrite: bT must be [N, n, m], got [${bT.shape.join(', ')}]`);
  const [N, n, m] = bT.shape as [number, number, number];
  if (z.rank !== 2 || z.shape[0] !== N || (z.shape[1] as number) % m !== 0) {
    throw new Error(`ghcWrite: z must be [${N}, m·d_b] with m = ${m}, got [${z.shape.join(', ')}]`);
  }
  const db = (z.shape[1] as number) / m;
  if (carried.rank !== 2 || carried.shape[0] !== N || carried.shape[1] !== n * db) {
    throw new Error(`ghcWrite: carried must be [${N}, ${n * db}], got [${carried.shape.join(', ')}]`);
  }
  if (!fusedAvailable(VWN_GHC_WRITE)) return ghcWriteReference(carried, z, bT);
  return tf.engine().runKernel(VWN_GHC_WRITE, { carried, z, bT }, {}) as tf.Tensor2D;
}
