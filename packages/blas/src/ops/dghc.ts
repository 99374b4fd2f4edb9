/**
 * Fused DGHC read / GHC write ops for the `native` backend (tfjs-wasm + the
 * addon), with gradients: the shape of `@vwn/ghc`'s `DghcFusedOps`, so
 * `useBackend('native')` registers them with `registerFusedOps('dghc', …, ['wasm'])`
 * and the `dynamic-ghc` connection runs them instead of its tfjs formulation.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { loadBlas, type Blas } from '../native.js';
import { dghcReadKernel, VWN_BLAS_DGHC_READ } from '../kernels/dghc_read.js';
import { dghcReadGradKernel, VWN_BLAS_DGHC_READ_GRAD } from '../kernels/dghc_read_grad.js';
import { ghcWriteKernel, VWN_BLAS_GHC_WRITE } from '../kernels/ghc_write.js';
import { ghcWriteGradKernel, VWN_BLAS_GHC_WRITE_GRAD } from '../kernels/ghc_write_grad.js';

/** Epsilon of the DGHC RMSNorm (PAPER.md §5 Decision), as in `@vwn/ghc`. */
const DGHC_NORM_EPS = 1e-6;

/**
 * DGHC parameters, named as in `@vwn/ghc` (`w` `[d_b, 2m+n]`, `gain` `[d_b]`,
 * `scaleAlpha` `[n, m+n]`, `scaleBeta` `[m, n]`, `read` `[n, m]`, `carry` `[n, n]`, `write` `[m, n]`).
 *
 * @example
 * ```ts
 * const p: NativeDghcParams = { w, gain, scaleAlpha, scaleBeta, read, carry, write };
 * nativeDghcRead(state, p, { m: 2, n: 3 });
 * ```
 */
export interface NativeDghcParams {
  readonly w: tf.Tensor;
  readonly gain: tf.Tensor;
  readonly scaleAlpha: tf.Tensor;
  readonly scaleBeta: tf.Tensor;
  readonly read: tf.Tensor;
  readonly carry: tf.Tensor;
  readonly write: tf.Tensor;
}

/**
 * The fused op group this package offers under `'dghc'` (structurally `@vwn/ghc`'s `DghcFusedOps`).
 *
 * @example
 * ```ts
 * const ops: DghcFusedOps = dghcFusedOps;
 * const { x, carried, bT } = ops.dghcRead(state, params, { m: 2, n: 3 });
 * const next = ops.ghcWrite(carried, sublayer(x), bT);
 * ```
 */
export interface DghcFusedOps {
  dghcRead(state: tf.Tensor, p: NativeDghcParams, dims: { m: number; n: number }): { x: tf.Tensor2D; carried: tf.Tensor2D; bT: tf.Tensor3D };
  ghcWrite(carried: tf.Tensor, z: tf.Tensor, bT: tf.Tensor): tf.Tensor2D;
}

const READ_INPUTS = ['state', 'w', 'gain', 'scaleAlpha', 'scaleBeta', 'read', 'carry', 'write'] as const;

