/**
 * Dispatches of one webgpu training step by tfjs kernel, for choosing what to fuse (issue #17):
 *
 *   npx tsx --tsconfig packages/blas/tsconfig.dev.json packages/cli/src/bench/gpu_breakdown.ts [config] [batch] [seqLen]
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { loadPluginsFor, useBackend } from '@vwn/core';
import { BENCH_CONFIGS, createStepRunner } from './harness.js';

const [name = 'bench-small', batch, seqLen] = process.argv.slice(2);
await useBackend('webgpu');
const base = BENCH_CONFIGS.find((c) => c.name === name)!;
const cfg = { ...base, model: { ...base.model, ...(seqLen ? { seqLen: Number(seqLen) } : {}) }, batchSize: batch ? Number(batch) : base.batchSize };
await loadPluginsFor(cfg.model as unknown as Record<string, unknown>);
const runner = await createStepRunner(cfg.model, cfg.batchSize);
await runner.step();
const b = tf.backend() as unknown as { runWebGPUProgram: (...a: unknown[]) => unknown };
const orig = b.runWebGPUProgram.bind(b);
const engine = tf.engine() as unknown as { runKernel: (...a: unknown[]) => unknown };
const origRun = engine.runKernel.bind(engine);
const stack: string[] = [];
const byKernel = new Map<string, number>();
engine.runKernel = (k: unknown, ...rest: unknown[]) => {
  stack.push(String(k));
  try {
    return origRun(k, ...rest);
  } finally {
    stack.pop();
  }
};
b.runWebGPUProgram = (...a: unknown[]) => {
  const key = `${stack[0] ?? '(raw)'}`;
  byKernel.set(key, (byKernel.get(key) ?? 0) + 1);
  return orig(...a);
};
type Counts = Record<string, number> & { dispatches: number };
const { gpuCounters, diffGpuCounters } = (await import('@vwn/kernels-gpu' as string)) as {
  gpuCounters(): Counts;
  diffGpuCounters(a: Counts, b: Counts): Counts;
};
const c0 = gpuCounters();
await runner.step();
const d = diffGpuCounters(gpuCounters(), c0);
const total = [...byKernel.values()].reduce((a, x) => a + x, 0);
console.log(JSON.stringify(d));
console.log(`tfjs programs: ${total}; raw (fused optimizer etc.): ${d.dispatches - total}`);
for (const [k, n] of [...byKernel].sort((a, x) => x[1] - a[1])) console.log(`${String(n).padStart(5)}  ${k}`);
runner.dispose();
