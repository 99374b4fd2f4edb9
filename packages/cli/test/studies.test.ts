import { describe, expect, it, beforeAll } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ByteTokenizer, ConfigError, corpusFromText } from '@vwn/core';
import '@vwn/embedding';
import '@vwn/ghc';
import '@vwn/moe';
import { planStudy } from '../src/ablate/runner.js';
import { STUDIES } from '../src/ablate/studies.js';
import { studyFromFile } from '../src/commands/ablate.js';

const corpus = corpusFromText('to be, or not to be, that is the question. '.repeat(200), { name: 'micro', tokenizer: new ByteTokenizer() });

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('built-in studies', () => {
  it('default: baseline vs VWN r = 4 with 3 paired seeds', async () => {
    const spec = STUDIES['default']!;
    expect(spec.seeds).toBe(3);
    const plan = await planStudy(spec, { corpus, tokens: 2048, seeds: spec.seeds! });
    expect(plan.variants.map((v) => [v.name, v.r])).toEqual([
      ['baseline', 1],
      ['vwn-r4', 4],
    ]);
    expect(plan.seeds).toEqual([0, 1, 2]);
  });

  it('controls: the iso-parameter and iso-FLOP baselines match VWN r = 4 to 0.1 %; groups and comparisons reach study.json', async () => {
    const spec = STUDIES['controls']!;
    const plan = await planStudy(spec, { corpus, tokens: 2048, seeds: 1 });
    const v = Object.fromEntries(plan.variants.map((x) => [x.name, x]));
    const vwn = v['vwn-r4']!;
    const rel = (a: number, b: number) => Math.abs(a / b - 1);
    expect(rel(v['iso-param']!.params, vwn.params)).toBeLessThan(1e-3);
    expect(rel(v['iso-param']!.activeParams, vwn.activeParams)).toBeLessThan(1e-3);
    expect(rel(v['iso-flop']!.flopsPerToken, vwn.flopsPerToken)).toBeLessThan(1e-3);
    // The controls really are controls: more than the baseline, as VWN is.
    expect(vwn.flopsPerToken / v['baseline']!.flopsPerToken).toBeGreaterThan(1.2);
    expect(v['iso-param']!.r).toBe(1);
    expect(v['iso-flop']!.r).toBe(1);
    // lr sweep: each arm at ×1, ×0.5, ×2, min lr scaled alike.
    expect(plan.variants.filter((x) => x.group === 'baseline').map((x) => x.config.train.lr)).toEqual([3e-3, 1.5e-3, 6e-3]);
    expect(plan.variants.filter((x) => x.group === 'vwn-r4').map((x) => x.config.train.minLr)).toEqual([3e-4, 1.5e-4, 6e-4]);
    expect(plan.comparisons?.map((c) => `${c.variant}/${c.reference}`)).toEqual(['vwn-r4/iso-param', 'vwn-r4/iso-flop']);
  });
});

describe('grid files', () => {
  const grid = async (body: unknown) => {
    const dir = await mkdtemp(join(tmpdir(), 'vwn-grid-'));
    const path = join(dir, 'grid.json');
    await writeFile(path, JSON.stringify(body));
    return path;
  };

  it('take groups, comparisons and a seed count', async () => {
    const spec = await studyFromFile(
      await grid({
        seeds: 2,
        variants: [
          { name: 'a', config: {}, group: 'x' },
          { name: 'b', config: { train: { lr: 1e-3 } }, group: 'x' },
          { name: 'c', config: {} },
        ],
        comparisons: [{ variant: 'c', reference: 'b', label: 'c vs b' }],
      }),
    );
    expect(spec.seeds).toBe(2);
    expect(spec.variants.map((v) => v.group)).toEqual(['x', 'x', undefined]);
    expect(spec.comparisons).toEqual([{ variant: 'c', reference: 'b', label: 'c vs b' }]);
  });

  it('name the field of a bad entry', async () => {
    await expect(studyFromFile(await grid({ variants: [{ name: 'a', group: 3 }] }))).rejects.toThrow(/variants\[0\]\.group: expected a string/);
    await expect(studyFromFile(await grid({ variants: [{ name: 'a' }], seeds: 0 }))).rejects.toThrow(/seeds: expected a positive integer/);
    await expect(studyFromFile(await grid({ variants: [{ name: 'a' }], comparisons: [{ variant: 'a' }] }))).rejects.toThrow(/comparisons\[0\]/);
    await expect(studyFromFile(await grid({ variants: [{ name: 'a' }], extra: 1 }))).rejects.toThrow(ConfigError);
    const spec = await studyFromFile(
      await grid({ base: { dModel: 16, layers: 1, heads: 2, seqLen: 16 }, variants: [{ name: 'a' }], comparisons: [{ variant: 'a', reference: 'zz' }] }),
    );
    await expect(planStudy(spec, { corpus, tokens: 256, seeds: 1 })).rejects.toThrow(/comparisons: "zz" is not one of the variants: a/);
  });
});
