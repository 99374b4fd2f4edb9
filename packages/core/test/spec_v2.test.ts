import { describe, expect, it, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  assembleModel,
  ConfigError,
  createForwardContext,
  getPlugin,
  loadPluginsFor,
  PluginSpecificationError,
  registerBackendProvider,
  registerPlugin,
  registerPluginSource,
  resolveModelConfig,
  SPECIFICATION_VERSION,
  useBackend,
  type AnyPluginDefinition,
  type PluginDefinition,
} from '@vwn/core';

const ROOT = join(import.meta.dirname, '..', '..', '..');

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

describe('core knows no plugin (specification v2)', () => {
  it("core's src names no other @vwn package and no plugin id another package declares", () => {
    const others = readdirSync(join(ROOT, 'packages'))
      .filter((p) => p !== 'core' && existsSync(join(ROOT, 'packages', p, 'package.json')))
      .map((p) => JSON.parse(readFileSync(join(ROOT, 'packages', p, 'package.json'), 'utf8')) as { name: string; vwn?: { plugins?: string[] } });
    const ids = [...new Set(others.flatMap((p) => p.vwn?.plugins ?? []).map((k) => k.slice(k.indexOf(':') + 1)))];
    expect(ids).toEqual(expect.arrayContaining(['dynamic-ghc', 'over-width', 'moe', 'mtp'])); // the manifests are read
    const found: string[] = [];
    for (const file of files(join(ROOT, 'packages', 'core', 'src'))) {
      const text = readFileSync(file, 'utf8');
      for (const p of others) if (text.includes(p.name)) found.push(`${file}: ${p.name}`);
      for (const id of ids) if (new RegExp(`['"\`]${id}['"\`]`).test(text)) found.push(`${file}: "${id}"`);
    }
    expect(found).toEqual([]);
  });

  it('a plugin source loads what a config names, lists what it could provide, and gives the hint for a missing id', async () => {
    const def: PluginDefinition<'ffn', Record<string, never>> = {
      specificationVersion: 'v2',
      kind: 'ffn',
      id: 'test-zero',
      description: 'adds nothing',
      parseConfig: () => ({}),
      create: () => ({ forward: (x) => tf.zerosLike(x), flopsPerToken: () => 0 }),
    };
    const loaded: string[] = [];
    registerPluginSource({
      load: async (kind, id) => {
        loaded.push(`${kind}:${id}`);
        if (id === 'test-zero') registerPlugin(def as AnyPluginDefinition);
      },
      hint: (kind, id) => (id === 'test-missing' ? `install test-package (for ${kind} "${id}")` : undefined),
      available: (kind) => (kind === 'ffn' ? ['test-zero', 'test-other'] : []),
    });
    expect(() => getPlugin('ffn', 'nope')).toThrow(/unknown ffn plugin "nope"; allowed: "swiglu", "test-other", "test-zero"/);
    expect(() => getPlugin('ffn', 'test-missing')).toThrow(
      /ffn\.use: ffn plugin "test-missing" is not registered: install test-package \(for ffn "test-missing"\)/,
    );
    await loadPluginsFor({ ffn: { use: 'test-zero' }, connection: { use: 'residual' }, objectives: [{ use: 'test-objective' }] });
    expect(loaded).toEqual(['ffn:test-zero', 'objective:test-objective']); // registered ids are not asked for
    expect(resolveModelConfig({ vocabSize: 5, dModel: 4, layers: 1, heads: 1, seqLen: 3, ffn: { use: 'test-zero' } }).resolvedConfig.ffn).toEqual({
      use: 'test-zero',
    });
  });

  it('a v1 plugin definition gets a named error that says the fix', () => {
    const v1 = { specificationVersion: 'v1', kind: 'ffn', id: 'old-ffn', description: 'v1', parseConfig: () => ({}), create: () => ({}) };
    expect(SPECIFICATION_VERSION).toBe('v2');
    try {
      registerPlugin(v1 as unknown as AnyPluginDefinition);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(PluginSpecificationError);
      expect((e as PluginSpecificationError).plugin).toBe('ffn:old-ffn');
      expect((e as Error).message).toMatch(
        /implements specification v1, @vwn\/core speaks v2: set specificationVersion to 'v2' and type create's context as BuildContextOf<kind>.*Migrating from specification v1/,
      );
    }
  });

  it("a backend without a provider is a named error with the sources' hint; a failing provider says why", async () => {
    await expect(useBackend('webgpu')).rejects.toThrow(ConfigError);
    await expect(useBackend('webgpu')).rejects.toThrow(/backend: "webgpu" has no provider registered; import the package that provides it/);
    registerPluginSource({ backendHint: (name) => (name === 'native' ? 'install test-blas (npm install test-blas)' : undefined) });
    await expect(useBackend('native')).rejects.toThrow(/backend: "native" has no provider registered: install test-blas \(npm install test-blas\)/);
    registerBackendProvider('native', async () => {
      throw new Error('the addon did not load');
    });
    await expect(useBackend('native')).rejects.toThrow(/backend: "native" is not available: the addon did not load/);
    registerBackendProvider('native', async ({ activate }) => {
      await activate('cpu');
      return { backend: 'cpu', note: 'cpu + test kernels' };
    });
    expect(await useBackend('native')).toEqual({ backend: 'cpu', note: 'native: cpu + test kernels' });
    expect(await useBackend('auto')).toEqual({ backend: 'cpu', note: 'auto: using cpu + test kernels' });
    await tf.setBackend('cpu');
  });
});

describe('lifecycle', () => {
  it('Model.dispose frees every tensor: numTensors returns to its starting value after assemble → forward → dispose', () => {
    const start = tf.memory().numTensors;
    const model = assembleModel({ vocabSize: 17, dModel: 8, layers: 2, heads: 2, seqLen: 6, seed: 1 });
    const ids = tf.tensor2d(
      [
        [1, 2, 3, 4, 5, 6],
        [6, 5, 4, 3, 2, 1],
      ],
      [2, 6],
      'int32',
    );
    const rows = tf.tidy(() => tf.concat([ids, tf.ones([2, 1], 'int32')], 1) as tf.Tensor2D);
    const ctx = createForwardContext(2, 6, false);
    tf.dispose(model.forward(ids, ctx).state);
    ctx.dispose();
    tf.dispose(model.logits(ids));
    const { total, terms, metrics } = model.loss(rows, { training: true });
    tf.dispose([total, ids, rows, ...Object.values(terms), ...Object.values(metrics)]);
    expect(tf.memory().numTensors).toBeGreaterThan(start); // parameters and attention's kept constants
    model.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });
});
