import { assembleModel, type Model, type ResolvedModelConfig } from '../model.js';
import { loadPluginsFor } from '../registry.js';
import { tokenizerFromJSON, type Tokenizer, type TokenizerJSON } from '../data/tokenizer.js';
import { checkpointFromBytes, restoreWeights, type LoadedCheckpoint } from './checkpoint.js';

/**
 * Rebuilds a model from a verified checkpoint: imports the plugin packages
 * its config names (in a bundled page, import them yourself first), assembles
 * the model and restores its weights. With `dropObjectives` (the default for
 * evaluation and generation) extra objectives such as MTP are not built; their
 * tensors are ignored.
 *
 * @example
 * ```ts
 * const { model, tokenizer } = await modelFromCheckpoint(checkpointFromBytes(bytes));
 * ```
 */
export async function modelFromCheckpoint(
  checkpoint: LoadedCheckpoint,
  opts: { dropObjectives?: boolean } = {},
): Promise<{ model: Model; tokenizer: Tokenizer; checkpoint: LoadedCheckpoint }> {
  const saved = checkpoint.state.config['model'] as ResolvedModelConfig;
  const config = (opts.dropObjectives ?? true) ? { ...saved, objectives: [] } : saved;
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

/**
 * Rebuilds a model from checkpoint bytes alone (a file the user picked, a
 * download, {@link Trainer.checkpointBytes}): verifies them, then as
 * {@link modelFromCheckpoint}. The file-path version is
 * `loadModelFromCheckpoint` in `@vwn/core/node`.
 *
 * @example
 * ```ts
 * // first import the plugin packages the checkpoint's config names (each registers on import)
 * const { model, tokenizer } = await loadModelFromCheckpointBytes(new Uint8Array(await file.arrayBuffer()), { source: file.name });
 * const ids = await sampleTokens(model, tokenizer.encode('Once'), { maxTokens: 50, seed: 1 });
 * ```
 */
export async function loadModelFromCheckpointBytes(
  bytes: Uint8Array,
  opts: { dropObjectives?: boolean; source?: string } = {},
): Promise<{ model: Model; tokenizer: Tokenizer; checkpoint: LoadedCheckpoint }> {
  return modelFromCheckpoint(checkpointFromBytes(bytes, opts.source), opts.dropObjectives === undefined ? {} : { dropObjectives: opts.dropObjectives });
}
