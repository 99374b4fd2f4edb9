// A complete connection plugin for vwn: ReZero (Bachlechner et al., 2020).
//
//   h ← h + α·T(h)        α: one learned scalar per sublayer, initialized to `init` (default 0)
//
// With α = 0 every layer starts as the identity; with `init: 1` it is exactly the
// residual baseline. Walked through in docs/architecture.md ("Writing a plugin");
// tested in packages/core/test/example_plugin.test.ts.
import * as tf from '@tensorflow/tfjs';
import { ConfigError, ConfigReader, registerPlugin, type ConnectionModule, type PluginDefinition } from '@vwn/core';

/** Config of the `rezero` connection, with every default filled in. */
export interface RezeroConfig {
  /** Initial value of each sublayer's gate α (default 0: every layer starts as the identity). */
  readonly init: number;
}

export const rezeroConnection: PluginDefinition<'connection', RezeroConfig> = {
  specificationVersion: 'v2',
  kind: 'connection',
  id: 'rezero',
  description: 'ReZero residual h + α·T(h) with a learned scalar gate α per sublayer',

  // Validate the user's JSON section; errors name the field (`connection.init`).
  parseConfig(raw, path) {
    const r = new ConfigReader(raw, path);
    const config = { init: r.number('init', { default: 0 }) };
    r.done(); // unknown fields → ConfigError listing the allowed ones
    return config;
  },

  create(config, ctx): ConnectionModule {
    const D = ctx.dims.dModel;
    if (ctx.layout.width !== D) {
      throw new ConfigError('connection.use', `"rezero" needs a D-wide state (${D}), the embedding makes ${ctx.layout.width}`);
    }
    // Named `layers.<l>.<mixer|ffn>_connection.alpha`, seeded by name, never weight-decayed.
    const alpha = ctx.params.create('alpha', [1], { kind: 'values', values: [config.init] }, { decay: false });
    return {
      // state: [N, D] → state + α·T(state): [N, D]
      apply: (state, sublayer) => tf.tidy(() => tf.add(state, tf.mul(alpha, sublayer(state)))),
      flopsPerToken: () => 2 * D, // one multiply and one add per element
    };
  },
};

// Importing this module makes `{ "connection": { "use": "rezero" } }` valid in any config.
registerPlugin(rezeroConnection);
