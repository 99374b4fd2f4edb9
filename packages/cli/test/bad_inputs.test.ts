// Table-driven bad-input test (issue #14): every bad input, config or state
// the issue lists gets a named error (exit 2, a message naming the field or
// file, no stack trace); and the states that must keep working do. Runs the
// CLI in-process (like cli.test.ts) on the cpu backend.
import { describe, expect, it, beforeAll } from 'vitest';
import { cp, mkdtemp, readFile, rm, writeFile, appendFile } from 'node:fs/promises';
import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { vwn } from './in_process.js';

let dir: string;
let corpus: string;
let run: string; // a trained micro run (4 steps)
let study: string; // a finished two-variant study
const cfg = (name: string, config: object) => {
  const path = join(dir, `${name}.json`);
  return writeFile(path, JSON.stringify(config)).then(() => path);
};
const small = { train: { steps: 4, evalEvery: 2, checkpointEvery: 2, evalBatches: 1 } };
const train = (...more: string[]) => ['train', '--preset', 'micro', '--backend', 'cpu', ...more];

beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = await mkdtemp(join(tmpdir(), 'vwn-bad-'));
  corpus = join(dir, 'corpus.txt');
  await writeFile(corpus, 'whether tis nobler in the mind to suffer the slings and arrows of outrageous fortune\n'.repeat(40));
  run = join(dir, 'run');
  const t = await vwn(...train('--config', await cfg('small', { ...small, data: { corpus } }), '--out', run));
  expect(t.code, t.err).toBe(0);
  study = join(dir, 'study');
  const grid = await cfg('grid', {
    base: { dModel: 16, layers: 1, heads: 2, seqLen: 16, train: { batchSize: 4, evalEvery: 2, evalBatches: 1, checkpointEvery: 2 }, data: { corpus } },
    variants: [
      { name: 'a', config: {} },
      { name: 'b', config: { ffnHidden: 24 } },
    ],
  });
  const a = await vwn('ablate', '--config', grid, '--tokens', String(3 * 4 * 16), '--backend', 'cpu', '--out', study, '--json');
  expect(a.code, a.err).toBe(0);
});

interface Case {
  /** What the issue calls it. */
  readonly what: string;
  /** Builds the state and returns the argv. */
  readonly argv: () => Promise<string[]>;
  readonly message: RegExp;
  /** Must not appear (the misleading message the issue reports). */
  readonly not?: RegExp;
}

/** A fresh copy of the trained run, for cases that damage it. */
async function copyOfRun(name: string): Promise<string> {
  const to = join(dir, name);
  await cp(run, to, { recursive: true });
  return to;
}

async function copyOfStudy(name: string): Promise<string> {
  const to = join(dir, name);
  await cp(study, to, { recursive: true });
  return to;
}

