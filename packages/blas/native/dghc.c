/*
 * @vwn/blas fused DGHC kernels (PAPER.md §4–5), forward and backward, for the
 * `native` backend (tfjs-wasm + this addon). One pass over the wide state per
 * kernel, tokens split into fixed chunks over a few pthreads.
 *
 * Per token t (H: [n, d_b], rows = segments; K = 2m+n):
 *   r_j   = 1/sqrt(mean(H_j²) + eps)                     RMSNorm of each segment
 *   c     = tanh(r_j · H_j · W'),  W' = diag(g)·W/τ      coefficients [n, K]
 *           (H'·W' for all N·n segments is one sgemm; so are the backward's H'ᵀ·dU and dU·Wᵀ)
 *   A     = S_α ⊙ c[:, :m+n] + [Å | Â]                   [n, m+n]
 *   Bᵀ(t) = S_βᵀ ⊙ c[:, m+n:] + Bᵀ                      [n, m]
 *   [X; C] = Aᵀ·H                                        X: [m, d_b], C: [n, d_b]
 *   write: H'_new = Bᵀ(t)·Z + C
 *
 * Determinism: every token's outputs depend on that token only, and parameter
 * gradients are summed per fixed chunk of CHUNK tokens (in token order), then
 * chunk by chunk in chunk order, so results are bitwise the same run to run and
 * for any thread count of these kernels (the three sgemm calls are OpenBLAS's,
 * which splits rows/columns, not the summed dimension, across its threads).
 *
 * JS API (all Float32Array, row-major; dims are integers):
 *   dghcRead(N, m, n, db, eps, state, w, gain, sa, sb, read, carry, write, x, carried, bT, c)
 *   dghcReadGrad(N, m, n, db, eps, dx, dcarried, dbT, state, c, w, gain, sa, sb, read, carry,
 *                dstate, dw, dgain, dsa, dsb, dread, dcarry, dwrite)
 *   ghcWrite(N, m, n, db, carried, z, bT, out)
 *   ghcWriteGrad(N, m, n, db, dout, z, bT, dz, dbT)
 *   setKernelThreads(n), getKernelThreads()
 */
#include "dghc.h"

#include <math.h>
#ifndef _WIN32
#include <pthread.h>
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef VWN_USE_ACCELERATE
#include <Accelerate/Accelerate.h>
#else
#include <cblas.h>
#endif

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__)
/* x86-64-v3 (AVX2 + FMA) clone chosen by CPU features at load time (the same one every run on a given CPU), portable fallback otherwise. */
#define VWN_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define VWN_CLONES
#endif
#define VWN_INLINE static inline __attribute__((always_inline))

#define CHUNK 32 /* tokens per work item and per parameter-gradient partial sum */
#define MAX_THREADS 64

static int g_threads = 0; /* 0: same as OpenBLAS's thread count */

/* Scratch memory kept between calls (grow-only): fresh pages for the backward pass's
   [N·n, K] and [N·n, d_b] buffers every call cost more in page faults than the kernel.
   Only the JS thread calls in, one kernel at a time. */
static float* g_scratch = NULL;
static size_t g_scratch_len = 0;

static float* scratch_floats(size_t len) {
  if (len > g_scratch_len) {
    free(g_scratch);
    g_scratch = malloc(sizeof(float) * len);
    g_scratch_len = g_scratch ? len : 0;
  }
  return g_scratch;
}

/* ---------------------------------------------------------------- helpers */

typedef float v8f __attribute__((vector_size(32)));
typedef int v8i __attribute__((vector_size(32)));

/* tanh as a [13/6] rational (Eigen's fast float tanh): |error| ≈ 1 ulp; 8 lanes at a time (GCC vector extension). */
VWN_INLINE v8f tanh8(v8f a) {
  const v8f hi = (v8f){0} + 7.90531110763549805f, lo = -hi;
  v8i m = a > hi;
  v8f x = (v8f)((m & (v8i)hi) | (~m & (v8i)a));
  m = x < lo;
  x = (v8f)((m & (v8i)lo) | (~m & (v8i)x));
  const v8f x2 = x * x;
  v8f p = x2 * -2.76076847742355e-16f + 2.00018790482477e-13f;
  p = p * x2 + -8.60467152213735e-11f;
  p = p * x2 + 5.12229709037114e-08f;
  p = p * x2 + 1.48572235717979e-05f;
  p = p * x2 + 6.37261928875436e-04f;
  p = p * x2 + 4.89352455891786e-03f;
  p = p * x;
  v8f q = x2 * 1.19825839466702e-06f + 1.18534705686654e-04f;
  q = q * x2 + 2.26843463243900e-03f;
  q = q * x2 + 4.89352518554385e-03f;
  const v8f y = p / q;
  const v8i tiny = (a < 0.0004f) & (a > -0.0004f);
  return (v8f)((tiny & (v8i)a) | (~tiny & (v8i)y));
}

