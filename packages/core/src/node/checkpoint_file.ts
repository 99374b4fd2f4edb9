import { readFile } from 'node:fs/promises';
import type { ParameterStore } from '../params.js';
import type { AdamW } from '../train/adamw.js';
import type { Model } from '../model.js';
import type { Tokenizer } from '../data/tokenizer.js';
import { CheckpointError, checkpointFromBytes, checkpointToBytes, type CheckpointState, type LoadedCheckpoint } from '../checkpoint/checkpoint.js';
import { modelFromCheckpoint } from '../checkpoint/load_model.js';
import { writeFileAtomic } from './atomic.js';

/**
 * Writes a checkpoint file ({@link checkpointToBytes}'s bytes) atomically
 * (temp file + rename): a crash mid-write leaves the previous checkpoint intact.
 *
 * @example
 * ```ts
 * import { saveCheckpoint } from '@vwn/core/node';
 * await saveCheckpoint('runs/tiny/checkpoint.safetensors', model.params, optimizer, state);
 * ```
 */
export async function saveCheckpoint(path: string, params: ParameterStore, optimizer: AdamW | null, state: CheckpointState): Promise<void> {
  await writeFileAtomic(path, await checkpointToBytes(params, optimizer, state), { faultPoint: 'checkpoint' });
}

/**
 * Reads a checkpoint file, as {@link checkpointFromBytes} verifies bytes
 * (structure, format, SHA-256); an unreadable, truncated or corrupted file is
 * refused with a {@link CheckpointError} naming the path.
 *
 * @example
 * ```ts
 * import { loadCheckpoint } from '@vwn/core/node';
 * const ckpt = await loadCheckpoint('runs/tiny/checkpoint.safetensors');
 * ckpt.state.trainer.step;
 * ```
 */
export async function loadCheckpoint(path: string): Promise<LoadedCheckpoint> {
  return checkpointFromBytes(await readCheckpointFile(path), path);
}

/** A checkpoint file's bytes, or a CheckpointError saying why it cannot be read. */
export async function readCheckpointFile(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (e) {
    throw new CheckpointError(path, `cannot be read (${(e as Error).message})`);
  }
}

/**
 * Rebuilds a model from a checkpoint file alone: reads and verifies it,
 * imports the plugin packages its config names, assembles the model and
 * restores its weights (see {@link modelFromCheckpoint}).
 *
 * @example
 * ```ts
 * import { loadModelFromCheckpoint } from '@vwn/core/node';
 * const { model, tokenizer } = await loadModelFromCheckpoint('runs/tiny/checkpoint.safetensors');
 * ```
 */
export async function loadModelFromCheckpoint(
  path: string,
  opts: { dropObjectives?: boolean } = {},
): Promise<{ model: Model; tokenizer: Tokenizer; checkpoint: LoadedCheckpoint }> {
  return modelFromCheckpoint(await loadCheckpoint(path), opts);
}
