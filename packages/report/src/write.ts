/**
 * Writing the report of a study: `report.md`, `report.html`, `report.json` and the plots.
 *
 * @module
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { arch, cpus, platform } from 'node:os';
import { join } from 'node:path';
import { deltaVsLog2rSpec, fitText, lossCurveSpec, lossZoomDomain, renderSvg, svgToPng } from './plots.js';
import { readStudy } from './read.js';
import { SIGNIFICANCE_LEVEL } from './stats.js';
import { analyzeStudy, TRAINING_FLOPS_PER_FORWARD } from './summarize.js';
import type { Comparison, EfficiencyEstimate, PairedComparison, Stat, Study, StudyAnalysis, VariantSummary } from './types.js';

/**
 * Options of {@link writeReport}.
 *
 * @example
 * ```ts
 * await writeReport('out/vwn-small', { png: false });
 * ```
 */
export interface WriteReportOptions {
  /** The study, when already read (else it is read from `outDir`). */
  readonly study?: Study;
  /** Write PNG plots besides the SVGs (default true); PNG needs `@resvg/resvg-js`. */
  readonly png?: boolean;
  /** Extra font files for PNG text, besides the bundled DejaVu Sans (system fonts are not loaded). */
  readonly fontFiles?: readonly string[];
  /** Overrides the header's machine line (default: CPU model × count from `os.cpus()`). */
  readonly machine?: string;
  /** Overrides the header's generation time (default: now). */
  readonly generatedAt?: Date;
}

/**
 * Files written by {@link writeReport}.
 *
 * @example
 * ```ts
 * const { files } = await writeReport('out/vwn-small');
 * console.log(files.join('\n'));
 * ```
 */
export interface WriteReportResult {
  /** Paths of every file written (joined onto `outDir`). */
  readonly files: string[];
  /** Why PNG plots were not written, when they were not. */
  readonly pngSkipped?: string;
}

/**
 * Plot file stems under `OUT/plots/` (each written as `.svg` and `.png`).
 *
 * @example
 * ```ts
 * join(outDir, 'plots', `${PLOT_NAMES.lossVsTokens}.png`);
 * ```
 */
export const PLOT_NAMES = {
  lossVsTokens: 'loss-vs-tokens',
  lossVsFlops: 'loss-vs-flops',
  lossVsSeconds: 'loss-vs-seconds',
  deltaVsLog2r: 'delta-vs-log2r',
} as const;

/**
 * Name of the machine-readable report (every number of `report.md`) in the study folder.
 *
 * @example
 * ```ts
 * const data = JSON.parse(await readFile(join(outDir, REPORT_JSON_FILE), 'utf8'));
 * ```
 */
export const REPORT_JSON_FILE = 'report.json';

/**
 * Debian package with DejaVu Sans, the plots' font. Not needed for the PNG
 * plots any more (`svgToPng` draws with the bundled copy,
 * `PLOT_FONT_FILES`); browsers showing the SVG plots use it when installed.
 *
 * @example
 * ```ts
 * console.log(`for the SVG plots in a browser: apt-get install ${FONT_PACKAGE_HINT}`);
 * ```
 */
export const FONT_PACKAGE_HINT = 'fonts-dejavu-core';

const int = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/**
 * A loss with 4 decimals, and `± std` when there are several seeds.
 *
 * @example
 * ```ts
 * formatLoss({ mean: 2.31234, n: 1 }); // '2.3123'
 * formatLoss({ mean: 2.3, std: 0.01, n: 3 }); // '2.3000 ± 0.0100'
 * ```
 */
export function formatLoss(s: Stat | null): string {
  if (!s) return '—';
  return s.std === undefined ? s.mean.toFixed(4) : `${s.mean.toFixed(4)} ± ${s.std.toFixed(4)}`;
}

/**
 * A signed loss difference with 4 decimals (`+0.0123`, `-0.0456`), and `± std` with several seeds.
 *
 * @example
 * ```ts
 * formatDelta({ mean: -0.05, n: 1 }); // '-0.0500'
 * ```
 */
export function formatDelta(s: Stat): string {
  const m = `${s.mean >= 0 ? '+' : ''}${s.mean.toFixed(4)}`;
  return s.std === undefined ? m : `${m} ± ${s.std.toFixed(4)}`;
}

