import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { assembleModel, relativeError, useBackend } from '@vwn/core';
import {
  blasKernelsActive,
  blasLoadError,
  enableNativeBlas,
  loadBlas,
  planSum,
  planTranspose,
  registerBlasKernels,
  registerWasmMatMulFix,
  unregisterBlasKernels,
} from '@vwn/blas';

const blas = loadBlas();
if (!blas) console.warn(`SKIPPING @vwn/blas tests: ${blasLoadError()}`);

/** float64 reference of op(a)·op(b) with numpy batch broadcasting. */
function naive(a: tf.Tensor, b: tf.Tensor, ta: boolean, tb: boolean): { shape: number[]; values: Float64Array } {
  const as = a.shape,
    bs = b.shape;
  const av = a.dataSync(),
    bv = b.dataSync();
  const ra = as.length,
    rb = bs.length;
  const M = ta ? as[ra - 1]! : as[ra - 2]!,
    K = ta ? as[ra - 2]! : as[ra - 1]!,
    N = tb ? bs[rb - 2]! : bs[rb - 1]!;
  const oa = as.slice(0, -2),
    ob = bs.slice(0, -2);
  const r = Math.max(oa.length, ob.length);
  const pa = [...Array(r - oa.length).fill(1), ...oa],
    pb = [...Array(r - ob.length).fill(1), ...ob];
  const outer = pa.map((x, i) => Math.max(x, pb[i]));
  const batch = outer.reduce((x, y) => x * y, 1);
  const out = new Float64Array(batch * M * N);
  for (let n = 0; n < batch; n++) {
    let rem = n,
      ia = 0,
      ib = 0,
      ma = 1,
      mb = 1;
    for (let i = r - 1; i >= 0; i--) {
      const d = rem % outer[i]!;
      rem = Math.floor(rem / outer[i]!);
      ia += (pa[i] === 1 ? 0 : d) * ma;
      ib += (pb[i] === 1 ? 0 : d) * mb;
      ma *= pa[i]!;
      mb *= pb[i]!;
    }
    for (let i = 0; i < M; i++)
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) {
          const x = av[ia * M * K + (ta ? k * M + i : i * K + k)]!;
          const y = bv[ib * K * N + (tb ? j * K + k : k * N + j)]!;
          s += x * y;
        }
        out[n * M * N + i * N + j] = s;
      }
  }
  return { shape: [...outer, M, N], values: out };
}

function expectClose(got: tf.Tensor, shape: number[], want: ArrayLike<number>, rel = 1e-5) {
  expect(got.shape).toEqual(shape);
  expect(relativeError(got.dataSync(), want)).toBeLessThanOrEqual(rel);
}

/**
 * Loss and gradients of a small model with tfjs's kernels (`reference`), then with the
 * kernels `install` puts in place; asserts they agree (1e-5 loss, 1e-4 gradients).
 */
function expectSameGradients(reference: () => void, install: () => void): void {
  const model = assembleModel({ vocabSize: 32, dModel: 32, layers: 2, heads: 4, seqLen: 16, seed: 7 });
  const rows = tf.tensor2d(
    Array.from({ length: 3 * 17 }, (_, i) => (i * 7 + 3) % 32),
    [3, 17],
    'int32',
  );
  const vars = model.params.list().map((p) => p.variable);
  const grads = () => {
    const { value, grads } = tf.variableGrads(() => model.loss(rows, { training: true }).total, vars);
    return { loss: value.dataSync()[0]!, grads: Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, g.dataSync()])) };
  };
  reference();
  const ref = grads();
  install();
  const got = grads();
  expect(Math.abs(got.loss - ref.loss)).toBeLessThan(1e-5 * Math.abs(ref.loss));
  for (const [k, g] of Object.entries(ref.grads)) expectClose(tf.tensor(got.grads[k]!), [g.length], g, 1e-4);
  model.dispose();
}

