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
import { deltaFit, meanLossCurve } from './summarize.js';
import type { LogLinearFit, LossCurvePoint, Study, VariantSummary } from './types.js';

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
 * Fraction of training at which {@link lossZoomDomain} reads the top of the y
 * axis: the loss curves are shown from their minimum up to the highest loss
 * any variant still has at 15 % of its training steps.
 *
 * @example
 * ```ts
 * const step = ZOOM_FROM_FRACTION * lastStep; // points before this are clipped when higher
 * ```
 */
export const ZOOM_FROM_FRACTION = 0.15;

/**
 * The y domain that zooms loss plots on the region where curves differ:
 * from the lowest seed-mean loss to the highest seed-mean loss any variant
 * has at its first eval at or after {@link ZOOM_FROM_FRACTION} of its steps,
 * padded by 5 % of that range. Earlier, higher points (the first eval sits
 * near ln V) and the parts of ± std bands outside are clipped. `null` when no
 * point would be clipped or every curve has fewer than 3 evals.
 *
 * @example
 * ```ts
 * const a = analyzeStudy(study);
 * lossZoomDomain(Object.values(a.curves)); // e.g. [1.86, 2.74]
 * ```
 */
export function lossZoomDomain(curves: ReadonlyArray<readonly LossCurvePoint[]>): [number, number] | null {
  const finite = curves.map((c) => c.filter((p) => Number.isFinite(p.loss))).filter((c) => c.length >= 3);
  if (finite.length === 0) return null;
  const lo = Math.min(...finite.flatMap((c) => c.map((p) => p.loss)));
  const hi = Math.max(
    ...finite.map((c) => {
      const last = c[c.length - 1]!.step;
      return (c.find((q) => q.step >= ZOOM_FROM_FRACTION * last) ?? c[c.length - 1]!).loss;
    }),
  );
  const top = Math.max(...finite.flatMap((c) => c.map((p) => p.loss)));
  if (!(hi > lo) || top <= hi) return null;
  const pad = 0.05 * (hi - lo);
  return [lo - pad, hi + pad];
}

/**
 * The x axes of the loss-curve plots: training tokens, training FLOPs
 * (3 × forward FLOPs/token × tokens) and training wall-clock seconds.
 *
 * @example
 * ```ts
 * const axes: LossAxis[] = ['tokens', 'flops', 'seconds'];
 * ```
 */
export type LossAxis = 'tokens' | 'flops' | 'seconds';

const AXES: Record<LossAxis, { title: string; plot: string; format: string }> = {
  tokens: { title: 'training tokens', plot: 'tokens', format: '~s' },
  flops: { title: 'training FLOPs (3 × forward FLOPs/token × tokens)', plot: 'training FLOPs', format: '~s' },
  seconds: { title: 'training wall-clock seconds (sum of step times)', plot: 'wall-clock seconds', format: ',~r' },
};

/**
 * Vega-Lite spec of held-out loss vs training tokens, training FLOPs or
 * training wall-clock seconds: one line per variant (the seed mean), with a
 * ± one-standard-deviation band when there are several seeds. The y axis is
 * zoomed with {@link lossZoomDomain} (the same domain for every axis, so the
 * three plots compare at a glance); clipped early points are named in the
 * subtitle. On the seconds axis, variants without `stepMs` records are left out.
 *
 * @example
 * ```ts
 * const study = await readStudy('out/vwn-small');
 * const svg = await renderSvg(lossCurveSpec(study, 'flops'));
 * ```
 */
