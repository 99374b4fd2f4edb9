/**
 * Types of an ablation study folder as written by `vwn ablate`, and of the
 * summaries computed from it. This package reads the files itself; the
 * record types come from `@vwn/core/metrics-schema`, a type-only import of a
 * module without TensorFlow.js (nothing of `@vwn/core` is loaded at run time).
 *
 * @module
 */
import type { StoredEvalRecord, StoredTrainRecord } from '@vwn/core/metrics-schema';

/**
 * One `{"type":"train",…}` line of a run's `metrics.jsonl`, as a reader finds
 * it: the schema shared with the trainer (`StoredTrainRecord` of
 * `@vwn/core/metrics-schema`, a module without TensorFlow.js): `type`, `step`,
 * `tokens` and `loss` always, the other fields when the writing version had them.
 *
 * @example
 * ```ts
 * const rec: TrainRecord = {
 *   type: 'train', step: 1, tokens: 512, loss: 4.1, totalLoss: 4.1, terms: {}, metrics: {},
 *   lr: 1e-3, gradNorm: 1.2, tokensPerSecond: 9000, stepMs: 57, tensors: 120,
 * };
 * ```
 */
export type TrainRecord = StoredTrainRecord;

/**
 * One `{"type":"eval",…}` line of a run's `metrics.jsonl`: held-out losses
 * (`StoredEvalRecord` of `@vwn/core/metrics-schema`; `terms` such as `next2_loss` may be missing).
 *
 * @example
 * ```ts
 * const rec: EvalRecord = { type: 'eval', step: 100, tokens: 51200, loss: 2.31, terms: { next2_loss: 2.9 } };
 * ```
 */
export type EvalRecord = StoredEvalRecord;

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
  /**
   * Optional arm this variant belongs to, when a study runs alternatives of
   * one arm (e.g. an lr sweep: `baseline-lr0.5` and `baseline-lr1` both in
   * group `baseline`). The report then adds a "best of each group" table. A
   * variant without a group is a group of its own, named after it.
   */
  readonly group?: string;
}

/**
 * An extra paired comparison requested in `study.json` (beyond "every variant
 * vs the baseline"), e.g. VWN r = 4 vs an iso-parameter baseline.
 *
 * @example
 * ```ts
 * const c: StudyComparisonSpec = { variant: 'vwn-r4', reference: 'iso-param', label: 'VWN r = 4 vs iso-parameter baseline' };
 * ```
 */
export interface StudyComparisonSpec {
  /** The variant compared (Δ = its held-out loss − the reference's, paired by seed). */
  readonly variant: string;
  /** The variant it is compared against. */
  readonly reference: string;
  /** Row label in the report (default `variant vs reference`). */
  readonly label?: string;
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
  /** Optional extra paired comparisons, rendered as their own table. */
  readonly comparisons?: readonly StudyComparisonSpec[];
}

/**
 * The optional `run.json` of a run directory, written by the runner: which
 * machine and backend made the run (other fields are kept as they are).
 *
 * @example
 * ```ts
 * const info: RunInfo = { host: 'gpu-box-1', backend: 'tensorflow' };
 * ```
 */
export interface RunInfo {
  readonly host?: string;
  readonly backend?: string;
  readonly [key: string]: unknown;
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
  /** The run directory's `run.json`, when there is one. */
  readonly info?: RunInfo;
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
  /** The variant's group as declared in `study.json` (`null` when none). */
  readonly group: string | null;
  /**
   * The paired comparison with the baseline over the seeds both ran: Δ
   * held-out loss with CI, p and verdict, and token and compute efficiency per
   * seed with their mean and CI; `null` for the baseline itself and when no
   * seed is shared.
   */
  readonly vsBaseline: Comparison | null;
  /** Training FLOPs at the last eval: {@link TRAINING_FLOPS_PER_FORWARD} × FLOPs/token × tokens (mean over seeds). */
  readonly trainingFlops: number;
  /** Training wall-clock seconds at the last eval (cumulative `stepMs`), per seed; `null` when a record lacks `stepMs`. */
  readonly trainSeconds: Stat | null;
}

/**
 * Token or compute efficiency of a variant against a reference, per seed and
 * over seeds. Per seed (the reference's run of the same seed): the reference's
 * tokens (or training FLOPs) to reach the variant's final held-out loss ÷ the
 * variant's. When the reference never gets that low, the ratio is read the
 * other way (`atReferenceLoss: true`): the reference's tokens (FLOPs) ÷ the
 * variant's tokens (FLOPs) to reach the reference's final loss.
 *
 * @example
 * ```ts
 * const e: EfficiencyEstimate = summarize(study)[1]!.vsBaseline!.tokenEfficiency;
 * console.log(e.stat?.mean, e.stat?.ci95, e.bySeed.filter((s) => s.atReferenceLoss).length);
 * ```
 */
export interface EfficiencyEstimate {
  readonly bySeed: ReadonlyArray<{ readonly seed: number; readonly ratio: number | null; readonly atReferenceLoss: boolean }>;
  /** Mean and 95 % CI over the seeds with a ratio (the CI's lower end clamped at 0); `null` when none has one. */
  readonly stat: MeanCi | null;
  /** Whether any seed's ratio is the reverse reading (the reference never got as low as the variant). */
  readonly atReferenceLoss: boolean;
}