const CASES: Array<[number[], number[]]> = [
  [
    [5, 7],
    [7, 3],
  ],
  [
    [1, 1],
    [1, 1],
  ],
  [
    [13, 1],
    [1, 17],
  ],
  [
    [33, 65],
    [65, 31],
  ],
  [
    [2, 3, 5, 4],
    [2, 3, 4, 6],
  ],
  [
    [3, 5, 4],
    [4, 6],
  ], // rank broadcast: b shared by every batch
  [
    [5, 4],
    [3, 4, 6],
  ], // a shared
  [
    [1, 5, 4],
    [3, 4, 6],
  ],
  [
    [2, 1, 5, 4],
    [3, 4, 6],
  ], // [2,3] batch from [2,1] × [3]
];
const tr = (s: number[], t: boolean) => (t ? [...s.slice(0, -2), s[s.length - 1]!, s[s.length - 2]!] : s);

for (const backend of ['cpu', 'wasm'] as const) {
  describe.skipIf(!blas)(`@vwn/blas on ${backend}`, () => {
    beforeAll(async () => {
      await useBackend(backend);
      expect(registerBlasKernels(backend)).toContain('BatchMatMul');
    });
    afterAll(() => unregisterBlasKernels(backend));

    for (const [sa, sb] of CASES) {
      for (const ta of [false, true]) {
        for (const tb of [false, true]) {
          it(`matMul ${JSON.stringify(sa)}${ta ? 'ᵀ' : ''} × ${JSON.stringify(sb)}${tb ? 'ᵀ' : ''}`, () => {
            registerBlasKernels(backend);
            const a = tf.randomNormal(tr(sa, ta), 0, 1, 'float32', 1);
            const b = tf.randomNormal(tr(sb, tb), 0, 1, 'float32', 2);
            const ref = naive(a, b, ta, tb);
            expectClose(tf.matMul(a, b, ta, tb), ref.shape, ref.values);
            // And equal to tfjs's own kernel where tfjs broadcasts correctly (not [2,1]×[3]).
            if (!(sa.length === 4 && sa[1] === 1)) {
              unregisterBlasKernels(backend);
              const tfjs = tf.matMul(a, b, ta, tb);
              registerBlasKernels(backend);
              expectClose(tf.matMul(a, b, ta, tb), tfjs.shape, tfjs.dataSync());
            }
          });
        }
      }
    }

    it('int32 matMul falls back to tfjs', () => {
      const a = tf.tensor2d([1, 2, 3, 4], [2, 2], 'int32');
      const b = tf.tensor2d([5, 6, 7, 8], [2, 2], 'int32');
      if (backend === 'cpu') expect(Array.from(tf.matMul(a, b).dataSync())).toEqual([19, 22, 43, 50]);
      else expect(() => tf.matMul(a, b).dataSync()).toThrow(/float32|not yet supported/); // wasm's own error
      expect(blasKernelsActive(backend)).toBe(true);
    });

    for (const activation of ['linear', 'relu', 'relu6', 'elu', 'sigmoid', 'leakyrelu', 'prelu'] as const) {
      it(`_FusedMatMul with bias + ${activation}`, () => {
        const a = tf.randomNormal([3, 9, 7], 0, 1, 'float32', 3);
        const b = tf.randomNormal([3, 5, 7], 0, 1, 'float32', 4);
        const bias = tf.randomNormal([5], 0, 1, 'float32', 5);
        const alpha = activation === 'prelu' ? tf.randomUniform([5], 0, 0.5, 'float32', 6) : undefined;
        const run = () =>
          tf.fused.matMul({ a, b, transposeB: true, bias, activation, ...(alpha ? { preluActivationWeights: alpha } : {}), leakyreluAlpha: 0.1 });
        // Reference from unfused tfjs ops (tfjs-wasm 4.22's own _FusedMatMul is wrong with
        // transposeB + bias, so it is not the reference).
        const act: Record<string, (x: tf.Tensor) => tf.Tensor> = {
          linear: (x) => x,
          relu: tf.relu,
          relu6: tf.relu6,
          elu: tf.elu,
          sigmoid: tf.sigmoid,
          leakyrelu: (x) => tf.leakyRelu(x, 0.1),
          prelu: (x) => tf.prelu(x, alpha!),
        };
        unregisterBlasKernels(backend);
        const ref = act[activation]!(tf.add(tf.matMul(a, b, false, true), bias));
        registerBlasKernels(backend);
        expectClose(run(), ref.shape, ref.dataSync());
      });
    }

    it('gradients of a small model are the same through BLAS kernels', () => {
      expectSameGradients(
        () => unregisterBlasKernels(backend),
        () => {
          registerBlasKernels(backend);
          expect(blasKernelsActive(backend)).toBe(true);
        },
      );
    });
  });
}

