/**
 * The one GPU check of issue #17, in one process (no vitest, no child
 * processes), for a machine with a real GPU and a few minutes:
 *
 * 1. adapter, driver and limits;
 * 2. fused kernels vs the tfjs reference on that GPU (forward and gradients);
 * 3. peak of a large tfjs-webgpu matMul (4096³ by default) in this run;
 * 4. training steps of bench-small, bench-small-r4 and bench-medium with the
 *    fused ops and with them withdrawn (the tfjs formulation): median ms,
 *    GFLOP/s, % of the in-run matMul peak, and the device counts per step.
 *
 * Prints a markdown table and writes `gpu-check.json` (env `GPU_CHECK_OUT`).
 * `bench/gpu-check.sh` bundles it with esbuild so the GPU machine needs only
 * node and the Dawn binary. Env: `GPU_CHECK_CONFIGS`, `GPU_CHECK_STEPS`
 * (timed steps, default 5), `GPU_CHECK_PEAK_N` (default 4096),
 * `GPU_CHECK_REFERENCE=0` (skip the unfused runs; `all` adds bench-medium's,
 * which is skipped by default), `GPU_CHECK_BUDGET_S` (seconds per config and
 * ops after 2 warm-up and 2 timed steps, default 45), `GPU_CHECK_SMOKE=1` (batch 1,
 * T = 32, 256³ peak: a quick run of the script itself, e.g. on llvmpipe).
 *
 * @module
 */
import { writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { crossEntropy, fusedNn, getFusedOps, globalGradNorm, loadPluginsFor, registerFusedOps, rmsNorm } from '@vwn/core';
import '@vwn/ghc';
import '@vwn/embedding';

import { BENCH_CONFIGS, createStepRunner, measurePeakMatMul } from '../../cli/src/bench/harness.js';
import { diffGpuCounters, gpuCounters, useWebGpu, type GpuCounters } from '../src/index.js';

const env = process.env;
const steps = Number(env['GPU_CHECK_STEPS'] ?? 5);
const configs = (env['GPU_CHECK_CONFIGS'] ?? 'bench-small,bench-small-r4,bench-medium').split(',');
const smoke = env['GPU_CHECK_SMOKE'] === '1';
const budgetS = Number(env['GPU_CHECK_BUDGET_S'] ?? 45);
const peakN = Number(env['GPU_CHECK_PEAK_N'] ?? (smoke ? 256 : 4096));
const t0 = performance.now();
const log = (s: string) => console.log(`[${((performance.now() - t0) / 1000).toFixed(0)} s] ${s}`);

const { adapter } = await useWebGpu({ log });
const device = (tf.backend() as unknown as { device: { limits: Record<string, number>; features: Set<string> } }).device;
const driver = (tf.backend() as unknown as { adapterInfo?: unknown }).adapterInfo;
log(
  `adapter: ${JSON.stringify(adapter)} ${JSON.stringify(driver)}; subgroups: ${device.features.has('subgroups')}; maxStorageBuffersPerShaderStage: ${device.limits['maxStorageBuffersPerShaderStage']}`,
);

// 2. Fused vs reference on this GPU: value and gradients of sum(f(x)·w).
const lcg = (size: number, seed: number, scale = 1) => {
  const out = new Float32Array(size);
  let s = (seed * 2654435761) >>> 0;
  for (let i = 0; i < size; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = ((s / 2 ** 32) * 2 - 1) * scale;
  }
  return out;
};
const rel = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let d = 0,
    s = 1e-6;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    s = Math.max(s, Math.abs(b[i]!));
  }
  return d / s;
};
const saved = { nn: getFusedOps<object>('nn')!, adamw: getFusedOps<object>('adamw')! };
const setFused = (on: boolean) => {
  registerFusedOps('nn', on ? saved.nn : {}, on ? ['webgpu'] : []);
  registerFusedOps('adamw', on ? saved.adamw : {}, on ? ['webgpu'] : []);
};
const T = 77;
const mask = tf.keep(
  tf.tensor2d(
    Float32Array.from({ length: T * T }, (_, k) => (k % T > Math.floor(k / T) ? -1e9 : 0)),
    [T, T],
  ),
);
const cases: Array<[string, number[][], (...x: tf.Tensor[]) => tf.Tensor]> = [
  ['rmsNorm', [[300, 257], [257]], (x, g) => rmsNorm(x!, g!, 1e-6)],
  ['causalSoftmax', [[2, 3, T, T]], (s) => (fusedNn()?.causalSoftmax ? fusedNn()!.causalSoftmax!(s!, 0.125) : tf.softmax(tf.add(tf.mul(s!, 0.125), mask)))],
  [
    'crossEntropy',
    [[300, 257]],
    (l) =>
      crossEntropy(
        l as tf.Tensor2D,
        tf.tensor1d(
          Int32Array.from({ length: 300 }, (_, i) => (i * 7) % 257),
          'int32',
        ),
        null,
      ),
  ],
  [
    'swiglu',
    [
      [300, 129],
      [300, 129],
    ],
    (a, b) => (fusedNn()?.swiglu ? fusedNn()!.swiglu!(a!, b!) : tf.mul(tf.mul(a!, tf.sigmoid(a!)), b!)),
  ],
  ['globalGradNorm', [[1000, 33], [257], [7, 7]], (...g) => globalGradNorm(g)],
];
const correctness: Record<string, { error: number; dispatchesFused: number; dispatchesReference: number }> = {};
for (const [name, shapes, f] of cases) {
  const run = async (fused: boolean) => {
    setFused(fused);
    const xs = shapes.map((s, i) =>
      tf.tensor(
        lcg(
          s.reduce((a, b) => a * b, 1),
          3 + i,
          2,
        ),
        s,
      ),
    );
    await Promise.all(xs.map((x) => x.data()));
    const c0 = gpuCounters();
    const y = f(...xs);
    const dispatches = diffGpuCounters(gpuCounters(), c0).dispatches;
    const w = tf.tensor(lcg(y.size, 99), y.shape);
    const grads = name === 'globalGradNorm' ? [] : tf.grads((...ins: tf.Tensor[]) => tf.sum(tf.mul(f(...ins), w)))(xs);
    const out = [await y.data(), ...(await Promise.all(grads.map((g) => g.data())))];
    tf.dispose([...xs, y, w, ...grads]);
    return { out, dispatches };
  };
  const ref = await run(false);
  const fused = await run(true);
  correctness[name] = {
    error: Math.max(...fused.out.map((v, i) => rel(v, ref.out[i]!))),
    dispatchesFused: fused.dispatches,
    dispatchesReference: ref.dispatches,
  };
}
log(`fused vs reference (max relative error of value and gradients; forward dispatches): ${JSON.stringify(correctness)}`);