/**
 * A paired comparison of two variants of a study (variant − reference, by seed).
 *
 * @example
 * ```ts
 * const c: Comparison = compareVariants(study, 'vwn-r4', 'baseline');
 * console.log(c.test?.mean, c.test?.ci95, c.test?.verdict);
 * ```
 */
export interface Comparison {
  readonly label: string;
  readonly variant: string;
  readonly reference: string;
  /** Seeds both variants ran, in the variant's order. */
  readonly seeds: readonly number[];
  /** Held-out loss differences, one per paired seed. */
  readonly deltas: readonly number[];
  /** Paired t-test of `deltas`; `null` when no seed is shared. */
  readonly test: PairedComparison | null;
  readonly tokenEfficiency: EfficiencyEstimate;
  readonly computeEfficiency: EfficiencyEstimate;
}

/**
 * One row of the "best of each group" table.
 *
 * @example
 * ```ts
 * for (const g of analyzeStudy(study).groups ?? []) console.log(g.group, g.best, g.vsBaselineGroup?.test?.p);
 * ```
 */
export interface GroupSummary {
  readonly group: string;
  /** Member variants, in `study.json` order. */
  readonly members: readonly string[];
  /** The member with the lowest mean held-out loss. */
  readonly best: string;
  readonly bestHeldOutLoss: Stat;
  readonly isBaselineGroup: boolean;
  /** The best member vs the baseline group's best, paired by seed; `null` for the baseline group. */
  readonly vsBaselineGroup: Comparison | null;
}

/**
 * A point of a variant's seed-mean held-out loss curve on all three x axes.
 *
 * @example
 * ```ts
 * const p: LossCurvePoint = { step: 100, tokens: 51200, flops: 9.2e11, seconds: 41.3, loss: 2.31 };
 * ```
 */
export interface LossCurvePoint extends CurvePoint {
  readonly step: number;
  /** Training FLOPs so far: {@link TRAINING_FLOPS_PER_FORWARD} × FLOPs/token × tokens. */
  readonly flops: number;
  /** Training wall-clock seconds so far (cumulative `stepMs`); `null` when unknown. */
  readonly seconds: number | null;
  /** Sample std of the loss over seeds (several seeds only). */
  readonly std?: number;
}

/**
 * Where the runs of a study were made, from each run's optional `run.json`.
 *
 * @example
 * ```ts
 * const p: RunProvenance = analyzeStudy(study).provenance;
 * if (p.mixedBackends) console.warn(`runs used different backends: ${p.backends.join(', ')}`);
 * ```
 */
export interface RunProvenance {
  /** One entry per (host, backend), with its run count. */
  readonly machines: ReadonlyArray<{ readonly host: string; readonly backend: string; readonly runs: number }>;
  /** Distinct backends named by `run.json` files. */
  readonly backends: readonly string[];
  readonly mixedBackends: boolean;
  /** Runs without a `run.json`. */
  readonly runsWithoutInfo: number;
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

/**
 * One (variant, seed) point of the Δ-vs-log2 r fit.
 *
 * @example
 * ```ts
 * const p: DeltaSeedPoint = { variant: 'vwn-r4', r: 4, seed: 0, delta: -0.13 };
 * ```
 */
export interface DeltaSeedPoint {
  readonly variant: string;
  readonly r: number;
  readonly seed: number;
  /** Held-out loss − the baseline's of the same seed. */
  readonly delta: number;
}

/**
 * The Δ-vs-log2 r points and fit, from {@link deltaFit}.
 *
 * @example
 * ```ts
 * const { fit, seedPoints } = deltaFit(summarize(study));
 * if (fit) console.log(`slope ${fit.a} over ${seedPoints.length} points`);
 * ```
 */
export interface DeltaFit {
  /** Every variant with r ≠ 1 (plotted). */
  readonly points: VariantSummary[];
  /** The variants whose seeds are fitted (next-token-only ones when they span ≥ 2 r values). */
  readonly fitPoints: VariantSummary[];
  /** The fitted (variant, seed) points: every paired seed of every fitted variant. */
  readonly seedPoints: DeltaSeedPoint[];
  /** `null` with fewer than 2 distinct r. */
  readonly fit: LogLinearFit | null;
  /** Distinct r values among the fitted variants. */
  readonly distinctR: number;
}

/**
 * Everything the report shows, from {@link analyzeStudy}; `report.json` holds it.
 *
 * @example
 * ```ts
 * const a: StudyAnalysis = analyzeStudy(await readStudy('out/study'));
 * console.log(a.summaries.map((s) => [s.name, s.vsBaseline?.test?.verdict]));
 * ```
 */
export interface StudyAnalysis {
  readonly summaries: VariantSummary[];
  /** The extra comparisons listed in `study.json` (empty when none). */
  readonly comparisons: Comparison[];
  /** Best of each group; `null` when no variant declares a group. */
  readonly groups: GroupSummary[] | null;
  readonly fit: DeltaFit;
  /** Seed-mean held-out loss curves per variant (tokens, training FLOPs, wall-clock seconds). */
  readonly curves: Readonly<Record<string, LossCurvePoint[]>>;
  readonly provenance: RunProvenance;
}
