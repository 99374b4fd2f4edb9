import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {
  assembleModel,
  ConfigError,
  loadPluginsFor,
  mergeConfig,
  resolveRunConfig,
  type Corpus,
  type RunConfig,
  type RunConfigInput,
  type TrainRecord,
} from '@vwn/core';
import { writeFileAtomic } from '@vwn/core/node';
import type { StudyManifest as ReportStudyManifest, StudyVariantManifest } from '@vwn/report';
import type { StudySpec } from './studies.js';
import { DONE_FILE, trainRun } from './run_one.js';

/** A variant as recorded in `study.json` (the format @vwn/report reads), with core's resolved run config. */
export type StudyVariant = StudyVariantManifest<RunConfig>;

/**
 * `study.json`: the plan of a study; `vwn report` needs only it and the
 * metrics files. vwn adds the study's hash (what job ids derive from) and
 * the backend its runs use.
 */
export interface StudyManifest extends ReportStudyManifest<RunConfig> {
  /** {@link studyHash} of the plan (set once the study folder is opened). */
  readonly hash?: string;
  /** Backend label every run uses (`native`, `wasm`, `cpu`, …). */
  readonly backend?: string;
  /** True when `--allow-mixed` let runs of another grid, budget or backend into the folder. */
  readonly mixed?: boolean;
}

/** Options of {@link runStudy}. */
export interface RunStudyOptions {
  readonly outDir: string;
  readonly corpus: Corpus;
  /** Training tokens per variant and seed (rounded up to whole steps). */
  readonly tokens: number;
  /** Number of seeds (0 … seeds-1): each seeds model init and data order alike for every variant. */
  readonly seeds: number;
  /** Called after every training step of every run. */
  readonly onStep?: (progress: StudyProgress) => void;
  /** Called when a run starts, is skipped (already finished) or finishes. */
  readonly onRun?: (event: { kind: 'start' | 'skip' | 'done'; variant: string; seed: number; index: number; total: number }) => void;
  /** The plan from {@link planStudy}, when the caller already made it. */
  readonly plan?: StudyManifest;
  /** Asked after every step; returning true stops the study after checkpointing (Ctrl-C). */
  readonly shouldStop?: () => boolean;
  /** Backend label recorded in study.json and run.json (default: tfjs's current backend). */
  readonly backend?: string;
  /** Accept a folder made with another grid, token budget or backend (`--allow-mixed`). */
  readonly allowMixed?: boolean | undefined;
}

/** Progress of a study, for the progress line. */
export interface StudyProgress {
  readonly variant: string;
  readonly seed: number;
  readonly record: TrainRecord;
  readonly steps: number;
  /** Estimated seconds left for the whole study. */
  readonly etaSeconds: number;
}

