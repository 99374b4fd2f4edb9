/**
 * `@vwn/report`: reports of `vwn ablate` studies. Reads a study folder
 * (`study.json` + every run's `metrics.jsonl`), summarizes each variant over
 * seeds, fits Δ held-out loss against log2 of the virtual width factor, and
 * writes `report.md`, a self-contained `report.html` and Vega-Lite plots
 * (SVG, and PNG through resvg).
 *
 * @example
 * ```ts
 * import { rebuildReport } from '@vwn/report';
 * const { files } = await rebuildReport('out/vwn-small'); // report.md, report.html, plots/*.svg|png
 * ```
 *
 * @packageDocumentation
 */
export type {
  CurvePoint,
  EvalRecord,
  LogLinearFit,
  RunData,
  Stat,
  Study,
  StudyManifest,
  StudyRunRef,
  StudyVariantManifest,
  TrainRecord,
  VariantData,
  VariantSummary,
} from './types.js';
export { fitLogLinear, mean, median, sampleStd, toStat, tokenEfficiency } from './stats.js';
export { METRICS_FILE, parseMetrics, readStudy, STUDY_FILE, StudyReadError } from './read.js';
export { FINAL_TRAIN_FRACTION, finalTrainLoss, meanEvalCurve, NEXT2_TERM, steadyMedian, summarize, WARMUP_RECORDS } from './summarize.js';
export {
  deltaFit,
  deltaVsLog2rSpec,
  fitText,
  hasSystemFonts,
  lossVsTokensSpec,
  PLOT_FONT,
  PLOT_FONT_FILES,
  renderSvg,
  svgToPng,
  type PngOptions,
} from './plots.js';
export {
  FONT_PACKAGE_HINT,
  formatDelta,
  formatLoss,
  formatPercent,
  formatRate,
  formatRatio,
  formatSI,
  PLOT_NAMES,
  rebuildReport,
  TABLE_COLUMNS,
  tableRow,
  writeReport,
  type WriteReportOptions,
  type WriteReportResult,
} from './write.js';
