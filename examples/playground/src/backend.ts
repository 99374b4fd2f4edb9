// Backend choice in the browser: WebGPU when `navigator.gpu` gives an adapter
// (through @vwn/kernels-gpu, which also brings vwn's fused WebGPU kernels),
// otherwise tfjs's wasm backend, its .wasm binaries served from this bundle.
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { useBackend } from '@vwn/core';
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

async function webgpuAdapterName(): Promise<string | null> {
  const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  if (!gpu) return null;
  const adapter = (await gpu.requestAdapter()) as { info?: { vendor?: string; architecture?: string; description?: string } } | null;
  if (!adapter) return null;
  const info = adapter.info ?? {};
  return [info.vendor, info.architecture, info.description].filter(Boolean).join(' ') || 'unnamed adapter';
}

async function useWasm(why: string): Promise<BackendInfo> {
  await useBackend('wasm');
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  return { backend: 'wasm', note: `wasm (XNNPACK${simd ? ', SIMD' : ''}, single thread)`, webgpuSkipped: why };
}

/** Selects the backend; `auto` tries WebGPU and falls back to wasm, saying why. */
export async function selectBackend(request: BackendRequest): Promise<BackendInfo> {
  if (request === 'cpu') {
    await useBackend('cpu');
    return { backend: 'cpu', note: 'cpu (pure JavaScript, slow)', webgpuSkipped: 'cpu requested' };
  }
  if (request === 'wasm') return useWasm('wasm requested');
  let adapter: string | null = null;
  try {
    adapter = await webgpuAdapterName();
  } catch (e) {
    if (request === 'webgpu') throw e;
    return useWasm(`navigator.gpu.requestAdapter() failed: ${(e as Error).message}`);
  }
  if (!adapter) {
    if (request === 'webgpu') throw new Error('WebGPU requested, but this browser has no WebGPU adapter (navigator.gpu)');
    return useWasm('this browser has no WebGPU adapter (navigator.gpu)');
  }
  try {
    await import('@vwn/kernels-gpu');
    const { backend } = await useBackend('webgpu');
    return { backend, note: `WebGPU (${adapter})` };
  } catch (e) {
    if (request === 'webgpu') throw e;
    return useWasm(`WebGPU failed to start: ${(e as Error).message}`);
  }
}