// The pure-JS wasm kernel (no addon needed): explicit transposes, then XNNPACK untransposed.
describe('wasm matMul transpose fix (no native code)', () => {
  beforeAll(async () => {
    await useBackend('wasm');
    unregisterBlasKernels('wasm');
    expect(registerWasmMatMulFix()).toEqual(['BatchMatMul', 'Identity', 'Cast', 'GatherV2', 'SplitV']);
  });
  afterAll(() => unregisterBlasKernels('wasm'));
  for (const [sa, sb] of CASES.filter(([a]) => !(a.length === 4 && a[1] === 1))) {
    for (const [ta, tb] of [
      [false, false],
      [false, true],
      [true, false],
      [true, true],
    ] as const) {
      it(`matMul ${JSON.stringify(sa)}${ta ? 'ᵀ' : ''} × ${JSON.stringify(sb)}${tb ? 'ᵀ' : ''}`, () => {
        const a = tf.randomNormal(tr(sa, ta), 0, 1, 'float32', 1);
        const b = tf.randomNormal(tr(sb, tb), 0, 1, 'float32', 2);
        const ref = naive(a, b, ta, tb);
        const before = tf.memory().numTensors;
        const got = tf.matMul(a, b, ta, tb);
        expectClose(got, ref.shape, ref.values);
        got.dispose();
        expect(tf.memory().numTensors).toBe(before);
        expect(blasKernelsActive('wasm')).toBe(false);
      });
    }
  }
});

describe('wasm zero-copy Identity / Cast', () => {
  beforeAll(async () => {
    await useBackend('wasm');
    registerWasmMatMulFix();
  });
  afterAll(() => unregisterBlasKernels('wasm'));
  it('clone and same-dtype cast share data safely; other casts convert', () => {
    const bytes = tf.memory().numBytes;
    const x = tf.tensor2d([1.5, -2.25, 3, 4], [2, 2]);
    const c = tf.clone(x);
    const k = tf.cast(x, 'float32');
    const i = tf.cast(x, 'int32');
    const v = tf.variable(tf.clone(x));
    x.dispose();
    expect(Array.from(c.dataSync())).toEqual([1.5, -2.25, 3, 4]);
    expect(Array.from(k.dataSync())).toEqual([1.5, -2.25, 3, 4]);
    expect(Array.from(i.dataSync())).toEqual([1, -2, 3, 4]);
    expect(i.dtype).toBe('int32');
    expect(Array.from(tf.cast(i, 'float32').dataSync())).toEqual([1, -2, 3, 4]);
    v.assign(tf.zeros([2, 2]));
    expect(Array.from(c.dataSync())).toEqual([1.5, -2.25, 3, 4]);
    tf.dispose([c, k, i, v]);
    expect(tf.memory().numBytes).toBeLessThanOrEqual(bytes + 64);
  });
});

describe('wasm row GatherV2', () => {
  it('equals tfjs-wasm gather for rows, multi-dim indices, int32; other axes and bad indices fall back', async () => {
    await useBackend('wasm');
    const x = tf.randomNormal([7, 3, 5], 0, 1, 'float32', 9);
    const xi = tf.cast(tf.mul(x, 100), 'int32');
    const ids = tf.tensor2d([6, 0, 3, 3, 1, 6], [2, 3], 'int32');
    const cases = () => [tf.gather(x, ids), tf.gather(xi, ids), tf.gather(x, ids.reshape([6]), 1 - 1), tf.gather(x, tf.tensor1d([2, 0], 'int32'), 2)];
    unregisterBlasKernels('wasm');
    const ref = cases().map((t) => ({ shape: t.shape, v: Array.from(t.dataSync()) }));
    registerWasmMatMulFix();
    const got = cases();
    for (const [i, r] of ref.entries()) {
      expect(got[i]!.shape).toEqual(r.shape);
      expect(Array.from(got[i]!.dataSync())).toEqual(r.v);
    }
    expect(() => tf.gather(x, tf.tensor1d([7], 'int32')).dataSync()).toThrow(/index value 7/);
    unregisterBlasKernels('wasm');
  });
});

