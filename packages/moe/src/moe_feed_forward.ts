import * as tf from '@tensorflow/tfjs';
import { ConfigReader, linear, silu, type ParamScope, type PluginDefinition, type SublayerModule } from '@vwn/core';
import { expertCapacity, type RoutingPlan } from './routing.js';
import { reportLayer, type LayerStatTensors } from './report.js';
import { routeOnDevice, slotRows, type DeviceRouting } from './device_routing.js';

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
  /**
   * Dispatch plan of the latest forward pass (null before the first). Read
   * back from the device when first accessed (inspection and tests only).
   */
  readonly lastRouting: RoutingPlan | null;
  /**
   * How the expert buffer is sized. `'capacity'`: static, `E·C` rows with
   * `C = min(N, ceil(c·N·k/E))` (`N` when dropless); nothing is read back.
   * `'counts'`: exactly the kept slots per expert, read back as `E` numbers
   * per layer. `'auto'` (default): `'counts'` on backends whose tensors live
   * in host memory (cpu, wasm, tensorflow), `'capacity'` elsewhere (webgpu,
   * webgl). The output is the same either way.
   */
  bufferSizing: 'auto' | 'capacity' | 'counts';
  activeParams(): number;
  /** Frees the copies of the latest routing kept for {@link MoeModule.lastRouting}. */
  dispose(): void;
}

/** Backends whose tensors live in host memory: reading `E` counts there costs no device round trip. */
const HOST_MEMORY_BACKENDS = new Set(['cpu', 'wasm', 'tensorflow']);

interface LastRoutingTensors {
  readonly selected: tf.Tensor2D;
  readonly kept: tf.Tensor1D;
  readonly slotExpert: tf.Tensor1D;
  readonly position: tf.Tensor1D;
}

/** The host-side {@link RoutingPlan} of device routing tensors (reads them back). */
function planFromDevice(t: LastRoutingTensors, E: number, k: number, capacity: number): RoutingPlan {
  const [N] = t.selected.shape;
  const selected = Int32Array.from(t.selected.dataSync());
  const kept = t.kept.dataSync();
  const expert = t.slotExpert.dataSync();
  const position = t.position.dataSync();
  const perExpert: Array<Array<[number, number]>> = Array.from({ length: E }, () => []);
  const routedCounts = new Array<number>(E).fill(0);
  let validSlots = 0;
  for (let i = 0; i < k * N; i++) {
    const r = Math.floor(i / N);
    const tok = i % N;
    const e = Math.round(expert[i]!);
    if (kept[i]! > 0) perExpert[e]!.push([position[i]!, tok * k + r]);
    // A valid slot is kept or was dropped by capacity (its position reached C); masked slots are neither.
    if (kept[i]! > 0 || position[i]! >= capacity) {
      routedCounts[e]! += 1;
      validSlots++;
    }
  }
  const keptSlots = Int32Array.from(perExpert.flatMap((s) => s.sort((a, b) => a[0] - b[0]).map(([, slot]) => slot)));
  const keptTokens = keptSlots.map((slot) => Math.floor(slot / k));
  const expertCounts = perExpert.map((s) => s.length);
  return { tokens: N, experts: E, topK: k, selected, capacity, keptSlots, keptTokens, expertCounts, routedCounts, dropped: validSlots - keptSlots.length };
}

/**
 * Routing statistics of one layer as device tensors (over valid positions):
 * the balance term `E·Σ f_i·P_i` (gradient through `P`), the z-loss
 * `mean logsumexp²` (gradient through the logits), and the metrics.
 */
