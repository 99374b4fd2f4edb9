import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { AdamW, globalGradNorm, type Parameter } from '@vwn/core';
import { diffGpuCounters, gpuCounters } from '@vwn/kernels-gpu';

import { hasGpu, onCpu, onGpu, randomValues, relativeError } from './helpers.js';

// Odd sizes (not multiples of the 256-wide workgroup), one without weight decay.
const SHAPES: Array<{ name: string; shape: number[]; decay: boolean }> = [
  { name: 'a', shape: [37, 11], decay: true },
  { name: 'b', shape: [300], decay: false },
  { name: 'c', shape: [3, 5, 7], decay: true },
  { name: 'd', shape: [5], decay: false },
  { name: 'e', shape: [1000], decay: true },
];

/** Three AdamW steps (the last one with a clipping scale) and the global norm, on the active backend. */
async function adamwRun(): Promise<{ params: Float32Array[]; m: Float32Array[]; norm: number; dispatches: number[] }> {
  const params: Parameter[] = SHAPES.map((s, i) => ({
    name: s.name,
    decay: s.decay,
    variable: tf.variable(
      tf.tensor(
        randomValues(
          s.shape.reduce((a, b) => a * b, 1),
          10 + i,
        ),
        s.shape,
      ),
      true,
      `${s.name}_${tf.getBackend()}`,
    ),
  }));
  const opt = new AdamW(params, { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1 });
  let norm = NaN;
  const dispatches: number[] = [];
  for (let step = 0; step < 3; step++) {
    const grads = new Map(params.map((p, i) => [p.name, tf.tensor(randomValues(p.variable.size, 100 * step + i, 0.3), p.variable.shape)]));
    await Promise.all([...grads.values()].map((g) => g.data())); // uploaded before counting
    const c0 = gpuCounters();
    const n = globalGradNorm([...grads.values()]);
    const c1 = gpuCounters();
    opt.apply(grads, 1e-2, step === 2 ? 0.25 : 1);
    dispatches.push(diffGpuCounters(c1, c0).dispatches, diffGpuCounters(gpuCounters(), c1).dispatches);
    norm = (await n.data())[0]!;
    tf.dispose([n, ...grads.values()]);
  }
  const out = {
    params: await Promise.all(params.map(async (p) => (await p.variable.data()) as Float32Array)),
    m: await Promise.all([...opt.m.values()].map(async (t) => (await t.data()) as Float32Array)),
    norm,
    dispatches,
  };
  opt.dispose();
  tf.dispose(params.map((p) => p.variable));
  return out;
}

describe.skipIf(!hasGpu)('fused optimizer on webgpu', () => {
  it('AdamW (in place, ≤ 4 parameters per dispatch) and the global norm equal the cpu reference', async () => {
    await onCpu();
    const cpu = await adamwRun();
    await onGpu();
    const gpu = await adamwRun();
    // Norm: one dispatch for the (≤ 15) gradients + the total; AdamW: ≤ 4 parameters per dispatch (the first step also copies shared buffers).
    expect(gpu.dispatches.slice(2)).toEqual([2, 2, 2, 2]); // llvmpipe: 16 storage buffers per shader → 5 gradients in one dispatch, parameters 4 + 1
    expect(Math.abs(gpu.norm - cpu.norm) / cpu.norm).toBeLessThan(1e-5);
    SHAPES.forEach((s, i) => {
      expect(relativeError(gpu.params[i]!, cpu.params[i]!), s.name).toBeLessThan(1e-5);
      expect(relativeError(gpu.m[i]!, cpu.m[i]!), `m of ${s.name}`).toBeLessThan(1e-5);
    });
  });
});
