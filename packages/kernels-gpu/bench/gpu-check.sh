#!/usr/bin/env bash
# Issue #17's GPU check, prepared here and run at once on a machine with a GPU.
#
#   packages/kernels-gpu/bench/gpu-check.sh build   # here (node_modules present): bundle into packages/kernels-gpu/bench/out/
#   packages/kernels-gpu/bench/gpu-check.sh run     # on the GPU machine (needs only node ≥ 20 and an NVIDIA/AMD driver)
#
# `build` bundles bench/gpu_check.ts (workspace sources, tfjs, tfjs-backend-webgpu) into one
# gpu-check.mjs and puts the Dawn binary (npm package "webgpu") and the Vulkan loader
# (Debian's libvulkan1, fetched with apt-get download when it is not installed) next to it:
# about 25 MB, so the device tool can carry packages/kernels-gpu/bench/out.
# `run` prints the adapter, fused-vs-reference errors on that GPU, the in-run peak of a
# large tfjs-webgpu matMul, and bench-small / bench-small-r4 / bench-medium step times with
# the fused ops and without (GFLOP/s, % of the peak, dispatches/submits/reads per step),
# as a markdown table for docs/benchmarks.md, and writes out/gpu-check.json.
# Budget: ≈ 3–5 min on an H100/H200 (bench-medium's unfused run is the longest);
# GPU_CHECK_REFERENCE=0 skips the unfused runs, GPU_CHECK_CONFIGS picks configs.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/out"
case "${1:-run}" in
  build)
    root="$(cd "$here/../../.." && pwd)"
    mkdir -p "$out/node_modules/webgpu/dist/linux-x64"
    (cd "$root" && npx esbuild packages/kernels-gpu/bench/gpu_check.ts --bundle --platform=node --format=esm \
      --tsconfig=packages/blas/tsconfig.dev.json --main-fields=module,main --external:webgpu \
      --log-level=warning --outfile="$out/gpu-check.mjs" \
      --banner:js="import { createRequire as __cr } from 'module'; const require = __cr(import.meta.url);")
    w="$root/node_modules/webgpu"
    cp "$w/index.js" "$w/package.json" "$out/node_modules/webgpu/"
    cp "$w/dist/linux-x64/dawn.node" "$out/node_modules/webgpu/dist/linux-x64/"
    if [ ! -e "$out/lib/libvulkan.so.1" ]; then
      lib="$(ldconfig -p 2>/dev/null | awk '/libvulkan.so.1 /{print $NF; exit}')"
      mkdir -p "$out/lib"
      if [ -n "$lib" ]; then cp -L "$lib" "$out/lib/libvulkan.so.1"
      else
        tmp="$(mktemp -d)"
        (cd "$tmp" && apt-get download libvulkan1 >/dev/null && dpkg-deb -x libvulkan1_*.deb x && cp -L x/usr/lib/*/libvulkan.so.1 "$out/lib/")
        rm -rf "$tmp"
      fi
    fi
    du -sh "$out"
    ;;
  run)
    command -v node >/dev/null || { echo "gpu-check: node (≥ 20) is needed on this machine" >&2; exit 2; }
    [ -e "$out/gpu-check.mjs" ] || { echo "gpu-check: run '$0 build' first (where node_modules exists) and carry $out" >&2; exit 2; }
    command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
    cd "$out"
    # The bundled Vulkan loader is used only when the system has none.
    ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1 ' || export LD_LIBRARY_PATH="$out/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    VWN_WEBGPU_ADAPTER="${VWN_WEBGPU_ADAPTER:-native}" GPU_CHECK_OUT="${GPU_CHECK_OUT:-${OUT:-$out}/gpu-check.json}" node gpu-check.mjs
    ;;
  *) echo "usage: $0 build|run" >&2; exit 2 ;;
esac
