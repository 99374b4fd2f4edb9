import * as tf from '@tensorflow/tfjs';
import { blasAddon, blasLoadError, loadBlas, type Blas } from './native.js';
import { dghcFusedOps, registerDghcKernels, type DghcFusedOps } from './ops/dghc.js';
import { fusedMatMul } from './kernels/fused_mat_mul.js';
import { wasmRowGather } from './kernels/gather.js';
import { cpuMatMul, wasmMatMul } from './kernels/mat_mul.js';
import { wasmShare } from './kernels/share.js';
import { wasmRowSplit } from './kernels/split.js';
import { wasmSum } from './kernels/sum.js';
import { wasmTranspose } from './kernels/transpose.js';
import type { KernelFn } from './kernels/types.js';
import { perBatchFn, wasmTransposeFirst } from './kernels/wasm_mat_mul_fix.js';
import { blasOptionsFromEnv, resolveKernelSwitches, type KernelSwitches } from './options.js';
/**
 * Backends whose matMul kernels @vwn/blas can replace.
 *
 * @example
 * ```ts
 * BLAS_BACKENDS; // ['cpu', 'wasm']
 * (BLAS_BACKENDS as readonly string[]).includes(tf.getBackend()); // false on 'webgl' / 'webgpu'
 * ```
 */
export const BLAS_BACKENDS = ['cpu', 'wasm'] as const;

/**
 * Kernel names replaced (tfjs 4.22: `tf.matMul` → `BatchMatMul`, `tf.fused.matMul` → `_FusedMatMul`;
 * on wasm also `Identity` and same-dtype `Cast`, which tfjs-wasm copies but can share,
 * row-`GatherV2` and axis-0 `SplitV`, which tfjs-wasm runs element by element, and, with the
 * native addon, `Transpose`, which tfjs-wasm runs 6–50× slower than a copy of the same bytes, and
 * `Sum` over non-innermost axes, which tfjs-wasm runs by transposing first).
 *
 * @example
 * ```ts
 * BLAS_KERNELS; // ['BatchMatMul', '_FusedMatMul', 'Identity', 'Cast', 'GatherV2', 'SplitV', 'Transpose', 'Sum']
 * const replaced = registerBlasKernels('wasm');
 * replaced.every((k) => (BLAS_KERNELS as readonly string[]).includes(k)); // true
 * ```
 */
export const BLAS_KERNELS = ['BatchMatMul', '_FusedMatMul', 'Identity', 'Cast', 'GatherV2', 'SplitV', 'Transpose', 'Sum'] as const;

const originals = new Map<string, tf.KernelConfig>();
const ours = new Map<string, tf.KernelConfig>();

function swap(config: tf.KernelConfig): void {
  const { kernelName, backendName } = config;
  if (tf.getKernel(kernelName, backendName)) tf.unregisterKernel(kernelName, backendName);
  tf.registerKernel(config);
}

/**
 * Replaces `BatchMatMul` and `_FusedMatMul` of `backendName` (`cpu` or `wasm`)
 * with native-BLAS versions; tfjs's kernels stay as fallback for int32, rank < 2
 * and other unsupported cases. On `wasm` it also installs the zero-copy
 * `Identity`/`Cast` and the row `GatherV2`/`SplitV` kernels. Idempotent. Must
 * run after the backend's own kernels are registered (i.e. after importing the
 * backend package). Returns the kernel names replaced (empty when the addon is
 * unavailable).
 *
 * @example
 * ```ts
 * await import('@tensorflow/tfjs-backend-wasm');
 * registerBlasKernels('wasm'); // ['BatchMatMul', 'Identity', 'Cast', 'GatherV2', 'SplitV', 'Transpose', 'Sum', 'VwnBlasDghcRead', …, '_FusedMatMul']
 * registerBlasKernels('wasm', { transpose: false }); // tfjs-wasm's Transpose stays (or is restored)
 * ```
 */
export function registerBlasKernels(backendName: string, kernels: KernelSwitches = {}): string[] {
  const blas = loadBlas();
  if (!blas || !(BLAS_BACKENDS as readonly string[]).includes(backendName)) return [];
  return installMatMul(backendName, blas, kernels);
}

/**
 * Without the native addon: on `wasm`, replaces `BatchMatMul` with a pure-JS
 * wrapper that transposes operands explicitly and runs batched products as
 * 2-D GEMMs, so XNNPACK's fast untransposed path serves every matMul (≈ 7×
 * faster bench-small training), plus the zero-copy `Identity`/`Cast` and row
 * `GatherV2`/`SplitV` kernels. Returns the kernel names replaced. Idempotent;
 * undone by {@link unregisterBlasKernels}.
 *
 * @example
 * ```ts
 * await useBackend('wasm');
 * registerWasmMatMulFix(); // ['BatchMatMul', 'Identity', 'Cast', 'GatherV2', 'SplitV']
 * registerWasmMatMulFix({ gather: false }); // without the row gather
 * ```
 */
