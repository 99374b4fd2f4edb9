import { describe, expect, it, beforeAll } from 'vitest';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { vwn } from './in_process.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('vwn CLI', () => {
  it('prints help with every command, and per-command help', async () => {
    const h = await vwn('--help');
    expect(h.code).toBe(0);
    for (const c of ['train', 'eval', 'sample', 'inspect']) expect(h.out).toContain(c);
    const t = await vwn('train', '--help');
    expect(t.out).toMatch(/--resume/);
    expect(t.out).toMatch(/--preset NAME/);
    // A flag the command describes itself is not listed again from the common ones.
    const a = await vwn('ablate', '--help');
    for (const flag of ['--config', '--preset', '--out', '--backend', '--json']) {
      expect(
        a.out.split('\n').filter((l) => l.startsWith(`  ${flag} `)),
        flag,
      ).toHaveLength(1);
    }
    expect(a.out).toMatch(/--config FILE {5}a grid/);
  });

  it('inspect --json reports per-component params and FLOPs that add up', async () => {
    const r = await vwn('inspect', '--preset', 'tiny', '--json', '--backend', 'cpu');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    const sum = (k: string) => j.components.reduce((a: number, c: Record<string, number>) => a + c[k]!, 0);
    expect(sum('params')).toBe(j.totals.params);
    expect(sum('flopsPerToken')).toBe(j.totals.flopsPerToken);
    expect(j.model.dModel).toBe(128);
  });

  it('train → eval → sample on the embedded corpus, and refuses to overwrite a checkpoint', async () => {
    const out = await mkdtemp(join(tmpdir(), 'vwn-cli-'));
    const cfg = join(out, 'cfg.json');
    await writeFile(cfg, JSON.stringify({ train: { steps: 6, evalEvery: 3, checkpointEvery: 3 } }));
    const t = await vwn('train', '--preset', 'micro', '--config', cfg, '--out', out, '--backend', 'cpu', '--json');
    expect(t.code).toBe(0);
    const records = t.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(records.filter((r) => r.type === 'train').map((r) => r.step)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(existsSync(join(out, 'checkpoint.safetensors'))).toBe(true);
    const metrics = (await readFile(join(out, 'metrics.jsonl'), 'utf8')).trim().split('\n');
    expect(metrics.length).toBe(records.length);

    const again = await vwn('train', '--preset', 'micro', '--out', out, '--backend', 'cpu');
    expect(again.code).toBe(2);
    expect(again.err).toMatch(/already holds a checkpoint; pass --resume/);

    const e = await vwn('eval', '--out', out, '--backend', 'cpu', '--json', '--batches', '2');
    expect(e.code).toBe(0);
    const ev = JSON.parse(e.out);
    expect(ev.step).toBe(6);
    // A model that learned nothing stays at the uniform byte loss, ln 256 ≈ 5.545 (the step-0 eval
    // reads ≈ 5.54); six steps bring this run to ≈ 5.09. So the bound is a margin below both the
    // step-0 eval of this very run and ln 256: an untrained or non-updating model fails it.
    const initial = records.find((r) => r.type === 'eval' && r.step === 0);
    expect(initial?.loss).toBeGreaterThan(Math.log(256) - 0.1);
    expect(ev.loss).toBeGreaterThan(2);
    expect(ev.loss).toBeLessThan(initial.loss - 0.2);
    expect(ev.loss).toBeLessThan(Math.log(256) - 0.2);

    const s = await vwn('sample', '--out', out, '--backend', 'cpu', '--prompt', 'KING', '--tokens', '12', '--json');
    expect(s.code).toBe(0);
    const sample = JSON.parse(s.out);
    expect(sample.prompt).toBe('KING');
    expect(new TextEncoder().encode(sample.text).length).toBeGreaterThanOrEqual(1);
  });

  it('bad input exits 2 with a message naming the field and allowed values', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vwn-cli-'));
    const bad = join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify({ connection: { use: 'nope' } }));
    const cases: Array<[string[], RegExp]> = [
      [['train', '--preset', 'huge'], /--preset: unknown preset "huge"; allowed: tiny, micro/],
      [
        ['train', '--config', bad, '--backend', 'cpu', '--out', dir],
        /connection\.use: unknown connection plugin "nope"; allowed: "dynamic-ghc", "frac-connections", "ghc", "hyper-connections", "residual"/,
      ],
      [['train', '--backend', 'gpu', '--out', dir], /backend: got "gpu"; allowed: "auto", "cpu", "wasm", "native", "webgpu", "tensorflow"/],
      [['train', '--steps', 'many', '--out', dir], /--steps: expected a number/],
      [['eval', '--out', join(dir, 'none')], /no checkpoint at/],
      [['train', '--bogus'], /Unknown option '--bogus'/],
    ];
    for (const [argv, message] of cases) {
      const r = await vwn(...argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err).toMatch(message);
    }
    expect((await vwn('frobnicate')).err).toMatch(/unknown command "frobnicate"; allowed: train, eval, sample, ablate, report, bench, inspect/);
  });
});
