/**
 * Pure numeric helpers: seed statistics, Student's t distribution (CDF and
 * quantile, through the regularized incomplete beta function), the paired
 * t-test of per-seed differences, the token-efficiency ratio and the
 * log-linear fit of Δ loss against log2 of the virtual width factor with the
 * slope's confidence interval.
 *
 * @module
 */
import type { CurvePoint, LogLinearFit, MeanCi, PairedComparison, Stat } from './types.js';

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
export function tokenEfficiency(baselineCurve: readonly CurvePoint[], targetLoss: number, variantTokens: number): number | null {
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
 * Least-squares fit of Δ = a·log2(r) + b over every given point (e.g. one per
 * variant and seed), with R² = 1 − SS_res / SS_tot (R² = 1 when every Δ is
 * equal and the fit is exact), the slope's OLS standard error
 * `se(a) = √(SS_res / (n − 2) / Sxx)` and its 95 % confidence interval
 * `a ± t_{0.975, n−2} · se(a)`; `aSe` and `aCi95` are `null` with only 2 points
 * (no degree of freedom left).
 *
 * @throws RangeError when an r is not positive or fewer than 2 distinct r are given.
 * @example
 * ```ts
 * fitLogLinear([{ r: 2, delta: -0.1 }, { r: 4, delta: -0.2 }, { r: 8, delta: -0.3 }]);
 * // { a: -0.1, b: 0, r2: 1, n: 3, df: 1, aSe: 0, aCi95: [-0.1, -0.1] }
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
  const n = xs.length;
  const df = n - 2;
  if (df < 1) return { a, b, r2, n, df, aSe: null, aCi95: null };
  const aSe = Math.sqrt(ssRes / df / sxx);
  const h = studentTQuantile(0.975, df) * aSe;
  return { a, b, r2, n, df, aSe, aCi95: [a - h, a + h] };
}

// ---------------------------------------------------------------------------
// Student's t distribution

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012,
  9.9843695780195716e-6, 1.5056327351493116e-7,
];

/**
 * Natural logarithm of the gamma function for x > 0 (Lanczos approximation,
 * g = 7, about 15 significant digits).
 *
 * @example
 * ```ts
 * logGamma(5); // ln 24 = 3.178…
 * logGamma(0.5); // ln √π = 0.572…
 * ```
 */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x); // reflection
  const z = x - 1;
  let s = LANCZOS[0]!;
  for (let i = 1; i < 9; i++) s += LANCZOS[i]! / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(s);
}

/** Continued fraction of the incomplete beta function (modified Lentz). */
function betaContinuedFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  const qab = a + b;
  const qap = a + 1;
  const qam = a - 1;
  let c = 1;
  let d = 1 - (qab * x) / qap;
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 1000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-16) break;
  }
  return h;
}

/**
 * Regularized incomplete beta function I_x(a, b) for 0 ≤ x ≤ 1 and a, b > 0
 * (continued fraction, Numerical Recipes §6.4).
 *
 * @throws RangeError outside that domain.
 * @example
 * ```ts
 * regularizedIncompleteBeta(0.5, 2, 2); // 0.5
 * regularizedIncompleteBeta(0.3, 2.5, 0.5); // 0.018927…
 * ```
 */
export function regularizedIncompleteBeta(x: number, a: number, b: number): number {
  if (!(a > 0) || !(b > 0) || !(x >= 0 && x <= 1)) {
    throw new RangeError(`regularizedIncompleteBeta: needs 0 ≤ x ≤ 1 and a, b > 0, got x = ${x}, a = ${a}, b = ${b}`);
  }
  if (x === 0 || x === 1) return x;
  const lnFront = logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log1p(-x);
  const front = Math.exp(lnFront);
  if (x < (a + 1) / (a + b + 2)) return (front * betaContinuedFraction(x, a, b)) / a;
  return 1 - (front * betaContinuedFraction(1 - x, b, a)) / b;
}

function checkDf(df: number, fn: string): void {
  if (!(df > 0) || !Number.isFinite(df)) throw new RangeError(`${fn}: degrees of freedom must be a positive number, got ${df}`);
}

/**
 * Upper tail P(T > t) of Student's t distribution with `df` degrees of
 * freedom (accurate far into the tail, where `1 − CDF` would lose digits).
 *
 * @throws RangeError when `df` is not a positive number.
 * @example
 * ```ts
 * studentTSf(2.5, 3); // 0.043853…
 * 2 * studentTSf(Math.abs(t), df); // two-sided p-value of a t statistic
 * ```
 */
export function studentTSf(t: number, df: number): number {
  checkDf(df, 'studentTSf');
  if (Number.isNaN(t)) return NaN;
  if (t === Infinity) return 0;
  if (t === -Infinity) return 1;
  const tail = 0.5 * regularizedIncompleteBeta(df / (df + t * t), df / 2, 0.5); // P(T > |t|)
  return t >= 0 ? tail : 1 - tail;
}

/**
 * Cumulative distribution function P(T ≤ t) of Student's t distribution.
 *
 * @throws RangeError when `df` is not a positive number.
 * @example
 * ```ts
 * studentTCdf(0, 5); // 0.5
 * studentTCdf(-1.7, 10); // 0.059984…
 * ```
 */
export function studentTCdf(t: number, df: number): number {
  checkDf(df, 'studentTCdf');
  return studentTSf(-t, df);
}

function studentTPdf(t: number, df: number): number {
  return Math.exp(logGamma((df + 1) / 2) - logGamma(df / 2) - 0.5 * Math.log(df * Math.PI) - ((df + 1) / 2) * Math.log1p((t * t) / df));
}

/**
 * Quantile (inverse CDF) of Student's t distribution: the t with
 * P(T ≤ t) = p. Safeguarded Newton iteration on {@link studentTCdf}.
 *
 * @throws RangeError unless 0 < p < 1 and `df` > 0.
 * @example
 * ```ts
 * studentTQuantile(0.975, 2); // 4.302652…  (the 95 % two-sided critical value with 3 seeds)
 * studentTQuantile(0.5, 7); // 0
 * ```
 */
export function studentTQuantile(p: number, df: number): number {
  checkDf(df, 'studentTQuantile');
  if (!(p > 0 && p < 1)) throw new RangeError(`studentTQuantile: p must be in (0, 1), got ${p}`);
  if (p === 0.5) return 0;
  if (p < 0.5) return -studentTQuantile(1 - p, df);
  // Upper half: bracket [lo, hi] with cdf(lo) < p ≤ cdf(hi), then Newton steps kept inside the bracket.
  const q = 1 - p; // target upper tail
  let lo = 0;
  let hi = 1;
  while (studentTSf(hi, df) > q) {
    lo = hi;
    hi *= 2;
    if (hi > 1e300) return Infinity;
  }
  let t = (lo + hi) / 2;
  for (let i = 0; i < 200; i++) {
    const f = studentTSf(t, df) - q; // decreasing in t
    if (f === 0) return t;
    if (f > 0) lo = t;
    else hi = t;
    const step = f / studentTPdf(t, df); // Newton on sf: t_new = t + (sf(t) − q) / pdf(t)
    let next = t + step;
    if (!(next > lo && next < hi)) next = (lo + hi) / 2;
    if (Math.abs(next - t) <= 1e-15 * Math.max(1, Math.abs(t))) return next;
    t = next;
  }
  return t;
}

/**
 * Significance level of the report's tests and intervals (two-sided 95 %).
 *
 * @example
 * ```ts
 * pairedComparison([-0.1, -0.12, -0.09]).p < SIGNIFICANCE_LEVEL; // true: significant at 95 %
 * ```
 */
export const SIGNIFICANCE_LEVEL = 0.05;

/** Largest seed count {@link pairedComparison} searches for `seedsNeeded`. */
const MAX_SEEDS_NEEDED = 100_000;

/**
 * A paired comparison from per-seed differences (variant − reference, same
 * seed): mean, sample sd, the 95 % Student-t confidence interval
 * `mean ± t_{0.975, n−1} · sd/√n`, the t statistic `mean / (sd/√n)` and the
 * two-sided paired t-test p-value with `n − 1` degrees of freedom.
 *
 * `verdict` is `'significant'` when p < 0.05 (the interval excludes 0),
 * `'not-resolved'` otherwise, and `'single-seed'` with one difference (no
 * interval can be given). When not resolved and sd > 0, `seedsNeeded` is the
 * smallest n with `t_{0.975, n−1} · sd/√n < |mean|`: the paired seeds the
 * observed mean and spread say would resolve the difference (`null` when the
 * mean is 0 or more than 100,000 seeds would be needed). With sd = 0 and
 * n > 1 the interval is a point and p is 0 (or 1 when the mean is 0 as well).
 *
 * @throws RangeError on an empty list or a non-finite difference.
 * @example
 * ```ts
 * pairedComparison([-0.25, -0.01, -0.04]);
 * // { n: 3, mean: -0.1, sd: 0.1308, ci95: [-0.4248, 0.2248], t: -1.3245, df: 2, p: 0.3164,
 * //   verdict: 'not-resolved', seedsNeeded: 10 }
 * pairedComparison([-0.13]); // { n: 1, mean: -0.13, verdict: 'single-seed', ci95: null, … }
 * ```
 */
export function pairedComparison(deltas: readonly number[]): PairedComparison {
  if (deltas.length === 0) throw new RangeError('pairedComparison: no paired difference');
  if (deltas.some((d) => !Number.isFinite(d))) throw new RangeError(`pairedComparison: every difference must be finite, got ${deltas.join(', ')}`);
  const n = deltas.length;
  const m = mean(deltas);
  if (n === 1) return { n, mean: m, sd: null, ci95: null, t: null, df: null, p: null, verdict: 'single-seed', seedsNeeded: null };
  const sd = sampleStd(deltas);
  const df = n - 1;
  const se = sd / Math.sqrt(n);
  const h = studentTQuantile(0.975, df) * se;
  let t: number;
  let p: number;
  if (se === 0) {
    t = m === 0 ? 0 : m > 0 ? Infinity : -Infinity;
    p = m === 0 ? 1 : 0;
  } else {
    t = m / se;
    p = Math.min(1, 2 * studentTSf(Math.abs(t), df));
  }
  const significant = p < SIGNIFICANCE_LEVEL;
  return {
    n,
    mean: m,
    sd,
    ci95: [m - h, m + h],
    t,
    df,
    p,
    verdict: significant ? 'significant' : 'not-resolved',
    seedsNeeded: significant || sd === 0 ? null : seedsToResolve(m, sd),
  };
}

/** Smallest n ≥ 2 with t_{0.975, n−1} · sd/√n < |mean| (the half-width shrinks monotonically with n). */
function seedsToResolve(m: number, sd: number): number | null {
  if (m === 0) return null;
  const ok = (n: number) => studentTQuantile(0.975, n - 1) * (sd / Math.sqrt(n)) < Math.abs(m);
  if (!ok(MAX_SEEDS_NEEDED)) return null;
  let lo = 1; // not ok (n = 1 has no interval)
  let hi = MAX_SEEDS_NEEDED; // ok
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (ok(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}

/**
 * Mean of per-seed values with the 95 % Student-t interval of that mean
 * (`null` with one value): used for token and compute efficiency over seeds.
 *
 * @throws RangeError on an empty list.
 * @example
 * ```ts
 * meanCi([1.4, 1.5, 1.6]); // { n: 3, mean: 1.5, sd: 0.1, ci95: [1.2516, 1.7484] }
 * meanCi([1.4]); // { n: 1, mean: 1.4, sd: null, ci95: null }
 * ```
 */
export function meanCi(xs: readonly number[]): MeanCi {
  const m = mean(xs);
  if (xs.length < 2) return { n: xs.length, mean: m, sd: null, ci95: null };
  const sd = sampleStd(xs);
  const h = studentTQuantile(0.975, xs.length - 1) * (sd / Math.sqrt(xs.length));
  return { n: xs.length, mean: m, sd, ci95: [m - h, m + h] };
}
