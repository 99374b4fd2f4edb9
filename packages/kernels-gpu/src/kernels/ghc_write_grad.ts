/**
 * Gradient of `VwnGhcWrite` (`H'_new = B(H')ᵀ·Z + C`): dC = dH', and dZ, dBᵀ
 * from the two fused gradient kernels.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs';

import { VWN_GHC_WRITE, VWN_GHC_WRITE_GRAD_B, VWN_GHC_WRITE_GRAD_Z } from './kernel_names.js';

/**
 * Gradient config for `VwnGhcWrite`; inputs saved: `carried`, `z`, `bT`.
 *
 * @example
 * ```ts
 * tf.registerGradient(ghcWriteGradConfig);
 * ```
 */
export const ghcWriteGradConfig: tf.GradConfig = {
  kernelName: VWN_GHC_WRITE,
  inputsToSave: ['carried', 'z', 'bT'],
  gradFunc: (dy, saved) => {
    const [, z, bT] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
    const g = dy as tf.Tensor;
    return {
      carried: () => g.clone(),
      z: () => tf.engine().runKernel(VWN_GHC_WRITE_GRAD_Z, { dy: g, z, bT }, {}) as tf.Tensor,
      bT: () => tf.engine().runKernel(VWN_GHC_WRITE_GRAD_B, { dy: g, z, bT }, {}) as tf.Tensor,
    };
  },
};