/**
 * The token-efficiency ratio with 2 decimals and `×`, or `not reached`.
 *
 * @example
 * ```ts
 * formatRatio(1.5); // '1.50×'
 * formatRatio(null); // 'not reached'
 * ```
 */
export function formatRatio(x: number | null): string {
  return x === null ? 'not reached' : `${x.toFixed(2)}×`;
}

/**
 * A p-value: 3 decimals, or 2 significant digits in exponent form below 0.001.
 *
 * @example
 * ```ts
 * formatP(0.3164); // '0.316'
 * formatP(5.15e-5); // '5.1e-5'
 * formatP(null); // '—'
 * ```
 */
export function formatP(p: number | null): string {
  if (p === null || !Number.isFinite(p)) return '—';
  if (p === 0) return '0';
  return p >= 0.001 ? p.toFixed(3) : p.toExponential(1);
}

function signed(x: number, digits = 4): string {
  return `${x >= 0 ? '+' : ''}${x.toFixed(digits)}`;
}

/**
 * A paired Δ with its 95 % CI (`-0.1339 [-0.1800, -0.0878]`), or with one
 * seed the value and `(1 seed)`.
 *
 * @example
 * ```ts
 * formatDeltaCi(pairedComparison([-0.12, -0.15, -0.11])); // '-0.1267 [-0.1784, -0.0749]'
 * formatDeltaCi(pairedComparison([-0.13])); // '-0.1300 (1 seed)'
 * ```
 */
export function formatDeltaCi(c: PairedComparison | null): string {
  if (!c) return '—';
  return c.ci95 ? `${signed(c.mean)} [${signed(c.ci95[0])}, ${signed(c.ci95[1])}]` : `${signed(c.mean)} (1 seed)`;
}

/**
 * The verdict cell: `significant at 95 %`, `not resolved (≈N paired seeds
 * needed)`, or, with one seed, `1 seed: no interval can be given`.
 *
 * @example
 * ```ts
 * formatVerdict(pairedComparison([-0.25, -0.01, -0.04])); // 'not resolved (≈10 paired seeds needed)'
 * ```
 */
export function formatVerdict(c: PairedComparison | null): string {
  if (!c) return '—';
  if (c.verdict === 'single-seed') return '1 seed: no interval can be given';
  if (c.verdict === 'significant') return 'significant at 95 %';
  return c.seedsNeeded !== null ? `not resolved (≈${int.format(c.seedsNeeded)} paired seeds needed)` : 'not resolved';
}

/**
 * An efficiency over seeds: the mean ratio with `×`, its 95 % CI with several
 * seeds, and `†` when the reference never got as low as the variant (in some
 * seed) so the ratio was read at the reference's final loss.
 *
 * @example
 * ```ts
 * formatEfficiency(c.tokenEfficiency); // '1.53× [1.41, 1.65] †'
 * ```
 */
export function formatEfficiency(e: EfficiencyEstimate | null): string {
  if (!e || !e.stat) return '—';
  const dagger = e.atReferenceLoss ? ' †' : '';
  const ci = e.stat.ci95 ? ` [${e.stat.ci95[0].toFixed(2)}, ${e.stat.ci95[1].toFixed(2)}]` : '';
  return `${e.stat.mean.toFixed(2)}×${ci}${dagger}`;
}

/**
 * A rounded count with thousands separators, and `± std` with several seeds.
 *
 * @example
 * ```ts
 * formatRate({ mean: 12345.6, n: 1 }); // '12,346'
 * ```
 */
export function formatRate(s: Stat | null): string {
  if (!s) return '—';
  return s.std === undefined ? int.format(s.mean) : `${int.format(s.mean)} ± ${int.format(s.std)}`;
}

/**
 * A signed percentage with 1 decimal (`+12.3%`), and `± std` (in points) with several seeds.
 *
 * @example
 * ```ts
 * formatPercent(0.123); // '+12.3%'
 * ```
 */
export function formatPercent(x: number | Stat | null): string {
  if (x === null) return '—';
  const s: Stat = typeof x === 'number' ? { mean: x, n: 1 } : x;
  const p = s.mean * 100;
  const m = `${p >= 0 ? '+' : ''}${p.toFixed(1)}%`;
  return s.std === undefined ? m : `${m} ± ${(s.std * 100).toFixed(1)}%`;
}

/**
 * A number with 3 significant digits and an SI suffix (k, M, G, T).
 *
 * @example
 * ```ts
 * formatSI(7_412_345); // '7.41M'
 * ```
 */
