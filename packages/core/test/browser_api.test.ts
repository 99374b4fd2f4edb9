// The browser side of @vwn/core (issue #18): checkpoints as bytes in the same
// safetensors format and SHA-256 as the files `vwn train` writes, a trainer
// whose run lives in a RunStore (memory here), and the pure-JS SHA-256 that
// replaces node:crypto in the main entry.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ByteTokenizer,
  CheckpointError,
  checkpointFromBytes,
  ConfigError,
  corpusFromText,
  loadModelFromCheckpointBytes,
  MemoryRunStore,
  resolveRunConfig,
  Trainer,
  type MetricsRecord,
} from '@vwn/core';
import { loadModelFromCheckpoint, runDirectory, saveCheckpoint } from '@vwn/core/node';
import { Sha256 } from '../src/checkpoint/sha256.js';
import { setSha256Factory } from '../src/checkpoint/hash.js';

const corpus = corpusFromText('the quick brown fox jumps over the lazy dog. '.repeat(80), { name: 't', tokenizer: new ByteTokenizer() });
const config = resolveRunConfig(
  {
    dModel: 16,
    layers: 1,
    heads: 2,
    seqLen: 16,
    train: { batchSize: 4, steps: 8, lr: 1e-2, warmupSteps: 2, evalEvery: 4, evalBatches: 2, checkpointEvery: 4 },
  },
  corpus.tokenizer.vocabSize,
);

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('pure-JS SHA-256', () => {
  it('gives node:crypto digests for every padding case and for chunked input', () => {
    for (const n of [0, 1, 3, 55, 56, 57, 63, 64, 65, 119, 120, 128, 1000, 65_537]) {
      const b = randomBytes(n);
      const chunked = new Sha256();
      for (let i = 0; i < n; i += 7) chunked.update(b.subarray(i, i + 7));
      const want = createHash('sha256').update(b).digest('hex');
      expect(new Sha256().update(b).hex(), `${n} bytes`).toBe(want);
      expect(chunked.hex(), `${n} bytes in 7-byte chunks`).toBe(want);
    }
    expect(new Sha256().update('\u0000vwn.state\u0000é').hex()).toBe(createHash('sha256').update('\u0000vwn.state\u0000é').digest('hex'));
  });
});

describe('checkpoints as bytes', () => {
  it('are the bytes saveCheckpoint writes, with either hasher; they verify, load to the same logits, and a flipped bit is refused', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vwn-bytes-'));
    const trainer = await Trainer.create({ config, corpus });
    try {
      for (let i = 0; i < 3; i++) await trainer.trainStep();
      const nodeHashed = await trainer.checkpointBytes(); // @vwn/core/node is imported: node:crypto
      setSha256Factory(() => new Sha256());
      const jsHashed = await trainer.checkpointBytes();
      setSha256Factory(() => {
        const h = createHash('sha256');
        return { update: (d: Uint8Array | string) => h.update(d), hex: () => h.digest('hex') };
      });
      expect(Buffer.from(jsHashed).equals(Buffer.from(nodeHashed))).toBe(true);
      const file = join(dir, 'checkpoint.safetensors');
      await saveCheckpoint(file, trainer.model.params, trainer.optimizer, trainer.checkpointState());
      expect((await readFile(file)).equals(Buffer.from(jsHashed))).toBe(true);

      const ckpt = checkpointFromBytes(jsHashed, 'download.safetensors');
      expect(ckpt.state.trainer.step).toBe(3);
      expect(ckpt.path).toBe('download.safetensors');
      const flipped = jsHashed.slice();
      flipped[flipped.length - 5]! ^= 0x10;
      expect(() => checkpointFromBytes(flipped, 'download.safetensors')).toThrow(CheckpointError);
      expect(() => checkpointFromBytes(flipped, 'download.safetensors')).toThrow(/download\.safetensors: is corrupted/);

      const rows = tf.tensor2d([Array.from(corpus.train.subarray(0, 16))], [1, 16], 'int32');
      const fromBytes = await loadModelFromCheckpointBytes(jsHashed);
      const fromFile = await loadModelFromCheckpoint(file);
      const [a, b, c] = await Promise.all([trainer.model, fromBytes.model, fromFile.model].map((m) => tf.tidy(() => m.logits(rows)).data()));
      expect(Array.from(b!)).toEqual(Array.from(a!));
      expect(Array.from(c!)).toEqual(Array.from(a!));
      expect(fromBytes.tokenizer.toJSON()).toEqual(corpus.tokenizer.toJSON());
      tf.dispose(rows);
      fromBytes.model.dispose();
      fromFile.model.dispose();
    } finally {
      trainer.dispose();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('Trainer with a MemoryRunStore', () => {
  it('keeps records and checkpoints in memory, and a run resumed from its checkpoint bytes continues loss-for-loss', async () => {
    const full = await Trainer.create({ config, corpus });
    const reference: number[] = [];
    while (full.step < 8) reference.push((await full.trainStep()).loss);
    full.dispose();

    const store = new MemoryRunStore();
    const seen: MetricsRecord[] = [];
    const first = await Trainer.create({
      config,
      corpus,
      store,
      onRecord: (r) => {
        seen.push(r);
        if (r.type === 'train' && r.step === 6) first.requestStop();
      },
    });
    await first.run();
    first.dispose();
    expect(store.records).toEqual(seen);
    expect(JSON.parse(store.config!)).toEqual(JSON.parse(JSON.stringify(config)));
    expect(checkpointFromBytes(store.checkpoint!).state.trainer.step).toBe(6); // saved when stopped

    // A page reloads: a new store from the downloaded bytes, with the metrics it kept.
    const again = new MemoryRunStore({ checkpoint: store.checkpoint! });
    await again.writeMetrics(store.metricsText + '{"type":"train","step":7,"tok'); // a cut-off line is dropped
    const resumed = await Trainer.create({ config, corpus, store: again, resume: true });
    expect(resumed.step).toBe(6);
    await resumed.run();
    resumed.dispose();
    const trainLosses = again.records.filter((r) => r.type === 'train').map((r) => r.loss);
    expect(trainLosses).toEqual(reference);
    expect(again.records.filter((r) => r.type === 'eval').map((r) => r.step)).toEqual([0, 4, 8]);
  });

  it('refuses the old outDir option with the one-line migration', async () => {
    const err = await Trainer.create({ config, corpus, outDir: 'runs/x' } as never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toBe(
      `outDir: Trainer.create no longer takes outDir; pass store: runDirectory("runs/x") (import { runDirectory } from '@vwn/core/node')`,
    );
    expect(runDirectory('runs/x').pathOf('metrics')).toBe(join('runs/x', 'metrics.jsonl'));
  });
});
