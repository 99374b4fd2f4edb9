/**
 * @vwn/mtp: sequential Multi-Token Prediction for vwn models (PAPER.md §7).
 * Importing the package registers the `mtp` objective plugin.
 *
 * @packageDocumentation
 */
import { registerPlugin } from '@vwn/core';
import { multiTokenPrediction } from './mtp.js';

registerPlugin(multiTokenPrediction);

export { multiTokenPrediction, type MtpConfig, type MtpModule, type MtpPrediction } from './mtp.js';

/**
 * The config section for MTP, to put in a model config's `objectives`.
 *
 * @example
 * ```ts
 * const config = { ...dims, objectives: [mtp({ depth: 1, weight: 0.3 })] };
 * ```
 */
export function mtp(opts: { depth?: number; weight?: number } = {}): { use: 'mtp'; depth: number; weight: number } {
  return { use: 'mtp', depth: opts.depth ?? 1, weight: opts.weight ?? 0.3 };
}
