/**
 * Pure numeric helpers: seed statistics, the token-efficiency ratio and the
 * log-linear fit of Δ loss against log2 of the virtual width factor.
 *
 * @module
 */
import type { CurvePoint, LogLinearFit, Stat } from './types.js';

/**
 * Arithmetic mean.
 *
 * @throws RangeError on an empty list.
 * @example
 * ```ts
 * mean([1, 2, 3]); // 2
 * ```
 */
export function mean(xs: readonly number[]): number {
  if (xs.length === 0) throw new RangeError('mean of an empty list');
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/**
 * Sample standard deviation (n − 1 denominator); 0 for a single value.
 *
 * @throws RangeError on an empty list.
 * @example
 * ```ts
 * sampleStd([1, 2, 3]); // 1
 * ```
 */
export function sampleStd(xs: readonly number[]): number {
  const m = mean(xs);
  if (xs.length < 2) return 0;
  let s = 0;
  for (const x of xs) s += (x - m) * (x - m);
  return Math.sqrt(s / (xs.length - 1));
}

/**
 * Median (mean of the two middle values for an even count).
 *
 * @throws RangeError on an empty list.
 * @example
 * ```ts
 * median([3, 1, 2]); // 2
 * median([4, 1, 2, 3]); // 2.5
 * ```
 */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new RangeError('median of an empty list');
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * Mean over seeds, with the sample standard deviation when there are several.
 *
 * @example
 * ```ts
 * toStat([2.0]); // { mean: 2, n: 1 }
 * toStat([1, 3]); // { mean: 2, std: 1.414…, n: 2 }
 * ```
 */
export function toStat(xs: readonly number[]): Stat {
  const m = mean(xs);
  return xs.length > 1 ? { mean: m, std: sampleStd(xs), n: xs.length } : { mean: m, n: xs.length };
}

/**
 * Token-efficiency ratio: the tokens the baseline needs to reach `targetLoss`,
 * found by linear interpolation between the two eval points that bracket the
 * first crossing of its curve, divided by `variantTokens`. A ratio of 2 means
 * the baseline needs twice the tokens for the same held-out loss.
 *
 * - Returns `null` ("not reached") when no baseline point is at or below `targetLoss`.
 * - When the baseline's first eval point is already at or below the target, its
 *   tokens are used (the baseline may have got there earlier; the ratio is then an
 *   upper bound).
 * - Points are sorted by tokens first; a non-monotone curve uses its first crossing.
 *
 * @param baselineCurve - the baseline's held-out loss curve.
 * @param targetLoss - the variant's final held-out loss.
 * @param variantTokens - the tokens the variant trained on to reach `targetLoss` (> 0).
 * @throws RangeError on an empty curve or a non-positive `variantTokens`.
 * @example
 * ```ts
 * const base = [{ tokens: 100, loss: 3 }, { tokens: 200, loss: 2 }, { tokens: 300, loss: 1.5 }];
 * tokenEfficiency(base, 2.5, 100); // 1.5  (150 baseline tokens / 100)
 * tokenEfficiency(base, 1.0, 300); // null (the baseline never gets that low)
 * ```
 */
export function tokenEfficiency(
  baselineCurve: readonly CurvePoint[],
  targetLoss: number,
  variantTokens: number,
): number | null {
  if (baselineCurve.length === 0) throw new RangeError('tokenEfficiency: the baseline curve is empty');
  if (!(variantTokens > 0) || !Number.isFinite(variantTokens)) {
    throw new RangeError(`tokenEfficiency: variantTokens must be a positive number, got ${variantTokens}`);
  }
  const pts = [...baselineCurve].sort((p, q) => p.tokens - q.tokens);
  for (let i = 0; i < pts.length; i++) {
    const p = pts[i]!;
    if (p.loss <= targetLoss) {
      if (i === 0) return p.tokens / variantTokens;
      const q = pts[i - 1]!; // q.loss > targetLoss >= p.loss
      const frac = (q.loss - targetLoss) / (q.loss - p.loss);
      return (q.tokens + frac * (p.tokens - q.tokens)) / variantTokens;
    }
  }
  return null;
}

/**
 * Least-squares fit of Δ = a·log2(r) + b, with R² = 1 − SS_res / SS_tot
 * (R² = 1 when every Δ is equal and the fit is exact).
 *
 * @throws RangeError when an r is not positive or fewer than 2 distinct r are given.
 * @example
 * ```ts
 * fitLogLinear([{ r: 2, delta: -0.1 }, { r: 4, delta: -0.2 }, { r: 8, delta: -0.3 }]);
 * // { a: -0.1, b: 0, r2: 1 }
 * ```
 */
export function fitLogLinear(points: ReadonlyArray<{ readonly r: number; readonly delta: number }>): LogLinearFit {
  for (const p of points) {
    if (!(p.r > 0) || !Number.isFinite(p.r)) throw new RangeError(`fitLogLinear: r must be positive, got ${p.r}`);
  }
  const distinct = new Set(points.map((p) => p.r));
  if (distinct.size < 2) throw new RangeError(`fitLogLinear: the fit needs at least 2 distinct r values, got ${distinct.size}`);
  const xs = points.map((p) => Math.log2(p.r));
  const ys = points.map((p) => p.delta);
  const mx = mean(xs);
  const my = mean(ys);
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < xs.length; i++) {
    sxx += (xs[i]! - mx) ** 2;
    sxy += (xs[i]! - mx) * (ys[i]! - my);
  }
  const a = sxy / sxx;
  const b = my - a * mx;
  let ssRes = 0;
  let ssTot = 0;
  for (let i = 0; i < xs.length; i++) {
    ssRes += (ys[i]! - (a * xs[i]! + b)) ** 2;
    ssTot += (ys[i]! - my) ** 2;
  }
  const scale = Math.max(1, ...ys.map((y) => y * y));
  const r2 = ssTot <= 1e-24 * scale ? (ssRes <= 1e-24 * scale ? 1 : 0) : 1 - ssRes / ssTot;
  return { a, b, r2 };
}