const CASES: Case[] = [
  {
    what: 'empty corpus',
    argv: async () => {
      const f = join(dir, 'empty.txt');
      await writeFile(f, '');
      return train('--corpus', f, '--out', join(dir, 'o1'));
    },
    message: /data\.corpus: .*empty\.txt is empty/,
  },
  {
    what: 'corpus shorter than seqLen + 1',
    argv: async () => {
      const f = join(dir, 'short.txt');
      await writeFile(f, 'a'.repeat(20));
      return train('--corpus', f, '--out', join(dir, 'o2'));
    },
    message: /data\.corpus: 18 training tokens are fewer than one row of 33/,
  },
  {
    what: '--corpus names a directory',
    argv: async () => train('--corpus', dir, '--out', join(dir, 'o3')),
    message: /data\.corpus: cannot read .* \(it is a directory, not a text file\)/,
  },
  {
    what: '--corpus names a missing file',
    argv: async () => train('--corpus', join(dir, 'nope.txt'), '--out', join(dir, 'o4')),
    message: /data\.corpus: file not found/,
  },
  {
    what: '--config names a directory',
    argv: async () => train('--config', dir, '--out', join(dir, 'o5')),
    message: /--config: cannot read .* \(it is a directory\)/,
  },
  {
    what: '--config is not JSON',
    argv: async () => {
      const f = join(dir, 'broken.json');
      await writeFile(f, '{"dModel": 3');
      return train('--config', f, '--out', join(dir, 'o6'));
    },
    message: /--config: .*broken\.json is not a JSON object/,
  },
  {
    what: 'resuming with a different model config',
    argv: async () => train('--config', await cfg('wider', { ...small, dModel: 64, data: { corpus } }), '--out', await copyOfRun('r-mismatch'), '--resume'),
    message: /cannot resume from .*: its model config differs from this run's \(.*dModel: 32 in the checkpoint, 64 now/,
  },
  {
    what: 'resuming when a middle line of metrics.jsonl is damaged',
    argv: async () => {
      const r = await copyOfRun('r-damaged');
      const lines = (await readFile(join(r, 'metrics.jsonl'), 'utf8')).split('\n');
      lines[1] = '{"type":"tra';
      await writeFile(join(r, 'metrics.jsonl'), lines.join('\n'));
      return train('--config', join(dir, 'small.json'), '--out', r, '--resume', '--steps', '6');
    },
    message: /metrics\.jsonl line 2 is not JSON \(and not the last line/,
  },
  {
    what: '--out names a file',
    argv: async () => train('--config', join(dir, 'small.json'), '--out', corpus),
    message: /corpus\.txt is a file, not a folder; choose another --out/,
  },
  { what: '--resume with --force', argv: async () => train('--out', run, '--resume', '--force'), message: /--force: cannot be combined with --resume/ },
  { what: 'negative --steps', argv: async () => train('--steps=-1', '--out', join(dir, 'o7')), message: /train\.steps: .*-1/ },
  {
    what: 'batchSize 1e8 (no size check before allocating)',
    argv: async () => train('--config', await cfg('batch', { train: { batchSize: 100000000 } }), '--out', join(dir, 'o8')),
    message: /needs a tensor of .* values \(logits .*\), more than one tensor can hold/,
  },
  {
    what: 'dModel 1e9 (RangeError: Invalid typed array length)',
    argv: async () => train('--config', await cfg('dmodel', { dModel: 1000000000, heads: 1 }), '--out', join(dir, 'o9')),
    message: /more than one tensor can hold \(2147483647\)/,
  },
  {
    what: 'a model larger than the machine (memory estimate)',
    argv: async () => train('--config', await cfg('huge', { dModel: 4096, heads: 32, layers: 64 }), '--out', join(dir, 'o10')),
    message: /the run needs about [\d.]+ [GT]iB .* but only [\d.]+ GiB is available \((machine memory|cgroup .*|the cpu backend.*)\); .*--ignore-memory-check/,
  },
  {
    what: 'over-width embedding with the default residual connection',
    argv: async () => train('--config', await cfg('ow', { embedding: { use: 'over-width', m: 4, n: 8 } }), '--out', join(dir, 'o11')),
    message: /connection\.use: "residual" needs a carried state of width D = 32, but the "over-width" embedding produces D' = 64/,
    not: /not loaded/,
  },
  {
    what: 'eval --config (silently ignored before)',
    argv: async () => ['eval', '--out', run, '--backend', 'cpu', '--config', join(dir, 'small.json')],
    message: /--config: `vwn eval` uses the config stored in the checkpoint/,
  },
  {
    what: 'eval --preset',
    argv: async () => ['eval', '--out', run, '--backend', 'cpu', '--preset', 'tiny'],
    message: /--preset: `vwn eval` uses the config stored in the checkpoint/,
  },
  {
    what: 'eval --batches 0',
    argv: async () => ['eval', '--out', run, '--backend', 'cpu', '--batches', '0'],
    message: /--batches: must be a positive integer, got 0/,
  },
  {
    what: 'sample --config (silently ignored before)',
    argv: async () => ['sample', '--out', run, '--backend', 'cpu', '--config', join(dir, 'small.json')],
    message: /--config: `vwn sample` uses the config stored in the checkpoint/,
  },
  {
    what: 'sample --corpus',
    argv: async () => ['sample', '--out', run, '--backend', 'cpu', '--corpus', corpus],
    message: /--corpus: `vwn sample` uses the config stored/,
  },
  {
    what: 'sample --tokens -3 (exit 0 before)',
    argv: async () => ['sample', '--out', run, '--backend', 'cpu', '--tokens=-3'],
    message: /--tokens: must be a positive integer, got -3/,
  },
  {
    what: 'sample --temperature -1',
    argv: async () => ['sample', '--out', run, '--backend', 'cpu', '--temperature=-1'],
    message: /--temperature: must be a number >= 0/,
  },
  {
    what: 'sample --top-k 1.5',
    argv: async () => ['sample', '--out', run, '--backend', 'cpu', '--top-k', '1.5'],
    message: /--top-k: must be a non-negative integer/,
  },
  {
    what: 'a checkpoint whose step was edited (metadata not covered by the hash before)',
    argv: async () => {
      const r = await copyOfRun('r-edited');
      const path = join(r, 'checkpoint.safetensors');
      const bytes = await readFile(path);
      const i = bytes.indexOf('\\"step\\":4');
      expect(i).toBeGreaterThan(0);
      bytes.write('\\"step\\":9', i); // same length: the file still parses
      await writeFile(path, bytes);
      return ['eval', '--out', r, '--backend', 'cpu'];
    },
    message: /checkpoint .*: is corrupted: tensor data or metadata \(step, config\) do not match its SHA-256/,
  },
  {
    what: 'a truncated checkpoint',
    argv: async () => {
      const r = await copyOfRun('r-truncated');
      const bytes = await readFile(join(r, 'checkpoint.safetensors'));
      await writeFile(join(r, 'checkpoint.safetensors'), bytes.subarray(0, bytes.length - 64));
      return train('--config', join(dir, 'small.json'), '--out', r, '--resume');
    },
    message: /is truncated or corrupted/,
  },
  {
    what: 'a non-finite loss names the step that failed',
    argv: async () =>
      train('--config', await cfg('nan', { train: { lr: 1e30, clipNorm: 0, steps: 4, warmupSteps: 0 }, data: { corpus } }), '--out', join(dir, 'o-nan')),
    message: /non-finite (loss|gradient norm) \(.*\) at step 2; the update was not applied/,
  },
  {
    what: 'variant named ".." (writes outside the study)',
    argv: async () => ['ablate', '--config', await cfg('dotdot', { variants: [{ name: '..', config: {} }] }), '--backend', 'cpu', '--out', join(dir, 's1')],
    message: /variants\.\.\.: .*cannot be "\." or "\.\."/,
  },
  {
    what: 'variant named "."',
    argv: async () => ['ablate', '--config', await cfg('dot', { variants: [{ name: '.', config: {} }] }), '--backend', 'cpu', '--out', join(dir, 's2')],
    message: /cannot be "\." or "\.\."/,
  },
  { what: 'vwn report without DIR', argv: async () => ['report'], message: /DIR: is required/ },
  { what: 'vwn report on a folder without study.json', argv: async () => ['report', run], message: /has no study\.json/ },
  {
    what: 'vwn report with a missing metrics file',
    argv: async () => {
      const s = await copyOfStudy('s-missing');
      await rm(join(s, 'runs', 'b', 'seed-0', 'metrics.jsonl'));
      return ['report', s];
    },
    message: /cannot build the report: .*metrics\.jsonl not found/,
  },
  {
    what: 'vwn report with a study.json that is not JSON',
    argv: async () => {
      const s = await copyOfStudy('s-json');
      await writeFile(join(s, 'study.json'), '{"name": ');
      return ['report', s];
    },
    message: /cannot build the report: .*study\.json: not valid JSON/,
  },
  {
    what: 'vwn report with a damaged metrics line',
    argv: async () => {
      const s = await copyOfStudy('s-line');
      const f = join(s, 'runs', 'a', 'seed-0', 'metrics.jsonl');
      await writeFile(f, 'garbage\n' + (await readFile(f, 'utf8')));
      return ['report', s];
    },
    message: /cannot build the report: .*metrics\.jsonl:1: not valid JSON/,
  },
];

describe('bad inputs get a named error (exit 2, no stack trace)', () => {
  it(`all ${CASES.length} cases of issue #14`, async () => {
    const failures: string[] = [];
    let named = 0;
    for (const c of CASES) {
      const argv = await c.argv();
      const r = await vwn(...argv);
      const ok = r.code === 2 && c.message.test(r.err) && !/\n\s+at /.test(r.err) && !(c.not?.test(r.err) ?? false);
      if (ok) named++;
      else failures.push(`${c.what}: exit ${r.code}, stderr: ${r.err.trim().split('\n').slice(-3).join(' | ')}`);
    }
    console.log(`bad inputs: ${named} of ${CASES.length} got a named error (exit 2)`);
    expect(failures).toEqual([]);
    // The NaN case wrote exactly the one good step before the failing step 2.
    const nan = (await readFile(join(dir, 'o-nan', 'metrics.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(nan.filter((r) => r.type === 'train').map((r) => r.step)).toEqual([1]);
    // The ".." variant was refused before anything was written.
    expect(existsSync(join(dir, 's1', 'seed-0'))).toBe(false);
  });
});

describe('states that must keep working', () => {
  it('a partial last line in metrics.jsonl (a full disk) is truncated on resume; lines past the checkpoint are dropped', async () => {
    const r = await copyOfRun('r-partial');
    const before = (await readFile(join(r, 'metrics.jsonl'), 'utf8')).trim().split('\n');
    await appendFile(join(r, 'metrics.jsonl'), '{"type":"train","step":21,"tok');
    const t = await vwn(...train('--config', join(dir, 'small.json'), '--out', r, '--resume', '--steps', '6', '--json'));
    expect(t.code, t.err).toBe(0);
    const lines = (await readFile(join(r, 'metrics.jsonl'), 'utf8')).trim().split('\n');
    expect(lines.slice(0, before.length)).toEqual(before);
    const recs = lines.map((l) => JSON.parse(l));
    expect(recs.filter((x) => x.type === 'train').map((x) => x.step)).toEqual([1, 2, 3, 4, 5, 6]);
    // A changed steps (and lr) applies on resume, and config.json says so.
    const config = JSON.parse(await readFile(join(r, 'config.json'), 'utf8'));
    expect(config.train.steps).toBe(6);
  });

  it('orphan temp files of a killed process are removed on the next start; the bytes tokenizer trains on the raw bytes', async () => {
    const r = await copyOfRun('r-orphan');
    const orphan = join(r, 'checkpoint.safetensors.tmp-999999-0123456789ab');
    await writeFile(orphan, 'half a checkpoint');
    const t = await vwn(...train('--config', join(dir, 'small.json'), '--out', r, '--resume', '--steps', '5'));
    expect(t.code, t.err).toBe(0);
    expect(readdirSync(r).filter((f) => f.includes('.tmp-'))).toEqual([]);

    // Latin-1 text: 0xE9 is not UTF-8; trained on as one byte each (not U+FFFD's three).
    const latin1 = join(dir, 'latin1.txt');
    await writeFile(latin1, Buffer.from('caf\xe9 cr\xe8me br\xfbl\xe9e, '.repeat(60), 'latin1'));
    const out = join(dir, 'r-latin1');
    const b = await vwn(...train('--config', join(dir, 'small.json'), '--corpus', latin1, '--out', out, '--json'));
    expect(b.code, b.err).toBe(0);
    const { corpusFromFile } = await import('@vwn/core/node');
    const c = await corpusFromFile(latin1);
    expect(c.train.length + c.validation.length).toBe((await readFile(latin1)).length);
    expect([...c.train].includes(0xe9)).toBe(true);
    expect([...c.train].includes(0xef)).toBe(false); // no U+FFFD (EF BF BD)
  });
});
