// The fused native DGHC kernels (native/dghc.c) against the dynamic-ghc plugin's own tfjs
// formulation on wasm: same values, same gradients of every parameter and of the state, a
// finite-difference check, and bitwise-equal results run to run and for 1 vs 2 threads.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { ParameterStore, createForwardContext, getFusedOps, registerFusedOps, useBackend } from '@vwn/core';
import { createGeneralizedHyperConnection } from '@vwn/ghc';
import { blasLoadError, dghcFusedOps, enableNativeBlas, loadBlas, nativeDghcRead, nativeGhcWrite } from '@vwn/blas';

const blas = loadBlas();
const fused = !!blas && typeof blas.dghcRead === 'function';
if (!fused) console.warn(`SKIPPING @vwn/blas DGHC tests: ${blas ? 'addon built before the DGHC kernels' : blasLoadError()}`);

function randomValues(size: number, seed: number, scale = 1): Float32Array {
  const out = new Float32Array(size);
  let s = (seed * 2654435761) >>> 0;
  for (let i = 0; i < size; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = ((s / 2 ** 32) * 2 - 1) * scale;
  }
  return out;
}

/** ‖a − b‖∞ / max(‖b‖∞, 1e-6). */
function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let diff = 0;
  let scale = 1e-6;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return diff / scale;
}

/** A dynamic-ghc connection with perturbed (non-init) parameters, a state and a sublayer. */
function setup(m: number, n: number, D: number, N: number) {
  const db = D / m;
  const store = new ParameterStore(0);
  const conn = createGeneralizedHyperConnection(store.scope('c'), {
    m,
    n,
    dModel: D,
    dynamic: true,
    readSegment: (i) => i,
    scales: { shape: 'matrix', init: 1 },
    norm: 'rms',
  });
  const params = store.list();
  params.forEach((p, i) => p.variable.assign(tf.add(p.variable, tf.tensor(randomValues(p.variable.size, 40 + i, 0.5), p.variable.shape))));
  const get = (name: string) => store.get(`c.${name}`)!.variable;
  const p = {
    w: get('dynamic.w'),
    gain: get('dynamic.norm.gain'),
    scaleAlpha: get('dynamic.scale_alpha'),
    scaleBeta: get('dynamic.scale_beta'),
    read: get('read'),
    carry: get('carry'),
    write: get('write'),
  };
  const state = tf.tensor2d(randomValues(N * n * db, 3, 2), [N, n * db]);
  const w1 = tf.tensor2d(randomValues(D * D, 4, 0.3), [D, D]);
  const sublayer = (x: tf.Tensor2D) => tf.tanh(tf.matMul(x, w1)) as tf.Tensor2D;
  const ctx = createForwardContext(1, N, true);
  const viaPlugin = (s: tf.Tensor2D) => tf.sum(tf.square(conn.apply(s, sublayer, ctx))) as tf.Scalar;
  const viaOps = (s: tf.Tensor2D) => {
    const { x, carried, bT } = nativeDghcRead(s, p, { m, n });
    return tf.sum(tf.square(nativeGhcWrite(carried, sublayer(x), bT))) as tf.Scalar;
  };
  return {
    params,
    state,
    viaPlugin,
    viaOps,
    dispose: () => {
      store.dispose();
      state.dispose();
      w1.dispose();
    },
  };
}

async function gradsOf(f: (s: tf.Tensor2D) => tf.Scalar, state: tf.Tensor2D, vars: tf.Variable[]) {
  const { value, grads } = tf.variableGrads(() => f(state), vars);
  const dState = tf.grad((s: tf.Tensor) => f(s as tf.Tensor2D))(state);
  const out = {
    loss: (await value.data())[0]!,
    grads: await Promise.all(vars.map((v) => grads[v.name]!.data() as Promise<Float32Array>)),
    dState: (await dState.data()) as Float32Array,
  };
  tf.dispose([value, dState, ...Object.values(grads)]);
  return out;
}

