import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { createForwardContext, type ForwardContext } from '@vwn/core';
import { layerStats, routeTokens, type MoeConfig } from '@vwn/moe';
import { buildMoe, denseReference, perturb } from './helpers.js';
import { hostRoutedForward } from './host_reference.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Max |a − b| relative to max(1, max |b|). */
function relDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]! / Math.max(1, tf.max(tf.abs(b)).dataSync()[0]!));
}
const value = (t: tf.Tensor) => t.dataSync()[0]!;

describe('device routing equals the host-routed implementation it replaced (cpu)', () => {
  const cases: Array<[string, Partial<MoeConfig>]> = [
    ['top-1, capacity 1 (drops)', { experts: 4, topK: 1, capacityFactor: 1, balanceLossWeight: 0.3 }],
    ['top-2, capacity 1 (drops), z-loss', { experts: 4, topK: 2, capacityFactor: 1, balanceLossWeight: 0.3, zLossWeight: 0.05 }],
    ['top-2 dropless + shared expert', { experts: 4, topK: 2, sharedExperts: 1, balanceLossWeight: 0.3 }],
    ['top-2 renormalized, capacity 1.25', { experts: 4, topK: 2, renormalize: true, capacityFactor: 1.25, balanceLossWeight: 0.3 }],
  ];
  const sizings = ['capacity', 'counts'] as const;
  it.each(cases.flatMap(([name, raw]) => sizings.map((s) => [`${name}, ${s}-sized buffer`, raw, s] as const)))(
    '%s: loss, every gradient, metrics and plan to 1e-6; deterministic',
    (_name, raw, sizing) => {
      const { ffn, store } = buildMoe({ dModel: 8, ffnHidden: 12 }, { expertHidden: 6, ...raw }, 3);
      perturb(store, 0.5);
      ffn.bufferSizing = sizing;
      const N = 32;
      const x = tf.variable(tf.randomNormal([N, 8], 0, 1, 'float32', 11)) as tf.Variable<tf.Rank.R2>;
      const dy = tf.randomNormal([N, 8], 0, 1, 'float32', 12);
      const vars = [x, ...store.list().map((p) => p.variable)];
      const run = (forward: (ctx: ForwardContext) => tf.Tensor2D) => {
        const ctx = createForwardContext(1, N, true);
        const out = tf.variableGrads(() => tf.tidy(() => tf.addN([tf.sum(tf.mul(forward(ctx), dy)), ...Object.values(ctx.auxLosses())]) as tf.Scalar), vars);
        return { ...out, ctx };
      };
      let ref: ReturnType<typeof hostRoutedForward> | null = null;
      const host = run((ctx) => (ref = hostRoutedForward(ffn, x, ctx)).y);
      const device = run((ctx) => ffn.forward(x, ctx));
      const again = run((ctx) => ffn.forward(x, ctx));
      const { plan, stats } = ref!;
      if (raw.capacityFactor) expect(plan.dropped, 'the case drops slots').toBeGreaterThan(0);

      expect(Math.abs(value(device.value) - value(host.value))).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(value(host.value))));
      for (const v of vars) {
        const want = host.grads[v.name]!;
        expect(relDiff(device.grads[v.name] ?? tf.zerosLike(want), want), v.name).toBeLessThanOrEqual(1e-6);
        expect(Array.from(again.grads[v.name]?.dataSync() ?? []), `${v.name} deterministic`).toEqual(Array.from(device.grads[v.name]?.dataSync() ?? []));
      }
      expect(value(again.value)).toBe(value(device.value));
      const aux = device.ctx.auxLosses();
      const hostAux = host.ctx.auxLosses();
      expect(Object.keys(aux).sort()).toEqual(Object.keys(hostAux).sort());
      for (const name of Object.keys(hostAux)) expect(Math.abs(value(aux[name]!) - value(hostAux[name]!)), name).toBeLessThanOrEqual(1e-6);

      const m = device.ctx.metrics();
      expect(Array.from(m['moe_load']!.dataSync())).toEqual(stats.load.map((v) => expect.closeTo(v, 6)));
      expect(value(m['moe_max_load_ratio']!)).toBeCloseTo(stats.maxLoadRatio, 6);
      expect(value(m['moe_dropped_fraction']!)).toBeCloseTo(stats.droppedFraction, 6);
      expect(value(m['moe_balance']!)).toBeCloseTo(stats.balanceLoss, 6);
      expect(Math.abs(value(m['moe_z']!) - stats.zLoss)).toBeLessThanOrEqual(1e-6 * Math.max(1, stats.zLoss));
      expect(value(m['moe_router_entropy']!)).toBeCloseTo(stats.routerEntropy, 6);

      const got = ffn.lastRouting!;
      expect(Array.from(got.selected)).toEqual(Array.from(plan.selected));
      expect(Array.from(got.keptSlots)).toEqual(Array.from(plan.keptSlots));
      expect(got.expertCounts).toEqual(plan.expertCounts);
      expect(got.routedCounts).toEqual(plan.routedCounts);
      expect(got.dropped).toBe(plan.dropped);
      for (const r of [host, device, again]) {
        tf.dispose([r.value, ...Object.values(r.grads)]);
        r.ctx.dispose();
      }
      tf.dispose([x, dy, ...Object.values(aux), ...Object.values(hostAux), ...Object.values(m)]);
      ffn.dispose();
      store.dispose();
    },
  );
});

