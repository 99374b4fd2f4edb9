/**
 * Per-variant summaries of a study: the numbers of the report table.
 *
 * @module
 */
import { fitLogLinear, mean, meanCi, median, pairedComparison, sampleStd, toStat, tokenEfficiency } from './stats.js';
import type {
  Comparison,
  CurvePoint,
  DeltaFit,
  DeltaSeedPoint,
  EfficiencyEstimate,
  GroupSummary,
  LossCurvePoint,
  RunData,
  RunProvenance,
  Stat,
  Study,
  StudyAnalysis,
  TrainRecord,
  VariantData,
  VariantSummary,
} from './types.js';

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
 * Training FLOPs per forward FLOP: training FLOPs = 3 × forward FLOPs/token ×
 * tokens (forward + backward ≈ 3 forwards), the convention of `vwn bench`'s
 * "analytic FLOPs".
 *
 * @example
 * ```ts
 * const flops = TRAINING_FLOPS_PER_FORWARD * variant.flopsPerToken * tokens;
 * ```
 */
export const TRAINING_FLOPS_PER_FORWARD = 3;

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

/**
 * A run's held-out loss curve on all three x axes: tokens, training FLOPs
 * ({@link TRAINING_FLOPS_PER_FORWARD} × `flopsPerToken` × tokens) and training
 * wall-clock seconds (the sum of `stepMs` of the train records up to the eval's
 * step; eval and checkpoint time are not counted). `seconds` is `null` when a
 * train record up to that step has no `stepMs`.
 *
 * @example
 * ```ts
 * const curve = runLossCurve(study.variants[0]!.runs[0]!, study.variants[0]!.flopsPerToken);
 * curve.at(-1); // { step, tokens, flops, seconds, loss }
 * ```
 */
export function runLossCurve(run: RunData, flopsPerToken: number): LossCurvePoint[] {
  const out: LossCurvePoint[] = [];
  let j = 0;
  let ms = 0;
  let known = true;
  for (const e of run.evals) {
    while (j < run.train.length && run.train[j]!.step <= e.step) {
      const t = run.train[j]!.stepMs;
      if (typeof t === 'number' && Number.isFinite(t)) ms += t;
      else known = false;
      j++;
    }
    out.push({ step: e.step, tokens: e.tokens, flops: TRAINING_FLOPS_PER_FORWARD * flopsPerToken * e.tokens, seconds: known ? ms / 1000 : null, loss: e.loss });
  }
  return out;
}

/**
 * The seed mean of {@link runLossCurve}: one point per eval step present in
 * every run, with mean tokens, FLOPs, seconds and loss, and (several seeds) the
 * loss's sample standard deviation.
 *
 * @example
 * ```ts
 * const v = study.variants[1]!;
 * meanLossCurve(v.runs, v.flopsPerToken).map((p) => [p.flops, p.loss]);
 * ```
 */
export function meanLossCurve(runs: readonly RunData[], flopsPerToken: number): LossCurvePoint[] {
  if (runs.length === 0) return [];
  const bySteps = runs.map((r) => new Map(runLossCurve(r, flopsPerToken).map((p) => [p.step, p])));
  const steps = [...bySteps[0]!.keys()].filter((s) => bySteps.every((m) => m.has(s))).sort((a, b) => a - b);
  return steps.map((step) => {
    const pts = bySteps.map((m) => m.get(step)!);
    const losses = pts.map((p) => p.loss);
    const secs = pts.map((p) => p.seconds);
    const point: LossCurvePoint = {
      step,
      tokens: mean(pts.map((p) => p.tokens)),
      flops: mean(pts.map((p) => p.flops)),
      seconds: secs.every((x): x is number => x !== null) ? mean(secs) : null,
      loss: mean(losses),
    };
    return runs.length > 1 ? { ...point, std: sampleStd(losses) } : point;
  });
}

function lastEval(run: RunData) {
  return run.evals[run.evals.length - 1]!;
}

function finiteCurve(run: RunData): CurvePoint[] {
  return run.evals.filter((e) => Number.isFinite(e.loss)).map((e) => ({ tokens: e.tokens, loss: e.loss }));
}

/** Per-seed token-efficiency ratio of `vr` against `br` (see {@link EfficiencyEstimate}). */
function seedEfficiency(vr: RunData, br: RunData): { ratio: number | null; atReferenceLoss: boolean } {
  const target = lastEval(vr).loss;
  const tv = lastEval(vr).tokens;
  const refCurve = finiteCurve(br);
  if (!Number.isFinite(target) || !(tv > 0) || refCurve.length === 0) return { ratio: null, atReferenceLoss: false };
  const forward = tokenEfficiency(refCurve, target, tv);
  if (forward !== null) return { ratio: forward, atReferenceLoss: false };
  const refLoss = lastEval(br).loss;
  const varCurve = finiteCurve(vr);
  const needed = Number.isFinite(refLoss) && varCurve.length ? tokenEfficiency(varCurve, refLoss, 1) : null;
  return { ratio: needed !== null && needed > 0 ? lastEval(br).tokens / needed : null, atReferenceLoss: true };
}

