import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';
import { readdirSync, existsSync } from 'node:fs';

// Tests import workspace packages from source, so `vitest run` needs no build.
const pkgs = readdirSync(new URL('./packages', import.meta.url));
// Subpath entries first (an alias also matches `key/...`); tests run in Node,
// so a package with a Node entry (`src/node.ts`, export condition `node`) maps
// to it: @vwn/kernels-gpu's Dawn runtime.
const src = (p: string, file: string) => fileURLToPath(new URL(`./packages/${p}/src/${file}`, import.meta.url));
const alias = Object.fromEntries([
  ['@vwn/core/node', src('core', 'node.ts')],
  ['@vwn/core/metrics-schema', src('core', 'metrics_schema.ts')],
  ...pkgs
    .filter((p) => existsSync(new URL(`./packages/${p}/src/index.ts`, import.meta.url)))
    .map((p) => [`@vwn/${p}`, src(p, p === 'kernels-gpu' ? 'node.ts' : 'index.ts')]),
]);

export default defineConfig({
  resolve: { alias },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
