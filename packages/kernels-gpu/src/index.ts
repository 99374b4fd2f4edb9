/**
 * @vwn/kernels-gpu: the `webgpu` backend for vwn (tfjs-backend-webgpu on
 * `navigator.gpu` in a browser, on Dawn in Node) and fused GHC / DGHC kernels.
 * Node resolves the package to its `node` entry (Dawn); browser bundlers to
 * this one, which imports no Node built-in.
 *
 * Importing the package registers the kernels and the `webgpu` backend
 * provider with `@vwn/core`, so `useBackend('webgpu')` / `vwn train --backend webgpu` work.
 *
 * @packageDocumentation
 */
// Order matters: tfjs-backend-webgpu registers its kernels first, ours replace them.
import '@tensorflow/tfjs-backend-webgpu';
import './register_all.js';

import * as core from '@vwn/core';
import type {} from '@vwn/ghc'; // its `declare module` types the 'dghc' fused-ops group registered below

import { dghcRead } from './ops/dghc_read.js';
import { ghcWrite } from './ops/ghc_write.js';
import { platformLog, useWebGpu } from './runtime.js';
import { GPU_KERNEL_CONFIGS } from './register_all.js';

export { useWebGpu, probeWebGpu, WebGpuUnavailableError, WEBGPU_INSTALL_HINT } from './runtime.js';
export type { UseWebGpuOptions, WebGpuAdapterChoice, WebGpuAdapterSummary } from './runtime.js';
export { dghcRead, fusedAvailable } from './ops/dghc_read.js';
export { ghcWrite } from './ops/ghc_write.js';
export { registerGpuKernels, GPU_KERNEL_CONFIGS, GPU_GRADIENT_CONFIGS } from './register_all.js';
export * from './kernels/kernel_names.js';
export { dghcReadProgram, dghcReadPackedWidth } from './kernels/dghc_read_webgpu.js';

/**
 * The `webgpu` backend provider (registered with @vwn/core on import; named in
 * this package's `"vwn": {"backends": {"webgpu": "webgpuBackend"}}` manifest).
 *
 * @example
 * ```ts
 * core.registerBackendProvider('webgpu', webgpuBackend); // what importing @vwn/kernels-gpu does
 * await core.useBackend('webgpu');
 * ```
 */
export async function webgpuBackend(): Promise<string> {
  await useWebGpu({ log: platformLog });
  platformLog(
    `webgpu: fused kernels in use: ${GPU_KERNEL_CONFIGS.map((k) => k.kernelName).join(', ')} (deterministic scatter-add; DGHC read and GHC write for dynamic-ghc)`,
  );
  return 'webgpu';
}
core.registerBackendProvider('webgpu', webgpuBackend);

// Offer the fused DGHC ops to @vwn/ghc (used while the webgpu backend is active).
core.registerFusedOps('dghc', { dghcRead, ghcWrite }, ['webgpu']);