function estimate(bySeed: EfficiencyEstimate['bySeed']): EfficiencyEstimate {
  const xs = bySeed.map((s) => s.ratio).filter((x): x is number => x !== null && Number.isFinite(x));
  let stat = xs.length ? meanCi(xs) : null;
  // A ratio is never negative: clamp the interval's lower end at 0.
  if (stat?.ci95 && stat.ci95[0] < 0) stat = { ...stat, ci95: [0, stat.ci95[1]] };
  return { bySeed, stat, atReferenceLoss: bySeed.some((s) => s.atReferenceLoss && s.ratio !== null) };
}

function findVariant(study: Study, name: string): VariantData {
  const v = study.variants.find((x) => x.name === name);
  if (!v) throw new RangeError(`"${name}" is not a variant of study "${study.manifest.name}" (${study.variants.map((x) => x.name).join(', ')})`);
  return v;
}

/**
 * Paired comparison of two variants of a study over the seeds both ran:
 * per-seed Δ held-out loss (variant − reference) with its paired t-test
 * ({@link pairedComparison}), and per-seed token and compute efficiency against
 * the reference's run of the same seed, with their mean and 95 % CI. Compute
 * efficiency = token efficiency × the reference's FLOPs/token ÷ the variant's
 * (the reference's training FLOPs to reach the variant's loss ÷ the variant's
 * training FLOPs).
 *
 * @throws RangeError when a name is not a variant of the study.
 * @example
 * ```ts
 * const c = compareVariants(study, 'vwn-r4', 'iso-param');
 * console.log(c.test?.mean, c.test?.ci95, c.test?.p, c.test?.verdict);
 * ```
 */
export function compareVariants(study: Study, variant: string, reference: string, label?: string): Comparison {
  const v = findVariant(study, variant);
  const b = findVariant(study, reference);
  const refBySeed = new Map(b.runs.map((r) => [r.seed, r]));
  const pairs = v.runs.filter((r) => refBySeed.has(r.seed)).map((r) => [r, refBySeed.get(r.seed)!] as const);
  const deltas = pairs.map(([r, q]) => lastEval(r).loss - lastEval(q).loss);
  const token = pairs.map(([r, q]) => ({ seed: r.seed, ...seedEfficiency(r, q) }));
  const flopRatio = b.flopsPerToken / v.flopsPerToken;
  const compute = token.map((t) => ({ ...t, ratio: t.ratio === null ? null : t.ratio * flopRatio }));
  return {
    label: label ?? `${variant} vs ${reference}`,
    variant,
    reference,
    seeds: pairs.map(([r]) => r.seed),
    deltas,
    test: deltas.length && deltas.every(Number.isFinite) ? pairedComparison(deltas) : null,
    tokenEfficiency: estimate(token),
    computeEfficiency: estimate(compute),
  };
}

/** Per-seed values of the variant, paired with the baseline's run of the same seed (else its mean). */
function paired(variant: VariantData, baseline: VariantData, value: (run: RunData) => number | null, combine: (v: number, b: number) => number): Stat | null {
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
 * - params, active params, FLOPs/token and the FLOP overhead vs the baseline;
 * - the paired comparison with the baseline (`vsBaseline`, see
 *   {@link compareVariants}): Δ with 95 % CI, p and verdict, token and compute
 *   efficiency per seed with mean and CI;
 * - training FLOPs and training wall-clock seconds at the last eval.
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
  const vsBaseline = (v: VariantData): Comparison | null => {
    const c = compareVariants(study, v.name, baseline.name, `${v.name} vs ${baseline.name}`);
    return c.seeds.length ? c : null;
  };

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
      group: v.group ?? null,
      vsBaseline: isBaseline ? null : vsBaseline(v),
      trainingFlops: TRAINING_FLOPS_PER_FORWARD * v.flopsPerToken * tokens,
      trainSeconds: statOrNull(v.runs.map((r) => runLossCurve(r, v.flopsPerToken).at(-1)?.seconds)),
    };
  });
}

/**
 * The points of the Δ-vs-log2(r) plot (every variant with r ≠ 1) and the fit
 * Δ = a·log2 r + b over every (variant, seed) point, i.e. each seed's paired Δ
 * (not the per-variant means), so the slope's CI reflects the seed spread. The
 * fit uses the next-token-only variants (`fitPoints`), so an MTP variant
 * (another component) does not bend the r-scaling line — unless fewer than
 * 2 distinct r remain without them, then every variant is used. `fit` is null
 * with fewer than 2 distinct r.
 *
 * @example
 * ```ts
 * const { fit, seedPoints } = deltaFit(summarize(study));
 * if (fit) console.log(`Δ = ${fit.a}·log2 r + ${fit.b} over ${seedPoints.length} points, slope CI ${fit.aCi95}`);
 * ```
 */
