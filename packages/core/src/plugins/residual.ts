import * as tf from '@tensorflow/tfjs';
import { ConfigReader } from '../validate.js';
import { ConfigError } from '../errors.js';
import type { ConnectionModule, PluginDefinition } from '../plugin.js';

/**
 * Config of the residual connection (no fields).
 *
 * @example
 * ```ts
 * const config: ResidualConfig = residualConnection.parseConfig({ use: 'residual' }, 'connection', dims); // {}
 * residualConnection.parseConfig({ use: 'residual', m: 2 }, 'connection', dims); // throws ConfigError 'connection.m: unknown field; allowed here: (none)'
 * ```
 */
export type ResidualConfig = Record<string, never>;

/**
 * The baseline connection: `h ← h + T(h)` (pre-norm residual). Requires the
 * carried state to be exactly D wide (standard embedding).
 *
 * @example
 * ```json
 * { "connection": { "use": "residual" } }
 * ```
 */
export const residualConnection: PluginDefinition<'connection', ResidualConfig> = {
  specificationVersion: 'v2',
  kind: 'connection',
  id: 'residual',
  description: "plain residual stream h + T(h) (baseline; needs D' = D)",
  parseConfig(raw, path, dims, ctx) {
    new ConfigReader(raw, path).done();
    checkWidth(dims.dModel, ctx.layout.width, path, `the "${ctx.embedding}" embedding`);
    return {};
  },
  create(_config, ctx): ConnectionModule {
    const D = ctx.dims.dModel;
    checkWidth(D, ctx.layout.width, 'connection', 'the embedding');
    return {
      // state: [N, D] → [N, D]
      apply: (state, sublayer) => tf.tidy(() => tf.add(state, sublayer(state))),
      flopsPerToken: () => D,
    };
  },
};

function checkWidth(D: number, width: number, path: string, embedding: string): void {
  if (width === D) return;
  throw new ConfigError(
    `${path}.use`,
    `"residual" needs a carried state of width D = ${D}, but ${embedding} produces D' = ${width}; use a connection that reads a wide state (the embedding plugin's package provides one)`,
  );
}