/* y[i] = tanh(s·y[i]) for i < len. */
VWN_INLINE void tanh_scaled(float* y, float s, int len) {
  int i = 0;
  for (; i + 8 <= len; i += 8) {
    v8f v;
    memcpy(&v, y + i, sizeof v);
    v = tanh8(v * s);
    memcpy(y + i, &v, sizeof v);
  }
  if (i < len) {
    float t[8] = {0};
    for (int l = 0; l < len - i; l++) t[l] = s * y[i + l];
    v8f v;
    memcpy(&v, t, sizeof v);
    v = tanh8(v);
    memcpy(t, &v, sizeof v);
    for (int l = 0; l < len - i; l++) y[i + l] = t[l];
  }
}

/* Σ a[i]·b[i] with 8 independent partial sums (vectorizes without -ffast-math; fixed order). */
VWN_INLINE float dot(const float* a, const float* b, int len) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int i = 0;
  for (; i + 8 <= len; i += 8)
    for (int l = 0; l < 8; l++) acc[l] += a[i + l] * b[i + l];
  float s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
  for (; i < len; i++) s += a[i] * b[i];
  return s;
}

/*
 * out[0..len) (= or +=) Σ_k coef[k·cs] · rows[k·ld + 0..len): a small GEMM row with the
 * accumulators in registers (blocks of 32, then 8, then single elements).
 */
VWN_INLINE void lincomb(float* out, int len, int add, const float* coef, int cs, int ncoef, const float* rows, size_t ld) {
  int d0 = 0;
  for (; d0 + 32 <= len; d0 += 32) {
    v8f a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};
    for (int k = 0; k < ncoef; k++) {
      const float c = coef[(size_t)k * cs];
      const float* r = rows + (size_t)k * ld + d0;
      v8f r0, r1, r2, r3;
      memcpy(&r0, r, 32);
      memcpy(&r1, r + 8, 32);
      memcpy(&r2, r + 16, 32);
      memcpy(&r3, r + 24, 32);
      a0 += c * r0;
      a1 += c * r1;
      a2 += c * r2;
      a3 += c * r3;
    }
    float* o = out + d0;
    if (add) {
      v8f o0, o1, o2, o3;
      memcpy(&o0, o, 32);
      memcpy(&o1, o + 8, 32);
      memcpy(&o2, o + 16, 32);
      memcpy(&o3, o + 24, 32);
      a0 += o0;
      a1 += o1;
      a2 += o2;
      a3 += o3;
    }
    memcpy(o, &a0, 32);
    memcpy(o + 8, &a1, 32);
    memcpy(o + 16, &a2, 32);
    memcpy(o + 24, &a3, 32);
  }
  for (; d0 + 8 <= len; d0 += 8) {
    v8f a0 = {0};
    for (int k = 0; k < ncoef; k++) {
      v8f r0;
      memcpy(&r0, rows + (size_t)k * ld + d0, 32);
      a0 += coef[(size_t)k * cs] * r0;
    }
    if (add) {
      v8f o0;
      memcpy(&o0, out + d0, 32);
      a0 += o0;
    }
    memcpy(out + d0, &a0, 32);
  }
  for (; d0 < len; d0++) {
    float s = 0.0f;
    for (int k = 0; k < ncoef; k++) s += coef[(size_t)k * cs] * rows[(size_t)k * ld + d0];
    out[d0] = add ? out[d0] + s : s;
  }
}

/* ---------------------------------------------------------------- threads */


int vwn_kernel_threads(void) {
  if (g_threads > 0) return g_threads;
  return vwn_blas_threads() > 0 ? vwn_blas_threads() : 1;
}

typedef void (*ChunkFn)(void* ctx, int chunk);

