// The model packages run in a web page (issue #18): each package's main entry,
// bundled for the browser with esbuild, imports no Node built-in (node:fs,
// path, crypto, …), does not pull in Dawn (`webgpu`) or native addons, and its
// own code names no Node global (process, Buffer, require, …).
// Workspace packages are bundled from source (src/index.ts, the browser
// entry), third-party packages as installed (their `browser` fields apply, as
// in any bundler). The sizes (minified, gzip -9) are printed for the READMEs:
// "own" = the package's code alone (tfjs and other @vwn packages external),
// "all" = everything a page gets by importing it.
import { describe, expect, it } from 'vitest';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build, type Message } from 'esbuild';
import { PACKAGE_DIRS, ROOT } from './support.js';

const BROWSER_PACKAGES = ['core', 'embedding', 'ghc', 'moe', 'mtp', 'kernels-gpu'] as const;

/** Every workspace package from source: its browser entry. */
const alias = Object.fromEntries(PACKAGE_DIRS.map((p) => [`@vwn/${p}`, join(ROOT, 'packages', p, 'src', 'index.ts')]));

const NODE_BUILTIN = new RegExp(`^(node:.*|${builtinModules.map((m) => m.replace(/[/]/g, '\\/')).join('|')})(\\/.*)?$`);

async function bundle(pkg: string, own: boolean) {
  return build({
    entryPoints: [join(ROOT, 'packages', pkg, 'src', 'index.ts')],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    minify: true,
    write: false,
    metafile: true,
    logLevel: 'silent',
    alias,
    // "own": tfjs and the other @vwn packages stay imports.
    external: own ? ['@tensorflow/*', ...PACKAGE_DIRS.filter((p) => p !== pkg).map((p) => `@vwn/${p}`)] : [],
  });
}

function describeErrors(errors: Message[]): string[] {
  return errors.map((e) => `${e.location ? `${e.location.file}:${e.location.line}: ` : ''}${e.text}`);
}

describe('browser bundles of the model packages (esbuild, platform browser)', () => {
  const sizes: string[] = [];

  for (const pkg of BROWSER_PACKAGES) {
    it(`@vwn/${pkg}: no Node built-in, no Dawn, no native addon`, async () => {
      let result: Awaited<ReturnType<typeof bundle>>;
      try {
        result = await bundle(pkg, false);
      } catch (e) {
        const errors = (e as { errors?: Message[] }).errors ?? [];
        // An unresolvable Node built-in fails the browser build; name each one and where it is imported.
        expect(describeErrors(errors), `@vwn/${pkg} does not bundle for the browser`).toEqual([]);
        throw e;
      }
      const inputs = Object.keys(result.metafile.inputs);
      const offending = Object.entries(result.metafile.inputs).flatMap(([file, info]) =>
        // Built-ins a dependency's `browser` field disables show as "(disabled):…" and are fine.
        info.imports.filter((i) => NODE_BUILTIN.test(i.path)).map((i) => `${file} imports ${i.path}`),
      );
      expect(offending).toEqual([]);
      expect(
        inputs.filter((f) => /node_modules\/webgpu\//.test(f) || /\.node$/.test(f) || /packages\/(blas|blas-linux-x64-gnu|report|cli|datasets)\//.test(f)),
      ).toEqual([]);
      expect(inputs.filter((f) => /packages\/core\/src\/node(\.ts|\/)/.test(f) || /packages\/kernels-gpu\/src\/(node|dawn)\.ts/.test(f))).toEqual([]);
      const all = result.outputFiles[0]!.contents;
      const ownBuild = await bundle(pkg, true);
      const own = ownBuild.outputFiles[0]!.contents;
      // Node globals in the package's own (minified, comment-free) code: none.
      // (A use, not a mention: `process.x`, `require(`, `setImmediate(`; `globalThis.setImmediate` is a guarded lookup.)
      const NODE_GLOBAL = /.{0,40}(?<![.\w$])((process|Buffer)\s*\.|(require|setImmediate)\s*\(|__dirname\b|__filename\b).{0,40}/g;
      const globals = [...ownBuild.outputFiles[0]!.text.matchAll(NODE_GLOBAL)].map((m) => m[0]);
      expect(globals, `@vwn/${pkg} uses a Node global`).toEqual([]);
      const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
      sizes.push(
        `@vwn/${pkg}: own ${kib(own.length)} min / ${kib(gzipSync(own, { level: 9 }).length)} gzip; all ${kib(all.length)} min / ${kib(gzipSync(all, { level: 9 }).length)} gzip`,
      );
      expect(own.length).toBeGreaterThan(0);
    });
  }

  it('prints the sizes', () => {
    console.log(`browser bundle sizes (esbuild --minify, gzip -9):\n${sizes.join('\n')}`);
    expect(sizes.length).toBe(BROWSER_PACKAGES.length);
  });
});
