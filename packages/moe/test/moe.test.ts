import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { checkGradients, ConfigError, createForwardContext, resolveModelConfig } from '@vwn/core';
import { expertCapacity, moe, moeFeedForward, routeTokens, type MoeConfig } from '@vwn/moe';
import { buildMoe, denseReference, perturb, topKMask } from './helpers.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const dims = { vocabSize: 16, dModel: 8, layers: 2, heads: 2, seqLen: 8, ffnHidden: 12 };

/** Max |a − b| relative to max(1, max |b|). */
function relDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]! / Math.max(1, tf.max(tf.abs(b)).dataSync()[0]!));
}

describe('config', () => {
  it('fills the documented defaults, expertHidden = ffnHidden / topK, and round-trips', () => {
    const c = moeFeedForward.parseConfig({ use: 'moe' }, 'ffn', dims);
    expect(c).toEqual({
      experts: 8,
      topK: 2,
      expertHidden: 6,
      sharedExperts: 0,
      sharedHidden: 6,
      balanceLossWeight: 0.01,
      zLossWeight: 0,
      capacityFactor: 0,
      renormalize: false,
    });
    expect(moeFeedForward.parseConfig({ use: 'moe', ...c }, 'ffn', dims)).toEqual(c);
    const resolved = resolveModelConfig({ ...dims, ffn: moe({ experts: 4, topK: 1 }) }).resolvedConfig.ffn;
    expect(resolved).toMatchObject({ use: 'moe', experts: 4, topK: 1, expertHidden: 12 });
  });

  it.each<[Record<string, unknown>, string, RegExp]>([
    [{ experts: 0 }, 'ffn.experts', />= 1/],
    [{ experts: 2.5 }, 'ffn.experts', /integer/],
    [{ topK: 0 }, 'ffn.topK', />= 1/],
    [{ experts: 4, topK: 5 }, 'ffn.topK', /<= 4/],
    [{ expertHidden: 0 }, 'ffn.expertHidden', />= 1/],
    [{ sharedExperts: -1 }, 'ffn.sharedExperts', />= 0/],
    [{ sharedHidden: 0 }, 'ffn.sharedHidden', />= 1/],
    [{ balanceLossWeight: -0.1 }, 'ffn.balanceLossWeight', />= 0/],
    [{ zLossWeight: 'big' }, 'ffn.zLossWeight', /finite number/],
    [{ capacityFactor: -1 }, 'ffn.capacityFactor', />= 0/],
    [{ renormalize: 1 }, 'ffn.renormalize', /true or false/],
    [{ expert: 4 }, 'ffn.expert', /unknown field; allowed here: .*experts/],
  ])('rejects %j with a ConfigError naming %s', (raw, field, message) => {
    let err: unknown;
    try {
      moeFeedForward.parseConfig({ use: 'moe', ...raw }, 'ffn', dims);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect(String((err as Error).message)).toContain(field);
    expect(String((err as Error).message)).toMatch(message);
  });
});

describe.each(['cpu', 'wasm'])('sparse dispatch equals the dense masked reference (%s)', (backend) => {
  beforeAll(async () => {
    await tf.setBackend(backend);
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });
  const cases: Array<[string, Partial<MoeConfig>]> = [
    ['top-1', { experts: 4, topK: 1, expertHidden: 6 }],
    ['top-2', { experts: 4, topK: 2, expertHidden: 6 }],
    ['top-1 + shared expert', { experts: 4, topK: 1, expertHidden: 6, sharedExperts: 1 }],
    ['top-2 + 2 shared experts', { experts: 4, topK: 2, expertHidden: 6, sharedExperts: 2, sharedHidden: 5 }],
    ['top-2, renormalized', { experts: 4, topK: 2, expertHidden: 6, renormalize: true }],
  ];
  // Evaluation-mode context: no auxiliary loss, so the gradients are those of the output alone.
  it.each(cases)('%s: output and every gradient to 1e-5', (_name, raw) => {
    const { ffn, store } = buildMoe(dims, raw, 3);
    perturb(store, 0.3);
    const N = 24;
    const x = tf.variable(tf.randomNormal([N, 8], 0, 1, 'float32', 11)) as tf.Variable<tf.Rank.R2>;
    const dy = tf.randomNormal([N, 8], 0, 1, 'float32', 12);
    const mask = topKMask(ffn, x);
    const vars = [x, ...store.list().map((p) => p.variable)];
    const sparse = tf.variableGrads(() => {
      const y = ffn.forward(x, createForwardContext(1, N, false));
      return tf.sum(tf.mul(y, dy)) as tf.Scalar;
    }, vars);
    const dense = tf.variableGrads(() => tf.sum(tf.mul(denseReference(ffn, x, mask, mask), dy)) as tf.Scalar, vars);
    expect(ffn.lastRouting!.dropped).toBe(0);
    expect(Math.abs(sparse.value.dataSync()[0]! - dense.value.dataSync()[0]!)).toBeLessThan(1e-5 * Math.max(1, Math.abs(dense.value.dataSync()[0]!)));
    const y = ffn.forward(x, createForwardContext(1, N, false));
    const yRef = denseReference(ffn, x, mask, mask);
    expect(relDiff(y, yRef)).toBeLessThan(1e-5);
    for (const v of vars) {
      const ref = dense.grads[v.name]!;
      const got = sparse.grads[v.name] ?? tf.zerosLike(ref); // an expert with no tokens gets no gradient
      expect(relDiff(got, ref), v.name).toBeLessThan(1e-5);
      expect(tf.max(tf.abs(ref)).dataSync()[0], `${v.name} gradient is not trivially zero`).toBeGreaterThan(1e-3);
    }
    // Every routed expert ran (the reference check is not vacuous).
    expect(ffn.lastRouting!.expertCounts.filter((c) => c > 0).length).toBe(4);
    store.dispose();
  });

  it('does not leak tensors in a forward + backward', () => {
    const { ffn, store } = buildMoe(dims, { experts: 4, topK: 2, sharedExperts: 1, zLossWeight: 1e-3 });
    const x = tf.randomNormal([16, 8]) as tf.Tensor2D;
    const step = () => {
      const ctx = createForwardContext(1, 16, true);
      const { value, grads } = tf.variableGrads(() => tf.tidy(() => tf.addN([tf.sum(ffn.forward(x, ctx)), ...Object.values(ctx.auxLosses())]) as tf.Scalar));
      // The context keeps what plugins reported until it is disposed (Model.loss does this).
      tf.dispose([value, ...Object.values(grads)]);
      ctx.dispose();
    };
    step();
    const before = tf.memory().numTensors;
    step();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    store.dispose();
  });
});

describe('auxiliary losses and metrics', () => {
  // Router = identity, so the logits are the rows of x (D = E = 3).
  const logits = [
    [2, 1, 0], // top-2 {0, 1}
    [0, 3, 1], // {1, 2}
    [1, 0, 2], // {2, 0}
    [4, 0, 0], // {0, 1}: the tie between 1 and 2 goes to the lower index
  ];
  const softmax = (r: number[]) => {
    const z = r.reduce((a, v) => a + Math.exp(v), 0);
    return r.map((v) => Math.exp(v) / z);
  };

  it('balance loss = α·E·Σ f_i·P_i and z-loss = β·mean(logsumexp²) on a hand-computed router output', () => {
    const { ffn, store } = buildMoe({ dModel: 3 }, { experts: 3, topK: 2, expertHidden: 4, balanceLossWeight: 0.1, zLossWeight: 0.01 });
    ffn.router.assign(tf.eye(3));
    const ctx = createForwardContext(1, 4, true);
    ffn.forward(tf.tensor2d(logits), ctx);
    const P = [0, 1, 2].map((i) => logits.map(softmax).reduce((a, p) => a + p[i]! / 4, 0));
    const f = [3 / 8, 3 / 8, 2 / 8]; // slots per expert: e0 {t0, t2, t3}, e1 {t0, t1, t3}, e2 {t1, t2}
    const balance = 3 * (f[0]! * P[0]! + f[1]! * P[1]! + f[2]! * P[2]!);
    const z = logits.reduce((a, r) => a + Math.log(r.reduce((s, v) => s + Math.exp(v), 0)) ** 2, 0) / 4;
    expect(ctx.auxLosses()['moe_balance_loss']!.dataSync()[0]).toBeCloseTo(0.1 * balance, 6);
    expect(ctx.auxLosses()['moe_z_loss']!.dataSync()[0]).toBeCloseTo(0.01 * z, 5);
    const m = ctx.metrics();
    expect(m['moe_balance']!.dataSync()[0]).toBeCloseTo(balance, 6);
    expect(m['moe_z']!.dataSync()[0]).toBeCloseTo(z, 4);
    expect(Array.from(m['moe_load']!.dataSync())).toEqual(f.map((v) => expect.closeTo(v, 7)));
    expect(m['moe_max_load_ratio']!.dataSync()[0]).toBeCloseTo(3 * (3 / 8), 6);
    expect(m['moe_dropped_fraction']!.dataSync()[0]).toBe(0);
    const entropy = logits.map(softmax).reduce((a, p) => a - p.reduce((s, v) => s + v * Math.log(v), 0), 0) / 4;
    expect(m['moe_router_entropy']!.dataSync()[0]).toBeCloseTo(entropy, 5);
    expect(Array.from(ffn.lastRouting!.selected)).toEqual([0, 1, 1, 2, 2, 0, 0, 1]);
    store.dispose();
  });

  it('a zero weight adds no auxiliary loss but still reports the metric', () => {
    const { ffn, store } = buildMoe({ dModel: 3 }, { experts: 3, topK: 1, expertHidden: 4, balanceLossWeight: 0 });
    const ctx = createForwardContext(1, 4, true);
    ffn.forward(tf.tensor2d(logits), ctx);
    expect(Object.keys(ctx.auxLosses())).toEqual([]);
    expect(Object.keys(ctx.metrics()).sort()).toEqual(['moe_balance', 'moe_dropped_fraction', 'moe_load', 'moe_max_load_ratio', 'moe_router_entropy', 'moe_z']);
    store.dispose();
  });
});

describe('capacity and token dropping', () => {
  it('capacity = ceil(c·N·k/E); 0 is dropless', () => {
    expect(expertCapacity(1, 5, 1, 2)).toBe(3);
    expect(expertCapacity(1.25, 2048, 2, 8)).toBe(640);
    expect(expertCapacity(1.1, 10, 2, 2)).toBe(11);
    expect(expertCapacity(0, 10, 2, 2)).toBe(Infinity);
  });

  it('drops rank-major, token-minor: first choices in token order, then second choices', () => {
    // N = 4, E = 3, k = 2, capacity ceil(1·4·2/3) = 3.
    // First choices: t0→0, t1→0, t2→1, t3→0 (expert 0 is full after them);
    // second choices: t0→1, t1→2, t2→0 (dropped: expert 0 is full), t3→1.
    const p = Float32Array.from([0.6, 0.3, 0.1, 0.5, 0.1, 0.4, 0.3, 0.6, 0.1, 0.7, 0.2, 0.1]);
    const plan = routeTokens(p, 3, 2, 1);
    expect(plan.capacity).toBe(3);
    expect(Array.from(plan.selected)).toEqual([0, 1, 0, 2, 1, 0, 0, 1]);
    expect(plan.routedCounts).toEqual([4, 3, 1]);
    expect(plan.expertCounts).toEqual([3, 3, 1]);
    expect(plan.dropped).toBe(1);
    // Kept slots (t·k + r) grouped by expert, in acceptance order.
    expect(Array.from(plan.keptSlots)).toEqual([0, 2, 6, 4, 1, 7, 3]);
    expect(Array.from(plan.keptTokens)).toEqual([0, 1, 3, 2, 0, 3, 1]);
    // Token-order first-come-first-served would have dropped t3's first choice instead.
    expect(Array.from(plan.keptSlots)).toContain(6);
    expect(Array.from(plan.keptSlots)).not.toContain(5);
  });

  it('a forward with a capacity factor zeroes exactly the dropped contributions and reports the count', () => {
    const { ffn, store } = buildMoe({ dModel: 4 }, { experts: 2, topK: 1, expertHidden: 5, capacityFactor: 1 });
    perturb(store, 0.3);
    // Router sends x to expert 0 when x₀ > x₁: tokens 0, 1, 3, 4 prefer expert 0 (capacity ceil(5/2) = 3).
    ffn.router.assign(
      tf.tensor2d([
        [1, 0],
        [0, 1],
        [0, 0],
        [0, 0],
      ]),
    );
    const x = tf.tensor2d([
      [2, 0, 1, -1],
      [1, 0, -1, 2],
      [0, 2, 1, 1],
      [3, 1, 0.5, -0.5],
      [1, -1, 2, 0],
    ]);
    const ctx = createForwardContext(1, 5, true);
    const y = ffn.forward(x, ctx);
    expect(ffn.lastRouting!.dropped).toBe(1);
    expect(Array.from(ffn.lastRouting!.keptTokens)).toEqual([0, 1, 3, 2]); // token 4 overflowed expert 0
    const selected = tf.tensor2d([
      [1, 0],
      [1, 0],
      [0, 1],
      [1, 0],
      [1, 0],
    ]);
    const keep = tf.tensor2d([
      [1, 0],
      [1, 0],
      [0, 1],
      [1, 0],
      [0, 0],
    ]);
    expect(relDiff(y, denseReference(ffn, x, selected, keep))).toBeLessThan(1e-6);
    expect(Array.from(tf.slice(y, [4, 0], [1, 4]).dataSync(), Math.abs)).toEqual([0, 0, 0, 0]);
    const m = ctx.metrics();
    expect(m['moe_dropped_fraction']!.dataSync()[0]).toBeCloseTo(1 / 5, 7);
    expect(Array.from(m['moe_load']!.dataSync())).toEqual([expect.closeTo(0.8, 6), expect.closeTo(0.2, 6)]); // routed, before dropping
    store.dispose();
  });
});

describe('gradients match finite differences', () => {
  it.each<[string, Partial<MoeConfig>]>([
    ['top-2 with balance and z losses', { experts: 4, topK: 2, expertHidden: 6, balanceLossWeight: 0.5, zLossWeight: 0.05 }],
    ['top-1 with a shared expert', { experts: 4, topK: 1, expertHidden: 6, sharedExperts: 1, balanceLossWeight: 0.5 }],
    ['top-2 renormalized', { experts: 4, topK: 2, expertHidden: 6, renormalize: true, balanceLossWeight: 0.5 }],
  ])('%s: router, experts, shared', (_name, raw) => {
    const { ffn, store } = buildMoe(dims, raw, 5);
    perturb(store, 0.4, 21); // away from init: gradients well above float32 noise
    const N = 16;
    const x = tf.randomNormal([N, 8], 0, 1, 'float32', 3) as tf.Tensor2D;
    const dy = tf.randomNormal([N, 8], 0, 1, 'float32', 4);
    const selections = new Set<string>();
    const loss = () =>
      tf.tidy(() => {
        const ctx = createForwardContext(1, N, true);
        const y = ffn.forward(x, ctx);
        selections.add(Array.from(ffn.lastRouting!.selected).join());
        return tf.addN([tf.sum(tf.mul(y, dy)), ...Object.values(ctx.auxLosses())]) as tf.Scalar;
      });
    const params = store.list();
    const checks = checkGradients(
      loss,
      params.map((p) => p.variable),
      { eps: 1e-2, seed: 9 },
    );
    // No perturbation flipped a routing decision, so the loss is smooth between the probes.
    expect(selections.size).toBe(1);
    for (const [i, c] of checks.entries()) {
      expect(c.relError, `${params[i]!.name}: analytic ${c.analytic} numeric ${c.numeric}`).toBeLessThan(1e-2);
      expect(Math.abs(c.analytic), `${params[i]!.name} gradient is not trivially zero`).toBeGreaterThan(1e-3);
    }
    expect(params.map((p) => p.name)).toEqual(expect.arrayContaining(['ffn.router', 'ffn.experts.0.w1', 'ffn.experts.3.w2']));
    store.dispose();
  });
});

describe('accounting', () => {
  it('FLOPs = 2·D·E + k·6·D·H + shared; active params = router + k experts + shared', () => {
    const { ffn, store } = buildMoe(dims, { experts: 8, topK: 2, expertHidden: 6, sharedExperts: 1, sharedHidden: 4 });
    const D = 8;
    expect(ffn.flopsPerToken()).toBe(2 * D * 8 + 2 * 6 * D * 6 + 6 * D * 4);
    expect(ffn.activeParams()).toBe(D * 8 + 2 * 3 * D * 6 + 3 * D * 4);
    expect(store.count()).toBe(D * 8 + 8 * 3 * D * 6 + 3 * D * 4);
    store.dispose();
  });

  it('with the defaults, active FFN params equal the dense SwiGLU FFN plus the router', () => {
    const { ffn, store } = buildMoe({ ...dims, ffnHidden: 688, dModel: 256 }, {});
    expect(ffn.activeParams()).toBe(3 * 256 * 688 + 256 * 8);
    store.dispose();
  });
});
