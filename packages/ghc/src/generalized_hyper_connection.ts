import * as tf from '@tensorflow/tfjs';
import { ConfigError, NORM_EPS, getFusedOps, layerNorm, rmsNorm, type ConnectionModule, type ParamScope, type StateLayout, type Sublayer } from '@vwn/core';

import type {} from './reference.js'; // its `declare module` adds the `dghc` group to @vwn/core's FusedOps

/**
 * How to build one generalized hyper-connection (GHC, PAPER.md §4–5). The
 * `ghc`, `dynamic-ghc`, `frac-connections` and `hyper-connections` plugins
 * are all this module with different options.
 *
 * @example
 * ```ts
 * // What "dynamic-ghc" with m = 8, n = 32 builds at D = 64:
 * const options: GhcOptions = { m: 8, n: 32, dModel: 64, dynamic: true, readSegment: (i) => i,
 *   scales: { shape: 'matrix', init: 1 }, norm: 'rms' };
 * ```
 */
export interface GhcOptions {
  /** Fraction rate m (the sublayer input is m segments of width d_b). */
  readonly m: number;
  /** Segments n of the carried state. */
  readonly n: number;
  /** Backbone width D (d_b = D/m). */
  readonly dModel: number;
  /** Adds the input-dependent terms of PAPER.md §5 (DGHC). */
  readonly dynamic: boolean;
  /**
   * Which segment column i of the read matrix Å starts on: `Å[j, i] = 1` iff
   * `j == readSegment(i)`. GHC: `i` (Å = [I_m; 0]); HC: `k mod n` at sublayer k.
   */
  readonly readSegment: (i: number) => number;
  /** Dynamic scales S_α, S_β: full matrices (GHC, init 1) or scalars (HC, init 0.01). */
  readonly scales: { readonly shape: 'matrix' | 'scalar'; readonly init: number };
  /** Norm of the dynamic branch: per-segment RMSNorm (GHC) or LayerNorm (HC). */
  readonly norm: 'rms' | 'layer';
}

/**
 * Builds one GHC around a sublayer (PAPER.md §4–5). Parameters, under `params`:
 *
 * | name | symbol | shape | init | decay |
 * | --- | --- | --- | --- | --- |
 * | `read` | Å | `[n, m]` | `[I_m; 0]` (GHC) | no |
 * | `carry` | Â | `[n, n]` | `I_n` | no |
 * | `write` | B | `[m, n]` | `B[i, j] = 1` iff `j mod m == i` | no |
 * | `dynamic.w` | `[W_α \| W_β]` | `[d_b, 2m+n]` | 0 | yes |
 * | `dynamic.scale_alpha` | S_α | `[n, m+n]` (HC: `[1]`) | 1 (HC: 0.01) | no |
 * | `dynamic.scale_beta` | S_β | `[m, n]` (HC: `[1]`) | 1 (HC: 0.01) | no |
 * | `dynamic.norm.gain` | RMSNorm gain | `[d_b]` | 1 | no |
 * | `dynamic.norm.bias` | LayerNorm bias (HC only) | `[d_b]` | 0 | no |
 *
 * Decisions followed (PAPER.md §5): W_α, W_β are packed into one `d_b×(2m+n)`
 * projection (the paper's efficient form); S_α, S_β have no weight decay; the
 * norm has a learnable gain (init 1) and eps 1e-6; τ = sqrt(D/m).
 *
 * @example
 * ```ts
 * const store = new ParameterStore(0);
 * const conn = createGeneralizedHyperConnection(store.scope('c'), {
 *   m: 2, n: 3, dModel: 4, dynamic: true, readSegment: (i) => i,
 *   scales: { shape: 'matrix', init: 1 }, norm: 'rms',
 * });
 * const next = conn.apply(tf.ones([5, 6]), (x) => x, ctx); // [5, 6]
 * ```
 */
