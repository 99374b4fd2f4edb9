import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assembleModel, checkGradients, ConfigError, createForwardContext, maxAbsDiff, resolveModelConfig, type Model, type ModelConfig } from '@vwn/core';
import { loadModelFromCheckpoint, saveCheckpoint } from '@vwn/core/node';
import '@vwn/embedding';
import { dghcReference, dynamicGhcConnection, ghcConnection, virtualWidth } from '@vwn/ghc';
import { buildContext, copyParams, firstColumns, isSublayerParam, randomize, setParam, statesOf, tokenIds } from './helpers.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const dims = { vocabSize: 13, dModel: 8, layers: 3, heads: 2, seqLen: 5, ffnHidden: 12, seed: 3 } as const;
const baselineConfig: ModelConfig = { ...dims };
const vwn = (use: 'ghc' | 'dynamic-ghc', m: number, n: number): ModelConfig => ({
  ...dims,
  embedding: { use: 'over-width', m, n },
  connection: { use, m, n },
});

/** A baseline with the VWN model's sublayer weights and the first D columns of its wide table. */
function matchingBaseline(model: Model): Model {
  const baseline = assembleModel(baselineConfig);
  copyParams(model, baseline, isSublayerParam);
  const D = dims.dModel;
  baseline.params.get('embedding.table')!.variable.assign(tf.slice(model.params.get('embedding.table')!.variable, [0, 0], [dims.vocabSize, D]));
  return baseline;
}

describe('GHC reduces to the residual stream at init (PAPER.md §4)', () => {
  it.each([
    ['ghc', 1],
    ['ghc', 2],
    ['ghc', 4],
    ['dynamic-ghc', 2],
    ['dynamic-ghc', 4],
  ] as const)('%s with n = m = %i: carried state equals the residual baseline after every layer', (use, m) => {
    const model = assembleModel(vwn(use, m, m));
    randomize(model, isSublayerParam);
    const baseline = matchingBaseline(model);
    const ids = tokenIds(2, 5, dims.vocabSize);
    const a = statesOf(model, ids);
    const b = statesOf(baseline, ids);
    expect(a).toHaveLength(dims.layers + 1);
    for (let l = 0; l <= dims.layers; l++) expect(maxAbsDiff(a[l]!, b[l]!), `layer ${l}`).toBeLessThan(1e-5);
    // The sublayers did real work: the state moved away from the embedding.
    expect(maxAbsDiff(a[dims.layers]!, a[0]!)).toBeGreaterThan(0.1);
    [model, baseline].forEach((x) => x.dispose());
    ids.dispose();
  });

  it.each([
    ['ghc', 2, 3],
    ['ghc', 4, 8],
    ['dynamic-ghc', 2, 3],
    ['dynamic-ghc', 4, 16],
    ['dynamic-ghc', 1, 4],
  ] as const)('%s with m = %i, n = %i: the first m segments equal the residual baseline after every layer', (use, m, n) => {
    const model = assembleModel(vwn(use, m, n));
    expect(model.layout.width).toBe((n / m) * dims.dModel);
    randomize(model, isSublayerParam);
    const baseline = matchingBaseline(model);
    const ids = tokenIds(2, 5, dims.vocabSize, 2);
    const a = statesOf(model, ids);
    const b = statesOf(baseline, ids);
    for (let l = 0; l <= dims.layers; l++) {
      expect(maxAbsDiff(firstColumns(a[l]!, dims.dModel), b[l]!), `layer ${l}`).toBeLessThan(1e-5);
    }
    // Segment j ≥ m accumulates e_j + Σ_layers Z_{j mod m}: it differs from the read segments.
    expect(
      maxAbsDiff(
        a[dims.layers]!.map((r) => r.slice(m * (dims.dModel / m))),
        a[0]!.map((r) => r.slice(dims.dModel)),
      ),
    ).toBeGreaterThan(0.1);
    [model, baseline].forEach((x) => x.dispose());
    ids.dispose();
  });
});

