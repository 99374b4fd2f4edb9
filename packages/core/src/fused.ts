import * as tf from '@tensorflow/tfjs';

/**
 * The fused-op groups a backend package may offer, by name. Empty in core:
 * the package that defines a group's op signatures adds it by declaration
 * merging (`@vwn/ghc` adds `dghc`), so {@link registerFusedOps} checks what a
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
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled by declaration merging in other packages
export interface FusedOps {}

/**
 * A name of a fused-op group some imported package declared in {@link FusedOps}.
 *
 * @example
 * ```ts
 * const name: FusedOpsName = 'dghc'; // once @vwn/ghc's types are in the program
 * ```
 */
export type FusedOpsName = keyof FusedOps & string;

const fused = new Map<FusedOpsName, { readonly ops: FusedOps[FusedOpsName]; readonly backends: readonly string[] }>();

/**
 * Offers fused implementations of a group of ops for some backends (e.g. a
 * WebGPU kernel package registers `'dghc'` for `webgpu`). A plugin asks with
 * {@link getFusedOps} and falls back to its own tfjs formulation when none
 * is registered for the active backend, so every other backend keeps the
 * reference path. `ops` must have the group's type in {@link FusedOps}
 * (import the owning package's types, e.g. `import type {} from '@vwn/ghc'`).
 * A later registration of the same name replaces the earlier one.
 *
 * @example
 * ```ts
 * registerFusedOps('dghc', { dghcRead, ghcWrite }, ['webgpu']);
 * ```
 */
export function registerFusedOps<K extends FusedOpsName>(name: K, ops: FusedOps[K], backends: readonly string[]): void {
  fused.set(name, { ops, backends });
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
  const entry = fused.get(name);
  // The map is keyed by name and registerFusedOps typed the value for that name.
  return entry && entry.backends.includes(tf.getBackend()) ? (entry.ops as FusedOps[K]) : undefined;
}
