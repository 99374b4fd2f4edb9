// The playground in a real browser: builds examples/playground with Vite, serves
// it with `vite preview` on a free 127.0.0.1 port, loads it in the system's
// Chromium (headless, driven by playwright-core; no browser download), trains a
// 20-step micro run, samples, downloads a checkpoint through the page's button
// and loads it in Node with logits equal to the browser's.
//
// Chromium: $VWN_CHROMIUM, else /usr/bin/chromium (Debian's `chromium` package).
// Without one the suite skips, unless VWN_REQUIRE_BROWSER=1 (CI sets it).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { assembleModel, resolveRunConfig, useBackend } from '@vwn/core';
import { loadModelFromCheckpoint } from '@vwn/core/node';
import '@vwn/embedding';
import '@vwn/ghc';
import '@vwn/moe';
import '@vwn/mtp';
import { ROOT } from './support.js';
import { runConfigFor, SIZES, VARIANTS } from '../examples/playground/src/variants.js';
import { renderLossPlot, ticks } from '../examples/playground/src/plot.js';

const chromiumPath = [process.env['VWN_CHROMIUM'], '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => p && existsSync(p));
if (!chromiumPath && process.env['VWN_REQUIRE_BROWSER'] === '1') {
  throw new Error('VWN_REQUIRE_BROWSER=1 but no Chromium found: apt-get install chromium, or set VWN_CHROMIUM');
}
if (!chromiumPath) console.warn('playground browser test skipped: no Chromium (apt-get install chromium, or set VWN_CHROMIUM)');

const PAGE = join(ROOT, 'examples', 'playground');

type Hook = {
  ready: Promise<{ backend: string; note: string }>;
  train(
    sel: unknown[],
    order?: string,
  ): Promise<
    Array<{ id: number; label: string; status: string; error: string | null; losses: number[]; evals: number[]; tokensPerSecond: number; params: number }>
  >;
  sample(runId: number, prompt: string, maxTokens?: number): Promise<string>;
  probeLogits(runId: number, length?: number): Promise<{ ids: number[]; logits: number[]; shape: number[] }>;
};
declare const window: { __vwn: Hook };

describe('playground configs and plot (Node)', () => {
  it('every variant × size × MTP × FFN choice is a valid run config with the virtual width it names', () => {
    for (const v of VARIANTS) {
      for (const size of SIZES) {
        for (const mtp of [false, true]) {
          for (const moe of [false, true]) {
            const run = resolveRunConfig(runConfigFor({ variant: v.id, size: size.id, mtp, moe }), 256);
            expect(run.data).toMatchObject({ corpus: 'tinyshakespeare', tokenizer: 'bytes' });
            expect(run.train.steps).toBe(size.steps);
            expect(run.model.dModel).toBe(size.dModel);
            expect(run.model.ffn.use).toBe(moe ? 'moe' : 'swiglu');
            expect(run.model.objectives.map((o) => o.use)).toEqual(mtp ? ['mtp'] : []);
            if (size.id === 'micro') {
              const model = assembleModel(run.model);
              expect(model.layout.width, `${v.id}`).toBe(v.r * size.dModel);
              model.dispose();
            }
          }
        }
      }
    }
  });

  it('plots every series with its legend and picks round ticks', () => {
    expect(ticks(0, 10_240)).toEqual([0, 2500, 5000, 7500, 10000]);
    expect(ticks(3.9, 5.6)).toEqual([4, 4.5, 5, 5.5]);
    const svg = renderLossPlot([
      {
        label: 'baseline',
        color: '#0072B2',
        train: [
          [128, 5.5],
          [256, 4.1],
        ],
        eval: [
          [0, 5.6],
          [256, 4.0],
        ],
      },
      {
        label: 'VWN r = 4 <MoE>',
        color: '#D55E00',
        train: [
          [128, 5.4],
          [256, 3.9],
        ],
        eval: [],
      },
    ]);
    expect(svg.match(/data-series=/g)).toHaveLength(2);
    expect(svg).toContain('VWN r = 4 &lt;MoE&gt;');
    expect(svg.match(/<circle/g)).toHaveLength(3); // two held-out points and the legend's marker
  });
});

describe.skipIf(!chromiumPath)('playground in Chromium', () => {
  let tmp: string;
  let server: import('vite').PreviewServer;
  let browser: import('playwright-core').Browser;
  let page: import('playwright-core').Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'vwn-playground-'));
    const vite = await import('vite');
    const outDir = join(tmp, 'dist');
    const configFile = join(PAGE, 'vite.config.ts');
    const t0 = performance.now();
    await vite.build({ configFile, root: PAGE, logLevel: 'error', build: { outDir } });
    server = await vite.preview({
      configFile,
      root: PAGE,
      logLevel: 'error',
      build: { outDir },
      preview: { host: '127.0.0.1', port: 0, strictPort: false, open: false },
    });
    const url = server.resolvedUrls?.local[0];
    if (!url) throw new Error('vite preview did not report a URL');
    const t1 = performance.now();
    const { chromium } = await import('playwright-core');
    // --enable-unsafe-webgpu exposes SwiftShader's WebGPU adapter in headless Chromium: a CPU
    // emulation, ~17x slower than wasm here, so the page's `auto` choice must pick wasm.
    browser = await chromium.launch({ executablePath: chromiumPath!, headless: true, args: ['--no-sandbox', '--enable-unsafe-webgpu'] });
    page = await browser.newPage({ acceptDownloads: true });
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`${url}?size=micro`);
    console.log(
      `playground: vite build + preview ${((t1 - t0) / 1000).toFixed(1)} s, Chromium start + page load ${((performance.now() - t1) / 1000).toFixed(1)} s`,
    );
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('loads and, offered only a CPU-emulated WebGPU adapter, picks wasm and says why', async () => {
    const info = await page.evaluate(() => window.__vwn.ready);
    expect(info.backend).toBe('wasm');
    const badge = await page.textContent('#backend');
    expect(badge).toContain('backend: wasm (XNNPACK, SIMD, single thread)');
    expect(badge).toMatch(/no WebGPU: the WebGPU adapter ".*swiftshader.*" is a CPU emulation/);
    expect(await page.isEnabled('#train')).toBe(true);
    expect(pageErrors).toEqual([]);
  });

  let runs: Awaited<ReturnType<Hook['train']>>;

  it('trains a 20-step micro baseline and, interleaved, a 10-step VWN r = 4 + MTP + MoE model: the loss falls', async () => {
    runs = await page.evaluate(() =>
      window.__vwn.train(
        [
          { variant: 'baseline', size: 'micro', mtp: false, moe: false, steps: 20 },
          { variant: 'vwn-r4', size: 'micro', mtp: true, moe: true, steps: 10 },
        ],
        'interleaved',
      ),
    );
    for (const r of runs) {
      expect(r.error, r.label).toBeNull();
      expect(r.status, r.label).toBe('done');
      const steps = r.label === 'baseline' ? 20 : 10;
      expect(r.losses).toHaveLength(steps);
      expect(r.losses.every(Number.isFinite)).toBe(true);
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      // Byte-level start is ln 256 ≈ 5.55 nats; at lr 3e-3 the first steps already bring it down.
      expect(r.losses[0]!).toBeGreaterThan(5);
      expect(mean(r.losses.slice(-5))).toBeLessThan(mean(r.losses.slice(0, 5)) - 0.25);
      expect(r.evals.at(-1)!).toBeLessThan(r.evals[0]! - 0.25);
      expect(r.tokensPerSecond).toBeGreaterThan(0);
    }
    console.log(
      `playground micro run in Chromium (wasm): ${runs.map((r) => `${r.label}: loss ${r.losses[0]!.toFixed(3)} → ${r.losses.at(-1)!.toFixed(3)}, held-out ${r.evals[0]!.toFixed(3)} → ${r.evals.at(-1)!.toFixed(3)}, ${Math.round(r.tokensPerSecond)} tokens/s, ${r.params} params`).join('; ')}`,
    );
    // The table and the plot show both runs.
    expect(await page.locator('#runs tbody tr[data-status="done"]').count()).toBe(2);
    expect(await page.locator('#plot path[data-series]').count()).toBe(2);
  });

  it('samples text from each trained model', async () => {
    for (const r of runs) {
      const text = await page.evaluate((id) => window.__vwn.sample(id, 'ROMEO:', 48), r.id);
      expect(typeof text).toBe('string');
      expect(text.length).toBeGreaterThan(0);
      // 48 byte tokens decode to at most 48 characters (U+FFFD for a cut multi-byte sequence).
      expect(text.length).toBeLessThanOrEqual(48);
      expect(await page.textContent(`#samples pre[data-run="${r.id}"]`)).toBe(`ROMEO:${text}`);
    }
    expect(await page.locator('#samples pre').count()).toBe(2);
  });

  it('downloads checkpoints that load in Node with the same logits', async () => {
    await useBackend('wasm');
    for (const r of runs) {
      const [download] = await Promise.all([page.waitForEvent('download'), page.click(`#runs tr[data-run="${r.id}"] button[data-action="download"]`)]);
      const file = join(tmp, download.suggestedFilename());
      await download.saveAs(file);
      expect(download.suggestedFilename()).toMatch(/\.safetensors$/);
      const browserSide = await page.evaluate((id) => window.__vwn.probeLogits(id), r.id);
      const { model, checkpoint } = await loadModelFromCheckpoint(file);
      try {
        expect(checkpoint.state.trainer.step).toBe(r.losses.length);
        const T = browserSide.ids.length;
        const out = tf.tidy(() => model.logits(tf.tensor2d(browserSide.ids, [1, T], 'int32')));
        expect(out.shape).toEqual(browserSide.shape);
        const node = await out.data();
        out.dispose();
        let maxDiff = 0;
        let maxAbs = 0;
        for (let i = 0; i < node.length; i++) {
          maxDiff = Math.max(maxDiff, Math.abs(node[i]! - browserSide.logits[i]!));
          maxAbs = Math.max(maxAbs, Math.abs(node[i]!));
        }
        console.log(`${r.label}: max |logit(Node wasm) − logit(Chromium wasm)| = ${maxDiff.toExponential(2)} (max |logit| ${maxAbs.toFixed(2)})`);
        // Same weights, same wasm kernels: equal to float32 rounding.
        expect(maxDiff).toBeLessThanOrEqual(1e-5 * Math.max(1, maxAbs));
      } finally {
        model.dispose();
      }
    }
    expect(pageErrors).toEqual([]);
  });

  // Opt-in (VWN_BROWSER_WEBGPU=1): the same run on WebGPU through navigator.gpu. On a machine
  // without a GPU that is SwiftShader, ~17x slower than wasm, too slow for the default suite.
  it.runIf(process.env['VWN_BROWSER_WEBGPU'] === '1')('trains on WebGPU (?backend=webgpu) with the losses wasm gave', async () => {
    const gpuPage = await browser.newPage();
    gpuPage.on('pageerror', (e) => pageErrors.push(e.message));
    await gpuPage.goto(`${server.resolvedUrls!.local[0]}?backend=webgpu&size=micro`);
    const info = await gpuPage.evaluate(() => window.__vwn.ready);
    expect(info.backend).toBe('webgpu');
    expect(await gpuPage.textContent('#backend')).toContain('backend: WebGPU (');
    const [gpuRun] = await gpuPage.evaluate(() => window.__vwn.train([{ variant: 'baseline', size: 'micro', mtp: false, moe: false, steps: 20 }]));
    console.log(
      `playground micro run in Chromium (${info.note}): loss ${gpuRun!.losses[0]!.toFixed(3)} → ${gpuRun!.losses.at(-1)!.toFixed(3)}, ${Math.round(gpuRun!.tokensPerSecond)} tokens/s`,
    );
    const wasmLosses = runs.find((r) => r.label === 'baseline')!.losses;
    for (let i = 0; i < 20; i++) expect(Math.abs(gpuRun!.losses[i]! - wasmLosses[i]!), `step ${i + 1}`).toBeLessThan(1e-4);
    await gpuPage.close();
    expect(pageErrors).toEqual([]);
  });
});
