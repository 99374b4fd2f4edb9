import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import {
  assembleModel,
  checkGradients,
  ConfigError,
  ConfigReader,
  createForwardContext,
  getPlugin,
  ParameterStore,
  resolveModelConfig,
  type EmbeddingModule,
  type ModelDims,
} from '@vwn/core';
import { readVirtualWidth, virtualLayout } from '@vwn/core';
import { overWidthEmbedding, type OverWidthEmbeddingConfig } from '@vwn/embedding';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const dims: ModelDims = { vocabSize: 13, dModel: 8, layers: 1, heads: 2, seqLen: 5, ffnHidden: 12 };
const fctx = createForwardContext(1, 4, false);

/** Builds the embedding alone, with its parameters under `embedding.` in a fresh store. */
function build(raw: Record<string, unknown>, d: ModelDims = dims): { module: EmbeddingModule; store: ParameterStore; config: OverWidthEmbeddingConfig } {
  const config = overWidthEmbedding.parseConfig({ use: 'over-width', ...raw }, 'embedding', d);
  const store = new ParameterStore(0);
  const trivial = { m: 1, n: 1, segmentWidth: d.dModel, width: d.dModel };
  const module = overWidthEmbedding.create(config, { dims: d, params: store.scope('embedding'), layout: trivial, seed: 0, tieEmbeddings: false });
  return { module, store, config };
}

const ids = () => tf.tensor1d([3, 0, 3, 12, 7], 'int32');

describe('over-width embedding (PAPER.md §3)', () => {
  it('registers under embedding:over-width and reports its layout before building', () => {
    expect(getPlugin('embedding', 'over-width')).toBe(overWidthEmbedding);
    const config = overWidthEmbedding.parseConfig({ use: 'over-width', m: 2, r: 1.5 }, 'embedding', dims);
    expect(config).toEqual({ m: 2, n: 3, factorized: false, initStd: 0.02 });
    expect(overWidthEmbedding.stateLayout!(config, dims)).toEqual({ m: 2, n: 3, segmentWidth: 4, width: 12 });
    expect(overWidthEmbedding.parseConfig({ use: 'over-width', ...config }, 'embedding', dims)).toEqual(config); // parses back to itself
  });

  it("wide table: H⁰ = E[token] as [N, D'] with the n segments contiguous", () => {
    const { module, store } = build({ m: 2, n: 6 });
    expect(module.layout).toEqual({ m: 2, n: 6, segmentWidth: 4, width: 24 });
    const table = store.get('embedding.table')!.variable;
    expect(table.shape).toEqual([13, 24]);
    expect(module.tiedTable).toBeUndefined(); // a [V, D'] table cannot be tied
    expect(module.flopsPerToken()).toBe(0);
    const h = module.embed(ids(), fctx);
    expect(h.shape).toEqual([5, 24]);
    const rows = table.arraySync() as number[][];
    expect(h.arraySync()).toEqual([3, 0, 3, 12, 7].map((t) => rows[t]));
    // Segment j of token 0 is columns [j·d_b, (j+1)·d_b) of its row.
    const segments = h.reshape([5, 6, 4]).arraySync() as number[][][];
    expect(segments[0]![5]).toEqual(rows[3]!.slice(20, 24));
    store.dispose();
  });

  it('initializes the wide table N(0, initStd²)', () => {
    const { store } = build({ m: 4, n: 16, initStd: 0.05 }, { ...dims, vocabSize: 256, dModel: 32 });
    const std = tf.tidy(() => tf.moments(store.get('embedding.table')!.variable).variance.sqrt().dataSync()[0]!);
    expect(std).toBeCloseTo(0.05, 2);
    store.dispose();
  });

  it('factorized: H⁰ = E_base[token] · W_expand, tied table = E_base, same scale as the wide table', () => {
    const big = { ...dims, vocabSize: 256, dModel: 32 };
    const { module, store } = build({ m: 4, r: 4, factorized: true }, big);
    const table = store.get('embedding.table')!.variable;
    const expand = store.get('embedding.expand')!.variable;
    expect(table.shape).toEqual([256, 32]);
    expect(expand.shape).toEqual([32, 128]);
    expect(store.get('embedding.expand')!.decay).toBe(true);
    expect(module.tiedTable).toBe(table);
    expect(module.flopsPerToken()).toBe(2 * 32 * 128);
    const i = tf.tensor1d([5, 200, 5], 'int32');
    const h = module.embed(i, fctx);
    const want = tf.matMul(tf.gather(table, i), expand);
    expect(h.shape).toEqual([3, 128]);
    expect(tf.max(tf.abs(tf.sub(h, want))).dataSync()[0]).toBeLessThan(1e-7);
    const all = module.embed(tf.range(0, 256, 1, 'int32') as tf.Tensor1D, fctx);
    const std = tf.moments(all).variance.sqrt().dataSync()[0]!;
    expect(std / 0.02).toBeGreaterThan(0.8);
    expect(std / 0.02).toBeLessThan(1.2);
    store.dispose();
  });

  it('gather gradient scatter-adds repeated ids exactly (no dense one-hot)', () => {
    const { module, store } = build({ m: 2, n: 3 });
    const table = store.get('embedding.table')!.variable;
    const c = tf.randomNormal([5, 12], 0, 1, 'float32', 3);
    const { grads } = tf.variableGrads(() => tf.sum(tf.mul(module.embed(ids(), fctx), c)), [table]);
    const g = grads[table.name]!.arraySync() as number[][];
    const cr = c.arraySync() as number[][];
    const expected = Array.from({ length: 13 }, (_, t) =>
      Array.from({ length: 12 }, (_, k) => [3, 0, 3, 12, 7].reduce((acc, id, i) => acc + (id === t ? cr[i]![k]! : 0), 0)),
    );
    for (let t = 0; t < 13; t++) for (let k = 0; k < 12; k++) expect(g[t]![k]).toBeCloseTo(expected[t]![k]!, 5);
    store.dispose();
  });

  it.each([false, true])('gradients match finite differences (factorized: %s)', (factorized) => {
    const { module, store } = build({ m: 2, n: 4, factorized });
    const c = tf.randomNormal([5, 16], 0, 1, 'float32', 4);
    const vars = store.list().map((p) => p.variable);
    const checks = checkGradients(() => tf.sum(tf.square(tf.mul(module.embed(ids(), fctx), c))), vars, { eps: 1e-2 });
    for (const check of checks) expect(check.relError, check.name).toBeLessThan(1e-2);
    store.dispose();
  });

  it("with n = m it is the standard embedding (D' = D, tiable) and runs with the baseline connection and head", () => {
    const cfg = { vocabSize: 13, dModel: 8, layers: 2, heads: 2, seqLen: 5, ffnHidden: 12, seed: 3 };
    const wide = assembleModel({ ...cfg, embedding: { use: 'over-width', m: 4, n: 4 }, tieEmbeddings: true });
    expect(wide.layout).toEqual({ m: 4, n: 4, segmentWidth: 2, width: 8 });
    expect(wide.config.head.use).toBe('lm'); // D' = D: the default head stays the baseline one
    const standard = assembleModel({ ...cfg, tieEmbeddings: true });
    for (const p of wide.params.list()) standard.params.get(p.name)!.variable.assign(p.variable);
    const x = tf.tensor2d([[1, 5, 7, 2, 12]], [1, 5], 'int32');
    expect(wide.logits(x).arraySync()).toEqual(standard.logits(x).arraySync());
    [wide, standard].forEach((m) => m.dispose());
  });

  it('alone (with n > m and the baseline residual connection) is a named ConfigError', () => {
    // Moved from core's reliability test: core's tests do not import plugin packages.
    expect(() => assembleModel({ vocabSize: 256, dModel: 16, heads: 2, layers: 1, seqLen: 8, embedding: { use: 'over-width', m: 2, n: 4 } })).toThrow(
      /connection\.use: "residual" needs a carried state of width D = 16, but the "over-width" embedding produces D' = 32/,
    );
  });
});

