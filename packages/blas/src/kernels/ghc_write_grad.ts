/**
 * `VwnBlasGhcWriteGrad` (wasm): backward of the GHC write on the native addon.
 *
 * @module
 */
import type { Blas } from '../native.js';
import type { Info, KernelFn, WasmBackend } from './types.js';

/** Kernel name of the fused GHC write's backward pass on `wasm`. */
export const VWN_BLAS_GHC_WRITE_GRAD = 'VwnBlasGhcWriteGrad';

/** Inputs `{dy [N, n·d_b], z [N, m·d_b], bT [N, n, m]}`; outputs `[dz, dbT]`. */
export function ghcWriteGradKernel(blas: Blas): KernelFn {
  return ({ inputs, backend }) => {
    const be = backend as WasmBackend;
    const { dy, z, bT } = inputs as Record<string, Info>;
    const [N, n, m] = bT!.shape as [number, number, number];
    const db = z!.shape[1]! / m;
    const outs = [be.makeOutput([N, m * db], 'float32'), be.makeOutput([N, n, m], 'float32')];
    const v = (t: Info) => be.typedArrayFromHeap(t);
    blas.ghcWriteGrad(N, m, n, db, v(dy!), v(z!), v(bT!), v(outs[0]!), v(outs[1]!));
    return outs;
  };
}