export function lossCurveSpec(study: Study, axis: LossAxis = 'tokens'): TopLevelSpec {
  const multiSeed = study.variants.some((v) => v.runs.length > 1);
  const curves = study.variants.map((v) => ({ name: v.name, curve: meanLossCurve(v.runs, v.flopsPerToken) }));
  const domain = lossZoomDomain(curves.map((c) => c.curve));
  // The band is clamped to the zoomed range in the data: resvg drops a clip-path'd area, so the band cannot rely on clipping.
  const clamp = (y: number) => (domain ? Math.min(domain[1], Math.max(domain[0], y)) : y);
  const values = curves.flatMap(({ name, curve }) =>
    curve
      .filter((p) => (axis === 'seconds' ? p.seconds !== null : true) && Number.isFinite(p.loss))
      .map((p) => ({
        variant: name,
        x: axis === 'tokens' ? p.tokens : axis === 'flops' ? p.flops : p.seconds!,
        loss: p.loss,
        lo: clamp(p.loss - (p.std ?? 0)),
        hi: clamp(p.loss + (p.std ?? 0)),
      })),
  );
  const missing = axis === 'seconds' ? curves.filter((c) => c.curve.length > 0 && c.curve.every((p) => p.seconds === null)).map((c) => c.name) : [];
  const meta = AXES[axis];
  const x = { field: 'x', type: 'quantitative' as const, title: meta.title, axis: { format: meta.format } };
  const yScale = domain ? { domain, nice: false, zero: false } : { zero: false };
  const color = {
    field: 'variant',
    type: 'nominal' as const,
    title: 'variant',
    sort: study.variants.map((v) => v.name),
    scale: { scheme: study.variants.length > 10 ? 'tableau20' : 'category10' },
    legend: { symbolType: 'stroke', symbolOpacity: 1, symbolStrokeWidth: 3 },
  };
  const seedNote = multiSeed ? `mean of ${Math.max(...study.variants.map((v) => v.runs.length))} seeds, band = ± 1 std` : '';
  const zoomNote = domain ? `y zoomed to ${domain[0].toFixed(2)}–${domain[1].toFixed(2)} nats; earlier, higher points are clipped` : '';
  const missingNote = missing.length ? `no step times for ${missing.join(', ')}` : '';
  const subtitle = [seedNote, zoomNote, missingNote].filter(Boolean).join('; ');
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: `Held-out next-token loss vs ${meta.plot}`, ...(subtitle ? { subtitle } : {}) },
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
                y: { field: 'lo', type: 'quantitative' as const, scale: yScale },
                y2: { field: 'hi' },
                color,
              },
            },
          ]
        : []),
      {
        mark: { type: 'line' as const, point: true, strokeWidth: 2, clip: true },
        encoding: {
          x,
          y: { field: 'loss', type: 'quantitative' as const, title: 'held-out loss (nats)', scale: yScale },
          color,
        },
      },
    ],
  } as TopLevelSpec;
}

/**
 * Vega-Lite spec of held-out loss vs training tokens: {@link lossCurveSpec} on the tokens axis.
 *
 * @example
 * ```ts
 * const svg = await renderSvg(lossVsTokensSpec(await readStudy('out/vwn-small')));
 * ```
 */
export function lossVsTokensSpec(study: Study): TopLevelSpec {
  return lossCurveSpec(study, 'tokens');
}

/**
 * One-line text of the fit: `Δ = a·log2 r + b`, the slope's 95 % CI (when
 * there are more than 2 points), R² and the number of points; or why there is none.
 *
 * @example
 * ```ts
 * fitText({ a: -0.05, b: 0.01, r2: 0.98, n: 9, df: 7, aSe: 0.005, aCi95: [-0.0618, -0.0382] }, 3);
 * // 'Δ = -0.0500·log2 r + 0.0100; slope 95 % CI [-0.0618, -0.0382]; R² = 0.980; 9 points'
 * ```
 */
export function fitText(fit: LogLinearFit | null, distinctR: number): string {
  if (!fit) return `no fit: the fit needs ≥ 2 distinct r values (r ≠ 1), have ${distinctR}`;
  const sign = fit.b < 0 ? '-' : '+';
  const ci = fit.aCi95 ? `; slope 95 % CI [${fit.aCi95[0].toFixed(4)}, ${fit.aCi95[1].toFixed(4)}]` : '';
  return `Δ = ${fit.a.toFixed(4)}·log2 r ${sign} ${Math.abs(fit.b).toFixed(4)}${ci}; R² = ${fit.r2.toFixed(3)}; ${fit.n} points`;
}

/**
 * Vega-Lite spec of Δ held-out loss vs log2(r) for every variant with r ≠ 1:
 * the per-variant mean Δ with its 95 % confidence interval as error bars
 * (several seeds), each seed's Δ as a small open circle, multi-token-prediction
 * variants drawn as squares, and the least-squares line over every
 * (variant, seed) point with its equation in the subtitle.
 *
 * @example
 * ```ts
 * const svg = await renderSvg(deltaVsLog2rSpec(summarize(await readStudy('out/vwn-small'))));
 * ```
 */
