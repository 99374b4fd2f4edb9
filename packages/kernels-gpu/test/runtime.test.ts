import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { useBackend } from '@vwn/core';
import { GPU_KERNEL_CONFIGS, registerGpuKernels, useWebGpu } from '@vwn/kernels-gpu';

import { hasGpu, probe } from './helpers.js';

describe.skipIf(!hasGpu)('webgpu runtime', () => {
  it("is what @vwn/core's useBackend('webgpu') selects (provider registered on import)", async () => {
    const { backend } = await useBackend('webgpu');
    expect(backend).toBe('webgpu');
    expect(tf.getBackend()).toBe('webgpu');
  });

  it('names the adapter once and reuses the device on later calls', async () => {
    const lines: string[] = [];
    const first = await useWebGpu({ log: (l) => lines.push(l) });
    const again = await useWebGpu({ log: (l) => lines.push(l) });
    expect(again.adapter).toEqual(first.adapter);
    expect(first.adapter).toEqual(probe.ok ? probe.adapter : undefined);
    expect(lines.length).toBeLessThanOrEqual(1); // printed on the first creation only (possibly by an earlier test)
  });

  it('re-registration is idempotent and keeps our kernels', () => {
    registerGpuKernels();
    registerGpuKernels();
    for (const k of GPU_KERNEL_CONFIGS) expect(tf.getKernel(k.kernelName, 'webgpu')).toBe(k);
  });

  it('explains that dataSync cannot work in Node, instead of an OffscreenCanvas ReferenceError', async () => {
    await useWebGpu({ log: () => {} });
    // Large enough that tfjs-backend-webgpu does not forward it to its CPU fallback.
    const t = tf.matMul(tf.ones([64, 64]), tf.ones([64, 64]));
    expect(() => t.dataSync()).toThrow(/cannot read a GPU tensor synchronously.*await tensor\.data\(\)/);
    expect((await t.data())[0]).toBe(64);
    t.dispose();
  });
});
