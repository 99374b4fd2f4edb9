import * as tf from '@tensorflow/tfjs';
import {
  ConfigError,
  ConfigReader,
  crossEntropy,
  rmsNorm,
  sumTensors,
  type ForwardContext,
  type LayerModule,
  type ObjectiveModule,
  type ObjectiveOutput,
  type PluginDefinition,
} from '@vwn/core';

/**
 * Config of the MTP objective.
 *
 * @example
 * ```ts
 * const config: MtpConfig = multiTokenPrediction.parseConfig({ use: 'mtp' }, 'objectives[0]', dims);
 * // { depth: 1, weight: 0.3 }
 * assembleModel({ ...dims, objectives: [{ use: 'mtp', ...config }] });
 * ```
 */
export interface MtpConfig {
  /**
   * Number of sequential modules k ≥ 1; module i predicts token t+i+1 (default 1: "next-2").
   * Must be < `seqLen - 1` so every module has targets.
   *
   * @defaultValue `1`
   */
  readonly depth: number;
  /**
   * λ in L = L_main + λ · mean_i L_i (default 0.3, DeepSeek-V3's value; PAPER.md §7 Decision).
   *
   * @defaultValue `0.3`
   */
  readonly weight: number;
}

/**
 * Module i's predictions: logits for token t+i+1 at every position t, with targets and the 0/1 mask of positions that have one.
 *
 * @example
 * ```ts
 * const preds: MtpPrediction[] = module.predict(rows, state, ctx);
 * const { logits, targets, mask } = preds[0]!;          // token t+2 at every position t
 * const next2 = crossEntropy(logits, targets, mask);    // the `next2_loss` term
 * tf.dispose(preds.flatMap((p) => [p.logits, p.targets, p.mask]));
 * ```
 */
export interface MtpPrediction {
  /** `[N, V]`. */
  readonly logits: tf.Tensor2D;
  /** `[N]` int32: token t+i+1 (0 where there is none). */
  readonly targets: tf.Tensor1D;
  /** `[N]` float32: 1 where t+i+1 ≤ T. */
  readonly mask: tf.Tensor1D;
}

/**
 * The MTP objective module; `predict` exposes per-module logits (tests, speculative decoding).
 *
 * @example
 * ```ts
 * const model = assembleModel({ ...dims, objectives: [mtp({ depth: 1 })] });
 * const module = model.objectives[0]!.module as MtpModule;
 * const [B, W] = rows.shape; // rows: [B, T + 1] int32
 * const ctx = createForwardContext(B, W - 1, false);
 * const { state } = model.forward(tf.slice(rows, [0, 0], [B, W - 1]) as tf.Tensor2D, ctx); // [B·T, D']
 * const [next2] = module.predict(rows, state, ctx); // next2.logits: [B·T, V]
 * ```
 */
export interface MtpModule extends ObjectiveModule {
  /** Runs the k modules on `rows: [B, T+1]` from the main model's final state `[B·T, D']`. Caller owns the tensors. */
  predict(rows: tf.Tensor2D, finalState: tf.Tensor2D, ctx: ForwardContext): MtpPrediction[];
}

/**
 * `ctx` with `validPositions` set: derived with `Object.create`, so every
 * sink and field of the caller's context (and its identity as the prototype)
 * carries over.
 */
function withValidPositions(ctx: ForwardContext, valid: tf.Tensor1D): ForwardContext {
  return Object.create(ctx, { validPositions: { value: valid, enumerable: true } }) as ForwardContext;
}

/** RMSNorm of each d_b-wide segment of `[N, n·d_b]` with a shared `[d_b]` gain. */
function segmentNorm(x: tf.Tensor2D, gain: tf.Variable, segmentWidth: number): tf.Tensor2D {
  const [N, width] = x.shape;
  const perSegment = x.reshape([(N * width) / segmentWidth, segmentWidth]); // [N·n, d_b]
  return rmsNorm(perSegment, gain).reshape([N, width]) as tf.Tensor2D;
}

/**
 * Sequential Multi-Token Prediction (PAPER.md §7), as an objective plugin.
 *
 * Module i (1 ≤ i ≤ k) at position t:
 * ```
 * e   = E-Norm(OWE(token_{t+i}))              # the model's own embedding, RMSNorm per segment
 * h   = H-Norm(H'_{i-1, t})                   # main model's final state for i = 1, RMSNorm per segment
 * x_j = [e_j ; h_j] · W_blk                   # block-level linear shared across segments, 2·d_b → d_b
 * H'_i = layer_i(x)                           # one layer built from the model's own connection/mixer/FFN plugins
 * logits_i = head(H'_i)                       # the model's shared head (GroupNorm, reduce, norm, unembedding)
 * L = L_main + λ · mean_i CE(logits_i, token_{t+i+1})
 * ```
 * Positions with no target (`t + i + 1 > T`) are masked out of L_i, not
 * padded into it, and marked in the module layer's
 * `ForwardContext.validPositions` (so an MoE FFN routes only real positions). For a baseline model (m = n = 1) W_blk is DeepSeek-V3's
 * dense 2D → D projection. The modules only train the model: evaluation of
 * next-token loss and generation never run them, and a checkpoint with MTP
 * loads into a model without it (its `objectives.mtp.*` tensors are ignored).
 *
 * Terms logged per module: `next{i+1}_loss` (e.g. `next2_loss`).
 *
 * @example
 * ```json
 * { "objectives": [{ "use": "mtp", "depth": 1, "weight": 0.3 }] }
 * ```
 */
