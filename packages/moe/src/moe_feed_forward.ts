import * as tf from '@tensorflow/tfjs';
import { ConfigReader, linear, silu, type ParamScope, type PluginDefinition, type SublayerModule } from '@vwn/core';
import { routeTokens, type RoutingPlan } from './routing.js';
import { layerStats, reportLayer } from './report.js';

/**
 * Config of the MoE feed-forward, with every default filled in (what
 * `moeFeedForward.parseConfig` returns and checkpoints store).
 *
 * @example
 * ```ts
 * const dims = { vocabSize: 256, dModel: 256, layers: 8, heads: 4, seqLen: 256, ffnHidden: 688 };
 * const config: MoeConfig = moeFeedForward.parseConfig({ use: 'moe' }, 'ffn', dims);
 * config.expertHidden; // 344 = 688 / topK
 * ```
 */
export interface MoeConfig {
  /**
   * Routed experts E (default 8).
   *
   * @defaultValue `8` (PAPER.md §8 Decision)
   */
  readonly experts: number;
  /**
   * Experts per token k, 1 ≤ k ≤ E (default 2, or E when E < 2).
   *
   * @defaultValue `min(2, experts)` (PAPER.md §8 Decision: top-2)
   */
  readonly topK: number;
  /**
   * Hidden width H of each routed SwiGLU expert (default `round(ffnHidden / topK)`: active FFN params ≈ the dense FFN's).
   *
   * @defaultValue `max(1, round(ffnHidden / topK))`
   */
  readonly expertHidden: number;
  /**
   * Always-on shared experts (default 0).
   *
   * @defaultValue `0` (PAPER.md §8: optional shared expert)
   */
  readonly sharedExperts: number;
  /**
   * Hidden width of each shared expert (default `expertHidden`).
   *
   * @defaultValue `expertHidden`
   */
  readonly sharedHidden: number;
  /**
   * α of the Switch balance loss α·E·Σ f_i·P_i (default 0.01; 0 turns it off).
   *
   * @defaultValue `0.01` (PAPER.md §8: α = 0.01)
   */
  readonly balanceLossWeight: number;
  /**
   * Weight of the router z-loss mean(logsumexp(logits)²) (default 0 = off).
   *
   * @defaultValue `0` (PAPER.md §8: optional router z-loss)
   */
  readonly zLossWeight: number;
  /**
   * c in capacity = ceil(c·N·k/E) tokens per expert; 0 = dropless (default).
   *
   * @defaultValue `0`, dropless (PAPER.md §8: dropless by default)
   */
  readonly capacityFactor: number;
  /**
   * Divide the k selected probabilities by their sum (default false: use them as they are).
   *
   * @defaultValue `false`
   */
  readonly renormalize: boolean;
}

/**
 * The three matrices of one SwiGLU expert: `(silu(x·w1) ⊙ (x·w3))·w2`.
 *
 * @example
 * ```ts
 * const w: SwigluWeights = ffn.experts[0]!;
 * w.w1.shape; // [D, expertHidden]
 * ```
 */
export interface SwigluWeights {
  /** Gate `[D, H]`. */
  readonly w1: tf.Variable;
  /** Up `[D, H]`. */
  readonly w3: tf.Variable;
  /** Down `[H, D]`. */
  readonly w2: tf.Variable;
}

/**
 * A built MoE FFN: the `SublayerModule` of @vwn/core plus its weights and the routing
 * of its most recent forward pass (for inspection and tests).
 *
 * @example
 * ```ts
 * const ffn = moeFeedForward.create(config, buildContext) as MoeModule;
 * ffn.forward(x, ctx);
 * ffn.lastRouting?.routedCounts; // slots per expert, e.g. [130, 121, …]
 * ```
 */
