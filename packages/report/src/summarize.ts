/**
 * Per-variant summaries of a study: the numbers of the report table.
 *
 * @module
 */
import { mean, median, sampleStd, toStat, tokenEfficiency } from './stats.js';
import type { CurvePoint, RunData, Stat, Study, TrainRecord, VariantData, VariantSummary } from './types.js';

/**
 * Fraction of the last train records averaged for the final train loss (at least one record).
 *
 * @example
 * ```ts
 * Math.max(1, Math.ceil(FINAL_TRAIN_FRACTION * 130)); // 7 records
 * ```
 */
export const FINAL_TRAIN_FRACTION = 0.05;
/**
 * Train records skipped (warm-up, compilation) before taking throughput and step-time medians.
 *
 * @example
 * ```ts
 * run.train.slice(WARMUP_RECORDS); // the records the medians use
 * ```
 */
export const WARMUP_RECORDS = 3;
/**
 * Name of the held-out next-2 loss term written by multi-token-prediction variants.
 *
 * @example
 * ```ts
 * run.evals.at(-1)?.terms?.[NEXT2_TERM];
 * ```
 */
export const NEXT2_TERM = 'next2_loss';

/**
 * Mean next-token train loss over the last 5 % of train records (rounded up,
 * at least one record).
 *
 * @example
 * ```ts
 * finalTrainLoss(run.train); // mean loss of the last ⌈0.05·N⌉ records
 * ```
 */
export function finalTrainLoss(train: readonly TrainRecord[]): number {
  if (train.length === 0) throw new RangeError('finalTrainLoss: no train records');
  const k = Math.max(1, Math.ceil(FINAL_TRAIN_FRACTION * train.length));
  return mean(train.slice(-k).map((r) => r.loss));
}

/**
 * Median of a numeric train-record field over the records after the first
 * {@link WARMUP_RECORDS} (all records when there are no more than that);
 * `null` when no record has the field.
 *
 * @example
 * ```ts
 * steadyMedian(run.train, 'tokensPerSecond');
 * ```
 */
export function steadyMedian(train: readonly TrainRecord[], field: 'tokensPerSecond' | 'stepMs'): number | null {
  const tail = train.length > WARMUP_RECORDS ? train.slice(WARMUP_RECORDS) : train;
  const xs = tail.map((r) => r[field]).filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
  return xs.length ? median(xs) : null;
}

/**
 * A held-out loss curve averaged over seeds: one point per eval step present in
 * every run, with the mean tokens, mean loss and (several seeds) the loss's
 * sample standard deviation.
 *
 * @example
 * ```ts
 * const curve = meanEvalCurve(study.variants[0]!.runs);
 * curve.at(-1); // { step, tokens, loss, std? }
 * ```
 */
export function meanEvalCurve(runs: readonly RunData[]): Array<CurvePoint & { step: number; std?: number }> {
  if (runs.length === 0) return [];
  const bySteps = runs.map((r) => new Map(r.evals.map((e) => [e.step, e])));
  const steps = [...bySteps[0]!.keys()].filter((s) => bySteps.every((m) => m.has(s))).sort((a, b) => a - b);
  return steps.map((step) => {
    const recs = bySteps.map((m) => m.get(step)!);
    const losses = recs.map((e) => e.loss);
    const point = { step, tokens: mean(recs.map((e) => e.tokens)), loss: mean(losses) };
    return runs.length > 1 ? { ...point, std: sampleStd(losses) } : point;
  });
}

function lastEval(run: RunData) {
  return run.evals[run.evals.length - 1]!;
}

/** Per-seed values of the variant, paired with the baseline's run of the same seed (else its mean). */
function paired(
  variant: VariantData,
  baseline: VariantData,
  value: (run: RunData) => number | null,
  combine: (v: number, b: number) => number,
): Stat | null {
  const baseBySeed = new Map<number, number>();
  for (const r of baseline.runs) {
    const x = value(r);
    if (x !== null) baseBySeed.set(r.seed, x);
  }
  if (baseBySeed.size === 0) return null;
  const baseMean = mean([...baseBySeed.values()]);
  const out: number[] = [];
  for (const r of variant.runs) {
    const x = value(r);
    if (x === null) return null;
    out.push(combine(x, baseBySeed.get(r.seed) ?? baseMean));
  }
  return toStat(out);
}

