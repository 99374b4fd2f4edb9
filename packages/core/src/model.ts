import * as tf from '@tensorflow/tfjs';
// eslint-disable-next-line @typescript-eslint/no-unused-vars -- for the {@link MemoryLimitError} in TSDoc
import { ConfigError, type MemoryLimitError } from './errors.js';
import { crossEntropy, rmsNorm, sumTensors } from './nn.js';
import { ParameterStore, type ParamScope } from './params.js';
import type {
  BuildContext,
  BuildContextOf,
  ConnectionModule,
  Disposable,
  EmbeddingModule,
  ForwardContext,
  HeadModule,
  LayerModule,
  ModelDims,
  ModelParts,
  ObjectiveModule,
  PluginDefinition,
  PluginKind,
  StateLayout,
  SublayerModule,
} from './plugin.js';
import { getPlugin, listPlugins } from './registry.js';
import { checkModelSize } from './memory.js';
import { ConfigReader, describe } from './validate.js';
import './plugins/register_builtin.js';

/**
 * A plugin choice in a config: `{ "use": id, ...fields }`.
 *
 * @example
 * ```ts
 * const ffn: PluginSection = { use: 'swiglu', hidden: 512 };
 * const model = assembleModel({ vocabSize: 256, dModel: 128, layers: 4, heads: 4, seqLen: 128, ffn });
 * model.config.ffn; // { use: 'swiglu', hidden: 512 }
 * ```
 */
export interface PluginSection {
  /** The plugin id, e.g. `"swiglu"`. */
  readonly use: string;
  /** The plugin's own fields, validated by its `parseConfig`. */
  readonly [field: string]: unknown;
}

/**
 * The model part of a config, plain JSON. Plugin sections default to the
 * baseline (`standard` embedding, `residual` connection, `attention` mixer,
 * `swiglu` FFN, and the `lm` head — or the embedding plugin's `defaultHead`
 * when it makes the state wider than D).
 *
 * @example
 * ```ts
 * const cfg: ModelConfig = { vocabSize: 256, dModel: 64, layers: 2, heads: 4, seqLen: 32,
 *   connection: { use: 'residual' } };
 * ```
 */
export interface ModelConfig {
  /** Vocabulary size V. Required; run configs take it from the tokenizer. */
  readonly vocabSize: number;
  /** Backbone width D every sublayer runs at (PAPER.md §2). Required. */
  readonly dModel: number;
  /** Transformer layers L. Required. */
  readonly layers: number;
  /** Attention heads; must divide `dModel` (the `attention` mixer also needs D/heads even, for RoPE). Required. */
  readonly heads: number;
  /** Training context length T. Required. */
  readonly seqLen: number;
  /**
   * Dense FFN hidden width; default ≈ 8/3·D rounded up to a multiple of 8.
   *
   * @defaultValue `ceil(8·dModel/3/8)·8` (176 for D = 64)
   */
  readonly ffnHidden?: number;
  /**
   * Tie unembedding to the embedding table (default false, PAPER.md §6).
   *
   * @defaultValue `false`
   */
  readonly tieEmbeddings?: boolean;
  /**
   * Seed of every parameter init (default 0).
   *
   * @defaultValue `0`
   */
  readonly seed?: number;
  /**
   * Embedding plugin; fixes the carried width D' (PAPER.md §3).
   *
   * @defaultValue `{ use: 'standard' }`
   */
  readonly embedding?: PluginSection;
  /**
   * Connection plugin wrapping every sublayer (PAPER.md §4–5, §11).
   *
   * @defaultValue `{ use: 'residual' }`
   */
  readonly connection?: PluginSection;
  /**
   * Token-mixing sublayer (PAPER.md §8).
   *
   * @defaultValue `{ use: 'attention' }`
   */
  readonly mixer?: PluginSection;
  /**
   * Feed-forward sublayer (PAPER.md §8).
   *
   * @defaultValue `{ use: 'swiglu' }`
   */
  readonly ffn?: PluginSection;
  /**
   * Output head (PAPER.md §6).
   *
   * @defaultValue `{ use: 'lm' }`, or the embedding plugin's `defaultHead` when its D' differs from D
   */
  readonly head?: PluginSection;
  /**
   * Extra training objectives, e.g. Multi-Token Prediction (PAPER.md §7).
   *
   * @defaultValue `[]`
   */
  readonly objectives?: readonly PluginSection[];
}

