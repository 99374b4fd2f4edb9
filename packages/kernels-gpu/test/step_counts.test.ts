import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ByteTokenizer, getFusedOps, registerFusedOps, resolveRunConfig, Trainer, unregisterFusedOps } from '@vwn/core';
import { diffGpuCounters, gpuCounters, type GpuCounters } from '@vwn/kernels-gpu';

import { hasGpu, onGpu } from './helpers.js';

/** Device work of one training step of a tiny dense model (same structure as bench-small: RMSNorm, RoPE attention, SwiGLU, AdamW). */
async function stepCounts(): Promise<{ counts: GpuCounters; loss: number; tensorGrowth: number }> {
  const seqLen = 16;
  const tokens = Int32Array.from({ length: 8 * (seqLen + 1) }, (_, i) => (i * 31 + 7) % 64);
  const run = resolveRunConfig(
    { dModel: 32, layers: 2, heads: 2, seqLen, train: { batchSize: 2, steps: 100, lr: 1e-3, warmupSteps: 0, schedule: 'constant', seed: 1 } },
    64,
  );
  const trainer = await Trainer.create({ config: run, corpus: { name: 'ramp', tokenizer: new ByteTokenizer(), train: tokens, validation: tokens } });
  await trainer.trainStep(); // compiles pipelines, uploads constants
  const tensors = tf.memory().numTensors;
  const before = gpuCounters();
  const { loss } = await trainer.trainStep();
  const counts = diffGpuCounters(gpuCounters(), before);
  const tensorGrowth = tf.memory().numTensors - tensors;
  trainer.dispose();
  return { counts, loss, tensorGrowth };
}

describe.skipIf(!hasGpu)('device work per training step on webgpu', () => {
  it('reads from the GPU once per step (the logged scalars) and dispatches ≥ 3× fewer kernels with the fused ops', async () => {
    await onGpu();
    expect(tf.getBackend()).toBe('webgpu');
    const fused = await stepCounts();
    expect(fused.counts.reads).toBe(1);
    expect(fused.counts.bytesRead).toBeLessThanOrEqual(64); // loss, grad norm, loss terms: a few floats
    expect(fused.tensorGrowth).toBe(0); // the fused ops leak nothing

    // The same step with the fused ops withdrawn (the tfjs formulation on webgpu).
    const saved = { nn: getFusedOps('nn')!, adamw: getFusedOps('adamw')! };
    unregisterFusedOps('webgpu', 'nn');
    unregisterFusedOps('webgpu', 'adamw');
    try {
      const reference = await stepCounts();
      expect(reference.counts.reads).toBe(1);
      expect(Math.abs(reference.loss - fused.loss)).toBeLessThan(1e-4);
      expect(reference.counts.dispatches / fused.counts.dispatches).toBeGreaterThanOrEqual(3);
    } finally {
      registerFusedOps('nn', saved.nn, ['webgpu']);
      registerFusedOps('adamw', saved.adamw, ['webgpu']);
    }
  });
});