export const multiTokenPrediction: PluginDefinition<'objective', MtpConfig> = {
  specificationVersion: 'v2',
  kind: 'objective',
  id: 'mtp',
  description: "sequential multi-token prediction (depth k, weight λ) reusing the model's embedding, connection and head",
  parseConfig(raw, path, dims) {
    const r = new ConfigReader(raw, path);
    const depth = r.int('depth', { default: 1, min: 1 });
    const weight = r.number('weight', { default: 0.3, min: 0 });
    r.done();
    if (depth >= dims.seqLen - 1) {
      throw new ConfigError(`${path}.depth`, `must be < seqLen - 1 = ${dims.seqLen - 1} so every module has targets, got ${depth}`);
    }
    return { depth, weight };
  },
  create(config, ctx): MtpModule {
    const { parts } = ctx;
    const { segmentWidth: db, width } = ctx.layout;
    const modules: Array<{ eNorm: tf.Variable; hNorm: tf.Variable; proj: tf.Variable; layer: LayerModule }> = [];
    for (let i = 1; i <= config.depth; i++) {
      const s = ctx.params.scope(`${i - 1}`);
      modules.push({
        eNorm: s.create('e_norm.gain', [db], { kind: 'ones' }, { decay: false }),
        hNorm: s.create('h_norm.gain', [db], { kind: 'ones' }, { decay: false }),
        proj: s.create('proj', [2 * db, db], { kind: 'normal', std: 0.02 }), // W_blk, rows: [e ; h]
        layer: parts.createLayer(s.scope('layer'), ctx.dims.layers + i - 1),
      });
    }
    const predict: MtpModule['predict'] = (rows, finalState, fctx) => {
      const [B, W] = rows.shape;
      const T = W - 1;
      const N = B * T;
      const n = width / db;
      let h = finalState; // H'_0 = main model's final carried state, [N, D']
      const out: MtpPrediction[] = [];
      modules.forEach((mod, idx) => {
        const i = idx + 1;
        const step = tf.tidy(() => {
          // Input token t+i and target t+i+1 for t = 0..T-1; missing ones are padded with 0 and masked.
          const shifted = (offset: number) => {
            const avail = Math.max(0, W - offset);
            const cols = tf.slice(rows, [0, offset], [B, Math.min(T, avail)]);
            return (avail >= T ? cols : tf.concat([cols, tf.zeros([B, T - avail], 'int32')], 1)).reshape([N]) as tf.Tensor1D;
          };
          const valid = Array.from({ length: T }, (_, t) => (t + i + 1 <= T ? 1 : 0));
          const mask = tf.tile(tf.tensor1d(valid, 'float32'), [B]) as tf.Tensor1D; // [N]
          const e = segmentNorm(parts.embedding.embed(shifted(i), fctx), mod.eNorm, db); // [N, D']
          const hn = segmentNorm(h, mod.hNorm, db); // [N, D']
          const pair = tf.concat([e.reshape([N * n, db]), hn.reshape([N * n, db])], 1); // [N·n, 2·d_b]
          const x = tf.matMul(pair, mod.proj).reshape([N, width]) as tf.Tensor2D; // x_j = [e_j ; h_j]·W_blk → [N, D']
          // The layer sees which positions carry data: filler positions take no MoE capacity and stay out of its statistics.
          const lctx = withValidPositions(fctx, mask);
          const state = mod.layer.forward(x, lctx); // H'_i: [N, D']
          return { state, logits: parts.head.logits(state, lctx), targets: shifted(i + 1), mask };
        });
        if (h !== finalState) h.dispose();
        h = step.state;
        out.push({ logits: step.logits, targets: step.targets, mask: step.mask });
      });
      if (h !== finalState) h.dispose();
      return out;
    };
    return {
      predict,
      compute({ rows, finalState, ctx: fctx }): ObjectiveOutput {
        const predictions = predict(rows, finalState, fctx);
        const terms: Record<string, tf.Scalar> = {};
        const losses = predictions.map((p, idx) => {
          const l = crossEntropy(p.logits, p.targets, p.mask);
          terms[`next${idx + 2}_loss`] = l;
          return l;
        });
        tf.dispose(predictions.flatMap((p) => [p.logits, p.targets, p.mask]));
        const loss = tf.tidy(() => tf.mul(tf.div(sumTensors(losses), losses.length), config.weight) as tf.Scalar);
        return { loss, terms };
      },
      flopsPerToken() {
        const n = width / db;
        const perModule = (m: (typeof modules)[number]) => 8 * width + 2 * (2 * db) * db * n + m.layer.flopsPerToken() + parts.head.flopsPerToken();
        return modules.reduce((a, m) => a + perModule(m), 0);
      },
    };
  },
};