export function formatSI(x: number): string {
  const units: Array<[number, string]> = [
    [1e12, 'T'],
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'k'],
  ];
  for (const [u, s] of units) if (Math.abs(x) >= u) return `${(x / u).toPrecision(3)}${s}`;
  return x.toPrecision(3);
}

/**
 * Column headers of the report's summary table, in order.
 *
 * @example
 * ```ts
 * const header = `| ${TABLE_COLUMNS.join(' | ')} |`;
 * ```
 */
export const TABLE_COLUMNS = [
  'variant',
  'held-out loss',
  'Δ vs baseline [95 % CI]',
  'verdict',
  'token efficiency',
  'compute efficiency',
  'final train loss',
  'next-2 loss',
  'tokens/s',
  'step-time overhead',
  'params (total/active)',
  'FLOPs/token',
  'FLOP overhead',
] as const;

/**
 * The cells of one summary-table row, formatted as in `report.md`.
 *
 * @example
 * ```ts
 * summarize(study).map(tableRow); // [['baseline', '2.4012', '(baseline)', …], …]
 * ```
 */
export function tableRow(s: VariantSummary): string[] {
  const base = '(baseline)';
  const c = s.vsBaseline;
  return [
    s.name,
    formatLoss(s.heldOutLoss),
    s.isBaseline ? base : c?.test ? formatDeltaCi(c.test) : `${formatDelta(s.deltaVsBaseline)} (unpaired)`,
    s.isBaseline ? base : formatVerdict(c?.test ?? null),
    s.isBaseline ? base : formatEfficiency(c?.tokenEfficiency ?? null),
    s.isBaseline ? base : formatEfficiency(c?.computeEfficiency ?? null),
    formatLoss(s.finalTrainLoss),
    formatLoss(s.heldOutNext2Loss),
    formatRate(s.tokensPerSecond),
    s.isBaseline ? base : formatPercent(s.stepTimeOverhead),
    `${int.format(s.params)} / ${int.format(s.activeParams)}`,
    formatSI(s.flopsPerToken),
    s.isBaseline ? base : formatPercent(s.flopOverhead),
  ];
}

/**
 * Column headers of the significance table (every variant vs the baseline,
 * paired by seed), in order.
 *
 * @example
 * ```ts
 * const header = `| ${SIGNIFICANCE_COLUMNS.join(' | ')} |`;
 * ```
 */
export const SIGNIFICANCE_COLUMNS = [
  'comparison',
  'paired seeds',
  'mean Δ',
  'sd',
  '95 % CI',
  't',
  'p',
  'verdict',
  'token efficiency',
  'compute efficiency',
] as const;

/**
 * The cells of one significance-table row for a paired comparison.
 *
 * @example
 * ```ts
 * significanceRow(compareVariants(study, 'vwn-r4', 'baseline')); // ['vwn-r4 vs baseline', '3', '-0.1339', …]
 * ```
 */
export function significanceRow(c: Comparison): string[] {
  const t = c.test;
  return [
    c.label,
    String(c.seeds.length),
    t ? signed(t.mean) : '—',
    t?.sd != null ? t.sd.toFixed(4) : '—',
    t?.ci95 ? `[${signed(t.ci95[0])}, ${signed(t.ci95[1])}]` : t ? 'none (1 seed)' : '—',
    t?.t != null ? (Number.isFinite(t.t) ? t.t.toFixed(2) : t.t > 0 ? '∞' : '−∞') : '—',
    formatP(t?.p ?? null),
    formatVerdict(t),
    formatEfficiency(c.tokenEfficiency),
    formatEfficiency(c.computeEfficiency),
  ];
}

/**
 * Column headers of the "best of each group" table, in order.
 *
 * @example
 * ```ts
 * const header = `| ${GROUP_COLUMNS.join(' | ')} |`;
 * ```
 */
export const GROUP_COLUMNS = ['group', 'members', 'best member', 'held-out loss', 'Δ vs best of baseline group [95 % CI]', 'p', 'verdict'] as const;

function machineLine(): string {
  const c = cpus();
  const model = c[0]?.model.trim() || 'unknown CPU';
  return `${model} × ${c.length}`;
}

