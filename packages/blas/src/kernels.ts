import * as tf from '@tensorflow/tfjs';
import { blasAddon, blasLoadError, loadBlas, type Blas } from './native.js';

/**
 * Backends whose matMul kernels @vwn/blas can replace.
 *
 * @example
 * ```ts
 * BLAS_BACKENDS; // ['cpu', 'wasm']
 * (BLAS_BACKENDS as readonly string[]).includes(tf.getBackend()); // false on 'webgl' / 'webgpu'
 * ```
 */
export const BLAS_BACKENDS = ['cpu', 'wasm'] as const;

/**
 * Kernel names replaced (tfjs 4.22: `tf.matMul` → `BatchMatMul`, `tf.fused.matMul` → `_FusedMatMul`;
 * on wasm also `Identity` and same-dtype `Cast`, which tfjs-wasm copies but can share,
 * row-`GatherV2` and axis-0 `SplitV`, which tfjs-wasm runs element by element, and, with the
 * native addon, `Transpose`, which tfjs-wasm runs 6–50× slower than a copy of the same bytes, and
 * `Sum` over non-innermost axes, which tfjs-wasm runs by transposing first).
 *
 * @example
 * ```ts
 * BLAS_KERNELS; // ['BatchMatMul', '_FusedMatMul', 'Identity', 'Cast', 'GatherV2', 'SplitV', 'Transpose', 'Sum']
 * const replaced = registerBlasKernels('wasm');
 * replaced.every((k) => (BLAS_KERNELS as readonly string[]).includes(k)); // true
 * ```
 */
export const BLAS_KERNELS = ['BatchMatMul', '_FusedMatMul', 'Identity', 'Cast', 'GatherV2', 'SplitV', 'Transpose', 'Sum'] as const;

type Info = tf.TensorInfo;
interface Args {
  inputs: Record<string, Info | undefined>;
  attrs: Record<string, unknown>;
  backend: unknown;
}
type KernelFn = (args: Args) => Info | Info[];

/** Minimal views of the two backends' storage APIs used here. */
interface CpuBackend {
  data: { get(id: unknown): { values?: unknown } };
  makeTensorInfo(shape: number[], dtype: string, values: Float32Array): Info;
  disposeIntermediateTensorInfo(info: Info): void;
}
interface WasmBackend {
  incRef(id: unknown): void;
  makeOutput(shape: number[], dtype: string): Info;
  typedArrayFromHeap(info: Info): Float32Array;
  disposeData(id: unknown): boolean;
}

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

