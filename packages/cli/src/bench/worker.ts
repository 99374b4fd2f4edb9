/**
 * Child-process entry of `vwn bench`: runs one measurement in a fresh process
 * so that a crash (e.g. a wasm heap abort) or memory growth in one config
 * cannot affect the others, and peak RSS is per config. Prints one JSON line
 * prefixed with `@@vwn-bench ` on stdout.
 *
 *   worker.(ts|js) peak <backendSpec>
 *   worker.(ts|js) config <backendSpec> <configName> <steps> <peakGflops>
 *
 * @module
 */
import { activateBenchBackend, BENCH_CONFIGS, benchConfig, measurePeakMatMul } from './harness.js';

const [mode, spec, name, steps, peak] = process.argv.slice(2);
const emit = (v: unknown) => process.stdout.write(`@@vwn-bench ${JSON.stringify(v)}\n`);

const a = await activateBenchBackend(spec!).catch((e: Error) => ({ ok: false, label: spec!, note: e.message.split('\n')[0]! }));
if (!a.ok) {
  emit({ ok: false, label: a.label, note: a.note });
} else if (mode === 'peak') {
  // n×n GEMM; on a real GPU 1024³ is launch-bound, so bench/gpu-check.sh sets VWN_BENCH_PEAK_N=4096.
  const n = Number(process.env['VWN_BENCH_PEAK_N'] ?? 1024);
  emit({ ok: true, label: a.label, note: a.note, peakN: n, peak: await measurePeakMatMul(n, a.label === 'cpu' ? 1 : 8) });
} else {
  const cfg = BENCH_CONFIGS.find((c) => c.name === name);
  if (!cfg) throw new Error(`unknown config ${name}`);
  emit(await benchConfig(cfg, { steps: Number(steps), warmup: 1, backend: a.label, peak: Number(peak) }));
}
