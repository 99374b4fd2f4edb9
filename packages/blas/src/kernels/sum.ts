/**
 * `Sum` over a middle block of axes on the native addon for tfjs-wasm, and its planner.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import type { Blas } from '../native.js';
import type { Info, KernelFn, WasmBackend } from './types.js';

/**
 * How the native `Sum` kernel runs a reduction: as `[A, R, C] → [A, C]` (sum over the
 * middle block), after dropping size-1 axes and merging neighbouring axes that are
 * both reduced or both kept. Only reductions that are not innermost (`C > 1`) are
 * planned: tfjs-wasm transposes those first, which costs more than the sum; an
 * innermost reduction (and two separate reduced blocks) returns null and stays on tfjs-wasm.
 *
 * @param shape - input shape.
 * @param axes - reduced axes (negative counts from the end).
 * @returns `[A, R, C]`, or null.
 * @example
 * ```ts
 * planSum([2048, 256], [0]);       // [1, 2048, 256]  (e.g. a gain's gradient: sum over tokens)
 * planSum([8, 4, 256, 64], [1, 2]); // [8, 1024, 64]
 * planSum([2048, 256], [1]);       // null (innermost: tfjs-wasm is fast)
 * planSum([2, 3, 4], [0, 2]);      // null (two reduced blocks)
 * ```
 */
export function planSum(shape: readonly number[], axes: readonly number[]): [number, number, number] | null {
  const red = new Set(axes.map((a) => (a < 0 ? a + shape.length : a)));
  const blocks: Array<{ reduced: boolean; size: number }> = [];
  for (const [i, d] of shape.entries()) {
    if (d === 1) continue;
    const reduced = red.has(i);
    const last = blocks[blocks.length - 1];
    if (last && last.reduced === reduced) last.size *= d;
    else blocks.push({ reduced, size: d });
  }
  const r = blocks.findIndex((b) => b.reduced);
  if (r < 0 || blocks.filter((b) => b.reduced).length !== 1) return null;
  const A = r > 0 ? blocks[r - 1]!.size : 1;
  const C = r + 1 < blocks.length ? blocks[r + 1]!.size : 1;
  if (C === 1 || blocks.length > 3) return null;
  return [A, blocks[r]!.size, C];
}

/** float32 `Sum` over a middle block of axes on the native addon ({@link planSum}); else tfjs-wasm's. */
export function wasmSum(blas: Blas, original: KernelFn): KernelFn {
  return (args) => {
    const { x } = args.inputs as { x: Info };
    if (x.dtype !== 'float32') return original(args);
    const axes = tf.util.parseAxisParam(args.attrs['axis'] as number | number[], x.shape); // throws tfjs's own errors
    const plan = planSum(x.shape, axes);
    if (!plan) return original(args);
    const keepDims = Boolean(args.attrs['keepDims']);
    const outShape = x.shape.flatMap((d, i) => (axes.includes(i) ? (keepDims ? [1] : []) : [d]));
    const backend = args.backend as WasmBackend;
    const out = backend.makeOutput(outShape, 'float32');
    const [A, R, C] = plan;
    blas.sumMiddle(backend.typedArrayFromHeap(x), backend.typedArrayFromHeap(out), A, R, C); // views after makeOutput
    return out;
  };
}
