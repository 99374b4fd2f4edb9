// The prebuilt addon (@vwn/blas-linux-x64-gnu, OpenBLAS linked in statically) and
// the loader's order: prebuilt package first, then a source build, else null with reasons.
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { addonPath, blasAddon, loadBlas, PREBUILT_PLATFORMS, prebuiltPlatform } from '../src/native.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const PLATFORM_PKG = join(ROOT, 'packages', 'blas-linux-x64-gnu');
const BINARY = join(PLATFORM_PKG, 'vwn_blas.node');
const TSX = join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');
/** This machine can run the committed binary (Linux x86-64, glibc). */
const HERE = prebuiltPlatform() === 'linux-x64-gnu';

/** Runs `code` (TypeScript, ESM) in a fresh Node process with `env` added; resolves to its stdout. */
function runTs(code: string, env: Record<string, string>, cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [TSX, '-e', code], { cwd, env: { ...process.env, ...env }, timeout: 60_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
    );
  });
}

const REPORT = `import(process.env.NATIVE_TS).then((n) => { const b = n.loadBlas();
console.log(JSON.stringify({ loaded: !!b, addon: n.blasAddon(), error: n.blasLoadError(), config: b ? b.config() : '' })); });`;

// The binary's own checks (build-info, ldd) live in packages/blas-linux-x64-gnu/test.
describe('the committed prebuilt binary (packages/blas-linux-x64-gnu)', () => {
  it.skipIf(!HERE)('is what loadBlas() loads here, with OpenBLAS choosing its kernels at run time (DYNAMIC_ARCH)', () => {
    const blas = loadBlas();
    expect(PREBUILT_PLATFORMS).toContain('linux-x64-gnu');
    expect(blas).not.toBeNull();
    expect(blasAddon()).toEqual({ kind: 'prebuilt', path: BINARY, why: 'prebuilt @vwn/blas-linux-x64-gnu' });
    expect(blas!.config()).toMatch(/^OpenBLAS 0\.3\.\d+ .*DYNAMIC_ARCH/);
  });
});

describe('loader order (fresh processes)', () => {
  const nativeTs = join(ROOT, 'packages', 'blas', 'src', 'native.ts');

  it.skipIf(!HERE)('VWN_NATIVE_BLAS=source skips the prebuilt: the source build when there is one, else null naming both reasons', async () => {
    const r = JSON.parse(await runTs(REPORT, { VWN_NATIVE_BLAS: 'source', NATIVE_TS: nativeTs }, ROOT));
    if (existsSync(addonPath())) {
      expect(r.addon).toEqual({ kind: 'source', path: addonPath(), why: 'source build (prebuilt skipped by VWN_NATIVE_BLAS=source)' });
      expect(r.config).toMatch(/^OpenBLAS/);
    } else {
      expect(r.loaded).toBe(false);
      expect(r.error).toMatch(/^no native addon: prebuilt skipped by VWN_NATIVE_BLAS=source; no source build \(.*vwn_blas\.node missing/);
    }
  });

  it('without the platform package and without a source build: null, and the error says why for each', async () => {
    // A copy of the loader where neither node_modules/@vwn/blas-linux-x64-gnu nor build/Release exist.
    const dir = await mkdtemp(join(tmpdir(), 'vwn-blas-loader-'));
    try {
      await mkdir(join(dir, 'src'));
      await copyFile(nativeTs, join(dir, 'src', 'native.ts'));
      await writeFile(join(dir, 'package.json'), '{ "type": "module" }');
      const r = JSON.parse(await runTs(REPORT, { NATIVE_TS: join(dir, 'src', 'native.ts') }, dir));
      expect(r.loaded).toBe(false);
      expect(r.addon).toBeNull();
      const prebuilt = HERE ? '@vwn/blas-linux-x64-gnu not installed' : `no prebuilt for ${prebuiltPlatform()}`;
      expect(r.error).toContain(`no native addon: ${prebuilt}`);
      expect(r.error).toContain(`no source build (${join(dir, 'build', 'Release', 'vwn_blas.node')} missing`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
