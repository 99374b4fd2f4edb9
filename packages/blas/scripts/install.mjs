// npm `install` hook of @vwn/blas. On platforms with a prebuilt addon package
// (@vwn/blas-linux-x64-gnu, an optional dependency) that loads, it does nothing:
// the addon is already there and needs no compiler. Elsewhere it builds the
// addon from native/blas.c + native/dghc.c with node-gyp against the system OpenBLAS
// (Accelerate on macOS). It never fails the install: without a compiler or
// OpenBLAS, @vwn/blas falls back to tfjs's kernels.
// VWN_BLAS_BUILD_FROM_SOURCE=1 builds from source even when the prebuilt loads.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const PREBUILT = { 'linux-x64': '@vwn/blas-linux-x64-gnu' }; // keep in step with src/native.ts PREBUILT_PLATFORMS

function prebuiltLoads() {
  const pkg = PREBUILT[`${process.platform}-${process.arch}`];
  if (!pkg) return null;
  try {
    require(join(dirname(require.resolve(`${pkg}/package.json`)), 'vwn_blas.node')).config();
    return pkg;
  } catch {
    return null;
  }
}

const pkg = process.env.VWN_BLAS_BUILD_FROM_SOURCE === '1' ? null : prebuiltLoads();
if (pkg) {
  console.log(`@vwn/blas: using the prebuilt addon from ${pkg}; nothing to build`);
} else {
  const r = spawnSync('node-gyp', ['rebuild'], { stdio: 'inherit', shell: true });
  if (r.status !== 0) console.log('@vwn/blas: native BLAS not built; falling back to tfjs kernels');
}
process.exit(0);
