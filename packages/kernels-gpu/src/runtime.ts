/**
 * The `webgpu` backend in Node: Dawn (the `webgpu` npm package) plus
 * tfjs-backend-webgpu, registered as tfjs backend `webgpu`.
 *
 * tfjs-backend-webgpu registers itself only when `navigator.gpu` exists at
 * import time (a browser). In Node we create the Dawn instance ourselves, pick
 * an adapter, create the device with the same limits tfjs asks for, and
 * register `new WebGPUBackend(device, adapterInfo)` under `webgpu`.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';

import { installGpuCounters } from './counters.js';
import { registerGpuKernels } from './register_all.js';

/**
 * What to install when no adapter is found; shown in errors and test skips.
 *
 * @example
 * ```ts
 * const probe = await probeWebGpu();
 * if (!probe.ok) console.log(`skipping webgpu tests: ${WEBGPU_INSTALL_HINT}`);
 * ```
 */
export const WEBGPU_INSTALL_HINT =
  'no WebGPU adapter. Install a GPU driver with Vulkan (apt-get install libvulkan1 plus the vendor driver, e.g. NVIDIA\'s), ' +
  'or, for the CPU emulation (llvmpipe, slow), apt-get install libegl1 libegl-mesa0 libgl1-mesa-dri and run with ' +
  'EGL_PLATFORM=surfaceless (set automatically when unset)';

/**
 * Which adapter {@link useWebGpu} may choose.
 *
 * - `auto`: a native adapter (Vulkan / Metal / D3D12) if there is one, else the
 *   OpenGL compatibility adapter (Mesa llvmpipe on a machine without a GPU).
 * - `native`: only a native adapter.
 * - `compatibility`: only the OpenGL compatibility adapter.
 *
 * @example
 * ```ts
 * const adapter: WebGpuAdapterChoice = process.env['CI'] ? 'compatibility' : 'auto';
 * const probe = await probeWebGpu(adapter);
 * if (probe.ok) await useWebGpu({ adapter });
 * ```
 */
export type WebGpuAdapterChoice = 'auto' | 'native' | 'compatibility';

/**
 * Options of {@link useWebGpu}.
 *
 * @example
 * ```ts
 * await useWebGpu({ adapter: 'native', log: () => {} });
 * ```
 */
export interface UseWebGpuOptions {
  /** Adapter choice; default: env `VWN_WEBGPU_ADAPTER`, else `auto`. */
  readonly adapter?: WebGpuAdapterChoice;
  /** Where the one line naming the adapter goes; default `console.log`. */
  readonly log?: (line: string) => void;
}

/**
 * The adapter in use, as reported by Dawn.
 *
 * @example
 * ```ts
 * const { adapter } = await useWebGpu();
 * adapter.cpuEmulation; // true on llvmpipe
 * ```
 */
export interface WebGpuAdapterSummary {
  /** `native` or `compatibility` (OpenGL through EGL). */
  readonly kind: 'native' | 'compatibility';
  /** Vendor, device and driver description joined, e.g. `llvmpipe … (OpenGL 4.5 Mesa 22.3.6)`. */
  readonly name: string;
  /** True for software rasterizers (llvmpipe, lavapipe, SwiftShader): a CPU emulation, not a GPU. */
  readonly cpuEmulation: boolean;
}

/**
 * Error thrown by {@link useWebGpu} when no adapter can be found.
 *
 * @example
 * ```ts
 * try {
 *   await useWebGpu({ adapter: 'native' });
 * } catch (e) {
 *   if (e instanceof WebGpuUnavailableError) console.warn(e.message); // 'webgpu: …; no WebGPU adapter. Install …'
 * }
 * ```
 */
export class WebGpuUnavailableError extends Error {
  /** @param detail - What was tried. */
  constructor(detail: string) {
    super(`webgpu: ${detail}; ${WEBGPU_INSTALL_HINT}`);
    this.name = 'WebGpuUnavailableError';
  }
}

interface GpuLike {
  requestAdapter(options?: Record<string, unknown>): Promise<AdapterLike | null>;
}
interface AdapterLike {
  info: { vendor: string; architecture: string; device: string; description: string; isFallbackAdapter?: boolean };
  features: { has(name: string): boolean };
  limits: Record<string, number>;
  requestDevice(descriptor?: Record<string, unknown>): Promise<unknown>;
}

let active: Promise<WebGpuAdapterSummary> | null = null;