describe('{m, n} / {m, r} parsing', () => {
  it("accepts r and stores n; virtualLayout gives D' = (n/m)·D", () => {
    const r = new ConfigReader({ m: 8, r: 4 }, 'embedding');
    const width = readVirtualWidth(r, { ...dims, dModel: 64 });
    r.done();
    expect(width).toEqual({ m: 8, n: 32 });
    expect(virtualLayout(width, 64)).toEqual({ m: 8, n: 32, segmentWidth: 8, width: 256 });
    const a = resolveModelConfig({ ...dims, embedding: { use: 'over-width', m: 2, r: 1 } }).resolvedConfig.embedding;
    expect(a).toEqual({ use: 'over-width', m: 2, n: 2, factorized: false, initStd: 0.02 });
  });

  it.each([
    [{ m: 4, r: 1.3 }, 'embedding.r', /n = m·r = 4·1.3 = 5.2 must be an integer/],
    [{ m: 3, n: 6 }, 'embedding.m', /must divide dModel = 8/],
    [{ m: 4, n: 2 }, 'embedding.n', /n = 2 must be >= m = 4/],
    [{ m: 4, r: 0.5 }, 'embedding.r', /must be >= 1/],
    [{ m: 4 }, 'embedding.n', /is required/],
    [{ n: 4 }, 'embedding.m', /is required/],
    [{ m: 2, n: 4, r: 2 }, 'embedding.r', /either n/],
    [{ m: 2, n: 4, factorised: true }, 'embedding.factorised', /unknown field; allowed here: factorized, initStd, m, n, r/],
    [{ m: 2, n: 4, factorized: 'yes' }, 'embedding.factorized', /expected true or false/],
  ])('%j → %s', (raw, field, message) => {
    try {
      overWidthEmbedding.parseConfig({ use: 'over-width', ...raw }, 'embedding', dims);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).field).toBe(field);
      expect((e as Error).message).toMatch(message);
    }
  });
});
