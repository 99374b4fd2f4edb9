/**
 * @vwn/kernels-gpu: the `webgpu` backend for vwn in Node (Dawn +
 * tfjs-backend-webgpu) and fused GHC / DGHC kernels.
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

import { fusedAdamW, fusedGlobalNorm } from './ops/adamw.js';
import { dghcRead } from './ops/dghc_read.js';
import { fusedCausalSoftmax, fusedCrossEntropy, fusedRmsNorm, fusedSwiGlu } from './ops/fused_nn.js';
import { ghcWrite } from './ops/ghc_write.js';
import { useWebGpu } from './runtime.js';
import { GPU_KERNEL_CONFIGS } from './register_all.js';

export { gpuCounters, diffGpuCounters, installGpuCounters } from './counters.js';
export type { GpuCounters } from './counters.js';
export { useWebGpu, probeWebGpu, WebGpuUnavailableError, WEBGPU_INSTALL_HINT } from './runtime.js';
export type { UseWebGpuOptions, WebGpuAdapterChoice, WebGpuAdapterSummary } from './runtime.js';
export { dghcRead, fusedAvailable } from './ops/dghc_read.js';
export { ghcWrite } from './ops/ghc_write.js';
export { fusedAdamW, fusedGlobalNorm } from './ops/adamw.js';
export type { AdamWEntry, AdamWStep } from './ops/adamw.js';
export { fusedRmsNorm, fusedCausalSoftmax, fusedCrossEntropy, fusedSwiGlu } from './ops/fused_nn.js';
export * from './kernels/fused_nn_webgpu.js';
export { webgpuInternals, rawPipeline, recordDispatch, tensorBuffer, dispatchGrid } from './kernels/raw_dispatch.js';
export type { WebGpuInternals } from './kernels/raw_dispatch.js';
export { dghcReadReference, ghcWriteReference, DGHC_NORM_EPS } from './ops/reference.js';
export type { DghcParams, DghcReadResult } from './ops/reference.js';
export { registerGpuKernels, GPU_KERNEL_CONFIGS, GPU_GRADIENT_CONFIGS } from './register_all.js';
export * from './kernels/kernel_names.js';
export { dghcReadProgram, dghcReadPackedWidth } from './kernels/dghc_read_webgpu.js';

core.registerBackendProvider('webgpu', async () => {
  await useWebGpu({ log: (line) => process.stderr.write(line + '\n') });
  process.stderr.write(
    `webgpu: fused kernels in use: ${GPU_KERNEL_CONFIGS.map((k) => k.kernelName).join(', ')} (deterministic scatter-add; DGHC read and GHC write for dynamic-ghc)\n`,
  );
  return 'webgpu';
});

// Offer the fused DGHC ops to @vwn/ghc (used while the webgpu backend is active).
core.registerFusedOps('dghc', { dghcRead, ghcWrite }, ['webgpu']);

// Offer the fused optimizer to @vwn/core's AdamW and global gradient norm (webgpu only).
core.registerFusedOps('adamw', { fusedAdamW, fusedGlobalNorm }, ['webgpu']);

// Offer the fused RMSNorm / causal softmax / cross-entropy / SwiGLU gate to @vwn/core's nn, attention and swiglu (webgpu only).
core.registerFusedOps('nn', { rmsNorm: fusedRmsNorm, causalSoftmax: fusedCausalSoftmax, crossEntropy: fusedCrossEntropy, swiglu: fusedSwiGlu }, ['webgpu']);
