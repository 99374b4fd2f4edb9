// PNG plots draw their text with the bundled DejaVu Sans: with every system font hidden
// from resvg (FONTCONFIG_FILE = an empty config, HOME without ~/.fonts), a report's PNG
// still has text, and it is byte for byte the PNG rendered with the system fonts visible.
// (vitest's `forks` pool runs this file in its own process, so the env changes stay here.)
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Resvg } from '@resvg/resvg-js';
import { PLOT_FONT_FILES, rebuildReport, svgToPng } from '@vwn/report';
import { writeFakeStudy } from './fixtures.js';

/** Decodes an 8-bit, non-interlaced RGB/RGBA PNG (what resvg writes) to grey levels 0–255, row-major. */
function decodePng(png: Uint8Array): { width: number; height: number; grey: Uint8Array } {
  const buf = Buffer.from(png);
  let pos = 8;
  let width = 0,
    height = 0,
    channels = 0;
  const idat: Buffer[] = [];
  while (pos < buf.length) {
    const len = buf.readUInt32BE(pos);
    const type = buf.toString('latin1', pos + 4, pos + 8);
    const data = buf.subarray(pos + 8, pos + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      expect([data[8], data[12]], 'bit depth 8, not interlaced').toEqual([8, 0]);
      channels = ({ 2: 3, 6: 4 } as Record<number, number>)[data[9]!]!;
      expect(channels, `colour type ${data[9]}`).toBeDefined();
    } else if (type === 'IDAT') idat.push(data);
    pos += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const px = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    for (let x = 0; x < stride; x++) {
      const v = raw[y * (stride + 1) + 1 + x]!;
      const a = x >= channels ? px[y * stride + x - channels]! : 0;
      const b = y > 0 ? px[(y - 1) * stride + x]! : 0;
      const c = x >= channels && y > 0 ? px[(y - 1) * stride + x - channels]! : 0;
      const p = a + b - c;
      const pred = [
        0,
        a,
        b,
        (a + b) >> 1,
        Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c) ? a : Math.abs(p - b) <= Math.abs(p - c) ? b : c,
      ][filter]!;
      px[y * stride + x] = (v + pred) & 255;
    }
  }
  const grey = new Uint8Array(width * height);
  for (let i = 0; i < grey.length; i++) grey[i] = Math.round((px[i * channels]! + px[i * channels + 1]! + px[i * channels + 2]!) / 3);
  return { width, height, grey };
}

let dir = '';
let svg = '';
let png: Uint8Array = new Uint8Array();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vwn-fonts-'));
  await writeFile(join(dir, 'empty-fonts.conf'), '<?xml version="1.0"?>\n<fontconfig></fontconfig>\n');
  process.env['FONTCONFIG_FILE'] = join(dir, 'empty-fonts.conf');
  process.env['HOME'] = dir;
  await writeFakeStudy(
    join(dir, 'study'),
    [
      { name: 'baseline', r: 1, params: 1_000_000, flopsPerToken: 6_000_000, lossScale: 1, stepMs: 40 },
      { name: 'vwn-r2', r: 2, m: 2, n: 4, params: 1_100_000, flopsPerToken: 6_500_000, lossScale: 0.9, stepMs: 46 },
    ],
    { seeds: [0], steps: 60, evalEvery: 10, tokensPerStep: 256 },
  );
  await rebuildReport(join(dir, 'study'), { machine: 'Test CPU × 2' });
  svg = await readFile(join(dir, 'study', 'plots', 'loss-vs-tokens.svg'), 'utf8');
  png = await readFile(join(dir, 'study', 'plots', 'loss-vs-tokens.png'));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('PNG plot text without system fonts', () => {
  it('the system fonts really are hidden: resvg with only system fonts draws no text', () => {
    const text =
      '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="40"><text x="5" y="30" font-family="DejaVu Sans" font-size="24">Held-out</text></svg>';
    const dark = (r: Resvg) => r.render().pixels.filter((v, i) => i % 4 === 0 && v < 128).length;
    expect(dark(new Resvg(text, { background: 'white', font: { loadSystemFonts: true } }))).toBe(0);
    // …and the bundled font draws it (the same SVG through the same resvg, only fontFiles added).
    expect(
      dark(new Resvg(text, { background: 'white', font: { loadSystemFonts: false, fontFiles: [...PLOT_FONT_FILES], defaultFontFamily: 'DejaVu Sans' } })),
    ).toBeGreaterThan(200);
  });

  it("the report's loss-vs-tokens PNG has text pixels: it differs from the same plot with its <text> removed", async () => {
    const textCount = (svg.match(/<text\b/g) ?? []).length;
    expect(textCount).toBeGreaterThan(5); // axis titles, tick labels, legend
    const withText = decodePng(png);
    const without = decodePng(await svgToPng(svg.replace(/<text\b[^>]*>[\s\S]*?<\/text>/g, '')));
    expect([without.width, without.height]).toEqual([withText.width, withText.height]);
    let darker = 0;
    for (let i = 0; i < withText.grey.length; i++) if (withText.grey[i]! + 64 < without.grey[i]!) darker++;
    // Each glyph darkens a few dozen pixels at scale 2; dozens of labels give thousands.
    expect(darker).toBeGreaterThan(40 * textCount);
  });

  it('is the same PNG, byte for byte, with the system fonts visible again', async () => {
    const saved = process.env['FONTCONFIG_FILE'];
    delete process.env['FONTCONFIG_FILE'];
    try {
      expect(Buffer.from(await svgToPng(svg)).equals(Buffer.from(png))).toBe(true);
    } finally {
      process.env['FONTCONFIG_FILE'] = saved;
    }
  });
});