const dghcReadGrad: tf.GradConfig = {
  kernelName: VWN_BLAS_DGHC_READ,
  inputsToSave: [...READ_INPUTS],
  outputsToSave: [false, false, false, true],
  gradFunc: (dy, saved, attrs) => {
    const [state, w, gain, scaleAlpha, scaleBeta, read, carry, , c] = saved as tf.Tensor[];
    const dys = dy as Array<tf.Tensor | null>;
    const { m, n } = attrs as unknown as { m: number; n: number };
    const N = state!.shape[0]!;
    const db = state!.shape[1]! / n;
    const or0 = (t: tf.Tensor | null | undefined, shape: number[]) => t ?? tf.zeros(shape);
    const inputs = {
      dx: or0(dys[0], [N, m * db]),
      dcarried: or0(dys[1], [N, n * db]),
      dbT: or0(dys[2], [N, n, m]),
      state: state!,
      c: c!,
      w: w!,
      gain: gain!,
      scaleAlpha: scaleAlpha!,
      scaleBeta: scaleBeta!,
      read: read!,
      carry: carry!,
    };
    const g = tf.engine().runKernel(VWN_BLAS_DGHC_READ_GRAD, inputs as unknown as tf.NamedTensorMap, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
    return Object.fromEntries(READ_INPUTS.map((name, i) => [name, () => g[i]!]));
  },
};

const ghcWriteGrad: tf.GradConfig = {
  kernelName: VWN_BLAS_GHC_WRITE,
  inputsToSave: ['z', 'bT'],
  gradFunc: (dy, saved) => {
    const [z, bT] = saved as [tf.Tensor, tf.Tensor];
    const [dz, dbT] = tf.engine().runKernel(VWN_BLAS_GHC_WRITE_GRAD, { dy: dy as tf.Tensor, z, bT }, {}) as [tf.Tensor, tf.Tensor];
    return { carried: () => (dy as tf.Tensor).clone(), z: () => dz, bT: () => dbT };
  },
};

/**
 * Registers the four fused DGHC kernels on `wasm` and their gradients; returns
 * their names (empty without the addon, or with an addon built before them).
 * Idempotent. `enableNativeBlas` calls it when it patches `wasm`.
 *
 * @example
 * ```ts
 * registerDghcKernels(); // ['VwnBlasDghcRead', 'VwnBlasDghcReadGrad', 'VwnBlasGhcWrite', 'VwnBlasGhcWriteGrad']
 * ```
 */
export function registerDghcKernels(): string[] {
  const blas = loadBlas();
  if (!blas || typeof blas.dghcRead !== 'function') return [];
  const kernels: Array<[string, (b: Blas) => unknown]> = [
    [VWN_BLAS_DGHC_READ, dghcReadKernel],
    [VWN_BLAS_DGHC_READ_GRAD, dghcReadGradKernel],
    [VWN_BLAS_GHC_WRITE, ghcWriteKernel],
    [VWN_BLAS_GHC_WRITE_GRAD, ghcWriteGradKernel],
  ];
  for (const [name, make] of kernels) {
    if (!tf.getKernel(name, 'wasm')) tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc: make(blas) as tf.KernelFunc });
  }
  for (const g of [dghcReadGrad, ghcWriteGrad]) if (!tf.getGradient(g.kernelName)) tf.registerGradient(g);
  return kernels.map(([name]) => name);
}

function checkRead(state: tf.Tensor, p: NativeDghcParams, m: number, n: number): void {
  const fail = (what: string): never => {
    throw new Error(`nativeDghcRead: ${what}`);
  };
  if (!Number.isInteger(m) || !Number.isInteger(n) || m < 1 || n < 1) fail(`m, n must be positive integers, got ${m}, ${n}`);
  if (state.rank !== 2 || state.shape[1]! % n !== 0) fail(`state must be [N, n·d_b] with n = ${n}, got [${state.shape.join(', ')}]`);
  const db = state.shape[1]! / n;
  const want: Array<[string, tf.Tensor, number[]]> = [
    ['w', p.w, [db, 2 * m + n]],
    ['gain', p.gain, [db]],
    ['scaleAlpha', p.scaleAlpha, [n, m + n]],
    ['scaleBeta', p.scaleBeta, [m, n]],
    ['read', p.read, [n, m]],
    ['carry', p.carry, [n, n]],
    ['write', p.write, [m, n]],
  ];
  for (const [name, t, shape] of [['state', state, state.shape] as [string, tf.Tensor, number[]], ...want]) {
    if (t.dtype !== 'float32') fail(`${name} must be float32, got ${t.dtype}`);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) fail(`${name} must be [${shape.join(', ')}], got [${t.shape.join(', ')}]`);
  }
}

function requireKernels(): void {
  if (tf.getBackend() !== 'wasm' || !tf.getKernel(VWN_BLAS_DGHC_READ, 'wasm')) {
    throw new Error(`@vwn/blas fused DGHC ops need the wasm backend with the native addon (enableNativeBlas); active backend: ${tf.getBackend()}`);
  }
}

