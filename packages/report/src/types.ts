/**
 * Types of an ablation study folder as written by `vwn ablate`, and of the
 * summaries computed from it. This package reads the files itself, so it does
 * not depend on `@vwn/core` (nor on TensorFlow.js).
 *
 * @module
 */

/**
 * One `{"type":"train",…}` line of a run's `metrics.jsonl`.
 *
 * @example
 * ```ts
 * const rec: TrainRecord = {
 *   type: 'train', step: 1, tokens: 512, loss: 4.1, totalLoss: 4.1, terms: {}, metrics: {},
 *   lr: 1e-3, gradNorm: 1.2, tokensPerSecond: 9000, stepMs: 57, tensors: 120,
 * };
 * ```
 */
export interface TrainRecord {
  readonly type: 'train';
  /** Optimizer steps completed. */
  readonly step: number;
  /** Training tokens consumed so far. */
  readonly tokens: number;
  /** Next-token train loss (nats). */
  readonly loss: number;
  readonly totalLoss?: number;
  /** Other named losses, e.g. `next2_loss` for multi-token-prediction variants. */
  readonly terms?: Readonly<Record<string, number>>;
  readonly metrics?: Readonly<Record<string, number | readonly number[]>>;
  readonly lr?: number;
  readonly gradNorm?: number;
  readonly tokensPerSecond?: number;
  /** Wall time of the step in milliseconds. */
  readonly stepMs?: number;
  readonly tensors?: number;
}

/**
 * One `{"type":"eval",…}` line of a run's `metrics.jsonl`: held-out losses.
 *
 * @example
 * ```ts
 * const rec: EvalRecord = { type: 'eval', step: 100, tokens: 51200, loss: 2.31, terms: { next2_loss: 2.9 } };
 * ```
 */
export interface EvalRecord {
  readonly type: 'eval';
  readonly step: number;
  readonly tokens: number;
  /** Held-out next-token loss (nats). */
  readonly loss: number;
  /** Held-out objective terms, e.g. `next2_loss`. */
  readonly terms?: Readonly<Record<string, number>>;
}

/**
 * A run (one variant, one seed) as described in `study.json`.
 *
 * @example
 * ```ts
 * const run: StudyRunRef = { seed: 0, dir: 'runs/baseline/seed-0' };
 * ```
 */
export interface StudyRunRef {
  readonly seed: number;
  /** Run directory, relative to the study folder. */
  readonly dir: string;
}

/**
 * A variant as recorded in `study.json`.
 *
 * @example
 * ```ts
 * const v: StudyVariantManifest = {
 *   name: 'vwn-r2', description: 'virtual width ×2', r: 2, m: 2, n: 4, config: {},
 *   params: 1_200_000, activeParams: 1_200_000, flopsPerToken: 7.4e6,
 *   runs: [{ seed: 0, dir: 'runs/vwn-r2/seed-0' }],
 * };
 * ```
 */
export interface StudyVariantManifest<Config = unknown> {
  readonly name: string;
  readonly description: string;
  /** Virtual width factor n/m; 1 for the baseline. */
  readonly r: number;
  readonly m: number;
  readonly n: number;
  /** The resolved run config (opaque to the report; `vwn ablate` stores @vwn/core's `RunConfig`). */
  readonly config: Config;
  readonly params: number;
  readonly activeParams: number;
  readonly flopsPerToken: number;
  readonly runs: readonly StudyRunRef[];
}

/**
 * The content of `OUT/study.json`.
 *
 * @example
 * ```ts
 * const m: StudyManifest = {
 *   name: 'vwn-small', createdAt: new Date().toISOString(), tokensPerVariant: 1e6,
 *   seeds: [0], baseline: 'baseline', variants: [],
 * };
 * ```
 */
export interface StudyManifest<Config = unknown> {
  readonly name: string;
  readonly createdAt: string;
  readonly tokensPerVariant: number;
  readonly seeds: readonly number[];
  /** Name of the baseline variant. */
  readonly baseline: string;
  readonly variants: readonly StudyVariantManifest<Config>[];
}

