// Release check for every workspace package, run by `npm test` (and so by CI):
//   1. `npm pack` the package (what `npm publish` would upload);
//   2. publint --strict and arethetypeswrong find no problem in the tarball;
//   3. an empty project installs it alone — the README's own install commands,
//      with @vwn/* taken from the packed tarballs and everything else from the
//      npm registry (or npm's cache), install scripts disabled (`--ignore-scripts`,
//      as npm 11 blocks dependencies' scripts) — and its README example type-checks
//      and runs from node_modules, printing what the README says it prints.
//      On Linux x64 the native BLAS path must then come from the prebuilt
//      @vwn/blas-linux-x64-gnu alone, and `ldd` of its binary lists no BLAS,
//      Fortran or quadmath library.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, realpathSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { checkPackage, createPackageFromTarballData } from '@arethetypeswrong/core';
import { installedPackages, PACKAGE_DIRS, readmeParts, ROOT, run, shellLines } from './support.js';

const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const TSX = join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');
/** Machines where @vwn/blas-linux-x64-gnu (the prebuilt addon) applies. */
const PREBUILT =
  process.platform === 'linux' &&
  process.arch === 'x64' &&
  !!(process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header?.glibcVersionRuntime;

/**
 * The installed prebuilt addon needs only the C runtime, and no install script
 * ran: @vwn/blas has no source build, so the native path came from the prebuilt.
 */
function expectPrebuiltOnly(proj: string): void {
  const binary = join(proj, 'node_modules', '@vwn', 'blas-linux-x64-gnu', 'vwn_blas.node');
  const ldd = execFileSync('ldd', [binary], { encoding: 'utf8' });
  expect(ldd).toMatch(/libc\.so/);
  expect(ldd).not.toMatch(/blas|lapack|gfortran|quadmath/i);
  expect(existsSync(join(proj, 'node_modules', '@vwn', 'blas', 'build')), '@vwn/blas was not built from source').toBe(false);
}

interface Workspace {
  readonly dir: string;
  readonly name: string;
  readonly version: string;
}
const workspaces: Workspace[] = PACKAGE_DIRS.map((d) => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'packages', d, 'package.json'), 'utf8')) as { name: string; version: string };
  return { dir: join(ROOT, 'packages', d), name: pkg.name, version: pkg.version };
});

/**
 * What each README example must print (stdout + stderr). Checked loosely enough
 * for other machines, tightly enough that a broken example cannot pass.
 */