/**
 * Keys of {@link ModelConfig}; anything else at model level is an error.
 *
 * @example
 * ```ts
 * const { train, data, ...rest } = JSON.parse(text) as Record<string, unknown>;
 * const unknown = Object.keys(rest).filter((k) => !(MODEL_CONFIG_KEYS as readonly string[]).includes(k));
 * // MODEL_CONFIG_KEYS: vocabSize, dModel, layers, heads, seqLen, ffnHidden, tieEmbeddings, seed,
 * //                    embedding, connection, mixer, ffn, head, objectives
 * ```
 */
export const MODEL_CONFIG_KEYS = [
  'vocabSize',
  'dModel',
  'layers',
  'heads',
  'seqLen',
  'ffnHidden',
  'tieEmbeddings',
  'seed',
  'embedding',
  'connection',
  'mixer',
  'ffn',
  'head',
  'objectives',
] as const;

/**
 * Parameter and FLOP accounting of one component.
 *
 * @example
 * ```ts
 * const model = assembleModel({ vocabSize: 256, dModel: 64, layers: 2, heads: 4, seqLen: 32 });
 * const rows: AccountingRow[] = model.accounting();
 * rows[0]; // { component: 'embedding', plugin: 'standard', params: 16384, activeParams: 16384, flopsPerToken: 0 }
 * ```
 */
export interface AccountingRow {
  /** Parameter scope, e.g. `layers.0.mixer` or `head`. */
  readonly component: string;
  /** Plugin id that built it (or `rmsnorm` for the pre-norms). */
  readonly plugin: string;
  /** Parameters under the component's scope. */
  readonly params: number;
  /** Parameters used per token (≤ params; differs for MoE). */
  readonly activeParams: number;
  /** Forward FLOPs per token. */
  readonly flopsPerToken: number;
}

/**
 * Losses and metrics of one forward pass. All tensors are owned by the caller.
 *
 * @example
 * ```ts
 * const { total, terms, metrics }: LossResult = model.loss(rows, { training: false });
 * console.log(total.dataSync()[0], Object.keys(terms)); // ≈ 5.55 (ln 256) at init, ['loss']
 * tf.dispose([total, ...Object.values(terms), ...Object.values(metrics)]);
 * ```
 */
export interface LossResult {
  /** Next-token loss + objective contributions + auxiliary losses. */
  readonly total: tf.Scalar;
  /** Named scalar losses (`loss` = next-token CE, objective terms, aux losses). */
  readonly terms: Record<string, tf.Scalar>;
  /** Named metrics reported by plugins (scalars or vectors). */
  readonly metrics: Record<string, tf.Tensor>;
}

/**
 * A {@link ForwardContext} that also hands back what plugins reported.
 *
 * @example
 * ```ts
 * const ctx: CollectingForwardContext = createForwardContext(2, 16, true);
 * ctx.addAuxLoss('balance', tf.scalar(0.5));
 * ctx.addAuxLoss('balance', tf.scalar(0.25));
 * ctx.auxLosses().balance; // scalar 0.75 (summed per name)
 * ctx.dispose();
 * ```
 */
export interface CollectingForwardContext extends ForwardContext {
  /** Auxiliary losses reported so far, summed per name (new tensors, owned by the caller). */
  auxLosses(): Record<string, tf.Scalar>;
  /** Metrics reported so far, averaged over the layers that reported the same name (new tensors). */
  metrics(): Record<string, tf.Tensor>;
  /** Frees the reported tensors the context kept. */
  dispose(): void;
}

/**
 * Creates a {@link ForwardContext} that collects auxiliary losses and metrics.
 * Plugins report from inside their own `tf.tidy` scopes (a sublayer runs inside
 * its connection's), so the context `tf.keep`s what it receives until
 * {@link CollectingForwardContext.dispose}; gradients still flow through the
 * kept auxiliary losses.
 *
 * @example
 * ```ts
 * const ctx = createForwardContext(2, 16, true);
 * ctx.addMetric('x', tf.scalar(1));
 * ctx.metrics().x; // tensor 1
 * ctx.dispose();
 * ```
 */
