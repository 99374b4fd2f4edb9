/**
 * Row `GatherV2` for tfjs-wasm as heap copies.
 *
 * @module
 */
import type { Info, KernelFn, WasmBackend } from './types.js';

/**
 * Row gather (`axis = 0`, `batchDims = 0`; embeddings, MoE token dispatch) as
 * one `copyWithin` per row on the wasm heap: tfjs-wasm's generic gather is
 * ≈ 30× slower for `[4096, 256]` rows. Anything else, and out-of-range
 * indices (tfjs's error message), go to the original kernel.
 */
export function wasmRowGather(original: KernelFn): KernelFn {
  return (args) => {
    const { x, indices } = args.inputs as { x: Info; indices: Info };
    const axis = Number(args.attrs['axis'] ?? 0);
    const batchDims = Number(args.attrs['batchDims'] ?? 0);
    if ((axis !== 0 && axis !== -x.shape.length) || batchDims !== 0 || x.shape.length < 1) return original(args);
    if ((x.dtype !== 'float32' && x.dtype !== 'int32') || indices.dtype !== 'int32') return original(args);
    const backend = args.backend as WasmBackend;
    const rows = x.shape[0]!;
    const row = x.shape.slice(1).reduce((a, b) => a * b, 1);
    const idx = backend.typedArrayFromHeap(indices) as unknown as Int32Array;
    const n = idx.length;
    for (let i = 0; i < n; i++) if (!(idx[i]! >= 0 && idx[i]! < rows)) return original(args);
    const out = backend.makeOutput([...indices.shape, ...x.shape.slice(1)], x.dtype);
    // `idx` is stale from here on: when makeOutput grows the wasm heap, the old buffer is
    // detached and every view on it reads as length 0 (which once returned `out` unwritten).
    if (row === 0 || n === 0) return out;
    const xv = backend.typedArrayFromHeap(x);
    const ov = backend.typedArrayFromHeap(out);
    const iv = backend.typedArrayFromHeap(indices) as unknown as Int32Array; // re-read: makeOutput may grow the heap
    const heap = new Float32Array(xv.buffer);
    const xo = xv.byteOffset / 4; // not `>> 2`: heap offsets can exceed 2^31
    const oo = ov.byteOffset / 4;
    for (let i = 0; i < iv.length; i++) {
      const src = xo + iv[i]! * row;
      heap.copyWithin(oo + i * row, src, src + row);
    }
    return out;
  };
}