describe('DGHC (PAPER.md §5)', () => {
  it('with W_α = W_β = 0 equals static GHC, whatever the other parameters', () => {
    const dyn = assembleModel(vwn('dynamic-ghc', 2, 6));
    const stat = assembleModel(vwn('ghc', 2, 6));
    // Move everything shared (incl. Å, Â, B) and the dynamic scales/gains away from init; keep W = 0.
    randomize(dyn, (name) => !name.endsWith('dynamic.w'), 0.3, 11);
    expect(copyParams(dyn, stat).filter((n) => n.endsWith('.read')).length).toBe(2 * dims.layers);
    const ids = tokenIds(2, 5, dims.vocabSize, 4);
    const a = statesOf(dyn, ids);
    const b = statesOf(stat, ids);
    for (let l = 0; l <= dims.layers; l++) expect(maxAbsDiff(a[l]!, b[l]!), `layer ${l}`).toBeLessThan(1e-5);
    // …and differs once W ≠ 0.
    randomize(dyn, (name) => name.endsWith('dynamic.w'), 0.5, 12);
    expect(maxAbsDiff(statesOf(dyn, ids)[dims.layers]!, b[dims.layers]!)).toBeGreaterThan(1e-3);
    [dyn, stat].forEach((x) => x.dispose());
    ids.dispose();
  });

  it('initializes as PAPER.md §4–5 say, with weight decay only on W', () => {
    const model = assembleModel(vwn('dynamic-ghc', 2, 5));
    const p = (name: string) => model.params.get(`layers.1.ffn_connection.${name}`)!;
    expect(p('read').variable.arraySync()).toEqual([
      [1, 0],
      [0, 1],
      [0, 0],
      [0, 0],
      [0, 0],
    ]); // [I_m; 0]
    expect(p('carry').variable.arraySync()).toEqual([
      [1, 0, 0, 0, 0],
      [0, 1, 0, 0, 0],
      [0, 0, 1, 0, 0],
      [0, 0, 0, 1, 0],
      [0, 0, 0, 0, 1],
    ]);
    expect(p('write').variable.arraySync()).toEqual([
      [1, 0, 1, 0, 1],
      [0, 1, 0, 1, 0],
    ]); // j mod m == i
    expect(p('dynamic.w').variable.shape).toEqual([4, 2 * 2 + 5]); // one packed d_b × (2m+n)
    expect(
      p('dynamic.w')
        .variable.dataSync()
        .every((x) => x === 0),
    ).toBe(true);
    expect(p('dynamic.scale_alpha').variable.shape).toEqual([5, 7]);
    expect(p('dynamic.scale_beta').variable.shape).toEqual([2, 5]);
    expect(p('dynamic.norm.gain').variable.shape).toEqual([4]);
    for (const name of ['dynamic.scale_alpha', 'dynamic.scale_beta', 'dynamic.norm.gain']) {
      expect(
        p(name)
          .variable.dataSync()
          .every((x) => x === 1),
        name,
      ).toBe(true);
    }
    const decayed = model.params
      .list()
      .filter((q) => q.name.includes('_connection.') && q.decay)
      .map((q) => q.name);
    expect(decayed).toEqual(Array.from({ length: 2 * dims.layers }, (_, i) => `layers.${i >> 1}.${i % 2 ? 'ffn' : 'mixer'}_connection.dynamic.w`));
    model.dispose();
  });

  it.each(['ghc', 'dynamic-ghc'] as const)('%s: gradients of every parameter match finite differences', (use) => {
    const model = assembleModel({ ...vwn(use, 2, 3), vocabSize: 11, layers: 2 });
    // Away from init so every gradient (incl. W, S, gains) is well above float32 noise.
    randomize(model, () => true, 0.4, 21);
    const rows = tokenIds(2, 6, 11, 5);
    // Sublayer gradients are core's (checked there); these are the embedding's, connections' and head's.
    // eps 1e-3: the read matrix has strong curvature here (numeric → analytic quadratically as eps shrinks).
    const params = model.params.list().filter((p) => !isSublayerParam(p.name));
    const checks = checkGradients(
      () => model.loss(rows, { training: true }).total,
      params.map((p) => p.variable),
      { eps: 1e-3 },
    );
    for (const [i, c] of checks.entries()) {
      expect(c.relError, `${params[i]!.name}: analytic ${c.analytic} numeric ${c.numeric}`).toBeLessThan(2e-2);
      expect(Math.abs(c.analytic), params[i]!.name).toBeGreaterThan(1e-4);
    }
    const names = params.map((p) => p.name);
    const conn = ['read', 'carry', 'write'].concat(
      use === 'dynamic-ghc' ? ['dynamic.w', 'dynamic.scale_alpha', 'dynamic.scale_beta', 'dynamic.norm.gain'] : [],
    );
    expect(names).toEqual(expect.arrayContaining(conn.map((n) => `layers.1.mixer_connection.${n}`)));
    rows.dispose();
    model.dispose();
  });
});

