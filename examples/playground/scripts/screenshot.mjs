/* global window -- the page-side callbacks of page.evaluate / waitForFunction run in the browser */
// Regenerates docs/img/playground.png: builds the page, serves it, trains
// baseline vs VWN r = 4 (size `small`) in headless Chromium and screenshots it.
//   node examples/playground/scripts/screenshot.mjs [--steps 150] [--backend auto|wasm|webgpu] [--out docs/img/playground.png]
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { build, preview } from 'vite';
import { chromium } from 'playwright-core';

const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: '150' },
    size: { type: 'string', default: 'small' },
    backend: { type: 'string', default: 'auto' },
    out: { type: 'string', default: 'docs/img/playground.png' },
    chromium: { type: 'string', default: process.env.VWN_CHROMIUM ?? '/usr/bin/chromium' },
  },
});
const page_ = fileURLToPath(new URL('..', import.meta.url));
const configFile = join(page_, 'vite.config.ts');
await build({ configFile, root: page_, logLevel: 'error' });
const server = await preview({ configFile, root: page_, logLevel: 'error', preview: { host: '127.0.0.1', port: 0 } });
const browser = await chromium.launch({ executablePath: values.chromium, headless: true, args: ['--no-sandbox', '--enable-unsafe-webgpu'] });
try {
  const page = await browser.newPage({ viewport: { width: 1000, height: 900 }, deviceScaleFactor: 1 });
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(`${server.resolvedUrls.local[0]}?backend=${values.backend}&size=${values.size}`);
  const info = await page.evaluate(() => window.__vwn.ready);
  console.log(`backend: ${info.note}`);
  const steps = Number(values.steps);
  // Set the controls to what is trained, so the screenshot shows the real settings.
  await page.fill('#steps', String(steps));
  await page.selectOption('#order', 'interleaved');
  const runs = await page.evaluate(
    ({ steps, size }) =>
      window.__vwn.train(
        [
          { variant: 'baseline', size, mtp: false, moe: false, steps },
          { variant: 'vwn-r4', size, mtp: false, moe: false, steps },
        ],
        'interleaved',
      ),
    { steps, size: values.size },
  );
  for (const r of runs) {
    console.log(
      `${r.label}: ${r.params} params, loss ${r.losses[0].toFixed(3)} → ${r.losses.at(-1).toFixed(3)}, held-out ${r.evals.at(-1).toFixed(3)}, ${Math.round(r.tokensPerSecond)} tokens/s`,
    );
    await page.evaluate((id) => window.__vwn.sample(id, 'ROMEO:', 120), r.id);
  }
  mkdirSync(join(values.out, '..'), { recursive: true });
  await page.screenshot({ path: values.out, fullPage: true });
  console.log(`wrote ${values.out}`);
} finally {
  await browser.close();
  await server.close();
}
