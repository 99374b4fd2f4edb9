/**
 * Raw compute dispatches recorded into tfjs-backend-webgpu's own command
 * stream, for kernels that tfjs's program model cannot express: several
 * outputs, or writing in place into existing tensors (the fused AdamW update
 * writes parameter, first and second moment of a parameter in one dispatch).
 *
 * The dispatch goes into the backend's open compute pass, in order with every
 * tfjs kernel before and after it, and follows the backend's submit batching
 * (`WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE`) and deferred disposal, so tensors it
 * touches are not recycled before the GPU has run it.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs';

/* Minimal shapes of the WebGPU objects used here (no @webgpu/types dependency). */
interface GpuBufferLike {
  readonly size: number;
}
interface GpuPipelineLike {
  getBindGroupLayout(i: number): unknown;
}
interface GpuPassLike {
  setPipeline(p: GpuPipelineLike): void;
  setBindGroup(i: number, g: unknown): void;
  dispatchWorkgroups(x: number, y?: number, z?: number): void;
}
interface GpuDeviceLike {
  createShaderModule(d: { code: string }): unknown;
  createComputePipeline(d: { layout: 'auto'; compute: { module: unknown; entryPoint: string } }): GpuPipelineLike;
  createBindGroup(d: { layout: unknown; entries: Array<{ binding: number; resource: unknown }> }): unknown;
}
interface TensorDataLike {
  resource: unknown;
  refCount: number;
}

/**
 * The parts of tfjs-backend-webgpu's `WebGPUBackend` (4.22) the raw dispatches use.
 *
 * @example
 * ```ts
 * const b = tf.backend() as unknown as WebGpuInternals;
 * b.dispatchCountInPass; // dispatches recorded since the last submit
 * ```
 */
export interface WebGpuInternals {
  device: GpuDeviceLike;
  commandEncoder: { beginComputePass(d: object): GpuPassLike } | null;
  computePassEncoder: GpuPassLike | null;
  dispatchCountInPass: number;
  commandQueueOwnedIds: WeakSet<object>;
  tensorMap: { get(dataId: object): TensorDataLike | undefined };
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
  uploadToGPU(dataId: object): void;
  makeUniforms(u: Array<{ type: string; data: number[] }>): unknown;
  makeTensorInfo(shape: number[], dtype: 'float32' | 'int32'): tf.TensorInfo;
  refCount(dataId: object): number;
}

/**
 * The active backend as {@link WebGpuInternals}, or null when `webgpu` is not active.
 *
 * @example
 * ```ts
 * const b = webgpuInternals();
 * if (b) recordDispatch(b, pipeline, [p, g], uniforms, [64, 1, 1]);
 * ```
 */
export function webgpuInternals(): WebGpuInternals | null {
  if (tf.getBackend() !== 'webgpu') return null;
  const b = tf.backend() as unknown as Partial<WebGpuInternals>;
  return typeof b.ensureCommandEncoderReady === 'function' && typeof b.makeUniforms === 'function' ? (b as WebGpuInternals) : null;
}

const pipelines = new WeakMap<object, Map<string, GpuPipelineLike>>();

/**
 * Compiles (once per device and WGSL text) a compute pipeline with entry point `main`.
 *
 * @example
 * ```ts
 * const pipeline = rawPipeline(webgpuInternals()!, 'vwnAdamW', wgsl);
 * ```
 */
export function rawPipeline(b: WebGpuInternals, key: string, code: string): GpuPipelineLike {
  let cache = pipelines.get(b.device);
  if (!cache) pipelines.set(b.device, (cache = new Map()));
  const k = `${key}\n${code}`;
  let p = cache.get(k);
  if (!p) {
    p = b.device.createComputePipeline({ layout: 'auto', compute: { module: b.device.createShaderModule({ code }), entryPoint: 'main' } });
    cache.set(k, p);
  }
  return p;
}

/**
 * The GPU buffer of a tensor (uploaded first if its values are still on the CPU).
 *
 * @example
 * ```ts
 * const binding = { buffer: tensorBuffer(b, t), size: t.size * 4 };
 * ```
 */
export function tensorBuffer(b: WebGpuInternals, t: tf.TensorInfo): GpuBufferLike {
  b.uploadToGPU(t.dataId);
  const resource = b.tensorMap.get(t.dataId)?.resource as GpuBufferLike | undefined;
  if (!resource || typeof resource.size !== 'number') throw new Error('webgpu: tensor has no GPU buffer');
  return resource;
}

/**
 * Splits `workgroups` over x and y (WebGPU allows ≤ 65535 per dimension).
 *
 * @example
 * ```ts
 * dispatchGrid(100000); // [65535, 2, 1]
 * ```
 */
export function dispatchGrid(workgroups: number): [number, number, number] {
  const x = Math.min(Math.max(workgroups, 1), 65535);
  return [x, Math.ceil(Math.max(workgroups, 1) / x), 1];
}

/**
 * Records one dispatch of `pipeline` with `tensors` bound at 0…k−1 (each
 * bound over exactly its own bytes) and the uniforms at binding k.
 *
 * @example
 * ```ts
 * recordDispatch(b, pipeline, [p, m, v, g], [{ type: 'uint32', data: [p.size] }], dispatchGrid(Math.ceil(p.size / 256)));
 * ```
 */
export function recordDispatch(
  b: WebGpuInternals,
  pipeline: GpuPipelineLike,
  tensors: readonly tf.TensorInfo[],
  uniforms: Array<{ type: string; data: number[] }>,
  grid: [number, number, number],
): void {
  const entries: Array<{ binding: number; resource: unknown }> = tensors.map((t, i) => ({
    binding: i,
    resource: { buffer: tensorBuffer(b, t), offset: 0, size: Math.max(4, tf.util.sizeFromShape(t.shape) * 4) },
  }));
  entries.push({ binding: tensors.length, resource: b.makeUniforms(uniforms) });
  const bindGroup = b.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
  for (const t of tensors) b.commandQueueOwnedIds.add(t.dataId);
  b.ensureCommandEncoderReady();
  if (!b.computePassEncoder) b.computePassEncoder = b.commandEncoder!.beginComputePass({});
  b.computePassEncoder.setPipeline(pipeline);
  b.computePassEncoder.setBindGroup(0, bindGroup);
  b.computePassEncoder.dispatchWorkgroups(grid[0], grid[1], grid[2]);
  b.dispatchCountInPass++;
  if ((tf.env().get('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE') as number) <= b.dispatchCountInPass) {
    b.endComputePassEncoder();
    b.submitQueue();
  }
}