const LEGEND = [
  'Losses are in nats. Held-out loss = the last eval record’s next-token loss; final train loss = the mean of the last 5 % of train records (at least one). With several seeds, a loss is the mean over seeds ± the sample standard deviation (n − 1).',
  'Δ vs baseline = held-out loss − the baseline’s, **paired by seed** (same seed = same initialization and data order); negative = better. The bracket is the 95 % confidence interval of the mean Δ (Student t with n − 1 degrees of freedom: mean ± t₀.₉₇₅ · sd/√n); p is the two-sided paired t-test.',
  '“significant at 95 %” = the interval excludes 0 (p < 0.05). “not resolved (≈N paired seeds needed)” = the interval includes 0; N is the smallest seed count whose interval would exclude 0 if the mean and sd stayed as observed (a planning estimate, not a promise). With one seed no interval or test can be given.',
  'Token efficiency = the baseline’s tokens to reach this variant’s final held-out loss (linear interpolation on the same seed’s baseline eval curve) ÷ this variant’s tokens, per seed, then the mean [95 % CI] over seeds. > 1 = fewer tokens than the baseline for the same loss.',
  '† = the baseline never got as low as this variant within its budget (in at least one seed), so its ratio is read at the baseline’s final loss instead: baseline tokens ÷ the tokens this variant needed to match the baseline’s final loss (it matched it with 1/ratio of the tokens). The baseline would need more than its whole budget to match the variant.',
  `Compute efficiency = the baseline’s training FLOPs to reach this variant’s final held-out loss ÷ this variant’s training FLOPs (= token efficiency × baseline FLOPs/token ÷ this variant’s); training FLOPs = ${TRAINING_FLOPS_PER_FORWARD} × forward FLOPs/token × tokens. > 1 = this variant wins at equal compute; † as above.`,
  'tokens/s and step time are medians over train records after the first 3; step-time overhead = median step-time ratio vs the baseline − 1, paired by seed. FLOP overhead = FLOPs/token ÷ the baseline’s − 1.',
  'Wall-clock seconds in the plots = the sum of the train records’ step times up to each eval (evaluation and checkpointing excluded); a resumed run keeps the last record of each step.',
];

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function escapeMd(s: string): string {
  return s.replace(/\|/g, '\\|');
}

/** Makes the ids of an inlined SVG unique within the page (Vega numbers clip paths from 1 in every SVG). */
function prefixSvgIds(svg: string, prefix: string): string {
  return svg
    .replace(/\bid="([^"]+)"/g, (_m, id: string) => `id="${prefix}-${id}"`)
    .replace(/url\(#([^)]+)\)/g, (_m, id: string) => `url(#${prefix}-${id})`)
    .replace(/href="#([^"]+)"/g, (_m, id: string) => `href="#${prefix}-${id}"`);
}

/** A piece of the report, rendered to Markdown and HTML alike. */
type Block =
  | { kind: 'h2'; text: string }
  | { kind: 'p'; text: string }
  | { kind: 'note'; text: string }
  | { kind: 'list'; items: string[] }
  | { kind: 'table'; head: readonly string[]; rows: string[][] }
  | { kind: 'plot'; index: number };

