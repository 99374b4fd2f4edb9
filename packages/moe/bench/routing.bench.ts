/**
 * Benchmark: training steps of `bench-small-moe` (vwn bench's config, native =
 * wasm+blas) with the MoE layers routed three ways, interleaved in one
 * process: `old` — the host-routed forward this package had before routing
 * moved to the device (test/host_reference.ts: `dataSync` of the logits,
 * `routeTokens`); `counts` — device routing, expert buffers sized by the
 * E counts read back (the default on host-memory backends); `capacity` —
 * device routing, static `E·C` buffer (the webgpu path; dropless: C = N).
 * Prints wall and process CPU time per step and their medians.
 *
 *   npx tsx --tsconfig packages/blas/tsconfig.dev.json packages/moe/bench/routing.bench.ts [modes] [reps] [--profile]
 *   e.g. old,counts,capacity 5
 *
 * Not a test: numbers depend on the machine. Results go in docs/moe.md.
 */
import * as tf from '@tensorflow/tfjs';
import { activateBenchBackend, createStepRunner, BENCH_CONFIGS } from '../../cli/src/bench/harness.js';
import { hostRoutedForward } from '../test/host_reference.js';
import type { MoeModule } from '../src/index.js';
await activateBenchBackend('wasm+blas');
const cfg = BENCH_CONFIGS.find((c) => c.name === 'bench-small-moe')!;
const runner = await createStepRunner(cfg.model, cfg.batchSize);
const ffns = (runner.model.layers as unknown as Array<{ ffn: MoeModule }>).map((l) => l.ffn);
const forwards = ffns.map((f) => f.forward.bind(f));
function mode(m: string) {
  ffns.forEach((f, i) => {
    (f as { forward: MoeModule['forward'] }).forward = m === 'old' ? (x, ctx) => hostRoutedForward(f, x, ctx).y : forwards[i]!;
    if (m !== 'old') f.bufferSizing = m as 'counts';
  });
}
const res: Record<string, { wall: number[]; cpu: number[] }> = {};
const modes = (process.argv[2] ?? 'old,counts').split(',');
for (const m of modes) {
  mode(m);
  await runner.step();
}
for (let rep = 0; rep < Number(process.argv[3] ?? 3); rep++) {
  for (const m of modes) {
    mode(m);
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await runner.step();
    const c = process.cpuUsage(c0);
    (res[m] ??= { wall: [], cpu: [] }).wall.push(performance.now() - t0);
    res[m].cpu.push((c.user + c.system) / 1000);
  }
}
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
for (const [m, r] of Object.entries(res))
  console.log(
    m,
    'wall',
    r.wall.map((t) => t.toFixed(0)).join(' '),
    'median',
    med(r.wall).toFixed(0),
    '| cpu',
    r.cpu.map((t) => t.toFixed(0)).join(' '),
    'median',
    med(r.cpu).toFixed(0),
  );
if (process.argv.includes('--profile'))
  for (const m of modes) {
    mode(m);
    const prof = await tf.profile(() => runner.step());
    const agg = new Map<string, [number, number]>();
    for (const k of prof.kernels) {
      const a = agg.get(k.name) ?? [0, 0];
      a[0] += k.kernelTimeMs as number;
      a[1]++;
      agg.set(k.name, a);
    }
    console.log(
      m,
      [...agg]
        .sort((a, b) => b[1][0] - a[1][0])
        .slice(0, 16)
        .map(([n, [t, c]]) => `${n} ${t.toFixed(0)}ms×${c}`)
        .join(', '),
    );
  }
runner.dispose();
