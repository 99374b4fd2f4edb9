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
    transA: boolean,
    transB: boolean,
    M: number,
    N: number,
    K: number,
    alpha: number,
    A: Float32Array,
    B: Float32Array,
    beta: number,
    C: Float32Array,
    aOffs: Int32Array,
    bOffs: Int32Array,
    cOffs: Int32Array,
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
  /**
   * Fused DGHC read (PAPER.md §5; native/dghc.c), per token of `state` `[N, n·d_b]`: RMSNorm of the n
   * segments, `c = tanh(RMSNorm(H')·(g ⊙ W)/τ)` `[N, n, 2m+n]`, `A = S_α ⊙ c[:, :m+n] + [Å | Â]`,
   * `bT = S_βᵀ ⊙ c[:, m+n:] + Bᵀ` `[N, n, m]`, and `[x; carried] = Aᵀ·H'` (`[N, m·d_b]`, `[N, n·d_b]`).
   * Writes `x`, `carried`, `bT` and `c` (kept for {@link Blas.dghcReadGrad}).
   */
  dghcRead(
    N: number,
    m: number,
    n: number,
    db: number,
    eps: number,
    state: Float32Array,
    w: Float32Array,
    gain: Float32Array,
    scaleAlpha: Float32Array,
    scaleBeta: Float32Array,
    read: Float32Array,
    carry: Float32Array,
    write: Float32Array,
    x: Float32Array,
    carried: Float32Array,
    bT: Float32Array,
    c: Float32Array,
  ): void;
  /** Backward of {@link Blas.dghcRead}: writes the gradients of the state and of every parameter (sums over tokens in a fixed order). */
  dghcReadGrad(
    N: number,
    m: number,
    n: number,
    db: number,
    eps: number,
    dx: Float32Array,
    dcarried: Float32Array,
    dbT: Float32Array,
    state: Float32Array,
    c: Float32Array,
    w: Float32Array,
    gain: Float32Array,
    scaleAlpha: Float32Array,
    scaleBeta: Float32Array,
    read: Float32Array,
    carry: Float32Array,
    dstate: Float32Array,
    dw: Float32Array,
    dgain: Float32Array,
    dscaleAlpha: Float32Array,
    dscaleBeta: Float32Array,
    dread: Float32Array,
    dcarry: Float32Array,
    dwrite: Float32Array,
  ): void;
  /** GHC write, `out = bT·z + carried` per token (`[N, n·d_b]`). */
  ghcWrite(N: number, m: number, n: number, db: number, carried: Float32Array, z: Float32Array, bT: Float32Array, out: Float32Array): void;
  /** Backward of {@link Blas.ghcWrite}: `dz = bTᵀ·dout`, `dbT = dout·zᵀ` per token (the carry's gradient is `dout`). */
  ghcWriteGrad(N: number, m: number, n: number, db: number, dout: Float32Array, z: Float32Array, bT: Float32Array, dz: Float32Array, dbT: Float32Array): void;
  /** Threads of the fused kernels (0: follow OpenBLAS's thread count). Results do not depend on it. */
  setKernelThreads(n: number): void;
  /** Threads the fused kernels use. */
  getKernelThreads(): number;
  /** Sets OpenBLAS's thread count (no-op on Accelerate). */
  setNumThreads(n: number): void;
  /** OpenBLAS's thread count (0 on Accelerate). */
  getNumThreads(): number;
  /** Library name and build config, e.g. `OpenBLAS 0.3.21 DYNAMIC_ARCH ... MAX_THREADS=64`. */
  config(): string;
}

/**
 * Where a source build of the addon is looked for (the fallback after the
 * prebuilt package): `build/Release/vwn_blas.node` next to src/ or dist/.
 *
 * @example
 * ```ts
 * import { existsSync } from 'node:fs';
 * console.log(addonPath()); // '…/node_modules/@vwn/blas/build/Release/vwn_blas.node'
 * if (!existsSync(addonPath())) console.log('no source build; the prebuilt package is used if installed');
 * ```
 */
export function addonPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return join(here, '..', 'build', 'Release', 'vwn_blas.node');
}

/**
 * Which addon file {@link loadBlas} loaded, and why that one.
 *
 * @example
 * ```ts
 * const info: BlasAddon | null = blasAddon();
 * console.log(info?.kind, info?.why); // 'prebuilt', 'prebuilt @vwn/blas-linux-x64-gnu'
 * ```
 */
export interface BlasAddon {
  /** `prebuilt`: the platform package's binary (statically linked OpenBLAS); `source`: built here by node-gyp. */
  readonly kind: 'prebuilt' | 'source';
  /** Absolute path of the `.node` file. */
  readonly path: string;
  /** Why this one, e.g. `prebuilt @vwn/blas-linux-x64-gnu` or `source build (no prebuilt for darwin-arm64)`. */
  readonly why: string;
}

/**
 * Platforms with a prebuilt addon package `@vwn/blas-<platform>` (listed in
 * `optionalDependencies`, so npm installs the one that matches and no other).
 *
 * @example
 * ```ts
 * PREBUILT_PLATFORMS.includes(prebuiltPlatform()); // true on Linux x86-64 with glibc
 * ```
 */
