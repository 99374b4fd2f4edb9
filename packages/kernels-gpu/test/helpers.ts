import * as tf from '@tensorflow/tfjs';
import { probeWebGpu, useWebGpu } from '@vwn/kernels-gpu';

/**
 * Shared by the webgpu tests: finds an adapter once per test file; when there
 * is none the suites skip and print which packages to install.
 */
export const probe = await probeWebGpu((process.env['VWN_WEBGPU_ADAPTER'] as 'auto' | 'native' | 'compatibility' | undefined) ?? 'auto');
export const hasGpu = probe.ok;
if (!probe.ok) console.warn(`[@vwn/kernels-gpu] SKIPPING webgpu tests: ${probe.reason}`);

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

/** Deterministic pseudo-random floats in [-scale, scale) (LCG; no tfjs RNG so both backends see the same values). */
export function randomValues(size: number, seed: number, scale = 1): Float32Array {
  const out = new Float32Array(size);
  let s = (seed * 2654435761) >>> 0;
  for (let i = 0; i < size; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = ((s / 2 ** 32) * 2 - 1) * scale;
  }
  return out;
}

/** ‖a − b‖∞ / max(‖b‖∞, 1e-6): the "relative" error the tests bound by 1e-4. */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let diff = 0;
  let scale = 1e-6;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs((a[i] as number) - (b[i] as number)));
    scale = Math.max(scale, Math.abs(b[i] as number));
  }
  return diff / scale;
}

/** DGHC parameter values for (m, n, d_b), away from the init so every term matters. */
export function dghcParamValues(m: number, n: number, db: number, seed: number): Record<'w' | 'gain' | 'scaleAlpha' | 'scaleBeta' | 'read' | 'carry' | 'write', { shape: number[]; values: Float32Array }> {
  const v = (shape: number[], k: number, scale: number, offset = 0) => ({
    shape,
    values: randomValues(shape.reduce((a, b) => a * b, 1), seed * 31 + k, scale).map((x) => x + offset),
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
