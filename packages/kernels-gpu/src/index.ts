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

import { fusedAdamW, fusedGlobalNorm } from './ops/adamw.js';
import { dghcRead } from './ops/dghc_read.js';
import { fusedCausalSoftmax, fusedCrossEntropy, fusedRmsNorm, fusedRopeHeads, fusedSwiGlu } from './ops/fused_nn.js';
import { ghcWrite } from './ops/ghc_write.js';
import { platformLog, useWebGpu } from './runtime.js';
import { GPU_KERNEL_CONFIGS } from './register_all.js';

export { gpuCounters, diffGpuCounters, installGpuCounters } from './counters.js';
export type { GpuCounters } from './counters.js';
export { useWebGpu, probeWebGpu, WebGpuUnavailableError, WEBGPU_INSTALL_HINT } from './runtime.js';
export type { UseWebGpuOptions, WebGpuAdapterChoice, WebGpuAdapterSummary } from './runtime.js';
export { dghcRead, fusedAvailable } from './ops/dghc_read.js';
export { ghcWrite } from './ops/ghc_write.js';
export { fusedAdamW, fusedGlobalNorm } from './ops/adamw.js';
export type { AdamWEntry, AdamWStep } from './ops/adamw.js';
export { fusedRmsNorm, fusedCausalSoftmax, fusedCrossEntropy, fusedSwiGlu, fusedRopeHeads } from './ops/fused_nn.js';
export { FUSED_NN_KERNEL_CONFIGS } from './kernels/fused_nn_webgpu.js';
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
    `webgpu: fused kernels in use: ${GPU_KERNEL_CONFIGS.map((k) => k.kernelName).join(', ')} (deterministic scatter-add; DGHC read and GHC write for dynamic-ghc); fused ops: ${[...groups].join(', ') || 'none'} (VWN_WEBGPU_FUSED)`,
  );
  return 'webgpu';
}
core.registerBackendProvider('webgpu', webgpuBackend);

// Offer the fused DGHC ops to @vwn/ghc (used while the webgpu backend is active).
core.registerFusedOps('dghc', { dghcRead, ghcWrite }, ['webgpu']);

/**
 * The fused-op groups offered to @vwn/core on `webgpu` (issue #17). All by
 * default; env `VWN_WEBGPU_FUSED` picks a subset (comma-separated, or `none`)
 * for A/B measurements: `adamw` (AdamW update + global grad norm), `rmsnorm`,
 * `softmax` (attention's scale + causal mask + softmax), `xent`
 * (cross-entropy), `swiglu` (the gate), `rope` (RoPE + head transpose).
 *
 * @example
 * ```ts
 * FUSED_OP_GROUPS; // ['adamw', 'rmsnorm', 'softmax', 'xent', 'swiglu', 'rope']
 * ```
 */
export const FUSED_OP_GROUPS = ['adamw', 'rmsnorm', 'softmax', 'xent', 'swiglu', 'rope'] as const;

function enabledGroups(): Set<string> {
  const raw = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.['VWN_WEBGPU_FUSED'];
  if (raw === undefined || raw.trim() === '' || raw === 'all') return new Set(FUSED_OP_GROUPS);
  const picked = raw === 'none' ? [] : raw.split(',').map((s) => s.trim());
  const bad = picked.filter((g) => !(FUSED_OP_GROUPS as readonly string[]).includes(g));
  if (bad.length > 0)
    throw new Error(`VWN_WEBGPU_FUSED: unknown group(s) ${bad.join(', ')}; allowed: all, none, or a comma list of ${FUSED_OP_GROUPS.join(', ')}`);
  return new Set(picked);
}

// Offer the fused optimizer and small-op kernels to @vwn/core's AdamW / grad norm, nn (rmsNorm,
// crossEntropy), attention and swiglu (webgpu only; other backends keep the tfjs formulation).
const groups = enabledGroups();
if (groups.has('adamw')) core.registerFusedOps('adamw', { fusedAdamW, fusedGlobalNorm }, ['webgpu']);
core.registerFusedOps(
  'nn',
  {
    ...(groups.has('rmsnorm') ? { rmsNorm: fusedRmsNorm } : {}),
    ...(groups.has('softmax') ? { causalSoftmax: fusedCausalSoftmax } : {}),
    ...(groups.has('xent') ? { crossEntropy: fusedCrossEntropy } : {}),
    ...(groups.has('swiglu') ? { swiglu: fusedSwiGlu } : {}),
    ...(groups.has('rope') ? { ropeHeads: fusedRopeHeads } : {}),
  },
  ['webgpu'],
);
