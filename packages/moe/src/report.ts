/**
 * Routing statistics of MoE layers and how they reach the model's metrics
 * (`moe_load`, `moe_max_load_ratio`, `moe_dropped_fraction`, `moe_balance`,
 * `moe_z`, `moe_router_entropy`: means over the MoE layers of a forward pass).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import type { ForwardContext } from '@vwn/core';
import type { RoutingPlan } from './routing.js';

/**
 * Routing statistics of one MoE layer in one forward pass (float64, from the
 * router logits read back for routing).
 *
 * @example
 * ```ts
 * const ctx = createForwardContext(B, T, true);
 * model.forward(ids, ctx);
 * moeRoutingStats(ctx).map((s) => s.maxLoadRatio); // one per MoE layer, e.g. [1.31, 1.58]
 * ```
 */
export interface MoeLayerStats {
  /** Layer index (−1 when built outside a model). */
  readonly layer: number;
  /** `[E]`: fraction of the N·k token-slots the router sent to each expert (before capacity drops). */
  readonly load: readonly number[];
  /** `max_i load_i · E`: 1 is perfectly balanced, 2 means one expert has twice its fair share. */
  readonly maxLoadRatio: number;
  /** Fraction of token-slots dropped by the capacity limit. */
  readonly droppedFraction: number;
  /** Unweighted Switch balance loss `E·Σ_i f_i·P_i` (1 when balanced). */
  readonly balanceLoss: number;
  /** Unweighted router z-loss `mean_t logsumexp(logits_t)²`. */
  readonly zLoss: number;
  /** Mean entropy of the routing distribution (nats; ln E is uniform). */
  readonly routerEntropy: number;
}

/**
 * Computes a layer's {@link MoeLayerStats} from its router logits and plan.
 *
 * @param logits `[N·E]` row-major router logits
 * @example
 * ```ts
 * const stats = layerStats(Float32Array.from([0, 0, 0, 0]), routeTokens([0, 0, 0, 0], 2, 1, 0), 0);
 * stats.balanceLoss;   // 1
 * stats.routerEntropy; // ln 2
 * ```
 */
export function layerStats(logits: ArrayLike<number>, plan: RoutingPlan, layer: number): MoeLayerStats {
  const { tokens: N, experts: E, topK: k } = plan;
  const meanProb = new Array<number>(E).fill(0);
  let zLoss = 0;
  let entropy = 0;
  for (let t = 0; t < N; t++) {
    let max = -Infinity;
    for (let e = 0; e < E; e++) max = Math.max(max, logits[t * E + e]!);
    let sumExp = 0;
    for (let e = 0; e < E; e++) sumExp += Math.exp(logits[t * E + e]! - max);
    const lse = max + Math.log(sumExp);
    let expectedLogit = 0;
    for (let e = 0; e < E; e++) {
      const p = Math.exp(logits[t * E + e]! - lse);
      meanProb[e]! += p / N;
      expectedLogit += p * logits[t * E + e]!;
    }
    zLoss += (lse * lse) / N;
    entropy += (lse - expectedLogit) / N; // −Σ p·log p with log p = logit − lse
  }
  const load = plan.routedCounts.map((c) => c / (N * k));
  return {
    layer,
    load,
    maxLoadRatio: Math.max(...load) * E,
    droppedFraction: plan.dropped / (N * k),
    balanceLoss: E * load.reduce((a, f, i) => a + f * meanProb[i]!, 0),
    zLoss,
    routerEntropy: entropy,
  };
}

interface ContextReport {
  readonly layers: MoeLayerStats[];
}

const reports = new WeakMap<ForwardContext, ContextReport>();

/**
 * The per-layer routing statistics recorded in a forward context (training
 * forwards only), in call order.
 *
 * @example
 * ```ts
 * const ctx = createForwardContext(8, 64, true);
 * model.forward(ids, ctx);
 * const worst = Math.max(...moeRoutingStats(ctx).map((s) => s.maxLoadRatio));
 * ```
 */
export function moeRoutingStats(ctx: ForwardContext): readonly MoeLayerStats[] {
  return reports.get(ctx)?.layers ?? [];
}

/**
 * Records a layer's statistics in `ctx` as metrics (core averages metrics of
 * the same name over the layers that report them) and keeps them for
 * {@link moeRoutingStats}.
 *
 * @example
 * ```ts
 * reportLayer(ctx, layerStats(logits, plan, 0));
 * ```
 */
export function reportLayer(ctx: ForwardContext, stats: MoeLayerStats): void {
  let report = reports.get(ctx);
  if (!report) {
    report = { layers: [] };
    reports.set(ctx, report);
  }
  report.layers.push(stats);
  ctx.addMetric('moe_load', tf.tensor1d([...stats.load]));
  ctx.addMetric('moe_max_load_ratio', tf.scalar(stats.maxLoadRatio));
  ctx.addMetric('moe_dropped_fraction', tf.scalar(stats.droppedFraction));
  ctx.addMetric('moe_balance', tf.scalar(stats.balanceLoss));
  ctx.addMetric('moe_z', tf.scalar(stats.zLoss));
  ctx.addMetric('moe_router_entropy', tf.scalar(stats.routerEntropy));
}