function cpuMatMul(blas: Blas, fallback: KernelFn): KernelFn {
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

function wasmMatMul(blas: Blas, fallback: KernelFn): KernelFn {
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

/**
 * No-BLAS wasm path: tfjs-wasm 4.22's BatchMatMul is fast (XNNPACK) only
 * without transposes; with `transposeA`/`transposeB` it runs ≈ 10–20× slower.
 * This kernel materializes the transposed operand with wasm's Transpose kernel
 * and calls the original BatchMatMul untransposed (same products and sums, so
 * the results are identical up to summation order inside XNNPACK).
 */
function wasmTransposeFirst(original: KernelFn): KernelFn {
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
function perBatchFn(original: KernelFn): KernelFn {
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

/**
 * tfjs-wasm's `Identity` and `Cast` always copy; the backward pass calls them
 * hundreds of times per step (tfjs gradients cast/clone their inputs). Tensors
 * are immutable (variables swap data ids on assign), so like tfjs-cpu and
 * wasm's own Reshape we share the data and bump its reference count instead.
 */
function wasmShare(original: KernelFn, isCast: boolean): KernelFn {
  return (args) => {
    const { x } = args.inputs as { x: Info };
    if (x.dtype === 'string' || (isCast && args.attrs['dtype'] !== x.dtype)) return original(args);
    const backend = args.backend as WasmBackend;
    backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
  };
}

/**
 * Row gather (`axis = 0`, `batchDims = 0`; embeddings, MoE token dispatch) as
 * one `copyWithin` per row on the wasm heap: tfjs-wasm's generic gather is
 * ≈ 30× slower for `[4096, 256]` rows. Anything else, and out-of-range
 * indices (tfjs's error message), go to the original kernel.
 */
function wasmRowGather(original: KernelFn): KernelFn {
  return (args) => {
    const { x, indices } = args.inputs as { x: Info; indices: Info };
    const axis = Number(args.attrs['axis'] ?? 0);
    const batchDims = Number(args.attrs['batchDims'] ?? 0);
    if ((axis !== 0 && axis !== -x.shape.length) || batchDims !== 0 || x.shape.length < 1) return original(args);
    if ((x.dtype !== 'float32' && x.dtype !== 'int32') || indices.dtype !== 'int32') return original(args);
    const backend = args.backend as WasmBackend;
    const rows = x.shape[0]!;
    const row = x.shape.slice(1).reduce((a, b) => a * b, 1);
    const idx = backend.typedArrayFromHeap(indices) as unknown as Int32Array;
    const n = idx.length;
    for (let i = 0; i < n; i++) if (!(idx[i]! >= 0 && idx[i]! < rows)) return original(args);
    const out = backend.makeOutput([...indices.shape, ...x.shape.slice(1)], x.dtype);
    // `idx` is stale from here on: when makeOutput grows the wasm heap, the old buffer is
    // detached and every view on it reads as length 0 (which once returned `out` unwritten).
    if (row === 0 || n === 0) return out;
    const xv = backend.typedArrayFromHeap(x);
    const ov = backend.typedArrayFromHeap(out);
    const iv = backend.typedArrayFromHeap(indices) as unknown as Int32Array; // re-read: makeOutput may grow the heap
    const heap = new Float32Array(xv.buffer);
    const xo = xv.byteOffset / 4; // not `>> 2`: heap offsets can exceed 2^31
    const oo = ov.byteOffset / 4;
    for (let i = 0; i < iv.length; i++) {
      const src = xo + iv[i]! * row;
      heap.copyWithin(oo + i * row, src, src + row);
    }
    return out;
  };
}

/** Axis-0 `SplitV` (MoE's split of dispatched tokens by expert): contiguous blocks, one copy each. */
function wasmRowSplit(original: KernelFn): KernelFn {
  return (args) => {
    const { x } = args.inputs as { x: Info };
    const axis = Number(args.attrs['axis'] ?? 0);
    if ((axis !== 0 && axis !== -x.shape.length) || x.shape.length < 1 || x.dtype === 'string' || x.dtype === 'complex64') {
      return original(args);
    }
    let sizes: number[];
    try {
      sizes = tf.backend_util.prepareSplitSize(x as never, args.attrs['numOrSizeSplits'] as number | number[], 0);
    } catch {
      return original(args);
    }
    const backend = args.backend as WasmBackend;
    const row = x.shape.slice(1).reduce((a, b) => a * b, 1);
    const outs = sizes.map((n) => backend.makeOutput([n, ...x.shape.slice(1)], x.dtype));
    const xv = backend.typedArrayFromHeap(x); // after all allocations
    const heap = new Uint8Array(xv.buffer);
    const bytes = xv.BYTES_PER_ELEMENT;
    let start = xv.byteOffset;
    for (const [i, o] of outs.entries()) {
      const len = sizes[i]! * row * bytes;
      if (len > 0) heap.copyWithin(backend.typedArrayFromHeap(o).byteOffset, start, start + len);
      start += len;
    }
    return outs;
  };
}

/**
 * How the native `Transpose` kernel runs a permutation: as `[B, R, C, E] → [B, C, R, E]`
 * (swap two neighbouring blocks of axes, moving `E` contiguous elements at a time),
 * after dropping size-1 axes and merging input axes that stay adjacent in the output.
 * That covers 2-D transposes, batched ones (`[0, 2, 1]`), attention's `[0, 2, 1, 3]`
 * and identities; null for the rest (a full 3-axis reversal…), which tfjs-wasm runs.
 *
 * @param shape - input shape.
 * @param perm - output axis i is input axis `perm[i]`.
 * @returns `[B, R, C, E]`, or null.
 * @example
 * ```ts
 * planTranspose([65536, 32], [1, 0]);          // [1, 65536, 32, 1]
 * planTranspose([8, 256, 4, 64], [0, 2, 1, 3]); // [8, 256, 4, 64]
 * planTranspose([8, 1, 256, 4, 64], [0, 3, 1, 2, 4]); // [8, 256, 4, 64] (size-1 axis dropped)
 * planTranspose([2, 3, 4], [2, 1, 0]);          // null
 * ```
 */
export function planTranspose(shape: readonly number[], perm: readonly number[]): [number, number, number, number] | null {
  // Input axes longer than 1, renumbered; in output order, runs of consecutive ones merge into blocks.
  const kept = [...shape.keys()].filter((a) => shape[a] !== 1);
  const blocks: number[][] = [];
  for (const a of perm.filter((x) => shape[x] !== 1).map((x) => kept.indexOf(x))) {
    const last = blocks[blocks.length - 1];
    if (last && last[last.length - 1]! + 1 === a) last.push(a);
    else blocks.push([a]);
  }
  // q[i]: input position of the block at output position i; d[k]: size of the k-th block in input order.
  const byInput = [...blocks].sort((x, y) => x[0]! - y[0]!);
  const q = blocks.map((b) => byInput.indexOf(b));
  const d = byInput.map((b) => b.reduce((acc, a) => acc * shape[kept[a]!]!, 1));
  switch (q.join(',')) {
    case '':
      return [1, 1, 1, 1];
    case '0':
      return [1, 1, 1, d[0]!];
    case '1,0':
      return [1, d[0]!, d[1]!, 1];
    case '0,2,1':
      return [d[0]!, d[1]!, d[2]!, 1];
    case '1,0,2':
      return [1, d[0]!, d[1]!, d[2]!];
    case '0,2,1,3':
      return [d[0]!, d[1]!, d[2]!, d[3]!];
    default:
      return null;
  }
}

/** `Transpose` on the native addon for 4-byte dtypes whose permutation {@link planTranspose} maps; else tfjs-wasm's. */
function wasmTranspose(blas: Blas, original: KernelFn): KernelFn {
  return (args) => {
    const { x } = args.inputs as { x: Info };
    const perm = (args.attrs['perm'] as number[] | undefined) ?? [...x.shape.keys()].reverse();
    if ((x.dtype !== 'float32' && x.dtype !== 'int32') || perm.length !== x.shape.length) return original(args);
    const plan = planTranspose(x.shape, perm);
    // Small planes (e.g. GHC's per-token [32, 32]) stay on tfjs-wasm, whose XNNPACK transpose is faster there.
    if (!plan || plan[1] * plan[2] * plan[3] <= 4096) return original(args);
    const backend = args.backend as WasmBackend;
    const out = backend.makeOutput(perm.map((a) => x.shape[a]!), x.dtype);
    const n = x.shape.reduce((a, b) => a * b, 1);
    if (n === 0) return out;
    const f32 = (v: Float32Array) => new Float32Array(v.buffer, v.byteOffset, n); // int32 bits travel unchanged
    const xv = backend.typedArrayFromHeap(x); // after makeOutput, which may grow the heap
    blas.transpose(f32(xv), f32(backend.typedArrayFromHeap(out)), ...plan);
    return out;
  };
}

/**
 * How the native `Sum` kernel runs a reduction: as `[A, R, C] → [A, C]` (sum over the
 * middle block), after dropping size-1 axes and merging neighbouring axes that are
 * both reduced or both kept. Only reductions that are not innermost (`C > 1`) are
 * planned: tfjs-wasm transposes those first, which costs more than the sum; an
 * innermost reduction (and two separate reduced blocks) returns null and stays on tfjs-wasm.
 *
 * @param shape - input shape.
 * @param axes - reduced axes (negative counts from the end).
 * @returns `[A, R, C]`, or null.
 * @example
 * ```ts
 * planSum([2048, 256], [0]);       // [1, 2048, 256]  (e.g. a gain's gradient: sum over tokens)
 * planSum([8, 4, 256, 64], [1, 2]); // [8, 1024, 64]
 * planSum([2048, 256], [1]);       // null (innermost: tfjs-wasm is fast)
 * planSum([2, 3, 4], [0, 2]);      // null (two reduced blocks)
 * ```
 */
export function planSum(shape: readonly number[], axes: readonly number[]): [number, number, number] | null {
  const red = new Set(axes.map((a) => (a < 0 ? a + shape.length : a)));
  const blocks: Array<{ reduced: boolean; size: number }> = [];
  for (const [i, d] of shape.entries()) {
    if (d === 1) continue;
    const reduced = red.has(i);
    const last = blocks[blocks.length - 1];
    if (last && last.reduced === reduced) last.size *= d;
    else blocks.push({ reduced, size: d });
  }
  const r = blocks.findIndex((b) => b.reduced);
  if (r < 0 || blocks.filter((b) => b.reduced).length !== 1) return null;
  const A = r > 0 ? blocks[r - 1]!.size : 1;
  const C = r + 1 < blocks.length ? blocks[r + 1]!.size : 1;
  if (C === 1 || blocks.length > 3) return null;
  return [A, blocks[r]!.size, C];
}

/** float32 `Sum` over a middle block of axes on the native addon ({@link planSum}); else tfjs-wasm's. */
function wasmSum(blas: Blas, original: KernelFn): KernelFn {
  return (args) => {
    const { x } = args.inputs as { x: Info };
    if (x.dtype !== 'float32') return original(args);
    const axes = tf.util.parseAxisParam(args.attrs['axis'] as number | number[], x.shape); // throws tfjs's own errors
    const plan = planSum(x.shape, axes);
    if (!plan) return original(args);
    const keepDims = Boolean(args.attrs['keepDims']);
    const outShape = x.shape.flatMap((d, i) => (axes.includes(i) ? (keepDims ? [1] : []) : [d]));
    const backend = args.backend as WasmBackend;
    const out = backend.makeOutput(outShape, 'float32');
    const [A, R, C] = plan;
    blas.sumMiddle(backend.typedArrayFromHeap(x), backend.typedArrayFromHeap(out), A, R, C); // views after makeOutput
    return out;
  };
}

const ACTIVATIONS: Record<string, string | null> = {
  linear: null, relu: 'Relu', relu6: 'Relu6', elu: 'Elu', sigmoid: 'Sigmoid', leakyrelu: 'LeakyRelu', prelu: 'Prelu',
};

/** `_FusedMatMul` = our matMul, then the backend's own Add and activation kernels. */
function fusedMatMul(backendName: string, matMul: KernelFn, fallback: KernelFn): KernelFn {
  const run = (name: string, inputs: Record<string, Info>, attrs: Record<string, unknown>, backend: unknown): Info => {
    const k = tf.getKernel(name, backendName);
    if (!k) throw new Error(`@vwn/blas: ${name} kernel missing on ${backendName}`);
    return k.kernelFunc({ inputs, attrs, backend } as never) as Info;
  };
  const free = (info: Info, backend: unknown) => {
    const cpu = backend as Partial<CpuBackend>;
    if (cpu.disposeIntermediateTensorInfo) cpu.disposeIntermediateTensorInfo(info);
    else (backend as WasmBackend).disposeData(info.dataId);
  };
  return (args) => {
    const { a, b, bias, preluActivationWeights } = args.inputs;
    const activation = (args.attrs['activation'] as string | undefined) ?? 'linear';
    if (!(activation in ACTIVATIONS) || a!.dtype !== 'float32' || b!.dtype !== 'float32') return fallback(args);
    if (activation === 'prelu' && !preluActivationWeights) return fallback(args);
    const { backend } = args;
    let cur = matMul({ inputs: { a, b }, attrs: { transposeA: args.attrs['transposeA'], transposeB: args.attrs['transposeB'] }, backend }) as Info;
    if (bias) {
      const next = run('Add', { a: cur, b: bias }, {}, backend);
      free(cur, backend);
      cur = next;
    }
    const kernel = ACTIVATIONS[activation];
    if (kernel) {
      const next =
        activation === 'prelu'
          ? run(kernel, { x: cur, alpha: preluActivationWeights! }, {}, backend)
          : run(kernel, { x: cur }, activation === 'leakyrelu' ? { alpha: args.attrs['leakyreluAlpha'] ?? 0.2 } : {}, backend);
      free(cur, backend);
      cur = next;
    }
    return cur;
  };
}

const originals = new Map<string, tf.KernelConfig>();
const ours = new Map<string, tf.KernelConfig>();

function swap(config: tf.KernelConfig): void {
  const { kernelName, backendName } = config;
  if (tf.getKernel(kernelName, backendName)) tf.unregisterKernel(kernelName, backendName);
  tf.registerKernel(config);
}

/**
 * Replaces `BatchMatMul` and `_FusedMatMul` of `backendName` (`cpu` or `wasm`)
 * with native-BLAS versions; tfjs's kernels stay as fallback for int32, rank < 2
 * and other unsupported cases. On `wasm` it also installs the zero-copy
 * `Identity`/`Cast` and the row `GatherV2`/`SplitV` kernels. Idempotent. Must
 * run after the backend's own kernels are registered (i.e. after importing the
 * backend package). Returns the kernel names replaced (empty when the addon is
 * unavailable).
 *
 * @example
 * ```ts
 * await import('@tensorflow/tfjs-backend-wasm');
 * registerBlasKernels('wasm'); // ['BatchMatMul', 'Identity', 'Cast', 'GatherV2', 'SplitV', '_FusedMatMul']
 * ```
 */
export function registerBlasKernels(backendName: string): string[] {
  const blas = loadBlas();
  if (!blas || !(BLAS_BACKENDS as readonly string[]).includes(backendName)) return [];
  return installMatMul(backendName, blas);
}

/**
 * Without the native addon: on `wasm`, replaces `BatchMatMul` with a pure-JS
 * wrapper that transposes operands explicitly and runs batched products as
 * 2-D GEMMs, so XNNPACK's fast untransposed path serves every matMul (≈ 7×
 * faster bench-small training), plus the zero-copy `Identity`/`Cast` and row
 * `GatherV2`/`SplitV` kernels. Returns the kernel names replaced. Idempotent;
 * undone by {@link unregisterBlasKernels}.
 *
 * @example
 * ```ts
 * await useBackend('wasm');
 * registerWasmMatMulFix(); // ['BatchMatMul', 'Identity', 'Cast', 'GatherV2', 'SplitV']
 * ```
 */
export function registerWasmMatMulFix(): string[] {
  return installMatMul('wasm', null);
}

function installMatMul(backendName: string, blas: Blas | null): string[] {
  const done: string[] = [];
  const current = (name: string) => tf.getKernel(name, backendName) as tf.KernelConfig | undefined;
  const fallbackOf = (name: string): KernelFn | null => {
    const key = `${name}/${backendName}`;
    const existing = current(name);
    if (existing && existing !== ours.get(key)) originals.set(key, existing);
    const orig = originals.get(key);
    return orig ? (orig.kernelFunc as unknown as KernelFn) : null;
  };
  const mmFallback = fallbackOf('BatchMatMul');
  if (!mmFallback) return [];
  if (!blas && backendName !== 'wasm') return [];
  const mode = blas ? 'blas' : 'fix';
  const install = (name: string, make: () => KernelFn) => {
    const key = `${name}/${backendName}`;
    let cfg = ours.get(key) as (tf.KernelConfig & { mode?: string }) | undefined;
    if (!cfg || cfg.mode !== mode) {
      cfg = { kernelName: name, backendName, kernelFunc: make() as never, mode };
      ours.set(key, cfg);
    }
    if (current(name) !== cfg) swap(cfg);
    done.push(name);
  };
  install('BatchMatMul', () =>
    !blas ? wasmTransposeFirst(perBatchFn(mmFallback)) : backendName === 'cpu' ? cpuMatMul(blas, mmFallback) : wasmMatMul(blas, mmFallback));
  if (backendName === 'wasm' && process.env['VWN_WASM_SHARE'] !== '0') {
    for (const name of ['Identity', 'Cast'] as const) {
      const orig = fallbackOf(name);
      if (orig) install(name, () => wasmShare(orig, name === 'Cast'));
    }
  }
  if (backendName === 'wasm' && process.env['VWN_WASM_GATHER'] !== '0') {
    const orig = fallbackOf('GatherV2');
    if (orig) install('GatherV2', () => wasmRowGather(orig));
  }
  if (backendName === 'wasm' && process.env['VWN_WASM_SPLIT'] !== '0') {
    const split = fallbackOf('SplitV');
    if (split) install('SplitV', () => wasmRowSplit(split));
  }
  if (blas && backendName === 'wasm' && process.env['VWN_WASM_TRANSPOSE'] !== '0') {
    const orig = fallbackOf('Transpose');
    if (orig) install('Transpose', () => wasmTranspose(blas, orig));
  }
  if (blas && backendName === 'wasm' && process.env['VWN_WASM_SUM'] !== '0') {
    const orig = fallbackOf('Sum');
    if (orig) install('Sum', () => wasmSum(blas, orig));
  }
  const fusedFallback = fallbackOf('_FusedMatMul');
  if (blas && fusedFallback) {
    const ourMm = ours.get(`BatchMatMul/${backendName}`)!.kernelFunc as unknown as KernelFn;
    install('_FusedMatMul', () => fusedMatMul(backendName, ourMm, fusedFallback));
  } else if (!blas) {
    // tfjs's own fused matMul and transpose stay; make sure previous BLAS ones are gone.
    for (const name of ['_FusedMatMul', 'Transpose', 'Sum']) {
      const key = `${name}/${backendName}`;
      const orig = originals.get(key);
      if (orig && ours.get(key) && current(name) === ours.get(key)) swap(orig);
    }
  }
  return done;
}

/**
 * Restores tfjs's own kernels on `backendName` (undoes {@link registerBlasKernels} / {@link registerWasmMatMulFix}).
 *
 * @example
 * ```ts
 * registerBlasKernels('cpu');
 * unregisterBlasKernels('cpu');
 * blasKernelsActive('cpu'); // false
 * ```
 */
export function unregisterBlasKernels(backendName: string): void {
  for (const name of BLAS_KERNELS) {
    const key = `${name}/${backendName}`;
    const orig = originals.get(key);
    const mine = ours.get(key);
    if (orig && mine && tf.getKernel(name, backendName) === mine) swap(orig);
  }
}

/**
 * Whether `backendName`'s `BatchMatMul` is currently the BLAS one.
 *
 * @example
 * ```ts
 * enableNativeBlas({ backends: ['cpu'] });
 * blasKernelsActive('cpu');  // true when the addon loaded
 * blasKernelsActive('wasm'); // false (not patched; the no-BLAS wasm fix also reports false)
 * ```
 */
export function blasKernelsActive(backendName: string): boolean {
  const mine = ours.get(`BatchMatMul/${backendName}`) as (tf.KernelConfig & { mode?: string }) | undefined;
  return mine !== undefined && mine.mode === 'blas' && tf.getKernel('BatchMatMul', backendName) === mine;
}

/**
 * Options of {@link enableNativeBlas}.
 *
 * @example
 * ```ts
 * const opts: EnableOptions = { threads: 4, backends: ['wasm'] };
 * enableNativeBlas(opts);
 * ```
 */
export interface EnableOptions {
  /** OpenBLAS threads (default: `VWN_BLAS_THREADS`, else OpenBLAS's own default = cores). */
  readonly threads?: number;
  /** Backends to patch (default: every one of cpu/wasm whose kernels are registered). */
  readonly backends?: readonly string[];
}

/**
 * Turns on native-BLAS matMul for tfjs's `cpu` and `wasm` backends when the
 * addon is available; never throws. `enabled` is true when the active backend
 * (or, before any backend is active, at least one backend) now uses BLAS.
 *
 * @example
 * ```ts
 * const { enabled, note } = enableNativeBlas();
 * console.log(note); // 'native BLAS matMul (OpenBLAS 0.3.21, 2 threads, prebuilt @vwn/blas-linux-x64-gnu) on wasm, cpu'
 * ```
 */
export function enableNativeBlas(opts: EnableOptions = {}): { enabled: boolean; note: string } {
  const blas = loadBlas();
  if (!blas) {
    let fix = false;
    try {
      fix = (opts.backends ?? BLAS_BACKENDS).includes('wasm') && registerWasmMatMulFix().length > 0;
    } catch {
      fix = false;
    }
    return {
      enabled: false,
      note: `@vwn/blas: ${blasLoadError()}; using tfjs matMul kernels` + (fix ? ' (wasm: transposes hoisted out of XNNPACK matMul)' : ''),
    };
  }
  const threads = opts.threads ?? (Number(process.env['VWN_BLAS_THREADS']) || 0);
  if (threads > 0) blas.setNumThreads(threads);
  const patched: string[] = [];
  for (const b of opts.backends ?? BLAS_BACKENDS) {
    try {
      if (registerBlasKernels(b).length) patched.push(b);
    } catch {
      // leave that backend on tfjs kernels
    }
  }
  const active = (tf.engine() as unknown as { backendName: string | null }).backendName;
  const enabled = active ? patched.includes(active) : patched.length > 0;
  const lib = blas.config().split(' ').slice(0, 2).join(' ');
  const note = patched.length
    ? `native BLAS matMul (${lib}, ${blas.getNumThreads()} threads, ${blasAddon()?.why ?? 'addon'}) on ${patched.join(', ')}` +
      (active && !enabled ? `; active backend "${active}" unchanged` : '')
    : `@vwn/blas: no cpu/wasm backend registered yet; import one first`;
  return { enabled, note };
}