#ifdef _WIN32
static void parallel_chunks(int chunks, ChunkFn fn, void* ctx) { /* no pthreads: one thread */
  for (int c = 0; c < chunks; c++) fn(ctx, c);
}
#else
typedef struct {
  ChunkFn fn;
  void* ctx;
  int chunks;
  int next; /* next chunk to take (atomic) */
} Job;

static void* run_job(void* p) {
  Job* j = (Job*)p;
  for (int c; (c = __atomic_fetch_add(&j->next, 1, __ATOMIC_RELAXED)) < j->chunks;) j->fn(j->ctx, c);
  return NULL;
}

/*
 * Runs fn(ctx, c) for c in [0, chunks) on up to T threads, chunks taken from a shared counter
 * (a thread the OS deschedules on a busy machine holds up one chunk, not a fixed share). Which
 * thread runs a chunk does not change any result: each chunk writes its own outputs and partials.
 */
static void parallel_chunks(int chunks, ChunkFn fn, void* ctx) {
  int T = vwn_kernel_threads();
  if (T > MAX_THREADS) T = MAX_THREADS;
  if (T > chunks) T = chunks;
  Job job = {fn, ctx, chunks, 0};
  if (T <= 1) {
    run_job(&job);
    return;
  }
  pthread_t tids[MAX_THREADS];
  int started[MAX_THREADS];
  for (int t = 1; t < T; t++) started[t] = pthread_create(&tids[t], NULL, run_job, &job) == 0;
  run_job(&job);
  for (int t = 1; t < T; t++)
    if (started[t]) pthread_join(tids[t], NULL);
}
#endif

/* ---------------------------------------------------------------- DGHC read, forward */

/* Pass after the GEMM U = H'·W' (already in c): c = tanh(r·U), A, bT and [X; C] = Aᵀ·H per token. */
typedef struct {
  int N, m, n, db, K;
  float eps;
  const float *state, *sa, *ahat, *sbT, *bTs;
  float *x, *carried, *bT, *c;
} ReadCtx;

VWN_CLONES static void read_chunk(void* p, int chunk) {
  const ReadCtx* k = (const ReadCtx*)p;
  const int m = k->m, n = k->n, db = k->db, K = k->K, M2 = m + n;
  const int t0 = chunk * CHUNK, t1 = t0 + CHUNK < k->N ? t0 + CHUNK : k->N;
  float A[n * M2];
  for (int t = t0; t < t1; t++) {
    const float* H = k->state + (size_t)t * n * db;
    float* c = k->c + (size_t)t * n * K;
    for (int j = 0; j < n; j++) {
      const float* h = H + (size_t)j * db;
      const float r = 1.0f / sqrtf(dot(h, h, db) / (float)db + k->eps);
      float* u = c + (size_t)j * K;
      tanh_scaled(u, r, K);
      for (int i = 0; i < M2; i++) A[j * M2 + i] = k->sa[j * M2 + i] * u[i] + k->ahat[j * M2 + i];
      float* bt = k->bT + ((size_t)t * n + j) * m;
      for (int i = 0; i < m; i++) bt[i] = k->sbT[j * m + i] * u[M2 + i] + k->bTs[j * m + i];
    }
    for (int i = 0; i < M2; i++) {
      float* y = i < m ? k->x + ((size_t)t * m + i) * db : k->carried + ((size_t)t * n + (i - m)) * db;
      lincomb(y, db, 0, A + i, M2, n, H, db);
    }
  }
}

/* ---------------------------------------------------------------- DGHC read, backward */

/*
 * Pass 1 (per token): dA = H·dYᵀ, the width path of dH' (= A·dY, written to dstate), the
 * parameter partials of S_α, [Å | Â], S_β, B, and dvr = r ⊙ dU (dU: gradient of the
 * pre-tanh coefficients) for the two GEMMs. Pass 2 (after E' = dvr·(W/τ)ᵀ): gain partials and
 * the RMSNorm path, dH'_j += g ⊙ E'_j − ĥ_j · mean(g ⊙ E'_j ⊙ ĥ_j).
 */
