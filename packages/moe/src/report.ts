/**
 * Routing statistics of MoE layers and how they reach the model's metrics
 * (`moe_load`, `moe_max_load_ratio`, `moe_dropped_fraction`, `moe_balance`,
 * `moe_z`, `moe_router_entropy`: means over the MoE layers of a forward pass).
 *
 * @module
 */
import type * as tf from '@tensorflow/tfjs';
import type { ForwardContext } from '@vwn/core';
import type { RoutingPlan } from './routing.js';

/**
 * Routing statistics of one MoE layer in one forward pass, over the valid
 * positions (all of them, or those `ForwardContext.validPositions` marks).
 * The layer computes them on the device; {@link moeRoutingStats} reads them.
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
 * Computes a layer's {@link MoeLayerStats} on the host from its router logits
 * and plan: the float64 reference of what the layer computes on the device.
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

/**
 * A layer's statistics as device tensors (what the layer reports; see {@link MoeLayerStats}).
 *
 * @internal
 */
export interface LayerStatTensors {
  readonly load: tf.Tensor1D;
  readonly maxLoadRatio: tf.Scalar;
  readonly droppedFraction: tf.Scalar;
  readonly balance: tf.Scalar;
  readonly zLoss: tf.Scalar;
  readonly routerEntropy: tf.Scalar;
}

interface ContextReport {
  readonly layers: Array<{ readonly layer: number; readonly stats: LayerStatTensors }>;
}

const reports = new WeakMap<ForwardContext, ContextReport>();

/**
 * The context a report is filed under: a context derived with
 * `Object.create(ctx, …)` (MTP's, which adds `validPositions`) files under the
 * context it was derived from, so one forward's layers stay together.
 */
function rootContext(ctx: ForwardContext): ForwardContext {
  let c = ctx;
  for (;;) {
    const parent = Object.getPrototypeOf(c) as ForwardContext | null;
    if (!parent || !Object.prototype.hasOwnProperty.call(parent, 'batch')) return c;
    c = parent;
  }
}

/**
 * The per-layer routing statistics recorded in a forward context (training
 * forwards only), in call order. Reads them back from the device: call it
 * before the context is disposed.
 *
 * @example
 * ```ts
 * const ctx = createForwardContext(8, 64, true);
 * model.forward(ids, ctx);
 * const worst = Math.max(...moeRoutingStats(ctx).map((s) => s.maxLoadRatio));
 * ```
 */
export function moeRoutingStats(ctx: ForwardContext): readonly MoeLayerStats[] {
  const read = (t: tf.Tensor) => t.dataSync()[0]!;
  return (reports.get(rootContext(ctx))?.layers ?? []).map(({ layer, stats }) => ({
    layer,
    load: Array.from(stats.load.dataSync()),
    maxLoadRatio: read(stats.maxLoadRatio),
    droppedFraction: read(stats.droppedFraction),
    balanceLoss: read(stats.balance),
    zLoss: read(stats.zLoss),
    routerEntropy: read(stats.routerEntropy),
  }));
}

/**
 * Records a layer's statistics in `ctx` as metrics (core averages metrics of
 * the same name over the layers that report them; the context keeps and later
 * frees them) and remembers them for {@link moeRoutingStats}.
 *
 * @internal
 */
export function reportLayer(ctx: ForwardContext, stats: LayerStatTensors, layer: number): void {
  const root = rootContext(ctx);
  let report = reports.get(root);
  if (!report) {
    report = { layers: [] };
    reports.set(root, report);
  }
  report.layers.push({ layer, stats });
  ctx.addMetric('moe_load', stats.load);
  ctx.addMetric('moe_max_load_ratio', stats.maxLoadRatio);
  ctx.addMetric('moe_dropped_fraction', stats.droppedFraction);
  ctx.addMetric('moe_balance', stats.balance);
  ctx.addMetric('moe_z', stats.zLoss);
  ctx.addMetric('moe_router_entropy', stats.routerEntropy);
}
