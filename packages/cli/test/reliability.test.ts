// Fault-injection suite (issue #14, docs/reliability.md): the built `vwn`
// binary is killed with SIGKILL at seeded random moments of `train` and
// `ablate` (inside checkpoint and metrics writes through the VWN_TEST_FAULT
// hook, honoured only with NODE_ENV=test, and by timers), then resumed; every
// resumed loss must equal the uninterrupted run's. Also: a full disk (a small
// tmpfs when root, an injected ENOSPC otherwise), concurrent runs on one
// folder, SIGTERM / SIGINT, and the exit codes of internal errors.
//
// Uses packages/*/dist (built by `npm test`'s `turbo run build`; rebuild a
// package with `npx tsc -p packages/<pkg>/tsconfig.json`).
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng } from '@vwn/core';
import { loadCheckpoint } from '@vwn/core/node';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const BIN = join(ROOT, 'packages/cli/bin/vwn.js');
const STEPS = 24;

interface Proc {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  err: string;
}

/** When to SIGKILL (or send another signal to) a child: once `file` has `lines` lines, after `delayMs`. */
interface KillWhen {
  file: string;
  lines: number;
  delayMs: number;
  signal?: NodeJS.Signals;
}

const lineCount = (file: string): number => {
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.trim()).length;
  } catch {
    return 0;
  }
};

/** Runs the built `vwn` in a child process (NODE_ENV=test, so VWN_TEST_FAULT is honoured). */
function vwn(args: string[], opts: { fault?: string; killWhen?: KillWhen; env?: Record<string, string> } = {}): Promise<Proc> {
  return start(args, opts).done;
}

/** {@link vwn}, also giving the child (to stop and continue it). */
function start(
  args: string[],
  opts: { fault?: string; killWhen?: KillWhen; env?: Record<string, string> } = {},
): { child: ReturnType<typeof spawn>; done: Promise<Proc> } {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env['VWN_TEST_FAULT'];
  delete env['VWN_DEBUG'];
  Object.assign(env, { NODE_ENV: 'test' }, opts.env);
  if (opts.fault) env['VWN_TEST_FAULT'] = opts.fault;
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const done = new Promise<Proc>((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (err += d));
    let timer: NodeJS.Timeout | undefined;
    if (opts.killWhen) {
      const k = opts.killWhen;
      timer = setInterval(() => {
        if (lineCount(k.file) >= k.lines) {
          clearInterval(timer);
          timer = setTimeout(() => child.kill(k.signal ?? 'SIGKILL'), k.delayMs);
        }
      }, 5);
    }
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearInterval(timer);
      clearTimeout(timer);
      resolve({ code, signal, out, err });
    });
  });
  return { child, done };
}

const waitFor = async (cond: () => boolean) => {
  while (!cond()) await new Promise((r) => setTimeout(r, 10));
};

/** The loss-bearing fields of a metrics record (times and tensor counts differ between runs). */
function lossKey(r: Record<string, unknown>): string {
  return JSON.stringify([r['type'], r['step'], r['tokens'], r['loss'], r['totalLoss'] ?? null, r['gradNorm'] ?? null, r['lr'] ?? null, r['terms']]);
}

const metricsOf = (file: string): Array<Record<string, unknown>> =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));

/** Complete JSON lines of a (possibly killed) process's stdout. */
function jsonLines(out: string): Array<Record<string, unknown>> {
  const lines = out.split('\n');
  lines.pop(); // the last piece has no newline: empty, or cut off by the kill
  return lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
}

const tempFiles = (dir: string): string[] =>
  existsSync(dir)
    ? readdirSync(dir, { recursive: true })
        .map(String)
        .filter((f) => /\.tmp-\d+-[0-9a-f]{12}$/.test(f))
    : [];