typedef struct {
  int N, m, n, db, K, P;
  float eps;
  const float *dx, *dcarried, *dbT, *state, *c, *gain, *sa, *ahat, *sbT;
  float *dstate, *dvr, *e;
  float* partial; /* [chunks, P]: dgain (db) | dSα (n·(m+n)) | d[Å|Â] (n·(m+n)) | dS_βᵀ (n·m) | dBᵀ (n·m) */
} GradCtx;

VWN_CLONES static void grad_chunk(void* p, int chunk) {
  const GradCtx* k = (const GradCtx*)p;
  const int m = k->m, n = k->n, db = k->db, K = k->K, M2 = m + n;
  const int t0 = chunk * CHUNK, t1 = t0 + CHUNK < k->N ? t0 + CHUNK : k->N;
  float* pg = k->partial + (size_t)chunk * k->P;
  float* psa = pg + db;
  float* pa = psa + n * M2;
  float* psb = pa + n * M2;
  float* pb = psb + n * m;
  memset(psa, 0, sizeof(float) * (size_t)(k->P - db));
  float A[n * M2], dYT[db * M2], dA[M2];
  for (int t = t0; t < t1; t++) {
    const float* H = k->state + (size_t)t * n * db;
    const float* c = k->c + (size_t)t * n * K;
    const float* dX = k->dx + (size_t)t * m * db;
    const float* dC = k->dcarried + (size_t)t * n * db;
    const float* dB = k->dbT + (size_t)t * n * m;
    float* dH = k->dstate + (size_t)t * n * db;
    for (int j = 0; j < n; j++)
      for (int i = 0; i < M2; i++) A[j * M2 + i] = k->sa[j * M2 + i] * c[j * K + i] + k->ahat[j * M2 + i];
    for (int i = 0; i < M2; i++) {
      const float* dy = i < m ? dX + (size_t)i * db : dC + (size_t)(i - m) * db;
      for (int d = 0; d < db; d++) dYT[d * M2 + i] = dy[d];
    }
    for (int j = 0; j < n; j++) {
      const float* h = H + (size_t)j * db;
      const float* cj = c + (size_t)j * K;
      float* dh = dH + (size_t)j * db;
      lincomb(dh, db, 0, A + j * M2, 1, m, dX, db); /* Σ_{i<m} A[j,i]·dX_i */
      lincomb(dh, db, 1, A + j * M2 + m, 1, n, dC, db); /* + Σ_i A[j,m+i]·dC_i */
      lincomb(dA, M2, 0, h, 1, db, dYT, M2); /* dA[j,:] = H_j·dYᵀ */
      const float r = 1.0f / sqrtf(dot(h, h, db) / (float)db + k->eps);
      float* dv = k->dvr + ((size_t)t * n + j) * K;
      for (int i = 0; i < M2; i++) {
        psa[j * M2 + i] += dA[i] * cj[i];
        pa[j * M2 + i] += dA[i];
        dv[i] = r * (dA[i] * k->sa[j * M2 + i] * (1.0f - cj[i] * cj[i]));
      }
      for (int i = 0; i < m; i++) {
        const float g = dB[j * m + i], cb = cj[M2 + i];
        psb[j * m + i] += g * cb;
        pb[j * m + i] += g;
        dv[M2 + i] = r * (g * k->sbT[j * m + i] * (1.0f - cb * cb));
      }
    }
  }
}

VWN_CLONES static void norm_chunk(void* p, int chunk) {
  const GradCtx* k = (const GradCtx*)p;
  const int n = k->n, db = k->db;
  const int t0 = chunk * CHUNK, t1 = t0 + CHUNK < k->N ? t0 + CHUNK : k->N;
  float* pg = k->partial + (size_t)chunk * k->P;
  memset(pg, 0, sizeof(float) * (size_t)db);
  float hhat[db], ge[db];
  for (int t = t0; t < t1; t++) {
    for (int j = 0; j < n; j++) {
      const size_t row = ((size_t)t * n + j) * db;
      const float* h = k->state + row;
      const float* e = k->e + row; /* E' = r ⊙ (dU·(W/τ)ᵀ) */
      float* dh = k->dstate + row;
      const float r = 1.0f / sqrtf(dot(h, h, db) / (float)db + k->eps);
      for (int d = 0; d < db; d++) {
        hhat[d] = r * h[d];
        pg[d] += h[d] * e[d];
        ge[d] = k->gain[d] * e[d];
      }
      const float mdot = dot(ge, hhat, db) / (float)db;
      for (int d = 0; d < db; d++) dh[d] += ge[d] - hhat[d] * mdot;
    }
  }
}

