// Paired statistics, efficiencies, equal-compute curves, groups, comparisons,
// run provenance and report.json on a study folder whose every number is known.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeStudy, lossCurveSpec, readStudy, runLossCurve, StudyReadError, writeReport, type StudyAnalysis } from '@vwn/report';
import { writeStudyFolder, type ExactRun, type ExactVariant } from './fixtures.js';

// scipy 1.17 reference values (computed once, hard-coded)
const T975_DF2 = 4.302652729749462; // t.ppf(0.975, 2)
const T975_DF4 = 2.7764451051977934; // t.ppf(0.975, 4)

const avg = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
const sd = (xs: number[]) => {
  const m = avg(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
};
/** Tokens at which a [tokens, loss] polyline first reaches `target` (linear interpolation). */
function reach(curve: Array<[number, number]>, target: number): number {
  for (let i = 1; i < curve.length; i++) {
    const [t0, l0] = curve[i - 1]!;
    const [t1, l1] = curve[i]!;
    if (l1 <= target) return t0 + ((l0 - target) / (l0 - l1)) * (t1 - t0);
  }
  throw new Error('not reached');
}
function parseTables(md: string): Array<Array<Record<string, string>>> {
  const out: Array<Array<Record<string, string>>> = [];
  let cur: string[] = [];
  for (const l of [...md.split('\n'), '']) {
    if (l.startsWith('| ')) cur.push(l);
    else if (cur.length) {
      const cells = (x: string) => x.slice(2, -2).split(' | ');
      const head = cells(cur[0]!);
      out.push(cur.slice(2).map((x) => Object.fromEntries(cells(x).map((c, i) => [head[i]!, c]))));
      cur = [];
    }
  }
  return out;
}

const STEPS = 10;
const TPS = 100; // tokens per step
const run = (seed: number, mid: number, final: number, ms: number, extra: Partial<ExactRun> = {}): ExactRun => ({
  seed,
  evals: [
    [0, 5],
    [5, mid],
    [10, final],
  ],
  stepMs: Array(STEPS).fill(ms),
  ...extra,
});
const BASE_FINAL = [2.1, 2.21, 2.04];
const BASE_MID = [2.6, 2.7, 2.5];
const VWN_FINAL = [2.01, 2.15, 1.99];
const VWN_MID = [2.4, 2.5, 2.3];
const NOISY_FINAL = [1.85, 2.2, 2.0]; // Δ = -0.25, -0.01, -0.04 (the VWN r = 2 spread)
const NARROW_FINAL = [2.3, 2.35, 2.2];
const NARROW_MID = [2.9, 3.0, 2.8];
const VARIANTS: ExactVariant[] = [
  {
    name: 'baseline',
    r: 1,
    flopsPerToken: 1e6,
    group: 'baseline',
    runs: [
      // seed 0 was resumed: step 3 is logged again with another step time (the last record counts)
      run(0, 2.6, 2.1, 10, {
        info: { host: 'box-a', backend: 'tensorflow' },
        extraLines: [JSON.stringify({ type: 'train', step: 3, tokens: 300, loss: 2.9, stepMs: 30 })],
      }),
      run(1, 2.7, 2.21, 10, { info: { host: 'box-a', backend: 'tensorflow' } }),
      run(2, 2.5, 2.04, 10, { info: { host: 'box-b', backend: 'wasm', threads: 2 } }),
    ],
  },
  { name: 'baseline-lr0.5', r: 1, flopsPerToken: 1e6, group: 'baseline', runs: [run(0, 2.55, 2.08, 10), run(1, 2.65, 2.2, 10), run(2, 2.45, 2.03, 10)] },
  { name: 'vwn-r4', r: 4, flopsPerToken: 2e6, group: 'vwn-r4', runs: VWN_FINAL.map((f, s) => run(s, VWN_MID[s]!, f, 20)) },
  { name: 'noisy', r: 2, flopsPerToken: 1.2e6, runs: NOISY_FINAL.map((f, s) => run(s, [2.3, 2.6, 2.4][s]!, f, 12)) },
  { name: 'narrow', r: 1, flopsPerToken: 0.5e6, runs: NARROW_FINAL.map((f, s) => run(s, NARROW_MID[s]!, f, 5)) },
];
const curve = (mid: number, final: number): Array<[number, number]> => [
  [0, 5],
  [500, mid],
  [1000, final],
];

describe('analyzeStudy on an exact three-seed study', () => {
  let dir: string;
  let a: StudyAnalysis;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vwn-report-exact-'));
    await writeStudyFolder(dir, VARIANTS, {
      steps: STEPS,
      tokensPerStep: TPS,
      extra: { comparisons: [{ variant: 'vwn-r4', reference: 'narrow', label: 'VWN r4 vs narrow' }] },
    });
    a = analyzeStudy(await readStudy(dir));
    await writeReport(dir, { png: false, machine: 'Test CPU × 2' });
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('paired Δ vs baseline: mean, sd, CI, t, p and verdict equal scipy ttest_rel', () => {
    const vwn = a.summaries.find((s) => s.name === 'vwn-r4')!.vsBaseline!;
    expect(vwn.seeds).toEqual([0, 1, 2]);
    expect(vwn.deltas.map((d) => +d.toFixed(12))).toEqual([-0.09, -0.06, -0.05]);
    const t = vwn.test!;
    expect(t.mean).toBeCloseTo(-0.2 / 3, 12);
    expect(t.sd).toBeCloseTo(sd([-0.09, -0.06, -0.05]), 12);
    expect(t.t).toBeCloseTo(-5.547001962252264, 9);
    expect(t.p).toBeCloseTo(0.030996833776981828, 10);
    expect(t.ci95![0]).toBeCloseTo(-0.11837811679208979, 10);
    expect(t.ci95![1]).toBeCloseTo(-0.014955216541243828, 10);
    expect(t.verdict).toBe('significant');
    const noisy = a.summaries.find((s) => s.name === 'noisy')!.vsBaseline!.test!;
    expect(noisy.p).toBeCloseTo(0.31641407297533686, 10);
    expect(noisy.verdict).toBe('not-resolved');
    expect(noisy.seedsNeeded).toBe(10);
    expect(a.summaries[0]!.vsBaseline).toBeNull();
  });

  it('token and compute efficiency per seed (same-seed baseline curve), with mean and CI', () => {
    // narrow is worse: the baseline reaches its loss (forward reading).
    const narrow = a.summaries.find((s) => s.name === 'narrow')!.vsBaseline!;
    const fwd = NARROW_FINAL.map((f, s) => reach(curve(BASE_MID[s]!, BASE_FINAL[s]!), f) / 1000);
    expect(fwd[0]).toBeCloseTo(0.8, 12);
    narrow.tokenEfficiency.bySeed.forEach((e, s) => {
      expect(e.atReferenceLoss).toBe(false);
      expect(e.ratio).toBeCloseTo(fwd[s]!, 12);
    });
    expect(narrow.tokenEfficiency.atReferenceLoss).toBe(false);
    expect(narrow.tokenEfficiency.stat!.mean).toBeCloseTo(avg(fwd), 12);
    const h = (T975_DF2 * sd(fwd)) / Math.sqrt(3);
    expect(narrow.tokenEfficiency.stat!.ci95![0]).toBeCloseTo(avg(fwd) - h, 12);
    expect(narrow.tokenEfficiency.stat!.ci95![1]).toBeCloseTo(avg(fwd) + h, 12);
    // compute efficiency = the baseline's FLOPs to reach the loss ÷ narrow's FLOPs: 1e6 vs 0.5e6 per token
    narrow.computeEfficiency.bySeed.forEach((e, s) => expect(e.ratio).toBeCloseTo((3 * 1e6 * fwd[s]! * 1000) / (3 * 0.5e6 * 1000), 12));
    // vwn-r4 is better: the baseline never gets that low → read at the baseline's final loss.
    const vwn = a.summaries.find((s) => s.name === 'vwn-r4')!.vsBaseline!;
    const rev = BASE_FINAL.map((b, s) => 1000 / reach(curve(VWN_MID[s]!, VWN_FINAL[s]!), b));
    vwn.tokenEfficiency.bySeed.forEach((e, s) => {
      expect(e.atReferenceLoss).toBe(true);
      expect(e.ratio).toBeCloseTo(rev[s]!, 12);
    });
    expect(vwn.tokenEfficiency.stat!.mean).toBeCloseTo(avg(rev), 12);
    expect(vwn.computeEfficiency.stat!.mean).toBeCloseTo(avg(rev) / 2, 12);
    expect(vwn.computeEfficiency.atReferenceLoss).toBe(true);
  });

  it('fits Δ = a·log2 r + b over every (variant, seed) point with the slope CI (scipy linregress)', () => {
    expect(a.fit.fitPoints.map((p) => p.name)).toEqual(['vwn-r4', 'noisy']);
    expect(a.fit.seedPoints).toHaveLength(6);
    const f = a.fit.fit!;
    expect(f.n).toBe(6);
    expect(f.a).toBeCloseTo(0.03333333333333314, 12);
    expect(f.b).toBeCloseTo(-0.13333333333333308, 12);
    expect(f.r2).toBeCloseTo(0.045372050816696353, 12);
    expect(f.aSe).toBeCloseTo(0.07644896627453149, 12);
    expect(f.aCi95![0]).toBeCloseTo(0.03333333333333314 - T975_DF4 * 0.07644896627453149, 11);
    expect(f.aCi95![1]).toBeCloseTo(0.03333333333333314 + T975_DF4 * 0.07644896627453149, 11);
  });

  it('loss curves on training FLOPs and wall-clock seconds (a resumed step keeps its last record)', async () => {
    const study = await readStudy(dir);
    const c = runLossCurve(study.variants[0]!.runs[0]!, 1e6);
    expect(c.map((p) => p.tokens)).toEqual([0, 500, 1000]);
    expect(c.map((p) => p.flops)).toEqual([0, 3 * 1e6 * 500, 3 * 1e6 * 1000]);
    // steps 1–5: 10 + 10 + 30 (resumed step 3) + 10 + 10 ms
    expect(c.map((p) => p.seconds)).toEqual([0, 0.07, 0.12]);
    const mean = a.curves['baseline']!;
    expect(mean.at(-1)!.seconds).toBeCloseTo((0.12 + 0.1 + 0.1) / 3, 12);
    expect(mean.at(-1)!.loss).toBeCloseTo(avg(BASE_FINAL), 12);
    expect(mean.at(-1)!.std).toBeCloseTo(sd(BASE_FINAL), 12);
    expect(a.curves['vwn-r4']!.at(-1)!.flops).toBe(3 * 2e6 * 1000);
    expect(a.summaries.find((s) => s.name === 'vwn-r4')!.trainSeconds!.mean).toBeCloseTo(0.2, 12);
    // y zoom: from the lowest seed-mean loss to the highest seed-mean loss at the first eval ≥ 15 % of training, padded 5 %.
    const finals = [BASE_FINAL, [2.08, 2.2, 2.03], VWN_FINAL, NOISY_FINAL, NARROW_FINAL];
    const lo = Math.min(...finals.map(avg));
    const hi = avg(NARROW_MID);
    const spec = lossCurveSpec(study, 'flops') as unknown as { layer: Array<{ encoding: { y: { scale: { domain: number[] } } } }> };
    const domain = spec.layer.at(-1)!.encoding.y.scale.domain;
    expect(domain[0]).toBeCloseTo(lo - 0.05 * (hi - lo), 12);
    expect(domain[1]).toBeCloseTo(hi + 0.05 * (hi - lo), 12);
    // The ± std band stays inside the zoomed range in the data itself (resvg drops clip-path'd areas).
    const values = (spec as unknown as { data: { values: Array<{ lo: number; hi: number; loss: number }> } }).data.values;
    expect(values.some((v) => v.loss > domain[1]!)).toBe(true);
    for (const v of values) {
      expect(v.lo).toBeGreaterThanOrEqual(domain[0]!);
      expect(v.hi).toBeLessThanOrEqual(domain[1]!);
    }
  });

  it('best of each group, requested comparisons and run provenance', () => {
    expect(a.groups!.map((g) => [g.group, g.members, g.best])).toEqual([
      ['baseline', ['baseline', 'baseline-lr0.5'], 'baseline-lr0.5'],
      ['vwn-r4', ['vwn-r4'], 'vwn-r4'],
      ['noisy', ['noisy'], 'noisy'],
      ['narrow', ['narrow'], 'narrow'],
    ]);
    expect(a.groups![0]!.vsBaselineGroup).toBeNull();
    const g = a.groups![1]!.vsBaselineGroup!;
    expect(g.reference).toBe('baseline-lr0.5');
    const d = [-0.07, -0.05, -0.04];
    expect(g.test!.mean).toBeCloseTo(avg(d), 12);
    expect(g.test!.ci95![0]).toBeCloseTo(avg(d) - (T975_DF2 * sd(d)) / Math.sqrt(3), 12);
    const c = a.comparisons[0]!;
    expect(c.label).toBe('VWN r4 vs narrow');
    expect(c.deltas.map((x) => +x.toFixed(12))).toEqual([-0.29, -0.2, -0.21]);
    expect(c.tokenEfficiency.bySeed[0]!.ratio).toBeCloseTo(1000 / reach(curve(2.4, 2.01), 2.3), 12);
    expect(a.provenance).toEqual({
      machines: [
        { host: 'box-a', backend: 'tensorflow', runs: 2 },
        { host: 'box-b', backend: 'wasm', runs: 1 },
      ],
      backends: ['tensorflow', 'wasm'],
      mixedBackends: true,
      runsWithoutInfo: 12,
    });
  });

  it('report.md: significance, comparison and group tables, provenance and the mixed-backend warning', async () => {
    const md = await readFile(join(dir, 'report.md'), 'utf8');
    const [main, sig, cmp, groups] = parseTables(md) as [
      Array<Record<string, string>>,
      Array<Record<string, string>>,
      Array<Record<string, string>>,
      Array<Record<string, string>>,
    ];
    const vwnMain = main.find((r) => r['variant'] === 'vwn-r4')!;
    expect(vwnMain['Δ vs baseline [95 % CI]']).toBe('-0.0667 [-0.1184, -0.0150]');
    expect(vwnMain['verdict']).toBe('significant at 95 %');
    expect(vwnMain['token efficiency']).toMatch(/^\d\.\d\d× \[\d\.\d\d, \d\.\d\d\] †$/);
    expect(main.find((r) => r['variant'] === 'noisy')!['verdict']).toBe('not resolved (≈10 paired seeds needed)');
    expect(main.find((r) => r['variant'] === 'narrow')!['token efficiency']).not.toContain('†');
    expect(sig.find((r) => r['comparison'] === 'vwn-r4 vs baseline')).toMatchObject({
      'paired seeds': '3',
      'mean Δ': '-0.0667',
      sd: sd([-0.09, -0.06, -0.05]).toFixed(4),
      '95 % CI': '[-0.1184, -0.0150]',
      t: '-5.55',
      p: '0.031',
      verdict: 'significant at 95 %',
    });
    expect(sig.find((r) => r['comparison'] === 'noisy vs baseline')!['p']).toBe('0.316');
    expect(cmp[0]).toMatchObject({ comparison: 'VWN r4 vs narrow', 'paired seeds': '3', 'mean Δ': '-0.2333' });
    expect(groups.map((r) => r['best member'])).toEqual(['baseline-lr0.5', 'vwn-r4', 'noisy', 'narrow']);
    expect(groups[0]!['Δ vs best of baseline group [95 % CI]']).toBe('(baseline group)');
    expect(groups[1]!['Δ vs best of baseline group [95 % CI]']).toMatch(/^-0\.0533 \[/);
    expect(md).toContain('## Best of each group');
    expect(md).toMatch(/favours each group slightly/);
    expect(md).toContain('**Runs made on:** box-a (tensorflow): 2 runs; box-b (wasm): 1 run; not recorded: 12 runs');
    expect(md).toMatch(/> \*\*Mixed backends:\*\* .*\(tensorflow, wasm\)/);
    expect(md).toContain('slope 95 % CI [');
    for (const stem of ['loss-vs-tokens', 'loss-vs-flops', 'loss-vs-seconds', 'delta-vs-log2r']) expect(md).toContain(`(plots/${stem}.svg)`);
  });

  it('report.json holds the numbers of the report', async () => {
    const j = JSON.parse(await readFile(join(dir, 'report.json'), 'utf8'));
    expect(j.format).toBe('vwn-report');
    expect(j.study).toMatchObject({ name: 'exact-study', seeds: [0, 1, 2], baseline: 'baseline', tokensPerVariant: 1000 });
    expect(j.trainingFlopsPerForward).toBe(3);
    const vwn = j.summaries.find((s: { name: string }) => s.name === 'vwn-r4');
    expect(vwn.vsBaseline.test.p).toBeCloseTo(0.030996833776981828, 10);
    expect(vwn.vsBaseline.tokenEfficiency.bySeed).toHaveLength(3);
    expect(j.fit.fit.aCi95).toHaveLength(2);
    expect(j.fit.fittedVariants).toEqual(['vwn-r4', 'noisy']);
    expect(j.fit.seedPoints).toHaveLength(6);
    expect(j.groups[1].best).toBe('vwn-r4');
    expect(j.comparisons[0].label).toBe('VWN r4 vs narrow');
    expect(j.curves['baseline'][2]).toMatchObject({ step: 10, tokens: 1000, flops: 3e9 });
    expect(j.provenance.mixedBackends).toBe(true);
    expect(j.notes.some((n: string) => n.includes('Mixed backends'))).toBe(true);
  });
});

describe('study.json and run.json errors', () => {
  it('names a comparison that refers to no variant, and an unparsable run.json', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vwn-report-bad-'));
    try {
      await writeStudyFolder(dir, VARIANTS.slice(0, 2), {
        steps: STEPS,
        tokensPerStep: TPS,
        extra: { comparisons: [{ variant: 'baseline-lr0.5', reference: 'nope' }] },
      });
      const err = await readStudy(dir).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StudyReadError);
      expect((err as Error).message).toMatch(/comparisons\[0\]\.reference must be one of the variants \(baseline, baseline-lr0\.5\), got "nope"/);
      await writeStudyFolder(dir, VARIANTS.slice(0, 2), { steps: STEPS, tokensPerStep: TPS });
      const bad = join(dir, 'runs', 'baseline', 'seed-1', 'run.json');
      await writeFile(bad, '{"host": ');
      const err2 = await readStudy(dir).catch((e: unknown) => e);
      expect(err2).toBeInstanceOf(StudyReadError);
      expect((err2 as StudyReadError).file).toBe(bad);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
