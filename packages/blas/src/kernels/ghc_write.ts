/**
 * `VwnBlasGhcWrite` (wasm): the GHC write `bT·z + carried` on the native addon.
 *
 * @module
 */
import type { Blas } from '../native.js';
import type { Info, KernelFn, WasmBackend } from './types.js';

/** Kernel name of the fused GHC write on `wasm`. */
export const VWN_BLAS_GHC_WRITE = 'VwnBlasGhcWrite';

/** Inputs `{carried [N, n·d_b], z [N, m·d_b], bT [N, n, m]}`; output `[N, n·d_b]`. */
export function ghcWriteKernel(blas: Blas): KernelFn {
  return ({ inputs, backend }) => {
    const be = backend as WasmBackend;
    const { carried, z, bT } = inputs as Record<string, Info>;
    const [N, n, m] = bT!.shape as [number, number, number];
    const db = z!.shape[1]! / m;
    const out = be.makeOutput([N, n * db], 'float32');
    const v = (t: Info) => be.typedArrayFromHeap(t);
    blas.ghcWrite(N, m, n, db, v(carried!), v(z!), v(bT!), v(out));
    return out;
  };
}