export function createForwardContext(batch: number, time: number, training: boolean): CollectingForwardContext {
  const aux: Record<string, tf.Scalar[]> = {};
  const reported: Record<string, tf.Tensor[]> = {};
  return {
    batch,
    time,
    training,
    addAuxLoss(name, loss) {
      (aux[name] ??= []).push(tf.keep(loss));
    },
    addMetric(name, value) {
      (reported[name] ??= []).push(tf.keep(value));
    },
    auxLosses() {
      return Object.fromEntries(Object.entries(aux).map(([k, v]) => [k, sumTensors(v) as tf.Scalar]));
    },
    metrics() {
      return Object.fromEntries(Object.entries(reported).map(([k, v]) => [k, v.length === 1 ? tf.clone(v[0]!) : tf.div(sumTensors(v), v.length)]));
    },
    dispose() {
      tf.dispose([...Object.values(aux).flat(), ...Object.values(reported).flat()]);
    },
  };
}

/**
 * A config section resolved to its plugin: kind, id and the parsed config.
 *
 * @example
 * ```ts
 * const { resolved } = resolveModelConfig({ vocabSize: 256, dModel: 64, layers: 2, heads: 4, seqLen: 32 });
 * const ffn: Resolved = resolved['ffn']!;
 * ffn.id;     // 'swiglu'
 * ffn.config; // { hidden: 176 }
 * ```
 */
export interface Resolved {
  /** The section's plugin kind. */
  readonly kind: PluginKind;
  /** The plugin id (`use`). */
  readonly id: string;
  /** What the plugin's `parseConfig` returned (defaults filled in). */
  readonly config: unknown;
}

/**
 * The config after validation: every section resolved to a plugin with its
 * defaults filled in. This is what checkpoints store.
 *
 * @example
 * ```ts
 * const cfg: ResolvedModelConfig = resolveModelConfig({ vocabSize: 256, dModel: 64, layers: 2, heads: 4, seqLen: 32 }).resolvedConfig;
 * cfg.ffnHidden;  // 176
 * cfg.connection; // { use: 'residual' }
 * cfg.embedding;  // { use: 'standard', initStd: 0.02 }
 * const again = assembleModel(cfg); // a resolved config is itself a valid ModelConfig
 * ```
 */
export interface ResolvedModelConfig extends ModelDims {
  /**
   * Whether the head ties its unembedding to the embedding table (PAPER.md §6).
   *
   * @defaultValue `false`
   */
  readonly tieEmbeddings: boolean;
  /**
   * Seed of every parameter init.
   *
   * @defaultValue `0`
   */
  readonly seed: number;
  /**
   * Resolved embedding section.
   *
   * @defaultValue `{ use: 'standard', initStd: 0.02 }`
   */
  readonly embedding: PluginSection;
  /**
   * Resolved connection section.
   *
   * @defaultValue `{ use: 'residual' }`
   */
  readonly connection: PluginSection;
  /**
   * Resolved mixer section.
   *
   * @defaultValue `{ use: 'attention', ropeBase: 10000 }`
   */
  readonly mixer: PluginSection;
  /**
   * Resolved FFN section.
   *
   * @defaultValue `{ use: 'swiglu', hidden: ffnHidden }`
   */
  readonly ffn: PluginSection;
  /**
   * Resolved head section.
   *
   * @defaultValue `{ use: 'lm' }` (the embedding plugin's `defaultHead` for a wide state)
   */
  readonly head: PluginSection;
  /**
   * Resolved objective sections.
   *
   * @defaultValue `[]`
   */
  readonly objectives: readonly PluginSection[];
}

/** One pre-normed, connection-wrapped Transformer layer (core-owned). */
class TransformerLayer implements LayerModule {
  constructor(
    private readonly mixerNorm: tf.Variable,
    private readonly mixer: SublayerModule,
    private readonly mixerConnection: ConnectionModule,
    private readonly ffnNorm: tf.Variable,
    private readonly ffn: SublayerModule,
    private readonly ffnConnection: ConnectionModule,
    private readonly dModel: number,
  ) {}

