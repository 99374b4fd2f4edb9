import type * as tf from '@tensorflow/tfjs';
import type { ParamScope } from './params.js';

/**
 * Plugin interfaces of @vwn/core, specification version `v2`.
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
 *
 * @example
 * ```ts
 * SPECIFICATION_VERSION; // 'v2'
 * listPlugins().every((d) => d.specificationVersion === SPECIFICATION_VERSION); // true
 * ```
 *
 * v2 differs from v1 in three ways (docs/architecture.md, "Migrating from
 * specification v1"): `create` gets a context typed per kind
 * ({@link BuildContextOf}); `parseConfig` gets a fourth argument with the
 * embedding's layout ({@link ParseContextOf}); modules may hold tensors and
 * free them in `dispose()` ({@link Disposable}).
 */
export const SPECIFICATION_VERSION = 'v2' as const;

/**
 * The kinds of plugin a model is assembled from.
 *
 * @example
 * ```ts
 * const kind: PluginKind = 'connection';
 * listPlugins(kind).map((d) => d.id); // ['residual'] with only @vwn/core loaded
 * ```
 */
export type PluginKind = 'embedding' | 'connection' | 'mixer' | 'ffn' | 'head' | 'objective';

/**
 * Every plugin kind, in assembly order.
 *
 * @example
 * ```ts
 * PLUGIN_KINDS; // ['embedding', 'connection', 'mixer', 'ffn', 'head', 'objective']
 * for (const kind of PLUGIN_KINDS) console.log(kind, listPlugins(kind).map((d) => d.id));
 * ```
 */
export const PLUGIN_KINDS: readonly PluginKind[] = ['embedding', 'connection', 'mixer', 'ffn', 'head', 'objective'];

/**
 * Backbone sizes shared by every plugin (validated by the assembler).
 *
 * @example
 * ```ts
 * const dims: ModelDims = { vocabSize: 256, dModel: 64, layers: 2, heads: 4, seqLen: 32, ffnHidden: 176 };
 * swigluFeedForward.parseConfig({ use: 'swiglu' }, 'ffn', dims); // { hidden: 176 }
 * const fromModel: ModelDims = model.config; // a ResolvedModelConfig is a ModelDims
 * ```
 */
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
 *
 * @example
 * ```ts
 * // a virtual-width embedding with m = 8, n = 32 at D = 64 (r = 4):
 * const layout: StateLayout = virtualLayout({ m: 8, n: 32 }, 64);
 * // { m: 8, n: 32, segmentWidth: 8, width: 256 }
 * model.layout; // the baseline's: { m: 1, n: 1, segmentWidth: D, width: D }
 * ```
 */
export interface StateLayout {
  /** Fraction rate m: segments read by every sublayer (PAPER.md §2). */
  readonly m: number;
  /** Segments n ≥ m of the carried state (PAPER.md §2). */
  readonly n: number;
  /** Segment width d_b = D/m. */
  readonly segmentWidth: number;
  /** Carried-state width D' = n·d_b = (n/m)·D. */
  readonly width: number;
}

/**
 * Per-forward information and sinks shared by all plugins of one forward pass.
 *
 * @example
 * ```ts
 * // inside a sublayer plugin's forward(x, ctx):
 * if (ctx.training) ctx.addAuxLoss('my_penalty', tf.mul(tf.mean(tf.square(x)), 1e-4) as tf.Scalar);
 * ctx.addMetric('my_rms', tf.sqrt(tf.mean(tf.square(x))));
 * const rows = ctx.batch * ctx.time; // N = x.shape[0]
 * ```
 */
export interface ForwardContext {
  /** Rows in the batch, B. */
  readonly batch: number;
  /** Positions per row, T. */
  readonly time: number;
  /** True while computing a training loss (false in evaluation and generation). */
  readonly training: boolean;
  /**
   * `[N]` 0/1: positions that carry data (absent: all of them). MTP's extra
   * passes mark the positions past a row's end (filler tokens, masked from the
   * loss) with 0; sublayers with batch-level statistics (MoE routing, capacity
   * and balance) leave those positions out.
   */
  readonly validPositions?: tf.Tensor1D | undefined;
  /**
   * Adds an auxiliary loss (already weighted) to the total; it is also logged
   * under `name`. Example: MoE load balance.
   */
  addAuxLoss(name: string, loss: tf.Scalar): void;
  /** Records a metric (no gradient flows through it); vectors are logged as arrays. */
  addMetric(name: string, value: tf.Tensor): void;
}

/**
 * Parameter and FLOP accounting each module reports.
 *
 * @example
 * ```ts
 * // a dense D×F projection: 2·D·F FLOPs per token, every parameter active
 * const proj: SublayerModule = { forward: (x) => linear(x, w), flopsPerToken: () => 2 * D * F };
 * model.layers[0]!.flopsPerToken(); // every module is Accountable
 * ```
 */
