import * as tf from '@tensorflow/tfjs';
import { VwnError } from '../errors.js';
import type { ParameterStore } from '../params.js';
import type { AdamW } from '../train/adamw.js';
import { decodeSafetensors, encodeSafetensors, type NamedArray } from './safetensors.js';
import { newSha256 } from './hash.js';

/**
 * Format tag written into every checkpoint's metadata.
 *
 * @example
 * ```ts
 * CHECKPOINT_FORMAT; // 'vwn-checkpoint/2'
 * const { metadata } = decodeSafetensors(await trainer.checkpointBytes());
 * metadata['format'] === CHECKPOINT_FORMAT; // true for a vwn checkpoint
 * ```
 */
export const CHECKPOINT_FORMAT = 'vwn-checkpoint/2';

/** Format 1: the SHA-256 covered the tensors only (still readable). */
const LEGACY_FORMAT = 'vwn-checkpoint/1';

/**
 * Everything besides tensors a checkpoint holds (metadata key `vwn.state`, JSON).
 *
 * @example
 * ```ts
 * const state: CheckpointState = trainer.checkpointState();
 * state.trainer; // { step, tokens, batchIndex, elapsedMs }
 * const bytes = await checkpointToBytes(trainer.model.params, trainer.optimizer, state);
 * ```
 */
export interface CheckpointState {
  /** The run config with every default resolved (model, train, data). */
  readonly config: Record<string, unknown>;
  /** Tokenizer description (`{kind: 'bytes'}` or `{kind: 'chars', alphabet}`). */
  readonly tokenizer: unknown;
  /** Trainer position: completed optimizer steps, tokens seen, next batch index. */
  readonly trainer: {
    readonly step: number;
    readonly tokens: number;
    readonly batchIndex: number;
    readonly elapsedMs: number;
  };
}

/**
 * Error for a checkpoint that cannot be used (corrupt, truncated, mismatched).
 *
 * @example
 * ```ts
 * try {
 *   checkpointFromBytes(bytes, 'upload.safetensors');
 * } catch (e) {
 *   if (e instanceof CheckpointError) console.error(e.message); // 'checkpoint upload.safetensors: is truncated or corrupted: …'
 * }
 * ```
 */
export class CheckpointError extends VwnError {
  /**
   * @param path the checkpoint file
   * @param reason what is wrong with it (appended to the message)
   */
  constructor(path: string, reason: string) {
    super(`checkpoint ${path}: ${reason}`);
    this.name = 'CheckpointError';
  }
}

