/**
 * Switches of @vwn/blas's optional kernels, and the one place that reads their
 * environment variables (the CLI's way to set them).
 *
 * @module
 */

/**
 * Which optional kernels {@link registerBlasKernels} installs on `wasm` (each
 * default `true`; `false` keeps, or restores, tfjs-wasm's own kernel).
 *
 * @example
 * ```ts
 * const k: KernelSwitches = { transpose: false, dghc: false }; // A/B: tfjs Transpose, no fused DGHC
 * registerBlasKernels('wasm', k);
 * ```
 */
export interface KernelSwitches {
  /** Zero-copy `Identity` / same-dtype `Cast` (env `VWN_WASM_SHARE=0` turns off). */
  readonly share?: boolean;
  /** Row `GatherV2` as heap copies (`VWN_WASM_GATHER=0`). */
  readonly gather?: boolean;
  /** Axis-0 `SplitV` as heap copies (`VWN_WASM_SPLIT=0`). */
  readonly split?: boolean;
  /** Native `Transpose` (addon only; `VWN_WASM_TRANSPOSE=0`). */
  readonly transpose?: boolean;
  /** Native `Sum` over middle axes (addon only; `VWN_WASM_SUM=0`). */
  readonly sum?: boolean;
  /** Fused DGHC read / GHC write kernels offered to `dynamic-ghc` (addon only; `VWN_BLAS_DGHC=0`). */
  readonly dghc?: boolean;
}

/**
 * The switches with every unset one filled in as `true`.
 *
 * @example
 * ```ts
 * resolveKernelSwitches({ sum: false }); // { share: true, gather: true, split: true, transpose: true, sum: false, dghc: true }
 * ```
 */
export function resolveKernelSwitches(k: KernelSwitches = {}): Required<KernelSwitches> {
  return {
    share: k.share ?? true,
    gather: k.gather ?? true,
    split: k.split ?? true,
    transpose: k.transpose ?? true,
    sum: k.sum ?? true,
    dghc: k.dghc ?? true,
  };
}

/**
 * Reads @vwn/blas's environment variables: `VWN_BLAS_THREADS=N`, and `=0` of
 * `VWN_WASM_SHARE`, `VWN_WASM_GATHER`, `VWN_WASM_SPLIT`, `VWN_WASM_TRANSPOSE`,
 * `VWN_WASM_SUM`, `VWN_BLAS_DGHC` (a kernel off). Only variables that are set
 * appear in the result. `enableNativeBlas` uses it for the options it is not given.
 *
 * @param env - the environment (default `process.env`).
 * @example
 * ```ts
 * blasOptionsFromEnv({ VWN_BLAS_THREADS: '1', VWN_WASM_SUM: '0' }); // { threads: 1, kernels: { sum: false } }
 * ```
 */
export function blasOptionsFromEnv(env: Record<string, string | undefined> = process.env): {
  threads?: number;
  kernels: KernelSwitches;
} {
  const kernels: Record<string, boolean> = {};
  const vars: Array<[keyof KernelSwitches, string]> = [
    ['share', 'VWN_WASM_SHARE'],
    ['gather', 'VWN_WASM_GATHER'],
    ['split', 'VWN_WASM_SPLIT'],
    ['transpose', 'VWN_WASM_TRANSPOSE'],
    ['sum', 'VWN_WASM_SUM'],
    ['dghc', 'VWN_BLAS_DGHC'],
  ];
  for (const [key, name] of vars) if (env[name] !== undefined) kernels[key] = env[name] !== '0';
  const threads = Number(env['VWN_BLAS_THREADS']);
  return Number.isInteger(threads) && threads > 0 ? { threads, kernels } : { kernels };
}
