/**
 * @vwn/blas-linux-x64-gnu: the prebuilt native addon of `@vwn/blas` for
 * Linux x86-64 with glibc ≥ 2.34, statically linked with OpenBLAS 0.3.21
 * (DYNAMIC_ARCH: the Haswell / SkylakeX / Zen … kernels are picked at load
 * time). It needs only libc: no OpenBLAS, Fortran runtime, compiler or install
 * script. `@vwn/blas` lists it in `optionalDependencies` and loads it first;
 * you do not import it yourself.
 *
 * @example
 * ```ts
 * import { createRequire } from 'node:module';
 * import { addonPath } from '@vwn/blas-linux-x64-gnu';
 * const blas = createRequire(import.meta.url)(addonPath) as { config(): string };
 * console.log(blas.config()); // 'OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64'
 * ```
 *
 * @packageDocumentation
 */
import { fileURLToPath } from 'node:url';

/**
 * Absolute path of the shipped `vwn_blas.node` (Node-API 8, loads in every Node ≥ 20).
 *
 * @example
 * ```ts
 * import { addonPath } from '@vwn/blas-linux-x64-gnu';
 * console.log(addonPath); // '…/node_modules/@vwn/blas-linux-x64-gnu/vwn_blas.node'
 * ```
 */
export const addonPath: string = fileURLToPath(new URL('../vwn_blas.node', import.meta.url));

/**
 * The platform this binary is for, in `@vwn/blas`'s package-name form (`<os>-<cpu>-<libc>`).
 *
 * @example
 * ```ts
 * import { platform } from '@vwn/blas-linux-x64-gnu';
 * console.log(platform); // 'linux-x64-gnu'
 * ```
 */
export const platform = 'linux-x64-gnu';
