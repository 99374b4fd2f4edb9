// Prebuilt (OpenBLAS linked statically) vs source-built (libopenblas.so) addon, in one run:
// alternates `vwn bench --backend wasm+blas --configs bench-small` with
// VWN_NATIVE_BLAS=prebuilt and =source, and reports medians and their ratio.
//
//   npm run build:native -w @vwn/blas      # the source build (needs gcc + libopenblas-dev)
//   npm run build                          # dist/ of every package
//   node packages/blas/scripts/compare-addons.mjs [rounds=4] [steps=5] [config=bench-small]
//
// Each round runs both addons (order flipped every round) in fresh processes; a round's
// number is `vwn bench`'s median step time over `steps` timed steps after one warm-up, and
// its 1024³ sgemm GFLOP/s (the peak matMul `vwn bench` measures first).
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

//   node packages/blas/scripts/compare-addons.mjs sgemm [reps=40] [n=1024] [threads=1]
// instead loads both addons into one process and alternates n³ sgemm calls between them
// (interleaved call by call, so machine load hits both alike): median GFLOP/s of each.
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

if (process.argv[2] === 'sgemm') {
  const [reps = 40, n = 1024, threads = 1] = process.argv.slice(3).map(Number);
  const require = createRequire(import.meta.url);
  const addons = {
    prebuilt: require(fileURLToPath(new URL('../../blas-linux-x64-gnu/vwn_blas.node', import.meta.url))),
    source: require(fileURLToPath(new URL('../build/Release/vwn_blas.node', import.meta.url))),
  };
  const A = Float32Array.from({ length: n * n }, (_, i) => ((i * 7919) % 1000) / 1000 - 0.5);
  const B = Float32Array.from({ length: n * n }, (_, i) => ((i * 104729) % 1000) / 1000 - 0.5);
  const C = { prebuilt: new Float32Array(n * n), source: new Float32Array(n * n) };
  const z = Int32Array.of(0);
  const gf = { prebuilt: [], source: [] };
  for (const k of ['prebuilt', 'source']) addons[k].setNumThreads(threads);
  for (let r = -3; r < reps; r++) {
    for (const k of r % 2 ? ['source', 'prebuilt'] : ['prebuilt', 'source']) {
      const t = performance.now();
      addons[k].gemm(false, false, n, n, n, 1, A, B, 0, C[k], z, z, z);
      const ms = performance.now() - t;
      if (r >= 0) gf[k].push((2 * n ** 3) / ms / 1e6);
    }
  }
  let maxDiff = 0;
  for (let i = 0; i < n * n; i++) maxDiff = Math.max(maxDiff, Math.abs(C.prebuilt[i] - C.source[i]));
  for (const k of ['prebuilt', 'source'])
    console.log(`${k.padEnd(8)} sgemm ${n}³, ${threads} thread(s): median ${median(gf[k]).toFixed(1)} GFLOP/s over ${reps} calls — ${addons[k].config()}`);
  console.log(`ratio prebuilt/source: ${(median(gf.prebuilt) / median(gf.source)).toFixed(3)}; max |C_prebuilt − C_source| = ${maxDiff}`);
  process.exit(0);
}

const [rounds = 4, steps = 5] = process.argv.slice(2, 4).map(Number);
const config = process.argv[4] ?? 'bench-small';
const cli = fileURLToPath(new URL('../../cli/bin/vwn.js', import.meta.url));

const res = { prebuilt: { step: [], peak: [], note: '' }, source: { step: [], peak: [], note: '' } };
for (let r = 0; r < rounds; r++) {
  for (const kind of r % 2 ? ['source', 'prebuilt'] : ['prebuilt', 'source']) {
    const out = execFileSync(process.execPath, [cli, 'bench', '--backend', 'wasm+blas', '--configs', config, '--steps', String(steps), '--json'], {
      env: { ...process.env, VWN_NATIVE_BLAS: kind },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      maxBuffer: 16 << 20,
    });
    const report = JSON.parse(out);
    const b = report.backends[0];
    const cfg = report.results.find((x) => x.config === config);
    if (cfg?.status !== 'ok') throw new Error(`${kind}: ${cfg?.status} ${cfg?.note ?? ''}`);
    const expected = kind === 'prebuilt' ? /prebuilt @vwn\/blas-/ : /source build/;
    if (!expected.test(b.note)) throw new Error(`${kind}: the backend note does not name that addon: ${b.note}`);
    res[kind].step.push(cfg.stepMsMedian);
    res[kind].peak.push(b.peakMatMulGflops);
    res[kind].note = b.note;
    console.log(
      `round ${r + 1} ${kind.padEnd(8)} ${config} ${cfg.stepMsMedian.toFixed(0).padStart(6)} ms/step   sgemm 1024³ ${b.peakMatMulGflops.toFixed(1).padStart(6)} GFLOP/s`,
    );
  }
}
const line = (k) =>
  `${k.padEnd(8)} median ${median(res[k].step).toFixed(0)} ms/step (rounds: ${res[k].step.map((x) => x.toFixed(0)).join(', ')}), ` +
  `sgemm ${median(res[k].peak).toFixed(1)} GFLOP/s — ${res[k].note}`;
console.log(`\n${line('prebuilt')}\n${line('source')}`);
console.log(
  `ratio prebuilt/source: step ${(median(res.prebuilt.step) / median(res.source.step)).toFixed(3)}, ` +
    `sgemm ${(median(res.prebuilt.peak) / median(res.source.peak)).toFixed(3)} (< 1 step / > 1 sgemm = prebuilt faster)`,
);
