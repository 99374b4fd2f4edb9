/*
 * @vwn/blas native addon: batched single-precision GEMM on the system BLAS
 * (OpenBLAS cblas_sgemm on Linux, Accelerate on macOS) for TensorFlow.js
 * matMul kernels. Plain C, Node-API only (ABI-stable across Node versions).
 *
 * JS API (all row-major, offsets in elements relative to each typed array):
 *   gemm(transA, transB, M, N, K, alpha, A, B, beta, C, aOffs, bOffs, cOffs)
 *     for i in 0..aOffs.length: C[cOffs[i]..] = alpha·op(A[aOffs[i]..])·op(B[bOffs[i]..]) + beta·C
 *     A, B, C: Float32Array; aOffs, bOffs, cOffs: Int32Array of equal length.
 *   transpose(src, dst, B, R, C, E)
 *     dst[b, c, r, :] = src[b, r, c, :] for src viewed as [B, R, C, E] (4-byte elements):
 *     every tensor transpose tfjs runs reduces to this after merging axes (see src/kernels.ts).
 *   sumMiddle(src, dst, A, R, C)
 *     dst[a, c] = Σ_r src[a, r, c], float32, summed in r order from 0 (the order of tfjs-wasm's
 *     transpose-then-sum, so results are bitwise equal) without materializing the transpose.
 *   setNumThreads(n), getNumThreads(), config()
 * plus the fused DGHC kernels of native/dghc.c (dghcRead, dghcReadGrad, ghcWrite, ghcWriteGrad,
 * setKernelThreads, getKernelThreads).
 */
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dghc.h"

#ifdef VWN_USE_ACCELERATE
#include <Accelerate/Accelerate.h>
#define VWN_BLAS_NAME "Accelerate"
#else
#include <cblas.h>
#define VWN_BLAS_NAME "OpenBLAS"
#endif

#define CHECK(call)                                                   \
  do {                                                                \
    if ((call) != napi_ok) {                                          \
      napi_throw_error(env, NULL, "@vwn/blas: N-API call failed: " #call); \
      return NULL;                                                    \
    }                                                                 \
  } while (0)

static int get_f32(napi_env env, napi_value v, float** data, size_t* len) {
  napi_typedarray_type type;
  void* ptr;
  napi_value ab;
  size_t off;
  if (napi_get_typedarray_info(env, v, &type, len, &ptr, &ab, &off) != napi_ok || type != napi_float32_array) return 0;
  *data = (float*)ptr;
  return 1;
}

static int get_i32(napi_env env, napi_value v, int32_t** data, size_t* len) {
  napi_typedarray_type type;
  void* ptr;
  napi_value ab;
  size_t off;
  if (napi_get_typedarray_info(env, v, &type, len, &ptr, &ab, &off) != napi_ok || type != napi_int32_array) return 0;
  *data = (int32_t*)ptr;
  return 1;
}

static napi_value Gemm(napi_env env, napi_callback_info info) {
  size_t argc = 13;
  napi_value argv[13];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 13) {
    napi_throw_type_error(env, NULL, "@vwn/blas gemm: expected 13 arguments");
    return NULL;
  }
  bool ta, tb;
  int32_t M, N, K;
  double alpha, beta;
  CHECK(napi_get_value_bool(env, argv[0], &ta));
  CHECK(napi_get_value_bool(env, argv[1], &tb));
  CHECK(napi_get_value_int32(env, argv[2], &M));
  CHECK(napi_get_value_int32(env, argv[3], &N));
  CHECK(napi_get_value_int32(env, argv[4], &K));
  CHECK(napi_get_value_double(env, argv[5], &alpha));
  CHECK(napi_get_value_double(env, argv[8], &beta));
  float *A, *B, *C;
  size_t la, lb, lc, na, nb, nc;
  int32_t *ao, *bo, *co;
  if (!get_f32(env, argv[6], &A, &la) || !get_f32(env, argv[7], &B, &lb) || !get_f32(env, argv[9], &C, &lc)) {
    napi_throw_type_error(env, NULL, "@vwn/blas gemm: A, B, C must be Float32Arrays");
    return NULL;
  }
  if (!get_i32(env, argv[10], &ao, &na) || !get_i32(env, argv[11], &bo, &nb) || !get_i32(env, argv[12], &co, &nc) ||
      na != nb || na != nc) {
    napi_throw_type_error(env, NULL, "@vwn/blas gemm: offsets must be Int32Arrays of equal length");
    return NULL;
  }
  if (M < 0 || N < 0 || K < 0) {
    napi_throw_range_error(env, NULL, "@vwn/blas gemm: negative dimension");
    return NULL;
  }
  const size_t sa = (size_t)M * K, sb = (size_t)K * N, sc = (size_t)M * N;
  for (size_t i = 0; i < na; i++) {
    if (ao[i] < 0 || bo[i] < 0 || co[i] < 0 || (size_t)ao[i] + sa > la || (size_t)bo[i] + sb > lb ||
        (size_t)co[i] + sc > lc) {
      napi_throw_range_error(env, NULL, "@vwn/blas gemm: operand out of bounds");
      return NULL;
    }
  }
  if (M == 0 || N == 0) return NULL;
  const int lda = ta ? M : K, ldb = tb ? K : N, ldc = N;
  for (size_t i = 0; i < na; i++) {
    if (K == 0) {
      if (beta == 0) memset(C + co[i], 0, sc * sizeof(float));
      continue;
    }
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N, K, (float)alpha,
                A + ao[i], lda, B + bo[i], ldb, (float)beta, C + co[i], ldc);
  }
  return NULL;
}

