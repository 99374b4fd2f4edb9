/**
 * Writing the report of a study: `report.md`, `report.html` and the plots.
 *
 * @module
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { arch, cpus, platform } from 'node:os';
import { join } from 'node:path';
import { deltaFit, deltaVsLog2rSpec, fitText, lossVsTokensSpec, renderSvg, svgToPng } from './plots.js';
import { readStudy } from './read.js';
import { summarize } from './summarize.js';
import type { Stat, Study, VariantSummary } from './types.js';

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
export const PLOT_NAMES = { lossVsTokens: 'loss-vs-tokens', deltaVsLog2r: 'delta-vs-log2r' } as const;

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
 * Column headers of the report table, in order.
 *
 * @example
 * ```ts
 * const header = `| ${TABLE_COLUMNS.join(' | ')} |`;
 * ```
 */
export const TABLE_COLUMNS = [
  'variant',
  'final train loss',
  'held-out loss',
  'next-2 loss',
  'Δ vs baseline',
  'token-efficiency ratio',
  'tokens/s',
  'step-time overhead',
  'params (total/active)',
  'FLOPs/token',
  'FLOP overhead',
] as const;

/**
 * The cells of one table row, formatted as in `report.md`.
 *
 * @example
 * ```ts
 * summarize(study).map(tableRow); // [['baseline', '2.4012', …], …]
 * ```
 */
export function tableRow(s: VariantSummary): string[] {
  const base = '(baseline)';
  return [
    s.name,
    formatLoss(s.finalTrainLoss),
    formatLoss(s.heldOutLoss),
    formatLoss(s.heldOutNext2Loss),
    s.isBaseline ? base : formatDelta(s.deltaVsBaseline),
    s.tokenEfficiency === null && s.tokenEfficiencyAtBaselineLoss !== null
      ? `not reached (${formatRatio(s.tokenEfficiencyAtBaselineLoss)} at baseline loss)`
      : formatRatio(s.tokenEfficiency),
    formatRate(s.tokensPerSecond),
    s.isBaseline ? base : formatPercent(s.stepTimeOverhead),
    `${int.format(s.params)} / ${int.format(s.activeParams)}`,
    formatSI(s.flopsPerToken),
    s.isBaseline ? base : formatPercent(s.flopOverhead),
  ];
}

function machineLine(): string {
  const c = cpus();
  const model = c[0]?.model.trim() || 'unknown CPU';
  return `${model} × ${c.length}`;
}

