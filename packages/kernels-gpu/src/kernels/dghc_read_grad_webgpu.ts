/**
 * Fused backward pass of the DGHC read for `webgpu` (kernel `VwnDghcReadGrad`):
 * one workgroup per token recomputes the norm and the coefficients c in
 * workgroup memory and produces every per-row term of the gradient in one
 * pass over the state; the gradient function (`dghc_read_grad.ts`) finishes
 * with one matmul (dW) and sums over tokens.
 *
 * Per row r = (t, j): ŝ = 1/sqrt(mean(h²) + eps), ĥ = h·ŝ, H̄ = ĥ ⊙ g,
 * c = tanh(H̄·W/τ), A(H') = S_α ⊙ c_α + A; with dY = [dX; dC] and dBᵀ from the
 * packed cotangent:
 *
 *     dA(H')[j, k] = Σ_d H'[j, d]·dY[k, d]
 *     du[j, k]     = (k < m+n ? dA[j, k]·S_α[j, k] : dBᵀ[j, i]·S_β[i, j]) · (1 − c²) / τ
 *     dH̄[j, d]     = Σ_k du[j, k]·W[d, k]
 *     dH'[j, d]    = Σ_k A(H')[j, k]·dY[k, d] + ŝ·(dĥ − ĥ·mean_d(dĥ ⊙ ĥ)),   dĥ = dH̄ ⊙ g
 *
 * Output per token, packed:
 * `[dH' (n·d_b) | H̄ (n·d_b) | dH̄ ⊙ ĥ (n·d_b) | du (n·K) | dA (n·(m+n)) | dA ⊙ c_α (n·(m+n)) | dBᵀ ⊙ c_β (n·m)]`,
 * K = 2m+n.
 *
 * @module
 */
import type { KernelConfig, KernelFunc } from '@tensorflow/tfjs';

import { dghcReadPackedWidth } from './dghc_read_webgpu.js';
import { VWN_DGHC_READ_GRAD } from './kernel_names.js';
import { float32Inputs, f32Literal, FLAT_WORKGROUP_INDEX, TANH_WGSL, type WebGPUProgram, type WebGpuBackendLike } from './webgpu_program.js';

const WORKGROUP = 64;

/**
 * Offsets of the pieces of the packed `VwnDghcReadGrad` output, per token.
 *
 * @example
 * ```ts
 * dghcReadGradLayout(2, 3, 4).width; // 3·4·3 + 3·7 + 2·3·5 + 3·2 = 93
 * ```
 */
export function dghcReadGradLayout(m: number, n: number, db: number) {
  const K = 2 * m + n;
  const dState = 0;
  const hBar = n * db;
  const dHBarHHat = 2 * n * db;
  const du = 3 * n * db;
  const dA = du + n * K;
  const dAc = dA + n * (m + n);
  const dBTc = dAc + n * (m + n);
  return { K, dState, hBar, dHBarHHat, du, dA, dAc, dBTc, width: dBTc + n * m };
}

/**
 * Workgroup memory the fused DGHC kernels need, in bytes (the backward's is
 * the larger): c and du for n rows of K = 2m+n, plus two per-row scalars.
 *
 * @example
 * ```ts
 * dghcWorkgroupBytes(8, 32); // (2·32·48 + 2·32)·4 = 12544
 * ```
 */
export function dghcWorkgroupBytes(m: number, n: number): number {
  return (2 * n * (2 * m + n) + 2 * n) * 4;
}

/**
 * The WGSL program for one (m, n, d_b, eps), all baked into the shader and its `shaderKey`.
 *
 * @example
 * ```ts
 * dghcReadGradProgram(100, 2, 3, 4, 1e-6).shaderKey; // 'vwnDghcReadGrad_m2_n3_db4_eps1e-6_wg64'
 * ```
 */
