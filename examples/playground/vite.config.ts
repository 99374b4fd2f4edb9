// Vite config of the vwn playground. The @vwn packages are bundled from their
// TypeScript sources (like the tests do), so `npm run dev` needs no package build;
// the embedded corpus comes from @vwn/datasets' text file and the tfjs wasm
// binaries are emitted as assets (see src/backend.ts): nothing loads from a CDN.
import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';
import { existsSync, readdirSync } from 'node:fs';

const packagesDir = fileURLToPath(new URL('../../packages/', import.meta.url));
const pkgs = readdirSync(packagesDir).filter((p) => existsSync(`${packagesDir}${p}/src/index.ts`));

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  resolve: {
    alias: [
      { find: /^@vwn\/datasets\/tinyshakespeare\.txt(?=\?|$)/, replacement: `${packagesDir}datasets/tinyshakespeare.txt` },
      ...pkgs.map((p) => ({ find: new RegExp(`^@vwn/${p}$`), replacement: `${packagesDir}${p}/src/index.ts` })),
    ],
  },
  server: { fs: { allow: [fileURLToPath(new URL('../../', import.meta.url))] } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 5000,
    reportCompressedSize: false,
  },
  worker: { format: 'es' },
});
