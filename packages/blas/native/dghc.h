/* @vwn/blas fused DGHC kernels (native/dghc.c), registered on the addon's exports by blas.c. */
#ifndef VWN_DGHC_H
#define VWN_DGHC_H
#include <node_api.h>

/* Adds dghcRead, dghcReadGrad, ghcWrite, ghcWriteGrad, setKernelThreads, getKernelThreads to `exports`; 1 on success. */
int vwn_dghc_init(napi_env env, napi_value exports);
/* Threads the fused kernels use (setKernelThreads, else the BLAS's thread count, at least 1). */
int vwn_kernel_threads(void);
/* The BLAS's thread count (blas.c; 0 when unknown, e.g. Accelerate). */
int vwn_blas_threads(void);
#endif
