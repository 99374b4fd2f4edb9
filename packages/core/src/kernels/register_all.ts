/**
 * Side-effect module: importing it registers the VWN replacement kernels with
 * TensorFlow.js (currently `UnsortedSegmentSum` for `cpu` and `wasm`, which
 * makes embedding / `tf.gather` gradients O(N · width) on `cpu` and available
 * at all on `wasm`).
 *
 * Safe to import more than once and safe to combine with explicit calls to
 * {@link registerVwnKernels}. It does not import `@tensorflow/tfjs-backend-wasm`
 * (that would register the wasm backend and change tfjs's default backend);
 * kernels for `wasm` can be registered before the backend exists.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import './kernels/register_all.js'; // once, anywhere before training
 * ```
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs';

import { unsortedSegmentSumCpuConfig } from './unsorted_segment_sum_cpu.js';
import { unsortedSegmentSumWasmConfig } from './unsorted_segment_sum_wasm.js';

/**
 * Every kernel config that {@link registerVwnKernels} installs.
 *
 * @example
 * ```ts
 * for (const k of VWN_KERNEL_CONFIGS) console.log(k.kernelName, k.backendName);
 * // UnsortedSegmentSum cpu
 * // UnsortedSegmentSum wasm
 * ```
 */
export const VWN_KERNEL_CONFIGS: readonly tf.KernelConfig[] = [unsortedSegmentSumCpuConfig, unsortedSegmentSumWasmConfig];

function install(config: tf.KernelConfig): void {
  const { kernelName, backendName } = config;
  const existing = tf.getKernel(kernelName, backendName) as tf.KernelConfig | undefined;
  if (existing === config) return;
  if (existing !== undefined) {
    try {
      tf.unregisterKernel(kernelName, backendName);
    } catch {
      // Already gone (e.g. removed concurrently); registering below is enough.
    }
  }
  tf.registerKernel(config);
}

/**
 * Registers the VWN kernels with TensorFlow.js, replacing any kernel already
 * registered under the same kernel/backend name (for example tfjs-backend-cpu's
 * dense `UnsortedSegmentSum`). Idempotent: calling it again is a no-op for
 * kernels that are already ours, and re-installs ours if someone replaced them.
 * Importing `./register_all.js` calls it once.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { registerVwnKernels } from './register_all.js';
 *
 * registerVwnKernels();
 * const table = tf.randomNormal([8192, 256]);
 * const ids = tf.tensor1d([1, 5, 5, 42], 'int32');
 * const g = tf.grad((t: tf.Tensor) => tf.gather(t, ids).sum())(table); // fast scatter-add
 * ```
 */
export function registerVwnKernels(): void {
  for (const config of VWN_KERNEL_CONFIGS) install(config);
}

registerVwnKernels();
