#!/usr/bin/env node
// vwn vs PyTorch eager, and vwn with vs without @vwn/blas's fused DGHC kernels, in one run
// (issue #16). Each measurement is a fresh process (vwn: `vwn bench`'s worker on `native`;
// PyTorch: bench/pytorch/reference.py); rounds interleave everything, order reversed every
// other round, so a machine whose load changes hurts all columns alike. Per column: the
// median over rounds of each run's median step time.
//
//   node bench/side_by_side.mjs [--rounds 3] [--steps 3] [--configs a,b,...] [--torch-threads N] [--no-before] [--json FILE]
//
// Needs: `python3 -c 'import torch'` (Debian: apt-get install python3-torch; PYTHON=... to pick one),
// the workspace installed (npx tsx). Not part of any package.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const argv = process.argv.slice(2);
const opt = (name, def) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : def;
};
const rounds = Number(opt('--rounds', '3'));
const steps = Number(opt('--steps', '3'));
const configs = opt('--configs', 'bench-small,bench-small-r2,bench-small-r4').split(',');
const torchThreads = opt('--torch-threads', String(cpus().length));
const before = !argv.includes('--no-before');
const python = process.env.PYTHON ?? 'python3';
const BASELINE = (c) => (c.includes('moe') ? 'bench-small-moe' : 'bench-small');

function vwn(config, fused) {
  const env = { ...process.env, VWN_BLAS_DGHC: fused ? '1' : '0' };
  const r = spawnSync(
    'npx',
    ['tsx', '--tsconfig', 'packages/blas/tsconfig.dev.json', 'packages/cli/src/bench/worker.ts', 'config', 'native', config, String(steps), '0'],
    { cwd: ROOT, env, encoding: 'utf8', maxBuffer: 1 << 26 },
  );
  const line = r.stdout.split('\n').find((l) => l.startsWith('@@vwn-bench '));
  if (!line) throw new Error(`vwn worker failed for ${config}: ${r.stderr.slice(-500)}`);
  const j = JSON.parse(line.slice('@@vwn-bench '.length));
  if (j.status !== 'ok') throw new Error(`vwn ${config}: ${j.status} ${j.note}`);
  return { ms: j.stepMsMedian, flops: j.flopsPerStep };
}

function torch(config) {
  const r = spawnSync(python, ['bench/pytorch/reference.py', '--config', config, '--steps', String(steps), '--threads', torchThreads, '--json'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`PyTorch reference failed for ${config}: ${r.stderr.slice(-500)}`);
  const j = JSON.parse(r.stdout.trim().split('\n').pop());
  return { ms: j.stepMsMedian, torch: j.torch, threads: j.threads };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const needed = [...new Set([...configs.map(BASELINE), ...configs])];
const runs = Object.fromEntries(needed.map((c) => [c, { after: [], before: [], torch: [], flops: 0 }]));
let torchInfo = '';
const loads = [];
for (let round = 0; round < rounds; round++) {
  const order = round % 2 ? [...needed].reverse() : needed;
  for (const c of order) {
    const isVwn = c !== BASELINE(c);
    const jobs = [
      () => {
        const v = vwn(c, true);
        runs[c].after.push(v.ms);
        runs[c].flops = v.flops;
      },
      () => {
        const t = torch(c);
        runs[c].torch.push(t.ms);
        torchInfo = `torch ${t.torch}, ${t.threads} threads`;
      },
    ];
    if (before && isVwn) jobs.push(() => runs[c].before.push(vwn(c, false).ms));
    for (const job of round % 2 ? jobs.reverse() : jobs) job();
    loads.push(loadavg()[0]);
    process.stderr.write(
      `round ${round + 1}/${rounds} ${c}: vwn ${runs[c].after.at(-1).toFixed(0)} ms` +
        (runs[c].before.length ? `, vwn before ${runs[c].before.at(-1).toFixed(0)} ms` : '') +
        `, PyTorch ${runs[c].torch.at(-1).toFixed(0)} ms\n`,
    );
  }
}

const pct = (x) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}%`;
const rows = [];
for (const c of configs) {
  const r = runs[c];
  const b = runs[BASELINE(c)];
  const after = median(r.after),
    torchMs = median(r.torch),
    beforeMs = r.before.length ? median(r.before) : after;
  const isVwn = c !== BASELINE(c);
  rows.push({
    config: c,
    vwnMs: after,
    vwnBeforeMs: beforeMs,
    torchMs,
    ratio: after / torchMs,
    ratioBefore: beforeMs / torchMs,
    stepOverhead: isVwn ? after / median(b.after) - 1 : null,
    stepOverheadBefore: isVwn ? beforeMs / median(b.after) - 1 : null,
    torchOverhead: isVwn ? torchMs / median(b.torch) - 1 : null,
    flopOverhead: isVwn ? r.flops / b.flops - 1 : null,
  });
}
const head = ['config', 'vwn ms', 'vwn before ms', 'PyTorch ms', 'vwn/PyTorch', '(before)', 'Δstep vwn', '(before)', 'Δstep PyTorch', 'ΔFLOP', 'gap (points)'];
const table = [
  head,
  ...rows.map((r) => [
    r.config,
    r.vwnMs.toFixed(0),
    r.vwnBeforeMs.toFixed(0),
    r.torchMs.toFixed(0),
    r.ratio.toFixed(2),
    r.ratioBefore.toFixed(2),
    r.stepOverhead === null ? '' : pct(r.stepOverhead),
    r.stepOverheadBefore === null ? '' : pct(r.stepOverheadBefore),
    r.torchOverhead === null ? '' : pct(r.torchOverhead),
    r.flopOverhead === null ? '' : pct(r.flopOverhead),
    r.stepOverhead === null ? '' : (100 * (r.stepOverhead - r.flopOverhead)).toFixed(1),
  ]),
];
const widths = head.map((_, i) => Math.max(...table.map((row) => row[i].length)));
console.log(
  `\n${rounds} rounds × ${steps} timed steps; medians over rounds of per-run medians; ${torchInfo}; ` +
    `load average during the run ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)} on ${cpus().length} CPUs`,
);
for (const [i, row] of table.entries()) {
  console.log(row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  '));
  if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
}
const out = opt('--json', '');
if (out) writeFileSync(out, JSON.stringify({ rounds, steps, torchInfo, loads, runs, rows }, null, 2) + '\n');