/* ---------------------------------------------------------------- GHC write */

typedef struct {
  int N, m, n, db;
  const float *carried, *z, *bT, *dout;
  float *out, *dz, *dbT;
} WriteCtx;

VWN_CLONES static void write_chunk(void* p, int chunk) {
  const WriteCtx* k = (const WriteCtx*)p;
  const int m = k->m, n = k->n, db = k->db;
  const int t0 = chunk * CHUNK, t1 = t0 + CHUNK < k->N ? t0 + CHUNK : k->N;
  for (int t = t0; t < t1; t++) {
    const float* Z = k->z + (size_t)t * m * db;
    const float* B = k->bT + (size_t)t * n * m;
    for (int j = 0; j < n; j++) {
      float* o = k->out + ((size_t)t * n + j) * db;
      memcpy(o, k->carried + ((size_t)t * n + j) * db, sizeof(float) * (size_t)db);
      lincomb(o, db, 1, B + j * m, 1, m, Z, db);
    }
  }
}

VWN_CLONES static void write_grad_chunk(void* p, int chunk) {
  const WriteCtx* k = (const WriteCtx*)p;
  const int m = k->m, n = k->n, db = k->db;
  const int t0 = chunk * CHUNK, t1 = t0 + CHUNK < k->N ? t0 + CHUNK : k->N;
  float ZT[db * m];
  for (int t = t0; t < t1; t++) {
    const float* Z = k->z + (size_t)t * m * db;
    const float* B = k->bT + (size_t)t * n * m;
    const float* dO = k->dout + (size_t)t * n * db;
    for (int i = 0; i < m; i++) {
      lincomb(k->dz + ((size_t)t * m + i) * db, db, 0, B + i, m, n, dO, db); /* dZ_i = Σ_j B[j,i]·dO_j */
      for (int d = 0; d < db; d++) ZT[d * m + i] = Z[(size_t)i * db + d];
    }
    for (int j = 0; j < n; j++) lincomb(k->dbT + ((size_t)t * n + j) * m, m, 0, dO + (size_t)j * db, 1, db, ZT, m); /* dB[j,:] = dO_j·Zᵀ */
  }
}

/* ---------------------------------------------------------------- Node-API glue */

typedef struct {
  float* p;
  size_t len;
} F32;

static int arg_f32(napi_env env, napi_value v, size_t need, F32* out, const char* fn, const char* name) {
  napi_typedarray_type type;
  void* ptr;
  napi_value ab;
  size_t off, len;
  char msg[160];
  if (napi_get_typedarray_info(env, v, &type, &len, &ptr, &ab, &off) != napi_ok || type != napi_float32_array) {
    snprintf(msg, sizeof msg, "@vwn/blas %s: %s must be a Float32Array", fn, name);
    napi_throw_type_error(env, NULL, msg);
    return 0;
  }
  if (len < need) {
    snprintf(msg, sizeof msg, "@vwn/blas %s: %s has %zu elements, needs %zu", fn, name, len, need);
    napi_throw_range_error(env, NULL, msg);
    return 0;
  }
  out->p = (float*)ptr;
  out->len = len;
  return 1;
}

/* Reads `count` leading integer dims (each ≥ 1, products checked later by the callers' needs). */
static int arg_dims(napi_env env, napi_value* argv, int count, int64_t* d, const char* fn) {
  char msg[160];
  for (int i = 0; i < count; i++) {
    if (napi_get_value_int64(env, argv[i], &d[i]) != napi_ok || d[i] < 0 || d[i] > 0x7fffffff || (i > 0 && d[i] < 1)) {
      snprintf(msg, sizeof msg, "@vwn/blas %s: N, m, n, d_b must be integers (N ≥ 0, the others ≥ 1)", fn);
      napi_throw_range_error(env, NULL, msg);
      return 0;
    }
  }
  return 1;
}

static int get_args(napi_env env, napi_callback_info info, size_t want, napi_value* argv, const char* fn) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != want) {
    char msg[128];
    snprintf(msg, sizeof msg, "@vwn/blas %s: expected %zu arguments", fn, want);
    napi_throw_type_error(env, NULL, msg);
    return 0;
  }
  return 1;
}

