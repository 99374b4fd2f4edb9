import * as tf from '@tensorflow/tfjs';
import { ConfigError } from './errors.js';
import { registerFusedOpsUnchecked } from './fused.js';
import { registerVwnKernels } from './kernels/register_all.js';
import { pluginSources } from './registry.js';

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
 * What a backend provider may use: `activate(name)` selects a tfjs backend
 * (`'wasm'` loads tfjs-backend-wasm first) and registers @vwn/core's kernels on it.
 *
 * @example
 * ```ts
 * const provider: BackendProvider = async ({ activate }) => { await activate('wasm'); return { backend: 'wasm', note: 'wasm + my kernels' }; };
 * ```
 */
export interface BackendProviderHelpers {
  activate(name: string): Promise<void>;
}

/**
 * Provides a backend that @vwn/core does not build in (`native`, `webgpu`):
 * returns the tfjs backend it selected (and a note for the log), or throws
 * with the reason it cannot (e.g. the native addon is missing).
 *
 * @example
 * ```ts
 * registerBackendProvider('webgpu', async () => { await useWebGpu(); return 'webgpu'; });
 * ```
 */
export type BackendProvider = (helpers: BackendProviderHelpers) => Promise<string | BackendProviderResult>;

/**
 * What a {@link BackendProvider} may return besides the bare backend name:
 * a note for the log and fused-op groups (name → ops) that plugins should use
 * while that backend is active. Core registers them for `backend` without
 * knowing what they are (as {@link registerFusedOps} would).
 *
 * @example
 * ```ts
 * const provider: BackendProvider = async ({ activate }) => {
 *   await activate('wasm');
 *   return { backend: 'wasm', note: 'wasm + native DGHC', fusedOps: { dghc: { dghcRead, ghcWrite } } };
 * };
 * ```
 */
export interface BackendProviderResult {
  /** The tfjs backend the provider selected. */
  readonly backend: string;
  /** One line for the log (which kernels, which library). */
  readonly note: string;
  /** Fused-op groups for `backend`, by name (e.g. `dghc`). */
  readonly fusedOps?: Readonly<Record<string, object>> | undefined;
}

const providers = new Map<string, BackendProvider>();

/**
 * Registers a backend provider (a package does this on import, or the
 * application, e.g. the `vwn` CLI from the `"vwn": {"backends": …}` manifests).
 *
 * @example
 * ```ts
 * registerBackendProvider('webgpu', async () => { await useWebGpu(); return 'webgpu'; });
 * ```
 */
export function registerBackendProvider(name: string, provider: BackendProvider): void {
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

/** The provider of `name`: registered, or after asking the plugin sources to load it. */
async function providerOf(name: string): Promise<BackendProvider | undefined> {
  for (const s of pluginSources()) {
    if (providers.has(name)) break;
    try {
      await s.loadBackend?.(name);
    } catch {
      // reported below with the source's hint
    }
  }
  return providers.get(name);
}

/** Runs a provider; its result as `{backend, note}`. */
async function runProvider(name: string, provider: BackendProvider): Promise<{ backend: string; note: string }> {
  const out = await provider({ activate });
  const result = typeof out === 'string' ? { backend: out, note: name } : out;
  if (typeof out !== 'string') for (const [group, ops] of Object.entries(out.fusedOps ?? {})) registerFusedOpsUnchecked(group, ops, [out.backend]);
  registerVwnKernels();
  return { backend: result.backend, note: result.note };
}

/** The error for a backend without a provider, with the sources' hint (which package to install). */
function noProvider(name: string): ConfigError {
  const hint = pluginSources()
    .map((s) => s.backendHint?.(name))
    .find((h) => h !== undefined);
  return new ConfigError(
    'backend',
    `"${name}" has no provider registered${hint ? `: ${hint}` : '; import the package that provides it (it calls registerBackendProvider)'}`,
  );
}

/** Silences tfjs-backend-cpu's "install tfjs-node" banner: `useBackend` already says which backend runs. */
function quietCpuBanner(): void {
  const cpu = tf.findBackend('cpu') as { firstUse?: boolean } | null;
  if (cpu) cpu.firstUse = false;
}

async function activate(name: string): Promise<void> {
  if (name === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
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
 * - `native`, `webgpu`: run the provider registered with
 *   {@link registerBackendProvider} (by the package that provides it, or through a
 *   {@link PluginSource}'s `loadBackend`); without one, a {@link ConfigError} with
 *   the sources' hint (the `vwn` CLI names the package to install).
 * - `tensorflow`: needs `@tensorflow/tfjs-node-gpu` or `@tensorflow/tfjs-node`
 *   installed by the user (optional peers, loaded by dynamic import).
 * - `auto`: `tensorflow` when installed, else the `native` provider when there is
 *   one and it succeeds, else `wasm`, else `cpu`.
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
      await activate('wasm');
      return { backend: 'wasm', note: 'wasm (XNNPACK, single thread)' };
    case 'native':
    case 'webgpu': {
      const provider = await providerOf(name);
      if (!provider) throw noProvider(name);
      try {
        const { backend, note } = await runProvider(name, provider);
        return { backend, note: note === name ? note : `${name}: ${note}` };
      } catch (e) {
        if (e instanceof ConfigError) throw e;
        throw new ConfigError('backend', `"${name}" is not available: ${(e as Error).message}`);
      }
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
        await activate('wasm');
      } catch {
        await activate('cpu');
        return { backend: 'cpu', note: 'auto: using cpu (wasm failed to load)' };
      }
      const native = await providerOf('native');
      if (!native) return { backend: 'wasm', note: 'auto: using wasm (no "native" provider; install one, or @tensorflow/tfjs-node, for a faster backend)' };
      try {
        const { backend, note } = await runProvider('native', native);
        return { backend, note: `auto: using ${note}` };
      } catch (e) {
        await activate('wasm');
        return { backend: 'wasm', note: `auto: using wasm (${(e as Error).message})` };
      }
    }
  }
}