  forward(state: tf.Tensor2D, ctx: ForwardContext): tf.Tensor2D {
    // H ← conn(H, x ↦ mixer(RMSNorm(x))); H ← conn(H, x ↦ ffn(RMSNorm(x)))
    const afterMixer = this.mixerConnection.apply(state, (x) => this.mixer.forward(rmsNorm(x, this.mixerNorm) as tf.Tensor2D, ctx), ctx);
    const out = this.ffnConnection.apply(afterMixer, (x) => this.ffn.forward(rmsNorm(x, this.ffnNorm) as tf.Tensor2D, ctx), ctx);
    afterMixer.dispose();
    return out;
  }

  flopsPerToken(): number {
    return this.mixer.flopsPerToken() + this.ffn.flopsPerToken() + this.mixerConnection.flopsPerToken() + this.ffnConnection.flopsPerToken() + 8 * this.dModel;
  }

  dispose(): void {
    for (const m of [this.mixer, this.mixerConnection, this.ffn, this.ffnConnection]) m.dispose?.();
  }
}

/**
 * A decoder-only Transformer assembled from plugins. Holds its parameters in
 * a {@link ParameterStore}; call {@link Model.dispose} when done.
 *
 * @example
 * ```ts
 * const model = assembleModel({ vocabSize: 256, dModel: 64, layers: 2, heads: 4, seqLen: 32 });
 * const rows = tf.randomUniform([4, 33], 0, 256, 'int32') as tf.Tensor2D;
 * const { total } = model.loss(rows, { training: true });
 * ```
 */
export class Model {
  readonly params: ParameterStore;
  readonly layout: StateLayout;
  readonly embedding: EmbeddingModule;
  readonly layers: readonly LayerModule[];
  readonly head: HeadModule;
  readonly objectives: ReadonlyArray<{ readonly id: string; readonly module: ObjectiveModule }>;
  private readonly rows: Array<{ component: string; plugin: string; module: { flopsPerToken(): number; activeParams?(): number } }> = [];

  /** Every module built for this model (objectives' layers included), for {@link Model.dispose}. */
  private readonly built: Disposable[] = [];

  constructor(
    readonly config: ResolvedModelConfig,
    resolved: Record<string, Resolved>,
    objectiveSections: Resolved[],
  ) {
    const dims: ModelDims = config;
    this.params = new ParameterStore(config.seed);
    const trivial: StateLayout = { m: 1, n: 1, segmentWidth: config.dModel, width: config.dModel };
    const base = (params: ParamScope): BuildContext => ({
      dims,
      seed: config.seed,
      tieEmbeddings: config.tieEmbeddings,
      layout: this.layout ?? trivial,
      params,
    });
    const build = <K extends PluginKind>(kind: K, ctx: BuildContextOf<K>, id = resolved[kind]!.id, config_ = resolved[kind]!.config, field?: string) => {
      const module = getPlugin(kind, id, field).create(config_, ctx);
      this.built.push(module);
      return module;
    };

    this.embedding = build('embedding', base(this.params.scope('embedding')));
    this.track('embedding', resolved['embedding']!.id, this.embedding);
    this.layout = this.embedding.layout;

    const createLayer = (scope: ParamScope, l: number, track: boolean): LayerModule => {
      const at = (name: string, sublayer: 'mixer' | 'ffn') => ({
        ...base(scope.scope(name)),
        site: { layer: l, sublayer, index: 2 * l + (sublayer === 'ffn' ? 1 : 0) },
      });
      const gain = (name: string) => scope.create(`${name}.gain`, [config.dModel], { kind: 'ones' }, { decay: false });
      const mixerNorm = gain('mixer_norm');
      const mixer = build('mixer', at('mixer', 'mixer'));
      const mixerConnection = build('connection', at('mixer_connection', 'mixer'));
      const ffnNorm = gain('ffn_norm');
      const ffn = build('ffn', at('ffn', 'ffn'));
      const ffnConnection = build('connection', at('ffn_connection', 'ffn'));
      if (track) {
        const p = scope.prefix;
        const norm = { flopsPerToken: () => 4 * config.dModel };
        this.track(`${p}.mixer_norm`, 'rmsnorm', norm);
        this.track(`${p}.mixer`, resolved['mixer']!.id, mixer);
        this.track(`${p}.mixer_connection`, resolved['connection']!.id, mixerConnection);
        this.track(`${p}.ffn_norm`, 'rmsnorm', norm);
        this.track(`${p}.ffn`, resolved['ffn']!.id, ffn);
        this.track(`${p}.ffn_connection`, resolved['connection']!.id, ffnConnection);
      }
      return new TransformerLayer(mixerNorm, mixer, mixerConnection, ffnNorm, ffn, ffnConnection, config.dModel);
    };

    const layers: LayerModule[] = [];
    for (let l = 0; l < config.layers; l++) layers.push(createLayer(this.params.scope(`layers.${l}`), l, true));
    this.layers = layers;

    this.head = build('head', { ...base(this.params.scope('head')), embedding: this.embedding });
    this.track('head', resolved['head']!.id, this.head);

    const parts: ModelParts = { embedding: this.embedding, head: this.head, createLayer: (scope, l) => createLayer(scope, l, false) };
    this.objectives = objectiveSections.map((o, i) => {
      const scope = this.params.scope(objectiveSections.length === 1 ? `objectives.${o.id}` : `objectives.${i}.${o.id}`);
      const module = build('objective', { ...base(scope), embedding: this.embedding, parts }, o.id, o.config, `objectives[${i}].use`);
      this.track(scope.prefix, o.id, module);
      return { id: o.id, module };
    });
  }

