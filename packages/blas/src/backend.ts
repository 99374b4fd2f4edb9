import { enableNativeBlas } from './install.js';

/**
 * The `native` backend of vwn: `wasm` with native BLAS matMul. A backend
 * provider in @vwn/core's sense (`registerBackendProvider('native',
 * nativeBackend)`); the `vwn` CLI registers it from this package's
 * `"vwn": {"backends": {"native": "nativeBackend"}}` manifest. Throws, with
 * the reason and how to get the addon, when the addon does not load (the wasm
 * kernel fixes stay installed).
 *
 * @param helpers `activate(name)`, which selects a tfjs backend (from @vwn/core's `useBackend`)
 * @example
 * ```ts
 * import { registerBackendProvider, useBackend } from '@vwn/core';
 * import { nativeBackend } from '@vwn/blas';
 * registerBackendProvider('native', nativeBackend);
 * const { note } = await useBackend('native'); // 'native: wasm + native BLAS matMul (OpenBLAS …)'
 * ```
 */
export async function nativeBackend(helpers: {
  activate(name: string): Promise<void>;
}): Promise<{ backend: string; note: string; fusedOps: Readonly<Record<string, object>> }> {
  await helpers.activate('wasm');
  const blas = enableNativeBlas({ backends: ['wasm'] });
  if (!blas.enabled) {
    throw new Error(
      `needs @vwn/blas's addon (prebuilt for Linux x64 glibc in @vwn/blas-linux-x64-gnu; elsewhere built from source: apt-get install libopenblas-dev, then "npm install-scripts approve @vwn/blas && npm rebuild @vwn/blas"): ${blas.note}`,
    );
  }
  // The fused DGHC read / GHC write kernels: @vwn/core registers them for wasm, where @vwn/ghc's plugin finds them.
  return { backend: 'wasm', note: `wasm + ${blas.note}`, fusedOps: blas.fusedOps ?? {} };
}