#define F32ARG(var, idx, need, name) \
  F32 var;                            \
  if (!arg_f32(env, argv[idx], (size_t)(need), &var, FN, name)) return NULL

static napi_value DghcRead(napi_env env, napi_callback_info info) {
  static const char* FN = "dghcRead";
  napi_value argv[17];
  int64_t d[4];
  double eps;
  if (!get_args(env, info, 17, argv, FN) || !arg_dims(env, argv, 4, d, FN)) return NULL;
  if (napi_get_value_double(env, argv[4], &eps) != napi_ok) return NULL;
  const int N = (int)d[0], m = (int)d[1], n = (int)d[2], db = (int)d[3], K = 2 * m + n, M2 = m + n;
  if ((int64_t)n * K > 1 << 20 || db > 1 << 20) {
    napi_throw_range_error(env, NULL, "@vwn/blas dghcRead: n·(2m+n) and d_b must be ≤ 2^20");
    return NULL;
  }
  F32ARG(state, 5, (size_t)N * n * db, "state");
  F32ARG(w, 6, (size_t)db * K, "w");
  F32ARG(gain, 7, db, "gain");
  F32ARG(sa, 8, (size_t)n * M2, "scaleAlpha");
  F32ARG(sb, 9, (size_t)m * n, "scaleBeta");
  F32ARG(rd, 10, (size_t)n * m, "read");
  F32ARG(cy, 11, (size_t)n * n, "carry");
  F32ARG(wr, 12, (size_t)m * n, "write");
  F32ARG(x, 13, (size_t)N * m * db, "x");
  F32ARG(car, 14, (size_t)N * n * db, "carried");
  F32ARG(bT, 15, (size_t)N * n * m, "bT");
  F32ARG(c, 16, (size_t)N * n * K, "c");
  if (N == 0) return NULL;
  const float tau = sqrtf((float)db);
  float* wp = scratch_floats((size_t)db * K + 2 * (size_t)n * M2 + 2 * (size_t)n * m);
  if (!wp) {
    napi_throw_error(env, NULL, "@vwn/blas dghcRead: out of memory");
    return NULL;
  }
  float* ahat = wp + (size_t)db * K;
  float* sbT = ahat + (size_t)n * M2;
  float* bTs = sbT + (size_t)n * m;
  for (int dd = 0; dd < db; dd++)
    for (int q = 0; q < K; q++) wp[dd * K + q] = gain.p[dd] * (w.p[dd * K + q] / tau);
  for (int j = 0; j < n; j++) {
    for (int i = 0; i < m; i++) ahat[j * M2 + i] = rd.p[j * m + i];
    for (int i = 0; i < n; i++) ahat[j * M2 + m + i] = cy.p[j * n + i];
    for (int i = 0; i < m; i++) {
      sbT[j * m + i] = sb.p[i * n + j];
      bTs[j * m + i] = wr.p[i * n + j];
    }
  }
  /* Coefficient GEMM for all N·n segments at once: U = H'·(g ⊙ W/τ) into c (the row scale r and tanh follow). */
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N * n, K, db, 1.0f, state.p, db, wp, K, 0.0f, c.p, K);
  ReadCtx ctx = {N, m, n, db, K, (float)eps, state.p, sa.p, ahat, sbT, bTs, x.p, car.p, bT.p, c.p};
  parallel_chunks((N + CHUNK - 1) / CHUNK, read_chunk, &ctx);
  return NULL;
}

