/**
 * Plots of a study: Vega-Lite specs compiled with `vega-lite`, rendered to SVG
 * headless with `vega`, and rasterized to PNG with `@resvg/resvg-js`.
 *
 * @module
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { homedir, platform } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { fitLogLinear } from './stats.js';
import { meanEvalCurve } from './summarize.js';
import type { LogLinearFit, Study, VariantSummary } from './types.js';

/**
 * Font stack used for every plot's text (the first installed one is used by resvg and browsers).
 *
 * @example
 * ```ts
 * const spec = { config: { font: PLOT_FONT }, mark: 'point' };
 * ```
 */
export const PLOT_FONT = 'DejaVu Sans, Liberation Sans, Arial, Helvetica, sans-serif';

const PLOT_CONFIG = {
  font: PLOT_FONT,
  background: 'white',
  view: { stroke: null },
  axis: { labelFontSize: 11, titleFontSize: 12 },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 260 },
  title: { fontSize: 14, anchor: 'start' as const },
};

/**
 * Compiles a Vega-Lite spec and renders it to an SVG string headless (no
 * browser, no canvas).
 *
 * @example
 * ```ts
 * const svg = await renderSvg({
 *   data: { values: [{ x: 1, y: 2 }, { x: 2, y: 3 }] },
 *   mark: 'line',
 *   encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } },
 * });
 * ```
 */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const { spec: vgSpec } = compile(spec);
  const view = new View(parse(vgSpec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/**
 * Options of {@link svgToPng}.
 *
 * @example
 * ```ts
 * const opts: PngOptions = { scale: 2, fontFiles: ['/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf'] };
 * ```
 */
export interface PngOptions {
  /** Zoom factor over the SVG's size (default 2, for sharp text). */
  readonly scale?: number;
  /** Extra font files to load besides the bundled DejaVu Sans ({@link PLOT_FONT_FILES}). */
  readonly fontFiles?: readonly string[];
  /** Also load the system's fonts (default false, so a PNG is the same on every machine). */
  readonly systemFonts?: boolean;
}

/**
 * The font files PNG text is drawn with: DejaVu Sans and DejaVu Sans Bold,
 * shipped in @vwn/report's `fonts/` folder (Bitstream Vera license, see
 * `fonts/LICENSE-DejaVu.txt`), so no system font is needed.
 *
 * @example
 * ```ts
 * PLOT_FONT_FILES; // ['…/node_modules/@vwn/report/fonts/DejaVuSans.ttf', '…/DejaVuSans-Bold.ttf']
 * ```
 */
export const PLOT_FONT_FILES: readonly string[] = ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf'].map((f) =>
  fileURLToPath(new URL(`../fonts/${f}`, import.meta.url)),
);

/**
 * Rasterizes an SVG to PNG bytes with resvg (a prebuilt native binary from
 * npm; no network). Text is drawn with the bundled DejaVu Sans
 * ({@link PLOT_FONT_FILES}) and no system font, so the PNG is the same on every
 * machine, fonts installed or not.
 *
 * @throws Error when `@resvg/resvg-js` has no binary for this platform.
 * @example
 * ```ts
 * import { writeFile } from 'node:fs/promises';
 * await writeFile('plot.png', await svgToPng(svg));
 * ```
 */
export async function svgToPng(svg: string, opts: PngOptions = {}): Promise<Uint8Array> {
  const { Resvg } = await import('@resvg/resvg-js');
  const resvg = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: opts.scale ?? 2 },
    background: 'white',
    font: {
      loadSystemFonts: opts.systemFonts ?? false,
      fontFiles: [...PLOT_FONT_FILES, ...(opts.fontFiles ?? [])],
      defaultFontFamily: 'DejaVu Sans',
      sansSerifFamily: 'DejaVu Sans',
    },
  });
  return resvg.render().asPng();
}

const FONT_EXT = /\.(ttf|otf|ttc|otc)$/i;

/**
 * Whether any font file is installed where resvg looks for system fonts.
 * {@link svgToPng} no longer needs one (it draws with the bundled
 * {@link PLOT_FONT_FILES}); this matters only with `systemFonts: true`.
 *
 * @example
 * ```ts
 * if (!hasSystemFonts()) console.log('no system fonts: PNG text uses the bundled DejaVu Sans');
 * ```
 */