export function createGeneralizedHyperConnection(params: ParamScope, o: GhcOptions): ConnectionModule {
  const { m, n, dModel: D } = o;
  const db = D / m; // d_b
  const wide = n * db; // D'
  const noDecay = { decay: false };

  // Static matrices (PAPER.md §4 init, identical for every layer up to the read segment).
  const readInit = new Float32Array(n * m);
  for (let i = 0; i < m; i++) readInit[o.readSegment(i) * m + i] = 1;
  const writeInit = new Float32Array(m * n);
  for (let j = 0; j < n; j++) writeInit[(j % m) * n + j] = 1;
  const read = params.create('read', [n, m], { kind: 'values', values: readInit }, noDecay); // Å
  const carry = params.create('carry', [n, n], { kind: 'values', values: identity(n) }, noDecay); // Â
  const write = params.create('write', [m, n], { kind: 'values', values: writeInit }, noDecay); // B

  const widthFlops = 2 * (m + n) * wide; // Åᵀ H' and Âᵀ H': 2·(m+n)·(n/m)·D
  const depthFlops = 2 * n * D; // Bᵀ Z: 2·n·D
  if (!o.dynamic) {
    return {
      apply: (state, sublayer) => staticForward(state, sublayer, { read, carry, write, m, n, db }),
      flopsPerToken: () => widthFlops + depthFlops,
    };
  }

  const dyn = params.scope('dynamic');
  const w = dyn.create('w', [db, 2 * m + n], { kind: 'zeros' }); // [W_α | W_β]
  const scalar = o.scales.shape === 'scalar';
  const fill = (size: number) => ({ kind: 'values' as const, values: new Float32Array(size).fill(o.scales.init) });
  const scaleAlpha = dyn.create('scale_alpha', scalar ? [1] : [n, m + n], fill(scalar ? 1 : n * (m + n)), noDecay); // S_α
  const scaleBeta = dyn.create('scale_beta', scalar ? [1] : [m, n], fill(scalar ? 1 : m * n), noDecay); // S_β
  const gain = dyn.create('norm.gain', [db], { kind: 'ones' }, noDecay);
  const bias = o.norm === 'layer' ? dyn.create('norm.bias', [db], { kind: 'zeros' }, noDecay) : null;
  const tau = Math.sqrt(db); // τ = sqrt(D/m)
  // RMSNorm: square, mean, scale, gain; LayerNorm adds mean, centring and bias.
  const normFlops = (o.norm === 'rms' ? 4 : 7) * wide;
  const dynamicFlops = 2 * (2 * m + n) * wide; // H̄ · [W_α | W_β]: 2·(2m+n)·(n/m)·D

  return {
    apply: (state, sublayer) =>
      tf.tidy(() => {
        // A backend with fused kernels (e.g. webgpu via @vwn/kernels-gpu) does norm + coefficients + width
        // connection in one pass, and Bᵀ·Z + carry in another (PAPER.md §5 kernel note). Both this path and the
        // fused ops compute dghcReference (reference.ts); test/dghc_reference.test.ts holds them to it.
        const fusedOps = !bias && !scalar ? getFusedOps('dghc') : undefined;
        if (fusedOps) {
          const { x, carried, bT } = fusedOps.dghcRead(state, { w, gain, scaleAlpha, scaleBeta, read, carry, write }, { m, n });
          return fusedOps.ghcWrite(carried, sublayer(x), bT);
        }
        const N = state.shape[0];
        const rows = state.reshape([N * n, db]) as tf.Tensor2D; // H' segments as rows: [N·n, d_b]
        // The coefficients come from one GEMM, transposed ([2m+n, N·n]) so that the α_read, α_carry and β
        // blocks are row blocks: a contiguous split (tfjs-wasm slices the last axis row by row). The norm's
        // gain g (and LayerNorm's bias b) fold into W:  H̄·W = (Ĥ ⊙ g + b)·W = Ĥ·(g ⊙ W) + b·W.
        const unit = (bias ? layerNorm(rows, null, null, NORM_EPS) : rmsNorm(rows, null, NORM_EPS)) as tf.Tensor2D; // Ĥ: [N·n, d_b]
        const gwOverTau = tf.mul(gain.reshape([db, 1]), tf.div(w, tau)) as tf.Tensor2D; // g ⊙ [W_α | W_β]/τ: [d_b, 2m+n]
        let uT = tf.matMul(gwOverTau, unit, true, true); // (Ĥ·(g ⊙ W)/τ)ᵀ: [2m+n, N·n]
        if (bias) uT = tf.add(uT, tf.matMul(tf.div(w, tau) as tf.Tensor2D, bias.reshape([db, 1]) as tf.Tensor2D, true, false)); // + (b·W/τ)ᵀ: [2m+n, 1]
        const cT = tanh(uT); // tanh(H̄·[W_α | W_β]/τ)ᵀ: [2m+n, N·n]
        const [readT, carryT, betaT] = tf.split(cT, [m, n, m], 0) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D]; // [m | n | m, N·n]
        const perToken = (c: tf.Tensor2D) => tf.transpose(c).reshape([N, n, c.shape[0]]) as tf.Tensor3D; // [k, N·n] → [N, n, k]
        const sAlpha = (col: number, width: number) => (scalar ? scaleAlpha : tf.slice(scaleAlpha, [0, col], [n, width]));
        const aRead = scaleShift(perToken(readT), sAlpha(0, m), read); // Å(H') = S_α[:, :m] ⊙ tanh(H̄W_α/τ)[:, :m] + Å: [N, n, m]
        const aCarry = scaleShift(perToken(carryT), sAlpha(m, n), carry); // Â(H') = S_α[:, m:] ⊙ tanh(H̄W_α/τ)[:, m:] + Â: [N, n, n]
        const sBetaT = scalar ? scaleBeta : tf.transpose(scaleBeta); // S_βᵀ: [n, m]
        const bT = scaleShift(perToken(betaT), sBetaT, tf.transpose(write)); // B(H')ᵀ = S_βᵀ ⊙ tanh(H̄W_β/τ) + Bᵀ: [N, n, m]
        return ghcUpdate(state.reshape([N, n, db]) as tf.Tensor3D, aRead, aCarry, bT, sublayer);
      }),
    flopsPerToken: () => normFlops + dynamicFlops + widthFlops + depthFlops,
  };
}

