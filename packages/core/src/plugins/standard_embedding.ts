import * as tf from '@tensorflow/tfjs';
import { ConfigReader } from '../validate.js';
import type { EmbeddingModule, PluginDefinition } from '../plugin.js';

/**
 * Config of the standard embedding.
 *
 * @example
 * ```ts
 * const config: StandardEmbeddingConfig = { initStd: 0.02 };
 * assembleModel({ ...dims, embedding: { use: 'standard', ...config } });
 * ```
 */
export interface StandardEmbeddingConfig {
  /**
   * Init standard deviation (default 0.02, PAPER.md §8).
   *
   * @defaultValue `0.02`
   */
  readonly initStd: number;
}

/**
 * The baseline token embedding: a `[V, D]` table, carried state `D' = D`
 * (layout m = n = 1). Its gather gradient runs through the scatter-add
 * `UnsortedSegmentSum` kernels of @vwn/core.
 *
 * @example
 * ```json
 * { "embedding": { "use": "standard" } }
 * ```
 */
export const standardEmbedding: PluginDefinition<'embedding', StandardEmbeddingConfig> = {
  specificationVersion: 'v2',
  kind: 'embedding',
  id: 'standard',
  description: 'token table V×D; carried state width D (baseline)',
  parseConfig(raw, path) {
    const r = new ConfigReader(raw, path);
    const initStd = r.number('initStd', { default: 0.02, minExclusive: 0 });
    r.done();
    return { initStd };
  },
  stateLayout: (_config, dims) => ({ m: 1, n: 1, segmentWidth: dims.dModel, width: dims.dModel }),
  create(config, ctx): EmbeddingModule {
    const { vocabSize: V, dModel: D } = ctx.dims;
    const table = ctx.params.create('table', [V, D], { kind: 'normal', std: config.initStd }); // [V, D]
    return {
      layout: { m: 1, n: 1, segmentWidth: D, width: D },
      embed: (ids) => tf.gather(table, ids) as tf.Tensor2D, // [N] → [N, D]
      tiedTable: table,
      flopsPerToken: () => 0,
    };
  },
};
