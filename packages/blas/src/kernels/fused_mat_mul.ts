/**
 * `_FusedMatMul` as the native matMul followed by the backend's own Add and activation kernels.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import type { CpuBackend, Info, KernelFn, WasmBackend } from './types.js';

const ACTIVATIONS: Record<string, string | null> = {
  linear: null,
  relu: 'Relu',
  relu6: 'Relu6',
  elu: 'Elu',
  sigmoid: 'Sigmoid',
  leakyrelu: 'LeakyRelu',
  prelu: 'Prelu',
};

/** `_FusedMatMul` = our matMul, then the backend's own Add and activation kernels. */
export function fusedMatMul(backendName: string, matMul: KernelFn, fallback: KernelFn): KernelFn {
  const run = (name: string, inputs: Record<string, Info>, attrs: Record<string, unknown>, backend: unknown): Info => {
    const k = tf.getKernel(name, backendName);
    if (!k) throw new Error(`@vwn/blas: ${name} kernel missing on ${backendName}`);
    return k.kernelFunc({ inputs, attrs, backend } as never) as Info;
  };
  const free = (info: Info, backend: unknown) => {
    const cpu = backend as Partial<CpuBackend>;
    if (cpu.disposeIntermediateTensorInfo) cpu.disposeIntermediateTensorInfo(info);
    else (backend as WasmBackend).disposeData(info.dataId);
  };
  return (args) => {
    const { a, b, bias, preluActivationWeights } = args.inputs;
    const activation = (args.attrs['activation'] as string | undefined) ?? 'linear';
    if (!(activation in ACTIVATIONS) || a!.dtype !== 'float32' || b!.dtype !== 'float32') return fallback(args);
    if (activation === 'prelu' && !preluActivationWeights) return fallback(args);
    const { backend } = args;
    let cur = matMul({ inputs: { a, b }, attrs: { transposeA: args.attrs['transposeA'], transposeB: args.attrs['transposeB'] }, backend }) as Info;
    if (bias) {
      const next = run('Add', { a: cur, b: bias }, {}, backend);
      free(cur, backend);
      cur = next;
    }
    const kernel = ACTIVATIONS[activation];
    if (kernel) {
      const next =
        activation === 'prelu'
          ? run(kernel, { x: cur, alpha: preluActivationWeights! }, {}, backend)
          : run(kernel, { x: cur }, activation === 'leakyrelu' ? { alpha: args.attrs['leakyreluAlpha'] ?? 0.2 } : {}, backend);
      free(cur, backend);
      cur = next;
    }
    return cur;
  };
}
