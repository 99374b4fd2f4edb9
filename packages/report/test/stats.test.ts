import { describe, expect, it } from 'vitest';
import {
  fitLogLinear,
  logGamma,
  mean,
  meanCi,
  median,
  pairedComparison,
  regularizedIncompleteBeta,
  sampleStd,
  studentTCdf,
  studentTQuantile,
  studentTSf,
  toStat,
  tokenEfficiency,
} from '@vwn/report';

describe('fitLogLinear', () => {
  it('recovers a and b exactly on points lying on a line, with R² = 1', () => {
    const a = -0.0437;
    const b = 0.0125;
    const pts = [1.5, 2, 4, 8, 16].map((r) => ({ r, delta: a * Math.log2(r) + b }));
    const fit = fitLogLinear(pts);
    expect(fit.a).toBeCloseTo(a, 12);
    expect(fit.b).toBeCloseTo(b, 12);
    expect(fit.r2).toBeCloseTo(1, 12);
  });

  it('gives R² < 1 with noise, matching a hand computation', () => {
    // x = log2 r = 1, 2, 3; y = -0.1, -0.25, -0.3
    const pts = [
      { r: 2, delta: -0.1 },
      { r: 4, delta: -0.25 },
      { r: 8, delta: -0.3 },
    ];
    // x̄ = 2, ȳ = -0.65/3; Sxx = 2; Sxy = (-1)(-0.1 - ȳ) + 0 + (1)(-0.3 - ȳ) = -0.2
    const ybar = -0.65 / 3;
    const aHand = -0.2 / 2; // -0.1
    const bHand = ybar - aHand * 2;
    const pred = [1, 2, 3].map((x) => aHand * x + bHand);
    const ys = [-0.1, -0.25, -0.3];
    const ssRes = ys.reduce((s, y, i) => s + (y - pred[i]!) ** 2, 0);
    const ssTot = ys.reduce((s, y) => s + (y - ybar) ** 2, 0);
    const fit = fitLogLinear(pts);
    expect(fit.a).toBeCloseTo(-0.1, 12);
    expect(fit.b).toBeCloseTo(bHand, 12);
    expect(fit.r2).toBeCloseTo(1 - ssRes / ssTot, 12);
    // ssRes = 3 × (1/60)² ... = 1/600 ≈ 0.0016667; ssTot = 0.021666…; R² = 1 − 1/13 = 12/13
    expect(fit.r2).toBeCloseTo(12 / 13, 12);
    expect(fit.r2).toBeLessThan(1);
  });

  it('works with r < 1 (negative log2 r) and repeated r values', () => {
    const fit = fitLogLinear([
      { r: 0.5, delta: 0.1 },
      { r: 2, delta: -0.1 },
      { r: 2, delta: -0.1 },
    ]);
    expect(fit.a).toBeCloseTo(-0.1, 12);
    expect(fit.b).toBeCloseTo(0, 12);
    expect(fit.r2).toBeCloseTo(1, 12);
  });

  it('rejects fewer than 2 distinct r values and non-positive r', () => {
    expect(() =>
      fitLogLinear([
        { r: 2, delta: -0.1 },
        { r: 2, delta: -0.2 },
      ]),
    ).toThrow(/2 distinct r/);
    expect(() => fitLogLinear([])).toThrow(/2 distinct r/);
    expect(() =>
      fitLogLinear([
        { r: 0, delta: 0 },
        { r: 2, delta: 0 },
      ]),
    ).toThrow(/positive/);
  });
});

describe('tokenEfficiency', () => {
  const base = [
    { tokens: 100, loss: 3.0 },
    { tokens: 200, loss: 2.0 },
    { tokens: 400, loss: 1.5 },
  ];

  it('interpolates linearly between the eval points that bracket the target', () => {
    // 2.5 lies halfway between 3.0 (100 tokens) and 2.0 (200 tokens): 150 tokens.
    expect(tokenEfficiency(base, 2.5, 100)).toBeCloseTo(1.5, 12);
    // 1.8 lies 40 % of the way from 2.0 (200) to 1.5 (400): 280 tokens.
    expect(tokenEfficiency(base, 1.8, 400)).toBeCloseTo(280 / 400, 12);
    // exact eval points
    expect(tokenEfficiency(base, 2.0, 100)).toBeCloseTo(2, 12);
    expect(tokenEfficiency(base, 1.5, 400)).toBeCloseTo(1, 12);
  });

  it('returns null ("not reached") when the baseline never gets that low', () => {
    expect(tokenEfficiency(base, 1.49, 400)).toBeNull();
  });

  it('uses the first point when it is already below the target, and sorts unsorted curves', () => {
    expect(tokenEfficiency(base, 5, 50)).toBeCloseTo(2, 12);
    expect(tokenEfficiency([...base].reverse(), 2.5, 100)).toBeCloseTo(1.5, 12);
  });

  it('uses the first crossing of a non-monotone curve', () => {
    const bumpy = [
      { tokens: 100, loss: 3 },
      { tokens: 200, loss: 2 },
      { tokens: 300, loss: 2.6 },
      { tokens: 400, loss: 1 },
    ];
    expect(tokenEfficiency(bumpy, 2.5, 100)).toBeCloseTo(1.5, 12);
  });

  it('rejects an empty curve and non-positive variant tokens', () => {
    expect(() => tokenEfficiency([], 1, 1)).toThrow(RangeError);
    expect(() => tokenEfficiency(base, 1, 0)).toThrow(RangeError);
  });
});