export function hasSystemFonts(): boolean {
  const dirs =
    platform() === 'win32'
      ? [join(process.env['WINDIR'] ?? 'C:\\Windows', 'Fonts')]
      : platform() === 'darwin'
        ? ['/System/Library/Fonts', '/Library/Fonts', join(homedir(), 'Library/Fonts')]
        : ['/usr/share/fonts', '/usr/local/share/fonts', join(homedir(), '.fonts'), join(homedir(), '.local/share/fonts')];
  let budget = 2000; // directory entries visited at most
  const walk = (dir: string, depth: number): boolean => {
    if (depth > 4 || !existsSync(dir)) return false;
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch {
      return false;
    }
    for (const e of entries) {
      if (--budget < 0) return false;
      if (FONT_EXT.test(e)) return true;
      const p = join(dir, e);
      try {
        if (statSync(p).isDirectory() && walk(p, depth + 1)) return true;
      } catch {
        /* unreadable entry */
      }
    }
    return false;
  };
  return dirs.some((d) => walk(d, 0));
}

/**
 * Vega-Lite spec of held-out loss vs training tokens: one line per variant
 * (the seed mean), with a ± one-standard-deviation band when there are several seeds.
 *
 * @example
 * ```ts
 * const svg = await renderSvg(lossVsTokensSpec(await readStudy('out/vwn-small')));
 * ```
 */
export function lossVsTokensSpec(study: Study): TopLevelSpec {
  const multiSeed = study.variants.some((v) => v.runs.length > 1);
  const values = study.variants.flatMap((v) =>
    meanEvalCurve(v.runs).map((p) => ({
      variant: v.name,
      tokens: p.tokens,
      loss: p.loss,
      lo: p.loss - (p.std ?? 0),
      hi: p.loss + (p.std ?? 0),
    })),
  );
  const x = { field: 'tokens', type: 'quantitative' as const, title: 'training tokens', axis: { format: '~s' } };
  const color = {
    field: 'variant',
    type: 'nominal' as const,
    title: 'variant',
    sort: study.variants.map((v) => v.name),
    legend: { symbolType: 'stroke', symbolOpacity: 1, symbolStrokeWidth: 3 },
  };
  const seedNote = multiSeed ? ` (mean of ${Math.max(...study.variants.map((v) => v.runs.length))} seeds, band = ± 1 std)` : '';
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `Held-out next-token loss vs tokens${seedNote}`,
    width: 560,
    height: 340,
    config: PLOT_CONFIG,
    data: { values },
    layer: [
      ...(multiSeed
        ? [
            {
              mark: { type: 'area' as const, opacity: 0.18 },
              encoding: {
                x,
                y: { field: 'lo', type: 'quantitative' as const },
                y2: { field: 'hi' },
                color,
              },
            },
          ]
        : []),
      {
        mark: { type: 'line' as const, point: true, strokeWidth: 2 },
        encoding: {
          x,
          y: { field: 'loss', type: 'quantitative' as const, title: 'held-out loss (nats)', scale: { zero: false } },
          color,
        },
      },
    ],
  } as TopLevelSpec;
}

/**
 * The points of the Δ-vs-log2(r) plot (every variant with r ≠ 1) and the fit.
 * The fit uses the next-token-only variants (`fitPoints`), so an MTP variant
 * (another component) does not bend the r-scaling line — unless fewer than
 * 2 distinct r remain without them, then every point is used. `fit` is null
 * with fewer than 2 distinct r.
 *
 * @example
 * ```ts
 * const { points, fit } = deltaFit(summarize(study));
 * if (fit) console.log(`Δ = ${fit.a}·log2 r + ${fit.b}`);
 * ```
 */
export function deltaFit(summaries: readonly VariantSummary[]): {
  points: VariantSummary[];
  fitPoints: VariantSummary[];
  fit: LogLinearFit | null;
  distinctR: number;
} {
  const points = summaries.filter((s) => s.r !== 1 && s.r > 0);
  const plain = points.filter((s) => s.heldOutNext2Loss === null);
  const fitPoints = new Set(plain.map((p) => p.r)).size >= 2 ? plain : points;
  const distinctR = new Set(fitPoints.map((p) => p.r)).size;
  const fit = distinctR >= 2 ? fitLogLinear(fitPoints.map((p) => ({ r: p.r, delta: p.deltaVsBaseline.mean }))) : null;
  return { points, fitPoints, fit, distinctR };
}