describe('wasm row GatherV2 when its output grows the wasm heap', () => {
  // Regression: the indices view taken before makeOutput is detached (length 0) once the heap
  // grows, and the kernel returned the output unwritten: a fresh process's first large gather
  // (e.g. an over-width embedding lookup) read uninitialized memory, later ones were fine.
  it('still copies every row', async () => {
    await useBackend('wasm');
    registerWasmMatMulFix();
    const heap = () => (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.buffer.byteLength;
    const row = 1024;
    const x = tf.randomNormal([3, row], 0, 1, 'float32', 21);
    const n = Math.ceil((heap() + (1 << 20)) / (row * 4)); // output larger than the whole heap: it must grow
    const ids = tf.tensor1d(
      Array.from({ length: n }, (_, i) => (i * 7) % 3),
      'int32',
    );
    const before = heap();
    const got = tf.gather(x, ids);
    expect(heap()).toBeGreaterThan(before);
    const xv = x.dataSync();
    const gv = got.dataSync();
    expect(got.shape).toEqual([n, row]);
    let bad = 0;
    for (const i of [0, 1, 2, Math.floor(n / 2), n - 1]) {
      const r = (i * 7) % 3;
      for (let j = 0; j < row; j++) if (gv[i * row + j] !== xv[r * row + j]) bad++;
    }
    expect(bad).toBe(0);
    tf.dispose([x, ids, got]);
    unregisterBlasKernels('wasm');
  });
});

describe('wasm axis-0 SplitV', () => {
  it('equals tfjs-wasm split (sizes, -1, counts, empty pieces, int32, other axis)', async () => {
    await useBackend('wasm');
    const x = tf.randomNormal([9, 2, 3], 0, 1, 'float32', 11);
    const xi = tf.cast(tf.mul(x, 100), 'int32');
    const cases = () => [
      ...tf.split(x, [2, 0, 4, 3], 0),
      ...tf.split(x, [5, -1], 0),
      ...tf.split(x, 3, 0),
      ...tf.split(xi, [1, 8], 0),
      ...tf.split(x, [1, 2], 2),
    ];
    unregisterBlasKernels('wasm');
    const ref = cases().map((t) => ({ shape: t.shape, dtype: t.dtype, v: Array.from(t.dataSync()) }));
    registerWasmMatMulFix();
    const got = cases();
    expect(got.length).toBe(ref.length);
    for (const [i, r] of ref.entries()) {
      expect(got[i]!.shape).toEqual(r.shape);
      expect(got[i]!.dtype).toBe(r.dtype);
      expect(Array.from(got[i]!.dataSync())).toEqual(r.v);
    }
    unregisterBlasKernels('wasm');
  });
});

describe('wasm matMul transpose fix: gradients', () => {
  it('gradients of a small model are the same through the fixed wasm kernel', async () => {
    await useBackend('wasm');
    expectSameGradients(
      () => unregisterBlasKernels('wasm'),
      () => registerWasmMatMulFix(),
    );
    unregisterBlasKernels('wasm');
  });
});

describe('enableNativeBlas', () => {
  it('never throws and says what it did', async () => {
    await useBackend('wasm');
    const r = enableNativeBlas();
    expect(typeof r.note).toBe('string');
    expect(r.enabled).toBe(blas !== null);
    if (blas) expect(r.note).toMatch(/native BLAS matMul/);
    unregisterBlasKernels('wasm');
    unregisterBlasKernels('cpu');
  });
});

describe('planTranspose', () => {
  it('maps permutations to [B, R, C, E] block swaps after dropping size-1 axes and merging', () => {
    expect(planTranspose([65536, 32], [1, 0])).toEqual([1, 65536, 32, 1]);
    expect(planTranspose([2048, 32, 32], [0, 2, 1])).toEqual([2048, 32, 32, 1]);
    expect(planTranspose([8, 256, 4, 64], [0, 2, 1, 3])).toEqual([8, 256, 4, 64]);
    expect(planTranspose([5, 6, 7], [1, 0, 2])).toEqual([1, 5, 6, 7]);
    expect(planTranspose([8, 1, 256, 4, 64], [0, 3, 1, 2, 4])).toEqual([8, 256, 4, 64]);
    expect(planTranspose([2, 3, 4, 5], [2, 3, 0, 1])).toEqual([1, 6, 20, 1]); // [2·3, 4·5] → [4·5, 2·3]
    expect(planTranspose([2, 3, 4], [0, 1, 2])).toEqual([1, 1, 1, 24]); // identity: one copy
    expect(planTranspose([1, 1], [1, 0])).toEqual([1, 1, 1, 1]);
    expect(planTranspose([5, 1, 7], [0, 2, 1])).toEqual([1, 1, 1, 35]); // only a size-1 axis moves: a copy
    expect(planTranspose([2, 3, 4], [2, 1, 0])).toBeNull();
    expect(planTranspose([2, 3, 4, 5], [3, 1, 2, 0])).toBeNull();
  });
});

describe.skipIf(!blas)('native wasm Transpose', () => {
  it('shares the data of layout-preserving permutations (identity, size-1 axes moved), with the permuted shape', async () => {
    await useBackend('wasm');
    registerBlasKernels('wasm');
    const x = tf.range(0, 2048 * 3).reshape([2048, 3]);
    const y = tf.range(0, 4096 * 2).reshape([1, 4096, 1, 2]);
    const a = tf.transpose(x, [0, 1]);
    const b = tf.transpose(y, [2, 1, 0, 3]);
    expect(a.shape).toEqual([2048, 3]);
    expect(b.shape).toEqual([1, 4096, 1, 2]);
    expect((a as unknown as { dataId: object }).dataId).toBe((x as unknown as { dataId: object }).dataId);
    expect((b as unknown as { dataId: object }).dataId).toBe((y as unknown as { dataId: object }).dataId);
    x.dispose(); // the shared data stays alive while a uses it
    expect(Array.from(a.dataSync().slice(-3))).toEqual([6141, 6142, 6143]);
    tf.dispose([a, b, y]);
    unregisterBlasKernels('wasm');
  });

  it('equals tfjs-wasm bit for bit (2-D, batched, heads, size-1 axes, int32, empty); other cases fall back', async () => {
    await useBackend('wasm');
    const f = (shape: number[], seed: number) => tf.randomNormal(shape, 0, 1, 'float32', seed);
    const cases: Array<[tf.Tensor, number[]]> = [
      [f([70, 65], 1), [1, 0]], // odd sizes, plane > 4096
      [f([512, 32], 2), [1, 0]], // power-of-two stride
      [f([3, 80, 60], 3), [0, 2, 1]],
      [f([2, 64, 4, 40], 4), [0, 2, 1, 3]],
      [f([40, 1, 70, 3], 5), [2, 1, 0, 3]], // = [1,0,2] after dropping the size-1 axis
      [f([6, 7, 8, 9], 6), [2, 3, 0, 1]],
      [tf.cast(tf.mul(f([90, 50], 7), 1000), 'int32'), [1, 0]],
      [f([0, 5000], 8), [1, 0]],
      [f([20, 30, 40], 9), [2, 1, 0]], // not a block swap: tfjs-wasm
      [f([2, 16, 16], 10), [0, 2, 1]], // small planes: tfjs-wasm
      [tf.greater(f([100, 50], 11), 0), [1, 0]], // bool: tfjs-wasm
    ];
    unregisterBlasKernels('wasm');
    const ref = cases.map(([x, perm]) => tf.transpose(x, perm));
    expect(enableNativeBlas({ backends: ['wasm'] }).enabled).toBe(true);
    expect(tf.getKernel('Transpose', 'wasm')).not.toBe(undefined);
    for (const [i, [x, perm]] of cases.entries()) {
      const got = tf.transpose(x, perm);
      expect(got.shape, `case ${i}`).toEqual(ref[i]!.shape);
      expect(got.dtype, `case ${i}`).toBe(ref[i]!.dtype);
      expect(Array.from(got.dataSync()), `case ${i}`).toEqual(Array.from(ref[i]!.dataSync()));
      got.dispose();
    }
    // Gradients go through Transpose too (its gradient is the inverse transpose).
    const x = f([3, 80, 60], 12);
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.transpose(t, [0, 2, 1]), tf.range(0, 3 * 60 * 80).reshape([3, 60, 80]))))(x);
    expect(Array.from(g.dataSync()).slice(0, 3)).toEqual([0, 80, 160]); // d/dx[0,0,j] = index of [0,j,0] in the output
    tf.dispose([...cases.map((c) => c[0]), ...ref, x, g]);
    unregisterBlasKernels('wasm');
  });

  it('refuses overlapping or out-of-bounds operands', () => {
    const buf = new Float32Array(16);
    expect(() => blas!.transpose(buf, buf.subarray(2), 1, 2, 2, 1)).toThrow(/overlap/); // [0, 4) and [2, 6)
    blas!.transpose(buf, buf.subarray(4), 1, 2, 2, 1); // adjacent, not overlapping
    expect(() => blas!.transpose(buf.subarray(0, 4), new Float32Array(8), 1, 2, 4, 1)).toThrow(/out of bounds/);
    const out = new Float32Array(6);
    blas!.transpose(Float32Array.of(1, 2, 3, 4, 5, 6), out, 1, 2, 3, 1); // [[1,2,3],[4,5,6]]ᵀ
    expect(Array.from(out)).toEqual([1, 4, 2, 5, 3, 6]);
  });
});

