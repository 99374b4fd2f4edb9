/** Fabricated study folders for the report tests. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface FakeVariant {
  name: string;
  r: number;
  m?: number;
  n?: number;
  params: number;
  activeParams?: number;
  flopsPerToken: number;
  /** Multiplies the loss curve's reducible part (< 1 = better). */
  lossScale: number;
  /** Base step time in ms. */
  stepMs: number;
  mtp?: boolean;
}

export interface FakeRecordTrain {
  type: 'train';
  step: number;
  tokens: number;
  loss: number;
  totalLoss: number;
  terms: Record<string, number>;
  metrics: Record<string, number>;
  lr: number;
  gradNorm: number;
  tokensPerSecond: number;
  stepMs: number;
  tensors: number;
}
export interface FakeRecordEval {
  type: 'eval';
  step: number;
  tokens: number;
  loss: number;
  terms: Record<string, number>;
}

/** Deterministic pseudo-random numbers in [0, 1) (mulberry32). */
function lcg(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Writes OUT/study.json and OUT/runs/<variant>/seed-<s>/metrics.jsonl.
 * Returns the records written, keyed by `${variant}/${seed}`.
 */
export async function writeFakeStudy(
  outDir: string,
  variants: FakeVariant[],
  opts: { seeds: number[]; steps: number; evalEvery: number; tokensPerStep: number },
): Promise<Map<string, { train: FakeRecordTrain[]; evals: FakeRecordEval[] }>> {
  const out = new Map<string, { train: FakeRecordTrain[]; evals: FakeRecordEval[] }>();
  for (const v of variants) {
    for (const seed of opts.seeds) {
      const rnd = lcg(seed * 1000 + v.name.length * 7 + Math.round(v.r * 13));
      const train: FakeRecordTrain[] = [];
      const evals: FakeRecordEval[] = [];
      const curve = (t: number) => 1.5 + v.lossScale * 3 * Math.pow(t / opts.tokensPerStep, -0.4);
      for (let step = 1; step <= opts.steps; step++) {
        const tokens = step * opts.tokensPerStep;
        const loss = curve(tokens) + (rnd() - 0.5) * 0.05;
        const stepMs = v.stepMs * (step <= 3 ? 5 : 1) * (1 + (rnd() - 0.5) * 0.1);
        const terms: Record<string, number> = v.mtp ? { next2_loss: loss + 0.6 } : {};
        train.push({
          type: 'train',
          step,
          tokens,
          loss,
          totalLoss: loss + (terms['next2_loss'] ?? 0) * 0.3,
          terms,
          metrics: {},
          lr: 1e-3,
          gradNorm: 1 + rnd(),
          tokensPerSecond: opts.tokensPerStep / (stepMs / 1000),
          stepMs,
          tensors: 100,
        });
        if (step % opts.evalEvery === 0) {
          const el = curve(tokens) + 0.05 + (rnd() - 0.5) * 0.02 + seed * 0.003;
          evals.push({ type: 'eval', step, tokens, loss: el, terms: v.mtp ? { next2_loss: el + 0.55 } : {} });
        }
      }
      const dir = join(outDir, 'runs', v.name, `seed-${seed}`);
      await mkdir(dir, { recursive: true });
      await writeFile(
        join(dir, 'metrics.jsonl'),
        [...train, ...evals]
          .sort((a, b) => a.step - b.step)
          .map((r) => JSON.stringify(r))
          .join('\n') + '\n',
      );
      out.set(`${v.name}/${seed}`, { train, evals });
    }
  }
  const manifest = {
    name: 'fake-study',
    createdAt: '2026-01-01T00:00:00.000Z',
    tokensPerVariant: opts.steps * opts.tokensPerStep,
    seeds: opts.seeds,
    baseline: variants[0]!.name,
    variants: variants.map((v) => ({
      name: v.name,
      description: `${v.name} (fake)`,
      r: v.r,
      m: v.m ?? 1,
      n: v.n ?? v.r,
      config: { model: { seqLen: 16 } },
      params: v.params,
      activeParams: v.activeParams ?? v.params,
      flopsPerToken: v.flopsPerToken,
      runs: opts.seeds.map((seed) => ({ seed, dir: `runs/${v.name}/seed-${seed}` })),
    })),
  };
  await writeFile(join(outDir, 'study.json'), JSON.stringify(manifest, null, 2));
  return out;
}

/** One run of {@link writeStudyFolder}: explicit eval points and per-step times. */
export interface ExactRun {
  seed: number;
  /** [step, loss] pairs; tokens = step × tokensPerStep. */
  evals: Array<[number, number]>;
  /** Step time of every step 1 … steps (ms); omitted → no stepMs field. */
  stepMs?: number[];
  /** Written as run.json when given. */
  info?: Record<string, unknown>;
  /** Extra raw lines appended to metrics.jsonl (e.g. a step logged twice by a resume). */
  extraLines?: string[];
}

export interface ExactVariant {
  name: string;
  r: number;
  flopsPerToken: number;
  params?: number;
  group?: string;
  runs: ExactRun[];
}

/**
 * Writes a study folder with exactly the given eval losses and step times, so tests can
 * compute every number by hand. `extra` is merged into study.json (e.g. `comparisons`).
 */
export async function writeStudyFolder(
  outDir: string,
  variants: ExactVariant[],
  opts: { steps: number; tokensPerStep: number; baseline?: string; extra?: Record<string, unknown> },
): Promise<void> {
  for (const v of variants) {
    for (const run of v.runs) {
      const lines: string[] = [];
      const evalAt = new Map(run.evals);
      if (evalAt.has(0)) lines.push(JSON.stringify({ type: 'eval', step: 0, tokens: 0, loss: evalAt.get(0), terms: {} }));
      for (let step = 1; step <= opts.steps; step++) {
        const tokens = step * opts.tokensPerStep;
        const rec: Record<string, unknown> = { type: 'train', step, tokens, loss: 3 - step * 0.01, terms: {}, metrics: {}, lr: 1e-3, gradNorm: 1 };
        if (run.stepMs) {
          rec['stepMs'] = run.stepMs[step - 1];
          rec['tokensPerSecond'] = opts.tokensPerStep / (run.stepMs[step - 1]! / 1000);
        }
        lines.push(JSON.stringify(rec));
        if (evalAt.has(step)) lines.push(JSON.stringify({ type: 'eval', step, tokens, loss: evalAt.get(step), terms: {} }));
      }
      lines.push(...(run.extraLines ?? []));
      const dir = join(outDir, 'runs', v.name, `seed-${run.seed}`);
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'metrics.jsonl'), lines.join('\n') + '\n');
      if (run.info) await writeFile(join(dir, 'run.json'), JSON.stringify(run.info));
    }
  }
  const seeds = [...new Set(variants.flatMap((v) => v.runs.map((r) => r.seed)))];
  const manifest = {
    name: 'exact-study',
    createdAt: '2026-01-01T00:00:00.000Z',
    tokensPerVariant: opts.steps * opts.tokensPerStep,
    seeds,
    baseline: opts.baseline ?? variants[0]!.name,
    variants: variants.map((v) => ({
      name: v.name,
      description: `${v.name} (exact)`,
      r: v.r,
      m: 1,
      n: v.r,
      config: {},
      params: v.params ?? 1000,
      activeParams: v.params ?? 1000,
      flopsPerToken: v.flopsPerToken,
      runs: v.runs.map((r) => ({ seed: r.seed, dir: `runs/${v.name}/seed-${r.seed}` })),
      ...(v.group !== undefined ? { group: v.group } : {}),
    })),
    ...opts.extra,
  };
  await writeFile(join(outDir, 'study.json'), JSON.stringify(manifest, null, 2));
}
