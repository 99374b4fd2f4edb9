import type * as tf from '@tensorflow/tfjs';
import type { ParamScope } from './params.js';

/**
 * Plugin interfaces of @vwn/core, specification version `v1`.
 *
 * A model is a stack of swappable parts, each named by a plugin id in a plain
 * JSON config. The data flow for a batch of `B` rows of `T` tokens (`N = B·T`):
 *
 * ```
 * tokens [N] ──embedding──▶ H⁰ [N, D'] ──(layer 0 … L-1)──▶ Hᴸ [N, D'] ──head──▶ logits [N, V]
 * layer l:  H ← connection_mixer(H, x ↦ mixer(RMSNorm(x)))      x: [N, D]
 *           H ← connection_ffn(H,   x ↦ ffn(RMSNorm(x)))
 * loss = CE(logits, next tokens) + Σ objectives(Hᴸ) + Σ auxiliary losses
 * ```
 *
 * `D` is the backbone width every sublayer runs at; `D' = (n/m)·D` is the width
 * of the carried state, fixed by the embedding plugin ({@link StateLayout}).
 * The baseline has `D' = D` and the residual connection.
 *
 * Every tensor passed between plugins is 2-D (`[N, width]`), because tfjs's
 * rank-3 × rank-2 matMul gradient is broken and 2-D GEMMs are fastest.
 */
export const SPECIFICATION_VERSION = 'v1' as const;

/** The kinds of plugin a model is assembled from. */
export type PluginKind = 'embedding' | 'connection' | 'mixer' | 'ffn' | 'head' | 'objective';

/** Every plugin kind, in assembly order. */
export const PLUGIN_KINDS: readonly PluginKind[] = ['embedding', 'connection', 'mixer', 'ffn', 'head', 'objective'];

/** Backbone sizes shared by every plugin (validated by the assembler). */
export interface ModelDims {
  /** Vocabulary size V. */
  readonly vocabSize: number;
  /** Backbone width D: attention and FFN run at this width. */
  readonly dModel: number;
  /** Number of Transformer layers L (each with a mixer and an FFN sublayer). */
  readonly layers: number;
  /** Attention heads; D must be divisible by it. */
  readonly heads: number;
  /** Training context length T. */
  readonly seqLen: number;
  /** Hidden width of the dense SwiGLU FFN. */
  readonly ffnHidden: number;
}

/**
 * Shape of the carried state: `n` segments of width `segmentWidth = D/m`,
 * `width = n·segmentWidth = D'` (PAPER.md §2). The baseline is `m = n = 1`.
 */
export interface StateLayout {
  readonly m: number;
  readonly n: number;
  readonly segmentWidth: number;
  readonly width: number;
}

/**
 * Per-forward information and sinks shared by all plugins of one forward pass.
 */
export interface ForwardContext {
  /** Rows in the batch, B. */
  readonly batch: number;
  /** Positions per row, T. */
  readonly time: number;
  /** True while computing a training loss (false in evaluation and generation). */
  readonly training: boolean;
  /**
   * Adds an auxiliary loss (already weighted) to the total; it is also logged
   * under `name`. Example: MoE load balance.
   */
  addAuxLoss(name: string, loss: tf.Scalar): void;
  /** Records a metric (no gradient flows through it); vectors are logged as arrays. */
  addMetric(name: string, value: tf.Tensor): void;
}

/** Parameter and FLOP accounting each module reports. */
export interface Accountable {
  /** Forward FLOPs per token (multiply-add = 2 FLOPs). */
  flopsPerToken(): number;
  /**
   * Parameters used per token, when fewer than all of them (MoE). Omit when
   * every parameter is active.
   */
  activeParams?(): number;
}

/** A sublayer body: `[N, D] → [N, D]`, including its own pre-norm. */
export type Sublayer = (x: tf.Tensor2D) => tf.Tensor2D;

/** Token ids → carried state H⁰. */
export interface EmbeddingModule extends Accountable {
  /** The carried-state layout this embedding produces; fixes D' for the model. */
  readonly layout: StateLayout;
  /** `ids: [N]` int32 → `H⁰: [N, D']`. */
  embed(ids: tf.Tensor1D, ctx: ForwardContext): tf.Tensor2D;
  /** A `[V, D]` table the head may tie its unembedding to, when the embedding has one. */
  readonly tiedTable?: tf.Variable | undefined;
}

/**
 * How one sublayer reads its input from the carried state and writes its output
 * back. It wraps any sublayer and never needs to know which one it is.
 */
export interface ConnectionModule extends Accountable {
  /** `state: [N, D']` → new state `[N, D']`, calling `sublayer` once on `[N, D]`. */
  apply(state: tf.Tensor2D, sublayer: Sublayer, ctx: ForwardContext): tf.Tensor2D;
}

