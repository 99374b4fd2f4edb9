import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import '@vwn/core'; // registers core's cpu scatter-add, the oracle
import { GPU_KERNEL_CONFIGS } from '@vwn/kernels-gpu';

import { hasGpu, onCpu, onGpu, randomValues } from './helpers.js';

// 67 rows: not a multiple of the 64-wide workgroup; ids repeat, and -1 / 20 are out of range (skipped).
const ROWS = 67;
const WIDTH = 5;
const SEGMENTS = 13;
const ids = Int32Array.from({ length: ROWS }, (_, i) => (i % 17 === 5 ? -1 : i % 19 === 3 ? 20 : (i * 7) % SEGMENTS));
const xValues = randomValues(ROWS * WIDTH, 1, 1000); // large magnitudes: any change of summation order shows

async function segmentSum(dtype: 'float32' | 'int32'): Promise<Float32Array | Int32Array> {
  const x = dtype === 'int32' ? tf.tensor2d(Int32Array.from(xValues, Math.round), [ROWS, WIDTH], 'int32') : tf.tensor2d(xValues, [ROWS, WIDTH]);
  const s = tf.tensor1d(ids, 'int32');
  const out = tf.unsortedSegmentSum(x, s, SEGMENTS);
  const values = (await out.data()) as Float32Array | Int32Array;
  tf.dispose([x, s, out]);
  return values;
}

describe.skipIf(!hasGpu)('UnsortedSegmentSum on webgpu', () => {
  it("replaces tfjs-backend-webgpu's atomic kernel", async () => {
    await onGpu();
    expect(tf.getKernel('UnsortedSegmentSum', 'webgpu')).toBe(GPU_KERNEL_CONFIGS[0]);
  });

  it('is bitwise deterministic over 10 runs and bitwise equal to cpu', async () => {
    await onCpu();
    const cpu = await segmentSum('float32');
    await onGpu();
    for (let run = 0; run < 10; run++) {
      const gpu = await segmentSum('float32');
      expect(Buffer.from(gpu.buffer).equals(Buffer.from(cpu.buffer)), `run ${run}`).toBe(true);
    }
  });

  it('sums int32 exactly', async () => {
    await onCpu();
    const cpu = await segmentSum('int32');
    await onGpu();
    expect(Array.from(await segmentSum('int32'))).toEqual(Array.from(cpu));
  });

  it('gives tf.gather its gradient (embedding backprop), equal to cpu', async () => {
    const run = async () => {
      const table = tf.tensor2d(randomValues(SEGMENTS * WIDTH, 2), [SEGMENTS, WIDTH]);
      const idx = tf.tensor1d(
        Int32Array.from({ length: ROWS }, (_, i) => (i * 5) % SEGMENTS),
        'int32',
      );
      const up = tf.tensor2d(xValues, [ROWS, WIDTH]);
      const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, idx), up)))(table);
      const v = await g.data();
      tf.dispose([table, idx, up, g]);
      return v as Float32Array;
    };
    await onCpu();
    const cpu = await run();
    await onGpu();
    const before = tf.memory().numTensors;
    const gpu = await run();
    expect(tf.memory().numTensors).toBe(before);
    expect(Buffer.from(gpu.buffer).equals(Buffer.from(cpu.buffer))).toBe(true);
  });
});