/**
 * DGHC read on the native addon (PAPER.md §5): per-segment RMSNorm, `tanh`
 * coefficients, `A(H')`, `B(H')ᵀ` and `[X; C] = A(H')ᵀ·H'` in one pass over
 * the state, multi-threaded over tokens, with a fused backward pass.
 * Bitwise-deterministic for any thread count. `wasm` backend only.
 *
 * @param state - H': `[N, n·d_b]`.
 * @param p - DGHC parameters.
 * @param dims - `{ m, n }`.
 * @returns `{ x: [N, m·d_b], carried: [N, n·d_b], bT: [N, n, m] }`.
 * @example
 * ```ts
 * await useBackend('native');
 * const { x, carried, bT } = nativeDghcRead(state, { w, gain, scaleAlpha, scaleBeta, read, carry, write }, { m: 2, n: 3 });
 * ```
 */
export function nativeDghcRead(
  state: tf.Tensor,
  p: NativeDghcParams,
  dims: { m: number; n: number },
): { x: tf.Tensor2D; carried: tf.Tensor2D; bT: tf.Tensor3D } {
  const { m, n } = dims;
  checkRead(state, p, m, n);
  requireKernels();
  const inputs = { state, w: p.w, gain: p.gain, scaleAlpha: p.scaleAlpha, scaleBeta: p.scaleBeta, read: p.read, carry: p.carry, write: p.write };
  const [x, carried, bT, c] = tf.engine().runKernel(VWN_BLAS_DGHC_READ, inputs as unknown as tf.NamedTensorMap, { m, n, eps: DGHC_NORM_EPS }) as tf.Tensor[];
  c!.dispose(); // the gradient keeps its own reference
  return { x: x as tf.Tensor2D, carried: carried as tf.Tensor2D, bT: bT as tf.Tensor3D };
}

/**
 * GHC write on the native addon: `H'_new = B(H')ᵀ·Z + C` per token (PAPER.md §4), with its backward pass.
 *
 * @param carried - C: `[N, n·d_b]`.
 * @param z - sublayer output Z: `[N, m·d_b]`.
 * @param bT - B(H')ᵀ: `[N, n, m]`.
 * @returns H'_new: `[N, n·d_b]`.
 * @example
 * ```ts
 * const next = nativeGhcWrite(carried, sublayer(x), bT);
 * ```
 */
export function nativeGhcWrite(carried: tf.Tensor, z: tf.Tensor, bT: tf.Tensor): tf.Tensor2D {
  if (bT.rank !== 3) throw new Error(`nativeGhcWrite: bT must be [N, n, m], got [${bT.shape.join(', ')}]`);
  const [N, n, m] = bT.shape as [number, number, number];
  if (z.rank !== 2 || z.shape[0] !== N || z.shape[1]! % m !== 0)
    throw new Error(`nativeGhcWrite: z must be [${N}, m·d_b] with m = ${m}, got [${z.shape.join(', ')}]`);
  const db = z.shape[1]! / m;
  if (carried.rank !== 2 || carried.shape[0] !== N || carried.shape[1] !== n * db) {
    throw new Error(`nativeGhcWrite: carried must be [${N}, ${n * db}], got [${carried.shape.join(', ')}]`);
  }
  if ([carried, z, bT].some((t) => t.dtype !== 'float32')) throw new Error('nativeGhcWrite: inputs must be float32');
  requireKernels();
  return tf.engine().runKernel(VWN_BLAS_GHC_WRITE, { carried, z, bT }, {}) as tf.Tensor2D;
}

/**
 * `{ dghcRead, ghcWrite }` for `registerFusedOps('dghc', …, ['wasm'])`.
 *
 * @example
 * ```ts
 * registerFusedOps('dghc', dghcFusedOps, ['wasm']); // what useBackend('native') does
 * ```
 */
export const dghcFusedOps: DghcFusedOps = { dghcRead: nativeDghcRead, ghcWrite: nativeGhcWrite };