const noStack = (err: string) => !/\n\s+at \S+ \(/.test(err);

let work: string;
let corpusFile: string;
let cfgFile: string;
let gridFile: string;
let reference: Array<Record<string, unknown>>;
let referenceByStep: Map<string, string>;
let ablateRef: string;

const trainArgs = (out: string, ...more: string[]) => ['train', '--preset', 'micro', '--config', cfgFile, '--backend', 'wasm', '--out', out, '--json', ...more];
const ablateArgs = (out: string) => ['ablate', '--config', gridFile, '--tokens', String(9 * 4 * 16), '--backend', 'wasm', '--out', out, '--json'];

/** Every train/eval record a process printed equals the uninterrupted run's at that step. */
function expectReferenceRecords(p: Proc, label: string): number {
  let n = 0;
  for (const r of jsonLines(p.out)) {
    if (r['type'] !== 'train' && r['type'] !== 'eval') continue;
    expect(lossKey(r), `${label}: ${r['type']} step ${r['step']}`).toBe(referenceByStep.get(`${r['type']}:${r['step']}`));
    n++;
  }
  return n;
}

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'packages/cli/dist/main.js')) || !existsSync(join(ROOT, 'packages/core/dist/index.js'))) {
    throw new Error('build the packages first (npm test does; or npx tsc -p packages/<pkg>/tsconfig.json)');
  }
  work = await mkdtemp(join(tmpdir(), 'vwn-reliab-'));
  corpusFile = join(work, 'corpus.txt');
  await writeFile(corpusFile, 'to be, or not to be, that is the question: whether tis nobler in the mind to suffer the slings and arrows\n'.repeat(60));
  cfgFile = join(work, 'cfg.json');
  await writeFile(
    cfgFile,
    JSON.stringify({
      dModel: 16,
      layers: 1,
      heads: 2,
      seqLen: 16,
      train: { batchSize: 4, steps: STEPS, lr: 0.01, warmupSteps: 2, evalEvery: 4, evalBatches: 1, checkpointEvery: 3 },
      data: { corpus: corpusFile },
    }),
  );
  gridFile = join(work, 'grid.json');
  await writeFile(
    gridFile,
    JSON.stringify({
      name: 'faults',
      base: {
        dModel: 16,
        layers: 1,
        heads: 2,
        seqLen: 16,
        train: { batchSize: 4, lr: 0.01, warmupSteps: 2, evalEvery: 3, evalBatches: 1, checkpointEvery: 2 },
        data: { corpus: corpusFile },
      },
      variants: [
        { name: 'baseline', config: {} },
        { name: 'wide-ffn', config: { ffnHidden: 48 } },
      ],
    }),
  );
  // The uninterrupted runs every interrupted one is compared with.
  const refDir = join(work, 'ref');
  ablateRef = join(work, 'ablate-ref');
  const [t, a] = await Promise.all([vwn(trainArgs(refDir)), vwn(ablateArgs(ablateRef))]);
  expect(t.code, t.err).toBe(0);
  expect(a.code, a.err).toBe(0);
  reference = metricsOf(join(refDir, 'metrics.jsonl'));
  expect(reference.filter((r) => r['type'] === 'train')).toHaveLength(STEPS);
  referenceByStep = new Map(reference.map((r) => [`${r['type']}:${r['step']}`, lossKey(r)]));
}, 300_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

