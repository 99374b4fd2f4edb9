import * as tf from '@tensorflow/tfjs';
import { ConfigReader, NORM_EPS, createUnembedding, layerNorm, rmsNorm, type HeadModule, type PluginDefinition } from '@vwn/core';

/**
 * Config of the over-width head.
 *
 * @example
 * ```ts
 * const config: OverWidthHeadConfig = { groupNorm: true }; // {"head": {"use": "over-width"}}
 * ```
 */
export interface OverWidthHeadConfig {
  /**
   * GroupNorm before the reduction (default true). Applied only when D' is a
   * multiple of D (PAPER.md §6 Decision); `false` forces it off.
   *
   * @defaultValue `true`
   */
  readonly groupNorm: boolean;
}

/**
 * Over-width output head (PAPER.md §6):
 *
 *     h_L    = W_reduce · GroupNorm(H'^L)       # D' → D
 *     logits = Unembed(RMSNorm_D(h_L))
 *
 * GroupNorm normalizes r = D'/D groups of size D (mean and variance per group)
 * and has a learnable gain `[D']` (`group_norm.gain`, init 1, no decay).
 * Decision (PAPER.md §6): GroupNorm is used when D' is a multiple of D and
 * omitted otherwise (e.g. r = 1.5), `groupNorm: false` forces it off.
 * `reduce` (W_reduce, `[D', D]`, N(0, 0.02)), `norm.gain` (`[D]`) and the
 * unembedding of `createUnembedding` (own `unembed` table, or the embedding's
 * `[V, D]` table with `tieEmbeddings`; Decision: untied by default). Works for
 * D' = D too (one group), so objectives like MTP can share it.
 *
 * @example
 * ```json
 * { "embedding": { "use": "over-width", "m": 8, "n": 32 },
 *   "connection": { "use": "dynamic-ghc" },
 *   "head": { "use": "over-width", "groupNorm": true } }
 * ```
 */
export const overWidthHead: PluginDefinition<'head', OverWidthHeadConfig> = {
  specificationVersion: 'v2',
  kind: 'head',
  id: 'over-width',
  description: "GroupNorm (r groups of D) + W_reduce D'→D + RMSNorm + unembedding (VWN head)",
  parseConfig(raw, path) {
    const r = new ConfigReader(raw, path);
    const groupNorm = r.bool('groupNorm', true);
    r.done();
    return { groupNorm };
  },
  create(config, ctx): HeadModule {
    const { dModel: D } = ctx.dims;
    const wide = ctx.layout.width; // D'
    const groups = config.groupNorm && wide % D === 0 ? wide / D : 0; // r, or 0 for no GroupNorm
    const groupGain = groups ? ctx.params.create('group_norm.gain', [wide], { kind: 'ones' }, { decay: false }) : null;
    const reduce = ctx.params.create('reduce', [wide, D], { kind: 'normal', std: 0.02 }); // W_reduce
    const gain = ctx.params.create('norm.gain', [D], { kind: 'ones' }, { decay: false });
    const unembed = createUnembedding(ctx);
    return {
      logits: (state) =>
        tf.tidy(() => {
          const N = state.shape[0];
          let h: tf.Tensor2D = state; // H'^L: [N, D']
          if (groupGain) {
            // [N, D'] → [N·r, D]: normalize each D-wide group, then the [D'] gain
            h = tf.mul(layerNorm(h.reshape([N * groups, D]), null, null, NORM_EPS).reshape([N, wide]), groupGain) as tf.Tensor2D;
          }
          const reduced = tf.matMul(h, reduce); // h_L: [N, D]
          return unembed.apply(rmsNorm(reduced, gain) as tf.Tensor2D); // [N, V]
        }),
      // GroupNorm: mean, centre, square, mean, scale, gain = 6·D'
      flopsPerToken: () => (groups ? 6 * wide : 0) + 2 * wide * D + 4 * D + unembed.flopsPerToken(),
    };
  },
};
