/**
 * Training-step benchmark harness behind `vwn bench` (issue #8).
 *
 * For each reference config and backend it measures the median wall time of a
 * full training step (forward + backward + AdamW, same sequence of tensor ops
 * as `Trainer.trainStep` without accumulation/clipping bookkeeping), tokens/s,
 * analytic FLOPs per step (3 × forward FLOPs/token × tokens), achieved GFLOP/s,
 * the backend's own peak matMul GFLOP/s measured in the same process (a square
 * GEMM), utilization, the VWN overhead vs the config's baseline, peak RSS and
 * tensors alive.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import {
  ByteTokenizer,
  ConfigError,
  loadPluginsFor,
  registerFusedOps,
  resolveRunConfig,
  unregisterFusedOps,
  Trainer,
  useBackend,
  type Model,
  type FusedOps,
  type ModelConfig,
} from '@vwn/core';
import { virtualWidth } from '@vwn/ghc';
import { installDiscovery } from '../discovery.js';

installDiscovery();

/** A named model config of the benchmark suite. */
export interface BenchConfig {
  readonly name: string;
  /** The config this one's overhead is measured against (itself for baselines). */
  readonly baseline: string;
  readonly model: ModelConfig;
  readonly batchSize: number;
}

const SMALL: ModelConfig = { vocabSize: 256, dModel: 256, layers: 4, heads: 4, seqLen: 256 };
const MOE = { use: 'moe', experts: 8, topK: 2 } as const;
const r2 = virtualWidth({ m: 4, n: 8 });
const r4 = virtualWidth({ m: 8, n: 32 });

/** The reference suite: bench-small and bench-small-moe, each as baseline, DGHC r = 2 and r = 4. */
export const BENCH_CONFIGS: readonly BenchConfig[] = [
  { name: 'bench-small', baseline: 'bench-small', model: SMALL, batchSize: 8 },
  { name: 'bench-small-r2', baseline: 'bench-small', model: { ...SMALL, ...r2 }, batchSize: 8 },
  { name: 'bench-small-r4', baseline: 'bench-small', model: { ...SMALL, ...r4 }, batchSize: 8 },
  { name: 'bench-small-moe', baseline: 'bench-small-moe', model: { ...SMALL, ffn: MOE }, batchSize: 8 },
  { name: 'bench-small-moe-r2', baseline: 'bench-small-moe', model: { ...SMALL, ffn: MOE, ...r2 }, batchSize: 8 },
  { name: 'bench-small-moe-r4', baseline: 'bench-small-moe', model: { ...SMALL, ffn: MOE, ...r4 }, batchSize: 8 },
  // Issue #17: big enough that on a GPU the math, not dispatch, should be the limit (not in the default set).
  { name: 'bench-medium', baseline: 'bench-medium', model: { vocabSize: 256, dModel: 1024, layers: 8, heads: 8, seqLen: 512 }, batchSize: 16 },
];

/** The configs `vwn bench` runs when `--configs` is not given (bench-medium only on request). */
export const DEFAULT_BENCH_CONFIGS: readonly string[] = BENCH_CONFIGS.filter((c) => c.name !== 'bench-medium').map((c) => c.name);

/** Per-step device counts of the webgpu backend (see @vwn/kernels-gpu `gpuCounters`). */
export interface StepGpuCounts {
  readonly dispatches: number;
  readonly submits: number;
  readonly reads: number;
  readonly bytesRead: number;
  readonly buffersCreated: number;
  readonly pipelinesCreated: number;
}

interface CounterModule {
  gpuCounters(): StepGpuCounts;
  diffGpuCounters(a: StepGpuCounts, b: StepGpuCounts): StepGpuCounts;
}

/** @vwn/kernels-gpu's device counters when the webgpu backend is active, else null. */
async function gpuCounterModule(): Promise<CounterModule | null> {
  if (tf.getBackend() !== 'webgpu') return null;
  try {
    return (await import('@vwn/kernels-gpu' as string)) as CounterModule;
  } catch {
    return null;
  }
}

/** Deterministic pseudo-random byte rows `[B, T + 1]` (content does not matter for timing). */
export function randomRows(batch: number, seqLen: number, vocab: number, seed = 1): Int32Array {
  const out = new Int32Array(batch * (seqLen + 1));
  let s = seed >>> 0 || 1;
  for (let i = 0; i < out.length; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = s % vocab;
  }
  return out;
}

