/**
 * `Transpose` on the native addon for tfjs-wasm, and its permutation planner.
 *
 * @module
 */
import type { Blas } from '../native.js';
import type { Info, KernelFn, WasmBackend } from './types.js';

/**
 * How the native `Transpose` kernel runs a permutation: as `[B, R, C, E] → [B, C, R, E]`
 * (swap two neighbouring blocks of axes, moving `E` contiguous elements at a time),
 * after dropping size-1 axes and merging input axes that stay adjacent in the output.
 * That covers 2-D transposes, batched ones (`[0, 2, 1]`), attention's `[0, 2, 1, 3]`
 * and identities; null for the rest (a full 3-axis reversal…), which tfjs-wasm runs.
 *
 * @param shape - input shape.
 * @param perm - output axis i is input axis `perm[i]`.
 * @returns `[B, R, C, E]`, or null.
 * @example
 * ```ts
 * planTranspose([65536, 32], [1, 0]);          // [1, 65536, 32, 1]
 * planTranspose([8, 256, 4, 64], [0, 2, 1, 3]); // [8, 256, 4, 64]
 * planTranspose([8, 1, 256, 4, 64], [0, 3, 1, 2, 4]); // [8, 256, 4, 64] (size-1 axis dropped)
 * planTranspose([2, 3, 4], [2, 1, 0]);          // null
 * ```
 */
export function planTranspose(shape: readonly number[], perm: readonly number[]): [number, number, number, number] | null {
  // Input axes longer than 1, renumbered; in output order, runs of consecutive ones merge into blocks.
  const kept = [...shape.keys()].filter((a) => shape[a] !== 1);
  const blocks: number[][] = [];
  for (const a of perm.filter((x) => shape[x] !== 1).map((x) => kept.indexOf(x))) {
    const last = blocks[blocks.length - 1];
    if (last && last[last.length - 1]! + 1 === a) last.push(a);
    else blocks.push([a]);
  }
  // q[i]: input position of the block at output position i; d[k]: size of the k-th block in input order.
  const byInput = [...blocks].sort((x, y) => x[0]! - y[0]!);
  const q = blocks.map((b) => byInput.indexOf(b));
  const d = byInput.map((b) => b.reduce((acc, a) => acc * shape[kept[a]!]!, 1));
  switch (q.join(',')) {
    case '':
      return [1, 1, 1, 1];
    case '0':
      return [1, 1, 1, d[0]!];
    case '1,0':
      return [1, d[0]!, d[1]!, 1];
    case '0,2,1':
      return [d[0]!, d[1]!, d[2]!, 1];
    case '1,0,2':
      return [1, d[0]!, d[1]!, d[2]!];
    case '0,2,1,3':
      return [d[0]!, d[1]!, d[2]!, d[3]!];
    default:
      return null;
  }
}

/** `Transpose` on the native addon for 4-byte dtypes whose permutation {@link planTranspose} maps (layout-preserving ones share the data); else tfjs-wasm's. */
export function wasmTranspose(blas: Blas, original: KernelFn): KernelFn {
  return (args) => {
    const { x } = args.inputs as { x: Info };
    const perm = (args.attrs['perm'] as number[] | undefined) ?? [...x.shape.keys()].reverse();
    if ((x.dtype !== 'float32' && x.dtype !== 'int32') || perm.length !== x.shape.length) return original(args);
    const plan = planTranspose(x.shape, perm);
    // A permutation that moves only size-1 axes (e.g. tfjs's gather gradient transposes the
    // [N, D'] embedding gradient with perm [0, 1], twice per step) keeps the memory layout:
    // share the data, as wasm's Reshape does (tensors are immutable).
    if (plan && plan[0] === 1 && plan[1] === 1 && plan[2] === 1) {
      const backend = args.backend as WasmBackend;
      backend.incRef(x.dataId);
      return { dataId: x.dataId, shape: perm.map((a) => x.shape[a]!), dtype: x.dtype };
    }
    // Small planes (e.g. GHC's per-token [32, 32]) stay on tfjs-wasm, whose XNNPACK transpose is faster there.
    if (!plan || plan[1] * plan[2] * plan[3] <= 4096) return original(args);
    const backend = args.backend as WasmBackend;
    const out = backend.makeOutput(
      perm.map((a) => x.shape[a]!),
      x.dtype,
    );
    const n = x.shape.reduce((a, b) => a * b, 1);
    if (n === 0) return out;
    const f32 = (v: Float32Array) => new Float32Array(v.buffer, v.byteOffset, n); // int32 bits travel unchanged
    const xv = backend.typedArrayFromHeap(x); // after makeOutput, which may grow the heap
    blas.transpose(f32(xv), f32(backend.typedArrayFromHeap(out)), ...plan);
    return out;
  };
}
