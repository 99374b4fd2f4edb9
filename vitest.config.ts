import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';
import { readdirSync, existsSync } from 'node:fs';

// Tests import workspace packages from source, so `vitest run` needs no build.
const pkgs = readdirSync(new URL('./packages', import.meta.url));
const alias = Object.fromEntries(
  pkgs
    .filter((p) => existsSync(new URL(`./packages/${p}/src/index.ts`, import.meta.url)))
    .map((p) => [`@vwn/${p}`, fileURLToPath(new URL(`./packages/${p}/src/index.ts`, import.meta.url))]),
);

export default defineConfig({
  resolve: { alias },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
