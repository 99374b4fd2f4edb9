import { describe, expect, it } from 'vitest';
import { fitLogLinear, mean, median, sampleStd, toStat, tokenEfficiency } from '@vwn/report';

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
    expect(() => fitLogLinear([{ r: 2, delta: -0.1 }, { r: 2, delta: -0.2 }])).toThrow(/2 distinct r/);
    expect(() => fitLogLinear([])).toThrow(/2 distinct r/);
    expect(() => fitLogLinear([{ r: 0, delta: 0 }, { r: 2, delta: 0 }])).toThrow(/positive/);
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
