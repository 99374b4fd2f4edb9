/**
 * Axis-0 `SplitV` for tfjs-wasm as heap copies.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import type { Info, KernelFn, WasmBackend } from './types.js';

/** Axis-0 `SplitV` (MoE's split of dispatched tokens by expert): contiguous blocks, one copy each. */
export function wasmRowSplit(original: KernelFn): KernelFn {
  return (args) => {
    const { x } = args.inputs as { x: Info };
    const axis = Number(args.attrs['axis'] ?? 0);
    if ((axis !== 0 && axis !== -x.shape.length) || x.shape.length < 1 || x.dtype === 'string' || x.dtype === 'complex64') {
      return original(args);
    }
    let sizes: number[];
    try {
      sizes = tf.backend_util.prepareSplitSize(x as never, args.attrs['numOrSizeSplits'] as number | number[], 0);
    } catch {
      return original(args);
    }
    const backend = args.backend as WasmBackend;
    const row = x.shape.slice(1).reduce((a, b) => a * b, 1);
    const outs = sizes.map((n) => backend.makeOutput([n, ...x.shape.slice(1)], x.dtype));
    const xv = backend.typedArrayFromHeap(x); // after all allocations
    const heap = new Uint8Array(xv.buffer);
    const bytes = xv.BYTES_PER_ELEMENT;
    let start = xv.byteOffset;
    for (const [i, o] of outs.entries()) {
      const len = sizes[i]! * row * bytes;
      if (len > 0) heap.copyWithin(backend.typedArrayFromHeap(o).byteOffset, start, start + len);
      start += len;
    }
    return outs;
  };
}