/**
 * A run with its metrics loaded.
 *
 * @example
 * ```ts
 * const study = await readStudy('out/study');
 * const run: RunData = study.variants[0]!.runs[0]!;
 * console.log(run.seed, run.train.length, run.evals.at(-1)?.loss);
 * ```
 */
export interface RunData {
  readonly seed: number;
  /** Run directory relative to the study folder. */
  readonly dir: string;
  /** Train records in step order (a step logged twice, e.g. after a resume, keeps its last line). */
  readonly train: readonly TrainRecord[];
  /** Eval records in step order (deduplicated like {@link RunData.train}). */
  readonly evals: readonly EvalRecord[];
}

/**
 * A variant with all its runs loaded.
 *
 * @example
 * ```ts
 * const study = await readStudy('out/study');
 * for (const v of study.variants) console.log(v.name, v.r, v.runs.length);
 * ```
 */
export interface VariantData extends Omit<StudyVariantManifest, 'runs'> {
  readonly runs: readonly RunData[];
}

/**
 * A study folder read by {@link readStudy}.
 *
 * @example
 * ```ts
 * const study: Study = await readStudy('out/study');
 * console.log(study.manifest.name, study.variants.map((v) => v.name));
 * ```
 */
export interface Study {
  /** Absolute or caller-relative path of the study folder. */
  readonly outDir: string;
  readonly manifest: StudyManifest;
  readonly variants: readonly VariantData[];
}

/**
 * A statistic over seeds: the mean, and the sample standard deviation
 * (n − 1 denominator) when there is more than one seed.
 *
 * @example
 * ```ts
 * const s: Stat = { mean: 2.31, std: 0.01, n: 3 };
 * ```
 */
export interface Stat {
  readonly mean: number;
  /** Sample standard deviation over seeds; present only when `n > 1`. */
  readonly std?: number;
  /** Number of seeds the statistic is over. */
  readonly n: number;
}

/**
 * One row of the report table, produced by {@link summarize}.
 *
 * @example
 * ```ts
 * const rows: VariantSummary[] = summarize(await readStudy('out/study'));
 * for (const r of rows) console.log(r.name, r.heldOutLoss.mean, r.tokenEfficiency);
 * ```
 */
export interface VariantSummary {
  readonly name: string;
  readonly description: string;
  readonly r: number;
  readonly m: number;
  readonly n: number;
  readonly isBaseline: boolean;
  /** Seeds the variant was run with. */
  readonly seeds: readonly number[];
  /** Mean next-token train loss over the last 5 % of train records (at least one), per seed. */
  readonly finalTrainLoss: Stat;
  /** Held-out next-token loss of the last eval record, per seed. */
  readonly heldOutLoss: Stat;
  /** Held-out next-2 loss (`terms.next2_loss` of the last eval record) when every seed has it. */
  readonly heldOutNext2Loss: Stat | null;
  /**
   * Held-out loss minus the baseline's (negative = better), paired by seed
   * where the baseline ran the same seed, else against the baseline's mean.
   */
  readonly deltaVsBaseline: Stat;
  /**
   * Tokens the baseline needs to reach this variant's final held-out loss
   * (linear interpolation on the baseline's seed-mean eval curve) divided by
   * this variant's tokens; `null` = not reached by the baseline.
   */
  readonly tokenEfficiency: number | null;
  /**
   * The reverse reading, defined when the variant beats the baseline: the
   * baseline's tokens divided by the tokens this variant needs to reach the
   * baseline's final held-out loss (interpolated on this variant's seed-mean
   * eval curve); `null` when the variant never gets that low.
   */
  readonly tokenEfficiencyAtBaselineLoss: number | null;
  /** Training tokens at the variant's last eval (mean over seeds). */
  readonly tokens: number;
  /** Median `tokensPerSecond` over train records after the first 3, per seed. */
  readonly tokensPerSecond: Stat | null;
  /** Median `stepMs` over train records after the first 3, per seed. */
  readonly stepMs: Stat | null;
  /** Median step time over the baseline's, minus 1, paired by seed like the delta. */
  readonly stepTimeOverhead: Stat | null;
  readonly params: number;
  readonly activeParams: number;
  readonly flopsPerToken: number;
  /** `flopsPerToken / baseline.flopsPerToken − 1`. */
  readonly flopOverhead: number;
}

