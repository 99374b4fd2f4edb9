import * as tf from '@tensorflow/tfjs';
import { ConfigReader } from '../validate.js';
import { ConfigError } from '../errors.js';
import { fusedNn, linear } from '../nn.js';
import type { PluginDefinition, SublayerModule } from '../plugin.js';

/**
 * Config of causal multi-head self-attention.
 *
 * @example
 * ```ts
 * const config: AttentionConfig = causalSelfAttention.parseConfig({ use: 'attention' }, 'mixer', dims);
 * config.ropeBase; // 10000
 * assembleModel({ ...dims, mixer: { use: 'attention', ropeBase: 500000 } }); // longer-context RoPE
 * ```
 */
export interface AttentionConfig {
  /**
   * RoPE base frequency (default 10000).
   * Rotary angles are `t · ropeBase^(−2i/hd)` (PAPER.md §8: attention with RoPE).
   *
   * @defaultValue `10000`
   */
  readonly ropeBase: number;
}

/**
 * Rotary position tables for `T` positions and head width `hd`, repeated over
 * both halves: `cos, sin: [1, T, 1, hd]`, angle(t, i) = t · base^(−2i/hd) for
 * column `i` and `i + hd/2`.
 */
function ropeTables(T: number, hd: number, base: number): { cos: tf.Tensor4D; sin: tf.Tensor4D } {
  const half = hd / 2;
  const cos = new Float32Array(T * hd);
  const sin = new Float32Array(T * hd);
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < half; i++) {
      const angle = t * Math.pow(base, (-2 * i) / hd);
      cos[t * hd + i] = cos[t * hd + half + i] = Math.cos(angle);
      sin[t * hd + i] = sin[t * hd + half + i] = Math.sin(angle);
    }
  }
  return { cos: tf.tensor4d(cos, [1, T, 1, hd]), sin: tf.tensor4d(sin, [1, T, 1, hd]) };
}

/**
 * `rotateHalf(x) = [−x₂, x₁]` on the last axis of `x: [rows, hd]` as one GEMM with
 * the signed permutation `R` (entries 0, ±1, so the result is exact), with a
 * custom gradient `dy·Rᵀ` that needs no transposed GEMM. Replaces the
 * slice/concat (SplitV, Concat, PadV2 in the backward pass) formulation.
 */
function rotateHalfOp(hd: number): { op: (x: tf.Tensor2D) => tf.Tensor2D; constants: tf.Tensor[] } {
  const half = hd / 2;
  const r = new Float32Array(hd * hd);
  const rt = new Float32Array(hd * hd);
  for (let j = 0; j < half; j++) {
    r[(j + half) * hd + j] = -1; // out_j = −x_{j+half}
    r[j * hd + j + half] = 1; // out_{j+half} = x_j
  }
  for (let i = 0; i < hd; i++) for (let j = 0; j < hd; j++) rt[j * hd + i] = r[i * hd + j]!;
  const R = tf.keep(tf.tensor2d(r, [hd, hd]));
  const RT = tf.keep(tf.tensor2d(rt, [hd, hd]));
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => ({
    value: tf.matMul(args[0] as tf.Tensor2D, R),
    gradFunc: (dy: tf.Tensor) => tf.matMul(dy as tf.Tensor2D, RT),
  }));
  return { op: (x) => op(x) as tf.Tensor2D, constants: [R, RT] };
}

/**
 * Rotate-half RoPE on `x: [B, T, H, hd]`: `x·cos + rotateHalf(x)·sin`, i.e.
 * `[x₁cos − x₂sin, x₁sin + x₂cos]` (bitwise the same as the slice/concat form).
 */
function applyRope(x: tf.Tensor4D, cos: tf.Tensor4D, sin: tf.Tensor4D, rotateHalf: (x: tf.Tensor2D) => tf.Tensor2D): tf.Tensor4D {
  const [B, T, H, hd] = x.shape;
  const rotated = rotateHalf(x.reshape([B * T * H, hd]) as tf.Tensor2D).reshape([B, T, H, hd]);
  return tf.add(tf.mul(x, cos), tf.mul(rotated, sin)) as tf.Tensor4D;
}