export interface Accountable {
  /** Forward FLOPs per token (multiply-add = 2 FLOPs). */
  flopsPerToken(): number;
  /**
   * Parameters used per token, when fewer than all of them (MoE). Omit when
   * every parameter is active.
   */
  activeParams?(): number;
}

/**
 * Lifecycle of a module: one that holds tensors of its own (not parameters,
 * which the model's {@link ParamScope} owns), such as attention's RoPE tables
 * and causal mask, frees them in `dispose()`. `Model.dispose()` calls it on
 * every module it built, then frees the parameters.
 *
 * @example
 * ```ts
 * const mask = tf.keep(tf.linalg.bandPart(tf.ones([T, T]), -1, 0)); // built once in create
 * const mixer: SublayerModule = {
 *   forward: (x) => causalMix(x, mask),
 *   flopsPerToken: () => 2 * T * D,
 *   dispose: () => mask.dispose(),
 * };
 * ```
 */
export interface Disposable {
  /** Frees the tensors the module holds (optional: modules that hold none omit it). */
  dispose?(): void;
}

/**
 * A sublayer body: `[N, D] → [N, D]`, including its own pre-norm.
 *
 * @example
 * ```ts
 * const double: Sublayer = (x) => tf.mul(x, 2) as tf.Tensor2D;
 * const next = connection.apply(state, double, ctx); // residual: state + 2·state
 * ```
 */
export type Sublayer = (x: tf.Tensor2D) => tf.Tensor2D;

/**
 * Token ids → carried state H⁰.
 *
 * @example
 * ```ts
 * const emb: EmbeddingModule = model.embedding;
 * const ctx = createForwardContext(1, 3, false);
 * const h0 = emb.embed(tf.tensor1d([1, 2, 3], 'int32'), ctx); // [3, D']
 * emb.layout.width; // D'
 * ```
 */
