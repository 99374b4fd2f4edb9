/**
 * `VwnBlasDghcRead` (wasm): the fused DGHC read on the native addon.
 *
 * @module
 */
import type { Blas } from '../native.js';
import type { Info, KernelFn, WasmBackend } from './types.js';

/** Kernel name of the fused DGHC read on `wasm`. */
export const VWN_BLAS_DGHC_READ = 'VwnBlasDghcRead';

/**
 * Inputs `{state [N, n·d_b], w, gain, scaleAlpha, scaleBeta, read, carry, write}`, attrs
 * `{m, n, eps}`; outputs `[x [N, m·d_b], carried [N, n·d_b], bT [N, n, m], c [N, n, 2m+n]]`
 * (`c`, the tanh coefficients, is kept for the backward pass).
 */
export function dghcReadKernel(blas: Blas): KernelFn {
  return ({ inputs, attrs, backend }) => {
    const be = backend as WasmBackend;
    const { state, w, gain, scaleAlpha, scaleBeta, read, carry, write } = inputs as Record<string, Info>;
    const m = attrs['m'] as number;
    const n = attrs['n'] as number;
    const eps = attrs['eps'] as number;
    const N = state!.shape[0]!;
    const db = state!.shape[1]! / n;
    const outs = [
      be.makeOutput([N, m * db], 'float32'),
      be.makeOutput([N, n * db], 'float32'),
      be.makeOutput([N, n, m], 'float32'),
      be.makeOutput([N, n, 2 * m + n], 'float32'),
    ];
    const v = (t: Info) => be.typedArrayFromHeap(t); // views after every allocation (the heap may grow)
    blas.dghcRead(
      N,
      m,
      n,
      db,
      eps,
      v(state!),
      v(w!),
      v(gain!),
      v(scaleAlpha!),
      v(scaleBeta!),
      v(read!),
      v(carry!),
      v(write!),
      v(outs[0]!),
      v(outs[1]!),
      v(outs[2]!),
      v(outs[3]!),
    );
    return outs;
  };
}
