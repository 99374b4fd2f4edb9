import * as tf from '@tensorflow/tfjs';
import {
  ConfigError,
  ConfigReader,
  createUnembedding,
  rmsNorm,
  type ConnectionModule,
  type EmbeddingModule,
  type HeadModule,
  type PluginDefinition,
  type PluginSection,
} from '@vwn/core';
import { checkLayout, createGeneralizedHyperConnection } from './generalized_hyper_connection.js';

/**
 * Config of the `hyper-connections` connection.
 *
 * @example
 * ```ts
 * const config: HyperConnectionsConfig = { n: 4, dynamic: true };
 * ```
 */
export interface HyperConnectionsConfig {
  /**
   * Expansion rate n: number of D-wide streams.
   * PAPER.md §11. Taken from the embedding's layout (`stream-copies`'s n) when
   * not written; when written, must match it.
   */
  readonly n: number;
  /**
   * Dynamic HC (DHC, default) or static HC (SHC).
   * PAPER.md §11.
   *
   * @defaultValue `true`
   */
  readonly dynamic: boolean;
}

/**
 * Hyper-Connections (HC, PAPER.md §11): GHC with m = 1 over n streams of width
 * D, with HC's own init and dynamic form:
 *
 * - the read vector of sublayer k is one-hot `e_{k mod n}` (`read`, Å);
 *   k counts wrapped sublayers (attention and FFN each count, `ctx.site.index`);
 * - `carry` Â = I_n, `write` B = 1_{1×n};
 * - dynamic scales s_α, s_β are scalars initialized to 0.01;
 * - the dynamic norm is LayerNorm over each stream (gain 1, bias 0, eps 1e-6).
 *
 * Everything else is GHC (PAPER.md §5), including τ = sqrt(D/m) = sqrt(D),
 * which §11 does not list as a difference. Needs the `stream-copies`
 * embedding (or any layout with m = 1 and the same n).
 *
 * @example
 * ```json
 * { "embedding": { "use": "stream-copies", "n": 4 },
 *   "connection": { "use": "hyper-connections", "n": 4 },
 *   "head": { "use": "stream-sum" } }
 * ```
 */
export const hyperConnectionsConnection: PluginDefinition<'connection', HyperConnectionsConfig> = {
  specificationVersion: 'v2',
  kind: 'connection',
  id: 'hyper-connections',
  description: 'hyper-connections (HC): n streams of width D, one-hot read e_{k mod n}, scalar dynamic scales 0.01, LayerNorm',
  parseConfig(raw, path, _dims, ctx) {
    const r = new ConfigReader(raw, path);
    const n = r.int('n', { default: ctx.layout.n, min: 1 });
    const dynamic = r.bool('dynamic', true);
    r.done();
    return { n, dynamic };
  },
  create(config, ctx): ConnectionModule {
    checkLayout(ctx.layout, 1, config.n, ctx.dims.dModel);
    const k = ctx.site.index;
    return createGeneralizedHyperConnection(ctx.params, {
      m: 1,
      n: config.n,
      dModel: ctx.dims.dModel,
      dynamic: config.dynamic,
      readSegment: () => k % config.n,
      scales: { shape: 'scalar', init: 0.01 },
      norm: 'layer',
    });
  },
};

/**
 * Config of the `frac-connections` connection.
 *
 * @example
 * ```ts
 * const config: FracConnectionsConfig = { m: 4, dynamic: true };
 * ```
 */
export interface FracConnectionsConfig {
  /**
   * Fraction rate m; the state stays D wide (n = m).
   * PAPER.md §4 (n = m). Required (no default); must divide D.
   */
  readonly m: number;
  /**
   * Dynamic (default, DGHC) or static (GHC).
   * PAPER.md §5.
   *
   * @defaultValue `true`
   */
  readonly dynamic: boolean;
}

/**
 * Frac-Connections: GHC with n = m (r = 1, PAPER.md §4), i.e. the D-wide state
 * split into m fractions. Runs on the standard embedding (any D-wide state);
 * identical to `ghc` / `dynamic-ghc` with `{m, n: m}`.
 *
 * @example
 * ```json
 * { "connection": { "use": "frac-connections", "m": 4 } }
 * ```
 */
