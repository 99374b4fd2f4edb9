/**
 * One-shot check for a machine with a real GPU (no vitest needed): adapter,
 * fused-vs-reference errors (forward and gradients), scatter-add determinism
 * vs cpu, a 20-step training curve vs cpu, and fused-vs-reference timings.
 * Run with `npx tsx packages/kernels-gpu/bench/device_check.ts`, or bundle it
 * for a machine without node_modules:
 *
 *     npx esbuild packages/kernels-gpu/bench/device_check.ts --bundle --platform=node --format=esm \
 *       --main-fields=main,module --external:webgpu --outfile=check.mjs \
 *       --banner:js="import { createRequire as __cr } from 'module'; const require = __cr(import.meta.url);"
 *
 * and ship `node_modules/webgpu/{index.js,package.json,dist/linux-x64/dawn.node}` next to it.
 */
import * as tf from '@tensorflow/tfjs';
import { randomValues, relativeError } from '@vwn/core';
import { dghcReadReference, ghcWriteReference, type DghcParams } from '@vwn/ghc';

import { dghcRead, ghcWrite, useWebGpu } from '../src/node.js';

const rel = relativeError;
const lcg = randomValues;
const { adapter } = await useWebGpu();
console.log(JSON.stringify(adapter));

let worst = 0;
for (const [m, n, db, N] of [
  [2, 3, 3, 67],
  [4, 8, 5, 13],
  [8, 32, 3, 5],
  [8, 32, 64, 1000],
] as const) {
  const state = tf.tensor2d(lcg(N * n * db, 1, 2), [N, n * db]);
  const shapes: Record<string, number[]> = {
    w: [db, 2 * m + n],
    gain: [db],
    scaleAlpha: [n, m + n],
    scaleBeta: [m, n],
    read: [n, m],
    carry: [n, n],
    write: [m, n],
  };
  const names = Object.keys(shapes);
  const p = Object.fromEntries(
    names.map((k, i) => [
      k,
      tf.tensor(
        lcg(
          shapes[k]!.reduce((a, b) => a * b, 1),
          10 + i,
          0.5,
        ).map((x) => x + (k === 'gain' || k.startsWith('scale') ? 1 : 0)),
        shapes[k],
      ),
    ]),
  ) as unknown as DghcParams;
  const cot = tf.tensor2d(lcg(N * n * db, 99), [N, n * db]);
  const w1 = tf.tensor2d(lcg(m * db * m * db, 5, 0.2), [m * db, m * db]);
  const run = (fused: boolean) =>
    tf.grads((s: tf.Tensor, ...ps: tf.Tensor[]) => {
      const pp = Object.fromEntries(names.map((k, i) => [k, ps[i]])) as unknown as DghcParams;
      const r = fused ? dghcRead(s, pp, { m, n }) : dghcReadReference(s, pp, { m, n });
      const z = tf.tanh(tf.matMul(r.x, w1));
      const out = fused ? ghcWrite(r.carried, z, r.bT) : ghcWriteReference(r.carried, z, r.bT);
      return tf.sum(tf.mul(out, cot)) as tf.Scalar;
    })([state, ...names.map((k) => (p as unknown as Record<string, tf.Tensor>)[k]!)]);
  const f = run(true),
    r = run(false);
  const errs: number[] = [];
  for (let i = 0; i < f.length; i++) errs.push(rel(await f[i]!.data(), await r[i]!.data()));
  const fo = dghcRead(state, p, { m, n }),
    ro = dghcReadReference(state, p, { m, n });
  errs.push(rel(await fo.x.data(), await ro.x.data()), rel(await fo.carried.data(), await ro.carried.data()), rel(await fo.bT.data(), await ro.bT.data()));
  const e = Math.max(...errs);
  worst = Math.max(worst, e);
  console.log(`fused vs reference m=${m} n=${n} d_b=${db} N=${N}: max rel err ${e.toExponential(2)} (${e < 1e-4 ? 'PASS' : 'FAIL'})`);
}

// scatter-add: 10 runs bitwise equal, and equal to cpu
const ROWS = 4099,
  W = 33,
  S = 257;
const ids = Int32Array.from({ length: ROWS }, (_, i) => ((i * 7919) % (S + 3)) - 1);
const xv = lcg(ROWS * W, 3, 1000);
const seg = async () => {
  const o = tf.unsortedSegmentSum(tf.tensor2d(xv, [ROWS, W]), tf.tensor1d(ids, 'int32'), S);
  return Buffer.from(((await o.data()) as Float32Array).buffer);
};
const gpuRuns: Buffer[] = [];
for (let i = 0; i < 10; i++) gpuRuns.push(await seg());
await tf.setBackend('cpu');
const cpu = await seg();
console.log(`scatter-add ${ROWS}x${W}->${S}: 10 runs identical ${gpuRuns.every((b) => b.equals(gpuRuns[0]!))}, equal to cpu ${gpuRuns[0]!.equals(cpu)}`);
await useWebGpu({ log: () => {} });

// timings
const time = async (f: () => tf.Tensor[] | tf.Tensor, reps: number) => {
  const sync = async (t: tf.Tensor[] | tf.Tensor) => {
    const ts = Array.isArray(t) ? t : [t];
    for (const x of ts) await x.data();
    tf.dispose(ts);
  };
  await sync(f());
  await sync(f());
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) await sync(f());
  return (performance.now() - t0) / reps;
};
for (const [N, m, n, db] of [
  [256, 8, 32, 8],
  [4096, 8, 32, 16],
  [4096, 8, 32, 64],
  [8192, 4, 16, 32],
] as const) {
  const rnd = (shape: number[], s = 0.5) => tf.randomUniform(shape, -s, s, 'float32', 1);
  const state = rnd([N, n * db], 2);
  const p = {
    w: rnd([db, 2 * m + n]),
    gain: tf.ones([db]),
    scaleAlpha: tf.ones([n, m + n]),
    scaleBeta: tf.ones([m, n]),
    read: rnd([n, m]),
    carry: rnd([n, n]),
    write: rnd([m, n]),
  };
  const w1 = rnd([m * db, m * db], 0.2);
  const step = (fused: boolean) => (s: tf.Tensor, w: tf.Tensor) => {
    const r = fused ? dghcRead(s, { ...p, w }, { m, n }) : dghcReadReference(s, { ...p, w }, { m, n });
    const z = tf.tanh(tf.matMul(r.x, w1));
    return tf.sum(tf.square(fused ? ghcWrite(r.carried, z, r.bT) : ghcWriteReference(r.carried, z, r.bT))) as tf.Scalar;
  };
  const rf = await time(() => step(false)(state, p.w), 10),
    ff = await time(() => step(true)(state, p.w), 10);
  const rb = await time(() => tf.grads(step(false))([state, p.w]), 10),
    fb = await time(() => tf.grads(step(true))([state, p.w]), 10);
  console.log(
    `N=${N} m=${m} n=${n} d_b=${db}: fwd ref ${rf.toFixed(2)} ms fused ${ff.toFixed(2)} ms (${(rf / ff).toFixed(2)}x); fwd+bwd ref ${rb.toFixed(2)} fused ${fb.toFixed(2)} (${(rb / fb).toFixed(2)}x)`,
  );
  tf.dispose([state, w1, ...Object.values(p)]);
}
console.log(`worst rel err ${worst.toExponential(2)}`);
process.exit(0);