// 3. Peak matMul of this backend in this run.
const peak = await measurePeakMatMul(peakN, 8);
log(`peak matMul ${peakN}³: ${peak.toFixed(1)} GFLOP/s`);

// 4. Training steps (results saved after each, so a time-out keeps what was measured).
function save(): void {
  writeFileSync(
    env['GPU_CHECK_OUT'] ?? 'gpu-check.json',
    JSON.stringify(
      { adapter, smoke, maxStorageBuffersPerShaderStage: device.limits['maxStorageBuffersPerShaderStage'], correctness, peakN, peak, rows },
      null,
      2,
    ) + '\n',
  );
}
interface Row {
  config: string;
  fused: boolean;
  batch: number;
  ms: number;
  gflops: number;
  util: number;
  counts: GpuCounters;
  loss: number;
  steps: number;
}
const rows: Row[] = [];
for (const name of configs) {
  const cfg = BENCH_CONFIGS.find((c) => c.name === name);
  if (!cfg) throw new Error(`unknown config ${name}`);
  await loadPluginsFor(cfg.model as unknown as Record<string, unknown>);
  const reference = env['GPU_CHECK_REFERENCE'] !== '0' && (name !== 'bench-medium' || env['GPU_CHECK_REFERENCE'] === 'all');
  // bench-small also once with tfjs's submit batch (15) to see what the batch of 64 buys on this GPU.
  const variants: Array<{ fused: boolean; batch: number }> = [
    { fused: true, batch: 64 },
    ...(name === 'bench-small' && !smoke ? [{ fused: true, batch: 15 }] : []),
    ...(reference ? [{ fused: false, batch: 15 }] : []), // before #17: tfjs formulation, tfjs's defaults
  ];
  for (const { fused, batch } of variants) {
    setFused(fused);
    tf.env().set('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE', batch);
    const runner = smoke ? await createStepRunner({ ...cfg.model, seqLen: 32 }, 1) : await createStepRunner(cfg.model, cfg.batchSize);
    const start = performance.now();
    for (let i = 0; i < 2; i++) await runner.step();
    const times: number[] = [];
    let counts = gpuCounters();
    let loss = NaN;
    // Time budget per (config, ops): at least 2 timed steps, then stop once the budget is spent.
    for (let i = 0; i < steps && (i < 2 || performance.now() - start < budgetS * 1000); i++) {
      const c0 = gpuCounters();
      const s0 = performance.now();
      loss = await runner.step();
      times.push(performance.now() - s0);
      counts = diffGpuCounters(gpuCounters(), c0);
    }
    times.sort((a, b) => a - b);
    const ms = times[Math.floor(times.length / 2)]!;
    const gflops = runner.flopsPerStep / (ms * 1e6);
    rows.push({ config: name, fused, batch, ms, gflops, util: gflops / peak, counts, loss, steps: times.length });
    save();
    log(
      `${name} ${fused ? 'fused' : 'reference'} (submit batch ${batch}): ${ms.toFixed(1)} ms/step, ${gflops.toFixed(1)} GFLOP/s (${((100 * gflops) / peak).toFixed(1)} % of the matMul peak), ${counts.dispatches} dispatches, ${counts.submits} submits, ${counts.reads} reads/step, loss ${loss.toFixed(4)}`,
    );
    runner.dispose();
  }
}
setFused(true);
tf.env().set('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE', 64);

const table = () =>
  [
    `adapter: ${adapter.name}; peak matMul ${peakN}³ = ${peak.toFixed(1)} GFLOP/s`,
    '',
    '| config | ops | submit batch | step ms (median) | timed steps | GFLOP/s | % of matMul peak | dispatches | submits | reads | bytes read | buffers created |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map(
      (r) =>
        `| ${r.config} | ${r.fused ? 'fused' : 'tfjs'} | ${r.batch} | ${r.ms.toFixed(1)} | ${r.steps} | ${r.gflops.toFixed(1)} | ${(100 * r.util).toFixed(1)} % | ${r.counts.dispatches} | ${r.counts.submits} | ${r.counts.reads} | ${r.counts.bytesRead} | ${r.counts.buffersCreated} |`,
    ),
  ].join('\n');
console.log('\n' + table());
save();
process.exit(0);