describe.skipIf(!fused)('native fused DGHC read / GHC write (wasm)', () => {
  beforeAll(async () => {
    await useBackend('wasm');
    enableNativeBlas({ backends: ['wasm'] });
  });

  for (const [m, n, D, N] of [
    [2, 3, 6, 7],
    [4, 8, 20, 45],
    [8, 32, 64, 70],
  ] as const) {
    it(`m=${m} n=${n} D=${D} N=${N}: loss, parameter and state gradients equal the dynamic-ghc plugin's tfjs path`, async () => {
      const s = setup(m, n, D, N);
      const vars = s.params.map((p) => p.variable);
      expect(getFusedOps('dghc')).toBeUndefined(); // the plugin runs its own tfjs formulation here
      const ref = await gradsOf(s.viaPlugin, s.state, vars);
      const got = await gradsOf(s.viaOps, s.state, vars);
      expect(Math.abs(got.loss - ref.loss) / Math.abs(ref.loss)).toBeLessThan(2e-6);
      for (const [i, p] of s.params.entries()) expect(relativeError(got.grads[i]!, ref.grads[i]!), p.name).toBeLessThan(2e-5);
      expect(relativeError(got.dState, ref.dState)).toBeLessThan(2e-5);
      s.dispose();
    });
  }

  it('the state gradient matches central finite differences (float64 loss on 6 coordinates)', async () => {
    const m = 2,
      n = 4,
      D = 8,
      N = 3;
    const s = setup(m, n, D, N);
    const g = (await tf
      .grad((x: tf.Tensor) => s.viaOps(x as tf.Tensor2D))(s.state)
      .data()) as Float32Array;
    const base = (await s.state.data()) as Float32Array;
    const h = 1e-2;
    for (const idx of [0, 5, 11, 17, 29, N * n * (D / m) - 1]) {
      const at = async (delta: number) => {
        const v = Float32Array.from(base);
        v[idx]! += delta;
        const t = tf.tensor2d(v, s.state.shape);
        const y = (await s.viaOps(t).data())[0]!;
        t.dispose();
        return y;
      };
      const fd = ((await at(h)) - (await at(-h))) / (2 * h);
      expect(Math.abs(fd - g[idx]!), `coordinate ${idx}`).toBeLessThan(2e-2 * Math.max(1, Math.abs(fd)));
    }
    s.dispose();
  });

  it('is bitwise deterministic run to run and for 1 vs 2 threads (values and every gradient)', async () => {
    const s = setup(8, 32, 64, 300);
    const vars = s.params.map((p) => p.variable);
    const before = blas!.getKernelThreads();
    const runs = [];
    for (const threads of [2, 2, 1]) {
      blas!.setKernelThreads(threads);
      runs.push(await gradsOf(s.viaOps, s.state, vars));
    }
    blas!.setKernelThreads(before);
    for (const r of runs.slice(1)) {
      expect(r.loss).toBe(runs[0]!.loss);
      expect(Buffer.from(r.dState.buffer).equals(Buffer.from(runs[0]!.dState.buffer))).toBe(true);
      r.grads.forEach((g, i) => expect(Buffer.from(g.buffer).equals(Buffer.from(runs[0]!.grads[i]!.buffer)), s.params[i]!.name).toBe(true));
    }
    s.dispose();
  });

  it('the plugin takes the fused ops once they are registered for wasm, with the same result', async () => {
    const s = setup(4, 8, 16, 20);
    const ref = (await s.viaPlugin(s.state).data())[0]!;
    registerFusedOps('dghc', dghcFusedOps, ['wasm']);
    try {
      expect(getFusedOps('dghc')).toBe(dghcFusedOps);
      const got = (await s.viaPlugin(s.state).data())[0]!;
      expect(Math.abs(got - ref) / Math.abs(ref)).toBeLessThan(2e-6);
    } finally {
      registerFusedOps('dghc', {}, []); // back to the plugin's own path for the other tests
    }
    s.dispose();
  });

  it('names the bad argument', () => {
    const s = setup(2, 3, 6, 4);
    const p = {
      w: tf.zeros([3, 7]),
      gain: tf.ones([3]),
      scaleAlpha: tf.ones([3, 5]),
      scaleBeta: tf.ones([2, 3]),
      read: tf.zeros([3, 2]),
      carry: tf.zeros([3, 3]),
      write: tf.zeros([2, 3]),
    };
    expect(() => nativeDghcRead(s.state, { ...p, gain: tf.ones([4]) }, { m: 2, n: 3 })).toThrow(/gain must be \[3\]/);
    expect(() => nativeDghcRead(s.state, p, { m: 2, n: 5 })).toThrow(/state must be \[N, n·d_b\] with n = 5/);
    expect(() => nativeGhcWrite(tf.zeros([4, 8]), tf.zeros([4, 6]), tf.zeros([4, 3, 2]))).toThrow(/carried must be \[4, 9\]/);
    expect(() => blas!.dghcRead(1, 1, 1, 1, 1e-6, new Float32Array(0), ...Array<Float32Array>(11).fill(new Float32Array(8)))).toThrow(/state has 0 elements/);
    s.dispose();
  });
});
