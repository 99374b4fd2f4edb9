// Core pieces of docs/reliability.md: folder lock, memory estimate, hashed
// checkpoint metadata, orphan temp files, metrics repair on resume, size guards.
import { describe, expect, it, beforeAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile, appendFile } from 'node:fs/promises';
import { hostname, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {
  availableMemory,
  ByteTokenizer,
  CheckpointError,
  checkMemory,
  ConfigError,
  corpusFromText,
  decodeSafetensors,
  encodeSafetensors,
  estimateMemory,
  formatBytes,
  MAX_TENSOR_ELEMENTS,
  MemoryLimitError,
  ParameterStore,
  resolveRunConfig,
  RUN_FILES,
  RunStateError,
  Trainer,
  VwnError,
  WASM_HEAP_BYTES,
  assembleModel,
} from '@vwn/core';
import { loadCheckpoint, lockFolder, LOCK_FILE, removeOrphanTempFiles, runDirectory } from '@vwn/core/node';

const corpus = corpusFromText('to be, or not to be, that is the question: whether tis nobler in the mind to suffer '.repeat(40), {
  name: 'q',
  tokenizer: new ByteTokenizer(),
});
const config = (train: object = {}, model: object = {}) =>
  resolveRunConfig(
    { dModel: 16, layers: 1, heads: 2, seqLen: 16, ...model, train: { batchSize: 4, steps: 6, evalEvery: 2, evalBatches: 1, checkpointEvery: 3, ...train } },
    256,
  );

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** A pid that surely no longer runs: a child that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
  return Number(r.stdout.trim());
}

describe('folder lock', () => {
  it('records pid and host, refuses a live owner by name, takes over a dead one with a notice, and releases', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vwn-lock-'));
    const lock = await lockFolder(dir, { command: 'vwn train' });
    const owner = JSON.parse(await readFile(join(dir, LOCK_FILE), 'utf8'));
    expect(owner).toMatchObject({ pid: process.pid, host: hostname(), command: 'vwn train' });
    await expect(lockFolder(dir)).rejects.toThrow(RunStateError);
    await lock.release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);

    // A live process of this host (our parent) holds it: named error with its pid.
    await writeFile(
      join(dir, LOCK_FILE),
      JSON.stringify({ pid: process.ppid, host: hostname(), command: 'vwn ablate', since: 'x', startTicks: null, token: 't' }),
    );
    await expect(lockFolder(dir)).rejects.toThrow(new RegExp(`in use by pid ${process.ppid} on ${hostname()} \\(vwn ablate`));
    // Another host: cannot tell whether it runs, so refuse and say how to clear it.
    await writeFile(join(dir, LOCK_FILE), JSON.stringify({ pid: 1, host: 'elsewhere', command: 'vwn train', since: 'x', startTicks: null, token: 't' }));
    await expect(lockFolder(dir)).rejects.toThrow(/in use by pid 1 on elsewhere .*delete .*\.vwn\.lock if that process is gone/);
    // A dead owner (kill -9 leaves its lock): taken over, with a notice.
    const pid = deadPid();
    await writeFile(join(dir, LOCK_FILE), JSON.stringify({ pid, host: hostname(), command: 'vwn train', since: 'x', startTicks: null, token: 't' }));
    const notices: string[] = [];
    const taken = await lockFolder(dir, { onNotice: (m) => notices.push(m) });
    expect(taken.tookOver?.pid).toBe(pid);
    expect(notices).toEqual([expect.stringMatching(new RegExp(`taking over the lock of pid ${pid} .*no longer running`))]);
    expect(JSON.parse(await readFile(join(dir, LOCK_FILE), 'utf8')).pid).toBe(process.pid);
    await taken.release();
    // A reused pid (alive, but started at another time than the recorded owner) is stale too.
    await writeFile(join(dir, LOCK_FILE), JSON.stringify({ pid: process.ppid, host: hostname(), command: 'vwn train', since: 'x', startTicks: 1, token: 't' }));
    const reused = await lockFolder(dir);
    expect(reused.tookOver?.pid).toBe(process.ppid);
    await reused.release();
    expect(readdirSync(dir)).toEqual([]);
    await rm(dir, { recursive: true });
  });
});