export function deltaFit(summaries: readonly VariantSummary[]): DeltaFit {
  const points = summaries.filter((s) => !s.isBaseline && s.r !== 1 && s.r > 0);
  const plain = points.filter((s) => s.heldOutNext2Loss === null);
  const fitPoints = new Set(plain.map((p) => p.r)).size >= 2 ? plain : points;
  const seedPoints: DeltaSeedPoint[] = fitPoints.flatMap((s) =>
    s.vsBaseline
      ? s.vsBaseline.seeds.map((seed, i) => ({ variant: s.name, r: s.r, seed, delta: s.vsBaseline!.deltas[i]! })).filter((p) => Number.isFinite(p.delta))
      : [],
  );
  const distinctR = new Set(seedPoints.map((p) => p.r)).size;
  const fit = distinctR >= 2 ? fitLogLinear(seedPoints) : null;
  return { points, fitPoints, seedPoints, fit, distinctR };
}

function groupsOf(study: Study, summaries: readonly VariantSummary[]): GroupSummary[] | null {
  if (!study.variants.some((v) => v.group !== undefined)) return null;
  const order: string[] = [];
  const members = new Map<string, VariantSummary[]>();
  for (const s of summaries) {
    const g = s.group ?? s.name;
    if (!members.has(g)) {
      order.push(g);
      members.set(g, []);
    }
    members.get(g)!.push(s);
  }
  const lossOf = (s: VariantSummary) => (Number.isFinite(s.heldOutLoss.mean) ? s.heldOutLoss.mean : Infinity);
  const bestOf = (g: string) => members.get(g)!.reduce((a, b) => (lossOf(b) < lossOf(a) ? b : a));
  const baseSummary = summaries.find((s) => s.isBaseline)!;
  const baseGroup = baseSummary.group ?? baseSummary.name;
  const baseBest = bestOf(baseGroup);
  return order.map((g): GroupSummary => {
    const best = bestOf(g);
    const isBaselineGroup = g === baseGroup;
    let vs: Comparison | null = null;
    if (!isBaselineGroup) {
      const c = compareVariants(study, best.name, baseBest.name, `best of ${g} (${best.name}) vs best of ${baseGroup} (${baseBest.name})`);
      vs = c.seeds.length ? c : null;
    }
    return { group: g, members: members.get(g)!.map((s) => s.name), best: best.name, bestHeldOutLoss: best.heldOutLoss, isBaselineGroup, vsBaselineGroup: vs };
  });
}

function provenanceOf(study: Study): RunProvenance {
  const machines = new Map<string, { host: string; backend: string; runs: number }>();
  let without = 0;
  for (const v of study.variants) {
    for (const r of v.runs) {
      if (!r.info) {
        without++;
        continue;
      }
      const host = typeof r.info.host === 'string' ? r.info.host : 'unknown host';
      const backend = typeof r.info.backend === 'string' ? r.info.backend : 'unknown backend';
      const key = JSON.stringify([host, backend]);
      const m = machines.get(key) ?? { host, backend, runs: 0 };
      m.runs++;
      machines.set(key, m);
    }
  }
  const backends = [...new Set(study.variants.flatMap((v) => v.runs.map((r) => r.info?.backend)).filter((b): b is string => typeof b === 'string'))];
  return { machines: [...machines.values()], backends, mixedBackends: backends.length > 1, runsWithoutInfo: without };
}

/**
 * Everything the report shows: {@link summarize}'s rows, the extra
 * comparisons of `study.json`, the best-of-group table (when variants declare
 * groups), the Δ-vs-log2 r fit, the seed-mean loss curves on tokens, FLOPs
 * and seconds, and where the runs were made (`run.json`).
 *
 * @example
 * ```ts
 * import { analyzeStudy, readStudy } from '@vwn/report';
 * const a = analyzeStudy(await readStudy('out/controls'));
 * for (const c of a.comparisons) console.log(c.label, c.test?.ci95, c.test?.verdict);
 * ```
 */
export function analyzeStudy(study: Study): StudyAnalysis {
  const summaries = summarize(study);
  const comparisons = (study.manifest.comparisons ?? []).map((c) => compareVariants(study, c.variant, c.reference, c.label));
  const curves = Object.fromEntries(study.variants.map((v) => [v.name, meanLossCurve(v.runs, v.flopsPerToken)]));
  return { summaries, comparisons, groups: groupsOf(study, summaries), fit: deltaFit(summaries), curves, provenance: provenanceOf(study) };
}