/** A trainer on the bench config and a `step()` that runs one training step and returns the loss. */
export interface StepRunner {
  readonly model: Model;
  readonly tokensPerStep: number;
  /** Analytic training FLOPs per step: 3 × forward FLOPs/token × tokens. */
  readonly flopsPerStep: number;
  step(): Promise<number>;
  dispose(): void;
}

/**
 * Builds `config` into a {@link Trainer} on rows of random bytes and returns
 * its `trainStep` (accumulate = 1, constant LR, clipping on): what `vwn train`
 * runs each step, so the benchmark times exactly the training path.
 */
export async function createStepRunner(config: ModelConfig, batchSize: number, seed = 1): Promise<StepRunner> {
  const { vocabSize, ...model } = config;
  const tokens = randomRows(Math.max(64, batchSize * 4), config.seqLen, vocabSize, seed);
  const corpus = { name: 'random', tokenizer: new ByteTokenizer(), train: tokens, validation: tokens.slice(0, 4 * (config.seqLen + 1)) };
  const run = resolveRunConfig({ ...model, train: { batchSize, steps: 1_000_000, lr: 1e-3, warmupSteps: 0, schedule: 'constant', seed } }, vocabSize);
  const trainer = await Trainer.create({ config: run, corpus });
  const tokensPerStep = batchSize * config.seqLen;
  return {
    model: trainer.model,
    tokensPerStep,
    flopsPerStep: 3 * trainer.model.totals().flopsPerToken * tokensPerStep,
    step: async () => (await trainer.trainStep()).loss,
    dispose: () => trainer.dispose(),
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n === 0 ? NaN : n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
};

/**
 * Peak matMul throughput of the active backend: best GFLOP/s over `reps`
 * `n×n · n×n` float32 GEMMs after one warm-up (timed through the host
 * read-back, so async backends are timed to completion). Best rather than
 * median because other processes on a shared machine only ever slow it down.
 */
export async function measurePeakMatMul(n = 1024, reps = 8): Promise<number> {
  const a = tf.randomNormal([n, n]);
  const b = tf.randomNormal([n, n]);
  await a.data(); // materialized before timing (webgpu: uploaded and run)
  await b.data();
  const times: number[] = [];
  for (let i = 0; i < reps + 1; i++) {
    const t0 = performance.now();
    const c = tf.matMul(a, b);
    await c.data();
    const dt = performance.now() - t0;
    c.dispose();
    if (i > 0) times.push(dt);
  }
  tf.dispose([a, b]);
  return (2 * n * n * n) / (Math.min(...times) * 1e6);
}

/** One measured (config, backend) result. */
export interface BenchResult {
  readonly config: string;
  readonly backend: string;
  readonly status: 'ok' | 'skipped' | 'failed';
  readonly note?: string;
  readonly steps?: number;
  readonly stepMsMedian?: number;
  readonly stepMsMin?: number;
  readonly tokensPerSecond?: number;
  readonly params?: number;
  readonly flopsPerToken?: number;
  readonly flopsPerStep?: number;
  readonly gflops?: number;
  readonly peakMatMulGflops?: number;
  readonly utilization?: number;
  /** Step time / baseline step time − 1 (null for baselines or when the baseline is missing). */
  readonly stepOverhead?: number | null;
  /** Analytic FLOPs / baseline FLOPs − 1. */
  readonly flopOverhead?: number | null;
  readonly maxRssMiB?: number;
  readonly tensorsAlive?: number;
  readonly finalLoss?: number;
  /**
   * webgpu only: device work of one timed training step (the last one; every
   * timed step is checked to give the same dispatch and read counts, else a
   * note says so), counted on the real device.
   */
  readonly gpuPerStep?: StepGpuCounts;
}

/** Runs one config on the active backend: `warmup` untimed steps, then `steps` timed ones. */
export async function benchConfig(cfg: BenchConfig, opts: { steps: number; warmup: number; backend: string; peak: number }): Promise<BenchResult> {
  const base = { config: cfg.name, backend: opts.backend };
  try {
    await loadPluginsFor(cfg.model as unknown as Record<string, unknown>);
  } catch {
    /* reported below by assembleModel */
  }
  let runner: StepRunner;
  try {
    runner = await createStepRunner(cfg.model, cfg.batchSize);
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0]!;
    const missing = /plugin|install|unknown/i.test(msg);
    return { ...base, status: missing ? 'skipped' : 'failed', note: missing ? `plugin not available yet: ${msg}` : `could not build the model: ${msg}` };
  }
  try {
    let loss = NaN;
    for (let i = 0; i < opts.warmup; i++) loss = await runner.step();
    const tensorsBefore = tf.memory().numTensors;
    const times: number[] = [];
    const counters = await gpuCounterModule();
    const perStep: StepGpuCounts[] = [];
    for (let i = 0; i < opts.steps; i++) {
      const c0 = counters?.gpuCounters();
      const t0 = performance.now();
      loss = await runner.step();
      times.push(performance.now() - t0);
      if (counters) perStep.push(counters.diffGpuCounters(counters.gpuCounters(), c0!));
    }
    const varying = perStep.some((c) => c.dispatches !== perStep[0]!.dispatches || c.reads !== perStep[0]!.reads);
    const tensorsAlive = tf.memory().numTensors;
    const ms = median(times);
    const totals = runner.model.totals();
    const gflops = runner.flopsPerStep / (ms * 1e6);
    const leak = tensorsAlive - tensorsBefore;
    return {
      ...base,
      status: 'ok',
      ...(leak !== 0 || varying
        ? {
            note: [
              leak !== 0 ? `tensors grew by ${leak} over ${opts.steps} steps` : '',
              varying ? `gpu counts varied: ${perStep.map((c) => `${c.dispatches}d/${c.reads}r`).join(', ')}` : '',
            ]
              .filter(Boolean)
              .join('; '),
          }
        : {}),
      ...(perStep.length > 0 ? { gpuPerStep: perStep[perStep.length - 1]! } : {}),
      steps: opts.steps,
      stepMsMedian: ms,
      stepMsMin: Math.min(...times),
      tokensPerSecond: (runner.tokensPerStep / ms) * 1000,
      params: totals.params,
      flopsPerToken: totals.flopsPerToken,
      flopsPerStep: runner.flopsPerStep,
      gflops,
      peakMatMulGflops: opts.peak,
      utilization: gflops / opts.peak,
      maxRssMiB: process.resourceUsage().maxRSS / 1024,
      tensorsAlive,
      finalLoss: loss,
    };
  } catch (e) {
    return { ...base, status: 'failed', note: (e as Error).message.split('\n')[0]! };
  } finally {
    runner.dispose();
  }
}

