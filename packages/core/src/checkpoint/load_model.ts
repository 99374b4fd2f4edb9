import { assembleModel, type Model, type ResolvedModelConfig } from '../model.js';
import { loadPluginsFor } from '../registry.js';
import { tokenizerFromJSON, type Tokenizer, type TokenizerJSON } from '../data/tokenizer.js';
import { loadCheckpoint, restoreWeights, type LoadedCheckpoint } from './checkpoint.js';

/**
 * Rebuilds a model from a checkpoint file alone: reads and verifies it,
 * imports the plugin packages its config names, assembles the model and
 * restores its weights. With `dropObjectives` (the default for evaluation and
 * generation) extra objectives such as MTP are not built; their tensors are ignored.
 *
 * @example
 * ```ts
 * const { model, tokenizer } = await loadModelFromCheckpoint('runs/tiny/checkpoint.safetensors');
 * ```
 */
export async function loadModelFromCheckpoint(
  path: string,
  opts: { dropObjectives?: boolean } = {},
): Promise<{ model: Model; tokenizer: Tokenizer; checkpoint: LoadedCheckpoint }> {
  const checkpoint = await loadCheckpoint(path);
  const saved = checkpoint.state.config['model'] as ResolvedModelConfig;
  const config = opts.dropObjectives ?? true ? { ...saved, objectives: [] } : saved;
  await loadPluginsFor(config as unknown as Record<string, unknown>);
  const model = assembleModel(config);
  try {
    restoreWeights(checkpoint, model.params, null);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return { model, tokenizer: tokenizerFromJSON(checkpoint.state.tokenizer as TokenizerJSON), checkpoint };
}