  private track(component: string, plugin: string, module: { flopsPerToken(): number; activeParams?(): number }) {
    this.rows.push({ component, plugin, module });
  }

  /**
   * Runs embedding and layers. `ids: [B, T]` int32 → final state `[B·T, D']`;
   * with `collectStates`, also the state after the embedding and after every layer.
   */
  forward(ids: tf.Tensor2D, ctx: ForwardContext, opts: { collectStates?: boolean } = {}): { state: tf.Tensor2D; states: tf.Tensor2D[] } {
    const [B, T] = ids.shape;
    const states: tf.Tensor2D[] = [];
    const flat = ids.reshape([B * T]) as tf.Tensor1D;
    let state = this.embedding.embed(flat, ctx); // [N, D']
    flat.dispose();
    if (opts.collectStates) states.push(state);
    for (const layer of this.layers) {
      const next = layer.forward(state, ctx); // [N, D']
      if (!opts.collectStates) state.dispose();
      state = next;
      if (opts.collectStates) states.push(state);
    }
    return { state, states };
  }

  /**
   * Next-token logits `[B·T, V]` for `ids: [B, T]` (no objectives run; the
   * path used by evaluation and generation).
   */
  logits(ids: tf.Tensor2D): tf.Tensor2D {
    const ctx = createForwardContext(ids.shape[0], ids.shape[1], false);
    const logits = tf.tidy(() => this.head.logits(this.forward(ids, ctx).state, ctx));
    ctx.dispose();
    return logits;
  }

  /**
   * Full loss on `rows: [B, T + 1]` int32 (inputs = columns 0..T-1, targets =
   * columns 1..T). With `objectives: false` only the next-token loss is computed.
   */
  loss(rows: tf.Tensor2D, opts: { training: boolean; objectives?: boolean }): LossResult {
    const [B, W] = rows.shape;
    const T = W - 1;
    const ctx = createForwardContext(B, T, opts.training);
    const terms: Record<string, tf.Scalar> = {};
    const metrics: Record<string, tf.Tensor> = {};
    const total = tf.tidy(() => {
      const ids = tf.slice(rows, [0, 0], [B, T]) as tf.Tensor2D;
      const targets = tf.slice(rows, [0, 1], [B, T]).reshape([B * T]) as tf.Tensor1D;
      const { state } = this.forward(ids, ctx);
      const logits = this.head.logits(state, ctx); // [N, V]
      const main = crossEntropy(logits, targets, null);
      terms['loss'] = tf.keep(tf.clone(main)); // owned separately from `total`
      let sum: tf.Scalar = main;
      if (opts.objectives ?? true) {
        for (const { module } of this.objectives) {
          const out = module.compute({ rows, finalState: state, ctx });
          for (const [k, v] of Object.entries(out.terms)) terms[k] = tf.keep(v);
          sum = tf.add(sum, out.loss);
        }
      }
      for (const [k, v] of Object.entries(ctx.auxLosses())) {
        terms[k] = tf.keep(v);
        sum = tf.add(sum, v);
      }
      for (const [k, v] of Object.entries(ctx.metrics())) metrics[k] = tf.keep(v);
      return sum;
    });
    ctx.dispose();
    return { total, terms, metrics };
  }

