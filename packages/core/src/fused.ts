import * as tf from '@tensorflow/tfjs';
import type { FusedNnOps } from './nn.js';
import type { FusedAdamWOps } from './train/adamw.js';

/**
 * The fused-op groups a backend package may offer, by name. Core declares
 * its own (`nn`, `adamw`); the package that defines a group's op signatures adds it by declaration
 * merging (the GHC plugin package adds `dghc`), so {@link registerFusedOps} checks what a
 * backend package registers and {@link getFusedOps} returns it typed, with no
 * assertion at the call site.
 *
 * @example
 * ```ts
 * // in the package that owns the group's signatures:
 * declare module '@vwn/core' {
 *   interface FusedOps {
 *     dghc: DghcFusedOps;
 *   }
 * }
 * ```
 */
export interface FusedOps {
  /** Core's small ops (RMSNorm, causal softmax, cross-entropy, SwiGLU gate, RoPE), each optional. */
  nn: FusedNnOps;
  /** Core's optimizer: the AdamW update and the global gradient norm. */
  adamw: FusedAdamWOps;
}

/**
 * A name of a fused-op group some imported package declared in {@link FusedOps}.
 *
 * @example
 * ```ts
 * const name: FusedOpsName = 'dghc'; // once the package that declares it is in the program
 * ```
 */
export type FusedOpsName = keyof FusedOps & string;

/** name → tfjs backend → ops: a group may have a different implementation per backend (native `wasm`, `webgpu`). */
const fused = new Map<string, Map<string, object>>();

/**
 * Registers a group without compile-time typing; for core's backend providers,
 * whose packages offer groups they cannot name in {@link FusedOps}.
 */
export function registerFusedOpsUnchecked(name: string, ops: object, backends: readonly string[]): void {
  let byBackend = fused.get(name);
  if (!byBackend) fused.set(name, (byBackend = new Map()));
  for (const b of backends) byBackend.set(b, ops);
}

/**
 * Offers fused implementations of a group of ops for some backends (e.g. a
 * WebGPU kernel package registers `'dghc'` for `webgpu`). A plugin asks with
 * {@link getFusedOps} and falls back to its own tfjs formulation when none
 * is registered for the active backend, so every other backend keeps the
 * reference path. `ops` must have the group's type in {@link FusedOps}
 * (import the owning package's types: `import type {} from '<that package>'`).
 * Each backend keeps its own implementation: registering `'dghc'` for `wasm`
 * leaves the one for `webgpu` in place; a later registration of the same name
 * and backend replaces the earlier one.
 *
 * @example
 * ```ts
 * registerFusedOps('dghc', { dghcRead, ghcWrite }, ['webgpu']);
 * ```
 */
export function registerFusedOps<K extends FusedOpsName>(name: K, ops: FusedOps[K], backends: readonly string[]): void {
  registerFusedOpsUnchecked(name, ops, backends);
}

/**
 * Withdraws every fused-op group registered for `backend` (or only `name`'s),
 * so that backend runs the plugins' reference formulations again (the
 * benchmark does this to measure a plain backend after a fused one).
 *
 * @example
 * ```ts
 * unregisterFusedOps('wasm');         // plain wasm again
 * unregisterFusedOps('wasm', 'dghc'); // only the DGHC group
 * ```
 */
export function unregisterFusedOps(backend: string, name?: FusedOpsName): void {
  for (const [n, byBackend] of fused) if (name === undefined || n === name) byBackend.delete(backend);
}

/**
 * The fused ops registered under `name` for the active tfjs backend, or
 * undefined (then the caller runs its own reference formulation).
 *
 * @example
 * ```ts
 * const ops = getFusedOps('dghc'); // DghcFusedOps | undefined
 * if (ops) return ops.ghcWrite(carried, z, bT);
 * ```
 */
export function getFusedOps<K extends FusedOpsName>(name: K): FusedOps[K] | undefined {
  // registerFusedOps typed the value for this name (providers' groups are checked by their tests).
  return fused.get(name)?.get(tf.getBackend()) as FusedOps[K] | undefined;
}