/** SHA-256 over every tensor's name and bytes (name order), then the state JSON (format 2; format 1 had no state). */
function digest(tensors: Record<string, NamedArray>, state: string | null): string {
  const h = newSha256();
  for (const name of Object.keys(tensors).sort()) {
    const t = tensors[name]!;
    h.update(name);
    h.update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  if (state !== null) {
    h.update('\u0000vwn.state\u0000');
    h.update(state);
  }
  return h.hex();
}

/**
 * Encodes model weights (named as in the {@link ParameterStore}), optimizer
 * moments (`optimizer.m.<name>`, `optimizer.v.<name>`) and the state as one
 * safetensors file in memory: the bytes `vwn train` writes to
 * `checkpoint.safetensors` (so a checkpoint made in a browser loads with
 * `vwn eval`). A SHA-256 of all tensor bytes and the state JSON goes in the
 * metadata, so an edited step or config is refused on load. To write a file,
 * use `saveCheckpoint` from `@vwn/core/node`.
 *
 * @example
 * ```ts
 * const bytes = await checkpointToBytes(model.params, optimizer, state);
 * const url = URL.createObjectURL(new Blob([bytes])); // a download link in a page
 * ```
 */
export async function checkpointToBytes(params: ParameterStore, optimizer: AdamW | null, state: CheckpointState): Promise<Uint8Array> {
  const tensors: Record<string, NamedArray> = {};
  const put = async (name: string, t: tf.Tensor) => {
    tensors[name] = { dtype: 'F32', shape: [...t.shape], data: (await t.data()) as Float32Array };
  };
  for (const p of params.list()) await put(p.name, p.variable);
  if (optimizer) {
    for (const [name, t] of optimizer.m) await put(`optimizer.m.${name}`, t);
    for (const [name, t] of optimizer.v) await put(`optimizer.v.${name}`, t);
  }
  const stateJson = JSON.stringify({ ...state, optimizerStep: optimizer?.step ?? 0 });
  const metadata = {
    format: CHECKPOINT_FORMAT,
    'vwn.state': stateJson,
    'vwn.sha256': digest(tensors, stateJson),
  };
  return encodeSafetensors(tensors, metadata);
}

/**
 * A checkpoint read and verified from disk.
 *
 * @example
 * ```ts
 * const ckpt: LoadedCheckpoint = checkpointFromBytes(bytes, 'my-run.safetensors');
 * ckpt.state.optimizerStep; // AdamW updates applied
 * Object.keys(ckpt.tensors).filter((k) => !k.startsWith('optimizer.')); // weight names
 * restoreWeights(ckpt, model.params, null);
 * ```
 */
export interface LoadedCheckpoint {
  /** The file it was read from (or the `source` given to {@link checkpointFromBytes}). */
  readonly path: string;
  /** The stored state plus the AdamW step count. */
  readonly state: CheckpointState & { readonly optimizerStep: number };
  /** Weights by parameter name, and optimizer moments as `optimizer.m.<name>` / `optimizer.v.<name>`. */
  readonly tensors: Record<string, NamedArray>;
}

/**
 * Decodes and verifies checkpoint bytes: structure (strict safetensors decode),
 * format tag and SHA-256 of every tensor and of the metadata (step, config;
 * format 1 files, whose hash covered the tensors only, are still accepted). A
 * truncated or corrupted checkpoint is refused with a {@link CheckpointError}
 * naming `source`; nothing is half-loaded. To read a file, use
 * `loadCheckpoint` from `@vwn/core/node`.
 *
 * @param bytes - The checkpoint file's contents.
 * @param source - What the bytes came from, for messages (default `(bytes)`); becomes `path`.
 *
 * @example
 * ```ts
 * const ckpt = checkpointFromBytes(new Uint8Array(await file.arrayBuffer()), file.name);
 * ckpt.state.trainer.step;
 * ```
 */
export function checkpointFromBytes(bytes: Uint8Array, source = '(bytes)'): LoadedCheckpoint {
  const path = source;
  let decoded: ReturnType<typeof decodeSafetensors>;
  try {
    decoded = decodeSafetensors(bytes);
  } catch (e) {
    throw new CheckpointError(path, `is truncated or corrupted: ${(e as Error).message}`);
  }
  const { tensors, metadata } = decoded;
  const format = metadata['format'];
  if (format !== CHECKPOINT_FORMAT && format !== LEGACY_FORMAT) {
    throw new CheckpointError(path, `format is "${format ?? '(none)'}", expected "${CHECKPOINT_FORMAT}"`);
  }
  const stateJson = metadata['vwn.state'] ?? '';
  if (metadata['vwn.sha256'] !== digest(tensors, format === LEGACY_FORMAT ? null : stateJson)) {
    throw new CheckpointError(path, 'is corrupted: tensor data or metadata (step, config) do not match its SHA-256');
  }
  let state: LoadedCheckpoint['state'];
  try {
    state = JSON.parse(stateJson);
  } catch {
    throw new CheckpointError(path, 'has no readable vwn.state metadata');
  }
  return { path, state, tensors };
}

/**
 * Copies checkpoint weights into a model's parameters (and, when given, the
 * optimizer's moments). Every parameter must be present with its shape; all
 * checks run before any value is written. Extra tensors under `objectives.`
 * (e.g. MTP modules) are ignored, so an MTP checkpoint loads into a model
 * without MTP.
 *
 * @example
 * ```ts
 * restoreWeights(ckpt, model.params, optimizer);
 * ```
 */
export function restoreWeights(ckpt: LoadedCheckpoint, params: ParameterStore, optimizer: AdamW | null): void {
  const plan: Array<[tf.Variable, NamedArray]> = [];
  const need = (name: string, v: tf.Variable) => {
    const t = ckpt.tensors[name];
    if (!t) throw new CheckpointError(ckpt.path, `has no tensor "${name}" (the model config does not match this checkpoint)`);
    if (t.shape.length !== v.shape.length || t.shape.some((d: number, i: number) => d !== v.shape[i])) {
      throw new CheckpointError(ckpt.path, `tensor "${name}" has shape [${t.shape}], the model needs [${v.shape}]`);
    }
    plan.push([v, t]);
  };
  const names = new Set<string>();
  for (const p of params.list()) {
    need(p.name, p.variable);
    names.add(p.name);
  }
  for (const name of Object.keys(ckpt.tensors)) {
    if (name.startsWith('optimizer.') || name.startsWith('objectives.') || names.has(name)) continue;
    throw new CheckpointError(ckpt.path, `has tensor "${name}" that the model does not have (the model config does not match)`);
  }
  if (optimizer) {
    for (const [name, t] of optimizer.m) need(`optimizer.m.${name}`, t);
    for (const [name, t] of optimizer.v) need(`optimizer.v.${name}`, t);
  }
  tf.tidy(() => {
    for (const [v, t] of plan) v.assign(tf.tensor(t.data, t.shape, 'float32'));
  });
  if (optimizer) optimizer.step = ckpt.state.optimizerStep;
}