/** Builds the plan: every variant's resolved config, size and cost. */
export async function planStudy(spec: StudySpec, opts: { corpus: Corpus; tokens: number; seeds: number }): Promise<StudyManifest> {
  if (!spec.variants.some((v) => v.name === spec.baseline)) {
    throw new ConfigError('baseline', `"${spec.baseline}" is not one of the variants: ${spec.variants.map((v) => v.name).join(', ')}`);
  }
  const names = new Set<string>();
  const variants: StudyVariant[] = [];
  for (const v of spec.variants) {
    if (names.has(v.name)) throw new ConfigError(`variants.${v.name}`, 'is defined twice');
    if (!/^[A-Za-z0-9._+-]+$/.test(v.name) || /^\.+$/.test(v.name))
      throw new ConfigError(`variants.${v.name}`, 'names may use letters, digits and . _ + - only, and cannot be "." or ".." (a variant is a folder)');
    names.add(v.name);
    const input = mergeConfig(spec.base as Record<string, unknown>, v.config) as RunConfigInput;
    await loadPluginsFor(input as Record<string, unknown>);
    const probe = resolveRunConfig(input, opts.corpus.tokenizer.vocabSize);
    const tokensPerStep = probe.train.batchSize * probe.model.seqLen;
    const steps = Math.max(1, Math.ceil(opts.tokens / tokensPerStep));
    const config = resolveRunConfig(mergeConfig(input as Record<string, unknown>, { train: { steps } }) as RunConfigInput, opts.corpus.tokenizer.vocabSize);
    const model = assembleModel(config.model);
    const totals = model.totals();
    const { m, n } = model.layout;
    model.dispose();
    variants.push({
      name: v.name,
      description: v.description,
      ...(v.group !== undefined ? { group: v.group } : {}),
      r: n / m,
      m,
      n,
      config,
      params: totals.params,
      activeParams: totals.activeParams,
      flopsPerToken: totals.flopsPerToken,
      runs: Array.from({ length: opts.seeds }, (_, s) => ({ seed: s, dir: join('runs', v.name, `seed-${s}`) })),
    });
  }
  for (const c of spec.comparisons ?? []) {
    for (const name of [c.variant, c.reference]) {
      if (!names.has(name)) throw new ConfigError('comparisons', `"${name}" is not one of the variants: ${[...names].join(', ')}`);
    }
  }
  const first = variants[0]!.config;
  for (const v of variants) {
    if (v.config.train.batchSize !== first.train.batchSize || v.config.model.seqLen !== first.model.seqLen || v.config.train.steps !== first.train.steps) {
      throw new ConfigError(`variants.${v.name}`, 'must keep train.batchSize and seqLen of the base so every variant sees the same batches');
    }
  }
  return {
    name: spec.name,
    createdAt: new Date().toISOString(),
    tokensPerVariant: first.train.steps * first.train.batchSize * first.model.seqLen,
    seeds: Array.from({ length: opts.seeds }, (_, s) => s),
    baseline: spec.baseline,
    variants,
    ...(spec.comparisons?.length ? { comparisons: spec.comparisons } : {}),
  };
}

/** What must match for a rerun to resume a study folder. */
function fingerprint(m: StudyManifest): string {
  return JSON.stringify({ t: m.tokensPerVariant, s: m.seeds, v: m.variants.map((v) => [v.name, v.config]) });
}

/**
 * A short hash of a plan's grid and token budget (variant names and resolved
 * configs, tokens per variant; not the seeds, which are per job). Queue job
 * ids derive from it, so a restarted coordinator finds its jobs again.
 *
 * @example
 * ```ts
 * studyHash(await planStudy(STUDIES['quick']!, { corpus, tokens: 512_000, seeds: 3 })); // e.g. '3f9a0c12d4e5b6a7'
 * ```
 */
export function studyHash(m: Pick<StudyManifest, 'tokensPerVariant' | 'variants'>): string {
  const grid = JSON.stringify({ t: m.tokensPerVariant, v: m.variants.map((v) => [v.name, v.config]) });
  return createHash('sha256').update(grid).digest('hex').slice(0, 16);
}

/** Options of {@link openStudy}. */
export interface OpenStudyOptions {
  /** Backend label the runs will use. */
  readonly backend: string;
  /** Accept a folder made with another grid, token budget or backend. */
  readonly allowMixed?: boolean | undefined;
}

/**
 * Writes (or checks and keeps) `outDir/study.json` for a plan: a folder that
 * holds another grid, token budget, seed list or backend is refused with a
 * {@link ConfigError} unless `allowMixed`. Returns the manifest as written,
 * with its hash and backend.
 *
 * @example
 * ```ts
 * const manifest = await openStudy('ablate-out/quick', plan, { backend: 'native' });
 * manifest.hash; // the id queue jobs derive from
 * ```
 */
export async function openStudy(outDir: string, plan: StudyManifest, opts: OpenStudyOptions): Promise<StudyManifest> {
  let manifest: StudyManifest = { ...plan, hash: studyHash(plan), backend: opts.backend };
  const manifestPath = join(outDir, 'study.json');
  if (existsSync(manifestPath)) {
    const saved = JSON.parse(await readFile(manifestPath, 'utf8')) as StudyManifest;
    let mixed = saved.mixed ?? false;
    if (fingerprint(saved) !== fingerprint(manifest)) {
      if (!opts.allowMixed) {
        throw new ConfigError(
          '--out',
          `${outDir} holds a different study (other variants, configs, tokens or seeds); choose another --out (or pass --allow-mixed to keep its finished runs)`,
        );
      }
      mixed = true;
    }
    if (saved.backend !== undefined && saved.backend !== opts.backend) {
      if (!opts.allowMixed) {
        throw new ConfigError(
          '--backend',
          `${outDir} was made with backend "${saved.backend}", this run would use "${opts.backend}"; pass --backend ${saved.backend} (or --allow-mixed to mix backends)`,
        );
      }
      mixed = true;
    }
    manifest = { ...manifest, createdAt: saved.createdAt, backend: saved.backend ?? opts.backend, ...(mixed ? { mixed } : {}) };
  }
  await writeFileAtomic(manifestPath, JSON.stringify(manifest, null, 2) + '\n');
  return manifest;
}

