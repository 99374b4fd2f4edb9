/**
 * Side-effect module: importing it registers this package's `webgpu` kernels
 * and gradients (deterministic `UnsortedSegmentSum`, fused DGHC read, fused
 * GHC write) with TensorFlow.js. It must run after tfjs-backend-webgpu's own
 * kernel registration (its index imports the backend first), because it
 * replaces tfjs-backend-webgpu's atomic `UnsortedSegmentSum`.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs';

import { dghcReadGradConfig } from './kernels/dghc_read_grad.js';
import { dghcReadGradWebGpuConfig } from './kernels/dghc_read_grad_webgpu.js';
import { dghcReadWebGpuConfig } from './kernels/dghc_read_webgpu.js';
import { FUSED_NN_KERNEL_CONFIGS } from './kernels/fused_nn_webgpu.js';
import { ghcWriteGradConfig } from './kernels/ghc_write_grad.js';
import { ghcWriteWebGpuConfigs } from './kernels/ghc_write_webgpu.js';
import { unsortedSegmentSumWebGpuConfig } from './kernels/unsorted_segment_sum_webgpu.js';

/**
 * Every kernel config {@link registerGpuKernels} installs (all for `webgpu`).
 *
 * @example
 * ```ts
 * GPU_KERNEL_CONFIGS.map((k) => k.kernelName); // ['UnsortedSegmentSum', 'VwnDghcRead', 'VwnDghcReadGrad', 'VwnGhcWrite', …]
 * ```
 */
export const GPU_KERNEL_CONFIGS: readonly tf.KernelConfig[] = [
  unsortedSegmentSumWebGpuConfig,
  dghcReadWebGpuConfig,
  dghcReadGradWebGpuConfig,
  ...ghcWriteWebGpuConfigs,
  ...FUSED_NN_KERNEL_CONFIGS,
];

/**
 * Gradients of the fused kernels (tfjs's gradient registry is not per backend).
 *
 * @example
 * ```ts
 * GPU_GRADIENT_CONFIGS.map((g) => g.kernelName); // ['VwnDghcRead', 'VwnGhcWrite']
 * ```
 */
export const GPU_GRADIENT_CONFIGS: readonly tf.GradConfig[] = [dghcReadGradConfig, ghcWriteGradConfig];

function install(config: tf.KernelConfig): void {
  const existing = tf.getKernel(config.kernelName, config.backendName) as tf.KernelConfig | undefined;
  if (existing === config) return;
  if (existing !== undefined) tf.unregisterKernel(config.kernelName, config.backendName);
  tf.registerKernel(config);
}

/**
 * Registers the `webgpu` kernels and gradients, replacing tfjs-backend-webgpu's
 * `UnsortedSegmentSum`. Idempotent, like `@vwn/core`'s `registerVwnKernels`.
 *
 * @example
 * ```ts
 * registerGpuKernels();
 * tf.getKernel('UnsortedSegmentSum', 'webgpu') === unsortedSegmentSumWebGpuConfig; // true
 * ```
 */
export function registerGpuKernels(): void {
  for (const config of GPU_KERNEL_CONFIGS) install(config);
  for (const g of GPU_GRADIENT_CONFIGS) {
    if (tf.getGradient(g.kernelName) !== g) {
      if (tf.getGradient(g.kernelName) !== undefined) tf.unregisterGradient(g.kernelName);
      tf.registerGradient(g);
    }
  }
}

registerGpuKernels();
