import * as tf from '@tensorflow/tfjs';
import { ConfigError } from './errors.js';
import { registerFusedOps } from './fused.js';
import { registerVwnKernels } from './kernels/register_all.js';

/**
 * Backends a run can ask for. `auto` picks the fastest one available.
 *
 * @example
 * ```ts
 * BACKENDS; // ['auto', 'cpu', 'wasm', 'native', 'webgpu', 'tensorflow']
 * if (!(BACKENDS as readonly string[]).includes(flag)) throw new Error(`unknown backend ${flag}`);
 * ```
 */
export const BACKENDS = ['auto', 'cpu', 'wasm', 'native', 'webgpu', 'tensorflow'] as const;

/**
 * A backend name accepted by {@link useBackend}.
 *
 * @example
 * ```ts
 * const name: BackendName = process.env['CI'] ? 'cpu' : 'auto';
 * const { backend, note } = await useBackend(name);
 * ```
 */
export type BackendName = (typeof BACKENDS)[number];

/**
 * Hooks other packages install to provide a backend (e.g. @vwn/kernels-gpu
 * provides `webgpu`). A provider returns the tfjs backend name it registered.
 */
const providers = new Map<string, () => Promise<string>>();

/**
 * Registers a backend provider; used by @vwn/kernels-gpu for `webgpu`.
 *
 * @example
 * ```ts
 * registerBackendProvider('webgpu', async () => { await useWebGpu(); return 'webgpu'; });
 * ```
 */
export function registerBackendProvider(name: string, provider: () => Promise<string>): void {
  providers.set(name, provider);
}

async function tryImport(name: string): Promise<boolean> {
  try {
    await import(name);
    return true;
  } catch {
    return false;
  }
}

/**
 * Turns on @vwn/blas (native OpenBLAS/Accelerate matMul + wasm kernel fixes)
 * for the wasm backend when the optional package is installed; null when not.
 */
async function nativeBlas(): Promise<{ enabled: boolean; note: string } | null> {
  try {
    const blas = (await import('@vwn/blas' as string)) as {
      enableNativeBlas(opts?: { backends?: readonly string[] }): { enabled: boolean; note: string; fusedOps?: Record<string, object> };
    };
    const result = blas.enableNativeBlas({ backends: ['wasm'] });
    // Fused op groups the addon offers (e.g. 'dghc'), used by plugins while wasm is active.
    if (result.enabled) for (const [name, ops] of Object.entries(result.fusedOps ?? {})) registerFusedOps(name, ops, ['wasm']);
    return result;
  } catch {
    return null;
  }
}

/** Silences tfjs-backend-cpu's "install tfjs-node" banner: `useBackend` already says which backend runs. */
function quietCpuBanner(): void {
  const cpu = tf.findBackend('cpu') as { firstUse?: boolean } | null;
  if (cpu) cpu.firstUse = false;
}

async function activate(name: string): Promise<void> {
  quietCpuBanner();
  if (!(await tf.setBackend(name))) throw new Error(`tfjs could not initialize backend "${name}"`);
  await tf.ready();
  registerVwnKernels();
}

/**
 * Selects the tfjs backend for this process and returns the one in use.
 *
 * - `cpu`: pure JS, always available, slow matMul.
 * - `wasm`: XNNPACK SIMD (single-threaded in Node); @vwn/core adds the
 *   scatter-add kernel it lacks so embeddings train.
 * - `native`: `wasm` with @vwn/blas's OpenBLAS/Accelerate matMul (≈ 30× faster
 *   training on CPU than plain `wasm`); errors when @vwn/blas or its addon is missing.
 *   The note names the addon in use and why: `prebuilt @vwn/blas-linux-x64-gnu`, or
 *   `source build (no prebuilt for …)`.
 * - `webgpu`: needs @vwn/kernels-gpu (imported on demand).
 * - `tensorflow`: needs `@tensorflow/tfjs-node-gpu` or `@tensorflow/tfjs-node`
 *   installed by the user (optional peers, loaded by dynamic import).
 * - `auto`: `tensorflow` when installed, else `wasm` (+ @vwn/blas when it loads:
 *   native matMul, or without the addon its pure-JS wasm matMul fix), else `cpu`.
 *
 * @example
 * ```ts
 * const { backend, note } = await useBackend('auto');
 * console.log(backend, note); // 'wasm', 'auto: @tensorflow/tfjs-node not installed; using wasm'
 * ```
 */
export async function useBackend(name: string): Promise<{ backend: string; note: string }> {
  if (!(BACKENDS as readonly string[]).includes(name)) {
    throw new ConfigError('backend', `got "${name}"; allowed: ${BACKENDS.map((b) => `"${b}"`).join(', ')}`);
  }
  switch (name as BackendName) {
    case 'cpu':
      await activate('cpu');
      return { backend: 'cpu', note: 'cpu (pure JavaScript)' };
    case 'wasm':
      await import('@tensorflow/tfjs-backend-wasm');
      await activate('wasm');
      return { backend: 'wasm', note: 'wasm (XNNPACK, single thread)' };
    case 'native': {
      await import('@tensorflow/tfjs-backend-wasm');
      await activate('wasm');
      const blas = await nativeBlas();
      if (!blas?.enabled) {
        throw new ConfigError(
          'backend',
          `"native" needs @vwn/blas's addon (prebuilt for Linux x64 glibc in @vwn/blas-linux-x64-gnu; elsewhere built from source: apt-get install libopenblas-dev, then "npm install-scripts approve @vwn/blas && npm rebuild @vwn/blas"): ${blas?.note ?? '@vwn/blas is not installed'}`,
        );
      }
      return { backend: 'wasm', note: `native: wasm + ${blas.note}` };
    }
    case 'webgpu': {
      let provider = providers.get('webgpu');
      if (!provider && (await tryImport('@vwn/kernels-gpu'))) provider = providers.get('webgpu');
      if (!provider) {
        throw new ConfigError('backend', '"webgpu" needs @vwn/kernels-gpu (npm install @vwn/kernels-gpu)');
      }
      const b = await provider();
      registerVwnKernels();
      return { backend: b, note: `webgpu` };
    }
    case 'tensorflow': {
      for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
        if (await tryImport(pkg)) {
          await activate('tensorflow');
          return { backend: 'tensorflow', note: `tensorflow (${pkg})` };
        }
      }
      throw new ConfigError(
        'backend',
        '"tensorflow" needs @tensorflow/tfjs-node-gpu (CUDA 11.2 + cuDNN 8.1) or @tensorflow/tfjs-node installed next to @vwn/core; see docs/backends.md',
      );
    }
    case 'auto': {
      for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
        if (await tryImport(pkg)) {
          await activate('tensorflow');
          return { backend: 'tensorflow', note: `auto: using tensorflow (${pkg})` };
        }
      }
      try {
        await import('@tensorflow/tfjs-backend-wasm');
        await activate('wasm');
        const blas = await nativeBlas();
        if (blas?.enabled) return { backend: 'wasm', note: `auto: using wasm + ${blas.note}` };
        return {
          backend: 'wasm',
          note: `auto: using wasm${blas ? ` (${blas.note})` : ' (install @vwn/blas, or @tensorflow/tfjs-node, for a faster backend)'}`,
        };
      } catch {
        await activate('cpu');
        return { backend: 'cpu', note: 'auto: using cpu (wasm failed to load)' };
      }
    }
  }
}