/** One (variant, seed) run of a plan, in study order. */
export interface PlannedRun {
  readonly variant: StudyVariant;
  readonly seed: number;
  /** Run directory relative to the study folder. */
  readonly dir: string;
  readonly index: number;
}

/**
 * Every (variant, seed) run of a plan in study order (variant-major).
 *
 * @example
 * ```ts
 * plannedRuns(plan).map((r) => `${r.variant.name}/${r.seed}`); // ['baseline/0', 'baseline/1', 'vwn-r4/0', …]
 * ```
 */
export function plannedRuns(manifest: StudyManifest): PlannedRun[] {
  return manifest.variants.flatMap((v) => v.runs.map((r) => ({ variant: v, seed: r.seed, dir: r.dir }))).map((r, index) => ({ ...r, index }));
}

/**
 * FLOPs of a run's training steps (`steps` of them; default all), for ETAs.
 *
 * @example
 * ```ts
 * runFlops(plan.variants[0]!); // flops/token × tokens per step × steps
 * ```
 */
export function runFlops(variant: StudyVariant, steps = variant.config.train.steps): number {
  return steps * variant.flopsPerToken * variant.config.train.batchSize * variant.config.model.seqLen;
}

/**
 * Runs (or resumes) a study: every variant and seed on identical batches,
 * each in its own run directory with checkpoints. Finished runs (with
 * `done.json`) are skipped, partial ones resume from their checkpoint, so an
 * interrupted study loses at most the steps since the last checkpoint and its
 * results equal an uninterrupted run's. Returns false when stopped early.
 */
export async function runStudy(spec: StudySpec, opts: RunStudyOptions): Promise<{ manifest: StudyManifest; complete: boolean }> {
  const plan = opts.plan ?? (await planStudy(spec, opts));
  const backend = opts.backend ?? tf.getBackend();
  const manifest = await openStudy(opts.outDir, plan, { backend, allowMixed: opts.allowMixed });

  const runs = plannedRuns(manifest);
  // Step time per FLOP, learned as runs go, turns FLOPs left into an ETA.
  let msPerFlop = NaN;
  const remainingFlops = (from: number, stepsDoneInCurrent: number) =>
    runs.slice(from).reduce((acc, r, i) => acc + runFlops(r.variant, r.variant.config.train.steps - (i === 0 ? stepsDoneInCurrent : 0)), 0);

  for (const run of runs) {
    const dir = join(opts.outDir, run.dir);
    const event = { variant: run.variant.name, seed: run.seed, index: run.index, total: runs.length };
    if (existsSync(join(dir, DONE_FILE))) {
      opts.onRun?.({ kind: 'skip', ...event });
      continue;
    }
    opts.onRun?.({ kind: 'start', ...event });
    const config = run.variant.config;
    const result = await trainRun({
      config,
      seed: run.seed,
      corpus: opts.corpus,
      dir,
      backend,
      shouldStop: opts.shouldStop,
      onRecord: (record) => {
        if (record.type !== 'train') return;
        const sample = record.stepMs / runFlops(run.variant, 1);
        msPerFlop = Number.isNaN(msPerFlop) ? sample : 0.9 * msPerFlop + 0.1 * sample;
        opts.onStep?.({
          variant: run.variant.name,
          seed: run.seed,
          record,
          steps: config.train.steps,
          etaSeconds: (remainingFlops(run.index, record.step) * msPerFlop) / 1000,
        });
      },
    });
    if (!result.finished) return { manifest, complete: false };
    opts.onRun?.({ kind: 'done', ...event });
  }
  return { manifest, complete: true };
}