/**
 * One GHC step with per-token matrices (PAPER.md §4–5), as batched products:
 *
 *     X      = Å(H')ᵀ · H'           # [N, m, d_b] → flattened [N, D]
 *     C      = Â(H')ᵀ · H'           # [N, n, d_b]
 *     Z      = T(X)                   # [N, D]
 *     H'_new = B(H')ᵀ · Z + C         # [N, n, d_b]
 *
 * Read and carry are separate products, so nothing is sliced out of a
 * `[N, m+n, d_b]` result.
 *
 * @param h `H'`: `[N, n, d_b]`
 * @param aRead `Å(H')` per token: `[N, n, m]`
 * @param aCarry `Â(H')` per token: `[N, n, n]`
 * @param bT `B(H')ᵀ` per token: `[N, n, m]`
 * @returns `H'_new` flattened: `[N, D']`
 */
function ghcUpdate(h: tf.Tensor3D, aRead: tf.Tensor3D, aCarry: tf.Tensor3D, bT: tf.Tensor3D, sublayer: Sublayer): tf.Tensor2D {
  const [N, n, db] = h.shape;
  const m = aRead.shape[2];
  const x = tf.matMul(aRead, h, true, false).reshape([N, m * db]) as tf.Tensor2D; // X = Å(H')ᵀ·H': [N, D]
  const carried = tf.matMul(aCarry, h, true, false); // C = Â(H')ᵀ·H': [N, n, d_b]
  const z = sublayer(x).reshape([N, m, db]) as tf.Tensor3D; // Z: [N, m, d_b]
  return tf.add(carried, tf.matMul(bT, z)).reshape([N, n * db]) as tf.Tensor2D; // B(H')ᵀ·Z + C: [N, D']
}

/**
 * `tanh(x)`; on tfjs-wasm as `2σ(2x) − 1`, since its Tanh kernel is scalar
 * code, ≈ 15× slower than its (XNNPACK) Sigmoid, with tanh's gradient
 * `dy ⊙ (1 − y²)`. Elsewhere `tf.tanh` (exact near 0, where `2σ(2x) − 1`
 * loses ≈ 1e-7 absolute to cancellation).
 */
function tanh(x: tf.Tensor): tf.Tensor {
  if (tf.getBackend() !== 'wasm') return tf.tanh(x);
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [xv, save] = args as [tf.Tensor, tf.GradSaveFunc];
    const y = tf.sub(tf.mul(tf.sigmoid(tf.mul(xv, 2)), 2), 1);
    save([y]);
    return { value: y, gradFunc: (dy: tf.Tensor, [ys]: tf.Tensor[]) => tf.mul(dy, tf.sub(1, tf.square(ys!))) };
  });
  return op(x);
}

/**
 * `x ⊙ s + b` for per-token matrices `x` `[N, r, c]` and shared `s`, `b`
 * (`[r, c]`, or `s` `[1]`), whose gradients for `s` and `b` are sums over the
 * N tokens taken as GEMMs `1ᵀ·(dy ⊙ x)` and `1ᵀ·dy` (`[1, N]·[N, r·c]`):
 * tfjs-wasm reduces over a leading axis by transposing first.
 */