export function registerWasmMatMulFix(kernels: KernelSwitches = {}): string[] {
  return installMatMul('wasm', null, kernels);
}

function installMatMul(backendName: string, blas: Blas | null, switches: KernelSwitches): string[] {
  const on = resolveKernelSwitches(switches);
  const done: string[] = [];
  const current = (name: string) => tf.getKernel(name, backendName) as tf.KernelConfig | undefined;
  const fallbackOf = (name: string): KernelFn | null => {
    const key = `${name}/${backendName}`;
    const existing = current(name);
    if (existing && existing !== ours.get(key)) originals.set(key, existing);
    const orig = originals.get(key);
    return orig ? (orig.kernelFunc as unknown as KernelFn) : null;
  };
  const mmFallback = fallbackOf('BatchMatMul');
  if (!mmFallback) return [];
  if (!blas && backendName !== 'wasm') return [];
  const mode = blas ? 'blas' : 'fix';
  const install = (name: string, make: () => KernelFn) => {
    const key = `${name}/${backendName}`;
    let cfg = ours.get(key) as (tf.KernelConfig & { mode?: string }) | undefined;
    if (!cfg || cfg.mode !== mode) {
      cfg = { kernelName: name, backendName, kernelFunc: make() as never, mode };
      ours.set(key, cfg);
    }
    if (current(name) !== cfg) swap(cfg);
    done.push(name);
  };
  const restore = (name: string) => {
    const key = `${name}/${backendName}`;
    const orig = originals.get(key);
    if (orig && ours.get(key) && current(name) === ours.get(key)) swap(orig);
  };
  install('BatchMatMul', () =>
    !blas ? wasmTransposeFirst(perBatchFn(mmFallback)) : backendName === 'cpu' ? cpuMatMul(blas, mmFallback) : wasmMatMul(blas, mmFallback),
  );
  if (backendName === 'wasm' && on.share) {
    for (const name of ['Identity', 'Cast'] as const) {
      const orig = fallbackOf(name);
      if (orig) install(name, () => wasmShare(orig, name === 'Cast'));
    }
  }
  if (backendName === 'wasm' && on.gather) {
    const orig = fallbackOf('GatherV2');
    if (orig) install('GatherV2', () => wasmRowGather(orig));
  }
  if (backendName === 'wasm' && on.split) {
    const split = fallbackOf('SplitV');
    if (split) install('SplitV', () => wasmRowSplit(split));
  }
  if (blas && backendName === 'wasm' && on.transpose) {
    const orig = fallbackOf('Transpose');
    if (orig) install('Transpose', () => wasmTranspose(blas, orig));
  }
  if (blas && backendName === 'wasm' && on.sum) {
    const orig = fallbackOf('Sum');
    if (orig) install('Sum', () => wasmSum(blas, orig));
  }
  // A switch turned off restores tfjs's own kernel (so A/B runs can flip them in one process).
  if (backendName === 'wasm') {
    if (!on.share) ['Identity', 'Cast'].forEach(restore);
    if (!on.gather) restore('GatherV2');
    if (!on.split) restore('SplitV');
    if (!blas || !on.transpose) restore('Transpose');
    if (!blas || !on.sum) restore('Sum');
  }
  if (blas && backendName === 'wasm' && on.dghc) done.push(...registerDghcKernels());
  const fusedFallback = fallbackOf('_FusedMatMul');
  if (blas && fusedFallback) {
    const ourMm = ours.get(`BatchMatMul/${backendName}`)!.kernelFunc as unknown as KernelFn;
    install('_FusedMatMul', () => fusedMatMul(backendName, ourMm, fusedFallback));
  } else if (!blas) {
    restore('_FusedMatMul'); // tfjs's own fused matMul stays; make sure a previous BLAS one is gone
  }
  return done;
}

/**
 * Restores tfjs's own kernels on `backendName` (undoes {@link registerBlasKernels} / {@link registerWasmMatMulFix}).
 *
 * @example
 * ```ts
 * registerBlasKernels('cpu');
 * unregisterBlasKernels('cpu');
 * blasKernelsActive('cpu'); // false
 * ```
 */
export function unregisterBlasKernels(backendName: string): void {
  for (const name of BLAS_KERNELS) {
    const key = `${name}/${backendName}`;
    const orig = originals.get(key);
    const mine = ours.get(key);
    if (orig && mine && tf.getKernel(name, backendName) === mine) swap(orig);
  }
}

/**
 * Whether `backendName`'s `BatchMatMul` is currently the BLAS one.
 *
 * @example
 * ```ts
 * enableNativeBlas({ backends: ['cpu'] });
 * blasKernelsActive('cpu');  // true when the addon loaded
 * blasKernelsActive('wasm'); // false (not patched; the no-BLAS wasm fix also reports false)
 * ```
 */