describe('seed statistics', () => {
  it('mean, sample std (n − 1) and median', () => {
    expect(mean([1, 2, 3, 6])).toBe(3);
    expect(sampleStd([1, 2, 3, 6])).toBeCloseTo(Math.sqrt((4 + 1 + 0 + 9) / 3), 12);
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(toStat([2])).toEqual({ mean: 2, n: 1 });
    expect(toStat([1, 3])).toEqual({ mean: 2, std: Math.SQRT2, n: 2 });
  });
});

// Reference values computed once with scipy 1.17 (scipy.stats.t, scipy.special.betainc,
// scipy.stats.ttest_1samp / ttest_rel / linregress) and hard-coded here.
describe("Student's t distribution (scipy reference values)", () => {
  it('regularized incomplete beta and log-gamma', () => {
    expect(regularizedIncompleteBeta(0.3, 2.5, 0.5)).toBeCloseTo(0.018927124071945658, 13);
    expect(regularizedIncompleteBeta(0.9, 0.5, 0.5)).toBeCloseTo(0.7951672353008665, 13);
    expect(regularizedIncompleteBeta(0.7, 10, 3)).toBeCloseTo(0.25281534785499993, 13);
    expect(regularizedIncompleteBeta(0.5, 2, 2)).toBeCloseTo(0.5, 14);
    expect(regularizedIncompleteBeta(0, 2, 2)).toBe(0);
    expect(regularizedIncompleteBeta(1, 2, 2)).toBe(1);
    expect(logGamma(5)).toBeCloseTo(Math.log(24), 13);
    expect(logGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 13);
    expect(() => regularizedIncompleteBeta(1.5, 1, 1)).toThrow(RangeError);
  });

  it('quantiles t.ppf', () => {
    expect(studentTQuantile(0.975, 2)).toBeCloseTo(4.302652729749462, 11);
    expect(studentTQuantile(0.975, 1)).toBeCloseTo(12.706204736174694, 10);
    expect(studentTQuantile(0.975, 9)).toBeCloseTo(2.262157162798205, 11);
    expect(studentTQuantile(0.975, 30)).toBeCloseTo(2.0422724563012378, 11);
    expect(studentTQuantile(0.05, 4)).toBeCloseTo(-2.131846786326651, 11);
    expect(studentTQuantile(0.999, 3)).toBeCloseTo(10.214531852407383, 10);
    expect(studentTQuantile(0.5, 7)).toBe(0);
    expect(() => studentTQuantile(1, 3)).toThrow(RangeError);
    expect(() => studentTQuantile(0.9, 0)).toThrow(/degrees of freedom/);
  });

  it('tails t.sf and t.cdf, also for a non-integer df and far in the tail', () => {
    expect(studentTSf(2.5, 3)).toBeCloseTo(0.04385332350403278, 13);
    expect(studentTSf(1.0, 1)).toBeCloseTo(0.25, 13);
    expect(studentTSf(0.3, 7)).toBeCloseTo(0.3864450252010671, 13);
    expect(studentTSf(12, 5) / 3.544746258580761e-5).toBeCloseTo(1, 10);
    expect(studentTCdf(-1.7, 10)).toBeCloseTo(0.059984672954510175, 13);
    expect(studentTSf(3.2, 2.5)).toBeCloseTo(0.031705514118190725, 13);
    expect(studentTCdf(0, 5)).toBe(0.5);
    expect(studentTSf(-2.5, 3)).toBeCloseTo(1 - 0.04385332350403278, 13);
  });
});