describe('planSum', () => {
  it('maps reductions to a middle-block sum [A, R, C] → [A, C]; innermost and split reductions stay on tfjs-wasm', () => {
    expect(planSum([2048, 256], [0])).toEqual([1, 2048, 256]);
    expect(planSum([2048, 256], [-2])).toEqual([1, 2048, 256]);
    expect(planSum([8, 4, 256, 64], [1, 2])).toEqual([8, 1024, 64]);
    expect(planSum([2048, 1, 32, 40], [0, 1])).toEqual([1, 2048, 1280]);
    expect(planSum([1, 2048, 256], [1])).toEqual([1, 2048, 256]);
    expect(planSum([2048, 256], [1])).toBeNull();
    expect(planSum([2048, 256], [0, 1])).toBeNull();
    expect(planSum([2, 3, 4], [0, 2])).toBeNull();
    expect(planSum([5, 1], [1])).toBeNull(); // only size-1 axes reduced
  });
});

describe.skipIf(!blas)('native wasm Sum', () => {
  it('equals tfjs-wasm bit for bit over leading and middle axes, with keepDims; other cases fall back', async () => {
    await useBackend('wasm');
    const f = (shape: number[], seed: number) => tf.randomNormal(shape, 0, 1, 'float32', seed);
    const cases: Array<[tf.Tensor, number | number[], boolean]> = [
      [f([2048, 256], 1), 0, false], // an RMSNorm gain gradient
      [f([333, 65], 2), [0], true],
      [f([8, 4, 256, 64], 3), [1, 2], false],
      [f([7, 50, 9], 4), 1, true],
      [f([7, 1, 50, 9], 5), [-3, -2], false],
      [f([64, 1000], 6), 1, false], // innermost: tfjs-wasm
      [f([6, 7, 8], 7), [0, 2], false], // two blocks: tfjs-wasm
      [tf.cast(tf.mul(f([40, 30], 8), 100), 'int32'), 0, false], // int32: tfjs-wasm
    ];
    unregisterBlasKernels('wasm');
    const ref = cases.map(([x, axis, keep]) => tf.sum(x, axis, keep));
    expect(enableNativeBlas({ backends: ['wasm'] }).enabled).toBe(true);
    for (const [i, [x, axis, keep]] of cases.entries()) {
      const got = tf.sum(x, axis, keep);
      expect(got.shape, `case ${i}`).toEqual(ref[i]!.shape);
      expect(got.dtype, `case ${i}`).toBe(ref[i]!.dtype);
      expect(Array.from(got.dataSync()), `case ${i}`).toEqual(Array.from(ref[i]!.dataSync()));
      got.dispose();
    }
    expect(Array.from(tf.sum(tf.zeros([0, 3]), 0).dataSync())).toEqual([0, 0, 0]); // empty reduction = 0
    tf.dispose([...cases.map((c) => c[0]), ...ref]);
    unregisterBlasKernels('wasm');
  });
});
