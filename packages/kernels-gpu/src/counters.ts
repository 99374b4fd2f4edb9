/**
 * Counts what the WebGPU device really does: kernel dispatches, queue
 * submits, GPU→CPU reads (and bytes), buffers and compute pipelines created.
 * The counts come from wrapping the methods of the WebGPU classes themselves
 * (`GPUComputePassEncoder.dispatchWorkgroups`, `GPUQueue.submit`,
 * `GPUBuffer.mapAsync`, `GPUDevice.createBuffer`, `GPUDevice.createComputePipeline`),
 * so they are the same on llvmpipe and on a real GPU and include every
 * dispatch tfjs-backend-webgpu and this package's kernels record.
 *
 * @module
 */

/**
 * Snapshot of the device counters.
 *
 * @example
 * ```ts
 * const before = gpuCounters();
 * await trainer.trainStep();
 * const d = diffGpuCounters(gpuCounters(), before);
 * console.log(d.dispatches, d.reads, d.bytesRead);
 * ```
 */
export interface GpuCounters {
  /** `dispatchWorkgroups` calls (kernel launches). */
  readonly dispatches: number;
  /** `queue.submit` calls. */
  readonly submits: number;
  /** GPU→CPU reads: `mapAsync` with `GPUMapMode.READ`. */
  readonly reads: number;
  /** Bytes of the buffers mapped for reading. */
  readonly bytesRead: number;
  /** `device.createBuffer` calls (tfjs reuses freed buffers, so steady-state steps create few). */
  readonly buffersCreated: number;
  /** `device.createComputePipeline(Async)` calls (shader compilations). */
  readonly pipelinesCreated: number;
}

const counts = { dispatches: 0, submits: 0, reads: 0, bytesRead: 0, buffersCreated: 0, pipelinesCreated: 0 };
let installed = false;

type Proto = Record<string, unknown>;
function wrap(proto: Proto | undefined, method: string, before: (self: unknown, args: unknown[]) => void): void {
  const original = proto?.[method];
  if (typeof original !== 'function') return;
  proto![method] = function (this: unknown, ...args: unknown[]) {
    before(this, args);
    return (original as (...a: unknown[]) => unknown).apply(this, args);
  };
}

/**
 * Wraps the WebGPU classes in `globals` (Dawn's `webgpu` package globals, or
 * `globalThis` in a browser) so {@link gpuCounters} counts. Idempotent;
 * called by `useWebGpu`.
 *
 * @param globals - Object holding `GPUComputePassEncoder`, `GPUQueue`, `GPUBuffer`, `GPUDevice`.
 *
 * @example
 * ```ts
 * installGpuCounters(globalThis as Record<string, unknown>);
 * ```
 */
export function installGpuCounters(globals: Record<string, unknown>): void {
  if (installed) return;
  const proto = (name: string) => (globals[name] as { prototype?: Proto } | undefined)?.prototype;
  if (!proto('GPUComputePassEncoder')) return;
  installed = true;
  wrap(proto('GPUComputePassEncoder'), 'dispatchWorkgroups', () => void counts.dispatches++);
  wrap(proto('GPUComputePassEncoder'), 'dispatchWorkgroupsIndirect', () => void counts.dispatches++);
  wrap(proto('GPUQueue'), 'submit', () => void counts.submits++);
  wrap(proto('GPUDevice'), 'createBuffer', () => void counts.buffersCreated++);
  wrap(proto('GPUDevice'), 'createComputePipeline', () => void counts.pipelinesCreated++);
  wrap(proto('GPUDevice'), 'createComputePipelineAsync', () => void counts.pipelinesCreated++);
  const readMode = (globals['GPUMapMode'] as { READ?: number } | undefined)?.READ ?? 1;
  wrap(proto('GPUBuffer'), 'mapAsync', (self, args) => {
    if (((args[0] as number) & readMode) !== 0) {
      counts.reads++;
      const size = (args[2] as number | undefined) ?? (self as { size: number }).size - ((args[1] as number | undefined) ?? 0);
      counts.bytesRead += size;
    }
  });
}

/**
 * The counters since the process started (all zero before `useWebGpu`).
 *
 * @example
 * ```ts
 * gpuCounters().dispatches; // e.g. 1234
 * ```
 */
export function gpuCounters(): GpuCounters {
  return { ...counts };
}

/**
 * `a − b`, field by field.
 *
 * @example
 * ```ts
 * const step = diffGpuCounters(gpuCounters(), before);
 * ```
 */
export function diffGpuCounters(a: GpuCounters, b: GpuCounters): GpuCounters {
  return {
    dispatches: a.dispatches - b.dispatches,
    submits: a.submits - b.submits,
    reads: a.reads - b.reads,
    bytesRead: a.bytesRead - b.bytesRead,
    buffersCreated: a.buffersCreated - b.buffersCreated,
    pipelinesCreated: a.pipelinesCreated - b.pipelinesCreated,
  };
}
