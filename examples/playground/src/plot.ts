// Loss-vs-tokens plot as plain SVG markup (no plotting library). Pure: no DOM.

/** One line of the plot. */
export interface Series {
  readonly label: string;
  readonly color: string;
  /** Training loss per step: [tokens, loss]. */
  readonly train: ReadonlyArray<readonly [number, number]>;
  /** Held-out loss: [tokens, loss]. */
  readonly eval: ReadonlyArray<readonly [number, number]>;
}

/** Colours of successive runs (colour-blind-safe Okabe–Ito order). */
export const COLORS = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#F0E442'];

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** "Nice" tick values covering [lo, hi] (about `count` of them). */
export function ticks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/** `12 300` → `12.3k`, `1 200 000` → `1.2M`. */
export function shortNumber(v: number): string {
  if (Math.abs(v) >= 1e6) return `${+(v / 1e6).toFixed(2)}M`;
  if (Math.abs(v) >= 1e3) return `${+(v / 1e3).toFixed(1)}k`;
  return `${+v.toFixed(2)}`;
}

/** Exponential moving average of a series' y values (smoothing the noisy per-step loss). */
export function smooth(points: ReadonlyArray<readonly [number, number]>, alpha = 0.3): Array<[number, number]> {
  let m = NaN;
  return points.map(([x, y]) => {
    m = Number.isNaN(m) ? y : alpha * y + (1 - alpha) * m;
    return [x, m];
  });
}

/**
 * Renders the series as an SVG document string: per-step training loss (thin,
 * smoothed line drawn bold over it) and held-out loss (dots), against tokens.
 */
export function renderLossPlot(series: readonly Series[], opts: { width?: number; height?: number } = {}): string {
  const W = opts.width ?? 720;
  const H = opts.height ?? 360;
  const m = { l: 52, r: 16, t: 14, b: 40 };
  const all = series.flatMap((s) => [...s.train, ...s.eval]);
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => p[1]).filter(Number.isFinite);
  const x1 = Math.max(1, ...xs);
  const yLo = ys.length ? Math.min(...ys) : 0;
  const yHi = ys.length ? Math.max(...ys) : 6;
  const pad = (yHi - yLo) * 0.05 || 0.5;
  const y0 = Math.max(0, yLo - pad);
  const y1 = yHi + pad;
  const X = (x: number) => m.l + (x / x1) * (W - m.l - m.r);
  const Y = (y: number) => m.t + (1 - (y - y0) / (y1 - y0)) * (H - m.t - m.b);
  const path = (pts: ReadonlyArray<readonly [number, number]>) =>
    pts
      .filter((p) => Number.isFinite(p[1]))
      .map(([x, y], i) => `${i ? 'L' : 'M'}${X(x).toFixed(1)},${Y(y).toFixed(1)}`)
      .join('');
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-family="system-ui, sans-serif" font-size="11">`);
  parts.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="#fff"/>`);
  for (const t of ticks(0, x1)) {
    parts.push(`<line x1="${X(t)}" x2="${X(t)}" y1="${m.t}" y2="${H - m.b}" stroke="#eee"/>`);
    parts.push(`<text x="${X(t)}" y="${H - m.b + 14}" text-anchor="middle" fill="#555">${shortNumber(t)}</text>`);
  }
  for (const t of ticks(y0, y1)) {
    parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${Y(t)}" y2="${Y(t)}" stroke="#eee"/>`);
    parts.push(`<text x="${m.l - 6}" y="${Y(t) + 4}" text-anchor="end" fill="#555">${+t.toFixed(2)}</text>`);
  }
  parts.push(`<rect x="${m.l}" y="${m.t}" width="${W - m.l - m.r}" height="${H - m.t - m.b}" fill="none" stroke="#999"/>`);
  parts.push(`<text x="${(m.l + W - m.r) / 2}" y="${H - 6}" text-anchor="middle" fill="#333">training tokens</text>`);
  parts.push(`<text transform="translate(13 ${(m.t + H - m.b) / 2}) rotate(-90)" text-anchor="middle" fill="#333">loss (nats)</text>`);
  for (const s of series) {
    if (s.train.length) {
      parts.push(`<path d="${path(s.train)}" fill="none" stroke="${s.color}" stroke-opacity="0.25" stroke-width="1"/>`);
      parts.push(`<path d="${path(smooth(s.train))}" fill="none" stroke="${s.color}" stroke-width="2" data-series="${esc(s.label)}"/>`);
    }
    for (const [x, y] of s.eval) {
      parts.push(`<circle cx="${X(x).toFixed(1)}" cy="${Y(y).toFixed(1)}" r="3.5" fill="#fff" stroke="${s.color}" stroke-width="2"/>`);
    }
  }
  // Legend, top right.
  series.forEach((s, i) => {
    const ly = m.t + 14 + i * 16;
    const lx = W - m.r - 190;
    parts.push(`<line x1="${lx}" x2="${lx + 18}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2"/>`);
    parts.push(`<text x="${lx + 24}" y="${ly}" fill="#222">${esc(s.label)}</text>`);
  });
  if (series.some((s) => s.eval.length)) {
    const ly = m.t + 14 + series.length * 16;
    const lx = W - m.r - 190;
    parts.push(`<circle cx="${lx + 9}" cy="${ly - 4}" r="3.5" fill="#fff" stroke="#555" stroke-width="2"/>`);
    parts.push(`<text x="${lx + 24}" y="${ly}" fill="#555">held-out loss</text>`);
  }
  parts.push('</svg>');
  return parts.join('');
}