/*
 * dst[b][c][r][:] = src[b][r][c][:]. Single elements move in 8×8 tiles, one destination row
 * at a time: larger tiles thrash the cache when R or C is a power of two (every destination
 * row of a tile maps to the same cache set). Measured on 2-D [65536, 32], [32, 65536],
 * [48, 65536], [2048, 1024]: 1.0–1.8 ms, vs 2.2–6.8 ms with 32×32 tiles.
 */
static void transpose4(const float* src, float* dst, size_t B, size_t R, size_t C, size_t E) {
  const size_t T = 8, plane = R * C * E;
  for (size_t b = 0; b < B; b++) {
    const float* s = src + b * plane;
    float* d = dst + b * plane;
    if (E == 1) {
      for (size_t r0 = 0; r0 < R; r0 += T) {
        const size_t r1 = r0 + T < R ? r0 + T : R;
        for (size_t c0 = 0; c0 < C; c0 += T) {
          const size_t c1 = c0 + T < C ? c0 + T : C;
          for (size_t c = c0; c < c1; c++) {
            float* dc = d + c * R;
            for (size_t r = r0; r < r1; r++) dc[r] = s[r * C + c];
          }
        }
      }
    } else {
      for (size_t r = 0; r < R; r++)
        for (size_t c = 0; c < C; c++) memcpy(d + (c * R + r) * E, s + (r * C + c) * E, E * sizeof(float));
    }
  }
}

/*
 * Shared argument handling of the copy-like kernels: (src, dst, dims...) with
 * `ndims` non-negative sizes; src must hold `src_len` and dst `dst_len` elements
 * (both computed from the dims by the caller's `need`), and they must not overlap.
 * Returns 1 with everything filled in, or 0 after throwing a JS error naming `name`.
 */
typedef void (*NeedFn)(const size_t* dims, size_t* src_len, size_t* dst_len);

static int copy_args(napi_env env, napi_callback_info info, const char* name, int ndims, NeedFn need, float** src,
                     float** dst, size_t* dims, size_t* src_len, size_t* dst_len) {
  char msg[128];
  size_t argc = 6;
  napi_value argv[6];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != (size_t)(2 + ndims)) {
    snprintf(msg, sizeof msg, "@vwn/blas %s: expected %d arguments", name, 2 + ndims);
    napi_throw_type_error(env, NULL, msg);
    return 0;
  }
  size_t ls, ld;
  if (!get_f32(env, argv[0], src, &ls) || !get_f32(env, argv[1], dst, &ld)) {
    snprintf(msg, sizeof msg, "@vwn/blas %s: src and dst must be Float32Arrays", name);
    napi_throw_type_error(env, NULL, msg);
    return 0;
  }
  for (int i = 0; i < ndims; i++) {
    int64_t d;
    if (napi_get_value_int64(env, argv[2 + i], &d) != napi_ok || d < 0) {
      snprintf(msg, sizeof msg, "@vwn/blas %s: dimensions must be non-negative integers", name);
      napi_throw_range_error(env, NULL, msg);
      return 0;
    }
    dims[i] = (size_t)d;
  }
  need(dims, src_len, dst_len);
  if (*src_len > ls || *dst_len > ld) {
    snprintf(msg, sizeof msg, "@vwn/blas %s: operand out of bounds", name);
    napi_throw_range_error(env, NULL, msg);
    return 0;
  }
  if (*src_len > 0 && *dst_len > 0 && *src < *dst + *dst_len && *dst < *src + *src_len) {
    snprintf(msg, sizeof msg, "@vwn/blas %s: src and dst overlap", name);
    napi_throw_range_error(env, NULL, msg);
    return 0;
  }
  return 1;
}

