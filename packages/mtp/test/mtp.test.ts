import { describe, expect, it, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import {
  assembleModel,
  checkGradients,
  createForwardContext,
  crossEntropy,
  ConfigError,
  resolveModelConfig,
  restoreWeights,
  type Model,
  type ModelConfig,
  registerPlugin,
} from '@vwn/core';
import { saveCheckpoint, loadCheckpoint } from '@vwn/core/node';
import { mtp, type MtpModule } from '@vwn/mtp';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dims: ModelConfig = { vocabSize: 13, dModel: 8, layers: 1, heads: 2, seqLen: 7, ffnHidden: 12, seed: 2 };

/** Runs the main model and MTP's modules on `rows`, returning module logits as arrays. */
function predictions(model: Model, rows: tf.Tensor2D) {
  return tf.tidy(() => {
    const [B, W] = rows.shape;
    const ctx = createForwardContext(B, W - 1, false);
    const { state } = model.forward(tf.slice(rows, [0, 0], [B, W - 1]) as tf.Tensor2D, ctx);
    const preds = (model.objectives[0]!.module as MtpModule).predict(rows, state, ctx);
    return preds.map((p) => ({
      logits: p.logits.arraySync() as number[][],
      targets: Array.from(p.targets.dataSync()),
      mask: Array.from(p.mask.dataSync()),
    }));
  });
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('mtp objective', () => {
  it('validates its config', () => {
    expect(() => resolveModelConfig({ ...dims, objectives: [{ use: 'mtp', depth: 0 }] })).toThrow(/objectives\[0\]\.depth: must be >= 1/);
    expect(() => resolveModelConfig({ ...dims, objectives: [{ use: 'mtp', depth: 6 }] })).toThrow(ConfigError);
    expect(() => resolveModelConfig({ ...dims, objectives: [{ use: 'mtp', lambda: 1 }] })).toThrow(
      /objectives\[0\]\.lambda: unknown field; allowed here: depth, weight/,
    );
    expect(resolveModelConfig({ ...dims, objectives: [mtp()] }).resolvedConfig.objectives).toEqual([{ use: 'mtp', depth: 1, weight: 0.3 }]);
  });

  it('no leakage: module i at position t depends on no token after t+i', () => {
    const model = assembleModel({ ...dims, objectives: [mtp({ depth: 2 })] });
    const base = [1, 2, 3, 4, 5, 6, 7, 8];
    const ref = predictions(model, tf.tensor2d([base], [1, 8], 'int32'));
    for (let i = 1; i <= 2; i++) {
      for (let t = 0; t < 7; t++) {
        // Change every token after t+i.
        const changed = base.map((v, j) => (j > t + i ? (v + 5) % 13 : v));
        const got = predictions(model, tf.tensor2d([changed], [1, 8], 'int32'));
        for (let v = 0; v < 13; v++) expect(got[i - 1]!.logits[t]![v]).toBeCloseTo(ref[i - 1]!.logits[t]![v]!, 5);
      }
      // …while changing token t+i itself does change module i's output at t.
      const changed = base.map((v, j) => (j === 2 + i ? (v + 5) % 13 : v));
      const got = predictions(model, tf.tensor2d([changed], [1, 8], 'int32'));
      expect(Math.abs(got[i - 1]!.logits[2]![0]! - ref[i - 1]!.logits[2]![0]!)).toBeGreaterThan(1e-6);
    }
    model.dispose();
  });

  it('targets are aligned: module i at t predicts token t+i+1; positions without one are masked', () => {
    const model = assembleModel({ ...dims, objectives: [mtp({ depth: 2 })] });
    const seq = [
      [3, 1, 4, 1, 5, 9, 2, 6],
      [2, 7, 1, 8, 2, 8, 1, 8],
    ];
    const rows = tf.tensor2d(seq, [2, 8], 'int32');
    const preds = predictions(model, rows);
    const T = 7;
    for (const [k, p] of preds.entries()) {
      const i = k + 1;
      for (let b = 0; b < 2; b++) {
        for (let t = 0; t < T; t++) {
          const has = t + i + 1 <= T;
          expect(p.mask[b * T + t]).toBe(has ? 1 : 0);
          if (has) expect(p.targets[b * T + t]).toBe(seq[b]![t + i + 1]);
        }
      }
      // The logged loss equals the masked mean CE computed by hand.
      let sum = 0;
      let count = 0;
      for (let b = 0; b < 2; b++) {
        for (let t = 0; t + i + 1 <= T; t++) {
          const z = p.logits[b * T + t]!;
          const max = Math.max(...z);
          const lse = max + Math.log(z.reduce((a, v) => a + Math.exp(v - max), 0));
          sum += lse - z[seq[b]![t + i + 1]!]!;
          count++;
        }
      }
      const { terms, total } = model.loss(rows, { training: true });
      expect(terms[`next${i + 1}_loss`]!.dataSync()[0]).toBeCloseTo(sum / count, 5);
      tf.dispose([total, ...Object.values(terms)]);
    }
    model.dispose();
  });

  it('total loss = main + λ · mean of module losses', () => {
    const model = assembleModel({ ...dims, objectives: [mtp({ depth: 2, weight: 0.7 })] });
    const rows = tf.randomUniform([3, 8], 0, 13, 'int32', 4) as tf.Tensor2D;
    const { total, terms } = model.loss(rows, { training: true });
    const v = (k: string) => terms[k]!.dataSync()[0]!;
    expect(total.dataSync()[0]).toBeCloseTo(v('loss') + 0.7 * ((v('next2_loss') + v('next3_loss')) / 2), 5);
    model.dispose();
  });

  it('shared embedding and head get gradient from both objectives; all gradients match finite differences', () => {
    const model = assembleModel({ ...dims, objectives: [mtp()] });
    model.params
      .list()
      .forEach((p, i) =>
        tf.tidy(() => p.variable.assign(tf.add(p.name.endsWith('gain') ? 1 : 0, tf.randomNormal(p.variable.shape, 0, 0.4, 'float32', 100 + i)))),
      );
    const rows = tf.randomUniform([2, 8], 0, 13, 'int32', 9) as tf.Tensor2D;
    const shared = ['embedding.table', 'head.unembed', 'head.norm.gain'].map((n) => model.params.get(n)!.variable);
    // Gradient of the MTP term alone reaches the shared embedding and head.
    const mtpOnly = () => {
      const { terms } = model.loss(rows, { training: true });
      return terms['next2_loss']!;
    };
    const { grads } = tf.variableGrads(mtpOnly, shared);
    for (const v of shared) expect(tf.tidy(() => tf.norm(grads[v.name]!).dataSync()[0]!)).toBeGreaterThan(1e-3);
    const vars = model.params.list().map((p) => p.variable);
    const checks = checkGradients(() => model.loss(rows, { training: true }).total, vars, { eps: 2e-3 });
    const names = model.params.list().map((p) => p.name);
    expect(names).toEqual(expect.arrayContaining(['objectives.mtp.0.proj', 'objectives.mtp.0.e_norm.gain', 'objectives.mtp.0.layer.ffn.w1']));
    for (const [i, c] of checks.entries()) expect(c.relError, `${names[i]}: ${c.analytic} vs ${c.numeric}`).toBeLessThan(2e-2);
    model.dispose();
  });

  it('works for the baseline with m = 1: W_blk is the dense 2D → D projection', () => {
    const model = assembleModel({ ...dims, objectives: [mtp()] });
    expect(model.params.get('objectives.mtp.0.proj')!.variable.shape).toEqual([16, 8]);
    const row = model.accounting().find((r) => r.component === 'objectives.mtp')!;
    expect(row.params).toBe(8 + 8 + 16 * 8 + model.params.count('objectives.mtp.0.layer.'));
    model.dispose();
  });

  it('a checkpoint with MTP loads into a model without it (next-token path unchanged)', async () => {
    const withMtp = assembleModel({ ...dims, objectives: [mtp()] });
    const dir = await mkdtemp(join(tmpdir(), 'vwn-mtp-'));
    const path = join(dir, 'c.safetensors');
    await saveCheckpoint(path, withMtp.params, null, {
      config: {},
      tokenizer: { kind: 'bytes' },
      trainer: { step: 0, tokens: 0, batchIndex: 0, elapsedMs: 0 },
    });
    const without = assembleModel({ ...dims, seed: 99 });
    restoreWeights(await loadCheckpoint(path), without.params, null);
    const ids = tf.tensor2d([[1, 2, 3, 4, 5, 6, 7]], [1, 7], 'int32');
    expect(Array.from(without.logits(ids).dataSync())).toEqual(Array.from(withMtp.logits(ids).dataSync()));
    withMtp.dispose();
    without.dispose();
  });

  it('module layers see the CE mask as ForwardContext.validPositions; the main model sees none', () => {
    // A probe FFN (adds nothing) that records what each forward's context says.
    const seen: Array<number[] | null> = [];
    registerPlugin({
      specificationVersion: 'v2',
      kind: 'ffn',
      id: 'probe-valid-positions',
      description: 'test probe',
      parseConfig: () => ({}),
      create: () => ({
        forward: (x, ctx) => {
          seen.push(ctx.validPositions ? Array.from(ctx.validPositions.dataSync()) : null);
          return tf.mul(x, 0) as tf.Tensor2D;
        },
        flopsPerToken: () => 0,
      }),
    });
    const model = assembleModel({ ...dims, ffn: { use: 'probe-valid-positions' }, objectives: [mtp({ depth: 2 })] });
    const rows = tf.tensor2d(
      [
        [1, 2, 3, 4, 5, 6, 7, 8],
        [8, 7, 6, 5, 4, 3, 2, 1],
      ],
      undefined,
      'int32',
    ); // B = 2, T = 7
    const { total, terms, metrics } = model.loss(rows, { training: true });
    const row = (i: number) => Array.from({ length: 7 }, (_, t) => (t + i + 1 <= 7 ? 1 : 0));
    expect(seen).toEqual([null, [...row(1), ...row(1)], [...row(2), ...row(2)]]);
    tf.dispose([rows, total, ...Object.values(terms), ...Object.values(metrics)]);
    model.dispose();
  });

  it('masked positions contribute nothing to a module loss', () => {
    const logits = tf.tensor2d([
      [0, 0],
      [5, -5],
    ]);
    const t = tf.tensor1d([0, 1], 'int32');
    expect(crossEntropy(logits, t, tf.tensor1d([1, 0])).dataSync()[0]).toBeCloseTo(Math.log(2), 6);
  });
});

describe('mtp with virtual width (DGHC)', () => {
  const vwnDims: ModelConfig = {
    ...dims,
    dModel: 8,
    embedding: { use: 'over-width', m: 2, n: 4 },
    connection: { use: 'dynamic-ghc', m: 2, n: 4 },
    objectives: [mtp()],
  };

  it("reuses the model's GHC connection and over-width head, without leakage", async () => {
    await import('@vwn/embedding');
    await import('@vwn/ghc');
    const model = assembleModel(vwnDims);
    const names = model.params.list().map((p) => p.name);
    // The MTP layer is wrapped by the model's own connection plugin; proj is block-level 2·d_b → d_b.
    expect(names).toEqual(expect.arrayContaining(['objectives.mtp.0.layer.mixer_connection.dynamic.w', 'objectives.mtp.0.proj']));
    expect(model.params.get('objectives.mtp.0.proj')!.variable.shape).toEqual([8, 4]);
    const base = [1, 2, 3, 4, 5, 6, 7, 8];
    const ref = predictions(model, tf.tensor2d([base], [1, 8], 'int32'));
    const changed = base.map((v, j) => (j > 3 ? (v + 3) % 13 : v)); // tokens after t+1 for t = 2
    const got = predictions(model, tf.tensor2d([changed], [1, 8], 'int32'));
    for (let v = 0; v < 13; v++) expect(got[0]!.logits[2]![v]).toBeCloseTo(ref[0]!.logits[2]![v]!, 5);
    model.dispose();
  });

  it('trains: next-token and next-2 losses both fall', async () => {
    await import('@vwn/embedding');
    await import('@vwn/ghc');
    const { Trainer, corpusFromText, ByteTokenizer, resolveRunConfig } = await import('@vwn/core');
    const text = 'abcdefghij'.repeat(200);
    const corpus = corpusFromText(text, { name: 'abc', tokenizer: new ByteTokenizer() });
    const { vocabSize: _v, ...model } = vwnDims;
    const config = resolveRunConfig(
      {
        ...model,
        dModel: 16,
        heads: 2,
        seqLen: 16,
        embedding: { use: 'over-width', m: 2, n: 4 },
        connection: { use: 'dynamic-ghc', m: 2, n: 4 },
        train: { steps: 30, batchSize: 4, lr: 1e-2, warmupSteps: 3 },
      },
      256,
    );
    const trainer = await Trainer.create({ config, corpus });
    const first = await trainer.trainStep();
    let last = first;
    while (trainer.step < 30) last = await trainer.trainStep();
    expect(last.loss).toBeLessThan(first.loss - 1);
    expect(last.terms['next2_loss']!).toBeLessThan(first.terms['next2_loss']! - 1);
    trainer.dispose();
  });
});