/** Fills in step/FLOP overheads of each result against its config's baseline on the same backend. */
export function withOverheads(results: BenchResult[]): BenchResult[] {
  return results.map((r) => {
    const cfg = BENCH_CONFIGS.find((c) => c.name === r.config);
    if (r.status !== 'ok' || !cfg || cfg.baseline === cfg.name) return { ...r, stepOverhead: null, flopOverhead: null };
    const b = results.find((x) => x.config === cfg.baseline && x.backend === r.backend && x.status === 'ok');
    if (!b) return { ...r, stepOverhead: null, flopOverhead: null };
    return { ...r, stepOverhead: r.stepMsMedian! / b.stepMsMedian! - 1, flopOverhead: r.flopsPerStep! / b.flopsPerStep! - 1 };
  });
}

/**
 * The VWN overhead table: per VWN config and backend, step-time overhead vs analytic FLOP
 * overhead over its baseline, and the gap in percentage points (issue #16's target: ≤ 10 at r = 2, 4).
 */
export function formatOverheadTable(results: readonly BenchResult[]): string {
  const pct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;
  const vwn = results.filter((r) => r.status === 'ok' && r.stepOverhead != null && r.flopOverhead != null);
  if (!vwn.length) return '';
  const rows = [
    ['config', 'backend', 'Δstep', 'ΔFLOP', 'gap (points)'],
    ...vwn.map((r) => [r.config, r.backend, pct(r.stepOverhead!), pct(r.flopOverhead!), (100 * (r.stepOverhead! - r.flopOverhead!)).toFixed(1)]),
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  const lines = rows.map((row) => row.map((cell, c) => (c < 2 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  '));
  return [
    'VWN overhead: step time vs analytic FLOPs, against the baseline on the same backend',
    lines[0],
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...lines.slice(1),
  ].join('\n');
}

/** Plain-text table of results. */
export function formatTable(results: readonly BenchResult[]): string {
  const pct = (x: number | null | undefined) => (x == null ? '' : `${(x * 100).toFixed(1)}%`);
  const f = (x: number | undefined, d = 0) => (x === undefined ? '' : x.toFixed(d));
  const gpu = results.some((r) => r.gpuPerStep !== undefined);
  const g = (r: BenchResult) =>
    !gpu
      ? []
      : r.gpuPerStep
        ? [
            String(r.gpuPerStep.dispatches),
            String(r.gpuPerStep.submits),
            String(r.gpuPerStep.reads),
            String(r.gpuPerStep.bytesRead),
            String(r.gpuPerStep.buffersCreated),
          ]
        : ['', '', '', '', ''];
  const rows = [
    [
      'config',
      'backend',
      'step ms',
      'tok/s',
      'GFLOP/s',
      'peak',
      'util',
      'Δstep',
      'ΔFLOP',
      'RSS MiB',
      'tensors',
      ...(gpu ? ['disp/step', 'submits', 'reads', 'bytes read', 'bufs new'] : []),
      'note',
    ],
    ...results.map((r) =>
      r.status !== 'ok'
        ? [r.config, r.backend, r.status, '', '', '', '', '', '', '', '', ...g(r), r.note ?? '']
        : [
            r.config,
            r.backend,
            f(r.stepMsMedian),
            f(r.tokensPerSecond),
            f(r.gflops, 1),
            f(r.peakMatMulGflops, 1),
            pct(r.utilization),
            pct(r.stepOverhead),
            pct(r.flopOverhead),
            f(r.maxRssMiB),
            String(r.tensorsAlive ?? ''),
            ...g(r),
            r.note ?? '',
          ],
    ),
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  return rows
    .map((row, i) => {
      const line = row
        .map((cell, c) => (c < 2 || c === row.length - 1 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!)))
        .join('  ')
        .trimEnd();
      return i === 0 ? `${line}\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : line;
    })
    .join('\n');
}

interface BlasModule {
  enableNativeBlas(opts?: { backends?: readonly string[] }): { enabled: boolean; note: string; fusedOps?: { dghc?: FusedOps['dghc'] } };
  registerWasmMatMulFix(): string[];
  unregisterBlasKernels(backend: string): void;
}

async function importBlas(): Promise<BlasModule | null> {
  try {
    return (await import('@vwn/blas' as string)) as BlasModule;
  } catch {
    return null;
  }
}

/**
 * Turns on @vwn/blas for `backend` as the `native` provider does: its native
 * kernels and its fused DGHC ops (registered for `backend`). Null when the
 * package is not installed.
 */
export async function enableBenchBlas(backend: string): Promise<{ enabled: boolean; note: string; dghc: boolean } | null> {
  const blas = await importBlas();
  if (!blas) return null;
  const r = blas.enableNativeBlas({ backends: [backend] });
  const dghc = r.enabled ? r.fusedOps?.dghc : undefined;
  if (dghc) registerFusedOps('dghc', dghc, [backend]);
  return { enabled: r.enabled, note: r.note, dghc: dghc !== undefined };
}

/**
 * Activates a bench backend spec (`cpu`, `wasm`, `wasm+blas`, `cpu+blas`, `wasm+fix`, `native`, or any
 * `useBackend` name); returns its label and whether it is usable.
 */
export async function activateBenchBackend(spec: string): Promise<{ label: string; note: string; ok: boolean }> {
  const s = spec === 'native' ? 'wasm+blas' : spec;
  const [base, extra] = s.split('+') as [string, string | undefined];
  if (extra !== undefined && extra !== 'blas' && extra !== 'fix') {
    throw new ConfigError('--backend', `unknown suffix "+${extra}" in "${spec}"; use e.g. wasm+blas or wasm+fix`);
  }
  const { backend, note } = await useBackend(base);
  const blas = await importBlas();
  // Kernel registrations are global: make plain backends really plain.
  if (blas) for (const b of ['cpu', 'wasm']) blas.unregisterBlasKernels(b);
  for (const b of ['cpu', 'wasm']) unregisterFusedOps(b);
  if (extra === undefined) return { label: backend, note, ok: true };
  if (!blas) return { label: `${backend}+${extra}`, note: '@vwn/blas is not installed', ok: false };
  if (extra === 'fix') {
    const ok = backend === 'wasm' && blas.registerWasmMatMulFix().length > 0;
    return { label: `${backend}+fix`, note: ok ? `${note}; matMul transposes/batches hoisted (@vwn/blas, pure JS)` : '+fix applies to wasm only', ok };
  }
  const r = (await enableBenchBlas(backend))!;
  return { label: `${backend}+blas`, note: r.note, ok: r.enabled };
}
