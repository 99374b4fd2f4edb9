import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { getFusedOps, registerFusedOps, unregisterFusedOps, useBackend, type FusedOps } from '@vwn/core';

// Two distinct implementations of core's `nn` group (their members are never called here).
const forCpu: FusedOps['nn'] = { rmsNorm: (x) => x };
const forOther: FusedOps['nn'] = { rmsNorm: (x) => x };

describe('fused-op registry: one implementation per (group, backend)', () => {
  afterEach(() => {
    unregisterFusedOps('cpu', 'nn');
    unregisterFusedOps('other-backend', 'nn');
  });

  it('a registration for another backend neither replaces nor shadows the active backend’s', async () => {
    await useBackend('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(getFusedOps('nn')).toBeUndefined();
    registerFusedOps('nn', forCpu, ['cpu']);
    registerFusedOps('nn', forOther, ['other-backend']); // e.g. webgpu's kernels registered after native wasm's
    expect(getFusedOps('nn')).toBe(forCpu);
  });

  it('unregisterFusedOps withdraws only the named backend (and group)', async () => {
    await useBackend('cpu');
    registerFusedOps('nn', forCpu, ['cpu', 'other-backend']);
    unregisterFusedOps('other-backend');
    expect(getFusedOps('nn')).toBe(forCpu);
    unregisterFusedOps('cpu', 'nn');
    expect(getFusedOps('nn')).toBeUndefined();
  });
});