export function blasKernelsActive(backendName: string): boolean {
  const mine = ours.get(`BatchMatMul/${backendName}`) as (tf.KernelConfig & { mode?: string }) | undefined;
  return mine !== undefined && mine.mode === 'blas' && tf.getKernel('BatchMatMul', backendName) === mine;
}

/**
 * Options of {@link enableNativeBlas}. Unset fields come from {@link blasOptionsFromEnv}
 * (the `VWN_BLAS_THREADS` / `VWN_WASM_*` / `VWN_BLAS_DGHC` variables), so the CLI's
 * environment switches keep working; explicit fields win.
 *
 * @example
 * ```ts
 * const opts: EnableOptions = { threads: 4, backends: ['wasm'], kernels: { transpose: false } };
 * enableNativeBlas(opts);
 * ```
 */
export interface EnableOptions {
  /** OpenBLAS threads (and the fused kernels' threads); default: OpenBLAS's own default = cores. */
  readonly threads?: number;
  /** Backends to patch (default: every one of cpu/wasm whose kernels are registered). */
  readonly backends?: readonly string[];
  /** Which optional wasm kernels to install (default: all on). */
  readonly kernels?: KernelSwitches;
}

/**
 * What {@link enableNativeBlas} did: whether the active backend now uses BLAS, a
 * one-line note, and the fused op groups it offers for the `wasm` backend (for
 * `registerFusedOps` of `@vwn/core`, which `useBackend('native')` calls).
 *
 * @example
 * ```ts
 * const r: EnableResult = enableNativeBlas({ backends: ['wasm'] });
 * if (r.fusedOps.dghc) registerFusedOps('dghc', r.fusedOps.dghc, ['wasm']);
 * ```
 */
export interface EnableResult {
  readonly enabled: boolean;
  readonly note: string;
  /** Fused op groups by name (`dghc` when the wasm backend was patched and `kernels.dghc` is on). */
  readonly fusedOps: { readonly dghc?: DghcFusedOps };
}

/**
 * Turns on native-BLAS matMul for tfjs's `cpu` and `wasm` backends when the
 * addon is available; never throws. `enabled` is true when the active backend
 * (or, before any backend is active, at least one backend) now uses BLAS. On
 * `wasm` it also registers the fused DGHC kernels and returns their ops in
 * `fusedOps.dghc`.
 *
 * @example
 * ```ts
 * const { enabled, note } = enableNativeBlas();
 * console.log(note); // 'native BLAS matMul (OpenBLAS 0.3.21, 2 threads, prebuilt @vwn/blas-linux-x64-gnu) on wasm, cpu; fused DGHC'
 * ```
 */
export function enableNativeBlas(opts: EnableOptions = {}): EnableResult {
  const env = blasOptionsFromEnv();
  const kernels: KernelSwitches = { ...env.kernels, ...opts.kernels };
  const blas = loadBlas();
  if (!blas) {
    let fix = false;
    try {
      fix = (opts.backends ?? BLAS_BACKENDS).includes('wasm') && registerWasmMatMulFix(kernels).length > 0;
    } catch {
      fix = false;
    }
    return {
      enabled: false,
      note: `@vwn/blas: ${blasLoadError()}; using tfjs matMul kernels` + (fix ? ' (wasm: transposes hoisted out of XNNPACK matMul)' : ''),
      fusedOps: {},
    };
  }
  const threads = opts.threads ?? env.threads ?? 0;
  if (threads > 0) {
    blas.setNumThreads(threads);
    blas.setKernelThreads(threads);
  }
  const patched: string[] = [];
  for (const b of opts.backends ?? BLAS_BACKENDS) {
    try {
      if (registerBlasKernels(b, kernels).length) patched.push(b);
    } catch {
      // leave that backend on tfjs kernels
    }
  }
  const active = (tf.engine() as unknown as { backendName: string | null }).backendName;
  const enabled = active ? patched.includes(active) : patched.length > 0;
  const dghc = patched.includes('wasm') && resolveKernelSwitches(kernels).dghc;
  const lib = blas.config().split(' ').slice(0, 2).join(' ');
  const note = patched.length
    ? `native BLAS matMul (${lib}, ${blas.getNumThreads()} threads, ${blasAddon()?.why ?? 'addon'}) on ${patched.join(', ')}` +
      (dghc ? '; fused DGHC kernels' : '') +
      (active && !enabled ? `; active backend "${active}" unchanged` : '')
    : `@vwn/blas: no cpu/wasm backend registered yet; import one first`;
  return { enabled, note, fusedOps: dghc ? { dghc: dghcFusedOps } : {} };
}