describe('memory', () => {
  it.each(['ghc', 'dynamic-ghc'] as const)('%s: a loss + gradient step leaks no tensors', (use) => {
    const model = assembleModel(vwn(use, 2, 6));
    const rows = tokenIds(2, 6, dims.vocabSize, 9);
    const vars = model.params.list().map((p) => p.variable);
    const step = () => {
      const { value, grads } = tf.variableGrads(() => {
        const { total, terms, metrics } = model.loss(rows, { training: true });
        tf.dispose([...Object.values(terms), ...Object.values(metrics)]); // owned by the caller
        return total;
      }, vars);
      tf.dispose([value, ...Object.values(grads)]);
    };
    step();
    const before = tf.memory().numTensors;
    step();
    expect(tf.memory().numTensors).toBe(before);
    rows.dispose();
    model.dispose();
  });
});

describe("hand-computed example, m = 2, n = 3, d_b = 2 (D = 4, D' = 6)", () => {
  // Token 0: H' rows s0 = [1, 2], s1 = [3, 4], s2 = [5, 6]; token 1: −H'.
  // Å = [[1, 0], [0, 1], [1, 2]]:      X0 = s0 + s2 = [6, 8], X1 = s1 + 2·s2 = [13, 16]
  // T(x) = x / 2:                      Z0 = [3, 4], Z1 = [6.5, 8]
  // Â = [[1, 0, 0], [0, 2, 0], [1, 0, 1]]: C0 = s0 + s2 = [6, 8], C1 = 2·s1 = [6, 8], C2 = s2 = [5, 6]
  // B = [[1, 0, 1], [0, 1, 2]]:        W0 = Z0 = [3, 4], W1 = Z1 = [6.5, 8], W2 = Z0 + 2·Z1 = [16, 20]
  // H'_new = C + W = [[9, 12], [12.5, 16], [21, 26]]
  const state = [
    [1, 2, 3, 4, 5, 6],
    [-1, -2, -3, -4, -5, -6],
  ];
  const expectedX = [
    [6, 8, 13, 16],
    [-6, -8, -13, -16],
  ];
  const expectedNext = [
    [9, 12, 12.5, 16, 21, 26],
    [-9, -12, -12.5, -16, -21, -26],
  ];

  it.each([ghcConnection, dynamicGhcConnection])('$id: read, carry and write match element by element', (def) => {
    const ctx = buildContext({ dModel: 4 }, { m: 2, n: 3, segmentWidth: 2, width: 6 });
    const conn = def.create({ m: 2, n: 3 }, ctx);
    setParam(ctx, 'read', [
      [1, 0],
      [0, 1],
      [1, 2],
    ]);
    setParam(ctx, 'carry', [
      [1, 0, 0],
      [0, 2, 0],
      [1, 0, 1],
    ]);
    setParam(ctx, 'write', [
      [1, 0, 1],
      [0, 1, 2],
    ]);
    let seen: number[][] = [];
    const before = tf.memory().numTensors;
    const next = conn.apply(
      tf.tensor2d(state),
      (x) => {
        seen = x.arraySync();
        return tf.div(x, 2);
      },
      createForwardContext(1, 2, false),
    );
    expect(seen).toEqual(expectedX);
    expect(next.arraySync()).toEqual(expectedNext);
    next.dispose();
    expect(tf.memory().numTensors).toBe(before + 1); // only the input state (no leaks)
    expect(conn.flopsPerToken()).toBe(def.id === 'ghc' ? 2 * 5 * 6 + 2 * 3 * 4 : 4 * 6 + 2 * 7 * 6 + 2 * 5 * 6 + 2 * 3 * 4);
    ctx.params.store.dispose();
  });

  it('dynamic-ghc with W ≠ 0 matches PAPER.md §5 computed token by token', () => {
    const ctx = buildContext({ dModel: 4 }, { m: 2, n: 3, segmentWidth: 2, width: 6 });
    const conn = dynamicGhcConnection.create({ m: 2, n: 3 }, ctx);
    const A0 = [
      [1, 0, 0.5, 0, 0],
      [0, 1, 0, 2, 0],
      [1, 2, 1, 0, 1],
    ]; // [Å | Â]
    const B0 = [
      [1, 0, 1],
      [0, 1, 2],
    ];
    const W = [
      [0.3, -0.2, 0.5, 0.1, -0.4, 0.7, 0.2],
      [-0.6, 0.4, 0.1, 0.9, 0.3, -0.5, 0.8],
    ]; // [W_α | W_β]: 2 × 7
    const Sa = [
      [1, 0.5, 2, 1, 1],
      [0.3, 1, 1, 1.5, 1],
      [1, 1, 0.7, 1, 2],
    ];
    const Sb = [
      [0.5, 1, 1.5],
      [2, 1, 0.25],
    ];
    const g = [1.5, 0.8];
    setParam(
      ctx,
      'read',
      A0.map((r) => r.slice(0, 2)),
    );
    setParam(
      ctx,
      'carry',
      A0.map((r) => r.slice(2)),
    );
    setParam(ctx, 'write', B0);
    setParam(ctx, 'dynamic.w', W);
    setParam(ctx, 'dynamic.scale_alpha', Sa);
    setParam(ctx, 'dynamic.scale_beta', Sb);
    setParam(ctx, 'dynamic.norm.gain', g);
    const input = [
      [1, 2, 3, 4, 5, 6],
      [0.5, -1, 2, 0, -3, 1],
    ];
    const T = (x: number[]) => x.map((v, i) => v * (i + 1) - 1); // any per-token sublayer
    const next = conn.apply(tf.tensor2d(input), (x) => tf.sub(tf.mul(x, tf.tensor1d([1, 2, 3, 4])), 1), createForwardContext(1, 2, false));

    // Reference: one token at a time, straight from the equations.
    const tau = Math.sqrt(2);
    const expected = input.map((h) => {
      const H = [h.slice(0, 2), h.slice(2, 4), h.slice(4, 6)]; // n × d_b
      const Hbar = H.map((s) => {
        const rms = Math.sqrt((s[0]! ** 2 + s[1]! ** 2) / 2 + 1e-6);
        return s.map((v, k) => (v / rms) * g[k]!);
      });
      const coeff = Hbar.map((s) => W[0]!.map((_, c) => Math.tanh((s[0]! * W[0]![c]! + s[1]! * W[1]![c]!) / tau))); // n × 7
      const A = A0.map((row, j) => row.map((a, c) => Sa[j]![c]! * coeff[j]![c]! + a)); // n × (m+n)
      const B = B0.map((row, i) => row.map((b, j) => Sb[i]![j]! * coeff[j]![5 + i]! + b)); // m × n
      const X = [0, 1].map((i) => [0, 1].map((k) => H.reduce((acc, s, j) => acc + A[j]![i]! * s[k]!, 0)));
      const z = T(X.flat());
      const Z = [z.slice(0, 2), z.slice(2, 4)];
      return [0, 1, 2].flatMap((j) =>
        [0, 1].map((k) => H.reduce((acc, s, i) => acc + A[i]![2 + j]! * s[k]!, 0) + Z.reduce((acc, zi, i) => acc + B[i]![j]! * zi[k]!, 0)),
      );
    });
    const scale = Math.max(...expected.flat().map(Math.abs));
    expect(maxAbsDiff(next.arraySync(), expected) / scale).toBeLessThan(1e-6);
    // The package's reference formulation (the oracle of every fused path) agrees with the same numbers.
    const v = (name: string) => ctx.params.store.get(`c.${name}`)!.variable;
    const viaReference = dghcReference(
      tf.tensor2d(input),
      (x) => tf.sub(tf.mul(x, tf.tensor1d([1, 2, 3, 4])), 1),
      {
        w: v('dynamic.w'),
        gain: v('dynamic.norm.gain'),
        scaleAlpha: v('dynamic.scale_alpha'),
        scaleBeta: v('dynamic.scale_beta'),
        read: v('read'),
        carry: v('carry'),
        write: v('write'),
      },
      { m: 2, n: 3 },
    );
    expect(maxAbsDiff(viaReference.arraySync(), expected) / scale).toBeLessThan(1e-6);
    tf.dispose([next, viaReference]);
    ctx.params.store.dispose();
  });
});

