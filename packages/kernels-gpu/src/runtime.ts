/**
 * The `webgpu` backend: tfjs-backend-webgpu on an adapter from
 * `navigator.gpu` (a browser; this module) or from Dawn, the `webgpu` npm
 * package (Node; `dawn.ts`, installed by the package's `node` entry).
 *
 * We pick the adapter ourselves, create the device with the same limits tfjs
 * asks for, and register `new WebGPUBackend(device, adapterInfo)` under
 * `webgpu`. This module imports no Node built-in and does not load Dawn.
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
  "no WebGPU adapter. Install a GPU driver with Vulkan (apt-get install libvulkan1 plus the vendor driver, e.g. NVIDIA's), " +
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
  /** Adapter choice; default: env `VWN_WEBGPU_ADAPTER` (Node), else `auto`. */
  readonly adapter?: WebGpuAdapterChoice;
  /** Where the one line naming the adapter goes; default `console.log`. */
  readonly log?: (line: string) => void;
  /**
   * A `GPUDevice` the page already has: used as it is (no adapter request);
   * its adapter is described from `device.adapterInfo` when the browser has it.
   */
  readonly device?: unknown;
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
  /**
   * @param detail - What was tried.
   * @param hint - What to do about it (default {@link WEBGPU_INSTALL_HINT}).
   */
  constructor(detail: string, hint: string = WEBGPU_INSTALL_HINT) {
    super(`webgpu: ${detail}; ${hint}`);
    this.name = 'WebGpuUnavailableError';
  }
}

/** @internal A `GPU` (navigator.gpu or Dawn's). */
export interface GpuLike {
  requestAdapter(options?: Record<string, unknown>): Promise<AdapterLike | null>;
}
/** @internal A `GPUAdapter`. */
export interface AdapterLike {
  info: AdapterInfoLike;
  features: { has(name: string): boolean };
  limits: Record<string, number>;
  requestDevice(descriptor?: Record<string, unknown>): Promise<unknown>;
}
/** @internal A `GPUAdapterInfo`. */
interface AdapterInfoLike {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  isFallbackAdapter?: boolean;
}

/** @internal An adapter found, and what to install before tfjs uses it (Dawn: the WebGPU globals). */
export interface FoundAdapter {
  adapter: AdapterLike;
  summary: WebGpuAdapterSummary;
  install?: () => void;
}

/** @internal Where adapters come from: `navigator.gpu` here; the Node entry installs Dawn. */
export interface WebGpuPlatform {
  findAdapter(choice: WebGpuAdapterChoice): Promise<FoundAdapter>;
  /** The adapter choice when none is given (Node: env `VWN_WEBGPU_ADAPTER`). */
  defaultChoice(): WebGpuAdapterChoice | undefined;
  /** A setting from the environment (Node: `process.env`); absent in browsers. */
  env?(name: string): string | undefined;
  /** Where the backend provider's lines go (Node: stderr). */
  log(line: string): void;
}

/** What a browser without WebGPU should do instead. */
const BROWSER_HINT = 'use a browser with WebGPU (Chrome/Edge 113+, or Firefox/Safari with WebGPU enabled) over https or localhost, or the wasm backend';

/** The browser platform: `navigator.gpu`. */
const browserPlatform: WebGpuPlatform = {
  async findAdapter(choice) {
    const gpu = (globalThis as { navigator?: { gpu?: GpuLike } }).navigator?.gpu;
    if (!gpu) throw new WebGpuUnavailableError('navigator.gpu is missing (this environment has no WebGPU)', BROWSER_HINT);
    const tried: string[] = [];
    if (choice !== 'compatibility') {
      const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
      if (adapter) return { adapter, summary: summarize(adapter, 'native') };
      tried.push('navigator.gpu.requestAdapter(): none');
    }
    if (choice !== 'native') {
      const adapter = await gpu.requestAdapter({ featureLevel: 'compatibility' });
      if (adapter) return { adapter, summary: summarize(adapter, 'compatibility') };
      tried.push('compatibility adapter: none');
    }
    throw new WebGpuUnavailableError(tried.join(', '), BROWSER_HINT);
  },
  defaultChoice: () => undefined,
  log: (line) => console.info(line),
};

let platform: WebGpuPlatform = browserPlatform;

/** @internal Installs where adapters come from (the Node entry: Dawn). */
export function setWebGpuPlatform(p: WebGpuPlatform): void {
  platform = p;
}

