/**
 * The attention mixer as it was before issue #8 (RoPE via slice + concat),
 * registered as mixer `attention-v0` by the profiler so the "before" numbers
 * in docs/benchmarks.md can be reproduced. Not for training use.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { causalSelfAttention, linear, type AttentionConfig, type PluginDefinition, type SublayerModule } from '@vwn/core';

/**
 * Rotary position tables for `T` positions and head width `hd`:
 * `cos, sin: [1, T, 1, hd/2]`, angle(t, i) = t · base^(−2i/hd).
 */
function ropeTables(T: number, hd: number, base: number): { cos: tf.Tensor4D; sin: tf.Tensor4D } {
  const half = hd / 2;
  const cos = new Float32Array(T * half);
  const sin = new Float32Array(T * half);
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < half; i++) {
      const angle = t * Math.pow(base, (-2 * i) / hd);
      cos[t * half + i] = Math.cos(angle);
      sin[t * half + i] = Math.sin(angle);
    }
  }
  return { cos: tf.tensor4d(cos, [1, T, 1, half]), sin: tf.tensor4d(sin, [1, T, 1, half]) };
}

/** Rotate-half RoPE on `x: [B, T, H, hd]`. */
function applyRope(x: tf.Tensor4D, cos: tf.Tensor4D, sin: tf.Tensor4D): tf.Tensor4D {
  const [B, T, H, hd] = x.shape;
  const half = hd / 2;
  const x1 = tf.slice(x, [0, 0, 0, 0], [B, T, H, half]);
  const x2 = tf.slice(x, [0, 0, 0, half], [B, T, H, half]);
  return tf.concat([tf.sub(tf.mul(x1, cos), tf.mul(x2, sin)), tf.add(tf.mul(x1, sin), tf.mul(x2, cos))], 3) as tf.Tensor4D;
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
export const attentionV0: PluginDefinition<'mixer', AttentionConfig> = {
  specificationVersion: 'v2',
  kind: 'mixer',
  id: 'attention-v0',
  description: 'pre-#8 attention (slice/concat RoPE), kept only to benchmark against',
  parseConfig: causalSelfAttention.parseConfig, // same config as today's attention; only the forward differs
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
          const heads = (w: tf.Variable) => linear(x, w).reshape([B, T, H, hd]) as tf.Tensor4D; // [B, T, H, hd]
          const q = applyRope(heads(wq), cos, sin).transpose([0, 2, 1, 3]); // [B, H, T, hd]
          const k = applyRope(heads(wk), cos, sin).transpose([0, 2, 1, 3]); // [B, H, T, hd]
          const v = heads(wv).transpose([0, 2, 1, 3]); // [B, H, T, hd]
          const scores = tf.add(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(hd)), mask); // [B, H, T, T]
          const out = tf.matMul(tf.softmax(scores), v); // [B, H, T, hd]
          return linear(out.transpose([0, 2, 1, 3]).reshape([B * T, D]), wo); // [N, D]
        }),
      // 4 projections + scores (q·k over T keys) + weighted values.
      flopsPerToken: () => 8 * D * D + 4 * ctx.dims.seqLen * D,
    };
  },
};
