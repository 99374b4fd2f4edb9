/**
 * Zero-copy `Identity` / same-dtype `Cast` for tfjs-wasm.
 *
 * @module
 */
import type { Info, KernelFn, WasmBackend } from './types.js';

/**
 * tfjs-wasm's `Identity` and `Cast` always copy; the backward pass calls them
 * hundreds of times per step (tfjs gradients cast/clone their inputs). Tensors
 * are immutable (variables swap data ids on assign), so like tfjs-cpu and
 * wasm's own Reshape we share the data and bump its reference count instead.
 */
export function wasmShare(original: KernelFn, isCast: boolean): KernelFn {
  return (args) => {
    const { x } = args.inputs as { x: Info };
    if (x.dtype === 'string' || (isCast && args.attrs['dtype'] !== x.dtype)) return original(args);
    const backend = args.backend as WasmBackend;
    backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
  };
}