/**
 * A point of a held-out loss curve.
 *
 * @example
 * ```ts
 * const p: CurvePoint = { tokens: 51200, loss: 2.31 };
 * ```
 */
export interface CurvePoint {
  readonly tokens: number;
  readonly loss: number;
}

/**
 * Result of {@link fitLogLinear}: Δ = a·log2(r) + b with coefficient of
 * determination R², fitted over `n` points, and the slope's OLS standard error
 * and 95 % confidence interval (Student t with `n − 2` degrees of freedom;
 * `null` with only 2 points).
 *
 * @example
 * ```ts
 * const fit: LogLinearFit = fitLogLinear([{ r: 2, delta: -0.05 }, { r: 4, delta: -0.09 }, { r: 4, delta: -0.1 }]);
 * if (fit.aCi95) console.log(`slope ${fit.a} [${fit.aCi95[0]}, ${fit.aCi95[1]}]`);
 * ```
 */
export interface LogLinearFit {
  /** Slope: Δ per doubling of r (nats). */
  readonly a: number;
  /** Intercept (Δ at r = 1). */
  readonly b: number;
  readonly r2: number;
  /** Points fitted. */
  readonly n: number;
  /** Residual degrees of freedom, n − 2. */
  readonly df: number;
  /** Standard error of the slope; `null` when df < 1. */
  readonly aSe: number | null;
  /** 95 % confidence interval of the slope; `null` when df < 1. */
  readonly aCi95: readonly [number, number] | null;
}

/**
 * Verdict of a paired comparison: `significant` (the 95 % interval excludes
 * 0), `not-resolved` (it includes 0), or `single-seed` (one pair: no interval).
 *
 * @example
 * ```ts
 * const v: Verdict = pairedComparison([-0.1, -0.12, -0.11]).verdict; // 'significant'
 * ```
 */
export type Verdict = 'significant' | 'not-resolved' | 'single-seed';

/**
 * Paired comparison of per-seed differences, from {@link pairedComparison}.
 * The fields that need two or more pairs are `null` with one.
 *
 * @example
 * ```ts
 * const c: PairedComparison = pairedComparison([-0.25, -0.01, -0.04]);
 * console.log(c.ci95, c.p, c.verdict, c.seedsNeeded); // [-0.42, 0.22] 0.316 'not-resolved' 10
 * ```
 */
export interface PairedComparison {
  /** Number of pairs (seeds). */
  readonly n: number;
  /** Mean difference. */
  readonly mean: number;
  /** Sample standard deviation of the differences (n − 1). */
  readonly sd: number | null;
  /** 95 % Student-t confidence interval of the mean difference. */
  readonly ci95: readonly [number, number] | null;
  /** t statistic: mean / (sd / √n). */
  readonly t: number | null;
  /** Degrees of freedom, n − 1. */
  readonly df: number | null;
  /** Two-sided paired t-test p-value. */
  readonly p: number | null;
  readonly verdict: Verdict;
  /**
   * When not resolved: the smallest number of paired seeds whose 95 % interval
   * would exclude 0 at the observed mean and sd; `null` otherwise (or when the
   * mean is 0, the sd is 0, or over 100,000 seeds would be needed).
   */
  readonly seedsNeeded: number | null;
}

/**
 * Mean of per-seed values with its 95 % Student-t confidence interval, from {@link meanCi}.
 *
 * @example
 * ```ts
 * const e: MeanCi = meanCi([1.4, 1.5, 1.6]); // { n: 3, mean: 1.5, sd: 0.1, ci95: [1.25, 1.75] }
 * ```
 */
export interface MeanCi {
  readonly n: number;
  readonly mean: number;
  /** Sample standard deviation; `null` with one value. */
  readonly sd: number | null;
  /** 95 % interval of the mean; `null` with one value. */
  readonly ci95: readonly [number, number] | null;
}