/** Inline Markdown of the report text (`**bold**`, `` `code` ``) to HTML. */
function inlineHtml(s: string): string {
  return escapeHtml(s)
    .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>')
    .replace(/`([^`]+)`/g, '<code>$1</code>');
}

function compareTableRows(cs: readonly Comparison[]): string[][] {
  return cs.map(significanceRow);
}

function singleSeedNote(seeds: number): string | undefined {
  if (seeds > 1) return undefined;
  return '**One seed:** no confidence interval or significance test can be given, so a Δ here may be seed-to-seed noise (the held-out loss of identical recipes can differ by several hundredths of a nat between seeds). Run the study with `--seeds 3` or more to get intervals and verdicts.';
}

function provenanceLine(a: StudyAnalysis): string {
  const p = a.provenance;
  if (p.machines.length === 0) return 'not recorded (no run.json in the run directories)';
  const parts = p.machines.map((m) => `${m.host} (${m.backend}): ${m.runs} run${m.runs === 1 ? '' : 's'}`);
  if (p.runsWithoutInfo) parts.push(`not recorded: ${p.runsWithoutInfo} run${p.runsWithoutInfo === 1 ? '' : 's'}`);
  return parts.join('; ');
}

/**
 * Writes the report of a study folder:
 *
 * - `OUT/report.md`: header (tokens per variant, seeds, machine, Node version,
 *   where the runs were made), the summary table (Δ with 95 % CI and verdict,
 *   token and compute efficiency), the significance table, the extra
 *   comparisons and best-of-group tables when `study.json` asks for them, the
 *   Δ-vs-log2 r fit, the plots and a legend;
 * - `OUT/report.html`: the same, self-contained, with the SVG plots inlined;
 * - `OUT/report.json`: every number of the report ({@link analyzeStudy}'s result and the header);
 * - `OUT/plots/{loss-vs-tokens,loss-vs-flops,loss-vs-seconds,delta-vs-log2r}.svg|png`.
 *
 * PNGs are skipped (with a note in the report) when `@resvg/resvg-js` cannot
 * load on this platform. PNG text uses the bundled DejaVu Sans, so no system
 * font is needed. The report warns when the runs of the study were made with
 * different backends.
 *
 * @example
 * ```ts
 * import { writeReport } from '@vwn/report';
 * const { files } = await writeReport('out/vwn-small');
 * ```
 */
export async function writeReport(outDir: string, opts: WriteReportOptions = {}): Promise<WriteReportResult> {
  const study = opts.study ?? (await readStudy(outDir));
  const analysis = analyzeStudy(study);
  const { summaries } = analysis;
  const m = study.manifest;
  const plotsDir = join(outDir, 'plots');
  await mkdir(plotsDir, { recursive: true });
  const files: string[] = [];

  const { points, fitPoints, seedPoints, fit, distinctR } = analysis.fit;
  const plots = [
    { stem: PLOT_NAMES.lossVsTokens, alt: 'Held-out loss vs tokens', svg: await renderSvg(lossCurveSpec(study, 'tokens')) },
    { stem: PLOT_NAMES.lossVsFlops, alt: 'Held-out loss vs training FLOPs', svg: await renderSvg(lossCurveSpec(study, 'flops')) },
    { stem: PLOT_NAMES.lossVsSeconds, alt: 'Held-out loss vs wall-clock seconds', svg: await renderSvg(lossCurveSpec(study, 'seconds')) },
    { stem: PLOT_NAMES.deltaVsLog2r, alt: 'Δ held-out loss vs log2 r', svg: await renderSvg(deltaVsLog2rSpec(summaries)) },
  ];
  for (const p of plots) {
    const f = join(plotsDir, `${p.stem}.svg`);
    await writeFile(f, p.svg);
    files.push(f);
  }

  let pngSkipped: string | undefined;
  if (opts.png === false) pngSkipped = 'PNG plots were not requested.';
  else {
    try {
      for (const p of plots) {
        const png = await svgToPng(p.svg, opts.fontFiles ? { fontFiles: opts.fontFiles } : {});
        const f = join(plotsDir, `${p.stem}.png`);
        await writeFile(f, png);
        files.push(f);
      }
    } catch (e) {
      pngSkipped = `PNG plots were skipped: @resvg/resvg-js could not render here (${(e as Error).message.split('\n')[0]}); the SVG plots are embedded instead.`;
    }
  }

  const seeds = m.seeds.length ? m.seeds : [...new Set(study.variants.flatMap((v) => v.runs.map((r) => r.seed)))];
  const tokensPerVariant = Number.isFinite(m.tokensPerVariant) ? m.tokensPerVariant : Math.max(...summaries.map((s) => s.tokens));
  const generatedAt = (opts.generatedAt ?? new Date()).toISOString();
  const machine = opts.machine ?? machineLine();
  const header: Array<[string, string]> = [
    ['Tokens per variant', int.format(tokensPerVariant)],
    [
      'Seeds',
      `${seeds.length} (${seeds.join(', ')})${seeds.length > 1 ? '; every comparison is paired by seed; losses are mean ± sample std over seeds' : ''}`,
    ],
    ['Machine', machine],
    ['Node', `${process.version} (${platform()} ${arch()})`],
    ['Runs made on', provenanceLine(analysis)],
    ['Study created', m.createdAt || 'unknown'],
    ['Report generated', generatedAt],
  ];
  const fitLine =
    points.length === 0
      ? 'No variant has r ≠ 1, so there is nothing to fit.'
      : fit
        ? `${fitText(fit, distinctR)} (least squares over every (variant, seed) point of ${fitPoints.length} variants with r ≠ 1: ${fitPoints.map((p) => p.name).join(', ')}${fitPoints.length < points.length ? '; MTP variants are plotted but not fitted' : ''}${seedPoints.length === 2 ? '; with 2 points the line passes through both, so R² = 1 says nothing and the slope has no interval — use more seeds or `--preset r-sweep`' : ''}; a < 0 = wider is better).`
        : `The fit needs ≥ 2 distinct r values (r ≠ 1); this study has ${distinctR} (${points.map((p) => `${p.name}: r = ${p.r}`).join(', ')}), so the plot shows points only.`;
  const plotExt = pngSkipped === undefined ? 'png' : 'svg';
  const backendWarning = analysis.provenance.mixedBackends
    ? `**Mixed backends:** the runs of this study were made with different backends (${analysis.provenance.backends.join(', ')}); numerics and speed differ between backends, so Δ, token efficiency and step-time columns may compare backends rather than variants. See “Runs made on” above.`
    : undefined;
  const notes = [singleSeedNote(seeds.length), backendWarning, pngSkipped].filter((x): x is string => x !== undefined);

  const vsBase = summaries.map((s) => s.vsBaseline).filter((c): c is Comparison => c !== null);
  const blocks: Block[] = [
    ...notes.map((text): Block => ({ kind: 'note', text })),
    { kind: 'table', head: TABLE_COLUMNS, rows: summaries.map(tableRow) },
    { kind: 'h2', text: 'Is the difference real? (vs the baseline, paired by seed)' },
    { kind: 'table', head: SIGNIFICANCE_COLUMNS, rows: compareTableRows(vsBase) },
  ];
  if (analysis.comparisons.length) {
    blocks.push(
      { kind: 'h2', text: 'Requested comparisons' },
      {
        kind: 'p',
        text: 'Extra paired comparisons listed in `study.json` (Δ = the variant’s held-out loss − the reference’s, paired by seed; efficiencies are against the reference).',
      },
      { kind: 'table', head: SIGNIFICANCE_COLUMNS, rows: compareTableRows(analysis.comparisons) },
    );
  }
  if (analysis.groups) {
    const baseGroup = analysis.groups.find((g) => g.isBaselineGroup)!;
    blocks.push(
      { kind: 'h2', text: 'Best of each group' },
      {
        kind: 'p',
        text: `Each group’s member with the lowest mean held-out loss, compared with the best of the baseline’s group (“${baseGroup.group}”, best: ${baseGroup.best}), paired by seed. Choosing the best member on the same held-out data that scores it favours each group slightly (more so with more members and fewer seeds), so treat small Δ here with care.`,
      },
      {
        kind: 'table',
        head: GROUP_COLUMNS,
        rows: analysis.groups.map((g) => [
          g.group,
          g.members.join(', '),
          g.best,
          formatLoss(g.bestHeldOutLoss),
          g.isBaselineGroup ? '(baseline group)' : formatDeltaCi(g.vsBaselineGroup?.test ?? null),
          g.isBaselineGroup ? '—' : formatP(g.vsBaselineGroup?.test?.p ?? null),
          g.isBaselineGroup ? '—' : formatVerdict(g.vsBaselineGroup?.test ?? null),
        ]),
      },
    );
  }
  blocks.push(
    { kind: 'h2', text: 'Fit' },
    { kind: 'p', text: `**Δ held-out loss vs log2 r:** ${fitLine}` },
    { kind: 'h2', text: 'Plots' },
    {
      kind: 'p',
      text: `Held-out loss against training tokens, training FLOPs (${TRAINING_FLOPS_PER_FORWARD} × forward FLOPs/token × tokens) and training wall-clock seconds: a variant that is better per token but costs more per token may not be better per FLOP or per second.${
        lossZoomDomain(Object.values(analysis.curves)) ? ' The y axes are zoomed on where the curves differ; the first evals (near ln V) are clipped.' : ''
      }`,
    },
    ...plots.map((_, index): Block => ({ kind: 'plot', index })),
    { kind: 'h2', text: 'Legend' },
    { kind: 'list', items: LEGEND },
  );

  const md = [
    `# Ablation report: ${m.name}`,
    '',
    ...header.map(([k, v]) => `- **${k}:** ${v}`),
    '',
    ...blocks.flatMap((b): string[] => {
      switch (b.kind) {
        case 'h2':
          return [`## ${b.text}`, ''];
        case 'p':
          return [b.text, ''];
        case 'note':
          return [`> ${b.text}`, ''];
        case 'list':
          return [...b.items.map((x) => `- ${x}`), ''];
        case 'table':
          return [
            `| ${b.head.join(' | ')} |`,
            `| ${b.head.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`,
            ...b.rows.map((r) => `| ${r.map(escapeMd).join(' | ')} |`),
            '',
          ];
        case 'plot': {
          const p = plots[b.index]!;
          return [`![${p.alt}](plots/${p.stem}.${plotExt})`, ''];
        }
      }
    }),
  ].join('\n');

  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Ablation report: ${escapeHtml(m.name)}</title>