describe('accounting (PAPER.md §9)', () => {
  const settings = [
    [2, 3],
    [8, 16],
    [8, 32],
    [8, 64],
    [4, 8],
    [16, 64],
  ] as const;
  const small = { vocabSize: 16, dModel: 32, layers: 1, heads: 2, seqLen: 4, ffnHidden: 8 };
  it.each(settings)('m = %i, n = %i: GHC FLOPs equal the cost model', (m, n) => {
    const D = small.dModel;
    const cost = {
      norm: 4 * (n / m) * D,
      dynamic: 2 * (2 * m + n) * (n / m) * D,
      width: 2 * (m + n) * (n / m) * D,
      depth: 2 * n * D,
    };
    for (const use of ['ghc', 'dynamic-ghc'] as const) {
      const model = assembleModel({ ...small, embedding: { use: 'over-width', m, n }, connection: { use, m, n } });
      const rows = model.accounting().filter((r) => r.component.endsWith('_connection'));
      expect(rows).toHaveLength(2);
      const expected = use === 'ghc' ? cost.width + cost.depth : cost.norm + cost.dynamic + cost.width + cost.depth;
      for (const row of rows) {
        expect(row.plugin).toBe(use);
        expect(row.flopsPerToken).toBe(expected);
        const db = D / m;
        expect(row.params).toBe(n * m + n * n + m * n + (use === 'ghc' ? 0 : db * (2 * m + n) + n * (m + n) + m * n + db));
      }
      model.dispose();
    }
  });

  it.each(settings)('m = %i, n = %i: {m, r} gives the same model as {m, n}', (m, n) => {
    const withN = { ...small, embedding: { use: 'over-width', m, n }, connection: { use: 'dynamic-ghc', m, n } };
    const withR = { ...small, embedding: { use: 'over-width', m, r: n / m }, connection: { use: 'dynamic-ghc', m, r: n / m } };
    const a = resolveModelConfig(withN).resolvedConfig;
    expect(resolveModelConfig(withR).resolvedConfig).toEqual(a);
    expect(resolveModelConfig(a).resolvedConfig).toEqual(a); // parses back to itself
    expect(a.head).toEqual({ use: 'over-width', groupNorm: true });
    const ma = assembleModel(withN);
    const mb = assembleModel(withR);
    expect(mb.accounting()).toEqual(ma.accounting());
    const ids = tokenIds(1, 4, 16);
    expect(maxAbsDiff(ma.logits(ids).arraySync(), mb.logits(ids).arraySync())).toBe(0);
    [ma, mb].forEach((x) => x.dispose());
    ids.dispose();
  });
});