static void transpose_need(const size_t* d, size_t* src_len, size_t* dst_len) {
  *src_len = *dst_len = d[0] * d[1] * d[2] * d[3];
}

static napi_value Transpose(napi_env env, napi_callback_info info) {
  float *src, *dst;
  size_t dims[4], ls, ld;
  if (copy_args(env, info, "transpose", 4, transpose_need, &src, &dst, dims, &ls, &ld) && ls > 0) {
    transpose4(src, dst, dims[0], dims[1], dims[2], dims[3]);
  }
  return NULL;
}

static void sum_middle_need(const size_t* d, size_t* src_len, size_t* dst_len) {
  *src_len = d[0] * d[1] * d[2];
  *dst_len = d[0] * d[2];
}

static napi_value SumMiddle(napi_env env, napi_callback_info info) {
  float *src, *dst;
  size_t dims[3], ls, ld;
  if (!copy_args(env, info, "sumMiddle", 3, sum_middle_need, &src, &dst, dims, &ls, &ld)) return NULL;
  const size_t A = dims[0], R = dims[1], C = dims[2];
  for (size_t a = 0; a < A; a++) {
    float* out = dst + a * C;
    const float* x = src + a * R * C;
    for (size_t c = 0; c < C; c++) out[c] = 0.0f;
    for (size_t r = 0; r < R; r++) {
      const float* row = x + r * C;
      for (size_t c = 0; c < C; c++) out[c] += row[c]; /* each column summed in r order */
    }
  }
  return NULL;
}

static napi_value SetNumThreads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t n;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  CHECK(napi_get_value_int32(env, argv[0], &n));
#ifndef VWN_USE_ACCELERATE
  if (n > 0) openblas_set_num_threads(n);
#endif
  return NULL;
}

static napi_value GetNumThreads(napi_env env, napi_callback_info info) {
  napi_value out;
#ifndef VWN_USE_ACCELERATE
  CHECK(napi_create_int32(env, openblas_get_num_threads(), &out));
#else
  CHECK(napi_create_int32(env, 0, &out));
#endif
  return out;
}

static napi_value Config(napi_env env, napi_callback_info info) {
  napi_value out;
#ifndef VWN_USE_ACCELERATE
  const char* cfg = openblas_get_config(); /* "OpenBLAS 0.3.21 DYNAMIC_ARCH ..." */
  char buf[512];
  if (strncmp(cfg, VWN_BLAS_NAME, strlen(VWN_BLAS_NAME)) == 0) snprintf(buf, sizeof buf, "%s", cfg);
  else snprintf(buf, sizeof buf, "%s %s", VWN_BLAS_NAME, cfg);
  CHECK(napi_create_string_utf8(env, buf, NAPI_AUTO_LENGTH, &out));
#else
  CHECK(napi_create_string_utf8(env, VWN_BLAS_NAME, NAPI_AUTO_LENGTH, &out));
#endif
  return out;
}

int vwn_blas_threads(void) {
#ifndef VWN_USE_ACCELERATE
  return openblas_get_num_threads();
#else
  return 0;
#endif
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"gemm", NULL, Gemm, NULL, NULL, NULL, napi_enumerable, NULL},
      {"transpose", NULL, Transpose, NULL, NULL, NULL, napi_enumerable, NULL},
      {"sumMiddle", NULL, SumMiddle, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setNumThreads", NULL, SetNumThreads, NULL, NULL, NULL, napi_enumerable, NULL},
      {"getNumThreads", NULL, GetNumThreads, NULL, NULL, NULL, napi_enumerable, NULL},
      {"config", NULL, Config, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  CHECK(napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  if (!vwn_dghc_init(env, exports)) {
    napi_throw_error(env, NULL, "@vwn/blas: could not register the DGHC kernels");
    return NULL;
  }
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
