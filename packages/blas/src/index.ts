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
  BLAS_BACKENDS,
  BLAS_KERNELS,
  type EnableOptions,
  type EnableResult,
} from './install.js';
export { blasOptionsFromEnv, resolveKernelSwitches, type KernelSwitches } from './options.js';
export { planMatMul, type MatMulPlan } from './kernels/mat_mul.js';
export { planTranspose } from './kernels/transpose.js';
export { planSum } from './kernels/sum.js';
export { nativeDghcRead, nativeGhcWrite, dghcFusedOps, registerDghcKernels, type DghcFusedOps, type NativeDghcParams } from './ops/dghc.js';
export { nativeBackend } from './backend.js';