function statOrNull(xs: ReadonlyArray<number | null | undefined>): Stat | null {
  if (xs.some((x) => typeof x !== 'number' || !Number.isFinite(x))) return null;
  return toStat(xs as number[]);
}

/**
 * Summarizes every variant of a study (in `study.json` order): mean over seeds,
 * with the sample standard deviation when there are several, of
 *
 * - the final train loss (mean of the last 5 % of train records, at least one);
 * - the held-out next-token loss (last eval record) and next-2 loss (its
 *   `terms.next2_loss`, when present);
 * - Δ held-out loss vs the baseline (negative = better), paired by seed;
 * - the token-efficiency ratio (see {@link tokenEfficiency}) against the
 *   baseline's seed-mean eval curve; `null` = not reached; and its reverse
 *   reading at the baseline's final loss (defined when the variant is better);
 * - tokens/s and step time (medians over train records after the first 3), and
 *   the step-time overhead vs the baseline (median step-time ratio − 1, paired by seed);
 * - params, active params, FLOPs/token and the FLOP overhead vs the baseline.
 *
 * @example
 * ```ts
 * import { readStudy, summarize } from '@vwn/report';
 * const rows = summarize(await readStudy('out/vwn-small'));
 * for (const r of rows) console.log(r.name, r.deltaVsBaseline.mean.toFixed(4), r.tokenEfficiency);
 * ```
 */
export function summarize(study: Study): VariantSummary[] {
  const baseline = study.variants.find((v) => v.name === study.manifest.baseline);
  if (!baseline) throw new Error(`summarize: baseline "${study.manifest.baseline}" is not one of the variants`);
  const baseCurve = meanEvalCurve(baseline.runs);
  const heldOut = (r: RunData) => lastEval(r).loss;
  const baseLoss = mean(baseline.runs.map(heldOut));
  const baseTokens = mean(baseline.runs.map((r) => lastEval(r).tokens));
  const stepMs = (r: RunData) => steadyMedian(r.train, 'stepMs');

  return study.variants.map((v): VariantSummary => {
    const isBaseline = v === baseline;
    const heldOutLoss = toStat(v.runs.map(heldOut));
    const tokens = mean(v.runs.map((r) => lastEval(r).tokens));
    const eff = baseCurve.length > 0 && tokens > 0 ? tokenEfficiency(baseCurve, heldOutLoss.mean, tokens) : null;
    const curve = meanEvalCurve(v.runs);
    const needed = curve.length > 0 ? tokenEfficiency(curve, baseLoss, 1) : null;
    const effAtBase = needed !== null && needed > 0 ? baseTokens / needed : null;
    return {
      name: v.name,
      description: v.description,
      r: v.r,
      m: v.m,
      n: v.n,
      isBaseline,
      seeds: v.runs.map((r) => r.seed),
      finalTrainLoss: toStat(v.runs.map((r) => finalTrainLoss(r.train))),
      heldOutLoss,
      heldOutNext2Loss: statOrNull(v.runs.map((r) => lastEval(r).terms?.[NEXT2_TERM])),
      deltaVsBaseline: paired(v, baseline, heldOut, (x, b) => x - b)!,
      tokenEfficiency: eff,
      tokenEfficiencyAtBaselineLoss: effAtBase,
      tokens,
      tokensPerSecond: statOrNull(v.runs.map((r) => steadyMedian(r.train, 'tokensPerSecond'))),
      stepMs: statOrNull(v.runs.map(stepMs)),
      stepTimeOverhead: paired(v, baseline, stepMs, (x, b) => x / b - 1),
      params: v.params,
      activeParams: v.activeParams,
      flopsPerToken: v.flopsPerToken,
      flopOverhead: v.flopsPerToken / baseline.flopsPerToken - 1,
    };
  });
}
