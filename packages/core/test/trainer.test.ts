import { describe, expect, it, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  assembleModel,
  BatchSampler,
  ByteTokenizer,
  CheckpointError,
  corpusFromText,
  learningRate,
  NonFiniteLossError,
  resolveRunConfig,
  RUN_FILES,
  sampleTokens,
  Trainer,
  type RunConfigInput,
  type TrainRecord,
} from '@vwn/core';
import { loadCheckpoint, loadModelFromCheckpoint, runDirectory } from '@vwn/core/node';

const text = 'the quick brown fox jumps over the lazy dog. '.repeat(60) + 'pack my box with five dozen liquor jugs. '.repeat(40);
const corpus = corpusFromText(text, { name: 'test', tokenizer: new ByteTokenizer() });
const base: RunConfigInput = {
  dModel: 16,
  layers: 1,
  heads: 2,
  seqLen: 16,
  train: { batchSize: 4, steps: 12, lr: 1e-2, warmupSteps: 2, evalEvery: 4, evalBatches: 2, checkpointEvery: 4 },
};
const config = (over: Partial<RunConfigInput['train']> = {}) => resolveRunConfig({ ...base, train: { ...base.train, ...over } }, corpus.tokenizer.vocabSize);

async function losses(trainer: Trainer): Promise<number[]> {
  const out: number[] = [];
  while (trainer.step < trainer.config.train.steps) out.push((await trainer.trainStep()).loss);
  return out;
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('Trainer', () => {
  it('two runs with the same seeds give identical losses; another data seed differs', async () => {
    const a = await Trainer.create({ config: config(), corpus });
    const b = await Trainer.create({ config: config(), corpus });
    const c = await Trainer.create({ config: config({ seed: 7 }), corpus });
    const [la, lb, lc] = [await losses(a), await losses(b), await losses(c)];
    expect(la).toEqual(lb);
    expect(la).not.toEqual(lc);
    expect(la[la.length - 1]!).toBeLessThan(la[0]! - 0.5);
    [a, b, c].forEach((t) => t.dispose());
  });

  it('resume from a checkpoint continues loss-for-loss', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vwn-resume-'));
    const full = await Trainer.create({ config: config(), corpus });
    const reference = await losses(full);
    full.dispose();

    const first = await Trainer.create({ config: config({ steps: 12 }), corpus, store: runDirectory(dir) });
    for (let i = 0; i < 5; i++) await first.trainStep();
    await first.saveCheckpoint(); // "crash" after step 5
    first.dispose();
    const resumed = await Trainer.create({ config: config(), corpus, store: runDirectory(dir), resume: true });
    expect(resumed.step).toBe(5);
    const rest = await losses(resumed);
    expect(rest).toEqual(reference.slice(5));
    resumed.dispose();
  });

  it('run() writes metrics.jsonl; an interrupted run resumed gives the same records', async () => {
    const dirA = await mkdtemp(join(tmpdir(), 'vwn-run-'));
    const a = await Trainer.create({ config: config(), corpus, store: runDirectory(dirA) });
    await a.run();
    a.dispose();
    const dirB = await mkdtemp(join(tmpdir(), 'vwn-run-'));
    const b = await Trainer.create({
      config: config(),
      corpus,
      store: runDirectory(dirB),
      onRecord: (r) => r.step === 6 && r.type === 'train' && b.requestStop(),
    });
    await b.run();
    expect(b.step).toBe(6);
    b.dispose();
    const b2 = await Trainer.create({ config: config(), corpus, store: runDirectory(dirB), resume: true });
    await b2.run();
    b2.dispose();
    const strip = (s: string) =>
      s
        .trim()
        .split('\n')
        .map((l) => {
          const r = JSON.parse(l);
          return r.type === 'train' ? { step: r.step, loss: r.loss, gradNorm: r.gradNorm, lr: r.lr } : r;
        });
    const ra = strip(await readFile(join(dirA, RUN_FILES.metrics), 'utf8'));
    const rb = strip(await readFile(join(dirB, RUN_FILES.metrics), 'utf8'));
    expect(rb).toEqual(ra);
    expect(ra.filter((r: { type?: string }) => r.type === 'eval').map((r: { step: number }) => r.step)).toEqual([0, 4, 8, 12]);
  });

  it('does not leak tensors over 50 steps', async () => {
    const t = await Trainer.create({ config: config({ steps: 50, accumulate: 2 }), corpus });
    const counts: number[] = [];
    for (let i = 0; i < 50; i++) counts.push((await t.trainStep()).tensors);
    await t.evaluate();
    expect(new Set(counts.slice(2)).size).toBe(1);
    expect(tf.memory().numTensors).toBe(counts[counts.length - 1]);
    t.dispose();
  });

  it('gradient accumulation: loss and gradient are the means over the micro-batches', async () => {
    const cfg = config({ steps: 3, clipNorm: 0, accumulate: 2 });
    const acc = await Trainer.create({ config: cfg, corpus });
    const ref = assembleModel(cfg.model); // same seed, same init
    const sampler = new BatchSampler(corpus.train, { batchSize: 2, seqLen: 16, seed: 0 });
    const vars = ref.params.list().map((p) => p.variable);
    const micro = [0, 1].map((i) => {
      const b = sampler.batch(i);
      const rows = tf.tensor2d(b.tokens, [b.batchSize, b.width], 'int32');
      const { value, grads } = tf.variableGrads(() => ref.loss(rows, { training: true }).total, vars);
      return { loss: value.dataSync()[0]!, grads: vars.map((v) => grads[v.name]!) };
    });
    const meanNorm = tf.tidy(() =>
      Math.sqrt(vars.reduce((s, _, i) => s + tf.sum(tf.square(tf.div(tf.add(micro[0]!.grads[i]!, micro[1]!.grads[i]!), 2))).dataSync()[0]!, 0)),
    );
    const r = await acc.trainStep();
    expect(r.loss).toBeCloseTo((micro[0]!.loss + micro[1]!.loss) / 2, 5);
    expect(r.gradNorm).toBeCloseTo(meanNorm, 5);
    expect(r.tokens).toBe(4 * 16);
    acc.dispose();
    ref.dispose();
  });

  it('stops with a clear error naming the step on a non-finite loss', async () => {
    const t = await Trainer.create({ config: config({ lr: 1e-2 }), corpus });
    await t.trainStep();
    await t.trainStep();
    const w = t.model.params.get('layers.0.ffn.w1')!.variable;
    tf.tidy(() => w.assign(tf.fill(w.shape, NaN)));
    await expect(t.trainStep()).rejects.toThrow(NonFiniteLossError);
    try {
      await t.trainStep();
    } catch (e) {
      // Steps 1 and 2 completed (metrics.jsonl numbering); step 3 failed.
      expect((e as NonFiniteLossError).step).toBe(3);
      expect((e as Error).message).toMatch(/non-finite loss \(NaN\) at step 3/);
    }
    t.dispose();
  });

  it('refuses a truncated or corrupted checkpoint without touching the model', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vwn-ckpt-'));
    const t = await Trainer.create({ config: config(), corpus, store: runDirectory(dir) });
    await t.trainStep();
    await t.saveCheckpoint();
    const path = join(dir, RUN_FILES.checkpoint);
    const bytes = await readFile(path);
    const ok = await loadCheckpoint(path);
    expect(ok.state.trainer.step).toBe(1);
    await writeFile(path, bytes.subarray(0, bytes.length - 100));
    await expect(loadCheckpoint(path)).rejects.toThrow(CheckpointError);
    await expect(loadCheckpoint(path)).rejects.toThrow(/truncated or corrupted/);
    const flipped = Uint8Array.from(bytes);
    flipped[flipped.length - 3] ^= 0x40;
    await writeFile(path, flipped);
    await expect(loadCheckpoint(path)).rejects.toThrow(/SHA-256/);
    const before = Array.from(t.model.params.get('embedding.table')!.variable.dataSync());
    await expect(Trainer.create({ config: config(), corpus, store: runDirectory(dir), resume: true })).rejects.toThrow(CheckpointError);
    expect(Array.from(t.model.params.get('embedding.table')!.variable.dataSync())).toEqual(before);
    t.dispose();
  });

  it('a checkpoint rebuilds the model for generation', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vwn-gen-'));
    const t = await Trainer.create({ config: config(), corpus, store: runDirectory(dir) });
    await t.run();
    const { model, tokenizer } = await loadModelFromCheckpoint(join(dir, RUN_FILES.checkpoint));
    const ids = tokenizer.encode('the ');
    const a = await sampleTokens(model, ids, { maxTokens: 20, temperature: 0 });
    const b = await sampleTokens(t.model, ids, { maxTokens: 20, temperature: 0 });
    expect(a).toEqual(b);
    expect(a.length).toBe(20);
    const s1 = await sampleTokens(model, ids, { maxTokens: 10, temperature: 1, topK: 5, seed: 3 });
    const s2 = await sampleTokens(model, ids, { maxTokens: 10, temperature: 1, topK: 5, seed: 3 });
    expect(s1).toEqual(s2);
    model.dispose();
    t.dispose();
  });
});