/** @internal The platform's log (the backend provider's lines). */
export function platformLog(line: string): void {
  platform.log(line);
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
export async function probeWebGpu(choice: WebGpuAdapterChoice = 'auto'): Promise<{ ok: true; adapter: WebGpuAdapterSummary } | { ok: false; reason: string }> {
  try {
    const found = await platform.findAdapter(choice);
    return { ok: true, adapter: found.summary };
  } catch (e) {
    return { ok: false, reason: e instanceof Error ? e.message : String(e) };
  }
}

/** @internal Describes an adapter. */
export function summarize(adapter: { info: AdapterInfoLike }, kind: 'native' | 'compatibility'): WebGpuAdapterSummary {
  const i: Partial<AdapterInfoLike> = adapter.info ?? {};
  const name = [i.vendor, i.architecture, i.device].filter((s) => s).join(' ') + (i.description ? ` (${i.description})` : '');
  const cpuEmulation = /llvmpipe|lavapipe|swiftshader/i.test(name) || i.isFallbackAdapter === true;
  return { kind, name: name || 'unknown adapter', cpuEmulation };
}

async function createBackend(opts: UseWebGpuOptions): Promise<WebGpuAdapterSummary> {
  const choice = opts.adapter ?? platform.defaultChoice() ?? 'auto';
  if (!['auto', 'native', 'compatibility'].includes(choice)) throw new Error(`webgpu: adapter must be auto, native or compatibility, got "${choice}"`);
  let device: unknown;
  let summary: WebGpuAdapterSummary;
  let info: unknown;
  if (opts.device !== undefined) {
    // The page's own device: describe its adapter when the browser says (GPUDevice.adapterInfo).
    const given = opts.device as { adapterInfo?: AdapterInfoLike };
    device = opts.device;
    info = given.adapterInfo ?? { vendor: '', architecture: '', device: '', description: 'a GPUDevice given by the caller' };
    summary = summarize({ info: info as AdapterInfoLike }, 'native');
  } else {
    const found = await platform.findAdapter(choice);
    found.install?.();
    summary = found.summary;
    info = found.adapter.info;
    device = await requestDevice(found.adapter);
  }
  // Count dispatches, submits and reads on the WebGPU classes (Dawn's, once installed as globals, or the browser's).
  installGpuCounters(globalThis as unknown as Record<string, unknown>);
  setWebGpuFlags();
  const backend = new NodeWebGpuBackend(device as ConstructorParameters<typeof WebGPUBackend>[0], info as ConstructorParameters<typeof WebGPUBackend>[1]);
  if (tf.engine().registryFactory['webgpu'] !== undefined) tf.removeBackend('webgpu');
  tf.registerBackend('webgpu', () => backend, 3);

  const how = summary.kind === 'native' ? 'native' : 'OpenGL compatibility';
  const note = summary.cpuEmulation ? `; ${/llvmpipe/i.test(summary.name) ? 'llvmpipe' : 'this adapter'} is a CPU emulation, not a GPU` : '';
  (opts.log ?? console.log)(`webgpu: adapter "${summary.name}" (${how}${note})`);
  return summary;
}

/**
 * tfjs-backend-webgpu flags that change how many dispatches, submits and reads
 * a step costs, set deliberately (issue #17):
 *
 * - `WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE` (tfjs default 15): dispatches recorded
 *   per `queue.submit`. A training step records hundreds; submitting every 15
 *   costs a submit (and a command-buffer round trip) each. Default here 64,
 *   env `VWN_WEBGPU_SUBMIT_BATCH` (Node). Freed buffers return to the pool only at a
 *   submit, so a larger batch holds a little more memory.
 * - `WEBGPU_CPU_FORWARD` (tfjs default true): ops whose inputs all still live
 *   on the CPU and are small run on the CPU backend. It never reads from the
 *   GPU (it applies only when no input has a GPU buffer), and it saves
 *   dispatches for host-side scalars; kept on, stated here.
 */
function setWebGpuFlags(): void {
  const raw = platform.env?.('VWN_WEBGPU_SUBMIT_BATCH');
  const batch = Number(raw ?? 64);
  if (!Number.isInteger(batch) || batch < 1) throw new Error(`webgpu: VWN_WEBGPU_SUBMIT_BATCH must be a positive integer, got "${raw}"`);
  tf.env().set('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE', batch);
  tf.env().set('WEBGPU_CPU_FORWARD', true);
}

async function requestDevice(adapter: AdapterLike): Promise<unknown> {
  // Same device request as tfjs-backend-webgpu's own registration (base.ts), plus the adapter's storage-buffer limit.
  const limits = adapter.limits;
  const requiredFeatures = adapter.features.has('timestamp-query') ? ['timestamp-query'] : [];
  return adapter.requestDevice({
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
}
