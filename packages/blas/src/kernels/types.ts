/**
 * Shared types of the @vwn/blas kernels: tfjs kernel-function arguments and the
 * minimal views of the cpu and wasm backends' storage APIs they use.
 *
 * @module
 */
import type * as tf from '@tensorflow/tfjs';

/** A tensor as kernels see it. */
export type Info = tf.TensorInfo;
/** A kernel function's argument. */
export interface Args {
  inputs: Record<string, Info | undefined>;
  attrs: Record<string, unknown>;
  backend: unknown;
}
/** A tfjs kernel function. */
export type KernelFn = (args: Args) => Info | Info[];

/** Minimal view of tfjs-cpu's storage API. */
export interface CpuBackend {
  data: { get(id: unknown): { values?: unknown } };
  makeTensorInfo(shape: number[], dtype: string, values: Float32Array): Info;
  disposeIntermediateTensorInfo(info: Info): void;
}
/** Minimal view of tfjs-wasm's storage API. */
export interface WasmBackend {
  incRef(id: unknown): void;
  makeOutput(shape: number[], dtype: string): Info;
  typedArrayFromHeap(info: Info): Float32Array;
  disposeData(id: unknown): boolean;
}