  /** Parameter and FLOP accounting per component (the `vwn inspect` table). */
  accounting(): AccountingRow[] {
    const rows: AccountingRow[] = this.rows.map(({ component, plugin, module }) => {
      const params = this.params.count(`${component}.`);
      return { component, plugin, params, activeParams: module.activeParams?.() ?? params, flopsPerToken: module.flopsPerToken() };
    });
    return rows;
  }

  /** Totals over {@link Model.accounting}. */
  totals(): { params: number; activeParams: number; flopsPerToken: number } {
    const rows = this.accounting();
    return {
      params: this.params.count(),
      activeParams: rows.reduce((a, r) => a + r.activeParams, 0),
      flopsPerToken: rows.reduce((a, r) => a + r.flopsPerToken, 0),
    };
  }

  /**
   * Frees everything the model holds: each module's own tensors (its
   * `dispose()`, e.g. attention's RoPE tables and causal mask) and every
   * parameter. Afterwards `tf.memory().numTensors` is back where it was
   * before {@link assembleModel}.
   */
  dispose(): void {
    for (const m of this.built.splice(0)) m.dispose?.();
    this.params.dispose();
  }
}

/**
 * Validates a plain JSON model config and builds the model. Errors are
 * {@link ConfigError}s naming the field and what is allowed; a model whose
 * weights cannot fit in memory is refused before allocating (a
 * {@link MemoryLimitError}, see {@link checkModelSize}).
 *
 * @example
 * ```ts
 * const model = assembleModel({
 *   vocabSize: 256, dModel: 128, layers: 4, heads: 4, seqLen: 128,
 *   connection: { use: 'residual' }, ffn: { use: 'swiglu' },
 * });
 * console.table(model.accounting());
 * ```
 */
export function assembleModel(config: ModelConfig): Model {
  const { resolvedConfig, resolved, objectives } = resolveModelConfig(config);
  checkModelSize(resolvedConfig, tf.getBackend() ?? 'cpu');
  return new Model(resolvedConfig, resolved, objectives);
}

/**
 * Validates a model config without building it; returns the config with every
 * default filled in (what a checkpoint stores).
 *
 * @example
 * ```ts
 * resolveModelConfig({ vocabSize: 256, dModel: 64, layers: 2, heads: 4, seqLen: 32 }).resolvedConfig.ffn;
 * // { use: 'swiglu', hidden: 176 }
 * ```
 */
