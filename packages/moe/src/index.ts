/**
 * @vwn/moe: a Mixture-of-Experts SwiGLU feed-forward for vwn models
 * (PAPER.md §8). Importing the package registers the `moe` FFN plugin.
 *
 * @packageDocumentation
 */
import { registerPlugin } from '@vwn/core';
import { moeFeedForward, type MoeConfig } from './moe_feed_forward.js';

registerPlugin(moeFeedForward);

export { moeFeedForward, type MoeConfig, type MoeModule, type SwigluWeights } from './moe_feed_forward.js';
export { routeTokens, expertCapacity, type RoutingPlan } from './routing.js';
export { moeRoutingStats, layerStats, type MoeLayerStats } from './report.js';

/**
 * The `ffn` config section for the MoE FFN. Fields left out take their
 * defaults when the model is assembled (`expertHidden` depends on the model's
 * `ffnHidden`).
 *
 * @example
 * ```ts
 * const model = assembleModel({ vocabSize: 256, dModel: 64, layers: 2, heads: 4, seqLen: 64,
 *   ffn: moe({ experts: 8, topK: 2, sharedExperts: 1 }) });
 * ```
 */
export function moe(opts: Partial<MoeConfig> = {}): { use: 'moe' } & Partial<MoeConfig> {
  return { use: 'moe', ...opts };
}
