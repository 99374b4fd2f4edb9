import { describe, expect, it, beforeAll } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ByteTokenizer, corpusFromText } from '@vwn/core';
import { readStudy, rebuildReport, summarize } from '@vwn/report';
import '@vwn/mtp';
import { runStudy } from '../src/ablate/runner.js';
import type { StudySpec } from '../src/ablate/studies.js';

const text = 'to be, or not to be, that is the question: whether tis nobler in the mind to suffer '.repeat(80);
const corpus = corpusFromText(text, { name: 'micro', tokenizer: new ByteTokenizer() });
const spec: StudySpec = {
  name: 'micro',
  description: 'two-variant micro study',
  baseline: 'baseline',
  base: {
    dModel: 16,
    layers: 1,
    heads: 2,
    seqLen: 16,
    train: { batchSize: 4, lr: 1e-2, warmupSteps: 2, evalEvery: 3, evalBatches: 2, checkpointEvery: 3 },
  },
  variants: [
    { name: 'baseline', description: 'residual', config: {} },
    { name: 'mtp', description: 'with MTP', config: { objectives: [{ use: 'mtp' }] } },
  ],
};
const tokens = 12 * 4 * 16; // 12 steps

const lossColumns = (rows: ReturnType<typeof summarize>) =>
  rows.map((r) => ({
    name: r.name,
    train: r.finalTrainLoss.mean,
    heldOut: r.heldOutLoss.mean,
    next2: r.heldOutNext2Loss?.mean ?? null,
    delta: r.deltaVsBaseline.mean,
  }));

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('vwn ablate (runner + report)', () => {
  it('a two-variant micro study writes the report; table numbers equal those recomputed from metrics.jsonl', async () => {
    const out = await mkdtemp(join(tmpdir(), 'vwn-ablate-'));
    const { complete, manifest } = await runStudy(spec, { outDir: out, corpus, tokens, seeds: 1 });
    expect(complete).toBe(true);
    expect(manifest.variants.map((v) => v.config.train.steps)).toEqual([12, 12]);
    const { files } = await rebuildReport(out);
    for (const f of ['report.md', 'report.html', 'plots/loss-vs-tokens.svg', 'plots/delta-vs-log2r.svg']) {
      expect(files.map((x) => x.replace(out + '/', ''))).toContain(f);
      expect(existsSync(join(out, f))).toBe(true);
    }
    // Recompute from the raw metrics files.
    const rows = summarize(await readStudy(out));
    const read = async (v: string) =>
      (await readFile(join(out, 'runs', v, 'seed-0', 'metrics.jsonl'), 'utf8'))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
    const base = await read('baseline');
    const mtp = await read('mtp');
    const lastEval = (recs: Array<{ type: string; loss: number; terms: Record<string, number> }>) => recs.filter((r) => r.type === 'eval').at(-1)!;
    expect(rows[0]!.heldOutLoss.mean).toBe(lastEval(base).loss);
    expect(rows[1]!.heldOutLoss.mean).toBe(lastEval(mtp).loss);
    expect(rows[1]!.heldOutNext2Loss!.mean).toBe(lastEval(mtp).terms['next2_loss']);
    expect(rows[1]!.deltaVsBaseline.mean).toBeCloseTo(lastEval(mtp).loss - lastEval(base).loss, 12);
    expect(rows[0]!.finalTrainLoss.mean).toBe(base.filter((r) => r.type === 'train').at(-1).loss); // 5% of 12 records → the last one
    const md = await readFile(join(out, 'report.md'), 'utf8');
    expect(md).toContain(lastEval(base).loss.toFixed(4));
    // Both variants saw the same batches: their first-step losses differ only by the MTP term, not the data.
    expect(mtp.find((r) => r.type === 'train').loss).toBeCloseTo(base.find((r) => r.type === 'train').loss, 5);
    // Rerunning a finished study recomputes nothing.
    const mtime = (await readFile(join(out, 'runs', 'mtp', 'seed-0', 'metrics.jsonl'), 'utf8')).length;
    const again = await runStudy(spec, { outDir: out, corpus, tokens, seeds: 1 });
    expect(again.complete).toBe(true);
    expect((await readFile(join(out, 'runs', 'mtp', 'seed-0', 'metrics.jsonl'), 'utf8')).length).toBe(mtime);
    await rm(out, { recursive: true });
  });

  it('killing a study mid-variant and rerunning gives the same final table as an uninterrupted run', async () => {
    const a = await mkdtemp(join(tmpdir(), 'vwn-ablate-'));
    await runStudy(spec, { outDir: a, corpus, tokens, seeds: 1 });
    const b = await mkdtemp(join(tmpdir(), 'vwn-ablate-'));
    let steps = 0;
    // Stop during the second variant, after step 5 of 12 (its last checkpoint is at step 3 → resumed from there).
    const first = await runStudy(spec, { outDir: b, corpus, tokens, seeds: 1, shouldStop: () => ++steps === 12 + 5 });
    expect(first.complete).toBe(false);
    expect(existsSync(join(b, 'runs', 'baseline', 'seed-0', 'done.json'))).toBe(true);
    expect(existsSync(join(b, 'runs', 'mtp', 'seed-0', 'done.json'))).toBe(false);
    const second = await runStudy(spec, { outDir: b, corpus, tokens, seeds: 1 });
    expect(second.complete).toBe(true);
    expect(lossColumns(summarize(await readStudy(b)))).toEqual(lossColumns(summarize(await readStudy(a))));
    await Promise.all([rm(a, { recursive: true }), rm(b, { recursive: true })]);
  });

  it('refuses to resume a folder that holds a different study', async () => {
    const out = await mkdtemp(join(tmpdir(), 'vwn-ablate-'));
    await runStudy({ ...spec, variants: [spec.variants[0]!] }, { outDir: out, corpus, tokens: 64, seeds: 1 });
    await expect(runStudy(spec, { outDir: out, corpus, tokens: 64, seeds: 1 })).rejects.toThrow(/holds a different study/);
  });
});