export function resolveModelConfig(config: ModelConfig): {
  resolvedConfig: ResolvedModelConfig;
  resolved: Record<string, Resolved>;
  objectives: Resolved[];
} {
  const r = new ConfigReader(config as unknown as Record<string, unknown>, '');
  const vocabSize = r.int('vocabSize', { min: 2 });
  const dModel = r.int('dModel', { min: 2 });
  const layers = r.int('layers', { min: 1 });
  const heads = r.int('heads', { min: 1 });
  if (dModel % heads !== 0) throw new ConfigError('heads', `must divide dModel = ${dModel}, got ${heads}`);
  const seqLen = r.int('seqLen', { min: 1 });
  const ffnHidden = r.int('ffnHidden', { default: Math.ceil((8 * dModel) / 3 / 8) * 8, min: 1 });
  const tieEmbeddings = r.bool('tieEmbeddings', false);
  const seed = r.int('seed', { default: 0, min: 0 });
  const dims: ModelDims = { vocabSize, dModel, layers, heads, seqLen, ffnHidden };

  let layout: StateLayout = { m: 1, n: 1, segmentWidth: dModel, width: dModel };
  let embeddingId = '';
  const section = (kind: Exclude<PluginKind, 'objective'>, fallback: string): Resolved & { section: PluginSection } => {
    const raw = r.consume(kind) ?? { use: fallback };
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      throw new ConfigError(kind, `expected an object like {"use": "${fallback}"}, got ${describe(raw)}`);
    }
    const use = (raw as Record<string, unknown>)['use'];
    if (typeof use !== 'string') throw new ConfigError(`${kind}.use`, `is required: the ${kind} plugin id (a string), got ${describe(use)}`);
    const def = getPlugin(kind, use, `${kind}.use`) as PluginDefinition<PluginKind, unknown>;
    const parsed = def.parseConfig(raw as Record<string, unknown>, kind, dims, (kind === 'embedding' ? {} : { layout, embedding: embeddingId }) as never);
    return { kind, id: use, config: parsed, section: { use, ...(parsed as object) } };
  };
  // The embedding is resolved first: it fixes the layout every other section is parsed against.
  const embedding = section('embedding', 'standard');
  const embeddingDef = getPlugin('embedding', embedding.id);
  embeddingId = embedding.id;
  if (embeddingDef.stateLayout) layout = embeddingDef.stateLayout(embedding.config, dims);
  const width = layout.width;
  const wide = width !== dModel;
  const connection = section('connection', 'residual');
  const mixer = section('mixer', 'attention');
  const ffn = section('ffn', 'swiglu');
  // The head defaults to what the embedding's width needs.
  if (wide && (config as unknown as Record<string, unknown>)['head'] === undefined) {
    const fallback = embeddingDef.defaultHead;
    if (fallback === undefined) {
      throw new ConfigError(
        'head',
        `the "${embedding.id}" embedding makes a state of width D' = ${width} and names no default head; set "head" to a head that reads a wide state`,
      );
    }
    if (!listPlugins('head').some((d) => d.id === fallback)) {
      try {
        getPlugin('head', fallback, 'head');
      } catch (e) {
        throw new ConfigError(
          'head',
          `the "${embedding.id}" embedding makes a state of width D' = ${width}, so the head defaults to "${fallback}", which is not registered${e instanceof ConfigError ? ` (${e.message.replace(/^head: /, '')})` : ''}; ` +
            'load the package that provides it, or set "head" to a head that reads a wide state',
        );
      }
    }
  }
  const head = section('head', wide ? embeddingDef.defaultHead! : 'lm');

  const rawObjectives = r.consume('objectives') ?? [];
  if (!Array.isArray(rawObjectives)) throw new ConfigError('objectives', `expected an array of {"use": id, ...}, got ${describe(rawObjectives)}`);
  const objectives: Resolved[] = [];
  const objectiveSections: PluginSection[] = [];
  rawObjectives.forEach((o: unknown, i: number) => {
    const path = `objectives[${i}]`;
    if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new ConfigError(path, `expected an object like {"use": id, ...}, got ${describe(o)}`);
    const use = (o as Record<string, unknown>)['use'];
    if (typeof use !== 'string') throw new ConfigError(`${path}.use`, `is required: the objective plugin id, got ${describe(use)}`);
    const parsed = getPlugin('objective', use, `${path}.use`).parseConfig(o as Record<string, unknown>, path, dims, { layout, embedding: embeddingId });
    objectives.push({ kind: 'objective', id: use, config: parsed });
    objectiveSections.push({ use, ...(parsed as object) });
  });
  r.done();

  const resolvedConfig: ResolvedModelConfig = {
    ...dims,
    tieEmbeddings,
    seed,
    embedding: embedding.section,
    connection: connection.section,
    mixer: mixer.section,
    ffn: ffn.section,
    head: head.section,
    objectives: objectiveSections,
  };
  return { resolvedConfig, resolved: { embedding, connection, mixer, ffn, head }, objectives };
}
