import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { assembleModel, ByteTokenizer, checkGradients, corpusFromText, createForwardContext, resolveRunConfig, Trainer, type TrainRecord } from '@vwn/core';
import { moeRoutingStats } from '@vwn/moe';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const text =
  'It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of foolishness, ' +
  'it was the epoch of belief, it was the epoch of incredulity, it was the season of Light, it was the season of Darkness. ' +
  'Sphinx of black quartz, judge my vow! The five boxing wizards jump quickly; 0123456789 pack my box with jugs. ';
const corpus = corpusFromText(text.repeat(12), { name: 'moe-test', tokenizer: new ByteTokenizer() });

describe('MoE FFN inside a model', () => {
  it('is assembled by id, counts active parameters, and reports per-layer metrics', () => {
    const model = assembleModel({ vocabSize: 256, dModel: 32, layers: 2, heads: 4, seqLen: 16, ffn: { use: 'moe', experts: 8, topK: 2 } });
    expect(model.config.ffn).toMatchObject({ use: 'moe', experts: 8, topK: 2, expertHidden: 44 }); // ffnHidden 88 / 2
    const row = model.accounting().find((r) => r.component === 'layers.0.ffn')!;
    expect(row.plugin).toBe('moe');
    expect(row.params).toBe(32 * 8 + 8 * 3 * 32 * 44);
    expect(row.activeParams).toBe(32 * 8 + 2 * 3 * 32 * 44);
    expect(row.flopsPerToken).toBe(2 * 32 * 8 + 2 * 6 * 32 * 44);

    const rows = tf.randomUniform([2, 17], 0, 256, 'int32', 1) as tf.Tensor2D;
    const { total, terms, metrics } = model.loss(rows, { training: true });
    expect(Object.keys(terms).sort()).toEqual(['loss', 'moe_balance_loss']);
    // Balance loss summed over 2 layers, each α·E·Σ f·P ≈ α at a near-uniform router.
    expect(terms['moe_balance_loss']!.dataSync()[0]).toBeCloseTo(2 * 0.01, 2);
    expect(total.dataSync()[0]).toBeCloseTo(terms['loss']!.dataSync()[0]! + terms['moe_balance_loss']!.dataSync()[0]!, 5);
    expect(metrics['moe_load']!.shape).toEqual([8]);
    expect(metrics['moe_load']!.sum().dataSync()[0]).toBeCloseTo(1, 5);
    tf.dispose([rows, total, ...Object.values(terms), ...Object.values(metrics)]);

    // Metrics are the mean over layers of moeRoutingStats; the aux loss is the sum.
    const ids = tf.randomUniform([2, 16], 0, 256, 'int32', 2) as tf.Tensor2D;
    const ctx = createForwardContext(2, 16, true);
    const { state } = model.forward(ids, ctx);
    const stats = moeRoutingStats(ctx);
    expect(stats.map((s) => s.layer)).toEqual([0, 1]);
    const m = ctx.metrics();
    expect(m['moe_max_load_ratio']!.dataSync()[0]).toBeCloseTo((stats[0]!.maxLoadRatio + stats[1]!.maxLoadRatio) / 2, 5);
    expect(m['moe_router_entropy']!.dataSync()[0]).toBeCloseTo((stats[0]!.routerEntropy + stats[1]!.routerEntropy) / 2, 5);
    expect(ctx.auxLosses()['moe_balance_loss']!.dataSync()[0]).toBeCloseTo(0.01 * (stats[0]!.balanceLoss + stats[1]!.balanceLoss), 6);
    tf.dispose([ids, state, ...Object.values(m)]);
    ctx.dispose();
    model.dispose();
  });

  it("a training step of a 2-layer model leaks no tensor (aux losses and metrics survive the connections' tidy)", () => {
    const model = assembleModel({ vocabSize: 64, dModel: 16, layers: 2, heads: 2, seqLen: 8, ffn: { use: 'moe', experts: 4, zLossWeight: 1e-3 } });
    const rows = tf.randomUniform([2, 9], 0, 64, 'int32', 3) as tf.Tensor2D;
    const vars = model.params.list().map((p) => p.variable);
    const step = () => {
      let owned: tf.Tensor[] = [];
      const { value, grads } = tf.variableGrads(() => {
        const out = model.loss(rows, { training: true });
        owned = [...Object.values(out.terms), ...Object.values(out.metrics)];
        return out.total;
      }, vars);
      expect(owned.every((t) => !t.isDisposed)).toBe(true);
      tf.dispose([value, ...Object.values(grads), ...owned]);
    };
    step();
    const before = tf.memory().numTensors;
    step();
    step();
    expect(tf.memory().numTensors).toBe(before);
    rows.dispose();
    model.dispose();
  });

  it('model gradients (router and experts through attention and norms) match finite differences', () => {
    const model = assembleModel({
      vocabSize: 11,
      dModel: 8,
      layers: 1,
      heads: 2,
      seqLen: 6,
      seed: 2,
      ffn: { use: 'moe', experts: 4, topK: 2, expertHidden: 6, sharedExperts: 1, zLossWeight: 0.01 },
    });
    model.params
      .list()
      .forEach((p, i) =>
        tf.tidy(() => p.variable.assign(tf.add(p.name.endsWith('gain') ? 1 : 0, tf.randomNormal(p.variable.shape, 0, 0.4, 'float32', 1000 + i)))),
      );
    const rows = tf.randomUniform([4, 7], 0, 11, 'int32', 5) as tf.Tensor2D;
    const ffnParams = model.params.list().filter((p) => p.name.startsWith('layers.0.ffn.'));
    const checks = checkGradients(
      () => model.loss(rows, { training: true }).total,
      ffnParams.map((p) => p.variable),
      {
        eps: 1e-3, // small enough that no perturbation flips a top-k routing decision (a discontinuity)
        floor: 1e-3, // a rarely chosen expert's gradient is compared absolutely below this
      },
    );
    for (const [i, c] of checks.entries()) {
      expect(c.relError, `${ffnParams[i]!.name}: analytic ${c.analytic} numeric ${c.numeric}`).toBeLessThan(2e-2);
    }
    rows.dispose();
    model.dispose();
  });

  /** 40 AdamW steps on the text above; returns every step's record and each layer's final max load ratio. */
  async function train(ffn: Record<string, unknown>): Promise<{ records: TrainRecord[]; finalRatios: number[] }> {
    const config = resolveRunConfig(
      {
        dModel: 32,
        layers: 2,
        heads: 4,
        seqLen: 32,
        ffn: { use: 'moe', ...ffn },
        train: { batchSize: 8, steps: 40, lr: 1e-3, warmupSteps: 5, evalEvery: 0, evalBatches: 1, checkpointEvery: 0 },
      },
      corpus.tokenizer.vocabSize,
    );
    const trainer = await Trainer.create({ config, corpus });
    const records: TrainRecord[] = [];
    while (trainer.step < config.train.steps) records.push(await trainer.trainStep());
    // Per layer (core averages metrics over layers), on a batch of training text.
    const ids = tf.tensor2d(Array.from(corpus.train.slice(0, 8 * 32)), [8, 32], 'int32');
    const ctx = createForwardContext(8, 32, true);
    const { state } = trainer.model.forward(ids, ctx);
    const finalRatios = moeRoutingStats(ctx).map((s) => s.maxLoadRatio);
    tf.dispose([ids, state]);
    ctx.dispose();
    trainer.dispose();
    return { records, finalRatios };
  }
  const ratio = (r: TrainRecord) => r.metrics['moe_max_load_ratio'] as number;
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

  it('40 AdamW steps lower the loss; the balance loss keeps expert load within 2× of fair, and without it routing collapses', async () => {
    const balanced = await train({ experts: 8, topK: 2 });
    const collapsed = await train({ experts: 8, topK: 2, balanceLossWeight: 0 });
    const { records } = balanced;
    const show = (rs: TrainRecord[]) => rs.map((r) => ratio(r).toFixed(2)).join(' ');
    console.log(
      `loss ${records[0]!.loss.toFixed(3)} → ${records.at(-1)!.loss.toFixed(3)}\n` +
        `max load ratio per step (mean of layers), α = 0.01: ${show(records)}; final per layer ${balanced.finalRatios.map((r) => r.toFixed(2))}\n` +
        `max load ratio per step (mean of layers), α = 0:    ${show(collapsed.records)}; final per layer ${collapsed.finalRatios.map((r) => r.toFixed(2))}`,
    );
    expect(records.at(-1)!.loss).toBeLessThan(records[0]!.loss - 0.8);
    expect(records[0]!.terms['moe_balance_loss']).toBeGreaterThan(0);
    expect((records[0]!.metrics['moe_load'] as number[]).length).toBe(8);
    // After warm-up the load settles within 2× of the fair share, in every layer.
    expect(mean(records.slice(-10).map(ratio))).toBeLessThanOrEqual(2);
    expect(balanced.finalRatios.length).toBe(2);
    for (const r of balanced.finalRatios) expect(r).toBeLessThanOrEqual(2);
    // Control: without the balance loss the router sends (nearly) every token to one expert (ratio → E/k = 4).
    expect(mean(collapsed.records.slice(-10).map(ratio))).toBeGreaterThan(3);
  });
});
