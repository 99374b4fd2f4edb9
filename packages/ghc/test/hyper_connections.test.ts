import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { assembleModel, checkGradients, createForwardContext, maxAbsDiff, resolveModelConfig, rmsNorm } from '@vwn/core';
import { fracConnections, hyperConnections, hyperConnectionsConnection } from '@vwn/ghc';
import { buildContext, copyParams, isSublayerParam, randomize, setParam, statesOf, tokenIds } from './helpers.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const dims = { vocabSize: 13, dModel: 8, layers: 2, heads: 2, seqLen: 5, ffnHidden: 12, seed: 3 } as const;

describe('Hyper-Connections preset (PAPER.md §11)', () => {
  it('returns the three config sections, which resolve', () => {
    const preset = hyperConnections({ n: 4 });
    expect(preset).toEqual({
      embedding: { use: 'stream-copies', n: 4 },
      connection: { use: 'hyper-connections', dynamic: true },
      head: { use: 'stream-sum' },
    });
    const resolved = resolveModelConfig({ ...dims, ...preset }).resolvedConfig;
    expect(resolved.embedding).toEqual({ use: 'stream-copies', n: 4, initStd: 0.02 });
    expect(resolved.connection).toEqual({ use: 'hyper-connections', n: 4, dynamic: true }); // n from the embedding
  });

  it('starts from n copies of the embedding and reads stream k mod n at sublayer k', () => {
    const n = 3;
    const model = assembleModel({ ...dims, layers: 2, ...hyperConnections({ n }) });
    expect(model.layout).toEqual({ m: 1, n, segmentWidth: 8, width: 24 });
    const ids = tokenIds(1, 4, dims.vocabSize);
    const [h0] = statesOf(model, ids);
    const table = model.params.get('embedding.table')!.variable.arraySync() as number[][];
    const tokens = ids.arraySync()[0]!;
    tokens.forEach((t, i) => expect(h0![i]).toEqual([...table[t]!, ...table[t]!, ...table[t]!]));
    // Sublayers k = 0 (layer 0 mixer), 1 (layer 0 FFN), 2 (layer 1 mixer), 3 (layer 1 FFN).
    const read = (name: string) => (model.params.get(`${name}.read`)!.variable.arraySync() as number[][]).map((r) => r[0]);
    expect(read('layers.0.mixer_connection')).toEqual([1, 0, 0]);
    expect(read('layers.0.ffn_connection')).toEqual([0, 1, 0]);
    expect(read('layers.1.mixer_connection')).toEqual([0, 0, 1]);
    expect(read('layers.1.ffn_connection')).toEqual([1, 0, 0]);
    expect(model.params.get('layers.0.mixer_connection.write')!.variable.arraySync()).toEqual([[1, 1, 1]]); // B = 1_{1×n}
    expect(Array.from(model.params.get('layers.0.mixer_connection.dynamic.scale_alpha')!.variable.dataSync())).toEqual([expect.closeTo(0.01, 8)]);
    expect(Array.from(model.params.get('layers.0.mixer_connection.dynamic.scale_beta')!.variable.dataSync())).toEqual([expect.closeTo(0.01, 8)]);
    expect(model.params.get('layers.0.mixer_connection.dynamic.norm.bias')).toBeDefined(); // LayerNorm
    ids.dispose();
    model.dispose();
  });

  // n = 2 streams of width D = 2 (m = 1, d_b = 2): h0 = [1, 2], h1 = [3, 4]; sublayer k = 3 reads e_1.
  // Static:  X = h1 = [3, 4]; T(x) = x/2 → Z = [1.5, 2]; carry I; B = [1, 1] → [h0 + Z, h1 + Z].
  // Dynamic: LayerNorm(h0) = LayerNorm(h1) = [-1, 1]; W's second row makes H̄·W/τ = atanh(0.5) on the
  //   read and β columns, so tanh = 0.5 there; s_α = 0.2, s_β = 0.4:
  //   read = e_1 + 0.2·0.5 = [0.1, 1.1] → X = 0.1·h0 + 1.1·h1 = [3.4, 4.6], Z = [1.7, 2.3];
  //   B = 1 + 0.4·0.5 = 1.2 per stream → [h0 + 1.2·Z, h1 + 1.2·Z] = [3.04, 4.76, 5.04, 6.76].
  it.each([
    [false, [2.5, 4, 4.5, 6], [3, 4]],
    [true, [3.04, 4.76, 5.04, 6.76], [3.4, 4.6]],
  ])('hand-computed example (dynamic: %s)', (dynamic, expected, expectedX) => {
    const ctx = buildContext({ dModel: 2 }, { m: 1, n: 2, segmentWidth: 2, width: 4 }, 3);
    const conn = hyperConnectionsConnection.create({ n: 2, dynamic }, ctx);
    expect(ctx.params.store.get('c.read')!.variable.arraySync()).toEqual([[0], [1]]); // e_{3 mod 2}
    if (dynamic) {
      const a = Math.atanh(0.5) * Math.sqrt(2); // τ = sqrt(D/m) = sqrt(2)
      setParam(ctx, 'dynamic.w', [
        [0, 0, 0, 0],
        [a, 0, 0, a],
      ]); // columns: read, carry₀, carry₁ | write
      setParam(ctx, 'dynamic.scale_alpha', [0.2]);
      setParam(ctx, 'dynamic.scale_beta', [0.4]);
    }
    let seen: number[][] = [];
    const next = conn.apply(
      tf.tensor2d([[1, 2, 3, 4]]),
      (x) => {
        seen = x.arraySync();
        return tf.div(x, 2);
      },
      createForwardContext(1, 1, false),
    );
    expect(maxAbsDiff(seen, [expectedX])).toBeLessThan(1e-5);
    expect(maxAbsDiff(next.arraySync(), [expected])).toBeLessThan(1e-5);
    next.dispose();
    ctx.params.store.dispose();
  });

  it('stream-sum head: logits = Unembed(RMSNorm(Σ streams))', () => {
    const model = assembleModel({ ...dims, ...hyperConnections({ n: 2 }) });
    const state = tf.randomNormal([3, 16], 0, 1, 'float32', 1) as tf.Tensor2D;
    model.params.get('head.norm.gain')!.variable.assign(tf.randomNormal([8], 1, 0.3, 'float32', 2));
    const got = model.head.logits(state, createForwardContext(1, 3, false));
    const summed = tf.add(tf.slice(state, [0, 0], [3, 8]), tf.slice(state, [0, 8], [3, 8]));
    const want = tf.matMul(
      rmsNorm(summed, model.params.get('head.norm.gain')!.variable) as tf.Tensor2D,
      model.params.get('head.unembed')!.variable,
      false,
      true,
    );
    expect(maxAbsDiff(got.arraySync(), want.arraySync() as number[][])).toBeLessThan(1e-6);
    expect(model.accounting().find((r) => r.component === 'head')!.flopsPerToken).toBe(8 + 4 * 8 + 2 * 8 * 13);
    tf.dispose([state, got, summed, want]);
    model.dispose();
  });

  it('gradients of every HC parameter match finite differences', () => {
    const model = assembleModel({ ...dims, vocabSize: 11, ...hyperConnections({ n: 2 }) });
    randomize(model, () => true, 0.4, 31);
    // HC's scalar scales start at 0.01; larger ones make their gradients resolvable in float32.
    model.params
      .list()
      .filter((p) => /scale_(alpha|beta)$/.test(p.name))
      .forEach((p, i) => p.variable.assign(tf.tensor1d([0.5 + 0.1 * i])));
    const rows = tokenIds(2, 6, 11, 5);
    const params = model.params.list().filter((p) => !isSublayerParam(p.name));
    const checks = checkGradients(
      () => model.loss(rows, { training: true }).total,
      params.map((p) => p.variable),
      { eps: 3e-3 },
    );
    for (const [i, c] of checks.entries()) {
      expect(c.relError, `${params[i]!.name}: analytic ${c.analytic} numeric ${c.numeric}`).toBeLessThan(2e-2);
    }
    expect(params.map((p) => p.name)).toEqual(expect.arrayContaining(['layers.1.ffn_connection.dynamic.norm.bias', 'embedding.table', 'head.norm.gain']));
    rows.dispose();
    model.dispose();
  });

  it('ties its unembedding to the stream table', () => {
    const model = assembleModel({ ...dims, tieEmbeddings: true, ...hyperConnections({ n: 2 }) });
    expect(model.params.get('head.unembed')).toBeUndefined();
    model.dispose();
  });
});

describe('Frac-Connections preset (n = m)', () => {
  it('runs on the standard embedding and equals the residual baseline at init', () => {
    const preset = fracConnections({ m: 4 });
    expect(preset.connection).toEqual({ use: 'frac-connections', m: 4, dynamic: true });
    const model = assembleModel({ ...dims, ...preset });
    expect(model.layout.width).toBe(dims.dModel);
    randomize(model, isSublayerParam);
    const baseline = assembleModel(dims);
    copyParams(model, baseline, (n) => isSublayerParam(n) || n.startsWith('embedding.'));
    const ids = tokenIds(2, 5, dims.vocabSize);
    const a = statesOf(model, ids);
    const b = statesOf(baseline, ids);
    for (let l = 0; l <= dims.layers; l++) expect(maxAbsDiff(a[l]!, b[l]!)).toBeLessThan(1e-5);
    const conn = model.accounting().find((r) => r.component === 'layers.0.mixer_connection')!;
    const D = dims.dModel,
      m = 4,
      n = 4;
    expect(conn.flopsPerToken).toBe(4 * D + 2 * (2 * m + n) * D + 2 * (m + n) * D + 2 * n * D);
    [model, baseline].forEach((x) => x.dispose());
    ids.dispose();
  });
});
