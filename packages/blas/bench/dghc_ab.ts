/**
 * One dynamic-ghc connection, forward + backward (loss = Σ out²; sublayer = identity), on
 * `native`: the plugin's tfjs ops vs @vwn/blas's fused kernels, interleaved call by call in
 * one process (so machine load hits both alike). Median ms of `reps` each.
 *
 *   npx tsx --tsconfig packages/blas/tsconfig.dev.json packages/blas/bench/dghc_ab.ts [reps]
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { ParameterStore, createForwardContext, registerFusedOps, useBackend } from '@vwn/core';
import { createGeneralizedHyperConnection } from '@vwn/ghc';
import { dghcFusedOps } from '@vwn/blas';

const reps = Number(process.argv[2] ?? 7);
await useBackend('native');
const N = 2048;
const D = 256;
for (const [m, n] of [
  [4, 8],
  [8, 32],
] as const) {
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
  const vars = store.list().map((p) => p.variable);
  const state = tf.randomNormal([N, (n * D) / m]) as tf.Tensor2D;
  const ctx = createForwardContext(8, 256, true);
  const step = () => {
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(conn.apply(state, (x) => x, ctx))) as tf.Scalar, vars);
    value.dataSync();
    tf.dispose([value, ...Object.values(grads)]);
  };
  const time = (fused: boolean) => {
    registerFusedOps('dghc', fused ? dghcFusedOps : {}, fused ? ['wasm'] : []);
    const t0 = performance.now();
    step();
    return performance.now() - t0;
  };
  time(false);
  time(true);
  const ref: number[] = [];
  const fused: number[] = [];
  for (let i = 0; i < reps; i++) {
    if (i % 2) {
      fused.push(time(true));
      ref.push(time(false));
    } else {
      ref.push(time(false));
      fused.push(time(true));
    }
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(
    `m=${m} n=${n} D=${D} N=${N}: tfjs ops ${med(ref).toFixed(1)} ms, fused ${med(fused).toFixed(1)} ms, ${(med(ref) / med(fused)).toFixed(2)}× (median of ${reps}, interleaved)`,
  );
  store.dispose();
  state.dispose();
}