describe('memory estimate', () => {
  it('adds weights, AdamW moments, gradients and activations, and refuses with both numbers', () => {
    const c = config({ batchSize: 16 }, { dModel: 128, layers: 4, heads: 4, seqLen: 128 });
    const model = assembleModel(c.model);
    const exact = model.totals().params;
    model.dispose();
    const est = estimateMemory(c, 'wasm', exact);
    expect(est.params).toBe(exact);
    expect(est.optimizerBytes).toBe(2 * 4 * exact);
    expect(est.totalBytes).toBe(4 * 4 * exact + est.activationBytes);
    // The config-only parameter estimate is within 10 % of the exact count.
    expect(Math.abs(estimateMemory(c, 'wasm').params / exact - 1)).toBeLessThan(0.1);
    expect(est.limit.bytes).toBe(Math.min(WASM_HEAP_BYTES, availableMemory().bytes));
    expect(estimateMemory(c, 'cpu').limit.bytes).toBe(availableMemory().bytes);
    expect(availableMemory().bytes).toBeLessThanOrEqual(totalmem());
    expect(() => checkMemory(est)).not.toThrow();

    // 16× the batch: activations grow 16×.
    expect(estimateMemory(config({ batchSize: 256 }, { dModel: 128, layers: 4, heads: 4, seqLen: 128 }), 'wasm', exact).activationBytes).toBe(
      16 * est.activationBytes,
    );
    // Gradient accumulation splits the batch: activations of one micro-batch only.
    expect(estimateMemory(config({ batchSize: 256, accumulate: 16 }, { dModel: 128, layers: 4, heads: 4, seqLen: 128 }), 'wasm', exact).activationBytes).toBe(
      est.activationBytes,
    );

    const huge = estimateMemory(config({}, { dModel: 4096, heads: 32, layers: 64 }), 'cpu');
    let err: unknown;
    try {
      checkMemory(huge);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MemoryLimitError);
    expect(err).toBeInstanceOf(VwnError);
    expect((err as MemoryLimitError).neededBytes).toBe(huge.totalBytes);
    expect((err as MemoryLimitError).availableBytes).toBe(huge.limit.bytes);
    expect((err as Error).message).toContain(`needs about ${formatBytes(huge.totalBytes)}`);
    expect((err as Error).message).toContain(`only ${formatBytes(huge.limit.bytes)} is available`);
    expect(() => checkMemory(huge, { ignore: true })).not.toThrow();
    // A tensor no backend can hold is refused even with the override.
    const absurd = estimateMemory(config({}, { dModel: 1_000_000_000, heads: 1 }), 'cpu');
    expect(absurd.largestTensor.elements).toBeGreaterThan(MAX_TENSOR_ELEMENTS);
    expect(() => checkMemory(absurd, { ignore: true })).toThrow(/more than one tensor can hold/);
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(2 ** 32)).toBe('4 GiB');
  });

  it('Trainer.create refuses before allocating, and ParameterStore refuses an oversized tensor', async () => {
    const before = tf.memory().numTensors;
    await expect(Trainer.create({ config: config({}, { dModel: 4096, heads: 32, layers: 64 }), corpus })).rejects.toThrow(MemoryLimitError);
    expect(tf.memory().numTensors).toBe(before);
    const store = new ParameterStore(0);
    expect(() => store.create('table', [256, 1e9], { kind: 'zeros' })).toThrow(
      /parameter "table" of shape \[256, 1000000000\] .* more than one tensor can hold/,
    );
    expect(() => assembleModel({ vocabSize: 256, dModel: 1_000_000_000, heads: 1, layers: 1, seqLen: 8 })).toThrow(MemoryLimitError);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('checkpoints and run folders', () => {
  it('the SHA-256 covers the metadata: an edited step is refused; format-1 files (tensor-only hash) still load', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vwn-rel-'));
    const t = await Trainer.create({ config: config(), corpus, store: runDirectory(dir) });
    await t.trainStep();
    await t.saveCheckpoint();
    t.dispose();
    const path = join(dir, RUN_FILES.checkpoint);
    const { tensors, metadata } = decodeSafetensors(await readFile(path));
    const state = JSON.parse(metadata['vwn.state']!);
    expect(state.trainer.step).toBe(1);
    const edited = JSON.stringify({ ...state, trainer: { ...state.trainer, step: 5 } });
    await writeFile(path, encodeSafetensors(tensors, { ...metadata, 'vwn.state': edited }));
    await expect(loadCheckpoint(path)).rejects.toThrow(CheckpointError);
    await expect(loadCheckpoint(path)).rejects.toThrow(/metadata \(step, config\) do not match its SHA-256/);

    const h = createHash('sha256');
    for (const name of Object.keys(tensors).sort()) {
      const d = tensors[name]!.data;
      h.update(name);
      h.update(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
    }
    await writeFile(path, encodeSafetensors(tensors, { ...metadata, format: 'vwn-checkpoint/1', 'vwn.sha256': h.digest('hex') }));
    expect((await loadCheckpoint(path)).state.trainer.step).toBe(1);
    await rm(dir, { recursive: true });
  });

  it('resume drops a cut-off last metrics line and lines past the checkpoint, rewrites config.json, and names what differs in the model', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vwn-rel-'));
    const a = await Trainer.create({ config: config(), corpus, store: runDirectory(dir) });
    await a.run();
    a.dispose();
    const full = (await readFile(join(dir, RUN_FILES.metrics), 'utf8')).trim().split('\n');
    // Roll back: a checkpoint at step 3 (as if killed after it), metrics up to 6, a cut-off line.
    const b = await Trainer.create({ config: config({ steps: 3 }), corpus, store: runDirectory(join(dir, 'b')) });
    await b.run();
    b.dispose();
    const upTo3 = (await readFile(join(dir, 'b', RUN_FILES.metrics), 'utf8')).trim().split('\n');
    await appendFile(join(dir, 'b', RUN_FILES.metrics), full.filter((l) => JSON.parse(l).step > 3).join('\n') + '\n{"type":"train","ste');
    const c = await Trainer.create({ config: config({ lr: 2e-3 }), corpus, store: runDirectory(join(dir, 'b')), resume: true });
    expect(c.step).toBe(3);
    const kept = (await readFile(join(dir, 'b', RUN_FILES.metrics), 'utf8')).trim().split('\n');
    expect(kept.map((l) => JSON.parse(l).step).every((s: number) => s <= 3)).toBe(true);
    expect(kept).toEqual(upTo3);
    expect(c.lastEval?.step).toBe(3);
    const saved = JSON.parse(await readFile(join(dir, 'b', RUN_FILES.config), 'utf8'));
    expect(saved.train).toMatchObject({ steps: 6, lr: 2e-3 });
    c.dispose();
    await expect(Trainer.create({ config: config({}, { layers: 2 }), corpus, store: runDirectory(join(dir, 'b')), resume: true })).rejects.toThrow(
      /model config differs from this run's \(layers: 1 in the checkpoint, 2 now\)/,
    );
    await rm(dir, { recursive: true });
  });

  it('orphan temp files of dead processes are removed; live ones are kept unless the caller holds the lock', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vwn-rel-'));
    const dead = `checkpoint.safetensors.tmp-${deadPid()}-0123456789ab`;
    const mine = `config.json.tmp-${process.pid}-0123456789ab`;
    const live = `metrics.jsonl.tmp-${process.ppid}-0123456789ab`;
    for (const f of [dead, mine, live, 'notes.tmp-x']) await writeFile(join(dir, f), 'x');
    expect(await removeOrphanTempFiles(dir)).toEqual([dead]);
    expect(await removeOrphanTempFiles(dir, { exclusive: true })).toEqual([live]);
    expect(readdirSync(dir).sort()).toEqual([mine, 'notes.tmp-x'].sort());
    await rm(dir, { recursive: true });
  });

  it('a corpus too short for one row and an empty text are named ConfigErrors', async () => {
    expect(() => corpusFromText('', { name: 'e', tokenizer: new ByteTokenizer() })).toThrow(ConfigError);
    const short = corpusFromText('abcdefghijklmnopqrst', { name: 's', tokenizer: new ByteTokenizer(), validationFraction: 0.5 });
    await expect(Trainer.create({ config: config(), corpus: short })).rejects.toThrow(/data\.corpus: 10 training tokens are fewer than one row of 17/);
  });
});