export interface MoeModule extends SublayerModule {
  readonly config: MoeConfig;
  /** Router `W_router: [D, E]`. */
  readonly router: tf.Variable;
  /** Routed experts, `E` of them. */
  readonly experts: readonly SwigluWeights[];
  /** The shared experts fused into one SwiGLU of width `sharedExperts·sharedHidden`, or null. */
  readonly shared: SwigluWeights | null;
  /** Dispatch plan of the latest forward pass (null before the first). */
  readonly lastRouting: RoutingPlan | null;
  activeParams(): number;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function swiglu(x: tf.Tensor2D, w: SwigluWeights): tf.Tensor2D {
  return linear(tf.mul(silu(linear(x, w.w1)), linear(x, w.w3)), w.w2); // [rows, D]
}

function createSwiglu(scope: ParamScope, D: number, H: number, layers: number): SwigluWeights {
  const std = 0.02;
  return {
    w1: scope.create('w1', [D, H], { kind: 'normal', std }),
    w3: scope.create('w3', [D, H], { kind: 'normal', std }),
    w2: scope.create('w2', [H, D], { kind: 'normal', std: std / Math.sqrt(2 * layers) }),
  };
}

/**
 * Mixture-of-Experts SwiGLU feed-forward (PAPER.md §8), id `moe`:
 *
 * ```
 * p = softmax(x·W_router)                       [N, E]
 * y_t = Σ_{i ∈ topk(p_t)} g_{t,i} · FFN_i(x_t) + Σ_j Shared_j(x_t)
 * g_{t,i} = p_{t,i}   (or p_{t,i} / Σ_{j ∈ topk} p_{t,j} with renormalize)
 * L_aux = α·E·Σ_i f_i·P_i + β·mean_t(logsumexp(x_t·W_router)²)
 * ```
 *
 * Dispatch is sparse: each expert runs one 2-D GEMM chain on only its tokens
 * (gather → split by expert → SwiGLU → concat → weight → gather back), so
 * compute grows with k, not E. Selection is read back once per layer
 * (`dataSync` of the `[N, E]` logits); gradients reach the router through
 * the gathered probabilities and the balance/z losses.
 *
 * Init N(0, 0.02), expert and shared output projections / sqrt(2L), as core's
 * dense `swigluFeedForward` baseline.
 *
 * @example
 * ```json
 * { "ffn": { "use": "moe", "experts": 8, "topK": 2, "sharedExperts": 1, "capacityFactor": 1.25 } }
 * ```
 */
export const moeFeedForward: PluginDefinition<'ffn', MoeConfig> = {
  specificationVersion: 'v2',
  kind: 'ffn',
  id: 'moe',
  description: 'Mixture-of-Experts SwiGLU FFN: softmax top-k routing, optional shared experts, balance/z losses, optional capacity',
  parseConfig(raw, path, dims) {
    const r = new ConfigReader(raw, path);
    const experts = r.int('experts', { default: 8, min: 1 });
    const topK = r.int('topK', { default: Math.min(2, experts), min: 1, max: experts });
    const expertHidden = r.int('expertHidden', { default: Math.max(1, Math.round(dims.ffnHidden / topK)), min: 1 });
    const sharedExperts = r.int('sharedExperts', { default: 0, min: 0 });
    const sharedHidden = r.int('sharedHidden', { default: expertHidden, min: 1 });
    const balanceLossWeight = r.number('balanceLossWeight', { default: 0.01, min: 0 });
    const zLossWeight = r.number('zLossWeight', { default: 0, min: 0 });
    const capacityFactor = r.number('capacityFactor', { default: 0, min: 0 });
    const renormalize = r.bool('renormalize', false);
    r.done();
    return { experts, topK, expertHidden, sharedExperts, sharedHidden, balanceLossWeight, zLossWeight, capacityFactor, renormalize };
  },
  create(config, ctx): MoeModule {
    const D = ctx.dims.dModel;
    const L = ctx.dims.layers;
    const { experts: E, topK: k, expertHidden: H, sharedExperts, sharedHidden, capacityFactor } = config;
    const sharedWidth = sharedExperts * sharedHidden;
    const site = ctx.site?.layer ?? -1;
    const router = ctx.params.create('router', [D, E], { kind: 'normal', std: 0.02 });
    const experts = Array.from({ length: E }, (_, e) => createSwiglu(ctx.params.scope(`experts.${e}`), D, H, L));
    const shared = sharedWidth > 0 ? createSwiglu(ctx.params.scope('shared'), D, sharedWidth, L) : null;

    const module: Mutable<MoeModule> = {
      config,
      router,
      experts,
      shared,
      lastRouting: null,
      forward(x, fctx) {
        return tf.tidy(() => {
          const logits = linear(x, router); // [N, E]
          const logitValues = logits.dataSync(); // the one sync per layer: selection is data-dependent
          const plan = routeTokens(logitValues, E, k, capacityFactor);
          module.lastRouting = plan;
          const probs = tf.softmax(logits); // [N, E]
          let out = dispatch(x, probs, plan); // [N, D]
          if (shared) out = tf.add(out, swiglu(x, shared));
          if (!fctx.training) return out;
          reportLayer(fctx, layerStats(logitValues, plan, site));
          if (config.balanceLossWeight > 0) {
            // α·E·Σ f_i·P_i — f_i: fraction of the N·k slots routed to i (before any capacity drop; constant); P_i: mean probability.
            const f = tf.tensor1d(plan.routedCounts.map((c) => c / (plan.tokens * k)));
            fctx.addAuxLoss('moe_balance_loss', tf.mul(config.balanceLossWeight * E, tf.sum(tf.mul(f, tf.mean(probs, 0)))));
          }
          if (config.zLossWeight > 0) {
            fctx.addAuxLoss('moe_z_loss', tf.mul(config.zLossWeight, tf.mean(tf.square(tf.logSumExp(logits, 1)))));
          }
          return out;
        });
      },
      flopsPerToken: () => 2 * D * E + k * 6 * D * H + 6 * D * sharedWidth,
      activeParams: () => D * E + k * 3 * D * H + 3 * D * sharedWidth,
    };

    /**
     * Sparse dispatch of the kept slots: `y_t = Σ_{kept (t, r)} g_{t,r} · FFN_{e(t,r)}(x_t)`.
     * `x: [N, D]`, `probs: [N, E]` → `[N, D]`.
     */
    function dispatch(x: tf.Tensor2D, probs: tf.Tensor2D, plan: RoutingPlan): tf.Tensor2D {
      const N = plan.tokens;
      const S = plan.keptSlots.length;
      if (S === 0) return tf.zeros([N, D]);
      // Combine weights of all N·k selected slots, gathered so the router gets their gradient.
      const selectedFlat = new Int32Array(N * k);
      for (let s = 0; s < N * k; s++) selectedFlat[s] = Math.floor(s / k) * E + plan.selected[s]!;
      let gates = tf.gather(tf.reshape(probs, [N * E]), tf.tensor1d(selectedFlat, 'int32')).reshape([N, k]); // [N, k]
      if (config.renormalize) gates = tf.div(gates, tf.sum(gates, 1, true));
      const slotGates = tf.gather(tf.reshape(gates, [N * k]), tf.tensor1d(plan.keptSlots, 'int32')); // [S]

      const xs = tf.gather(x, tf.tensor1d(plan.keptTokens, 'int32')) as tf.Tensor2D; // [S, D], grouped by expert
      const active = plan.expertCounts.flatMap((c, e) => (c > 0 ? [e] : []));
      const pieces = active.length === 1 ? [xs] : tf.split(xs, active.map((e) => plan.expertCounts[e]!), 0);
      const ys = active.map((e, i) => swiglu(pieces[i] as tf.Tensor2D, experts[e]!)); // [c_e, D] each
      let weighted = tf.mul(ys.length === 1 ? ys[0]! : tf.concat(ys, 0), tf.expandDims(slotGates, 1)); // [S, D]
      // Combine by gathering each token's k slots back (dropped slots read a zero row at index S):
      // the gradient is a plain scatter-add, cheaper than that of tf.unsortedSegmentSum in tfjs.
      const back = new Int32Array(k * N).fill(S); // r-major: back[r·N + t] = row of slot (t, r)
      plan.keptSlots.forEach((slot, row) => (back[(slot % k) * N + Math.floor(slot / k)] = row));
      if (plan.dropped > 0) weighted = tf.concat([weighted, tf.zeros([1, D])], 0); // [S + 1, D]
      const perSlot = tf.gather(weighted, tf.tensor1d(back, 'int32')); // [k·N, D]
      return (k === 1 ? perSlot : tf.sum(tf.reshape(perSlot, [k, N * D]), 0).reshape([N, D])) as tf.Tensor2D; // [N, D]
    }

    return module;
  },
};