<style>
body { font-family: 'DejaVu Sans', system-ui, sans-serif; max-width: 1400px; margin: 2em auto; padding: 0 1em; color: #222; }
table { border-collapse: collapse; font-size: 0.9em; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: 4px 8px; }
td { text-align: right; font-variant-numeric: tabular-nums; } td:first-child { text-align: left; }
th { background: #f3f3f3; }
.plots { display: flex; flex-wrap: wrap; gap: 1em; }
figure { margin: 0.5em 0; } .note { background: #fff7e0; border-left: 4px solid #e0a800; padding: 0.5em 1em; }
</style>
</head>
<body>
<h1>Ablation report: ${escapeHtml(m.name)}</h1>
<ul>
${header.map(([k, v]) => `<li><strong>${escapeHtml(k)}:</strong> ${escapeHtml(v)}</li>`).join('\n')}
</ul>
${blocks
  .map((b, k) => {
    switch (b.kind) {
      case 'h2':
        return `<h2>${escapeHtml(b.text)}</h2>`;
      case 'p':
        return `<p>${inlineHtml(b.text)}</p>`;
      case 'note':
        return `<p class="note">${inlineHtml(b.text)}</p>`;
      case 'list':
        return `<ul>\n${b.items.map((x) => `<li>${inlineHtml(x)}</li>`).join('\n')}\n</ul>`;
      case 'table':
        return `<table>\n<thead><tr>${b.head.map((c) => `<th>${escapeHtml(c)}</th>`).join('')}</tr></thead>\n<tbody>\n${b.rows
          .map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`)
          .join('\n')}\n</tbody>\n</table>`;
      case 'plot': {
        const p = plots[b.index]!;
        const fig = `<figure aria-label="${escapeHtml(p.alt)}">\n${prefixSvgIds(p.svg, `plot${b.index}`)}\n</figure>`;
        const prev = blocks[k - 1]?.kind === 'plot';
        const next = blocks[k + 1]?.kind === 'plot';
        return `${prev ? '' : '<div class="plots">\n'}${fig}${next ? '' : '\n</div>'}`;
      }
    }
  })
  .join('\n')}
</body>
</html>
`;

  const json = {
    format: 'vwn-report',
    version: 1,
    study: { name: m.name, createdAt: m.createdAt, tokensPerVariant, seeds, baseline: m.baseline },
    generatedAt,
    machine,
    node: process.version,
    significanceLevel: SIGNIFICANCE_LEVEL,
    trainingFlopsPerForward: TRAINING_FLOPS_PER_FORWARD,
    notes,
    ...analysis,
    fit: {
      fit: analysis.fit.fit,
      distinctR: analysis.fit.distinctR,
      plottedVariants: points.map((p) => p.name),
      fittedVariants: fitPoints.map((p) => p.name),
      seedPoints,
    },
  };

  const mdFile = join(outDir, 'report.md');
  const htmlFile = join(outDir, 'report.html');
  const jsonFile = join(outDir, REPORT_JSON_FILE);
  await writeFile(mdFile, md);
  await writeFile(htmlFile, html);
  await writeFile(jsonFile, JSON.stringify(json, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n');
  files.unshift(mdFile, htmlFile, jsonFile);
  return pngSkipped === undefined ? { files } : { files, pngSkipped };
}

/**
 * Reads a study folder and (re)writes its report: what `vwn report DIR` runs.
 *
 * @example
 * ```ts
 * import { rebuildReport } from '@vwn/report';
 * const { files } = await rebuildReport('out/vwn-small');
 * for (const f of files) console.log(`wrote ${f}`);
 * ```
 */
export async function rebuildReport(outDir: string, opts: Omit<WriteReportOptions, 'study'> = {}): Promise<WriteReportResult> {
  const study = await readStudy(outDir);
  return writeReport(outDir, { ...opts, study });
}
