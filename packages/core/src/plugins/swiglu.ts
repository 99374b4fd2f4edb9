import * as tf from '@tensorflow/tfjs';
import { ConfigReader } from '../validate.js';
import { fusedNn, linear, silu } from '../nn.js';
import type { PluginDefinition, SublayerModule } from '../plugin.js';

/**
 * Config of the dense SwiGLU FFN.
 *
 * @example
 * ```ts
 * const config: SwigluConfig = swigluFeedForward.parseConfig({ use: 'swiglu' }, 'ffn', dims);
 * config.hidden; // dims.ffnHidden, e.g. 176 for D = 64
 * assembleModel({ ...dims, ffn: { use: 'swiglu', hidden: 512 } });
 * ```
 */
export interface SwigluConfig {
  /**
   * Hidden width F (default: the model's `ffnHidden`).
   * PAPER.md §8: SwiGLU FFN.
   *
   * @defaultValue `ffnHidden` of the model (`ceil(8·D/3/8)·8`)
   */
  readonly hidden: number;
}

/**
 * Dense SwiGLU feed-forward: `y = (silu(x·W₁) ⊙ (x·W₃))·W₂`, no biases,
 * init N(0, 0.02) with W₂ scaled by 1/sqrt(2L) (PAPER.md §8).
 *
 * @example
 * ```json
 * { "ffn": { "use": "swiglu", "hidden": 512 } }
 * ```
 */
export const swigluFeedForward: PluginDefinition<'ffn', SwigluConfig> = {
  specificationVersion: 'v2',
  kind: 'ffn',
  id: 'swiglu',
  description: 'dense SwiGLU feed-forward at width D (baseline)',
  parseConfig(raw, path, dims) {
    const r = new ConfigReader(raw, path);
    const hidden = r.int('hidden', { default: dims.ffnHidden, min: 1 });
    r.done();
    return { hidden };
  },
  create(config, ctx): SublayerModule {
    const D = ctx.dims.dModel;
    const F = config.hidden;
    const std = 0.02;
    const w1 = ctx.params.create('w1', [D, F], { kind: 'normal', std }); // gate
    const w3 = ctx.params.create('w3', [D, F], { kind: 'normal', std }); // up
    const w2 = ctx.params.create('w2', [F, D], { kind: 'normal', std: std / Math.sqrt(2 * ctx.dims.layers) });
    return {
      forward: (x) =>
        tf.tidy(() => {
          const fused = fusedNn();
          const h = fused?.swiglu ? fused.swiglu(linear(x, w1), linear(x, w3)) : tf.mul(silu(linear(x, w1)), linear(x, w3)); // [N, F]
          return linear(h, w2); // [N, D]
        }),
      flopsPerToken: () => 6 * D * F,
    };
  },
};