export interface EmbeddingModule extends Accountable, Disposable {
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
 *
 * @example
 * ```ts
 * // the residual connection, h ← h + T(h):
 * const residual: ConnectionModule = {
 *   apply: (state, sublayer) => tf.tidy(() => tf.add(state, sublayer(state))),
 *   flopsPerToken: () => D,
 * };
 * ```
 */
export interface ConnectionModule extends Accountable, Disposable {
  /** `state: [N, D']` → new state `[N, D']`, calling `sublayer` once on `[N, D]`. */
  apply(state: tf.Tensor2D, sublayer: Sublayer, ctx: ForwardContext): tf.Tensor2D;
}

/**
 * A token-mixing (attention) or per-token (FFN) sublayer body at width D.
 *
 * @example
 * ```ts
 * // a (useless) FFN that scales its pre-normed input:
 * const half: SublayerModule = { forward: (x) => tf.mul(x, 0.5) as tf.Tensor2D, flopsPerToken: () => D };
 * const y = half.forward(tf.ones([4, D]), ctx); // [4, D]
 * ```
 */
export interface SublayerModule extends Accountable, Disposable {
  /** `x: [N, D]` (already pre-normed) → `[N, D]`. */
  forward(x: tf.Tensor2D, ctx: ForwardContext): tf.Tensor2D;
}

/**
 * Carried state → logits (the shared output head).
 *
 * @example
 * ```ts
 * const ctx = createForwardContext(1, ids.shape[1], false);
 * const { state } = model.forward(ids, ctx);    // ids: [1, T] → state: [T, D']
 * const logits = model.head.logits(state, ctx); // [T, V]
 * ctx.dispose();
 * ```
 */
export interface HeadModule extends Accountable, Disposable {
  /** `state: [N, D']` → `[N, V]`. */
  logits(state: tf.Tensor2D, ctx: ForwardContext): tf.Tensor2D;
}

/**
 * One Transformer layer: two connection-wrapped, pre-normed sublayers.
 *
 * @example
 * ```ts
 * // inside an objective plugin's create(config, ctx): a fresh layer from the model's plugins
 * const layer: LayerModule = ctx.parts.createLayer(ctx.params.scope('layer'), ctx.dims.layers);
 * const next = layer.forward(x, fctx); // [N, D'] → [N, D']
 * ```
 */
export interface LayerModule extends Accountable, Disposable {
  /** `state: [N, D']` → new state `[N, D']` after both sublayers. */
  forward(state: tf.Tensor2D, ctx: ForwardContext): tf.Tensor2D;
}

/**
 * What an objective sees of a forward pass.
 *
 * @example
 * ```ts
 * const stateL2: ObjectiveModule = {
 *   compute: ({ rows, finalState, ctx }: ObjectiveInput): ObjectiveOutput => {
 *     const l2 = tf.mean(tf.square(finalState)) as tf.Scalar; // finalState: [B·T, D'], rows: [B, T + 1]
 *     return { loss: tf.mul(l2, 1e-4) as tf.Scalar, terms: { state_l2: l2 } };
 *   },
 *   flopsPerToken: () => 0,
 * };
 * ```
 */
export interface ObjectiveInput {
  /** `[B, T + 1]` int32 rows: inputs are columns `0..T-1`, next-token targets `1..T`. */
  readonly rows: tf.Tensor2D;
  /** Final carried state of the main model, `[B·T, D']`. */
  readonly finalState: tf.Tensor2D;
  /** The forward pass this objective runs in (batch, time, training flag, sinks). */
  readonly ctx: ForwardContext;
}

/**
 * What an objective adds to the loss.
 *
 * @example
 * ```ts
 * const out: ObjectiveOutput = module.compute({ rows, finalState, ctx });
 * out.loss;  // weighted, added to LossResult.total
 * out.terms; // e.g. { next2_loss } for MTP, logged unweighted
 * ```
 */
export interface ObjectiveOutput {
  /** Weighted contribution added to the total loss. */
  readonly loss: tf.Scalar;
  /** Named unweighted losses/metrics to log (e.g. `next2_loss`). */
  readonly terms: Record<string, tf.Scalar>;
}

/**
 * An extra training objective (e.g. Multi-Token Prediction).
 *
 * @example
 * ```ts
 * const objective: ObjectiveModule = model.objectives[0]!.module; // the first of config.objectives
 * const { loss, terms } = objective.compute({ rows, finalState, ctx });
 * ```
 */
export interface ObjectiveModule extends Accountable, Disposable {
  /** Adds this objective to the loss of one forward pass. */
  compute(input: ObjectiveInput): ObjectiveOutput;
}

/**
 * Parts of the assembled model an objective may reuse (MTP reuses the
 * embedding, a layer built with the model's own connection/mixer/FFN plugins,
 * and the head).
 *
 * @example
 * ```ts
 * // inside an objective plugin's create(config, ctx):
 * const parts: ModelParts = ctx.parts;
 * const layer = parts.createLayer(ctx.params.scope('layer'), ctx.dims.layers); // own parameters
 * const e = parts.embedding.embed(ids, fctx);               // shared embedding: [N, D']
 * const logits = parts.head.logits(layer.forward(e, fctx), fctx); // shared head: [N, V]
 * ```
 */
export interface ModelParts {
  readonly embedding: EmbeddingModule;
  readonly head: HeadModule;
  /** Builds a fresh layer (own parameters under `params`) from the model's own plugins. */
  createLayer(params: ParamScope, layerIndex: number): LayerModule;
}

/**
 * What every plugin's `create` gets (an embedding gets exactly this).
 *
 * @example
 * ```ts
 * // a mixer plugin's factory: parameters are named under ctx.params (e.g. `layers.0.mixer.w`)
 * const create = (_config: unknown, ctx: BuildContextOf<'mixer'>): SublayerModule => {
 *   const { dModel: D, layers: L } = ctx.dims;
 *   const w = ctx.params.create('w', [D, D], { kind: 'normal', std: 0.02 / Math.sqrt(2 * L) });
 *   return { forward: (x) => linear(x, w), flopsPerToken: () => 2 * D * D };
 * };
 * ```
 */
export interface BuildContext {
  readonly dims: ModelDims;
  /** Parameters created here are named under this scope. */
  readonly params: ParamScope;
  /** Carried-state layout (for embeddings: the trivial `m = n = 1` layout, before they define it). */
  readonly layout: StateLayout;
  /** Model seed. */
  readonly seed: number;
  /** Whether the head ties its unembedding to the embedding's table. */
  readonly tieEmbeddings: boolean;
}

/**
 * Where a connection or sublayer sits: layer index, which sublayer, and its
 * running index `k = 2·layer + (0 for the mixer, 1 for the FFN)`.
 *
 * @example
 * ```ts
 * const site: Site = { layer: 1, sublayer: 'ffn', index: 3 };
 * const readStream = site.index % n; // hyper-connections read e_{k mod n}
 * ```
 */
export interface Site {
  readonly layer: number;
  readonly sublayer: 'mixer' | 'ffn';
  readonly index: number;
}

/**
 * Build context of connections, mixers and FFNs: {@link BuildContext} plus
 * the (always present) {@link Site}.
 *
 * @example
 * ```ts
 * const create = (_c: unknown, ctx: SublayerBuildContext) => ctx.site.index; // 0 for layer 0's mixer
 * ```
 */
export interface SublayerBuildContext extends BuildContext {
  /** Layer index and which sublayer this module wraps or is. */
  readonly site: Site;
}

/**
 * Build context of heads: {@link BuildContext} plus the model's embedding
 * (whose `tiedTable` a tied head reuses).
 *
 * @example
 * ```ts
 * const create = (_c: unknown, ctx: HeadBuildContext) => ctx.embedding.tiedTable; // [V, D] or undefined
 * ```
 */
export interface HeadBuildContext extends BuildContext {
  /** The model's embedding. */
  readonly embedding: EmbeddingModule;
}

/**
 * Build context of objectives: the head's context plus the model's parts
 * (embedding, head, layer factory) to reuse.
 *
 * @example
 * ```ts
 * const create = (_c: unknown, ctx: ObjectiveBuildContext) =>
 *   ctx.parts.createLayer(ctx.params.scope('layer'), ctx.dims.layers); // no guard needed
 * ```
 */
export interface ObjectiveBuildContext extends HeadBuildContext {
  /** The model's parts to reuse. */
  readonly parts: ModelParts;
}

/**
 * Build context per plugin kind, the way {@link ModuleOfKind} maps kinds to
 * modules.
 *
 * @example
 * ```ts
 * type ConnectionCtx = BuildContextOf<'connection'>; // SublayerBuildContext: `site` is required
 * type ObjectiveCtx = BuildContextOf<'objective'>;   // ObjectiveBuildContext: `parts` is required
 * ```
 */
export type BuildContextOf<K extends PluginKind> = {
  embedding: BuildContext;
  connection: SublayerBuildContext;
  mixer: SublayerBuildContext;
  ffn: SublayerBuildContext;
  head: HeadBuildContext;
  objective: ObjectiveBuildContext;
}[K];

/**
 * What `parseConfig` gets besides the section, per kind: every kind but the
 * embedding gets the layout of the (already resolved) embedding, so a
 * connection can take its `m` and `n` from it instead of repeating them.
 *
 * @example
 * ```ts
 * // inside a connection's parseConfig(raw, path, dims, ctx):
 * const { m, n } = ctx.layout; // the embedding's {m, n}
 * ```
 */
export type ParseContextOf<K extends PluginKind> = K extends 'embedding' ? Record<string, never> : ParseContext;

/**
 * See {@link ParseContextOf}.
 *
 * @example
 * ```ts
 * const ctx: ParseContext = { layout: virtualLayout({ m: 4, n: 16 }, 128), embedding: 'standard' };
 * ```
 */
export interface ParseContext {
  /** The carried-state layout the config's embedding makes. */
  readonly layout: StateLayout;
  /** The embedding's plugin id (for messages). */
  readonly embedding: string;
}

/**
 * Instance type per plugin kind.
 *
 * @example
 * ```ts
 * type Mixer = ModuleOfKind['mixer']; // SublayerModule
 * const build = <K extends PluginKind>(kind: K, id: string, config: unknown, ctx: BuildContextOf<K>): ModuleOfKind[K] =>
 *   getPlugin(kind, id).create(config, ctx);
 * ```
 */
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
 *   specificationVersion: 'v2', kind: 'ffn', id: 'zero', description: 'adds nothing',
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
   * must parse back to itself: checkpoints store it that way. `ctx` holds
   * what the assembler resolved before this section ({@link ParseContextOf}).
   */
  parseConfig(raw: Record<string, unknown>, path: string, dims: ModelDims, ctx: ParseContextOf<K>): C;
  /**
   * Embedding plugins: the carried-state layout a config produces, known
   * before building (the assembler passes it to the other sections' `parseConfig`
   * and uses it to pick the default head). Omitted: the trivial D-wide layout.
   */
  stateLayout?(config: C, dims: ModelDims): StateLayout;
  /**
   * Embedding plugins: the head id a config gets when it names none and this
   * embedding's state is wider than D (a D-wide state gets core's `lm` head).
   */
  readonly defaultHead?: string;
  /** Builds the module; parameters go under `ctx.params`. */
  create(config: C, ctx: BuildContextOf<K>): ModuleOfKind[K];
}

/**
 * Any plugin definition.
 *
 * @example
 * ```ts
 * const defs: AnyPluginDefinition[] = listPlugins(); // sorted by id
 * defs.map((d) => `${d.kind}:${d.id}`);
 * // ['mixer:attention', 'head:lm', 'connection:residual', 'embedding:standard', 'ffn:swiglu'] with only @vwn/core loaded
 * ```
 */
export type AnyPluginDefinition = {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a definition of kind K with any config type (C is contravariant in create)
  [K in PluginKind]: PluginDefinition<K, any>;
}[PluginKind];