export function dghcReadGradProgram(tokens: number, m: number, n: number, db: number, eps: number): WebGPUProgram {
  const L = dghcReadGradLayout(m, n, db);
  const K = L.K;
  const P = dghcReadPackedWidth(m, n, db);
  const tau = Math.sqrt(db);
  return {
    outputShape: [tokens, L.width],
    variableNames: ['hState', 'wDyn', 'normGain', 'sAlpha', 'aStatic', 'sBeta', 'dy'],
    uniforms: 'numTokens : i32,',
    workgroupSize: [WORKGROUP, 1, 1],
    dispatchLayout: { x: [0, 1] },
    dispatch: [tokens, 1, 1],
    shaderKey: `vwnDghcReadGrad_m${m}_n${n}_db${db}_eps${eps}_wg${WORKGROUP}`,
    getUserCode: () => `
      ${TANH_WGSL}
      var<workgroup> invNorm : array<f32, ${n}>;
      var<workgroup> rowDot : array<f32, ${n}>;
      var<workgroup> cS : array<f32, ${n * K}>;
      var<workgroup> duS : array<f32, ${n * K}>;

      fn main(index : i32) {
        let token = ${FLAT_WORKGROUP_INDEX};
        let valid = token < uniforms.numTokens;
        let t = select(0, token, valid);
        let lid = i32(localIndex);
        let base = t * ${n * db};
        let dyBase = t * ${P};
        let outBase = t * ${L.width};

        for (var j = lid; j < ${n}; j += ${WORKGROUP}) {
          var ss = 0.0;
          for (var d = 0; d < ${db}; d++) { let v = hState[base + j * ${db} + d]; ss += v * v; }
          invNorm[j] = inverseSqrt(ss / ${f32Literal(db)} + ${f32Literal(eps)});
        }
        workgroupBarrier();

        // c = tanh(H̄·W/τ), as in the forward kernel.
        for (var p = lid; p < ${n * K}; p += ${WORKGROUP}) {
          let j = p / ${K};
          let k = p % ${K};
          let s = invNorm[j];
          var u = 0.0;
          for (var d = 0; d < ${db}; d++) { u += (hState[base + j * ${db} + d] * s * normGain[d]) * wDyn[d * ${K} + k]; }
          cS[p] = vwnTanh(u / ${f32Literal(tau)});
        }
        workgroupBarrier();

        // dA(H'), dBᵀ and du.
        for (var p = lid; p < ${n * K}; p += ${WORKGROUP}) {
          let j = p / ${K};
          let k = p % ${K};
          let c = cS[p];
          var du : f32;
          if (k < ${m + n}) {
            var da = 0.0;
            for (var d = 0; d < ${db}; d++) { da += hState[base + j * ${db} + d] * dy[dyBase + k * ${db} + d]; }
            du = da * sAlpha[j * ${m + n} + k];
            if (valid) {
              result[outBase + ${L.dA} + j * ${m + n} + k] = da;
              result[outBase + ${L.dAc} + j * ${m + n} + k] = da * c;
            }
          } else {
            let i = k - ${m + n};
            let dbt = dy[dyBase + ${(m + n) * db} + j * ${m} + i];
            du = dbt * sBeta[i * ${n} + j];
            if (valid) { result[outBase + ${L.dBTc} + j * ${m} + i] = dbt * c; }
          }
          du = du * (1.0 - c * c) / ${f32Literal(tau)};
          duS[p] = du;
          if (valid) { result[outBase + ${L.du} + p] = du; }
        }
        workgroupBarrier();

        // mean_d(dĥ ⊙ ĥ) per row.
        for (var j = lid; j < ${n}; j += ${WORKGROUP}) {
          var acc = 0.0;
          for (var d = 0; d < ${db}; d++) {
            var dhbar = 0.0;
            for (var k = 0; k < ${K}; k++) { dhbar += duS[j * ${K} + k] * wDyn[d * ${K} + k]; }
            acc += dhbar * normGain[d] * hState[base + j * ${db} + d] * invNorm[j];
          }
          rowDot[j] = acc / ${f32Literal(db)};
        }
        workgroupBarrier();

        if (valid) {
          for (var e = lid; e < ${n * db}; e += ${WORKGROUP}) {
            let j = e / ${db};
            let d = e % ${db};
            let s = invNorm[j];
            let hHat = hState[base + e] * s;
            var dhbar = 0.0;
            for (var k = 0; k < ${K}; k++) { dhbar += duS[j * ${K} + k] * wDyn[d * ${K} + k]; }
            var dWidth = 0.0;
            for (var k = 0; k < ${m + n}; k++) {
              let aTok = sAlpha[j * ${m + n} + k] * cS[j * ${K} + k] + aStatic[j * ${m + n} + k];
              dWidth += aTok * dy[dyBase + k * ${db} + d];
            }
            result[outBase + ${L.dState} + e] = dWidth + s * (dhbar * normGain[d] - hHat * rowDot[j]);
            result[outBase + ${L.hBar} + e] = hHat * normGain[d];
            result[outBase + ${L.dHBarHHat} + e] = dhbar * hHat;
          }
        }
      }`,
  };
}

/**
 * `VwnDghcReadGrad` kernel function for `webgpu`.
 *
 * @example
 * ```ts
 * const g = tf.engine().runKernel('VwnDghcReadGrad', { state, w, gain, scaleAlpha, a, scaleBeta, dy }, { m, n, eps });
 * ```
 */
export const dghcReadGradWebGpu: KernelFunc = ({ inputs, backend, attrs }) => {
  const m = attrs?.['m'] as number;
  const n = attrs?.['n'] as number;
  const eps = attrs?.['eps'] as number;
  const names = ['state', 'w', 'gain', 'scaleAlpha', 'a', 'scaleBeta', 'dy'] as const;
  const tensors = float32Inputs(VWN_DGHC_READ_GRAD, inputs, names);
  const tokens = tensors[0]!.shape[0] as number;
  const db = (tensors[0]!.shape[1] as number) / n;
  return (backend as WebGpuBackendLike).runWebGPUProgram(dghcReadGradProgram(tokens, m, n, db, eps), tensors, 'float32', [{ type: 'int32', data: [tokens] }]);
};

/**
 * Kernel config of {@link dghcReadGradWebGpu}.
 *
 * @example
 * ```ts
 * tf.registerKernel(dghcReadGradWebGpuConfig);
 * ```
 */
export const dghcReadGradWebGpuConfig: KernelConfig = {
  kernelName: VWN_DGHC_READ_GRAD,
  backendName: 'webgpu',
  kernelFunc: dghcReadGradWebGpu,
};