// Each scenario is a function; the tests run two at a time (2 cores), each scenario itself sequential.
const scenarios = {
  /** train: SIGKILL at 8 seeded moments (checkpoint, metrics and config writes, between steps, timers); every resume is loss-identical */
  trainChain: async (): Promise<void> => {
    const dir = join(work, 'train-chain');
    const metrics = join(dir, 'metrics.jsonl');
    const rng = new Rng(14);
    const ckptStep = async () =>
      existsSync(join(dir, 'checkpoint.safetensors')) ? (await loadCheckpoint(join(dir, 'checkpoint.safetensors'))).state.trainer.step : 0;
    // Each entry picks its moment from what is left of the run (seeded, so the same every time).
    const plan: Array<(s: number) => { fault?: string; killWhen?: KillWhen; label: string }> = [
      (s) => ({ fault: `metrics-partial:${1 + rng.nextInt(Math.max(1, Math.min(6, STEPS - s)))}`, label: 'inside a metrics.jsonl append' }),
      (s) => ({
        fault: `checkpoint-partial:${1 + rng.nextInt(Math.max(1, Math.min(2, Math.floor(STEPS / 3) - Math.floor(s / 3))))}`,
        label: 'inside a checkpoint write (temp file half written)',
      }),
      // A resume from a checkpoint rewrites metrics.jsonl (write 1), then config.json (write 2); a fresh start writes config.json only.
      (s) => ({ fault: `atomic-partial:${1 + rng.nextInt(s > 0 ? 2 : 1)}`, label: 'inside the metrics rewrite or config.json write of a resume' }),
      (s) => ({
        fault: `checkpoint-renamed:${1 + rng.nextInt(Math.max(1, Math.min(2, Math.floor(STEPS / 3) - Math.floor(s / 3))))}`,
        label: 'after a checkpoint rename, before the folder fsync',
      }),
      (s) => ({ killWhen: { file: metrics, lines: lineCount(metrics) + 1 + rng.nextInt(3), delayMs: rng.nextInt(60) }, label: `timer (from step ${s})` }),
      (s) => ({ fault: `step:${1 + rng.nextInt(Math.max(1, Math.min(4, STEPS - s)))}`, label: 'between a step and its metrics line' }),
      (s) => ({ fault: `metrics-partial:${1 + rng.nextInt(Math.max(1, Math.min(4, STEPS - s)))}`, label: 'inside a metrics.jsonl append' }),
      (s) => ({ killWhen: { file: metrics, lines: lineCount(metrics) + 1 + rng.nextInt(2), delayMs: rng.nextInt(40) }, label: `timer (from step ${s})` }),
    ];
    let compared = 0;
    const outcomes: string[] = [];
    for (const [i, pick] of plan.entries()) {
      const from = await ckptStep();
      const { fault, killWhen, label } = pick(from);
      const p = await vwn(trainArgs(dir, ...(i > 0 ? ['--resume'] : [])), { ...(fault ? { fault } : {}), ...(killWhen ? { killWhen } : {}) });
      expect(p.signal, `kill ${i + 1} (${label}, ${fault ?? 'timer'}): ${p.err}`).toBe('SIGKILL');
      if (i > 0) expect(p.err, `resume after kill ${i}`).toMatch(/taking over the lock of pid \d+ .*no longer running/);
      compared += expectReferenceRecords(p, `process ${i + 1}`);
      outcomes.push(`${label} [${fault ?? `after ${killWhen!.lines} lines + ${killWhen!.delayMs} ms`}], resumed from step ${from}`);
    }
    const last = await vwn(trainArgs(dir, '--resume'));
    expect(last.code, last.err).toBe(0);
    compared += expectReferenceRecords(last, 'final resume');
    // The metrics file equals the uninterrupted run's, record for record; nothing is left behind.
    expect(metricsOf(metrics).map(lossKey)).toEqual(reference.map(lossKey));
    expect((await loadCheckpoint(join(dir, 'checkpoint.safetensors'))).state.trainer.step).toBe(STEPS);
    expect(tempFiles(dir)).toEqual([]);
    expect(existsSync(join(dir, '.vwn.lock'))).toBe(false);
    expect(compared).toBeGreaterThan(STEPS);
    console.log(`train: ${plan.length} kills, all resumed loss-identical:\n  ${outcomes.join('\n  ')}`);
  },

  /** ablate: SIGKILL at 4 seeded moments (checkpoint, metrics, study/done writes, timer); the resumed study equals the uninterrupted one */
  ablateChain: async (): Promise<void> => {
    const dir = join(work, 'ablate-chain');
    const rng = new Rng(23);
    const m0 = join(dir, 'runs', 'baseline', 'seed-0', 'metrics.jsonl');
    const plan: Array<{ fault?: string; killWhen?: KillWhen; label: string }> = [
      { fault: `checkpoint-partial:${2 + rng.nextInt(2)}`, label: 'inside a checkpoint write' },
      { fault: `metrics-partial:${2 + rng.nextInt(4)}`, label: 'inside a metrics.jsonl append' },
      { fault: `atomic-partial:${3 + rng.nextInt(3)}`, label: 'inside study.json / config.json / metrics rewrite / done.json' },
      {
        killWhen: { file: join(dir, 'runs', 'wide-ffn', 'seed-0', 'metrics.jsonl'), lines: 2 + rng.nextInt(3), delayMs: rng.nextInt(50) },
        label: 'timer in the second variant',
      },
    ];
    for (const [i, k] of plan.entries()) {
      const p = await vwn(ablateArgs(dir), k);
      expect(p.signal, `ablate kill ${i + 1} (${k.label}, ${k.fault ?? 'timer'}): ${p.err}`).toBe('SIGKILL');
      if (i > 0) expect(p.err).toMatch(/taking over the lock/);
    }
    expect(existsSync(m0)).toBe(true);
    const last = await vwn(ablateArgs(dir));
    expect(last.code, last.err).toBe(0);
    for (const v of ['baseline', 'wide-ffn']) {
      const run = join('runs', v, 'seed-0');
      expect(metricsOf(join(dir, run, 'metrics.jsonl')).map(lossKey), v).toEqual(metricsOf(join(ablateRef, run, 'metrics.jsonl')).map(lossKey));
      const done = JSON.parse(await readFile(join(dir, run, 'done.json'), 'utf8'));
      const ref = JSON.parse(await readFile(join(ablateRef, run, 'done.json'), 'utf8'));
      expect(done.heldOutLoss).toBe(ref.heldOutLoss);
      expect(tempFiles(join(dir, run))).toEqual([]);
    }
    expect(tempFiles(dir)).toEqual([]);
    expect(existsSync(join(dir, 'report.md'))).toBe(true);
  },

  /** a full disk (tmpfs when root, else an injected ENOSPC) stops with a named error, exit 2; after freeing space the run resumes loss-identically */
  diskFull: async (): Promise<void> => {
    const mnt = join(work, 'tmpfs');
    await mkdir(mnt);
    let mounted = false;
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mnt], { stdio: 'ignore' });
      mounted = true;
    } catch {
      // not root or no mount(8): the injected write error below covers it
    }
    try {
      if (mounted) {
        const dir = join(mnt, 'run');
        const full = await vwn(trainArgs(dir));
        expect(full.code, full.err).toBe(2);
        expect(full.err).toMatch(/cannot write .*: no space left on device \(ENOSPC\).*rerun with --resume/);
        expect(noStack(full.err)).toBe(true);
        expect(tempFiles(dir)).toEqual([]);
        execFileSync('mount', ['-o', 'remount,size=4m', mnt]);
        const resumed = await vwn(trainArgs(dir, '--resume'));
        expect(resumed.code, resumed.err).toBe(0);
        expectReferenceRecords(resumed, 'resume after tmpfs full');
        expect(metricsOf(join(dir, 'metrics.jsonl')).map(lossKey)).toEqual(reference.map(lossKey));
        console.log(`disk full on a 256 KiB tmpfs: exit ${full.code} "${full.err.trim().split('\n').at(-1)}"; resumed after remount to 4 MiB: loss-identical`);
      }
      // The same through the hook: a metrics line cut by ENOSPC, then a checkpoint write failing.
      for (const fault of mounted ? ['metrics-partial:7:enospc'] : ['metrics-partial:7:enospc', 'checkpoint-partial:2:enospc']) {
        const dir = join(work, `enospc-${fault.split(':')[0]}`);
        const full = await vwn(trainArgs(dir), { fault });
        expect(full.code, full.err).toBe(2);
        expect(full.err).toMatch(/no space left on device \(ENOSPC\)/);
        expect(noStack(full.err)).toBe(true);
        expect(tempFiles(dir)).toEqual([]);
        const resumed = await vwn(trainArgs(dir, '--resume'));
        expect(resumed.code, resumed.err).toBe(0);
        expect(metricsOf(join(dir, 'metrics.jsonl')).map(lossKey)).toEqual(reference.map(lossKey));
      }
    } finally {
      if (mounted) execFileSync('umount', [mnt]);
    }
  },

  /** two runs on one folder: the second (also with --force) gets a named error and the first run is untouched */
  concurrent: async (): Promise<void> => {
    const dir = join(work, 'concurrent');
    const metrics = join(dir, 'metrics.jsonl');
    const first = start(trainArgs(dir));
    // Once the first run has written a few records, freeze it (alive, holding the lock) and start competitors.
    await waitFor(() => lineCount(metrics) >= 3);
    first.child.kill('SIGSTOP');
    const [second, forced, resumed] = await Promise.all([vwn(trainArgs(dir)), vwn(trainArgs(dir, '--force')), vwn(trainArgs(dir, '--resume'))]);
    first.child.kill('SIGCONT');
    for (const p of [second, forced, resumed]) {
      expect(p.code, p.err).toBe(2);
      expect(p.err).toMatch(/is in use by pid \d+ on .*vwn train/);
      expect(noStack(p.err)).toBe(true);
    }
    const a = await first.done;
    expect(a.code, a.err).toBe(0);
    expect(metricsOf(metrics).map(lossKey)).toEqual(reference.map(lossKey));

    // A second ablate on a study folder in use.
    const study = join(work, 'concurrent-study');
    const owner = start(ablateArgs(study));
    await waitFor(() => lineCount(join(study, 'runs', 'baseline', 'seed-0', 'metrics.jsonl')) >= 2);
    owner.child.kill('SIGSTOP');
    const other = await vwn(ablateArgs(study));
    owner.child.kill('SIGCONT');
    expect(other.code, other.err).toBe(2);
    expect(other.err).toMatch(/is in use by pid \d+ on .*vwn ablate/);
    expect((await owner.done).code).toBe(0);
    for (const v of ['baseline', 'wide-ffn']) {
      const run = join('runs', v, 'seed-0', 'metrics.jsonl');
      expect(metricsOf(join(study, run)).map(lossKey)).toEqual(metricsOf(join(ablateRef, run)).map(lossKey));
    }
  },

  /** SIGTERM and SIGINT save a checkpoint and exit 143 / 130; the resumed run is loss-identical */
  signals: async (): Promise<void> => {
    for (const [signal, code] of [
      ['SIGTERM', 143],
      ['SIGINT', 130],
    ] as const) {
      const dir = join(work, `signal-${signal}`);
      const metrics = join(dir, 'metrics.jsonl');
      const p = await vwn(trainArgs(dir), { killWhen: { file: metrics, lines: 5, delayMs: 0, signal } });
      expect(p.code, p.err).toBe(code);
      expect(p.err).toMatch(new RegExp(`\\(${signal}\\): saving a checkpoint`));
      const lastTrain = metricsOf(metrics)
        .filter((r) => r['type'] === 'train')
        .at(-1)!;
      const step = (await loadCheckpoint(join(dir, 'checkpoint.safetensors'))).state.trainer.step;
      expect(step).toBe(lastTrain['step']);
      expect(step).toBeLessThan(STEPS);
      const resumed = await vwn(trainArgs(dir, '--resume'));
      expect(resumed.code, resumed.err).toBe(0);
      expect(metricsOf(metrics).map(lossKey)).toEqual(reference.map(lossKey));
    }
    // vwn ablate: SIGTERM in the first variant checkpoints it; rerunning finishes the study as if never stopped.
    const study = join(work, 'signal-ablate');
    const m0 = join(study, 'runs', 'baseline', 'seed-0', 'metrics.jsonl');
    const stopped = await vwn(ablateArgs(study), { killWhen: { file: m0, lines: 4, delayMs: 0, signal: 'SIGTERM' } });
    expect(stopped.code, stopped.err).toBe(143);
    expect(stopped.err).toMatch(/study stopped; finished runs are kept/);
    expect(existsSync(join(study, 'runs', 'baseline', 'seed-0', 'checkpoint.safetensors'))).toBe(true);
    const rerun = await vwn(ablateArgs(study));
    expect(rerun.code, rerun.err).toBe(0);
    for (const v of ['baseline', 'wide-ffn']) {
      const run = join('runs', v, 'seed-0', 'metrics.jsonl');
      expect(metricsOf(join(study, run)).map(lossKey)).toEqual(metricsOf(join(ablateRef, run)).map(lossKey));
    }
  },

  /** an internal error exits 1 with its stack; a named error shows its stack only with --verbose or VWN_DEBUG=1 */
  internal: async (): Promise<void> => {
    const dir = join(work, 'internal');
    const p = await vwn(trainArgs(dir), { fault: 'step:2:throw' });
    expect(p.code).toBe(1);
    expect(p.err).toMatch(/internal error .*\n.*injected internal error at step\n\s+at /);
    const named = ['sample', '--out', dir, '--tokens=-3'];
    const plain = await vwn(named);
    expect(plain.code).toBe(2);
    expect(plain.err).toMatch(/--tokens: must be a positive integer, got -3/);
    expect(noStack(plain.err)).toBe(true);
    for (const p2 of [await vwn([...named, '--verbose']), await vwn(named, { env: { VWN_DEBUG: '1' } })]) {
      expect(p2.code).toBe(2);
      expect(p2.err).toMatch(/ConfigError: --tokens.*\n\s+at /);
    }
  },
};

const LONG = 600_000; // a loaded CI machine; about 30 s each on 2 idle cores

describe('fault injection (kill -9, full disk, concurrent runs, signals)', () => {
  it(
    'train: SIGKILL at 8 seeded moments (checkpoint, metrics and config writes, between steps, timers) and ablate: at 4; every resume is loss-identical',
    async () => {
      await Promise.all([scenarios.trainChain(), scenarios.ablateChain()]);
    },
    LONG,
  );

  it(
    'a full disk (tmpfs when root, else an injected ENOSPC) stops with a named error, exit 2, and the run resumes; two runs on one folder: the second gets a named error',
    async () => {
      await Promise.all([scenarios.diskFull(), scenarios.concurrent()]);
    },
    LONG,
  );

  it(
    'SIGTERM / SIGINT checkpoint and exit 143 / 130; internal errors exit 1 with a stack, named errors show it only with --verbose or VWN_DEBUG=1',
    async () => {
      await Promise.all([scenarios.signals(), scenarios.internal()]);
    },
    LONG,
  );
});
