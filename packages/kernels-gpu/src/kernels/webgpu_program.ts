/**
 * What the kernels of this package need from tfjs-backend-webgpu: the program
 * shape (`WebGPUProgram`), the backend's `runWebGPUProgram`, and WGSL helpers.
 *
 * tfjs compiles a program once per `makeShaderKey(program, …)`, which starts
 * with `program.shaderKey` and adds only input ranks and dtypes. Every kernel
 * here therefore puts every constant it bakes into the WGSL (sizes, eps, τ,
 * workgroup size) into its `shaderKey`, so two programs share a pipeline only
 * when their WGSL is identical.
 *
 * @module
 */
import type { NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs';
import type { WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';

export type { WebGPUProgram };

/**
 * The subset of tfjs-backend-webgpu's `WebGPUBackend` the kernels use.
 *
 * @example
 * ```ts
 * const out = (backend as WebGpuBackendLike).runWebGPUProgram(program, [x], 'float32');
 * ```
 */
export interface WebGpuBackendLike {
  runWebGPUProgram(
    program: WebGPUProgram,
    inputs: TensorInfo[],
    outputDtype: 'float32' | 'int32',
    programDefinedUniform?: Array<{ type: string; data: number[] }>,
    output?: TensorInfo,
  ): TensorInfo;
  disposeData(dataId: object, force?: boolean): boolean;
}

/**
 * Formats a number as a WGSL `f32` literal (always with a decimal point or an
 * exponent, so WGSL does not read it as an integer).
 *
 * @example
 * ```ts
 * f32Literal(1e-6); // '1e-6'
 * f32Literal(4);    // '4.0'
 * ```
 */
export function f32Literal(v: number): string {
  if (!Number.isFinite(v)) throw new Error(`f32Literal: ${v} is not finite`);
  const s = String(v);
  return /[.e]/.test(s) ? s : `${s}.0`;
}

/**
 * WGSL that turns the workgroup id into a flat workgroup index: tfjs spreads a
 * large 1-D dispatch over y/z (`reshapeDispatch`), so `workgroupId.x` alone is
 * not enough.
 */
export const FLAT_WORKGROUP_INDEX = 'i32(workgroupId.z * numWorkgroups.x * numWorkgroups.y + workgroupId.y * numWorkgroups.x + workgroupId.x)';

/** tfjs-backend-webgpu's numerically stable tanh (no overflow for large |a|). */
export const TANH_WGSL = `
fn vwnTanh(a : f32) -> f32 {
  let e2x = exp(-2.0 * abs(a));
  return sign(a) * (1.0 - e2x) / (1.0 + e2x);
}`;

/**
 * A flat elementwise program: one invocation per output element, `index` is
 * the flat output index (tfjs's `flatDispatchLayout`); indices past the
 * output size return before `body` runs. Every input in `variableNames` must
 * be read by `body` (Dawn drops unused bindings from the pipeline layout).
 *
 * @example
 * ```ts
 * const p = flatProgram('vwnZero_f32', [3, 4], [], 'result[index] = 0.0;');
 * ```
 */
export function flatProgram(shaderKey: string, outputShape: number[], variableNames: string[], body: string, prelude = ''): WebGPUProgram {
  const size = outputShape.reduce((a, b) => a * b, 1);
  const workgroupSize: [number, number, number] = [64, 1, 1];
  return {
    outputShape,
    variableNames,
    workgroupSize,
    dispatchLayout: { x: outputShape.map((_, i) => i) },
    dispatch: [Math.ceil(size / workgroupSize[0]), 1, 1],
    shaderKey: `${shaderKey}_wg${workgroupSize[0]}`,
    // The guard also keeps the uniform binding alive: Dawn's 'auto' layout drops unused bindings.
    size: true,
    getUserCode: () => `${prelude}
      fn main(index : i32) {
        if (index >= uniforms.size) { return; }
        ${body}
      }`,
  };
}

/**
 * The named float32 inputs of a kernel call, in order, with an error naming
 * the kernel and the input when one is missing or not float32.
 *
 * @example
 * ```ts
 * const [state, w] = float32Inputs('VwnDghcRead', inputs, ['state', 'w']);
 * ```
 */
export function float32Inputs(kernelName: string, inputs: NamedTensorInfoMap, names: readonly string[]): TensorInfo[] {
  return names.map((k) => {
    const t = inputs[k];
    if (t === undefined) throw new Error(`${kernelName}: missing input ${k}`);
    if (t.dtype !== 'float32') throw new Error(`${kernelName}: ${k} must be float32, got ${t.dtype}`);
    return t;
  });
}
