import * as tf from '@tensorflow/tfjs';
import { ConfigReader } from '../validate.js';
import { ConfigError } from '../errors.js';
import { rmsNorm } from '../nn.js';
import type { HeadModule, PluginDefinition } from '../plugin.js';

/**
 * Config of the baseline head (no fields).
 *
 * @example
 * ```ts
 * const config: LmHeadConfig = lmHead.parseConfig({ use: 'lm' }, 'head', dims); // {}
 * assembleModel({ ...dims, head: { use: 'lm' }, tieEmbeddings: true });
 * ```
 */
export type LmHeadConfig = Record<string, never>;

/**
 * Baseline output head: `logits = RMSNorm(h)·Uᵀ`, with `U: [V, D]` its own table or,
 * with `tieEmbeddings`, the embedding's table. Needs `D' = D`; a wider state
 * needs a head that reads it (a wide embedding names its `defaultHead`).
 *
 * @example
 * ```json
 * { "head": { "use": "lm" } }
 * ```
 */
export const lmHead: PluginDefinition<'head', LmHeadConfig> = {
  specificationVersion: 'v2',
  kind: 'head',
  id: 'lm',
  description: "final RMSNorm + unembedding (baseline; needs D' = D)",
  parseConfig(raw, path) {
    new ConfigReader(raw, path).done();
    return {};
  },
  create(_config, ctx): HeadModule {
    const { dModel: D } = ctx.dims;
    if (ctx.layout.width !== D) {
      throw new ConfigError(
        'head.use',
        `"lm" needs a carried state of width D = ${D}, got D' = ${ctx.layout.width}; use a head that reads a wide state (the embedding plugin's package provides one)`,
      );
    }
    const unembed = createUnembedding(ctx);
    const gain = ctx.params.create('norm.gain', [D], { kind: 'ones' }, { decay: false });
    return {
      logits: (state) => tf.tidy(() => unembed.apply(rmsNorm(state, gain) as tf.Tensor2D)),
      flopsPerToken: () => 4 * D + unembed.flopsPerToken(),
    };
  },
};

/**
 * The unembedding `[N, D] → [N, V]` shared by every head: its own `[V, D]`
 * table `unembed` (N(0, 0.02)), or the embedding's table when tying is on.
 *
 * @example
 * ```ts
 * const u = createUnembedding(ctx); const logits = u.apply(h); // h: [N, D]
 * ```
 */
export function createUnembedding(ctx: import('../plugin.js').HeadBuildContext): {
  apply(h: tf.Tensor2D): tf.Tensor2D;
  flopsPerToken(): number;
} {
  const { dModel: D, vocabSize: V } = ctx.dims;
  let table: tf.Variable;
  if (ctx.tieEmbeddings) {
    const tied = ctx.embedding.tiedTable;
    if (!tied || tied.shape[0] !== V || tied.shape[1] !== D) {
      throw new ConfigError(
        'tieEmbeddings',
        `the embedding has no [V, D] = [${V}, ${D}] table to tie to (a wide [V, D'] table cannot be tied; use a factorized table or tieEmbeddings: false)`,
      );
    }
    table = tied;
  } else {
    table = ctx.params.create('unembed', [V, D], { kind: 'normal', std: 0.02 });
  }
  return {
    apply: (h) => tf.matMul(h, table, false, true) as tf.Tensor2D, // [N, D]·[D, V]
    flopsPerToken: () => 2 * D * V,
  };
}
