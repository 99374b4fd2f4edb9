/**
 * Fused GHC write for `webgpu` and its two gradient kernels. One invocation
 * per output element; token t, segment j, column d:
 *
 *     H'_new[t, j, d] = C[t, j, d] + Σ_i B(H')ᵀ[t, j, i] · Z[t, i, d]     (VwnGhcWrite)
 *     dZ[t, i, d]     = Σ_j B(H')ᵀ[t, j, i] · dH'[t, j, d]                 (VwnGhcWriteGradZ)
 *     dBᵀ[t, j, i]    = Σ_d dH'[t, j, d] · Z[t, i, d]                      (VwnGhcWriteGradB)
 *
 * (dC = dH' needs no kernel.) m, n, d_b and the token count are baked into
 * the WGSL and into each `shaderKey`.
 *
 * @module
 */
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';

import { VWN_GHC_WRITE, VWN_GHC_WRITE_GRAD_B, VWN_GHC_WRITE_GRAD_Z } from './kernel_names.js';
import { flatProgram, type WebGpuBackendLike } from './webgpu_program.js';

function dims(bT: TensorInfo, z: TensorInfo): { N: number; n: number; m: number; db: number } {
  const [N, n, m] = bT.shape as [number, number, number];
  return { N, n, m, db: (z.shape[1] as number) / m };
}

function need(inputs: Record<string, TensorInfo | undefined>, name: string, kernel: string): TensorInfo {
  const t = inputs[name];
  if (t === undefined) throw new Error(`${kernel}: missing input ${name}`);
  if (t.dtype !== 'float32') throw new Error(`${kernel}: ${name} must be float32, got ${t.dtype}`);
  return t;
}

/**
 * `VwnGhcWrite` for `webgpu`: inputs `carried [N, n·d_b]`, `z [N, m·d_b]`, `bT [N, n, m]`.
 *
 * @example
 * ```ts
 * const next = tf.engine().runKernel('VwnGhcWrite', { carried, z, bT }, {});
 * ```
 */
export const ghcWriteWebGpu: KernelFunc = ({ inputs, backend }) => {
  const carried = need(inputs, 'carried', VWN_GHC_WRITE);
  const z = need(inputs, 'z', VWN_GHC_WRITE);
  const bT = need(inputs, 'bT', VWN_GHC_WRITE);
  const { N, n, m, db } = dims(bT, z);
  const program = flatProgram(
    `vwnGhcWrite_N${N}_m${m}_n${n}_db${db}`,
    [N, n * db],
    ['carried', 'z', 'bT'],
    `
      let t = index / ${n * db};
      let j = (index / ${db}) % ${n};
      let d = index % ${db};
      var acc = 0.0;
      for (var i = 0; i < ${m}; i++) { acc += bT[t * ${n * m} + j * ${m} + i] * z[t * ${m * db} + i * ${db} + d]; }
      result[index] = carried[index] + acc;`,
  );
  return (backend as WebGpuBackendLike).runWebGPUProgram(program, [carried, z, bT], 'float32');
};

/**
 * `VwnGhcWriteGradZ` for `webgpu`: inputs `dy [N, n·d_b]`, `z [N, m·d_b]` (shape only), `bT [N, n, m]`.
 *
 * @example
 * ```ts
 * const dz = tf.engine().runKernel('VwnGhcWriteGradZ', { dy, z, bT }, {});
 * ```
 */
export const ghcWriteGradZWebGpu: KernelFunc = ({ inputs, backend }) => {
  const dy = need(inputs, 'dy', VWN_GHC_WRITE_GRAD_Z);
  const z = need(inputs, 'z', VWN_GHC_WRITE_GRAD_Z);
  const bT = need(inputs, 'bT', VWN_GHC_WRITE_GRAD_Z);
  const { N, n, m, db } = dims(bT, z);
  const program = flatProgram(
    `vwnGhcWriteGradZ_N${N}_m${m}_n${n}_db${db}`,
    [N, m * db],
    ['dy', 'bT'],
    `
      let t = index / ${m * db};
      let i = (index / ${db}) % ${m};
      let d = index % ${db};
      var acc = 0.0;
      for (var j = 0; j < ${n}; j++) { acc += bT[t * ${n * m} + j * ${m} + i] * dy[t * ${n * db} + j * ${db} + d]; }
      result[index] = acc;`,
  );
  return (backend as WebGpuBackendLike).runWebGPUProgram(program, [dy, bT], 'float32');
};

/**
 * `VwnGhcWriteGradB` for `webgpu`: inputs `dy [N, n·d_b]`, `z [N, m·d_b]`, `bT [N, n, m]` (shape only).
 *
 * @example
 * ```ts
 * const dbT = tf.engine().runKernel('VwnGhcWriteGradB', { dy, z, bT }, {});
 * ```
 */
export const ghcWriteGradBWebGpu: KernelFunc = ({ inputs, backend }) => {
  const dy = need(inputs, 'dy', VWN_GHC_WRITE_GRAD_B);
  const z = need(inputs, 'z', VWN_GHC_WRITE_GRAD_B);
  const bT = need(inputs, 'bT', VWN_GHC_WRITE_GRAD_B);
  const { N, n, m, db } = dims(bT, z);
  const program = flatProgram(
    `vwnGhcWriteGradB_N${N}_m${m}_n${n}_db${db}`,
    [N, n, m],
    ['dy', 'z'],
    `
      let t = index / ${n * m};
      let j = (index / ${m}) % ${n};
      let i = index % ${m};
      var acc = 0.0;
      for (var d = 0; d < ${db}; d++) { acc += dy[t * ${n * db} + j * ${db} + d] * z[t * ${m * db} + i * ${db} + d]; }
      result[index] = acc;`,
  );
  return (backend as WebGpuBackendLike).runWebGPUProgram(program, [dy, z], 'float32');
};

/**
 * Kernel configs of the GHC write and its gradients, all for `webgpu`.
 *
 * @example
 * ```ts
 * for (const k of ghcWriteWebGpuConfigs) tf.registerKernel(k);
 * ```
 */
export const ghcWriteWebGpuConfigs: readonly KernelConfig[] = [
  { kernelName: VWN_GHC_WRITE, backendName: 'webgpu', kernelFunc: ghcWriteWebGpu },
  { kernelName: VWN_GHC_WRITE_GRAD_Z, backendName: 'webgpu', kernelFunc: ghcWriteGradZWebGpu },
  { kernelName: VWN_GHC_WRITE_GRAD_B, backendName: 'webgpu', kernelFunc: ghcWriteGradBWebGpu },
];
