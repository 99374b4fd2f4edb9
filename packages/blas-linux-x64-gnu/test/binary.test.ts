// The committed binary itself: built from the current source, needs only the C
// runtime, and loads and multiplies on the platform it is for. (The @vwn/blas
// loader's choice between it and a source build is tested in packages/blas.)
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { addonPath, platform } from '../src/index.js';

const PKG = fileURLToPath(new URL('../', import.meta.url));
const NATIVE = join(PKG, '..', 'blas', 'native');
const HERE =
  process.platform === 'linux' &&
  process.arch === 'x64' &&
  !!(process.report?.getReport() as { header?: { glibcVersionRuntime?: string } })?.header?.glibcVersionRuntime;

const sha256 = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

/** Libraries `ldd` resolves for a binary, by soname. */
function lddNames(file: string): string[] {
  return execFileSync('ldd', [file], { encoding: 'utf8' })
    .split('\n')
    .map((l) => /^\s*(\S+)/.exec(l)?.[1])
    .filter((x): x is string => !!x);
}

describe('@vwn/blas-linux-x64-gnu', () => {
  it('exports the path of its binary and its platform', () => {
    expect(platform).toBe('linux-x64-gnu');
    expect(addonPath).toBe(join(PKG, 'vwn_blas.node'));
    expect(existsSync(addonPath)).toBe(true);
    expect(existsSync(join(PKG, 'OpenBLAS-LICENSE.txt'))).toBe(true);
  });

  it('matches its build-info.txt and was built from the current native/blas.c, dghc.c, dghc.h (else: npm run build:prebuilt -w @vwn/blas, commit)', () => {
    const info = readFileSync(join(PKG, 'build-info.txt'), 'utf8');
    expect(/^sha256:\s+(\w+)$/m.exec(info)?.[1]).toBe(sha256(addonPath));
    for (const file of ['blas.c', 'dghc.c', 'dghc.h']) {
      const line = new RegExp(`^source:\\s+native/${file.replace('.', '\\.')} sha256 (\\w+)$`, 'm');
      expect(line.exec(info)?.[1], file).toBe(sha256(join(NATIVE, file)));
    }
  });

  it.skipIf(!HERE)('needs only the C runtime: ldd lists no BLAS, LAPACK, Fortran or quadmath library', () => {
    const libs = lddNames(addonPath);
    expect(libs.some((l) => l.startsWith('libc.so'))).toBe(true);
    expect(libs.filter((l) => /blas|lapack|gfortran|quadmath/.test(l))).toEqual([]);
    expect(libs.filter((l) => !/^(linux-vdso\.so|libc\.so|libm\.so|libpthread\.so|libdl\.so|libgcc_s\.so|\/lib.*\/ld-linux)/.test(l))).toEqual([]);
  });

  it.skipIf(!HERE)('loads as a Node-API addon with OpenBLAS choosing its kernels at run time (DYNAMIC_ARCH)', () => {
    const addon = createRequire(import.meta.url)(addonPath) as Record<string, unknown>;
    expect(typeof addon['config']).toBe('function');
    expect((addon['config'] as () => string)()).toMatch(/^OpenBLAS 0\.3\.\d+ .*DYNAMIC_ARCH/);
    for (const fn of ['gemm', 'transpose', 'sumMiddle', 'dghcRead', 'dghcReadGrad', 'ghcWrite', 'ghcWriteGrad', 'setKernelThreads']) {
      expect(typeof addon[fn], fn).toBe('function');
    }
  });
});
