/**
 * Fused DGHC read for `webgpu` (PAPER.md §5 kernel note): per token, one
 * workgroup computes the per-segment RMSNorm, the dynamic coefficients
 * `tanh(H̄·[W_α | W_β]/τ)` scaled by S and offset by the static A, B, keeps
 * them in workgroup memory, and applies the width connection `[X; C] = A(H')ᵀ·H'`
 * without writing the coefficients or the normalized state to memory.
 *
 * Output, packed per token (tfjs programs have a single output):
 * `[N, (m+n)·d_b + n·m] = [X (m·d_b) | C (n·d_b) | B(H')ᵀ (n·m)]`.
 *
 * @module
 */
import type { KernelConfig, KernelFunc } from '@tensorflow/tfjs';

import { VWN_DGHC_READ } from './kernel_names.js';
import { float32Inputs, f32Literal, FLAT_WORKGROUP_INDEX, TANH_WGSL, type WebGPUProgram, type WebGpuBackendLike } from './webgpu_program.js';

const WORKGROUP = 64;

/**
 * Packed output width of {@link VWN_DGHC_READ} per token.
 *
 * @example
 * ```ts
 * dghcReadPackedWidth(2, 3, 2); // (2+3)·2 + 3·2 = 16
 * ```
 */
export function dghcReadPackedWidth(m: number, n: number, db: number): number {
  return (m + n) * db + n * m;
}

/**
 * Builds the WGSL program for one (m, n, d_b, eps) — all baked into the
 * shader and into its `shaderKey`; the token count is a uniform.
 *
 * @example
 * ```ts
 * const program = dghcReadProgram(100, 2, 3, 4, 1e-6);
 * program.shaderKey; // 'vwnDghcRead_m2_n3_db4_eps1e-6_wg64'
 * ```
 */
export function dghcReadProgram(tokens: number, m: number, n: number, db: number, eps: number): WebGPUProgram {
  const K = 2 * m + n; // columns of [W_α | W_β]
  const P = dghcReadPackedWidth(m, n, db);
  const tau = Math.sqrt(db);
  return {
    outputShape: [tokens, P],
    variableNames: ['hState', 'wDyn', 'normGain', 'sAlpha', 'aStatic', 'sBeta', 'bWrite'],
    uniforms: 'numTokens : i32,',
    workgroupSize: [WORKGROUP, 1, 1],
    dispatchLayout: { x: [0, 1] },
    dispatch: [tokens, 1, 1], // one workgroup per token
    shaderKey: `vwnDghcRead_m${m}_n${n}_db${db}_eps${eps}_wg${WORKGROUP}`,
    getUserCode: () => `
      ${TANH_WGSL}
      var<workgroup> invNorm : array<f32, ${n}>;
      var<workgroup> coef : array<f32, ${n * K}>; // row j: [A(H')[j, :] (m+n) | B(H')ᵀ[j, :] (m)]

      fn main(index : i32) {
        let token = ${FLAT_WORKGROUP_INDEX};
        let valid = token < uniforms.numTokens;
        let t = select(0, token, valid); // keep barriers in uniform control flow
        let lid = i32(localIndex);
        let base = t * ${n * db};

        // 1. RMSNorm scale of every segment: 1/sqrt(mean(h²) + eps).
        for (var j = lid; j < ${n}; j += ${WORKGROUP}) {
          var ss = 0.0;
          for (var d = 0; d < ${db}; d++) { let v = hState[base + j * ${db} + d]; ss += v * v; }
          invNorm[j] = inverseSqrt(ss / ${f32Literal(db)} + ${f32Literal(eps)});
        }
        workgroupBarrier();

        // 2. Coefficients: tanh(H̄ · W / τ), scaled and offset.
        for (var p = lid; p < ${n * K}; p += ${WORKGROUP}) {
          let j = p / ${K};
          let k = p % ${K};
          let s = invNorm[j];
          var u = 0.0;
          for (var d = 0; d < ${db}; d++) {
            u += (hState[base + j * ${db} + d] * s * normGain[d]) * wDyn[d * ${K} + k];
          }
          let c = vwnTanh(u / ${f32Literal(tau)});
          var v : f32;
          if (k < ${m + n}) {
            v = sAlpha[j * ${m + n} + k] * c + aStatic[j * ${m + n} + k];
          } else {
            let i = k - ${m + n};
            v = sBeta[i * ${n} + j] * c + bWrite[i * ${n} + j];
          }
          coef[p] = v;
        }
        workgroupBarrier();

        // 3. Width connection [X; C][k, d] = Σ_j A(H')[j, k]·H'[j, d], then B(H')ᵀ.
        if (valid) {
          let outBase = t * ${P};
          for (var e = lid; e < ${P}; e += ${WORKGROUP}) {
            if (e < ${(m + n) * db}) {
              let k = e / ${db};
              let d = e % ${db};
              var acc = 0.0;
              for (var j = 0; j < ${n}; j++) { acc += coef[j * ${K} + k] * hState[base + j * ${db} + d]; }
              result[outBase + e] = acc;
            } else {
              let q = e - ${(m + n) * db};
              result[outBase + e] = coef[(q / ${m}) * ${K} + ${m + n} + (q % ${m})];
            }
          }
        }
      }`,
  };
}

/**
 * `VwnDghcRead` kernel function for `webgpu`.
 *
 * @param params - Inputs {@link DghcReadInputs}, attrs `{ m, n, eps }`, the webgpu backend.
 * @returns The packed `[N, (m+n)·d_b + n·m]` output.
 *
 * @example
 * ```ts
 * const packed = tf.engine().runKernel('VwnDghcRead', { state, w, gain, scaleAlpha, a, scaleBeta, write }, { m: 2, n: 3, eps: 1e-6 });
 * ```
 */
export const dghcReadWebGpu: KernelFunc = ({ inputs, backend, attrs }) => {
  const m = attrs?.['m'] as number;
  const n = attrs?.['n'] as number;
  const eps = attrs?.['eps'] as number;
  const names = ['state', 'w', 'gain', 'scaleAlpha', 'a', 'scaleBeta', 'write'] as const;
  const tensors = float32Inputs(VWN_DGHC_READ, inputs, names);
  const state = tensors[0]!;
  const tokens = state.shape[0] as number;
  const db = (state.shape[1] as number) / n;
  const program = dghcReadProgram(tokens, m, n, db, eps);
  return (backend as WebGpuBackendLike).runWebGPUProgram(program, tensors, 'float32', [{ type: 'int32', data: [tokens] }]);
};

/**
 * Kernel config of {@link dghcReadWebGpu}; its gradient is in `dghc_read_grad.ts`.
 *
 * @example
 * ```ts
 * tf.registerKernel(dghcReadWebGpuConfig);
 * ```
 */
export const dghcReadWebGpuConfig: KernelConfig = {
  kernelName: VWN_DGHC_READ,
  backendName: 'webgpu',
  kernelFunc: dghcReadWebGpu,
};
