/**
 * Gradient of `VwnDghcRead`: the fused `VwnDghcReadGrad` kernel produces every
 * per-row term (see `dghc_read_grad_webgpu.ts` for the math); what is left
 * here are the parameter gradients that sum over tokens:
 *
 *     dW = H̄ᵀ·du            dg = Σ_r dH̄ ⊙ ĥ
 *     dS_α = Σ_t dA ⊙ c_α    dA_static = Σ_t dA
 *     dS_β = (Σ_t dBᵀ ⊙ c_β)ᵀ   dB = (Σ_t dBᵀ)ᵀ
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs';

import { dghcReadGradLayout } from './dghc_read_grad_webgpu.js';
import { VWN_TOKEN_COLUMN_SUM } from './fused_nn_webgpu.js';
import { VWN_DGHC_READ, VWN_DGHC_READ_GRAD } from './kernel_names.js';

const INPUTS = ['state', 'w', 'gain', 'scaleAlpha', 'a', 'scaleBeta', 'write'] as const;

/**
 * Gradient config for `VwnDghcRead`; every input is saved.
 *
 * @example
 * ```ts
 * tf.registerGradient(dghcReadGradConfig);
 * ```
 */
export const dghcReadGradConfig: tf.GradConfig = {
  kernelName: VWN_DGHC_READ,
  inputsToSave: [...INPUTS],
  gradFunc: (dy, saved, attrs) => {
    const m = attrs['m'] as number;
    const n = attrs['n'] as number;
    const [state, w, gain, scaleAlpha, a, scaleBeta] = saved as [tf.Tensor2D, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
    const N = state.shape[0];
    const db = state.shape[1] / n;
    const R = N * n;
    const L = dghcReadGradLayout(m, n, db);
    const g = tf.engine().runKernel(VWN_DGHC_READ_GRAD, { state, w, gain, scaleAlpha, a, scaleBeta, dy: dy as tf.Tensor }, attrs) as tf.Tensor2D;
    const part = (offset: number, size: number, shape: number[]) => tf.slice(g, [0, offset], [N, size]).reshape(shape);
    // Σ over tokens of a column block in one kernel (instead of slice + sum), folded modulo `fold`.
    const colSum = (t: tf.Tensor, offset: number, len: number, fold: number) =>
      tf.engine().runKernel(VWN_TOKEN_COLUMN_SUM, { g: t }, { offset, len, fold }) as tf.Tensor;
    return {
      state: () => part(L.dState, n * db, [N, n * db]),
      w: () => tf.matMul(part(L.hBar, n * db, [R, db]) as tf.Tensor2D, part(L.du, n * L.K, [R, L.K]) as tf.Tensor2D, true, false),
      gain: () => colSum(g, L.dHBarHHat, n * db, db),
      scaleAlpha: () => colSum(g, L.dAc, n * (m + n), n * (m + n)).reshape([n, m + n]),
      a: () => colSum(g, L.dA, n * (m + n), n * (m + n)).reshape([n, m + n]),
      scaleBeta: () => tf.transpose(colSum(g, L.dBTc, n * m, n * m).reshape([n, m])),
      write: () => tf.transpose(colSum(dy as tf.Tensor, (m + n) * db, n * m, n * m).reshape([n, m])),
    };
  },
};
