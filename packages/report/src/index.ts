/**
 * `@vwn/report`: reports of `vwn ablate` studies. Reads a study folder
 * (`study.json` + every run's `metrics.jsonl`), summarizes each variant over
 * seeds, compares every variant with the baseline paired by seed (Δ with 95 %
 * confidence interval, paired t-test, verdict; token and compute efficiency),
 * fits Δ held-out loss against log2 of the virtual width factor, and writes
 * `report.md`, a self-contained `report.html`, `report.json` and Vega-Lite
 * plots (SVG, and PNG through resvg).
 *
 * @example
 * ```ts
 * import { rebuildReport } from '@vwn/report';
 * const { files } = await rebuildReport('out/vwn-small'); // report.md, report.html, report.json, plots/*.svg|png
 * ```
 *
 * @packageDocumentation
 */
export type {
  Comparison,
  CurvePoint,
  DeltaFit,
  DeltaSeedPoint,
  EfficiencyEstimate,
  EvalRecord,
  GroupSummary,
  LogLinearFit,
  LossCurvePoint,
  MeanCi,
  PairedComparison,
  RunData,
  RunInfo,
  RunProvenance,
  Stat,
  Study,
  StudyAnalysis,
  StudyComparisonSpec,
  StudyManifest,
  StudyRunRef,
  StudyVariantManifest,
  TrainRecord,
  VariantData,
  VariantSummary,
  Verdict,
} from './types.js';
export {
  fitLogLinear,
  logGamma,
  mean,
  meanCi,
  median,
  pairedComparison,
  regularizedIncompleteBeta,
  sampleStd,
  SIGNIFICANCE_LEVEL,
  studentTCdf,
  studentTQuantile,
  studentTSf,
  toStat,
  tokenEfficiency,
} from './stats.js';
export { METRICS_FILE, parseMetrics, readStudy, RUN_INFO_FILE, STUDY_FILE, StudyReadError } from './read.js';
export {
  analyzeStudy,
  compareVariants,
  deltaFit,
  FINAL_TRAIN_FRACTION,
  finalTrainLoss,
  meanEvalCurve,
  meanLossCurve,
  NEXT2_TERM,
  runLossCurve,
  steadyMedian,
  summarize,
  TRAINING_FLOPS_PER_FORWARD,
  WARMUP_RECORDS,
} from './summarize.js';
export {
  deltaVsLog2rSpec,
  fitText,
  hasSystemFonts,
  lossCurveSpec,
  lossVsTokensSpec,
  lossZoomDomain,
  PLOT_FONT,
  PLOT_FONT_FILES,
  renderSvg,
  svgToPng,
  ZOOM_FROM_FRACTION,
  type LossAxis,
  type PngOptions,
} from './plots.js';
export {
  FONT_PACKAGE_HINT,
  formatDelta,
  formatDeltaCi,
  formatEfficiency,
  formatLoss,
  formatP,
  formatPercent,
  formatRate,
  formatRatio,
  formatSI,
  formatVerdict,
  GROUP_COLUMNS,
  PLOT_NAMES,
  rebuildReport,
  REPORT_JSON_FILE,
  SIGNIFICANCE_COLUMNS,
  significanceRow,
  TABLE_COLUMNS,
  tableRow,
  writeReport,
  type WriteReportOptions,
  type WriteReportResult,
} from './write.js';
