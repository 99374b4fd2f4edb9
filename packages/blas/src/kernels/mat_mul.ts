/**
 * `BatchMatMul` on the native addon (cblas_sgemm), for tfjs-cpu and tfjs-wasm,
 * and its batch/broadcast planner.
 *
 * @module
 */
import type { Blas } from '../native.js';
import type { Info, KernelFn, CpuBackend, WasmBackend } from './types.js';

/**
 * Shapes and per-batch element offsets of one (possibly broadcast) batched matMul.
 *
 * @example
 * ```ts
 * const plan: MatMulPlan | null = planMatMul([2, 3, 4], [4, 5], false, false);
 * // { M: 3, N: 5, K: 4, outShape: [2, 3, 5], size: 30,
 * //   aOffs: [0, 12], bOffs: [0, 0], cOffs: [0, 15] }  (b is broadcast over the batch)
 * ```
 */
export interface MatMulPlan {
  M: number;
  N: number;
  K: number;
  outShape: number[];
  size: number;
  aOffs: Int32Array;
  bOffs: Int32Array;
  cOffs: Int32Array;
}

const plans = new Map<string, MatMulPlan | null>();

/**
 * Plans `op(a)·op(b)` for row-major `a: [...batchA, r, c]`, `b: [...batchB, r, c]` with numpy
 * broadcasting of the batch dims (as tfjs's matMul). Null when tfjs's own kernel should handle it.
 *
 * @example
 * ```ts
 * planMatMul([8, 16], [32, 16], false, true)?.outShape; // [8, 32]  (a·bᵀ)
 * planMatMul([2, 3, 4], [4, 5], false, false)?.cOffs;   // Int32Array [0, 15]
 * planMatMul([3, 4], [5, 6], false, false);              // null (K mismatch: tfjs throws)
 * ```
 */
export function planMatMul(aShape: readonly number[], bShape: readonly number[], ta: boolean, tb: boolean): MatMulPlan | null {
  const key = `${aShape}|${bShape}|${ta}|${tb}`;
  const hit = plans.get(key);
  if (hit !== undefined) return hit;
  const plan = makePlan(aShape, bShape, ta, tb);
  if (plans.size > 4096) plans.clear();
  plans.set(key, plan);
  return plan;
}

function makePlan(aShape: readonly number[], bShape: readonly number[], ta: boolean, tb: boolean): MatMulPlan | null {
  const ra = aShape.length;
  const rb = bShape.length;
  if (ra < 2 || rb < 2) return null;
  const M = ta ? aShape[ra - 1]! : aShape[ra - 2]!;
  const K = ta ? aShape[ra - 2]! : aShape[ra - 1]!;
  const Kb = tb ? bShape[rb - 1]! : bShape[rb - 2]!;
  const N = tb ? bShape[rb - 2]! : bShape[rb - 1]!;
  if (K !== Kb) return null; // let tfjs throw its error
  const oa = aShape.slice(0, -2);
  const ob = bShape.slice(0, -2);
  const r = Math.max(oa.length, ob.length);
  const pa = [...Array(r - oa.length).fill(1), ...oa] as number[];
  const pb = [...Array(r - ob.length).fill(1), ...ob] as number[];
  const outer: number[] = [];
  for (let i = 0; i < r; i++) {
    if (pa[i] === pb[i] || pb[i] === 1) outer.push(pa[i]!);
    else if (pa[i] === 1) outer.push(pb[i]!);
    else return null;
  }
  const batch = outer.reduce((x, y) => x * y, 1);
  const size = batch * M * N;
  if (batch * M * K > 0x7fffffff || batch * K * N > 0x7fffffff || size > 0x7fffffff) return null;
  // Element strides of each batch dim in a and b (0 where broadcast).
  const sa = new Array<number>(r).fill(0);
  const sb = new Array<number>(r).fill(0);
  let acc = M * K;
  let bcc = K * N;
  for (let i = r - 1; i >= 0; i--) {
    sa[i] = pa[i] === 1 ? 0 : acc;
    sb[i] = pb[i] === 1 ? 0 : bcc;
    acc *= pa[i]!;
    bcc *= pb[i]!;
  }
  const aOffs = new Int32Array(batch);
  const bOffs = new Int32Array(batch);
  const cOffs = new Int32Array(batch);
  const idx = new Array<number>(r).fill(0);
  for (let n = 0; n < batch; n++) {
    let ao = 0;
    let bo = 0;
    for (let i = 0; i < r; i++) {
      ao += idx[i]! * sa[i]!;
      bo += idx[i]! * sb[i]!;
    }
    aOffs[n] = ao;
    bOffs[n] = bo;
    cOffs[n] = n * M * N;
    for (let i = r - 1; i >= 0; i--) {
      if (++idx[i]! < outer[i]!) break;
      idx[i] = 0;
    }
  }
  return { M, N, K, outShape: [...outer, M, N], size, aOffs, bOffs, cOffs };
}

/** The float32 operands and GEMM plan of a MatMul call, or null when BLAS cannot take it (then the tfjs kernel runs). */
function blasCall(args: Parameters<KernelFn>[0]): { a: Info; b: Info; ta: boolean; tb: boolean; plan: MatMulPlan } | null {
  const { a, b } = args.inputs as { a: Info; b: Info };
  const ta = Boolean(args.attrs['transposeA']);
  const tb = Boolean(args.attrs['transposeB']);
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return null;
  const plan = planMatMul(a.shape, b.shape, ta, tb);
  return plan ? { a, b, ta, tb, plan } : null;
}

export function cpuMatMul(blas: Blas, fallback: KernelFn): KernelFn {
  return (args) => {
    const call = blasCall(args);
    if (!call) return fallback(args);
    const { a, b, ta, tb, plan } = call;
    const backend = args.backend as CpuBackend;
    const av = backend.data.get(a.dataId).values;
    const bv = backend.data.get(b.dataId).values;
    if (!(av instanceof Float32Array) || !(bv instanceof Float32Array)) return fallback(args);
    const out = new Float32Array(plan.size);
    if (plan.size > 0) blas.gemm(ta, tb, plan.M, plan.N, plan.K, 1, av, bv, 0, out, plan.aOffs, plan.bOffs, plan.cOffs);
    return backend.makeTensorInfo(plan.outShape, 'float32', out);
  };
}

export function wasmMatMul(blas: Blas, fallback: KernelFn): KernelFn {
  return (args) => {
    const call = blasCall(args);
    if (!call) return fallback(args);
    const { a, b, ta, tb, plan } = call;
    const backend = args.backend as WasmBackend;
    const out = backend.makeOutput(plan.outShape, 'float32');
    if (plan.size > 0) {
      // Views are taken after makeOutput: allocating may grow (and detach) the heap.
      const av = backend.typedArrayFromHeap(a);
      const bv = backend.typedArrayFromHeap(b);
      const cv = backend.typedArrayFromHeap(out);
      blas.gemm(ta, tb, plan.M, plan.N, plan.K, 1, av, bv, 0, cv, plan.aOffs, plan.bOffs, plan.cOffs);
    }
    return out;
  };
}
