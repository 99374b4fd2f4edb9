import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The native addon's interface (see native/blas.c). All matrices row-major.
 *
 * @example
 * ```ts
 * const blas: Blas | null = loadBlas();
 * const C = new Float32Array(4);
 * // C = A·B for A = [[1, 2], [3, 4]], B = I₂ (one batch entry at offset 0)
 * blas?.gemm(false, false, 2, 2, 2, 1, Float32Array.of(1, 2, 3, 4), Float32Array.of(1, 0, 0, 1), 0, C,
 *   Int32Array.of(0), Int32Array.of(0), Int32Array.of(0)); // C = [1, 2, 3, 4]
 * ```
 */
export interface Blas {
  /**
   * Batched SGEMM: for each i, `C[cOffs[i]..] = alpha·op(A[aOffs[i]..])·op(B[bOffs[i]..]) + beta·C[cOffs[i]..]`
   * with `op(A): M×K`, `op(B): K×N`, `C: M×N`; offsets are in elements.
   */
  gemm(
    transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number,
    A: Float32Array, B: Float32Array, beta: number, C: Float32Array,
    aOffs: Int32Array, bOffs: Int32Array, cOffs: Int32Array,
  ): void;
  /**
   * `dst[b, c, r, :] = src[b, r, c, :]` for `src` viewed as `[B, R, C, E]` (4-byte elements; float32 and
   * int32 data both travel as Float32Array views). `src` and `dst` must not overlap.
   */
  transpose(src: Float32Array, dst: Float32Array, B: number, R: number, C: number, E: number): void;
  /**
   * `dst[a, c] = Σ_r src[a, r, c]` for `src` viewed as `[A, R, C]`, float32, summed in `r` order
   * (bitwise what tfjs-wasm computes after transposing the reduced axis innermost).
   */
  sumMiddle(src: Float32Array, dst: Float32Array, A: number, R: number, C: number): void;
  /** Sets OpenBLAS's thread count (no-op on Accelerate). */
  setNumThreads(n: number): void;
  /** OpenBLAS's thread count (0 on Accelerate). */
  getNumThreads(): number;
  /** Library name and build config, e.g. `OpenBLAS 0.3.21 DYNAMIC_ARCH ... MAX_THREADS=64`. */
  config(): string;
}

let cached: Blas | null | undefined;
let loadError = '';

/**
 * Where the addon is looked for: `build/Release/vwn_blas.node` next to src/ or dist/.
 *
 * @example
 * ```ts
 * import { existsSync } from 'node:fs';
 * console.log(addonPath()); // '…/node_modules/@vwn/blas/build/Release/vwn_blas.node'
 * if (!existsSync(addonPath())) console.log(blasLoadError()); // 'native addon not built (…)'
 * ```
 */
export function addonPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return join(here, '..', 'build', 'Release', 'vwn_blas.node');
}

/**
 * Loads the native BLAS addon. Returns null (never throws) when it was not
 * built (no OpenBLAS / compiler at install time), cannot be loaded, or
 * `VWN_NATIVE_BLAS=0` is set; {@link blasLoadError} then says why.
 *
 * @example
 * ```ts
 * const blas = loadBlas();
 * console.log(blas ? blas.config() : blasLoadError());
 * ```
 */
export function loadBlas(): Blas | null {
  if (cached !== undefined) return cached;
  if (process.env['VWN_NATIVE_BLAS'] === '0') {
    loadError = 'disabled by VWN_NATIVE_BLAS=0';
    return (cached = null);
  }
  const path = addonPath();
  if (!existsSync(path)) {
    loadError = `native addon not built (${path} missing; install libopenblas-dev, then \`npm install-scripts approve @vwn/blas && npm rebuild @vwn/blas\` (older npm: \`npm rebuild @vwn/blas\`))`;
    return (cached = null);
  }
  try {
    const require = createRequire(import.meta.url);
    cached = require(path) as Blas;
  } catch (e) {
    loadError = `native addon failed to load: ${(e as Error).message.split('\n')[0]}`;
    cached = null;
  }
  return cached;
}

/**
 * Why {@link loadBlas} returned null ('' when it loaded).
 *
 * @example
 * ```ts
 * process.env['VWN_NATIVE_BLAS'] = '0'; // before the first loadBlas() call
 * loadBlas();       // null
 * blasLoadError();  // 'disabled by VWN_NATIVE_BLAS=0'
 * ```
 */
export function blasLoadError(): string {
  loadBlas();
  return loadError;
}