export const PREBUILT_PLATFORMS: readonly string[] = ['linux-x64-gnu'];

/**
 * This machine in the prebuilt packages' naming: `<os>-<cpu>` plus `-gnu` /
 * `-musl` on Linux (from `process.report`'s glibc version).
 *
 * @example
 * ```ts
 * prebuiltPlatform(); // 'linux-x64-gnu'
 * `@vwn/blas-${prebuiltPlatform()}`; // the package loadBlas looks for
 * ```
 */
export function prebuiltPlatform(): string {
  const base = `${process.platform}-${process.arch}`;
  if (process.platform !== 'linux') return base;
  const report = process.report as { excludeNetwork?: boolean; getReport(): object } | undefined;
  let glibc: unknown;
  const excludeNetwork = report?.excludeNetwork;
  try {
    if (report) report.excludeNetwork = true; // the report's network part can take seconds
    glibc = (report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header?.glibcVersionRuntime;
  } catch {
    glibc = undefined;
  } finally {
    if (report && excludeNetwork !== undefined) report.excludeNetwork = excludeNetwork;
  }
  return `${base}-${glibc ? 'gnu' : 'musl'}`;
}

let cached: Blas | null | undefined;
let loadError = '';
let loaded: BlasAddon | null = null;

function firstLine(e: unknown): string {
  return String((e as Error)?.message ?? e).split('\n')[0]!;
}

/** The platform package's binary, or why there is none. */
function findPrebuilt(require: NodeJS.Require): { path: string; pkg: string } | { reason: string } {
  const platform = prebuiltPlatform();
  if (!PREBUILT_PLATFORMS.includes(platform)) return { reason: `no prebuilt for ${platform}` };
  const pkg = `@vwn/blas-${platform}`;
  try {
    return { path: join(dirname(require.resolve(`${pkg}/package.json`)), 'vwn_blas.node'), pkg };
  } catch {
    return { reason: `${pkg} not installed (an optional dependency of @vwn/blas: was it omitted, e.g. --omit=optional?)` };
  }
}

/**
 * Loads the native BLAS addon, trying in order:
 *
 * 1. the prebuilt platform package `@vwn/blas-<os>-<cpu>-<libc>` (e.g.
 *    `@vwn/blas-linux-x64-gnu`: OpenBLAS linked in statically, no install script,
 *    no system library);
 * 2. a source build, `build/Release/vwn_blas.node` (node-gyp against the system
 *    OpenBLAS / Accelerate, see {@link addonPath}).
 *
 * Returns null (never throws) when neither loads or `VWN_NATIVE_BLAS=0` is set;
 * {@link blasLoadError} then says why, and {@link blasAddon} says which file
 * loaded otherwise. `VWN_NATIVE_BLAS=prebuilt` or `=source` allows only that one.
 *
 * @example
 * ```ts
 * const blas = loadBlas();
 * console.log(blas ? `${blas.config()} (${blasAddon()!.why})` : blasLoadError());
 * ```
 */
export function loadBlas(): Blas | null {
  if (cached !== undefined) return cached;
  const mode = process.env['VWN_NATIVE_BLAS'] ?? '';
  if (mode === '0') {
    loadError = 'disabled by VWN_NATIVE_BLAS=0';
    return (cached = null);
  }
  const require = createRequire(import.meta.url);
  const reasons: string[] = [];
  if (mode === 'source') {
    reasons.push('prebuilt skipped by VWN_NATIVE_BLAS=source');
  } else {
    const found = findPrebuilt(require);
    if ('reason' in found) {
      reasons.push(found.reason);
    } else {
      try {
        cached = require(found.path) as Blas;
        loaded = { kind: 'prebuilt', path: found.path, why: `prebuilt ${found.pkg}` };
        return cached;
      } catch (e) {
        reasons.push(`prebuilt ${found.pkg} failed to load: ${firstLine(e)}`);
      }
    }
  }
  const path = addonPath();
  if (mode === 'prebuilt') {
    reasons.push('source build skipped by VWN_NATIVE_BLAS=prebuilt');
  } else if (!existsSync(path)) {
    reasons.push(
      `no source build (${path} missing; install a C compiler and libopenblas-dev, then \`npm install-scripts approve @vwn/blas && npm rebuild @vwn/blas\` (older npm: \`npm rebuild @vwn/blas\`))`,
    );
  } else {
    try {
      cached = require(path) as Blas;
      loaded = { kind: 'source', path, why: `source build (${reasons.join('; ')})` };
      return cached;
    } catch (e) {
      reasons.push(`source build failed to load: ${firstLine(e)}`);
    }
  }
  loadError = `no native addon: ${reasons.join('; ')}`;
  return (cached = null);
}

/**
 * Which addon {@link loadBlas} loaded (prebuilt or source build) and why; null
 * when none loaded ({@link blasLoadError} says why).
 *
 * @example
 * ```ts
 * const info = blasAddon();
 * console.log(info ? `${info.why}: ${info.path}` : blasLoadError());
 * // 'prebuilt @vwn/blas-linux-x64-gnu: …/node_modules/@vwn/blas-linux-x64-gnu/vwn_blas.node'
 * ```
 */
export function blasAddon(): BlasAddon | null {
  loadBlas();
  return loaded;
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
