import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { assembleModel, ByteTokenizer, corpusFromText, createForwardContext, ParameterStore, resolveRunConfig, Trainer, type ModelDims } from '@vwn/core';
import { moe, moeFeedForward, type MoeModule } from '@vwn/moe';

import { hasGpu, onCpu, onGpu, randomValues } from './helpers.js';

// `ffn: moe` on webgpu: routing, dispatch and combine stay on the device (no
// read-back), and training follows the cpu run.

const text = 'It was the best of times, it was the worst of times; sphinx of black quartz, judge my vow. 0123456789 ';
const corpus = corpusFromText(text.repeat(8), { name: 'moe-gpu', tokenizer: new ByteTokenizer() });
const STEPS = 5;

/** Losses of 5 AdamW steps of a small 2-layer MoE model (capacity 1.25, so slots get dropped) from seed 3. */
async function losses(): Promise<number[]> {
  const config = resolveRunConfig(
    {
      dModel: 16,
      layers: 2,
      heads: 2,
      seqLen: 16,
      seed: 3,
      ffn: moe({ experts: 4, topK: 2, capacityFactor: 1.25, zLossWeight: 1e-3 }),
      train: { batchSize: 4, steps: STEPS, lr: 3e-3, warmupSteps: 0, evalEvery: 0, evalBatches: 1, checkpointEvery: 0, seed: 3 },
    },
    corpus.tokenizer.vocabSize,
  );
  const trainer = await Trainer.create({ config, corpus });
  const out: number[] = [];
  while (trainer.step < STEPS) out.push((await trainer.trainStep()).loss);
  trainer.dispose();
  return out;
}

/**
 * Counts the webgpu backend's GPU → CPU reads while `f` runs: reads of data
 * that lives in a GPU buffer (small tensors still on the CPU, which webgpu's
 * kernels handle there, are not transfers).
 */
function countGpuReads(f: () => unknown): number {
  type Backend = Record<'read' | 'readSync', (dataId: object) => unknown> & { tensorMap: { get(id: object): { values?: unknown } | undefined } };
  const backend = tf.backend() as unknown as Backend;
  const original = { read: backend.read, readSync: backend.readSync };
  let reads = 0;
  for (const name of ['read', 'readSync'] as const) {
    backend[name] = function (this: Backend, dataId: object) {
      if (this.tensorMap.get(dataId)?.values == null) reads++;
      return original[name].call(this, dataId);
    };
  }
  try {
    f();
  } finally {
    backend.read = original.read;
    backend.readSync = original.readSync;
  }
  return reads;
}

describe.skipIf(!hasGpu)('MoE on webgpu', () => {
  it(`trains ${STEPS} steps with the cpu's losses (within 1e-4)`, async () => {
    await onCpu();
    const cpu = await losses();
    await onGpu();
    const gpu = await losses();
    await onCpu();
    console.log(`losses cpu ${cpu.map((l) => l.toFixed(6))}\n       gpu ${gpu.map((l) => l.toFixed(6))}`);
    for (let i = 0; i < STEPS; i++) expect(Math.abs(gpu[i]! - cpu[i]!), `step ${i}: gpu ${gpu[i]} cpu ${cpu[i]}`).toBeLessThan(1e-4);
    expect(cpu[STEPS - 1]!).toBeLessThan(cpu[0]!); // it trains
  });

  it('a training forward and backward of the MoE FFN, and a model forward, read nothing back', async () => {
    await onGpu();
    const dims: ModelDims = { vocabSize: 32, dModel: 16, layers: 2, heads: 2, seqLen: 16, ffnHidden: 32 };
    const store = new ParameterStore(5);
    const config = moeFeedForward.parseConfig({ use: 'moe', experts: 4, topK: 2, sharedExperts: 1, zLossWeight: 1e-3 }, 'ffn', dims);
    const ffn = moeFeedForward.create(config, {
      dims,
      params: store.scope('ffn'),
      layout: { m: 1, n: 1, segmentWidth: 16, width: 16 },
      seed: 5,
      tieEmbeddings: false,
    }) as MoeModule;
    const x = tf.tensor2d(randomValues(64 * 16, 9), [64, 16]);
    const vars = store.list().map((p) => p.variable);
    const step = () => {
      const ctx = createForwardContext(4, 16, true);
      const { value, grads } = tf.variableGrads(
        () => tf.tidy(() => tf.addN([tf.sum(ffn.forward(x, ctx)), ...Object.values(ctx.auxLosses())]) as tf.Scalar),
        vars,
      );
      tf.dispose([value, ...Object.values(grads), ...Object.values(ctx.metrics())]);
      ctx.dispose();
    };
    expect(countGpuReads(step)).toBe(0);
    // The counter sees a read of a GPU tensor.
    const pending: Array<Promise<unknown>> = [];
    expect(countGpuReads(() => void pending.push(tf.sum(x).data()))).toBe(1);
    await Promise.all(pending);

    const model = assembleModel({ ...dims, ffn: moe({ experts: 4, topK: 2, capacityFactor: 1 }) });
    const ids = tf.tensor2d(
      Int32Array.from({ length: 64 }, (_, i) => (i * 7) % 32),
      [4, 16],
      'int32',
    );
    const ctx = createForwardContext(4, 16, true);
    expect(countGpuReads(() => tf.dispose(model.forward(ids, ctx).state))).toBe(0);
    ctx.dispose();
    tf.dispose([x, ids]);
    model.dispose();
    ffn.dispose();
    store.dispose();
    await onCpu();
  });
});