/**
 * Causal multi-head self-attention with RoPE, no biases; W_o init scaled by
 * 1/sqrt(2L) (PAPER.md §8). Input and output `[N, D]` with `N = B·T`.
 *
 * @example
 * ```json
 * { "mixer": { "use": "attention", "ropeBase": 10000 } }
 * ```
 */
export const causalSelfAttention: PluginDefinition<'mixer', AttentionConfig> = {
  specificationVersion: 'v2',
  kind: 'mixer',
  id: 'attention',
  description: 'causal multi-head self-attention with RoPE (baseline)',
  parseConfig(raw, path, dims) {
    const r = new ConfigReader(raw, path);
    const ropeBase = r.number('ropeBase', { default: 10000, minExclusive: 1 });
    r.done();
    if ((dims.dModel / dims.heads) % 2 !== 0) {
      throw new ConfigError('heads', `head width D/heads = ${dims.dModel / dims.heads} must be even for RoPE`);
    }
    return { ropeBase };
  },
  create(config, ctx): SublayerModule {
    const { dModel: D, heads: H, layers: L } = ctx.dims;
    const hd = D / H;
    const std = 0.02;
    const wq = ctx.params.create('wq', [D, D], { kind: 'normal', std });
    const wk = ctx.params.create('wk', [D, D], { kind: 'normal', std });
    const wv = ctx.params.create('wv', [D, D], { kind: 'normal', std });
    const wo = ctx.params.create('wo', [D, D], { kind: 'normal', std: std / Math.sqrt(2 * L) });
    // Per-length constants, built once and kept outside any tidy scope.
    const cache = new Map<number, { cos: tf.Tensor4D; sin: tf.Tensor4D; mask: tf.Tensor2D }>();
    let rotateHalf: ReturnType<typeof rotateHalfOp> | null = null;
    const constants = (T: number) => {
      let c = cache.get(T);
      if (!c) {
        const { cos, sin } = ropeTables(T, hd, config.ropeBase);
        const m = new Float32Array(T * T);
        for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) m[i * T + j] = -1e9;
        c = { cos: tf.keep(cos), sin: tf.keep(sin), mask: tf.keep(tf.tensor2d(m, [T, T])) };
        cache.set(T, c);
      }
      return c;
    };
    return {
      forward: (x, fctx) =>
        tf.tidy(() => {
          const { batch: B, time: T } = fctx;
          const { cos, sin, mask } = constants(T);
          const rot = (rotateHalf ??= rotateHalfOp(hd)).op; // its two constants are tf.keep()-ed
          const heads = (w: tf.Variable) => linear(x, w).reshape([B, T, H, hd]) as tf.Tensor4D; // [B, T, H, hd]
          const fused = fusedNn(); // one-kernel RoPE (+ transpose) and scale + causal mask + softmax where a backend offers them
          const rope = (w: tf.Variable) =>
            fused?.ropeHeads ? fused.ropeHeads(heads(w), cos, sin) : applyRope(heads(w), cos, sin, rot).transpose([0, 2, 1, 3]);
          const q = rope(wq); // [B, H, T, hd]
          const k = rope(wk); // [B, H, T, hd]
          const v = heads(wv).transpose([0, 2, 1, 3]); // [B, H, T, hd]
          const probs = fused?.causalSoftmax
            ? fused.causalSoftmax(tf.matMul(q, k, false, true), 1 / Math.sqrt(hd))
            : tf.softmax(tf.add(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(hd)), mask)); // [B, H, T, T]
          const out = tf.matMul(probs, v); // [B, H, T, hd]
          return linear(out.transpose([0, 2, 1, 3]).reshape([B * T, D]), wo); // [N, D]
        }),
      // 4 projections + scores (q·k over T keys) + weighted values.
      flopsPerToken: () => 8 * D * D + 4 * ctx.dims.seqLen * D,
      // Frees the kept per-length constants (RoPE tables, causal mask) and the rotate-half matrices.
      dispose: () => {
        tf.dispose([...cache.values()].flatMap((c) => [c.cos, c.sin, c.mask]));
        cache.clear();
        if (rotateHalf) tf.dispose(rotateHalf.constants);
        rotateHalf = null;
      },
    };
  },
};
