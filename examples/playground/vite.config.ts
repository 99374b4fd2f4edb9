// Vite config of the vwn playground. The @vwn packages are bundled from their
// TypeScript sources (like the tests do), so `npm run dev` needs no package build;
// the embedded corpus comes from @vwn/datasets' text file and the tfjs wasm
// binaries are emitted as assets (see src/backend.ts): nothing loads from a CDN.
import { defineConfig, type Plugin } from 'vite';
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';

const packagesDir = fileURLToPath(new URL('../../packages/', import.meta.url));
// The browser-safe packages the page imports (src/index.ts is each one's browser entry).
const pkgs = ['core', 'embedding', 'ghc', 'moe', 'mtp', 'kernels-gpu'];

// Fails the build (and the dev server) when vwn code (a package's browser entry or
// the page) imports a Node built-in. Third-party code is left to its own `browser`
// field (tfjs-backend-wasm's Emscripten glue maps fs/path/… to nothing there).
const noNodeBuiltins: Plugin = {
  name: 'vwn-no-node-builtins',
  enforce: 'pre',
  resolveId(id, importer) {
    if ((id.startsWith('node:') || builtinModules.includes(id)) && importer && !importer.includes('/node_modules/')) {
      this.error(`Node built-in "${id}" imported by ${importer ?? '(entry)'}: the page must bundle only browser-safe code`);
    }
    return null;
  },
};

export default defineConfig({
  plugins: [noNodeBuiltins],
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