static napi_value DghcReadGrad(napi_env env, napi_callback_info info) {
  static const char* FN = "dghcReadGrad";
  napi_value argv[24];
  int64_t d[4];
  double eps;
  if (!get_args(env, info, 24, argv, FN) || !arg_dims(env, argv, 4, d, FN)) return NULL;
  if (napi_get_value_double(env, argv[4], &eps) != napi_ok) return NULL;
  const int N = (int)d[0], m = (int)d[1], n = (int)d[2], db = (int)d[3], K = 2 * m + n, M2 = m + n;
  if ((int64_t)n * K > 1 << 20 || db > 1 << 20) {
    napi_throw_range_error(env, NULL, "@vwn/blas dghcReadGrad: n·(2m+n) and d_b must be ≤ 2^20");
    return NULL;
  }
  F32ARG(dx, 5, (size_t)N * m * db, "dx");
  F32ARG(dcar, 6, (size_t)N * n * db, "dcarried");
  F32ARG(dbT, 7, (size_t)N * n * m, "dbT");
  F32ARG(state, 8, (size_t)N * n * db, "state");
  F32ARG(c, 9, (size_t)N * n * K, "c");
  F32ARG(w, 10, (size_t)db * K, "w");
  F32ARG(gain, 11, db, "gain");
  F32ARG(sa, 12, (size_t)n * M2, "scaleAlpha");
  F32ARG(sb, 13, (size_t)m * n, "scaleBeta");
  F32ARG(rd, 14, (size_t)n * m, "read");
  F32ARG(cy, 15, (size_t)n * n, "carry");
  F32ARG(dstate, 16, (size_t)N * n * db, "dstate");
  F32ARG(dw, 17, (size_t)db * K, "dw");
  F32ARG(dgain, 18, db, "dgain");
  F32ARG(dsa, 19, (size_t)n * M2, "dscaleAlpha");
  F32ARG(dsb, 20, (size_t)m * n, "dscaleBeta");
  F32ARG(dread, 21, (size_t)n * m, "dread");
  F32ARG(dcarry, 22, (size_t)n * n, "dcarry");
  F32ARG(dwrite, 23, (size_t)m * n, "dwrite");
  const float tau = sqrtf((float)db);
  const int P = db + 2 * n * M2 + 2 * n * m;
  const int chunks = (N + CHUNK - 1) / CHUNK;
  if (N == 0) {
    memset(dw.p, 0, sizeof(float) * (size_t)db * K);
    memset(dgain.p, 0, sizeof(float) * (size_t)db);
    memset(dsa.p, 0, sizeof(float) * (size_t)n * M2);
    memset(dsb.p, 0, sizeof(float) * (size_t)m * n);
    memset(dread.p, 0, sizeof(float) * (size_t)n * m);
    memset(dcarry.p, 0, sizeof(float) * (size_t)n * n);
    memset(dwrite.p, 0, sizeof(float) * (size_t)m * n);
    return NULL;
  }
  /* scratch: W/τ | S_βᵀ | [Å | Â] | chunk partials | dvr [N·n, K] | E' [N·n, d_b] | totals */
  const size_t scratch = (size_t)db * K + (size_t)n * m + (size_t)n * M2 + (size_t)P * chunks + (size_t)N * n * K +
                         (size_t)N * n * db + (size_t)P;
  float* wt = scratch_floats(scratch);
  if (!wt) {
    napi_throw_error(env, NULL, "@vwn/blas dghcReadGrad: out of memory");
    return NULL;
  }
  float* sbT = wt + (size_t)db * K;
  float* ahat = sbT + (size_t)n * m;
  float* partial = ahat + (size_t)n * M2;
  float* dvr = partial + (size_t)P * chunks;
  float* e = dvr + (size_t)N * n * K;
  float* tot = e + (size_t)N * n * db;
  for (int i = 0; i < db * K; i++) wt[i] = w.p[i] / tau;
  for (int j = 0; j < n; j++) {
    for (int i = 0; i < m; i++) sbT[j * m + i] = sb.p[i * n + j];
    for (int i = 0; i < m; i++) ahat[j * M2 + i] = rd.p[j * m + i];
    for (int i = 0; i < n; i++) ahat[j * M2 + m + i] = cy.p[j * n + i];
  }
  GradCtx ctx = {N, m, n, db, K, P, (float)eps, dx.p, dcar.p, dbT.p, state.p, c.p, gain.p, sa.p, ahat, sbT, dstate.p, dvr, e, partial};
  parallel_chunks(chunks, grad_chunk, &ctx);
  /* The coefficient GEMM's two gradients over all N·n segments: dW = diag(g)·H'ᵀ·dvr/τ and E' = dvr·(W/τ)ᵀ. */
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, db, K, N * n, 1.0f, state.p, db, dvr, K, 0.0f, dw.p, K);
  for (int dd = 0; dd < db; dd++)
    for (int q = 0; q < K; q++) dw.p[dd * K + q] = gain.p[dd] * dw.p[dd * K + q] / tau;
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N * n, db, K, 1.0f, dvr, K, wt, K, 0.0f, e, db);
  parallel_chunks(chunks, norm_chunk, &ctx);
  /* Sum the chunk partials in chunk order. */
  memset(tot, 0, sizeof(float) * (size_t)P);
  for (int ch = 0; ch < chunks; ch++) {
    const float* src = partial + (size_t)ch * P;
    for (int i = 0; i < P; i++) tot[i] += src[i];
  }
  const float* tg = tot;
  const float* tsa = tg + db;
  const float* ta = tsa + n * M2;
  const float* tsb = ta + n * M2;
  const float* tb = tsb + n * m;
  memcpy(dgain.p, tg, sizeof(float) * (size_t)db);
  memcpy(dsa.p, tsa, sizeof(float) * (size_t)n * M2);
  for (int j = 0; j < n; j++) {
    for (int i = 0; i < m; i++) dread.p[j * m + i] = ta[j * M2 + i];
    for (int i = 0; i < n; i++) dcarry.p[j * n + i] = ta[j * M2 + m + i];
    for (int i = 0; i < m; i++) {
      dsb.p[i * n + j] = tsb[j * m + i];
      dwrite.p[i * n + j] = tb[j * m + i];
    }
  }
  return NULL;
}