describe('config errors name the field', () => {
  const bad = (cfg: Partial<ModelConfig>) => () => assembleModel({ ...dims, ...cfg } as ModelConfig);
  it.each([
    [
      { embedding: { use: 'over-width', m: 8, n: 16 }, connection: { use: 'ghc', m: 8, n: 8 } },
      'connection.n',
      /says m = 8, n = 8 but the embedding makes m = 8, n = 16; .*delete "m", "n" and "r" from "connection"/,
    ],
    [
      { embedding: { use: 'over-width', m: 4, n: 16 }, connection: { use: 'dynamic-ghc', m: 8, n: 16 } },
      'connection.m',
      /says m = 8, n = 16 but the embedding makes m = 4, n = 16/,
    ],
    [
      { embedding: { use: 'over-width', m: 4, n: 16 }, connection: { use: 'dynamic-ghc', m: 4, r: 2 } },
      'connection.r',
      /says m = 4, n = 8 but the embedding makes m = 4, n = 16/,
    ],
    [{ connection: { use: 'dynamic-ghc', m: 2, n: 4 } }, 'connection.n', /the embedding makes m = 1, n = 1/],
    [
      { embedding: { use: 'over-width', m: 2, n: 4 }, connection: { use: 'residual' } },
      'connection.use',
      /"residual" needs a carried state of width D = 8, .*D' = 16; use a connection that reads a wide state/,
    ],
    [{ connection: { use: 'ghc', m: 3, n: 3 } }, 'connection.m', /must divide dModel = 8/],
    [{ connection: { use: 'ghc', m: 4, r: 1.3 } }, 'connection.r', /m·r = 4·1.3 = 5.2 must be an integer/],
    [{ connection: { use: 'ghc', m: 4, n: 2 } }, 'connection.n', /must be >= m = 4/],
    [{ connection: { use: 'ghc', m: 4, n: 8, r: 2 } }, 'connection.r', /either n .* or r/],
    [{ connection: { use: 'ghc', m: 4, n: 8, tau: 2 } }, 'connection.tau', /unknown field; allowed here: m, n, r/],
    [{ embedding: { use: 'over-width', m: 2, n: 3 }, connection: { use: 'ghc', m: 2, n: 3 }, tieEmbeddings: true }, 'tieEmbeddings', /cannot be tied/],
  ])('%j → %s', (cfg, field, message) => {
    try {
      bad(cfg as Partial<ModelConfig>)();
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).field).toBe(field);
      expect((e as Error).message).toMatch(message);
    }
  });

  it('one VWN section: the connection takes m, n from the embedding; v1 configs that repeat them resolve the same', () => {
    const v2 = resolveModelConfig({ ...dims, embedding: { use: 'over-width', m: 4, n: 16 }, connection: { use: 'dynamic-ghc' } }).resolvedConfig;
    const v1 = resolveModelConfig({ ...dims, embedding: { use: 'over-width', m: 4, n: 16 }, connection: { use: 'dynamic-ghc', m: 4, n: 16 } }).resolvedConfig;
    const preset = resolveModelConfig({ ...dims, ...virtualWidth({ m: 4, n: 16 }) }).resolvedConfig;
    expect(v2.connection).toEqual({ use: 'dynamic-ghc', m: 4, n: 16 }); // what v1 checkpoints hold
    expect(v1).toEqual(v2);
    expect(preset).toEqual(v2);
    expect(resolveModelConfig(v2).resolvedConfig).toEqual(v2); // parses back to itself
    expect(virtualWidth({ m: 4, n: 8, dynamic: false })).toEqual({
      embedding: { use: 'over-width', m: 4, n: 8 },
      connection: { use: 'ghc' },
      head: { use: 'over-width' },
    });
    expect(resolveModelConfig({ ...dims, connection: { use: 'ghc' } }).resolvedConfig.connection).toEqual({ use: 'ghc', m: 1, n: 1 });
  });

  it('a checkpoint written by specification v1 (resolved config repeats m, n) loads to the same logits', async () => {
    // What a v1 run stored: every section resolved, the connection with its own m and n.
    const v1Resolved = {
      ...dims,
      tieEmbeddings: false,
      seed: 3,
      embedding: { use: 'over-width', m: 2, n: 4, factorized: false, initStd: 0.02 },
      connection: { use: 'dynamic-ghc', m: 2, n: 4 },
      mixer: { use: 'attention', ropeBase: 10000 },
      ffn: { use: 'swiglu', hidden: 12 },
      head: { use: 'over-width', groupNorm: true },
      objectives: [],
    };
    const written = assembleModel(v1Resolved);
    const dir = await mkdtemp(join(tmpdir(), 'vwn-v1-'));
    const file = join(dir, 'checkpoint.safetensors');
    const state = { config: { model: v1Resolved }, tokenizer: { kind: 'bytes' }, trainer: { step: 0, tokens: 0, batchIndex: 0, elapsedMs: 0 } };
    await saveCheckpoint(file, written.params, null, state);
    const { model } = await loadModelFromCheckpoint(file);
    expect(model.config).toEqual(v1Resolved);
    const ids = tokenIds(1, 4, dims.vocabSize);
    expect(maxAbsDiff(model.logits(ids).arraySync(), written.logits(ids).arraySync())).toBe(0);
    [model, written].forEach((m) => m.dispose());
    ids.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it('frac-connections / n = m run on the standard embedding (a D-wide state splits any way)', () => {
    const model = assembleModel({ ...dims, connection: { use: 'dynamic-ghc', m: 4, n: 4 } });
    expect(model.layout.width).toBe(dims.dModel);
    model.dispose();
  });
});
