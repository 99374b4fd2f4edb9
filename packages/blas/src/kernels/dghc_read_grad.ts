/**
 * `VwnBlasDghcReadGrad` (wasm): backward of the fused DGHC read on the native addon.
 *
 * @module
 */
import type { Blas } from '../native.js';
import type { Info, KernelFn, WasmBackend } from './types.js';

/** Kernel name of the fused DGHC read's backward pass on `wasm`. */
export const VWN_BLAS_DGHC_READ_GRAD = 'VwnBlasDghcReadGrad';

/**
 * Inputs `{dx, dcarried, dbT, state, c, w, gain, scaleAlpha, scaleBeta, read, carry}`, attrs
 * `{m, n, eps}`; outputs the gradients `[state, w, gain, scaleAlpha, scaleBeta, read, carry, write]`.
 */
export function dghcReadGradKernel(blas: Blas): KernelFn {
  return ({ inputs, attrs, backend }) => {
    const be = backend as WasmBackend;
    const i = inputs as Record<string, Info>;
    const m = attrs['m'] as number;
    const n = attrs['n'] as number;
    const eps = attrs['eps'] as number;
    const N = i['state']!.shape[0]!;
    const db = i['state']!.shape[1]! / n;
    const shapes = ['state', 'w', 'gain', 'scaleAlpha', 'scaleBeta', 'read', 'carry'].map((k) => i[k]!.shape as number[]);
    const outs = [...shapes, [m, n]].map((s) => be.makeOutput(s, 'float32'));
    const v = (t: Info) => be.typedArrayFromHeap(t);
    blas.dghcReadGrad(
      N,
      m,
      n,
      db,
      eps,
      v(i['dx']!),
      v(i['dcarried']!),
      v(i['dbT']!),
      v(i['state']!),
      v(i['c']!),
      v(i['w']!),
      v(i['gain']!),
      v(i['scaleAlpha']!),
      v(i['scaleBeta']!),
      v(i['read']!),
      v(i['carry']!),
      ...(outs.map(v) as [Float32Array, Float32Array, Float32Array, Float32Array, Float32Array, Float32Array, Float32Array, Float32Array]),
    );
    return outs;
  };
}
