/**
 * Kernel-time profile of one bench-small training step (issue #8).
 *
 *   npx tsx --tsconfig packages/blas/tsconfig.dev.json packages/cli/src/bench/profile.ts [backend...]
 *     [--blas | --fix] [--v0] [--config NAME] [--steps N] [--shapes]
 *
 * Prints the median step time (unprofiled) and a per-kernel-name breakdown of
 * kernel time (tf.profile; each kernel timed synchronously, so the sum is
 * close to the step's compute time) for each backend (default: wasm cpu).
 * `--blas` registers @vwn/blas's native matMul kernels first, `--fix` its pure-JS
 * wasm matMul kernel; `--v0` uses the pre-#8 attention (slice/concat RoPE);
 * `--shapes` adds a per-(kernel, input shapes) breakdown (SHAPES_RE, SHAPES_TOP).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { loadPluginsFor, registerPlugin, useBackend } from '@vwn/core';
import { attentionV0 } from './attention_v0.js';
import { BENCH_CONFIGS, createStepRunner, enableBenchBlas } from './harness.js';

const argv = process.argv.slice(2);
const flag = (n: string) => argv.includes(n);
const opt = (n: string) => {
  const i = argv.indexOf(n);
  return i >= 0 ? argv[i + 1] : undefined;
};
const VALUED = ['--config', '--steps'];
const backends = argv.filter((a, i) => !a.startsWith('--') && !(i > 0 && VALUED.includes(argv[i - 1]!)));
const cfgName = opt('--config') ?? 'bench-small';
const steps = Number(opt('--steps') ?? 3);
const base = BENCH_CONFIGS.find((c) => c.name === cfgName)!;
// `--v0`: the pre-#8 attention formulation (slice/concat RoPE) for before/after numbers.
registerPlugin(attentionV0 as never);
const cfg = flag('--v0') ? { ...base, model: { ...base.model, mixer: { use: 'attention-v0' } } } : base;
await loadPluginsFor(cfg.model as unknown as Record<string, unknown>);

for (const backend of backends.length ? backends : ['wasm', 'cpu']) {
  await useBackend(backend);
  let tag = backend + (flag('--v0') ? ' [attention-v0]' : '');
  if (flag('--blas')) {
    const r = await enableBenchBlas(tf.getBackend());
    tag += r?.enabled ? `+blas${r.dghc ? '+dghc' : ''}` : ' (blas unavailable)';
  } else if (flag('--fix')) {
    const blas = (await import('@vwn/blas' as string)) as { registerWasmMatMulFix(): string[] };
    tag += blas.registerWasmMatMulFix().length ? '+transpose-fix' : '';
  }
  const runner = await createStepRunner(cfg.model, cfg.batchSize);
  await runner.step(); // warm-up (kernel compilation, constant caches)
  const times: number[] = [];
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    await runner.step();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const stepMs = times[Math.floor(times.length / 2)]!;
  const t0 = performance.now();
  const info = await tf.profile(async () => {
    await runner.step();
  });
  const profMs = performance.now() - t0;
  const by = new Map<string, { ms: number; n: number }>();
  let total = 0;
  for (const k of info.kernels) {
    const ms = Number(await k.kernelTimeMs);
    total += ms;
    const e = by.get(k.name) ?? { ms: 0, n: 0 };
    e.ms += ms;
    e.n += 1;
    by.set(k.name, e);
  }
  const rows = [...by.entries()].sort((a, b) => b[1].ms - a[1].ms);
  console.log(
    `\n== ${cfgName} on ${tag}: median step ${stepMs.toFixed(0)} ms, min ${times[0]!.toFixed(0)} ms (${steps} steps), ` +
      `GFLOP/s ${(runner.flopsPerStep / stepMs / 1e6).toFixed(1)}; profiled step ${profMs.toFixed(0)} ms, kernel sum ${total.toFixed(0)} ms, ${info.kernels.length} kernels`,
  );
  console.log('kernel'.padEnd(22) + 'ms'.padStart(9) + '   %  ' + 'calls'.padStart(6));
  for (const [name, e] of rows.slice(0, 20)) {
    console.log(name.padEnd(22) + e.ms.toFixed(1).padStart(9) + (((100 * e.ms) / total).toFixed(1) + '%').padStart(7) + String(e.n).padStart(6));
  }
  if (flag('--shapes')) {
    const mm = new Map<string, { ms: number; n: number }>();
    for (const k of info.kernels) {
      if (process.env.SHAPES_RE && !new RegExp(process.env.SHAPES_RE).test(k.name)) continue;
      const key = `${k.name} ${JSON.stringify(k.inputShapes)} ${JSON.stringify((k as unknown as { extraInfo?: string }).extraInfo ?? '')}`;
      const e = mm.get(key) ?? { ms: 0, n: 0 };
      e.ms += Number(await k.kernelTimeMs);
      e.n++;
      mm.set(key, e);
    }
    for (const [k, e] of [...mm.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, Number(process.env.SHAPES_TOP ?? 25)))
      console.log(`  ${e.ms.toFixed(1).padStart(8)} ms ${String(e.n).padStart(4)}×  ${k}`);
  }
  runner.dispose();
}
