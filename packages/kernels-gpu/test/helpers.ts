import * as tf from '@tensorflow/tfjs';
import { randomValues } from '@vwn/core';
import { probeWebGpu, useWebGpu } from '@vwn/kernels-gpu';

// One copy of the numeric test helpers, in @vwn/core's testing module.
export { randomValues, relativeError } from '@vwn/core';

/**
 * Shared by the webgpu tests: finds an adapter once per test file. When there
 * is none the suites skip and print which packages to install, unless
 * `VWN_REQUIRE_WEBGPU=1` (set on machines meant to have one, e.g. CI with
 * Dawn on llvmpipe): then every webgpu test file fails to load with the reason.
 */
export const probe = await probeWebGpu((process.env['VWN_WEBGPU_ADAPTER'] as 'auto' | 'native' | 'compatibility' | undefined) ?? 'auto');
export const hasGpu = probe.ok;
if (!probe.ok) {
  if (process.env['VWN_REQUIRE_WEBGPU'] === '1') {
    throw new Error(`VWN_REQUIRE_WEBGPU=1 but no WebGPU adapter: ${probe.reason}`);
  }
  console.warn(`[@vwn/kernels-gpu] SKIPPING webgpu tests (set VWN_REQUIRE_WEBGPU=1 to fail instead): ${probe.reason}`);
}

/** Makes `webgpu` the active backend (quietly). */
export async function onGpu(): Promise<void> {
  await useWebGpu({ log: () => {}, adapter: probe.ok ? probe.adapter.kind : 'auto' });
}

/** Makes `cpu` the active backend. */
export async function onCpu(): Promise<void> {
  await tf.setBackend('cpu');
  (tf.findBackend('cpu') as { firstUse?: boolean }).firstUse = false; // no "install tfjs-node" banner
  await tf.ready();
}

/** DGHC parameter values for (m, n, d_b), away from the init so every term matters. */
export function dghcParamValues(
  m: number,
  n: number,
  db: number,
  seed: number,
): Record<'w' | 'gain' | 'scaleAlpha' | 'scaleBeta' | 'read' | 'carry' | 'write', { shape: number[]; values: Float32Array }> {
  const v = (shape: number[], k: number, scale: number, offset = 0) => ({
    shape,
    values: randomValues(
      shape.reduce((a, b) => a * b, 1),
      seed * 31 + k,
      scale,
    ).map((x) => x + offset),
  });
  return {
    w: v([db, 2 * m + n], 1, 1.5),
    gain: v([db], 2, 0.5, 1),
    scaleAlpha: v([n, m + n], 3, 0.5, 1),
    scaleBeta: v([m, n], 4, 0.5, 1),
    read: v([n, m], 5, 1),
    carry: v([n, n], 6, 1),
    write: v([m, n], 7, 1),
  };
}