const EXPECT: Record<string, (out: string, proj: string) => void> = {
  '@vwn/core': (out) => {
    expect(Number(/^loss (\S+)$/m.exec(out)?.[1])).toBeCloseTo(Math.log(256), 0); // ≈ ln V at init
    expect(out).toMatch(/params \d+, FLOPs\/token \d+/);
  },
  '@vwn/datasets': (out) => {
    expect(out).toMatch(/^1115394$/m);
    expect(out).toMatch(/node_modules\/@vwn\/datasets\/tinyshakespeare\.txt$/m);
  },
  '@vwn/embedding': (out) => {
    expect(out).toMatch(/^state width D' = 256 \(n = 32 segments of 8\)$/m);
    expect(Number(/^loss (\S+)$/m.exec(out)?.[1])).toBeCloseTo(Math.log(256), 0);
  },
  '@vwn/ghc': (out) => {
    expect(Number(/^loss (\S+)$/m.exec(out)?.[1])).toBeCloseTo(Math.log(256), 0);
    expect(out).toMatch(/^layers\.0\.mixer_connection dynamic-ghc \d+ params$/m);
  },
  '@vwn/moe': (out) => {
    const load = JSON.parse(/^load (\[.*\])$/m.exec(out)![1]!) as number[];
    expect(load).toHaveLength(8);
    expect(load.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
    expect(Number(/^balance (\S+)$/m.exec(out)?.[1])).toBeGreaterThan(0);
  },
  '@vwn/mtp': (out) => {
    expect(Number(/^next-token (\S+)$/m.exec(out)?.[1])).toBeCloseTo(Math.log(256), 0);
    expect(Number(/^next-2 (\S+)$/m.exec(out)?.[1])).toBeCloseTo(Math.log(256), 0);
  },
  '@vwn/kernels-gpu': (out) => {
    expect(out).toMatch(/webgpu: adapter/);
    expect(out).toMatch(/^H' \[4,24\] finite true$/m);
  },
  '@vwn/blas': (out, proj) => {
    // Install scripts were disabled: on Linux x64 the native path is the prebuilt; elsewhere wasm.
    expect(out).toMatch(PREBUILT ? /^native BLAS matMul \(OpenBLAS [^\n]*, prebuilt @vwn\/blas-linux-x64-gnu\) on [^\n]*wasm/m : /wasm/);
    expect(out).toMatch(/^matMul ok 64x64$/m);
    if (PREBUILT) expectPrebuiltOnly(proj);
  },
  '@vwn/blas-linux-x64-gnu': (out, proj) => {
    expect(out).toMatch(/^OpenBLAS 0\.3\.\d+ [^\n]*DYNAMIC_ARCH/m);
    expectPrebuiltOnly(proj);
  },
  '@vwn/report': (out) => {
    expect(out).toMatch(/^Δ -0\.100 \[-0\.425, 0\.225\] p 0\.316 not-resolved, ≈10 seeds needed$/m);
    expect(out).toMatch(/^fit Δ = -0\.0715·log2 r \+ 0\.0307; slope 95 % CI \[-0\.\d{4}, 0\.\d{4}\]; R² = 0\.9\d\d; 3 points$/m);
    expect(out).toMatch(/^plot\.png \d+ bytes$/m);
  },
  '@vwn/cli': (out, proj) => {
    expect(out).toMatch(/total\s+\d/);
    expect(out).toMatch(/study "default" done in/);
    expect(out).toMatch(/^ablate-out\/smoke\/report\.md$/m);
    expect(out).toMatch(/^ablate-out\/smoke\/plots\/loss-vs-tokens\.png$/m);
    // `npm install @vwn/cli` with scripts blocked still gets the native path, and says where from.
    if (PREBUILT) {
      expect(out).toMatch(/^backend: auto: using wasm \+ native BLAS matMul \([^\n]*prebuilt @vwn\/blas-linux-x64-gnu\)/m);
      expectPrebuiltOnly(proj);
    }
  },
};

let work = '';
const tarballs = new Map<string, string>(); // package name → absolute .tgz path

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'packages', 'core', 'dist', 'index.js'))) {
    throw new Error('packages are not built: run `npm run build` (npm test does) before this test');
  }
  work = await mkdtemp(join(tmpdir(), 'vwn-pack-'));
  await mkdir(join(work, 'tarballs'));
  const out = await run('npm', ['pack', '--workspaces', '--ignore-scripts', '--json', '--pack-destination', join(work, 'tarballs')], ROOT, 120_000);
  const packed = JSON.parse(out.slice(out.indexOf('['))) as Array<{ name: string; filename: string }>;
  for (const p of packed) tarballs.set(p.name, join(work, 'tarballs', p.filename));
}, 180_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe.each(workspaces)('$name', (ws) => {
  it('tarball: publint --strict and arethetypeswrong find nothing; it ships dist, README and LICENSE, and no tests', async () => {
    const tgz = await readFile(tarballs.get(ws.name)!);
    const pkgJson = JSON.parse(await readFile(join(ws.dir, 'package.json'), 'utf8'));
    const tarball = tgz.buffer.slice(tgz.byteOffset, tgz.byteOffset + tgz.byteLength);
    const { messages } = await publint({ pkgDir: 'package', strict: true, pack: { tarball } });
    expect(messages.map((m) => `${m.type}: ${formatMessage(m, pkgJson)}`)).toEqual([]);

    const pkg = createPackageFromTarballData(new Uint8Array(tgz));
    const result = await checkPackage(pkg);
    expect(result.types, 'the package ships its own types').not.toBe(false);
    // ESM only (Node ≥ 20.19 can require() it): the node16-from-CJS notice is expected; node10 has no `exports`.
    const problems =
      'problems' in result ? result.problems.filter((p) => p.kind !== 'CJSResolvesToESM' && !('resolutionKind' in p && p.resolutionKind === 'node10')) : [];
    expect(problems).toEqual([]);

    const files = pkg.listFiles().map((f) => f.replace(/^\/node_modules\/[^/]+\/[^/]+\//, ''));
    expect(files).toEqual(expect.arrayContaining(['package.json', 'README.md', 'LICENSE', 'dist/index.js', 'dist/index.d.ts']));
    expect(files.filter((f) => /(^|\/)test\/|\.test\.|\.tsbuildinfo$/.test(f))).toEqual([]);
  });

  it('installs alone from its tarball with the README commands, and the README example runs', async (ctx) => {
    const readme = readmeParts(await readFile(join(ws.dir, 'README.md'), 'utf8'), `${ws.name} README.md`);
    const proj = await mkdtemp(join(work, `${ws.name.replace('@vwn/', '')}-`));
    const deps: Record<string, string> = {};
    const direct = new Set<string>();
    for (const { command } of readme.install) {
      if (command.startsWith('npm install ')) {
        for (const spec of installedPackages(command)) {
          const at = spec.lastIndexOf('@');
          const [name, range] = at > 0 ? [spec.slice(0, at), spec.slice(at + 1)] : [spec, 'latest'];
          const tgz = tarballs.get(name);
          if (name.startsWith('@vwn/') && !tgz) throw new Error(`README installs ${name}, which is not a workspace package`);
          deps[name] = tgz ? `file:${tgz}` : range;
          direct.add(name);
        }
        // @vwn/* dependencies of what is installed come from the tarballs too (they are not on the registry).
        const overrides = Object.fromEntries([...tarballs].map(([n, t]) => [n, direct.has(n) ? `$${n}` : `file:${t}`]));
        await writeFile(
          join(proj, 'package.json'),
          JSON.stringify({ name: 'readme-example', private: true, type: 'module', dependencies: deps, overrides }, null, 2),
        );
        await run('npm', ['install', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], proj, 240_000);
      } else if (command.startsWith('npm ')) {
        await run('bash', ['-c', command], proj, 240_000);
      } else {
        throw new Error(`${ws.name} README install block: only npm commands are run here, got "${command}"`);
      }
    }
    expect(direct.has(ws.name), `the README's install line names ${ws.name}`).toBe(true);

    // Installed from the tarballs, as real directories inside the project.
    for (const name of [...tarballs.keys()].filter((n) => existsSync(join(proj, 'node_modules', n)))) {
      const dir = join(proj, 'node_modules', name);
      expect(lstatSync(dir).isSymbolicLink(), `${name} is a copy, not a link`).toBe(false);
      expect(realpathSync(dir).startsWith(realpathSync(proj))).toBe(true);
      expect(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version).toBe(workspaces.find((w) => w.name === name)!.version);
    }

    let out = '';
    if (readme.example.lang === 'ts') {
      await writeFile(join(proj, 'example.ts'), readme.example.source);
      await writeFile(
        join(proj, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            target: 'ES2022',
            module: 'NodeNext',
            moduleResolution: 'NodeNext',
            strict: true,
            noEmit: true,
            skipLibCheck: true,
            types: ['node'],
            typeRoots: [join(ROOT, 'node_modules', '@types')],
          },
          files: ['example.ts'],
        }),
      );
      await run(process.execPath, [TSC, '-p', 'tsconfig.json'], proj, 120_000); // the README example type-checks against the published .d.ts
      try {
        out = await run(process.execPath, [TSX, 'example.ts'], proj, 300_000);
      } catch (e) {
        // No WebGPU adapter here (no GPU and no Mesa): say so and skip instead of failing.
        if (ws.name === '@vwn/kernels-gpu' && /no WebGPU adapter/i.test(String(e))) ctx.skip(String(e).split('\n')[0]);
        throw e;
      }
    } else if (readme.example.lang === 'sh') {
      for (const { command } of shellLines(readme.example.source)) {
        out += await run('bash', ['-c', command], proj, 300_000);
      }
    } else {
      throw new Error(`${ws.name}: README example must be \`\`\`ts or \`\`\`sh, got ${readme.example.lang}`);
    }
    const check = EXPECT[ws.name];
    expect(check, `EXPECT has an entry for ${ws.name}`).toBeDefined();
    try {
      check!(out, proj);
    } catch (e) {
      throw new Error(`${ws.name} README example printed:\n${out}\n${String(e)}`);
    }
  }, 600_000); // npm install from tarballs plus a tiny `vwn ablate`: minutes on a loaded 2-core machine
});
