// Backend choice in the browser: WebGPU when `navigator.gpu` gives a GPU adapter
// (through @vwn/kernels-gpu, which also brings vwn's fused WebGPU kernels and
// is loaded only then), otherwise tfjs's wasm backend, its .wasm binaries
// served from this bundle.
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { registerVwnKernels, useBackend } from '@vwn/core';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';

/** What the page asked for (`?backend=` in the URL; default `auto`). */
export type BackendRequest = 'auto' | 'webgpu' | 'wasm' | 'cpu';

/** The backend in use and a line saying why. */
export interface BackendInfo {
  readonly backend: string;
  readonly note: string;
  /** Why WebGPU was not used (when it was not). */
  readonly webgpuSkipped?: string;
}

// tfjs's multi-threaded wasm does not survive bundling: its pthread workers
// re-evaluate the (minified) Emscripten factory and fail with "ReferenceError:
// e is not defined". So threads stay off even on a cross-origin-isolated page.
tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
// (setWasmPaths wants an entry for every binary; the threaded one is never fetched.)
setWasmPaths({ 'tfjs-backend-wasm.wasm': wasmPlain, 'tfjs-backend-wasm-simd.wasm': wasmSimd, 'tfjs-backend-wasm-threaded-simd.wasm': wasmSimd });

async function useWasm(why: string): Promise<BackendInfo> {
  await useBackend('wasm');
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  return { backend: 'wasm', note: `wasm (XNNPACK${simd ? ', SIMD' : ''}, single thread)`, webgpuSkipped: why };
}

/**
 * Selects the backend. `auto`: WebGPU when the browser has a hardware adapter;
 * a CPU-emulated one (SwiftShader, llvmpipe: ~17x slower than wasm for these
 * model sizes in headless Chromium) falls back to wasm, saying why; `webgpu`
 * forces it.
 */
export async function selectBackend(request: BackendRequest): Promise<BackendInfo> {
  if (request === 'cpu') {
    await useBackend('cpu');
    return { backend: 'cpu', note: 'cpu (pure JavaScript, slow)', webgpuSkipped: 'cpu requested' };
  }
  if (request === 'wasm') return useWasm('wasm requested');
  let gpu: typeof import('@vwn/kernels-gpu');
  try {
    gpu = await import('@vwn/kernels-gpu');
  } catch (e) {
    if (request === 'webgpu') throw e;
    return useWasm(`@vwn/kernels-gpu failed to load: ${(e as Error).message}`);
  }
  const probe = await gpu.probeWebGpu();
  if (!probe.ok) {
    if (request === 'webgpu') throw new Error(`WebGPU requested, but ${probe.reason}`);
    return useWasm(probe.reason);
  }
  if (probe.adapter.cpuEmulation && request === 'auto') {
    return useWasm(`the WebGPU adapter "${probe.adapter.name}" is a CPU emulation, slower than wasm; ?backend=webgpu uses it anyway`);
  }
  try {
    const { adapter } = await gpu.useWebGpu({ log: () => {} });
    registerVwnKernels(); // what useBackend('webgpu') does after the provider
    return { backend: 'webgpu', note: `WebGPU (${adapter.name}${adapter.cpuEmulation ? ', a CPU emulation' : ''})` };
  } catch (e) {
    if (request === 'webgpu') throw e;
    return useWasm(`WebGPU failed to start: ${(e as Error).message}`);
  }
}