/**
 * One-line text of the fit: `Δ = a·log2 r + b, R² = …`, or why there is none.
 *
 * @example
 * ```ts
 * fitText({ a: -0.05, b: 0.01, r2: 0.98 }, 3); // 'Δ = -0.0500·log2 r + 0.0100, R² = 0.980'
 * ```
 */
export function fitText(fit: LogLinearFit | null, distinctR: number): string {
  if (!fit) return `no fit: the fit needs ≥ 2 distinct r values (r ≠ 1), have ${distinctR}`;
  const sign = fit.b < 0 ? '-' : '+';
  return `Δ = ${fit.a.toFixed(4)}·log2 r ${sign} ${Math.abs(fit.b).toFixed(4)}, R² = ${fit.r2.toFixed(3)}`;
}

/**
 * Vega-Lite spec of Δ held-out loss vs log2(r) for every variant with r ≠ 1:
 * points (± 1 std bars with several seeds; multi-token-prediction variants
 * drawn as squares), the least-squares line and its equation in the title.
 *
 * @example
 * ```ts
 * const svg = await renderSvg(deltaVsLog2rSpec(summarize(await readStudy('out/vwn-small'))));
 * ```
 */
export function deltaVsLog2rSpec(summaries: readonly VariantSummary[]): TopLevelSpec {
  const { points, fit, distinctR } = deltaFit(summaries);
  const values = points.map((p) => ({
    variant: p.name,
    log2r: Math.log2(p.r),
    delta: p.deltaVsBaseline.mean,
    lo: p.deltaVsBaseline.mean - (p.deltaVsBaseline.std ?? 0),
    hi: p.deltaVsBaseline.mean + (p.deltaVsBaseline.std ?? 0),
    objective: p.heldOutNext2Loss ? 'next-token + MTP' : 'next-token',
    labelBelow: false,
  }));
  // Points sharing an r: label the lower one below its point so labels do not collide.
  for (const v of values) {
    const sameR = values.filter((w) => w.log2r === v.log2r).sort((p, q) => q.delta - p.delta);
    v.labelBelow = sameR.length > 1 && sameR.indexOf(v) % 2 === 1;
  }
  const xs = values.map((v) => v.log2r);
  const x0 = Math.min(0, ...xs);
  const x1 = Math.max(1, ...xs);
  const x = { field: 'log2r', type: 'quantitative' as const, title: 'log2 r (virtual width factor)', scale: { domain: [x0, x1 + 0.25] } };
  const y = { field: 'delta', type: 'quantitative' as const, title: 'Δ held-out loss (nats)' };
  const multiSeed = points.some((p) => p.deltaVsBaseline.std !== undefined);
  const title = points.length === 0 ? 'no variant has r ≠ 1: nothing to plot' : fitText(fit, distinctR);
  const layers: unknown[] = [
    { data: { values: [{ zero: 0 }] }, mark: { type: 'rule', strokeDash: [4, 4], color: '#888' }, encoding: { y: { field: 'zero', type: 'quantitative' } } },
  ];
  if (fit) {
    const line = [x0, x1].map((lx) => ({ log2r: lx, delta: fit.a * lx + fit.b, series: 'least-squares fit' }));
    layers.push({
      data: { values: line },
      mark: { type: 'line', color: '#d62728', strokeWidth: 2 },
      encoding: {
        x,
        y,
        strokeDash: { field: 'series', type: 'nominal', title: null, legend: { orient: 'bottom' } },
      },
    });
  }
  if (multiSeed) {
    layers.push({
      data: { values },
      mark: { type: 'rule', color: '#1f77b4' },
      encoding: { x, y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' } },
    });
  }
  if (values.length > 0) {
    layers.push({
      data: { values },
      mark: { type: 'point', filled: true, size: 90, color: '#1f77b4' },
      encoding: {
        x,
        y,
        shape: { field: 'objective', type: 'nominal', title: 'objective', legend: { orient: 'bottom' } },
      },
    });
    for (const below of [false, true]) {
      layers.push({
        data: { values: values.filter((v) => v.labelBelow === below) },
        mark: { type: 'text', align: 'left', dx: 8, dy: below ? 12 : -8, fontSize: 11 },
        encoding: { x, y, text: { field: 'variant' } },
      });
    }
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'Δ held-out loss vs log2 r (negative = better than the baseline)', subtitle: title },
    width: 560,
    height: 340,
    config: PLOT_CONFIG,
    layer: layers,
    resolve: { legend: { strokeDash: 'independent', shape: 'independent' } },
  } as TopLevelSpec;
}
