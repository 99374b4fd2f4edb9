/**
 * Benchmark: one forward + backward step of the MoE FFN (8 experts, top-2,
 * D = 256, N = 2048 tokens, expert hidden 344) against the dense SwiGLU FFN
 * with the same active parameters (hidden 688 = 2 · 344), on the `cpu` and
 * `wasm` backends. Gradients are taken w.r.t. every weight and the input, with
 * the training-mode balance loss on. Median of 7 timed steps after 2 warm-ups,
 * dense and MoE steps interleaved.
 *
 *   npx tsx packages/moe/bench/moe.bench.ts            # table
 *   npx tsx packages/moe/bench/moe.bench.ts --profile  # plus time per kernel
 *
 * Not a test: numbers depend on the machine. Results go in docs/moe.md.
 */
import '@vwn/core'; // first: registers core's scatter-add kernels (cpu + wasm)
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import os from 'node:os';
import { createForwardContext, ParameterStore, swigluFeedForward, type BuildContext, type ModelDims, type SublayerModule } from '@vwn/core';
import { moeFeedForward } from '../src/index.js';

const D = 256;
const N = 2048;
const EXPERTS = 8;
const TOP_K = 2;
const FFN_HIDDEN = 688; // core's default for D = 256: ceil(8·256/3/8)·8
const WARMUP = 2;
const RUNS = 7;
const profile = process.argv.includes('--profile');

const dims: ModelDims = { vocabSize: 256, dModel: D, layers: 8, heads: 4, seqLen: 256, ffnHidden: FFN_HIDDEN };

function build(kind: 'moe' | 'dense'): { module: SublayerModule; store: ParameterStore } {
  const store = new ParameterStore(0);
  const ctx: BuildContext = {
    dims,
    params: store.scope('ffn'),
    layout: { m: 1, n: 1, segmentWidth: D, width: D },
    seed: 0,
    tieEmbeddings: false,
    site: { layer: 0, sublayer: 'ffn', index: 1 },
  };
  const module =
    kind === 'moe'
      ? moeFeedForward.create(moeFeedForward.parseConfig({ use: 'moe', experts: EXPERTS, topK: TOP_K }, 'ffn', dims), ctx)
      : swigluFeedForward.create(swigluFeedForward.parseConfig({ use: 'swiglu' }, 'ffn', dims), ctx);
  return { module, store };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** One training step's FFN work: forward, loss = Σ y·dy (+ aux), gradients of weights and input. */
function stepFn(kind: 'moe' | 'dense') {
  const { module, store } = build(kind);
  const x = tf.variable(tf.randomNormal([N, D], 0, 1, 'float32', 1)) as tf.Variable<tf.Rank.R2>;
  const dy = tf.randomNormal([N, D], 0, 1, 'float32', 2);
  const vars = [x, ...store.list().map((p) => p.variable)];
  const step = () => {
    const ctx = createForwardContext(1, N, true);
    const { value, grads } = tf.variableGrads(
      () => tf.tidy(() => tf.addN([tf.sum(tf.mul(module.forward(x, ctx), dy)), ...Object.values(ctx.auxLosses)]) as tf.Scalar),
      vars,
    );
    value.dataSync();
    for (const g of Object.values(grads)) g.dataSync();
    tf.dispose([value, ...Object.values(grads), ...Object.values(ctx.auxLosses), ...Object.values(ctx.metrics())]);
  };
  const dispose = () => {
    tf.dispose([x, dy]);
    store.dispose();
  };
  return { step, dispose, module };
}

/**
 * Times the two steps interleaved (dense, MoE, dense, MoE, …) so that load from
 * other processes on a shared machine hits both alike; medians of each.
 */
function timePair(a: () => void, b: () => void): { a: number[]; b: number[] } {
  for (let i = 0; i < WARMUP; i++) {
    a();
    b();
  }
  const ta: number[] = [];
  const tb: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    for (const [fn, into] of [
      [a, ta],
      [b, tb],
    ] as const) {
      const t0 = performance.now();
      fn();
      into.push(performance.now() - t0);
    }
  }
  return { a: ta, b: tb };
}

async function profileKernels(label: string, step: () => void): Promise<void> {
  const info = await tf.profile(step);
  const byName = new Map<string, number>();
  for (const k of info.kernels) byName.set(k.name, (byName.get(k.name) ?? 0) + (k.kernelTimeMs as number));
  const total = [...byName.values()].reduce((a, b) => a + b, 0);
  const top = [...byName.entries()].sort((a, b) => b[1] - a[1]).slice(0, 10);
  console.log(`\n${label}: ${info.kernels.length} kernel calls, ${total.toFixed(1)} ms in kernels`);
  for (const [name, ms] of top) console.log(`  ${name.padEnd(22)} ${ms.toFixed(1).padStart(8)} ms  ${((100 * ms) / total).toFixed(0)}%`);
}

interface Row {
  backend: string;
  dense: number;
  moe: number;
}
const rows: Row[] = [];
for (const backend of ['cpu', 'wasm']) {
  await tf.setBackend(backend);
  await tf.ready();
  const dense = stepFn('dense');
  const moe = stepFn('moe');
  const t = timePair(dense.step, moe.step);
  console.error(JSON.stringify({ backend, dense: t.a.map(Math.round), moe: t.b.map(Math.round) }));
  rows.push({ backend, dense: median(t.a), moe: median(t.b) });
  if (profile) {
    await profileKernels(`${backend} dense`, dense.step);
    await profileKernels(`${backend} moe`, moe.step);
  }
  if (backend === 'cpu') {
    console.error(`accounting: dense ${dense.module.flopsPerToken()} FLOPs/token, moe ${moe.module.flopsPerToken()} FLOPs/token`);
  }
  dense.dispose();
  moe.dispose();
}

console.log(
  `\nmachine: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown'}), node ${process.version}, tfjs ${tf.version.tfjs}, wasm threads ${getThreadsCount()}`,
);
console.log(`N = ${N} tokens, D = ${D}; MoE: ${EXPERTS} experts, top-${TOP_K}, hidden ${FFN_HIDDEN / TOP_K}; dense SwiGLU hidden ${FFN_HIDDEN}`);
console.log(`forward + backward, median of ${RUNS} (dense and MoE interleaved) after ${WARMUP} warm-ups\n`);
console.log('| backend | dense SwiGLU (ms) | MoE 8×top-2 (ms) | MoE / dense |');
console.log('|---|---:|---:|---:|');
for (const r of rows) console.log(`| ${r.backend} | ${r.dense.toFixed(0)} | ${r.moe.toFixed(0)} | ${(r.moe / r.dense).toFixed(2)}× |`);