const NOTES = [
  'Losses are in nats. Held-out losses are from the last eval record; the final train loss is the mean of the last 5 % of train records (at least one).',
  'Δ vs baseline = held-out loss − the baseline’s, paired by seed; negative = better.',
  'Token-efficiency ratio = tokens the baseline needs to reach the variant’s final held-out loss (linear interpolation on the baseline’s eval curve) ÷ the variant’s tokens; > 1 = more token-efficient; “not reached” = the baseline never gets that low; the value in parentheses then reads it the other way: the baseline’s tokens ÷ the tokens this variant needed to reach the baseline’s final held-out loss (interpolated on the variant’s curve).',
  'tokens/s and step time are medians over train records after the first 3; step-time overhead = median step-time ratio vs the baseline − 1.',
  'With several seeds, values are means over seeds and ± is the sample standard deviation.',
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

/**
 * Writes the report of a study folder:
 *
 * - `OUT/report.md`: header (tokens per variant, seeds, machine, Node version),
 *   the summary table, the Δ-vs-log2 r fit and the PNG plots;
 * - `OUT/report.html`: the same, self-contained, with the SVG plots inlined;
 * - `OUT/plots/loss-vs-tokens.svg|png` and `OUT/plots/delta-vs-log2r.svg|png`.
 *
 * PNGs are skipped (with a note in the report) when `@resvg/resvg-js` cannot
 * load on this platform. PNG text uses the bundled DejaVu Sans, so no system
 * font is needed.
 *
 * @example
 * ```ts
 * import { writeReport } from '@vwn/report';
 * const { files } = await writeReport('out/vwn-small');
 * ```
 */
export async function writeReport(outDir: string, opts: WriteReportOptions = {}): Promise<WriteReportResult> {
  const study = opts.study ?? (await readStudy(outDir));
  const summaries = summarize(study);
  const m = study.manifest;
  const plotsDir = join(outDir, 'plots');
  await mkdir(plotsDir, { recursive: true });
  const files: string[] = [];

  const { points, fitPoints, fit, distinctR } = deltaFit(summaries);
  const plots = [
    { stem: PLOT_NAMES.lossVsTokens, alt: 'Held-out loss vs tokens', svg: await renderSvg(lossVsTokensSpec(study)) },
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
  const header: Array<[string, string]> = [
    ['Tokens per variant', int.format(tokensPerVariant)],
    ['Seeds', `${seeds.length} (${seeds.join(', ')})${seeds.length > 1 ? '; mean ± sample std over seeds' : ''}`],
    ['Machine', opts.machine ?? machineLine()],
    ['Node', `${process.version} (${platform()} ${arch()})`],
    ['Study created', m.createdAt || 'unknown'],
    ['Report generated', (opts.generatedAt ?? new Date()).toISOString()],
  ];
  const rows = summaries.map(tableRow);
  const fitLine =
    points.length === 0
      ? 'No variant has r ≠ 1, so there is nothing to fit.'
      : fit
        ? `${fitText(fit, distinctR)} (least squares over ${fitPoints.length} variants with r ≠ 1: ${fitPoints.map((p) => p.name).join(', ')}${fitPoints.length < points.length ? '; MTP variants are plotted but not fitted' : ''}${fitPoints.length === 2 ? '; with 2 points the line passes through both, so R² = 1 says nothing — use `--preset r-sweep` for a real fit' : ''}; a < 0 = wider is better).`
        : `The fit needs ≥ 2 distinct r values (r ≠ 1); this study has ${distinctR} (${points.map((p) => `${p.name}: r = ${p.r}`).join(', ')}), so the plot shows points only.`;
  const plotExt = pngSkipped === undefined ? 'png' : 'svg';
  const extraNotes = [pngSkipped].filter((x): x is string => x !== undefined);

  const md = [
    `# Ablation report: ${m.name}`,
    '',
    ...header.map(([k, v]) => `- **${k}:** ${v}`),
    '',
    `| ${TABLE_COLUMNS.join(' | ')} |`,
    `| ${TABLE_COLUMNS.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(escapeMd).join(' | ')} |`),
    '',
    `**Fit (Δ held-out loss vs log2 r):** ${fitLine}`,
    '',
    ...plots.flatMap((p) => [`![${p.alt}](plots/${p.stem}.${plotExt})`, '']),
    ...(extraNotes.length ? [...extraNotes.map((n) => `> **Note:** ${n}`), ''] : []),
    '## Notes',
    '',
    ...NOTES.map((n) => `- ${n}`),
    '',
  ].join('\n');

  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Ablation report: ${escapeHtml(m.name)}</title>
<style>
body { font-family: 'DejaVu Sans', system-ui, sans-serif; max-width: 1200px; margin: 2em auto; padding: 0 1em; color: #222; }
table { border-collapse: collapse; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 4px 8px; }
td { text-align: right; font-variant-numeric: tabular-nums; } td:first-child { text-align: left; }
th { background: #f3f3f3; }
figure { margin: 1.5em 0; } .note { background: #fff7e0; border-left: 4px solid #e0a800; padding: 0.5em 1em; }
</style>
</head>
<body>
<h1>Ablation report: ${escapeHtml(m.name)}</h1>
<ul>
${header.map(([k, v]) => `<li><strong>${escapeHtml(k)}:</strong> ${escapeHtml(v)}</li>`).join('\n')}
</ul>
<table>
<thead><tr>${TABLE_COLUMNS.map((c) => `<th>${escapeHtml(c)}</th>`).join('')}</tr></thead>
<tbody>
${rows.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`).join('\n')}
</tbody>
</table>
<p><strong>Fit (Δ held-out loss vs log2 r):</strong> ${escapeHtml(fitLine)}</p>
${plots.map((p, i) => `<figure aria-label="${escapeHtml(p.alt)}">\n${prefixSvgIds(p.svg, `plot${i}`)}\n</figure>`).join('\n')}
${extraNotes.map((n) => `<p class="note">${escapeHtml(n)}</p>`).join('\n')}
<h2>Notes</h2>
<ul>
${NOTES.map((n) => `<li>${escapeHtml(n)}</li>`).join('\n')}
</ul>
</body>
</html>
`;

  const mdFile = join(outDir, 'report.md');
  const htmlFile = join(outDir, 'report.html');
  await writeFile(mdFile, md);
  await writeFile(htmlFile, html);
  files.unshift(mdFile, htmlFile);
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
