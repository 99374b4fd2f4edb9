import * as tf from '@tensorflow/tfjs';

const fused = new Map<string, { readonly ops: object; readonly backends: readonly string[] }>();

/**
 * Offers fused implementations of a group of ops for some backends (e.g. a
 * WebGPU kernel package registers `'dghc'` for `webgpu`). A plugin asks with
 * {@link getFusedOps} and falls back to its own tfjs formulation when none
 * is registered for the active backend, so every other backend keeps the
 * reference path.
 *
 * @example
 * ```ts
 * registerFusedOps('dghc', { dghcRead, ghcWrite }, ['webgpu']);
 * ```
 */
export function registerFusedOps(name: string, ops: object, backends: readonly string[]): void {
  fused.set(name, { ops, backends });
}

/**
 * The fused ops registered under `name` for the active tfjs backend, or
 * undefined. The caller declares the shape it expects (`T`).
 *
 * @example
 * ```ts
 * const ops = getFusedOps<{ ghcWrite(c: tf.Tensor, z: tf.Tensor, bT: tf.Tensor): tf.Tensor2D }>('dghc');
 * if (ops) return ops.ghcWrite(carried, z, bT);
 * ```
 */
export function getFusedOps<T extends object>(name: string): T | undefined {
  const entry = fused.get(name);
  return entry && entry.backends.includes(tf.getBackend()) ? (entry.ops as T) : undefined;
}
