import { writeFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '@vwn/core';
import { BENCH_CONFIGS, DEFAULT_BENCH_CONFIGS, formatOverheadTable, formatTable, withOverheads, type BenchResult } from '../bench/harness.js';

/** Options of `vwn bench`. */
export interface BenchOptions {
  /**
   * Comma-separated backends: `cpu`, `wasm`, `webgpu`, `tensorflow`, `auto`, or
   * `cpu+blas` / `wasm+blas` (tfjs backend with @vwn/blas native matMul;
   * `native` = `wasm+blas`), or `wasm+fix` (@vwn/blas's pure-JS wasm matMul
   * kernel: transposes and batches hoisted out of XNNPACK; no native code).
   * Default `wasm,wasm+fix,wasm+blas`.
   */
  readonly backend?: string | undefined;
  /** Comma-separated config names (default: all of {@link BENCH_CONFIGS} but `bench-medium`). */
  readonly configs?: string | undefined;
  /** Timed steps per config (default 5; one extra untimed warm-up step). */
  readonly steps?: number | undefined;
  readonly json?: boolean | undefined;
  /** Also write the JSON report to this file. */
  readonly out?: string | undefined;
}

let lastWorkerError = '';

/**
 * Runs bench/worker in a child process (same Node flags, so it also works
 * under tsx) and returns its JSON result, or null when it crashed.
 */
function runWorker(args: string[]): Promise<unknown> {
  const here = fileURLToPath(import.meta.url);
  const worker = fileURLToPath(new URL(`../bench/worker${here.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url));
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...process.execArgv, worker, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('@@vwn-bench '));
      if (line) return resolve(JSON.parse(line.slice('@@vwn-bench '.length)));
      const lines = err.split('\n').filter((l) => l.length < 400);
      const msg = lines.reverse().find((l) => /Error|Aborted|out of memory/i.test(l)) ?? `exit code ${code}`;
      lastWorkerError = `worker crashed: ${msg.trim().slice(0, 200)}`;
      resolve(null);
    });
  });
}

/**
 * `vwn bench`: training-step throughput of the reference configs on each
 * backend (median step time, tokens/s, achieved vs peak matMul GFLOP/s, VWN
 * overhead vs baseline, memory). Returns the exit code.
 *
 * @example
 * ```ts
 * await benchCommand({ backend: 'wasm,wasm+blas', configs: 'bench-small', steps: 5, out: 'bench.json' });
 * ```
 */
export async function benchCommand(opts: BenchOptions): Promise<number> {
  const specs = (opts.backend ?? 'wasm,wasm+fix,wasm+blas')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const names = opts.configs
    ? opts.configs
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : [...DEFAULT_BENCH_CONFIGS];
  const configs = names.map((n) => {
    const c = BENCH_CONFIGS.find((x) => x.name === n);
    if (!c) throw new ConfigError('--configs', `unknown config "${n}"; allowed: ${BENCH_CONFIGS.map((x) => x.name).join(', ')}`);
    return c;
  });
  const steps = opts.steps ?? 5;
  if (!Number.isInteger(steps) || steps < 1) throw new ConfigError('--steps', `expected a positive integer, got ${steps}`);
  const log = (line: string) => (opts.json ? process.stderr : process.stdout).write(line + '\n');
  const results: BenchResult[] = [];
  const backends: Array<{ spec: string; label: string; note: string; peakMatMulGflops: number | null }> = [];
  for (const spec of specs) {
    const p = (await runWorker(['peak', spec])) as { ok: boolean; label: string; note: string; peak?: number; peakN?: number } | null;
    if (!p || !p.ok) {
      const note = p?.note ?? 'backend failed to start';
      const label = p?.label ?? spec;
      log(`${spec}: skipped (${note})`);
      backends.push({ spec, label, note, peakMatMulGflops: null });
      for (const c of configs) results.push({ config: c.name, backend: label, status: 'skipped', note });
      continue;
    }
    const { label, note } = p;
    const peak = p.peak!;
    log(`${label}: ${note}; peak matMul ${p.peakN ?? 1024}³ = ${peak.toFixed(1)} GFLOP/s`);
    backends.push({ spec, label, note, peakMatMulGflops: peak });
    for (const c of configs) {
      const r =
        ((await runWorker(['config', spec, c.name, String(steps), String(peak)])) as BenchResult | null) ??
        ({ config: c.name, backend: label, status: 'failed', note: lastWorkerError || 'worker crashed' } as BenchResult);
      results.push(r);
      log(
        r.status === 'ok'
          ? `  ${c.name}: ${r.stepMsMedian!.toFixed(0)} ms/step, ${r.tokensPerSecond!.toFixed(0)} tok/s, ${r.gflops!.toFixed(1)} GFLOP/s (${(100 * r.utilization!).toFixed(1)}% of peak)` +
              (r.gpuPerStep
                ? `; per step: ${r.gpuPerStep.dispatches} dispatches, ${r.gpuPerStep.submits} submits, ${r.gpuPerStep.reads} reads (${r.gpuPerStep.bytesRead} B), ${r.gpuPerStep.buffersCreated} buffers created`
                : '')
          : `  ${c.name}: ${r.status} (${r.note})`,
      );
    }
  }
  const final = withOverheads(results);
  const report = {
    machine: {
      cpus: (await import('node:os')).cpus().length,
      cpuModel: (await import('node:os')).cpus()[0]?.model ?? '',
      node: process.version,
      tfjs: tf.version_core,
    },
    steps,
    backends,
    results: final,
  };
  if (opts.out) await writeFile(opts.out, JSON.stringify(report, null, 2) + '\n');
  if (opts.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  else {
    process.stdout.write('\n' + formatTable(final) + '\n');
    const overhead = formatOverheadTable(final);
    if (overhead) process.stdout.write('\n' + overhead + '\n');
  }
  return final.some((r) => r.status === 'failed') ? 1 : 0;
}