function scaleShift(x: tf.Tensor3D, s: tf.Tensor, b: tf.Tensor): tf.Tensor3D {
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [xv, sv, bv] = args as [tf.Tensor3D, tf.Tensor, tf.Tensor];
    const save = args[3] as tf.GradSaveFunc;
    save([xv, sv]);
    return {
      value: tf.add(tf.mul(xv, sv), bv),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, ss] = saved as [tf.Tensor3D, tf.Tensor];
        const [N, r, c] = xs.shape;
        const ones = tf.ones([1, N]) as tf.Tensor2D;
        const tokenSum = (t: tf.Tensor) => tf.matMul(ones, t.reshape([N, r * c]) as tf.Tensor2D); // Σ_tokens: [1, r·c]
        const dxs = tf.mul(dy, xs);
        const ds = ss.size === 1 ? tf.sum(dxs).reshape(ss.shape) : tokenSum(dxs).reshape(ss.shape);
        return [tf.mul(dy, ss), ds, tokenSum(dy).reshape(bv.shape)];
      },
    };
  });
  return op(x, s, b) as tf.Tensor3D;
}

/**
 * Static GHC with the matrices shared by every token: the per-token products
 * become single 2-D GEMMs over the segment-transposed state
 * (`[N, D'] → [N, d_b, n] → [N·d_b, n]`), since tfjs 4.22's rank-3 × rank-2
 * matMul gradient is broken.
 */
function staticForward(
  state: tf.Tensor2D,
  sublayer: Sublayer,
  p: { read: tf.Variable; carry: tf.Variable; write: tf.Variable; m: number; n: number; db: number },
): tf.Tensor2D {
  const { m, n, db } = p;
  return tf.tidy(() => {
    const N = state.shape[0];
    const rows = N * db;
    // H'ᵀ for every token, stacked: [N, n, d_b] → [N, d_b, n] → [N·d_b, n]
    const hT = state.reshape([N, n, db]).transpose([0, 2, 1]).reshape([rows, n]) as tf.Tensor2D;
    const y = tf.matMul(hT, tf.concat([p.read, p.carry], 1) as tf.Tensor2D); // (Aᵀ·H')ᵀ = H'ᵀ·[Å | Â]: [N·d_b, m+n]
    const xT = tf.slice(y, [0, 0], [rows, m]); // (Åᵀ·H')ᵀ: [N·d_b, m]
    const x = xT
      .reshape([N, db, m])
      .transpose([0, 2, 1])
      .reshape([N, m * db]) as tf.Tensor2D; // X: [N, D]
    const carriedT = tf.slice(y, [0, m], [rows, n]); // (Âᵀ·H')ᵀ: [N·d_b, n]
    const z = sublayer(x); // Z: [N, D]
    const zT = z.reshape([N, m, db]).transpose([0, 2, 1]).reshape([rows, m]) as tf.Tensor2D; // Zᵀ: [N·d_b, m]
    const nextT = tf.add(carriedT, tf.matMul(zT, p.write)); // (Bᵀ·Z + Âᵀ·H')ᵀ: [N·d_b, n]
    return nextT
      .reshape([N, db, n])
      .transpose([0, 2, 1])
      .reshape([N, n * db]) as tf.Tensor2D; // H'_new: [N, D']
  });
}

/**
 * Checks that a connection's `{m, n}` fits the embedding's state layout; throws
 * a `ConfigError` naming `connection.m` / `connection.n` otherwise. A
 * D-wide state (`n = m`, e.g. the standard embedding) may be split into any
 * number of segments, so Frac-Connections run on the standard embedding.
 *
 * @example
 * ```ts
 * checkLayout({ m: 8, n: 16, segmentWidth: 8, width: 128 }, 8, 32, 64);
 * // ConfigError "connection.n: 32 does not match the embedding's n = 16 (…)"
 * ```
 */
export function checkLayout(layout: StateLayout, m: number, n: number, dModel: number, path = 'connection'): void {
  if (layout.m === m && layout.n === n) return;
  if (n === m && layout.width === dModel) return;
  const hint = `the embedding carries m = ${layout.m}, n = ${layout.n} (D' = ${layout.width}); embedding and connection need the same m and n`;
  if (layout.n !== n) throw new ConfigError(`${path}.n`, `${n} does not match the embedding's n = ${layout.n} (${hint})`);
  throw new ConfigError(`${path}.m`, `${m} does not match the embedding's m = ${layout.m} (${hint})`);
}

function identity(n: number): Float32Array {
  const v = new Float32Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  return v;
}
