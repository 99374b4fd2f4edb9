#!/usr/bin/env bash
# Builds the prebuilt addon of @vwn/blas-linux-x64-gnu: native/blas.c + dghc.c linked
# *statically* with Debian 12's OpenBLAS (DYNAMIC_ARCH: picks Haswell / SkylakeX /
# Zen … kernels at run time), so the binary needs only the C runtime — no
# libopenblas, libgfortran or libquadmath on the user's machine.
#
#   npm run build:prebuilt -w @vwn/blas     # on Debian 12 / x86-64, offline
#
# Needs: gcc, libopenblas-dev (the pthread flavour's libopenblas.a) and Node's
# headers (node_api.h: $npm_config_nodedir/include/node, the node install's
# include/node, or node-gyp's header cache). Node-API version 8, so one binary
# serves every Node ≥ 20 (ABI-stable). Writes into ../blas-linux-x64-gnu/:
# vwn_blas.node, build-info.txt and OpenBLAS-LICENSE.txt; fails when the result
# depends on a shared BLAS/Fortran library or was built without DYNAMIC_ARCH.
set -euo pipefail
HERE="$(cd "$(dirname "$0")/.." && pwd)"
OUT="${1:-$HERE/../blas-linux-x64-gnu}"
OPENBLAS_A=/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.a
OPENBLAS_INC=/usr/include/x86_64-linux-gnu/openblas-pthread
CC="${CC:-gcc}"

[ "$(uname -m)" = x86_64 ] || { echo "prebuild: this script builds linux-x64 on x86-64 (got $(uname -m))" >&2; exit 1; }
[ -f "$OPENBLAS_A" ] || { echo "prebuild: $OPENBLAS_A missing: apt-get install libopenblas-dev" >&2; exit 1; }
grep -aq DYNAMIC_ARCH "$OPENBLAS_A" || { echo "prebuild: $OPENBLAS_A is not a DYNAMIC_ARCH build" >&2; exit 1; }

NODE_VERSION="$(node -p process.versions.node)"
NODE_INC=""
for d in "${npm_config_nodedir:+$npm_config_nodedir/include/node}" \
         "$(node -p "require('node:path').resolve(process.execPath, '..', '..', 'include', 'node')")" \
         "${HOME}/.cache/node-gyp/${NODE_VERSION}/include/node"; do
  if [ -n "$d" ] && [ -f "$d/node_api.h" ]; then NODE_INC="$d"; break; fi
done
[ -n "$NODE_INC" ] || { echo "prebuild: node_api.h not found (set npm_config_nodedir, or run 'npx node-gyp install' once)" >&2; exit 1; }

mkdir -p "$OUT"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
# -fvisibility=hidden + --exclude-libs: only Node-API's entry points are exported, so
# OpenBLAS's symbols cannot clash with another BLAS loaded into the same process.
# No absolute paths end up in the binary (file-prefix-map, stripped), so rebuilding
# with the same gcc and libopenblas.a gives the same bytes.
CFLAGS=(-O3 -std=gnu99 -pthread -Wno-psabi -fPIC -fvisibility=hidden -DNAPI_VERSION=8 -DNODE_GYP_MODULE_NAME=vwn_blas "-ffile-prefix-map=$HERE=.")
LDFLAGS=(-shared -Wl,--exclude-libs,ALL -Wl,--as-needed -Wl,--build-id=sha1 -Wl,-O1 -s)
(cd "$HERE" && "$CC" "${CFLAGS[@]}" -I"$NODE_INC" -I"$OPENBLAS_INC" native/blas.c native/dghc.c -o "$TMP/vwn_blas.node" "${LDFLAGS[@]}" "$OPENBLAS_A" -lpthread -lm)

# Only the C runtime may remain.
DEPS="$(readelf -d "$TMP/vwn_blas.node" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort | tr '\n' ' ')"
for lib in $DEPS; do
  case "$lib" in
    libc.so.*|libm.so.*|libpthread.so.*|libdl.so.*|libgcc_s.so.*|ld-linux-x86-64.so.*) ;;
    *) echo "prebuild: the binary still needs $lib" >&2; exit 1 ;;
  esac
done
# It loads, and OpenBLAS reports its runtime-dispatched core.
CONFIG="$(node -e "console.log(require(process.argv[1]).config())" "$TMP/vwn_blas.node")"

GLIBC="$(objdump -T "$TMP/vwn_blas.node" | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1)"
cp "$TMP/vwn_blas.node" "$OUT/vwn_blas.node"
cp /usr/share/doc/libopenblas0-pthread/copyright "$OUT/OpenBLAS-LICENSE.txt"
{
  echo "vwn_blas.node for linux-x64 (glibc), built by packages/blas/scripts/prebuild-linux-x64.sh"
  echo "sha256:     $(sha256sum "$OUT/vwn_blas.node" | cut -d' ' -f1)"
  echo "size:       $(stat -c %s "$OUT/vwn_blas.node") bytes"
  echo "source:     native/blas.c sha256 $(sha256sum "$HERE/native/blas.c" | cut -d' ' -f1)"
  echo "source:     native/dghc.c sha256 $(sha256sum "$HERE/native/dghc.c" | cut -d' ' -f1)"
  echo "source:     native/dghc.h sha256 $(sha256sum "$HERE/native/dghc.h" | cut -d' ' -f1)"
  echo "compiler:   $("$CC" --version | head -1)"
  echo "openblas:   $(dpkg-query -W -f '${Package} ${Version}' libopenblas-pthread-dev 2>/dev/null || echo unknown), static ($OPENBLAS_A)"
  echo "node-api:   8 (headers of Node ${NODE_VERSION})"
  echo "needs:      ${DEPS}(glibc ≥ ${GLIBC#GLIBC_})"
} > "$OUT/build-info.txt"
cat "$OUT/build-info.txt"
echo "loads here: ${CONFIG}"