export const fracConnectionsConnection: PluginDefinition<'connection', FracConnectionsConfig> = {
  specificationVersion: 'v2',
  kind: 'connection',
  id: 'frac-connections',
  description: 'frac-connections: (dynamic) GHC with n = m on a D-wide state',
  parseConfig(raw, path, dims) {
    const r = new ConfigReader(raw, path);
    const m = r.int('m', { min: 1 });
    if (dims.dModel % m !== 0) throw new ConfigError(r.field('m'), `must divide dModel = ${dims.dModel}, got ${m}`);
    const dynamic = r.bool('dynamic', true);
    r.done();
    return { m, dynamic };
  },
  create(config, ctx): ConnectionModule {
    checkLayout(ctx.layout, config.m, config.m, ctx.dims.dModel);
    return createGeneralizedHyperConnection(ctx.params, {
      m: config.m,
      n: config.m,
      dModel: ctx.dims.dModel,
      dynamic: config.dynamic,
      readSegment: (i) => i,
      scales: { shape: 'matrix', init: 1 },
      norm: 'rms',
    });
  },
};

/**
 * Config of the `stream-copies` embedding.
 *
 * @example
 * ```ts
 * const config: StreamCopiesConfig = { n: 4, initStd: 0.02 };
 * ```
 */
export interface StreamCopiesConfig {
  /**
   * Number of streams n.
   * PAPER.md §11. Required (no default).
   */
  readonly n: number;
  /**
   * Init standard deviation of the table (default 0.02).
   *
   * @defaultValue `0.02`
   */
  readonly initStd: number;
}

/**
 * HC's initial state (PAPER.md §11): n copies of the standard embedding,
 * `H⁰ = [e_token, …, e_token]` as `[N, n·D]` (layout m = 1, d_b = D). The
 * table `[V, D]` (`table`) can be tied to the unembedding.
 *
 * @example
 * ```json
 * { "embedding": { "use": "stream-copies", "n": 4 } }
 * ```
 */
export const streamCopiesEmbedding: PluginDefinition<'embedding', StreamCopiesConfig> = {
  specificationVersion: 'v2',
  kind: 'embedding',
  id: 'stream-copies',
  description: 'n copies of a V×D token table (hyper-connections initial state; m = 1)',
  parseConfig(raw, path) {
    const r = new ConfigReader(raw, path);
    const n = r.int('n', { min: 1 });
    const initStd = r.number('initStd', { default: 0.02, minExclusive: 0 });
    r.done();
    return { n, initStd };
  },
  stateLayout: (config, dims) => ({ m: 1, n: config.n, segmentWidth: dims.dModel, width: config.n * dims.dModel }),
  defaultHead: 'over-width',
  create(config, ctx): EmbeddingModule {
    const { vocabSize: V, dModel: D } = ctx.dims;
    const table = ctx.params.create('table', [V, D], { kind: 'normal', std: config.initStd }); // [V, D]
    return {
      layout: { m: 1, n: config.n, segmentWidth: D, width: config.n * D },
      embed: (ids) => tf.tidy(() => tf.tile(tf.gather(table, ids), [1, config.n]) as tf.Tensor2D), // [N] → [N, D] → [N, n·D]
      tiedTable: table,
      flopsPerToken: () => 0,
    };
  },
};

/**
 * Config of the `stream-sum` head (no fields).
 *
 * @example
 * ```ts
 * const config: StreamSumHeadConfig = {}; // {"head": {"use": "stream-sum"}}
 * ```
 */
export type StreamSumHeadConfig = Record<string, never>;

/**
 * HC's output head (PAPER.md §11): sum the D-wide streams of the state, then
 * final RMSNorm and unembedding: `logits = Unembed(RMSNorm(Σ_j H'_j))`. Needs
 * D' to be a multiple of D.
 *
 * @example
 * ```json
 * { "head": { "use": "stream-sum" } }
 * ```
 */
export const streamSumHead: PluginDefinition<'head', StreamSumHeadConfig> = {
  specificationVersion: 'v2',
  kind: 'head',
  id: 'stream-sum',
  description: 'sum of the D-wide streams, final RMSNorm, unembedding (hyper-connections head)',
  parseConfig(raw, path) {
    new ConfigReader(raw, path).done();
    return {};
  },
  create(_config, ctx): HeadModule {
    const { dModel: D } = ctx.dims;
    const wide = ctx.layout.width;
    if (wide % D !== 0) throw new ConfigError('head.use', `"stream-sum" needs D' to be a multiple of D = ${D}, got D' = ${wide}; use "over-width"`);
    const streams = wide / D;
    const gain = ctx.params.create('norm.gain', [D], { kind: 'ones' }, { decay: false });
    const unembed = createUnembedding(ctx);
    return {
      // [N, n·D] → [N, n, D] → Σ streams → [N, D] → [N, V]
      logits: (state) => tf.tidy(() => unembed.apply(rmsNorm(tf.sum(state.reshape([state.shape[0], streams, D]), 1), gain) as tf.Tensor2D)),
      flopsPerToken: () => (streams - 1) * D + 4 * D + unembed.flopsPerToken(),
    };
  },
};