/**
 * tfjs-backend-webgpu reads GPU buffers synchronously (`dataSync`,
 * `arraySync`) through an `OffscreenCanvas`, which Node lacks; Dawn has no
 * blocking read either. Values still on the CPU are returned; otherwise the
 * error says to use the async API instead of failing with a ReferenceError.
 */
class NodeWebGpuBackend extends WebGPUBackend {
  override readSync(dataId: object): ReturnType<WebGPUBackend['readSync']> {
    try {
      return super.readSync(dataId);
    } catch (e) {
      if (e instanceof ReferenceError && /OffscreenCanvas/.test(e.message)) {
        throw new Error('webgpu in Node cannot read a GPU tensor synchronously (dataSync/arraySync); use `await tensor.data()` / `await tensor.array()`');
      }
      throw e;
    }
  }
}

/**
 * Creates the Dawn instance, chooses an adapter, registers tfjs-backend-webgpu
 * as backend `webgpu`, makes it the active backend and installs this package's
 * kernels. Prints one line naming the adapter. Idempotent: later calls reuse
 * the first device and only re-select the backend.
 *
 * @param opts - Adapter choice and log sink.
 * @returns The backend name (`webgpu`) and the adapter in use.
 * @throws {@link WebGpuUnavailableError} naming what to install when no adapter exists.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { useWebGpu } from '@vwn/kernels-gpu';
 *
 * const { adapter } = await useWebGpu();
 * // webgpu: adapter "llvmpipe-llvm-15-0-6-256-bits- (OpenGL version 4.5 …)" (OpenGL compatibility; llvmpipe is a CPU emulation, not a GPU)
 * tf.getBackend(); // 'webgpu'
 * ```
 */
export async function useWebGpu(opts: UseWebGpuOptions = {}): Promise<{ backend: 'webgpu'; adapter: WebGpuAdapterSummary }> {
  if (active === null) {
    active = createBackend(opts).catch((e: unknown) => {
      active = null;
      throw e;
    });
  }
  const adapter = await active;
  if (tf.getBackend() !== 'webgpu' && !(await tf.setBackend('webgpu'))) {
    throw new Error('webgpu: tfjs could not initialize the webgpu backend');
  }
  await tf.ready();
  registerGpuKernels();
  return { backend: 'webgpu', adapter };
}

/**
 * Looks for an adapter without registering anything (for tests and `vwn doctor`).
 *
 * @returns `{ ok: true, adapter }`, or `{ ok: false, reason }` naming what to install.
 *
 * @example
 * ```ts
 * const probe = await probeWebGpu();
 * if (!probe.ok) console.log(`skipping: ${probe.reason}`);
 * ```
 */
export async function probeWebGpu(
  choice: WebGpuAdapterChoice = 'auto',
): Promise<{ ok: true; adapter: WebGpuAdapterSummary } | { ok: false; reason: string }> {
  try {
    const found = await findAdapter(choice);
    return { ok: true, adapter: found.summary };
  } catch (e) {
    return { ok: false, reason: e instanceof Error ? e.message : String(e) };
  }
}

async function loadDawn(): Promise<{ create: (flags: string[]) => GpuLike; globals: Record<string, unknown> }> {
  try {
    const dawn = (await import('webgpu')) as unknown as { create: (flags: string[]) => GpuLike; globals: Record<string, unknown> };
    return dawn;
  } catch (e) {
    throw new WebGpuUnavailableError(`the Dawn binding (npm package "webgpu") failed to load (${e instanceof Error ? e.message : String(e)})`);
  }
}

function summarize(adapter: AdapterLike, kind: 'native' | 'compatibility'): WebGpuAdapterSummary {
  const i = adapter.info;
  const name = [i.vendor, i.architecture, i.device].filter((s) => s).join(' ') + (i.description ? ` (${i.description})` : '');
  const cpuEmulation = /llvmpipe|lavapipe|swiftshader/i.test(name) || i.isFallbackAdapter === true;
  return { kind, name: name || 'unknown adapter', cpuEmulation };
}

async function findAdapter(choice: WebGpuAdapterChoice): Promise<{ adapter: AdapterLike; summary: WebGpuAdapterSummary; globals: Record<string, unknown>; gpu: GpuLike }> {
  const dawn = await loadDawn();
  const tried: string[] = [];
  if (choice !== 'compatibility') {
    const gpu = dawn.create([]);
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (adapter) return { adapter, summary: summarize(adapter, 'native'), globals: dawn.globals, gpu };
    tried.push('native (Vulkan/Metal/D3D12): none');
  }
  if (choice !== 'native') {
    // Mesa's EGL needs a platform without a display server; surfaceless renders off-screen.
    process.env['EGL_PLATFORM'] ??= 'surfaceless';
    const gpu = dawn.create(['backend=opengl']);
    const adapter = await gpu.requestAdapter({ featureLevel: 'compatibility' });
    if (adapter) return { adapter, summary: summarize(adapter, 'compatibility'), globals: dawn.globals, gpu };
    tried.push('OpenGL compatibility (EGL): none');
  }
  throw new WebGpuUnavailableError(tried.join(', '));
}

