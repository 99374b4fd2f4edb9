/**
 * Whole bench-small VWN training steps on `native` with and without the fused DGHC ops,
 * toggled step by step in one process (same model, same machine state), median ms of each.
 *
 *   npx tsx --tsconfig packages/blas/tsconfig.dev.json packages/blas/bench/step_ab.ts [steps] [configs]
 *
 * @module
 */
import { getFusedOps, loadPluginsFor, registerFusedOps, useBackend } from '@vwn/core';
import { dghcFusedOps } from '@vwn/blas';
import { BENCH_CONFIGS, createStepRunner } from '../../cli/src/bench/harness.js';

const steps = Number(process.argv[2] ?? 3);
const names = (process.argv[3] ?? 'bench-small-r2,bench-small-r4').split(',');
await useBackend('native');
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (const name of names) {
  const cfg = BENCH_CONFIGS.find((c) => c.name === name)!;
  await loadPluginsFor(cfg.model as unknown as Record<string, unknown>);
  const runner = await createStepRunner(cfg.model, cfg.batchSize);
  const set = (on: boolean) => registerFusedOps('dghc', on ? dghcFusedOps : {}, on ? ['wasm'] : []);
  const time = async (on: boolean) => {
    set(on);
    if ((getFusedOps('dghc') !== undefined) !== on) throw new Error('toggle failed');
    const t0 = performance.now();
    await runner.step();
    return performance.now() - t0;
  };
  await time(false);
  await time(true);
  const off: number[] = [];
  const on: number[] = [];
  for (let i = 0; i < steps; i++) {
    if (i % 2) {
      on.push(await time(true));
      off.push(await time(false));
    } else {
      off.push(await time(false));
      on.push(await time(true));
    }
  }
  console.log(
    `${name}: tfjs DGHC ops ${med(off).toFixed(0)} ms/step, fused ${med(on).toFixed(0)} ms/step, ${(med(off) / med(on)).toFixed(2)}× ` +
      `(median of ${steps} each, interleaved; off ${off.map((x) => x.toFixed(0)).join('/')}, on ${on.map((x) => x.toFixed(0)).join('/')})`,
  );
  runner.dispose();
}
