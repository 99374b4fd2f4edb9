/**
 * Benchmark: gradient of `tf.gather(table, ids)` w.r.t. `table` (the embedding
 * backward pass, which calls `UnsortedSegmentSum` with numSegments = vocab).
 *
 *   npx tsx packages/core/bench/segment_sum.bench.ts
 *
 * Rows: cpu with tfjs-backend-cpu's own kernel ("before"), cpu with the VWN
 * scatter-add kernel ("after"), wasm with the VWN kernel (wasm has no tfjs
 * kernel, so there is no "before"). Median of 5 timed runs after 1 warm-up;
 * a configuration whose warm-up call exceeds SLOW_MS is reported as that one
 * run ("n=1") and its kernel-alone time is skipped.
 */
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import os from 'node:os';

const KERNEL = 'UnsortedSegmentSum';
const VOCABS = [256, 8192];
const TOKENS = 2048;
const WIDTH = 256;
const RUNS = 5;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/**
 * A single call slower than this is not repeated: tfjs's own kernel at
 * vocab 8192 takes minutes per call and keeps ~17 GB of per-segment
 * temporaries alive, so it is reported as one run (n = 1) instead of a median.
 */
const SLOW_MS = 30_000;

interface Timing {
  ms: number;
  n: number;
}

interface Row {
  backend: string;
  kernel: string;
  vocab: number;
  grad: Timing;
  kernel_alone: Timing | null;
}

function timeIt(fn: () => void): Timing {
  const w0 = performance.now();
  fn(); // warm-up
  const warm = performance.now() - w0;
  if (warm > SLOW_MS) return { ms: warm, n: 1 };
  const ts: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    fn();
    ts.push(performance.now() - t0);
  }
  return { ms: median(ts), n: RUNS };
}

function bench(backend: string, kernel: string): Row[] {
  const rows: Row[] = [];
  for (const vocab of VOCABS) {
    const table = tf.randomNormal([vocab, WIDTH]);
    const ids = tf.randomUniform([TOKENS], 0, vocab, 'int32') as tf.Tensor1D;
    const dy = tf.randomNormal([TOKENS, WIDTH]);
    const gradFn = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, ids), dy)));
    const grad = timeIt(() => {
      const g = gradFn(table);
      g.dataSync();
      g.dispose();
    });
    // The kernel alone is only timed where that is affordable.
    const kernelAlone =
      grad.n === 1
        ? null
        : timeIt(() => {
            const o = tf.unsortedSegmentSum(dy, ids, vocab);
            o.dataSync();
            o.dispose();
          });
    tf.dispose([table, ids, dy]);
    const row = { backend, kernel, vocab, grad, kernel_alone: kernelAlone };
    console.error(JSON.stringify(row));
    rows.push(row);
  }
  return rows;
}

const rows: Row[] = [];

await tf.setBackend('cpu');
await tf.ready();
const tfjsCpuKernel = tf.getKernel(KERNEL, 'cpu');
rows.push(...bench('cpu', 'tfjs-backend-cpu (before)'));

// Install the VWN kernels (after).
const { registerVwnKernels } = await import('../src/kernels/register_all.js');
registerVwnKernels();
if (tf.getKernel(KERNEL, 'cpu') === tfjsCpuKernel) throw new Error('VWN cpu kernel not installed');
rows.push(...bench('cpu', 'VWN scatter-add (after)'));

await tf.setBackend('wasm');
await tf.ready();
rows.push(...bench('wasm', 'VWN scatter-add (after)'));

const fmt = (t: Timing | null) => (t === null ? '—' : `${t.ms >= 100 ? t.ms.toFixed(0) : t.ms.toFixed(2)}${t.n === 1 ? ' (n=1)' : ''}`);
console.log(
  `machine: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown'}), node ${process.version}, ` +
    `tfjs ${tf.version.tfjs}, wasm threads ${getThreadsCount()}`,
);
console.log(`tokens ${TOKENS}, width ${WIDTH}, median of ${RUNS} after 1 warm-up\n`);
console.log('| backend | kernel | vocab | grad of gather (ms) | UnsortedSegmentSum alone (ms) |');
console.log('|---|---|---:|---:|---:|');
for (const r of rows) {
  console.log(`| ${r.backend} | ${r.kernel} | ${r.vocab} | ${fmt(r.grad)} | ${fmt(r.kernel_alone)} |`);
}
