/**
 * @vwn/blas: optional native BLAS (OpenBLAS `cblas_sgemm`, Accelerate on
 * macOS) matMul kernels for TensorFlow.js's `cpu` and `wasm` backends.
 * Installing never fails: without a compiler or OpenBLAS the addon is simply
 * not built, {@link loadBlas} returns null and tfjs's kernels stay in place.
 *
 * @example
 * ```ts
 * import { useBackend } from '@vwn/core';
 * import { enableNativeBlas } from '@vwn/blas';
 * await useBackend('wasm');
 * console.log(enableNativeBlas().note);
 * ```
 *
 * @packageDocumentation
 */
export { loadBlas, blasLoadError, blasAddon, addonPath, prebuiltPlatform, PREBUILT_PLATFORMS, type Blas, type BlasAddon } from './native.js';
export {
  registerBlasKernels,
  registerWasmMatMulFix,
  unregisterBlasKernels,
  blasKernelsActive,
  enableNativeBlas,
  planMatMul,
  planTranspose,
  planSum,
  BLAS_BACKENDS,
  BLAS_KERNELS,
  type EnableOptions,
  type MatMulPlan,
} from './kernels.js';
export { nativeBackend } from './backend.js';