/**
 * tfjs-backend-webgpu flags that change how many dispatches, submits and reads
 * a step costs, set deliberately (issue #17):
 *
 * - `WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE` (tfjs default 15): dispatches recorded
 *   per `queue.submit`. A training step records hundreds; submitting every 15
 *   costs a submit (and a command-buffer round trip) each. Default here 64,
 *   env `VWN_WEBGPU_SUBMIT_BATCH`. Freed buffers return to the pool only at a
 *   submit, so a larger batch holds a little more memory.
 * - `WEBGPU_CPU_FORWARD` (tfjs default true): ops whose inputs all still live
 *   on the CPU and are small run on the CPU backend. It never reads from the
 *   GPU (it applies only when no input has a GPU buffer), and it saves
 *   dispatches for host-side scalars; kept on, stated here.
 */
function setWebGpuFlags(): void {
  const batch = Number(process.env['VWN_WEBGPU_SUBMIT_BATCH'] ?? 64);
  if (!Number.isInteger(batch) || batch < 1) throw new Error(`webgpu: VWN_WEBGPU_SUBMIT_BATCH must be a positive integer, got "${process.env['VWN_WEBGPU_SUBMIT_BATCH']}"`);
  tf.env().set('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE', batch);
  tf.env().set('WEBGPU_CPU_FORWARD', true);
}

async function createBackend(opts: UseWebGpuOptions): Promise<WebGpuAdapterSummary> {
  const choice = opts.adapter ?? (process.env['VWN_WEBGPU_ADAPTER'] as WebGpuAdapterChoice | undefined) ?? 'auto';
  if (!['auto', 'native', 'compatibility'].includes(choice)) throw new Error(`webgpu: adapter must be auto, native or compatibility, got "${choice}"`);
  const { adapter, summary, globals, gpu } = await findAdapter(choice);
  // tfjs-backend-webgpu uses the WebGPU globals (GPUBufferUsage, GPUMapMode, …) and navigator.gpu.
  Object.assign(globalThis, globals);
  installGpuCounters(globals);
  setWebGpuFlags();
  const g = globalThis as { navigator?: { gpu?: unknown } };
  if (g.navigator === undefined) g.navigator = { gpu };
  else if (g.navigator.gpu === undefined) Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });

  // Same device request as tfjs-backend-webgpu's own registration (base.ts), plus the adapter's storage-buffer limit.
  const limits = adapter.limits;
  const requiredFeatures = adapter.features.has('timestamp-query') ? ['timestamp-query'] : [];
  const device = await adapter.requestDevice({
    requiredFeatures,
    requiredLimits: {
      maxComputeWorkgroupStorageSize: limits['maxComputeWorkgroupStorageSize'],
      maxComputeWorkgroupsPerDimension: limits['maxComputeWorkgroupsPerDimension'],
      maxStorageBufferBindingSize: limits['maxStorageBufferBindingSize'],
      maxBufferSize: limits['maxBufferSize'],
      maxComputeWorkgroupSizeX: limits['maxComputeWorkgroupSizeX'],
      maxComputeInvocationsPerWorkgroup: limits['maxComputeInvocationsPerWorkgroup'],
      maxStorageBuffersPerShaderStage: limits['maxStorageBuffersPerShaderStage'],
    },
  });
  const backend = new NodeWebGpuBackend(device as ConstructorParameters<typeof WebGPUBackend>[0], adapter.info as ConstructorParameters<typeof WebGPUBackend>[1]);
  if (tf.engine().registryFactory['webgpu'] !== undefined) tf.removeBackend('webgpu');
  tf.registerBackend('webgpu', () => backend, 3);

  const how = summary.kind === 'native' ? 'native' : 'OpenGL compatibility';
  const note = summary.cpuEmulation ? `; ${/llvmpipe/i.test(summary.name) ? 'llvmpipe' : 'this adapter'} is a CPU emulation, not a GPU` : '';
  (opts.log ?? console.log)(`webgpu: adapter "${summary.name}" (${how}${note})`);
  return summary;
}