export function deltaVsLog2rSpec(summaries: readonly VariantSummary[]): TopLevelSpec {
  const { points, fit, distinctR } = deltaFit(summaries);
  // Variants sharing an r are spread a little along x so their bars and seeds do not overlap.
  const offsetOf = (p: VariantSummary) => {
    const same = points.filter((q) => q.r === p.r);
    return same.length > 1 ? (same.indexOf(p) - (same.length - 1) / 2) * 0.08 : 0;
  };
  const values = points.map((p) => {
    const t = p.vsBaseline?.test;
    const m = t?.mean ?? p.deltaVsBaseline.mean;
    return {
      variant: p.name,
      log2r: Math.log2(p.r) + offsetOf(p),
      delta: m,
      lo: t?.ci95 ? t.ci95[0] : m,
      hi: t?.ci95 ? t.ci95[1] : m,
      hasCi: !!t?.ci95,
      objective: p.heldOutNext2Loss ? 'next-token + MTP' : 'next-token',
      labelBelow: false,
    };
  });
  const seedValues = points.flatMap((p) =>
    p.vsBaseline ? p.vsBaseline.deltas.map((d, i) => ({ variant: p.name, seed: p.vsBaseline!.seeds[i], log2r: Math.log2(p.r) + offsetOf(p), delta: d })) : [],
  );
  // Points sharing an r: label the lower one below its point so labels do not collide.
  for (const v of values) {
    const sameR = values.filter((w) => Math.abs(w.log2r - v.log2r) < 0.2).sort((p, q) => q.delta - p.delta);
    v.labelBelow = sameR.length > 1 && sameR.indexOf(v) % 2 === 1;
  }
  const xs = points.map((p) => Math.log2(p.r));
  const x0 = Math.min(0, ...xs);
  const x1 = Math.max(1, ...xs);
  const x = { field: 'log2r', type: 'quantitative' as const, title: 'log2 r (virtual width factor)', scale: { domain: [x0 < 0 ? x0 - 0.25 : x0, x1 + 0.25] } };
  const y = { field: 'delta', type: 'quantitative' as const, title: 'Δ held-out loss vs baseline (nats)' };
  const withCi = values.filter((v) => v.hasCi);
  const maxSeeds = Math.max(0, ...points.map((p) => p.vsBaseline?.seeds.length ?? 0));
  const barNote = withCi.length ? `bars: 95 % CI of the mean over ${maxSeeds} seeds; open circles: single seeds` : 'one seed: no interval can be given';
  const subtitle = points.length === 0 ? ['no variant has r ≠ 1: nothing to plot'] : [fitText(fit, distinctR), barNote];
  const layers: unknown[] = [
    { data: { values: [{ zero: 0 }] }, mark: { type: 'rule', strokeDash: [4, 4], color: '#888' }, encoding: { y: { field: 'zero', type: 'quantitative' } } },
  ];
  if (fit) {
    const line = [x0, x1].map((lx) => ({ log2r: lx, delta: fit.a * lx + fit.b, series: 'least-squares fit over every seed' }));
    layers.push({
      data: { values: line },
      mark: { type: 'line', color: '#d62728', strokeWidth: 2 },
      encoding: {
        x,
        y,
        strokeDash: { field: 'series', type: 'nominal', title: null, legend: { orient: 'bottom', labelLimit: 400 } },
      },
    });
  }
  if (withCi.length) {
    layers.push({
      data: { values: seedValues },
      mark: { type: 'point', filled: false, size: 30, color: '#7f7f7f', opacity: 0.8 },
      encoding: { x, y },
    });
    layers.push({
      data: { values: withCi },
      mark: { type: 'rule', color: '#1f77b4', strokeWidth: 2 },
      encoding: { x, y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' } },
    });
    for (const end of ['lo', 'hi']) {
      layers.push({
        data: { values: withCi },
        mark: { type: 'tick', color: '#1f77b4', orient: 'horizontal', size: 14, thickness: 2 },
        encoding: { x, y: { field: end, type: 'quantitative' } },
      });
    }
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
    title: { text: 'Δ held-out loss vs log2 r (negative = better than the baseline)', subtitle },
    width: 560,
    height: 340,
    config: PLOT_CONFIG,
    layer: layers,
    resolve: { legend: { strokeDash: 'independent', shape: 'independent' } },
  } as TopLevelSpec;
}