/**
 * Config sections a preset returns, to spread into a model config.
 *
 * @example
 * ```ts
 * const preset: ConnectionPreset = hyperConnections({ n: 4 });
 * assembleModel({ vocabSize: 256, dModel: 64, layers: 2, heads: 4, seqLen: 32, ...preset });
 * ```
 */
export type ConnectionPreset = {
  /** The `embedding` section. */
  readonly embedding: PluginSection;
  /** The `connection` section. */
  readonly connection: PluginSection;
  /** The `head` section. */
  readonly head: PluginSection;
};

/**
 * Hyper-Connections preset (PAPER.md §11): `stream-copies` embedding,
 * `hyper-connections` connection, `stream-sum` head.
 *
 * @param opts `n` streams (HC's best: 4); `dynamic` (default true) for DHC
 * @example
 * ```ts
 * import '@vwn/ghc';
 * const model = assembleModel({ vocabSize: 256, dModel: 64, layers: 2, heads: 4, seqLen: 32, ...hyperConnections({ n: 4 }) });
 * ```
 */
export function hyperConnections(opts: { n: number; dynamic?: boolean }): ConnectionPreset {
  return {
    embedding: { use: 'stream-copies', n: opts.n },
    connection: { use: 'hyper-connections', dynamic: opts.dynamic ?? true }, // n: the embedding's
    head: { use: 'stream-sum' },
  };
}

/**
 * Frac-Connections preset: the standard embedding and head (the state stays D
 * wide) with the `frac-connections` connection (GHC with n = m).
 *
 * @param opts fraction rate `m`; `dynamic` (default true)
 * @example
 * ```ts
 * import '@vwn/ghc';
 * const model = assembleModel({ vocabSize: 256, dModel: 64, layers: 2, heads: 4, seqLen: 32, ...fracConnections({ m: 4 }) });
 * ```
 */
export function fracConnections(opts: { m: number; dynamic?: boolean }): ConnectionPreset {
  return {
    embedding: { use: 'standard' },
    connection: { use: 'frac-connections', m: opts.m, dynamic: opts.dynamic ?? true },
    head: { use: 'lm' },
  };
}

/**
 * Options of the {@link virtualWidth} preset.
 *
 * @example
 * ```ts
 * const opts: VirtualWidthOptions = { m: 4, n: 16 }; // r = 4, dynamic GHC
 * ```
 */
export interface VirtualWidthOptions {
  /** Fraction rate m (PAPER.md §2); must divide D. */
  readonly m: number;
  /** Segments n ≥ m of the carried state (D' = n·D/m). */
  readonly n: number;
  /**
   * Dynamic GHC (`dynamic-ghc`, default) or static GHC (`ghc`).
   *
   * @defaultValue `true`
   */
  readonly dynamic?: boolean;
  /**
   * Factorized over-width embedding (`[V, D]` table then `W_expand`) instead of the wide table.
   *
   * @defaultValue `false`
   */
  readonly factorized?: boolean;
}

/**
 * Virtual Width Network preset (PAPER.md §2–6): the `over-width` embedding
 * (from @vwn/embedding, which must be loaded too) with `{m, n}`, the
 * (dynamic) GHC connection, which takes its layout from the embedding, and
 * the `over-width` head. One place says `m` and `n`.
 *
 * @param opts `m`, `n`; `dynamic` (default true); `factorized` (default false)
 * @example
 * ```ts
 * import '@vwn/embedding';
 * import '@vwn/ghc';
 * const model = assembleModel({ vocabSize: 256, dModel: 64, layers: 2, heads: 4, seqLen: 32, ...virtualWidth({ m: 4, n: 16 }) });
 * model.layout.width; // 256 = D' = (16/4)·64
 * ```
 */
export function virtualWidth(opts: VirtualWidthOptions): ConnectionPreset {
  return {
    embedding: { use: 'over-width', m: opts.m, n: opts.n, ...(opts.factorized ? { factorized: true } : {}) },
    connection: { use: (opts.dynamic ?? true) ? 'dynamic-ghc' : 'ghc' },
    head: { use: 'over-width' },
  };
}