static napi_value GhcWrite(napi_env env, napi_callback_info info) {
  static const char* FN = "ghcWrite";
  napi_value argv[8];
  int64_t d[4];
  if (!get_args(env, info, 8, argv, FN) || !arg_dims(env, argv, 4, d, FN)) return NULL;
  const int N = (int)d[0], m = (int)d[1], n = (int)d[2], db = (int)d[3];
  F32ARG(car, 4, (size_t)N * n * db, "carried");
  F32ARG(z, 5, (size_t)N * m * db, "z");
  F32ARG(bT, 6, (size_t)N * n * m, "bT");
  F32ARG(out, 7, (size_t)N * n * db, "out");
  WriteCtx ctx = {N, m, n, db, car.p, z.p, bT.p, NULL, out.p, NULL, NULL};
  parallel_chunks((N + CHUNK - 1) / CHUNK, write_chunk, &ctx);
  return NULL;
}

static napi_value GhcWriteGrad(napi_env env, napi_callback_info info) {
  static const char* FN = "ghcWriteGrad";
  napi_value argv[9];
  int64_t d[4];
  if (!get_args(env, info, 9, argv, FN) || !arg_dims(env, argv, 4, d, FN)) return NULL;
  const int N = (int)d[0], m = (int)d[1], n = (int)d[2], db = (int)d[3];
  F32ARG(dout, 4, (size_t)N * n * db, "dout");
  F32ARG(z, 5, (size_t)N * m * db, "z");
  F32ARG(bT, 6, (size_t)N * n * m, "bT");
  F32ARG(dz, 7, (size_t)N * m * db, "dz");
  F32ARG(dbT, 8, (size_t)N * n * m, "dbT");
  WriteCtx ctx = {N, m, n, db, NULL, z.p, bT.p, dout.p, NULL, dz.p, dbT.p};
  parallel_chunks((N + CHUNK - 1) / CHUNK, write_grad_chunk, &ctx);
  return NULL;
}

static napi_value SetKernelThreads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t n = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 1 ||
      napi_get_value_int32(env, argv[0], &n) != napi_ok || n < 0) {
    napi_throw_range_error(env, NULL, "@vwn/blas setKernelThreads: expected a non-negative integer");
    return NULL;
  }
  g_threads = n;
  return NULL;
}

static napi_value GetKernelThreads(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  napi_create_int32(env, vwn_kernel_threads(), &out);
  return out;
}

int vwn_dghc_init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"dghcRead", NULL, DghcRead, NULL, NULL, NULL, napi_enumerable, NULL},
      {"dghcReadGrad", NULL, DghcReadGrad, NULL, NULL, NULL, napi_enumerable, NULL},
      {"ghcWrite", NULL, GhcWrite, NULL, NULL, NULL, napi_enumerable, NULL},
      {"ghcWriteGrad", NULL, GhcWriteGrad, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setKernelThreads", NULL, SetKernelThreads, NULL, NULL, NULL, napi_enumerable, NULL},
      {"getKernelThreads", NULL, GetKernelThreads, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  return napi_define_properties(env, exports, sizeof props / sizeof props[0], props) == napi_ok;
}
