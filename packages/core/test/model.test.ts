import { describe, expect, it, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import {
  assembleModel,
  checkGradients,
  ConfigError,
  createForwardContext,
  listPlugins,
  resolveModelConfig,
  rmsNorm,
  sumTensors,
  type ModelConfig,
} from '@vwn/core';

const tiny: ModelConfig = { vocabSize: 11, dModel: 8, layers: 2, heads: 2, seqLen: 6, ffnHidden: 12, seed: 3 };

function rows(B: number, W: number, V: number, seed = 1): tf.Tensor2D {
  return tf.randomUniform([B, W], 0, V, 'int32', seed) as tf.Tensor2D;
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('assembleModel (baseline)', () => {
  it('registers the baseline plugins', () => {
    expect(listPlugins().map((d) => `${d.kind}:${d.id}`)).toEqual(
      expect.arrayContaining(['embedding:standard', 'connection:residual', 'mixer:attention', 'ffn:swiglu', 'head:lm']),
    );
  });

  it('starts near the uniform loss ln V and returns [N, V] logits', () => {
    const model = assembleModel({ ...tiny, vocabSize: 256, dModel: 32, heads: 4 });
    const r = rows(4, 7, 256);
    const logits = model.logits(tf.slice(r, [0, 0], [4, 6]) as tf.Tensor2D);
    expect(logits.shape).toEqual([24, 256]);
    const { total, terms } = model.loss(r, { training: true });
    expect(Math.abs(total.dataSync()[0]! - Math.log(256))).toBeLessThan(0.05);
    expect(terms['loss']!.dataSync()[0]).toBeCloseTo(total.dataSync()[0]!, 6);
    tf.dispose([r, logits, total, ...Object.values(terms)]);
    model.dispose();
  });

  it('is causal: logits at position t do not depend on tokens after t', () => {
    const model = assembleModel(tiny);
    const a = tf.tensor2d([[1, 2, 3, 4, 5, 6]], [1, 6], 'int32');
    const b = tf.tensor2d([[1, 2, 3, 9, 0, 10]], [1, 6], 'int32');
    const la = model.logits(a).arraySync() as number[][];
    const lb = model.logits(b).arraySync() as number[][];
    for (let t = 0; t < 3; t++) for (let v = 0; v < 11; v++) expect(la[t]![v]).toBeCloseTo(lb[t]![v]!, 6);
    expect(Math.abs(la[3]![0]! - lb[3]![0]!)).toBeGreaterThan(1e-6);
    model.dispose();
  });

  it('initializes as PAPER.md §8 says: N(0, 0.02), output projections / sqrt(2L), gains 1', () => {
    const model = assembleModel({ ...tiny, dModel: 64, heads: 4, layers: 8, ffnHidden: 256 });
    const std = (name: string) => {
      const v = model.params.get(name)!.variable;
      return tf.tidy(() => tf.moments(v).variance.sqrt().dataSync()[0]!);
    };
    expect(std('layers.0.mixer.wq')).toBeCloseTo(0.02, 2);
    expect(std('layers.0.mixer.wo') / (0.02 / 4)).toBeCloseTo(1, 1);
    expect(std('layers.0.ffn.w2') / (0.02 / 4)).toBeCloseTo(1, 1);
    expect(
      model.params
        .get('layers.3.ffn_norm.gain')!
        .variable.dataSync()
        .every((x) => x === 1),
    ).toBe(true);
    expect(model.params.get('layers.3.ffn_norm.gain')!.decay).toBe(false);
    expect(model.params.get('layers.3.ffn.w1')!.decay).toBe(true);
    model.dispose();
  });

  it('gives the same init for the same seed and names, and a different one for another seed', () => {
    const a = assembleModel(tiny);
    const b = assembleModel(tiny);
    const c = assembleModel({ ...tiny, seed: 4 });
    const w = (m: typeof a) => Array.from(m.params.get('layers.1.mixer.wk')!.variable.dataSync());
    expect(w(a)).toEqual(w(b));
    expect(w(a)).not.toEqual(w(c));
    [a, b, c].forEach((m) => m.dispose());
  });

  it('ties the unembedding to the embedding table when asked', () => {
    const model = assembleModel({ ...tiny, tieEmbeddings: true });
    expect(model.params.get('head.unembed')).toBeUndefined();
    expect(model.totals().params).toBe(assembleModel(tiny).totals().params - 11 * 8);
    model.dispose();
  });
});

describe('gradients of every baseline component match finite differences', () => {
  it('embedding, attention, SwiGLU, norms, head', () => {
    const model = assembleModel(tiny);
    const r = rows(2, 7, 11, 5);
    // Larger-than-init weights so every gradient is well above float32 noise.
    model.params
      .list()
      .forEach((p, i) =>
        tf.tidy(() => p.variable.assign(tf.add(p.name.endsWith('gain') ? 1 : 0, tf.randomNormal(p.variable.shape, 0, 0.4, 'float32', 1000 + i)))),
      );
    const vars = model.params.list().map((p) => p.variable);
    const checks = checkGradients(() => model.loss(r, { training: true }).total, vars, { eps: 3e-3 });
    const names = model.params.list().map((p) => p.name);
    for (const [i, c] of checks.entries()) {
      expect(c.relError, `${names[i]}: analytic ${c.analytic} numeric ${c.numeric}`).toBeLessThan(2e-2);
    }
    expect(names).toEqual(expect.arrayContaining(['embedding.table', 'layers.0.mixer.wq', 'layers.1.ffn.w2', 'head.unembed', 'head.norm.gain']));
    r.dispose();
    model.dispose();
  });

  it('sumTensors adds any number of tensors (no many-input AddN)', () => {
    const parts = Array.from({ length: 40 }, (_, i) => tf.scalar(i));
    expect(sumTensors(parts).dataSync()[0]).toBe((39 * 40) / 2);
    expect(() => sumTensors([])).toThrow(/at least one tensor/);
  });

  it('rmsNorm matches its formula', () => {
    const x = tf.tensor2d([[1, 2, 3, 4]]);
    const g = tf.tensor1d([1, 2, 1, 0.5]);
    const y = rmsNorm(x, g).dataSync();
    const rms = Math.sqrt((1 + 4 + 9 + 16) / 4 + 1e-6);
    expect(Array.from(y)).toEqual([1 / rms, 4 / rms, 3 / rms, 2 / rms].map((v) => expect.closeTo(v, 6)));
  });
});

describe('accounting', () => {
  it('counts every parameter once and FLOPs by formula', () => {
    const model = assembleModel(tiny);
    const rowsA = model.accounting();
    expect(rowsA.reduce((a, r) => a + r.params, 0)).toBe(model.params.count());
    const D = 8,
      F = 12,
      V = 11,
      T = 6;
    const ffn = rowsA.find((r) => r.component === 'layers.0.ffn')!;
    expect(ffn.params).toBe(3 * D * F);
    expect(ffn.flopsPerToken).toBe(6 * D * F);
    const mixer = rowsA.find((r) => r.component === 'layers.1.mixer')!;
    expect(mixer.params).toBe(4 * D * D);
    expect(mixer.flopsPerToken).toBe(8 * D * D + 4 * T * D);
    expect(rowsA.find((r) => r.component === 'head')!.flopsPerToken).toBe(4 * D + 2 * D * V);
    model.dispose();
  });
});

describe('config validation names the field and what is allowed', () => {
  const bad = (cfg: Record<string, unknown>) => () => resolveModelConfig({ ...tiny, ...cfg } as ModelConfig);
  it.each([
    [{ connection: { use: 'nope' } }, 'connection.use', /unknown connection plugin "nope"; allowed: "residual"/],
    [{ connection: { use: 'not-loaded' } }, 'connection.use', /unknown connection plugin "not-loaded"; allowed: "residual"/],
    [{ ffn: { use: 'swiglu', hidden: 'big' } }, 'ffn.hidden', /expected a finite number, got "big"/],
    [{ ffn: { use: 'swiglu', hiden: 3 } }, 'ffn.hiden', /unknown field; allowed here: hidden/],
    [{ heads: 3 }, 'heads', /must divide dModel = 8/],
    [{ dModel: 0 }, 'dModel', /must be >= 2/],
    [{ layerz: 2 }, 'layerz', /unknown field/],
    [{ mixer: 'attention' }, 'mixer', /expected an object like \{"use": "attention"\}/],
    [{ objectives: [{ use: 'not-loaded' }] }, 'objectives[0].use', /unknown objective plugin "not-loaded"; allowed: \(none registered\)/],
  ])('%j → %s', (cfg, field, message) => {
    try {
      bad(cfg)();
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).field).toBe(field);
      expect((e as Error).message).toMatch(message);
    }
  });

  it('fills defaults so the resolved config parses back to itself', () => {
    const a = resolveModelConfig(tiny).resolvedConfig;
    const b = resolveModelConfig(a).resolvedConfig;
    expect(b).toEqual(a);
    expect(a.ffn).toEqual({ use: 'swiglu', hidden: 12 });
    expect(a.head).toEqual({ use: 'lm' });
  });
});

describe('forward context', () => {
  it('averages metrics reported by several layers and sums aux losses', () => {
    const ctx = createForwardContext(1, 1, true);
    ctx.addMetric('m', tf.scalar(1));
    ctx.addMetric('m', tf.scalar(3));
    ctx.addAuxLoss('a', tf.scalar(0.5));
    ctx.addAuxLoss('a', tf.scalar(0.25));
    expect(ctx.metrics()['m']!.dataSync()[0]).toBe(2);
    expect(ctx.auxLosses()['a']!.dataSync()[0]).toBe(0.75);
    // Reports survive the tidy scopes they were made in (a sublayer runs inside its connection's).
    const ctx2 = createForwardContext(1, 1, true);
    tf.tidy(() => ctx2.addAuxLoss('b', tf.scalar(2)));
    tf.tidy(() => ctx2.addAuxLoss('b', tf.scalar(3)));
    expect(ctx2.auxLosses()['b']!.dataSync()[0]).toBe(5);
    const before = tf.memory().numTensors;
    ctx2.dispose();
    expect(tf.memory().numTensors).toBe(before - 2);
  });
});
