// The browser entry (src/index.ts: adapters from navigator.gpu, no Dawn),
// run in Node. Without navigator.gpu it says so and what to do; with a real
// navigator.gpu (Dawn's GPU object, llvmpipe on a machine without a GPU,
// installed where a browser has it) the same code path a page takes selects
// an adapter, registers `webgpu`, and computes what cpu computes.
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
// Not helpers.ts: it imports the package's node entry, which would install Dawn as the platform.
import { probeWebGpu, useWebGpu, WebGpuUnavailableError } from '../src/index.js';

type Dawn = { create(flags: string[]): { requestAdapter(o?: object): Promise<unknown> }; globals: Record<string, unknown> };
const dawn = (await import('webgpu').catch(() => null)) as Dawn | null;
/** The Dawn instance a machine has an adapter on (native first, else OpenGL/llvmpipe), as a page's navigator.gpu. */
async function dawnGpu(): Promise<ReturnType<Dawn['create']> | null> {
  if (!dawn) return null;
  const native = dawn.create([]);
  if (await native.requestAdapter({ powerPreference: 'high-performance' })) return native;
  process.env['EGL_PLATFORM'] ??= 'surfaceless';
  const gl = dawn.create(['backend=opengl']);
  return (await gl.requestAdapter({ featureLevel: 'compatibility' })) ? gl : null;
}
const gpu = await dawnGpu();
if (!gpu) console.warn('[@vwn/kernels-gpu] SKIPPING the navigator.gpu test: no WebGPU adapter through Dawn');

describe('browser entry (navigator.gpu)', () => {
  it('without navigator.gpu: probe says why, useWebGpu throws a WebGpuUnavailableError naming the fallback', async () => {
    expect((globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu).toBeUndefined();
    const p = await probeWebGpu();
    expect(p).toEqual({ ok: false, reason: expect.stringMatching(/navigator\.gpu is missing.*use a browser with WebGPU.*wasm backend/) });
    const err = await useWebGpu({ log: () => {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WebGpuUnavailableError);
  });

  it.skipIf(!gpu)('with navigator.gpu: selects its adapter, registers webgpu, and matMul equals cpu', async () => {
    Object.assign(globalThis, dawn!.globals);
    Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true });
    const probed = await probeWebGpu();
    expect(probed.ok).toBe(true);
    const lines: string[] = [];
    const { adapter } = await useWebGpu({ log: (l) => lines.push(l) });
    expect(probed.ok && adapter).toEqual(probed.ok && probed.adapter);
    expect(lines).toEqual([expect.stringMatching(/^webgpu: adapter "/)]);
    expect(tf.getBackend()).toBe('webgpu');
    const values = Array.from({ length: 64 * 64 }, (_, i) => ((i * 37) % 11) - 5);
    const square = async () => {
      const a = tf.tensor2d(values, [64, 64]);
      const product = tf.matMul(a, a);
      const out = await product.data();
      tf.dispose([a, product]);
      return out;
    };
    const onGpu = await square();
    await tf.setBackend('cpu');
    const onCpuValues = await square();
    expect(Array.from(onGpu)).toEqual(Array.from(onCpuValues)); // small integers: exact on both
  });
});