describe('masked positions (ForwardContext.validPositions)', () => {
  // B = 2 rows of T = 4 positions; the last two of each row are filler (as MTP's module 2 sees them).
  const valid = [1, 1, 0, 0, 1, 1, 0, 0];
  const real = [0, 1, 4, 5];
  // Router = first input coordinate → expert 0; every token prefers expert 0. Capacity ceil(1·8·1/2) = 4.
  const x = () =>
    tf.tensor2d([
      [2, 0, 1, -1],
      [1, 0, -1, 2],
      [3, 1, 0.5, -0.5],
      [1, -1, 2, 0],
      [1.5, 0, 1, 1],
      [2, 1, -1, 0],
      [4, 0, 0, 1],
      [1, 0, 2, 2],
    ]);
  const build = () => {
    const built = buildMoe({ dModel: 4 }, { experts: 2, topK: 1, expertHidden: 5, capacityFactor: 1, balanceLossWeight: 0.5, zLossWeight: 0.1 });
    perturb(built.store, 0.3);
    built.ffn.router.assign(
      tf.tensor2d([
        [1, 0],
        [0, 0.5],
        [0.2, 0],
        [0, 0.3],
      ]),
    );
    return built;
  };

  it.each(['capacity', 'counts'] as const)('a filler position never takes a capacity slot from a real token (%s-sized)', (sizing) => {
    const { ffn, store } = build();
    ffn.bufferSizing = sizing;
    const xs = x();
    // Without the mask, row 0's fillers (tokens 2, 3) fill expert 0 before row 1's real tokens 4, 5 arrive.
    const unmasked = ffn.forward(xs, createForwardContext(2, 4, false));
    expect(Array.from(ffn.lastRouting!.keptTokens)).toEqual([0, 1, 2, 3]);
    const ctx = Object.assign(createForwardContext(2, 4, true), { validPositions: tf.tensor1d(valid) });
    const y = ffn.forward(xs, ctx);
    const plan = ffn.lastRouting!;
    expect(Array.from(plan.keptTokens)).toEqual(real);
    expect(plan.dropped).toBe(0);
    expect(plan.routedCounts).toEqual([4, 0]);
    // Real tokens get expert 0's full output (the unmasked pass computed it for tokens 0, 1); fillers get nothing.
    const rows = (t: tf.Tensor2D, idx: number[]) => tf.gather(t, tf.tensor1d(idx, 'int32'));
    expect(relDiff(rows(y, [0, 1]), rows(unmasked, [0, 1]))).toBeLessThan(1e-6);
    // Every real token gets g·FFN_0(x), every filler nothing: the dense masked reference.
    const keep = tf.tensor2d(valid.map((v) => [v, 0]));
    expect(relDiff(y, denseReference(ffn, xs, tf.tensor2d(valid.map(() => [1, 0])), keep))).toBeLessThan(1e-6);
    expect(tf.max(tf.abs(rows(y, [4, 5]))).dataSync()[0]).toBeGreaterThan(1e-3);
    expect(Array.from(rows(y, [2, 3, 6, 7]).dataSync(), Math.abs)).toEqual(new Array(16).fill(0));
    ctx.dispose();
    store.dispose();
  });

  it('the balance loss, z-loss and metrics equal those over the real positions only; so do their gradients', () => {
    const { ffn, store } = build();
    const xs = x();
    const xReal = tf.gather(xs, tf.tensor1d(real, 'int32')) as tf.Tensor2D;
    const mask = tf.tensor1d(valid);
    const aux = (ctx: ReturnType<typeof createForwardContext>) => Object.values(ctx.auxLosses());
    let masked: ReturnType<typeof createForwardContext> | null = null;
    const got = tf.variableGrads(() => {
      masked = Object.assign(createForwardContext(2, 4, true), { validPositions: mask });
      ffn.forward(xs, masked);
      return tf.addN(aux(masked)) as tf.Scalar;
    }, [ffn.router]);
    // Reference: the host formulas on the real rows alone (balance: α·E·Σ f·P; z: β·mean lse²).
    const logits = tf.matMul(xReal, ffn.router);
    const refPlan = routeTokens(logits.dataSync(), 2, 1, 0);
    const ref = layerStats(logits.dataSync(), refPlan, -1);
    const want = tf.variableGrads(() => {
      const l = tf.matMul(xReal, ffn.router);
      const f = tf.tensor1d(refPlan.routedCounts.map((c) => c / 4));
      const balance = tf.mul(0.5 * 2, tf.sum(tf.mul(f, tf.mean(tf.softmax(l), 0))));
      return tf.add(balance, tf.mul(0.1, tf.mean(tf.square(tf.logSumExp(l, 1))))) as tf.Scalar;
    }, [ffn.router]);
    const ctx = masked!;
    expect(value(ctx.auxLosses()['moe_balance_loss']!)).toBeCloseTo(0.5 * ref.balanceLoss, 6);
    expect(value(ctx.auxLosses()['moe_z_loss']!)).toBeCloseTo(0.1 * ref.zLoss, 5);
    expect(Math.abs(value(got.value) - value(want.value))).toBeLessThan(1e-6);
    expect(relDiff(got.grads[ffn.router.name]!, want.grads[ffn.router.name]!)).toBeLessThan(1e-6);
    const m = ctx.metrics();
    expect(Array.from(m['moe_load']!.dataSync())).toEqual(ref.load.map((v) => expect.closeTo(v, 6))); // [1, 0]
    expect(value(m['moe_balance']!)).toBeCloseTo(ref.balanceLoss, 6);
    expect(value(m['moe_router_entropy']!)).toBeCloseTo(ref.routerEntropy, 6);
    expect(value(m['moe_dropped_fraction']!)).toBe(0);
    // Counting the fillers would give a different balance (the check is not vacuous).
    const all = layerStats(tf.matMul(xs, ffn.router).dataSync(), routeTokens(tf.matMul(xs, ffn.router).dataSync(), 2, 1, 0), -1);
    expect(Math.abs(all.balanceLoss - ref.balanceLoss)).toBeGreaterThan(1e-3);
    ctx.dispose();
    store.dispose();
  });
});