/** A token-mixing (attention) or per-token (FFN) sublayer body at width D. */
export interface SublayerModule extends Accountable {
  /** `x: [N, D]` (already pre-normed) → `[N, D]`. */
  forward(x: tf.Tensor2D, ctx: ForwardContext): tf.Tensor2D;
}

/** Carried state → logits (the shared output head). */
export interface HeadModule extends Accountable {
  /** `state: [N, D']` → `[N, V]`. */
  logits(state: tf.Tensor2D, ctx: ForwardContext): tf.Tensor2D;
}

/** One Transformer layer: two connection-wrapped, pre-normed sublayers. */
export interface LayerModule extends Accountable {
  forward(state: tf.Tensor2D, ctx: ForwardContext): tf.Tensor2D;
}

/** What an objective sees of a forward pass. */
export interface ObjectiveInput {
  /** `[B, T + 1]` int32 rows: inputs are columns `0..T-1`, next-token targets `1..T`. */
  readonly rows: tf.Tensor2D;
  /** Final carried state of the main model, `[B·T, D']`. */
  readonly finalState: tf.Tensor2D;
  readonly ctx: ForwardContext;
}

/** What an objective adds to the loss. */
export interface ObjectiveOutput {
  /** Weighted contribution added to the total loss. */
  readonly loss: tf.Scalar;
  /** Named unweighted losses/metrics to log (e.g. `next2_loss`). */
  readonly terms: Record<string, tf.Scalar>;
}

/** An extra training objective (e.g. Multi-Token Prediction). */
export interface ObjectiveModule extends Accountable {
  compute(input: ObjectiveInput): ObjectiveOutput;
}

/**
 * Parts of the assembled model an objective may reuse (MTP reuses the
 * embedding, a layer built with the model's own connection/mixer/FFN plugins,
 * and the head).
 */
export interface ModelParts {
  readonly embedding: EmbeddingModule;
  readonly head: HeadModule;
  /** Builds a fresh layer (own parameters under `params`) from the model's own plugins. */
  createLayer(params: ParamScope, layerIndex: number): LayerModule;
}

/** Where a module sits, passed to `create`. */
export interface BuildContext {
  readonly dims: ModelDims;
  /** Parameters created here are named under this scope. */
  readonly params: ParamScope;
  /** Carried-state layout (for embeddings: the trivial `m = n = 1` layout before they define it). */
  readonly layout: StateLayout;
  /** Model seed. */
  readonly seed: number;
  /** Whether the head ties its unembedding to the embedding's table. */
  readonly tieEmbeddings: boolean;
  /** For connections and sublayers: layer index and which sublayer (0 = mixer, 1 = FFN). */
  readonly site?: { readonly layer: number; readonly sublayer: 'mixer' | 'ffn'; readonly index: number } | undefined;
  /** For heads: the model's embedding. For objectives: also the model's parts. */
  readonly embedding?: EmbeddingModule | undefined;
  readonly parts?: ModelParts | undefined;
}

/** Instance type per plugin kind. */
export interface ModuleOfKind {
  embedding: EmbeddingModule;
  connection: ConnectionModule;
  mixer: SublayerModule;
  ffn: SublayerModule;
  head: HeadModule;
  objective: ObjectiveModule;
}

/**
 * A plugin: an id, a validated config, and a factory. Plugin packages export
 * definitions and register them on import.
 *
 * @example
 * ```ts
 * const identityFfn: PluginDefinition<'ffn', {}> = {
 *   specificationVersion: 'v1', kind: 'ffn', id: 'zero', description: 'adds nothing',
 *   parseConfig: (raw, path) => { new ConfigReader(raw, path).done(); return {}; },
 *   create: () => ({ forward: (x) => tf.zerosLike(x), flopsPerToken: () => 0 }),
 * };
 * registerPlugin(identityFfn);
 * ```
 */
export interface PluginDefinition<K extends PluginKind, C = unknown> {
  readonly specificationVersion: typeof SPECIFICATION_VERSION;
  readonly kind: K;
  /** The id users write in `{"use": id}`. */
  readonly id: string;
  /** One line for `--help` and error messages. */
  readonly description: string;
  /**
   * Validates the user's section (the object holding `use`) and returns the
   * typed config with defaults filled in. Throw {@link ConfigError} naming
   * `path.field` on bad input. The result, spread into `{use, ...result}`,
   * must parse back to itself: checkpoints store it that way.
   */
  parseConfig(raw: Record<string, unknown>, path: string, dims: ModelDims): C;
  /**
   * Embedding plugins: the carried-state layout a config produces, known
   * before building (the assembler uses it to pick the default head).
   */
  stateLayout?(config: C, dims: ModelDims): StateLayout;
  /** Builds the module; parameters go under `ctx.params`. */
  create(config: C, ctx: BuildContext): ModuleOfKind[K];
}

/** Any plugin definition. */
export type AnyPluginDefinition = {
  [K in PluginKind]: PluginDefinition<K, any>;
}[PluginKind];
