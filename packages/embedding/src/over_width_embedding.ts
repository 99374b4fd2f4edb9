import * as tf from '@tensorflow/tfjs';
import { ConfigReader, type EmbeddingModule, type PluginDefinition } from '@vwn/core';
import { readVirtualWidth, virtualLayout } from '@vwn/core';

/**
 * Config of the over-width embedding (resolved: always `n`, never `r`).
 *
 * @example
 * ```ts
 * const config: OverWidthEmbeddingConfig = { m: 8, n: 32, factorized: false, initStd: 0.02 };
 * ```
 */
export interface OverWidthEmbeddingConfig {
  /**
   * Fraction rate m (d_b = D/m).
   * PAPER.md §2–3. Required (no default); must divide D.
   */
  readonly m: number;
  /**
   * Segments n of the carried state (D' = n·D/m). Configs may give `r = n/m` instead.
   * PAPER.md §2–3. Required (no default), as `n` or `r`; n ≥ m.
   */
  readonly n: number;
  /**
   * `true`: base table `[V, D]` then `W_expand: [D, D']`; `false` (default): wide table `[V, D']`.
   * PAPER.md §3.
   *
   * @defaultValue `false`
   */
  readonly factorized: boolean;
  /**
   * Init standard deviation of the table (default 0.02, PAPER.md §3).
   *
   * @defaultValue `0.02`
   */
  readonly initStd: number;
}

/**
 * Over-width embedding (OWE, PAPER.md §3): `H'⁰ = reshape(e_token, [n, d_b])`
 * with `e_token ∈ R^{D'}`, returned as `[N, D']` with the `n` segments
 * contiguous (reshape to `[N, n, d_b]` for the segment view).
 *
 * - wide (default): `E ∈ R^{V×D'}` (parameter `table`), `e_token = E[token]`;
 * - `factorized: true`: `E_base ∈ R^{V×D}` (`table`) and `W_expand ∈ R^{D×D'}`
 *   (`expand`), `e_token = E_base[token] · W_expand`.
 *
 * Decision (PAPER.md §3): both forms are supported, wide is the default; tables
 * start at N(0, initStd²) with initStd = 0.02. Our choice (the paper is silent):
 * `W_expand` starts at N(0, 1/D) so `e_token` has the same scale as a wide row.
 * Lookups go through `tf.gather`, whose gradient is the scatter-add
 * `UnsortedSegmentSum` kernel of @vwn/core (never a dense one-hot).
 *
 * `tiedTable` (for `tieEmbeddings`) is the `[V, D]` table: the base table when
 * factorized, the table itself when `n = m`; a wide `[V, D']` table cannot be tied.
 * With `n = m` this is the standard embedding with layout `{m, m}`.
 *
 * @example
 * ```ts
 * import { assembleModel } from '@vwn/core';
 * import '@vwn/embedding';
 * import '@vwn/ghc';
 * const model = assembleModel({ vocabSize: 256, dModel: 64, layers: 2, heads: 4, seqLen: 32,
 *   embedding: { use: 'over-width', m: 8, n: 32 }, connection: { use: 'dynamic-ghc' } });
 * model.layout.width; // 256 = D' = (32/8)·64
 * ```
 */
export const overWidthEmbedding: PluginDefinition<'embedding', OverWidthEmbeddingConfig> = {
  specificationVersion: 'v2',
  kind: 'embedding',
  id: 'over-width',
  description: "over-width token table V×D' (or factorized V×D then D→D'); state of n segments of width D/m",
  parseConfig(raw, path, dims) {
    const r = new ConfigReader(raw, path);
    const { m, n } = readVirtualWidth(r, dims);
    const factorized = r.bool('factorized', false);
    const initStd = r.number('initStd', { default: 0.02, minExclusive: 0 });
    r.done();
    return { m, n, factorized, initStd };
  },
  stateLayout: (config, dims) => virtualLayout(config, dims.dModel),
  // A wide state needs a head that reduces it: @vwn/ghc's (PAPER.md §6).
  defaultHead: 'over-width',
  create(config, ctx): EmbeddingModule {
    const { vocabSize: V, dModel: D } = ctx.dims;
    const layout = virtualLayout(config, D);
    const wide = layout.width; // D'
    if (!config.factorized) {
      const table = ctx.params.create('table', [V, wide], { kind: 'normal', std: config.initStd }); // E: [V, D']
      return {
        layout,
        embed: (ids) => tf.gather(table, ids) as tf.Tensor2D, // [N] → [N, D']
        tiedTable: wide === D ? table : undefined,
        flopsPerToken: () => 0,
      };
    }
    const table = ctx.params.create('table', [V, D], { kind: 'normal', std: config.initStd }); // E_base: [V, D]
    const expand = ctx.params.create('expand', [D, wide], { kind: 'normal', std: 1 / Math.sqrt(D) }); // W_expand: [D, D']
    return {
      layout,
      // [N] → [N, D] → [N, D']
      embed: (ids) => tf.tidy(() => tf.matMul(tf.gather(table, ids) as tf.Tensor2D, expand)),
      tiedTable: table,
      flopsPerToken: () => 2 * D * wide,
    };
  },
};
