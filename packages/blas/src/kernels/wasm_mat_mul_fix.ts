/**
 * No-BLAS `BatchMatMul` for tfjs-wasm: transposes and batches hoisted out of XNNPACK.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { planMatMul, type MatMulPlan } from './mat_mul.js';
import type { Info, KernelFn, WasmBackend } from './types.js';

/**
 * No-BLAS wasm path: tfjs-wasm 4.22's BatchMatMul is fast (XNNPACK) only
 * without transposes; with `transposeA`/`transposeB` it runs ≈ 10–20× slower.
 * This kernel materializes the transposed operand with wasm's Transpose kernel
 * and calls the original BatchMatMul untransposed (same products and sums, so
 * the results are identical up to summation order inside XNNPACK).
 */
export function wasmTransposeFirst(original: KernelFn): KernelFn {
  return (args) => {
    const ta = Boolean(args.attrs['transposeA']);
    const tb = Boolean(args.attrs['transposeB']);
    const { a, b } = args.inputs as { a: Info; b: Info };
    if ((!ta && !tb) || a.dtype !== 'float32' || b.dtype !== 'float32') return original(args);
    const transpose = tf.getKernel('Transpose', 'wasm');
    if (!transpose) return original(args);
    const backend = args.backend as WasmBackend;
    const t = (x: Info): Info => {
      const r = x.shape.length;
      const perm = [...Array(r).keys()];
      perm[r - 2] = r - 1;
      perm[r - 1] = r - 2;
      return transpose.kernelFunc({ inputs: { x }, attrs: { perm }, backend } as never) as Info;
    };
    const a2 = ta ? t(a) : a;
    const b2 = tb ? t(b) : b;
    const plan = planMatMul(a2.shape, b2.shape, false, false);
    const out =
      plan && plan.aOffs.length > 1
        ? perBatch(original, a2, b2, plan, backend)
        : (original({ inputs: { a: a2, b: b2 }, attrs: { transposeA: false, transposeB: false }, backend }) as Info);
    if (ta) backend.disposeData(a2.dataId);
    if (tb) backend.disposeData(b2.dataId);
    return out;
  };
}

/**
 * tfjs-wasm runs batched (rank > 2, batch > 1) matMuls ≈ 10× slower than 2-D
 * ones; this runs each batch entry as a 2-D XNNPACK GEMM on copied slices.
 */
export function perBatchFn(original: KernelFn): KernelFn {
  return (args) => {
    const { a, b } = args.inputs as { a: Info; b: Info };
    if (args.attrs['transposeA'] || args.attrs['transposeB'] || a.dtype !== 'float32' || b.dtype !== 'float32') return original(args);
    const plan = planMatMul(a.shape, b.shape, false, false);
    if (!plan || plan.aOffs.length <= 1) return original(args);
    return perBatch(original, a, b, plan, args.backend as WasmBackend);
  };
}

function perBatch(original: KernelFn, a: Info, b: Info, plan: MatMulPlan, backend: WasmBackend): Info {
  const { M, N, K } = plan;
  const out = backend.makeOutput(plan.outShape, 'float32');
  if (plan.size === 0) return out;
  // XNNPACK caches packed weights per `b` tensor id, so every distinct b slice
  // gets a fresh tensor (never overwrite a b that was already multiplied).
  const ta = backend.makeOutput([M, K], 'float32');
  let tb: Info | null = null;
  let lastB = -1;
  for (let i = 0; i < plan.aOffs.length; i++) {
    const ao = plan.aOffs[i]!;
    const bo = plan.bOffs[i]!;
    backend.typedArrayFromHeap(ta).set(backend.typedArrayFromHeap(a).subarray(ao, ao + M * K));
    if (bo !== lastB || !tb) {
      if (tb) backend.disposeData(tb.dataId);
      tb = backend.makeOutput([K, N], 'float32');
      backend.typedArrayFromHeap(tb).set(backend.typedArrayFromHeap(b).subarray(bo, bo + K * N));
      lastB = bo;
    }
    const c = original({ inputs: { a: ta, b: tb }, attrs: { transposeA: false, transposeB: false }, backend }) as Info;
    backend.typedArrayFromHeap(out).set(backend.typedArrayFromHeap(c), plan.cOffs[i]!);
    backend.disposeData(c.dataId);
  }
  backend.disposeData(ta.dataId);
  if (tb) backend.disposeData(tb.dataId);
  return out;
}