function routingStats(logits: tf.Tensor2D, probs: tf.Tensor2D, routing: DeviceRouting, valid: tf.Tensor1D | undefined): LayerStatTensors {
  const [N, E] = logits.shape;
  const k = routing.kept.shape[0] / N;
  const lse = tf.logSumExp(logits, 1); // [N]
  const entropy = tf.sub(lse, tf.sum(tf.mul(probs, logits), 1)); // −Σ p·log p, [N]
  let meanProb: tf.Tensor1D;
  let mean: (v: tf.Tensor1D) => tf.Scalar;
  let slots: tf.Scalar;
  if (valid) {
    const w = tf.cast(valid, 'float32') as tf.Tensor1D;
    const count = tf.maximum(tf.sum(w), 1);
    mean = (v) => tf.div(tf.sum(tf.mul(v, w)), count) as tf.Scalar;
    meanProb = tf.div(tf.sum(tf.mul(probs, tf.expandDims(w, 1)), 0), count) as tf.Tensor1D;
    slots = tf.mul(count, k) as tf.Scalar;
  } else {
    mean = (v) => tf.mean(v) as tf.Scalar;
    meanProb = tf.mean(probs, 0) as tf.Tensor1D;
    slots = tf.scalar(N * k);
  }
  // f_i: fraction of the valid slots routed to i (before any capacity drop; no gradient); P_i: mean probability.
  const load = tf.div(routing.routedCounts, slots) as tf.Tensor1D;
  const balance = tf.mul(E, tf.sum(tf.mul(load, meanProb))) as tf.Scalar;
  return {
    load,
    maxLoadRatio: tf.mul(tf.max(load), E) as tf.Scalar,
    droppedFraction: tf.div(tf.sub(slots, tf.sum(routing.keptCounts)), slots) as tf.Scalar,
    balance,
    zLoss: mean(tf.square(lse) as tf.Tensor1D),
    routerEntropy: mean(entropy as tf.Tensor1D),
  };
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
 * Routing runs on the device (top-k, each slot's place in its expert's queue
 * from a cumulative sum, capacity, balance statistics): nothing is read back,
 * so the layer runs on webgpu. Dispatch is sparse: each expert runs one 2-D
 * GEMM chain on its rows of an expert buffer (gather → split by expert →
 * SwiGLU → concat → gather back → weight), sized either statically (`E·C`
 * rows) or, on host-memory backends, to the kept counts (see
 * {@link MoeModule.bufferSizing}). Gradients reach the router through the
 * gathered probabilities and the balance/z losses. Positions that
 * `ForwardContext.validPositions` marks 0 (MTP's filler) take no expert and
 * no capacity slot and are left out of every statistic.
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

    let last: { readonly tensors: LastRoutingTensors; readonly capacity: number } | null = null;
    let lastPlan: RoutingPlan | null = null;

    const module: Mutable<MoeModule> = {
      config,
      router,
      experts,
      shared,
      bufferSizing: 'auto',
      get lastRouting(): RoutingPlan | null {
        if (!last) return null;
        lastPlan ??= planFromDevice(last.tensors, E, k, last.capacity); // reads the kept routing tensors (tests, inspection)
        return lastPlan;
      },
      forward(x, fctx) {
        return tf.tidy(() => {
          const N = x.shape[0];
          const valid = fctx.validPositions;
          const capacity = expertCapacity(capacityFactor, N, k, E);
          const logits = linear(x, router); // [N, E]
          const probs = tf.softmax(logits); // [N, E]
          const routing = routeOnDevice(logits, { topK: k, capacity, valid });
          remember(routing, capacity);
          let out = dispatch(x, probs, routing, Math.min(capacity, N));
          if (shared) out = tf.add(out, swiglu(x, shared));
          if (!fctx.training) return out;
          const stats = routingStats(logits, probs, routing, valid);
          reportLayer(fctx, stats, site);
          if (config.balanceLossWeight > 0) {
            fctx.addAuxLoss('moe_balance_loss', tf.mul(config.balanceLossWeight, stats.balance) as tf.Scalar);
          }
          if (config.zLossWeight > 0) {
            fctx.addAuxLoss('moe_z_loss', tf.mul(config.zLossWeight, stats.zLoss) as tf.Scalar);
          }
          return out;
        });
      },
      flopsPerToken: () => 2 * D * E + k * 6 * D * H + 6 * D * sharedWidth,
      activeParams: () => D * E + k * 3 * D * H + 3 * D * sharedWidth,
      dispose() {
        if (last) tf.dispose(Object.values(last.tensors));
        last = null;
        lastPlan = null;
      },
    };

    /** Keeps copies of this pass's routing for {@link MoeModule.lastRouting} (read only when asked). */
    function remember(routing: DeviceRouting, capacity: number): void {
      module.dispose();
      const copy = <T extends tf.Tensor>(t: T): T => tf.keep(tf.clone(t));
      const { selected, kept, slotExpert, position } = routing;
      last = { tensors: { selected: copy(selected), kept: copy(kept), slotExpert: copy(slotExpert), position: copy(position) }, capacity };
    }

    /**
     * Dispatch → experts → combine of the kept slots: `y_t = Σ_{kept (t, r)} g_{t,r} · FFN_{e(t,r)}(x_t)`.
     * `x: [N, D]`, `probs: [N, E]` → `[N, D]`; `capacity` ≤ N is the static rows per expert.
     */
    function dispatch(x: tf.Tensor2D, probs: tf.Tensor2D, routing: DeviceRouting, capacity: number): tf.Tensor2D {
      const N = x.shape[0];
      // Rows of the expert buffer: E·C (static, nothing read) or the kept counts (read back: E numbers).
      let sizes: number[];
      let start: tf.Tensor1D;
      if (sizing() === 'capacity') {
        sizes = new Array<number>(E).fill(capacity);
        start = tf.mul(tf.range(0, E, 1, 'float32'), capacity);
      } else {
        sizes = Array.from(routing.keptCounts.dataSync(), (c) => Math.round(c));
        start = tf.cumsum(routing.keptCounts, 0, true);
      }
      const rows = sizes.reduce((a, b) => a + b, 0);
      if (rows === 0) return tf.zeros([N, D]);
      const { slotRow, rowToken } = slotRows(routing, start, rows); // [k·N], [rows] int32
      const xs = tf.gather(x, rowToken) as tf.Tensor2D; // [rows, D], grouped by expert
      const active = sizes.flatMap((c, e) => (c > 0 ? [e] : []));
      const pieces =
        active.length === 1
          ? [xs]
          : tf.split(
              xs,
              active.map((e) => sizes[e]!),
              0,
            );
      const ys = active.map((e, i) => swiglu(pieces[i] as tf.Tensor2D, experts[e]!)); // [C_e, D] each
      const yAll = ys.length === 1 ? ys[0]! : tf.concat(ys, 0); // [rows, D]
      // Combine weights of all N·k slots, gathered from the probabilities so the router gets their gradient.
      const flat = tf.add(routing.selected, tf.mul(tf.range(0, N, 1, 'int32').reshape([N, 1]), tf.scalar(E, 'int32'))).reshape([N * k]);
      let gates = tf.gather(tf.reshape(probs, [N * E]), flat).reshape([N, k]); // [N, k]
      if (config.renormalize) gates = tf.div(gates, tf.sum(gates, 1, true));
      const slotGates = tf.mul(tf.reshape(tf.transpose(gates), [k * N]), routing.kept); // [k·N] rank-major, 0 where dropped
      // Each token's k slots gathered back (a dropped slot reads some row, times a zero gate).
      const perSlot = tf.mul(tf.gather(yAll, slotRow), tf.expandDims(slotGates, 1)); // [k·N, D]
      return (k === 1 ? perSlot : tf.sum(tf.reshape(perSlot, [k, N * D]), 0).reshape([N, D])) as tf.Tensor2D; // [N, D]
    }

    function sizing(): 'capacity' | 'counts' {
      if (module.bufferSizing !== 'auto') return module.bufferSizing;
      return HOST_MEMORY_BACKENDS.has(tf.getBackend()) ? 'counts' : 'capacity';
    }

    return module;
  },
};