describe('pairedComparison', () => {
  it("matches scipy ttest_1samp on the issue's VWN r = 2 deltas: not resolved, 10 seeds needed", () => {
    const c = pairedComparison([-0.25, -0.01, -0.04]);
    expect(c.n).toBe(3);
    expect(c.df).toBe(2);
    expect(c.mean).toBeCloseTo(-0.1, 14);
    expect(c.sd).toBeCloseTo(0.13076696830622023, 13);
    expect(c.t).toBeCloseTo(-1.3245323570650434, 12);
    expect(c.p).toBeCloseTo(0.31641407297533686, 12);
    expect(c.ci95![0]).toBeCloseTo(-0.4248431574207418, 12);
    expect(c.ci95![1]).toBeCloseTo(0.22484315742074185, 12);
    expect(c.verdict).toBe('not-resolved');
    // scipy: smallest n with t.ppf(0.975, n-1)·sd/√n < |mean|
    expect(c.seedsNeeded).toBe(10);
    expect(pairedComparison([0.01, -0.02, 0.005]).seedsNeeded).toBe(360);
  });

  it('is significant on a consistent difference, equal to ttest_rel on the raw losses', () => {
    const c = pairedComparison([-0.12, -0.15, -0.11, -0.14, -0.13]);
    expect(c.t).toBeCloseTo(-18.384776310850235, 10);
    expect(c.p! / 5.1499152873082705e-5).toBeCloseTo(1, 9);
    expect(c.ci95![0]).toBeCloseTo(-0.14963243161477557, 12);
    expect(c.ci95![1]).toBeCloseTo(-0.11036756838522443, 12);
    expect(c.verdict).toBe('significant');
    expect(c.seedsNeeded).toBeNull();
    const base = [2.1, 2.21, 2.04, 2.15];
    const variant = [2.01, 2.15, 1.99, 2.02];
    const rel = pairedComparison(variant.map((v, i) => v - base[i]!));
    expect(rel.t).toBeCloseTo(-4.591015068025676, 10);
    expect(rel.p).toBeCloseTo(0.01941463328422821, 12);
    expect(rel.ci95![0]).toBeCloseTo(-0.13968818524784637, 12);
    expect(rel.ci95![1]).toBeCloseTo(-0.025311814752153758, 12);
  });

  it('one seed: no interval, no test; zero spread: a point interval', () => {
    expect(pairedComparison([-0.13])).toEqual({
      n: 1,
      mean: -0.13,
      sd: null,
      ci95: null,
      t: null,
      df: null,
      p: null,
      verdict: 'single-seed',
      seedsNeeded: null,
    });
    const same = pairedComparison([-0.1, -0.1]);
    expect(same.p).toBe(0);
    expect(same.verdict).toBe('significant');
    expect(same.ci95).toEqual([-0.1, -0.1]);
    expect(pairedComparison([0, 0]).verdict).toBe('not-resolved');
    expect(pairedComparison([0, 0]).seedsNeeded).toBeNull();
    expect(() => pairedComparison([])).toThrow(RangeError);
    expect(() => pairedComparison([NaN, 1])).toThrow(/finite/);
  });

  it('meanCi: mean with the Student-t interval', () => {
    const e = meanCi([1.4, 1.5, 1.6]);
    expect(e.mean).toBeCloseTo(1.5, 14);
    expect(e.sd).toBeCloseTo(0.1, 14);
    const h = 4.302652729749462 * (0.1 / Math.sqrt(3));
    expect(e.ci95![0]).toBeCloseTo(1.5 - h, 12);
    expect(e.ci95![1]).toBeCloseTo(1.5 + h, 12);
    expect(meanCi([1.4])).toEqual({ n: 1, mean: 1.4, sd: null, ci95: null });
  });
});

describe('fitLogLinear slope interval (scipy linregress)', () => {
  it('fits every (variant, seed) point: slope, intercept, R², standard error and CI', () => {
    const ys = [-0.05, -0.08, -0.02, -0.11, -0.15, -0.09, -0.2, -0.17, -0.26];
    const pts = ys.map((delta, i) => ({ r: 2 ** (1 + Math.floor(i / 3)), delta }));
    const fit = fitLogLinear(pts);
    expect(fit.n).toBe(9);
    expect(fit.df).toBe(7);
    expect(fit.a).toBeCloseTo(-0.08, 13);
    expect(fit.b).toBeCloseTo(0.03444444444444447, 13);
    expect(fit.r2).toBeCloseTo(0.8236415633937084, 12);
    expect(fit.aSe).toBeCloseTo(0.013991683092723178, 12);
    const h = 2.364624251592784 * 0.013991683092723178;
    expect(fit.aCi95![0]).toBeCloseTo(-0.08 - h, 12);
    expect(fit.aCi95![1]).toBeCloseTo(-0.08 + h, 12);
  });

  it('has no slope interval with 2 points', () => {
    const fit = fitLogLinear([
      { r: 2, delta: -0.1 },
      { r: 4, delta: -0.2 },
    ]);
    expect(fit.df).toBe(0);
    expect(fit.aSe).toBeNull();
    expect(fit.aCi95).toBeNull();
  });
});