describe('learning-rate schedule', () => {
  const cfg = { lr: 1, minLr: 0.1, warmupSteps: 10, schedule: 'cosine' as const, totalSteps: 110 };
  it('warms up linearly, then decays by cosine to minLr', () => {
    expect(learningRate(cfg, 0)).toBeCloseTo(0.1);
    expect(learningRate(cfg, 9)).toBeCloseTo(1);
    expect(learningRate(cfg, 10)).toBeCloseTo(1);
    expect(learningRate(cfg, 60)).toBeCloseTo(0.55);
    expect(learningRate(cfg, 110)).toBeCloseTo(0.1);
    expect(learningRate({ ...cfg, schedule: 'constant' }, 80)).toBe(1);
  });
});

describe('train config validation', () => {
  it('names the field and the allowed values', () => {
    expect(() => config({ schedule: 'linear' as never })).toThrow(/train\.schedule: got "linear"; allowed: "cosine", "constant"/);
    expect(() => config({ accumulate: 3 })).toThrow(/train\.accumulate: must divide batchSize = 4/);
    expect(() => resolveRunConfig({ ...base, data: { tokenizer: 'words' as never } }, 256)).toThrow(/data\.tokenizer: got "words"/);
    expect(() => resolveRunConfig({ ...base, vocabSize: 100 }, 256)).toThrow(/vocabSize: is 100 but the tokenizer has 256/);
  });
});

// Keep the type import used.
export type { TrainRecord };
