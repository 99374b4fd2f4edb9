import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  assembleModel,
  ConfigError,
  loadPluginsFor,
  mergeConfig,
  resolveRunConfig,
  Trainer,
  writeFileAtomic,
  type Corpus,
  type RunConfig,
  type RunConfigInput,
  type TrainRecord,
} from '@vwn/core';
import type { StudyManifest as ReportStudyManifest, StudyVariantManifest } from '@vwn/report';
import type { StudySpec } from './studies.js';

/** A variant as recorded in `study.json` (the format @vwn/report reads), with core's resolved run config. */
export type StudyVariant = StudyVariantManifest<RunConfig>;

/** `study.json`: the plan of a study; `vwn report` needs only it and the metrics files. */
export type StudyManifest = ReportStudyManifest<RunConfig>;

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

const DONE = 'done.json';

/** Builds the plan: every variant's resolved config, size and cost. */
export async function planStudy(spec: StudySpec, opts: { corpus: Corpus; tokens: number; seeds: number }): Promise<StudyManifest> {
  if (!spec.variants.some((v) => v.name === spec.baseline)) {
    throw new ConfigError('baseline', `"${spec.baseline}" is not one of the variants: ${spec.variants.map((v) => v.name).join(', ')}`);
  }
  const names = new Set<string>();
  const variants: StudyVariant[] = [];
  for (const v of spec.variants) {
    if (names.has(v.name)) throw new ConfigError(`variants.${v.name}`, 'is defined twice');
    if (!/^[A-Za-z0-9._+-]+$/.test(v.name) || /^\.+$/.test(v.name)) throw new ConfigError(`variants.${v.name}`, 'names may use letters, digits and . _ + - only, and cannot be "." or ".." (a variant is a folder)');
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
  };
}

/** What must match for a rerun to resume a study folder. */
function fingerprint(m: StudyManifest): string {
  return JSON.stringify({ t: m.tokensPerVariant, s: m.seeds, v: m.variants.map((v) => [v.name, v.config]) });
}

/**
 * Runs (or resumes) a study: every variant and seed on identical batches,
 * each in its own run directory with checkpoints. Finished runs (with
 * `done.json`) are skipped, partial ones resume from their checkpoint, so an
 * interrupted study loses at most the steps since the last checkpoint and its
 * results equal an uninterrupted run's. Returns false when stopped early.
 */
export async function runStudy(spec: StudySpec, opts: RunStudyOptions): Promise<{ manifest: StudyManifest; complete: boolean }> {
  let manifest = opts.plan ?? (await planStudy(spec, opts));
  const manifestPath = join(opts.outDir, 'study.json');
  if (existsSync(manifestPath)) {
    const saved = JSON.parse(await readFile(manifestPath, 'utf8')) as StudyManifest;
    if (fingerprint(saved) !== fingerprint(manifest)) {
      throw new ConfigError('--out', `${opts.outDir} holds a different study (other variants, configs, tokens or seeds); choose another --out`);
    }
    manifest = { ...manifest, createdAt: saved.createdAt };
  }
  await writeFileAtomic(manifestPath, JSON.stringify(manifest, null, 2) + '\n');

  const runs = manifest.variants.flatMap((v) => v.runs.map((r) => ({ variant: v, ...r })));
  // Step time per FLOP, learned as runs go, turns FLOPs left into an ETA.
  let msPerFlop = NaN;
  const remainingFlops = (from: number, stepsDoneInCurrent: number) =>
    runs.slice(from).reduce((acc, r, i) => {
      const steps = r.variant.config.train.steps - (i === 0 ? stepsDoneInCurrent : 0);
      return acc + steps * r.variant.flopsPerToken * r.variant.config.train.batchSize * r.variant.config.model.seqLen;
    }, 0);

  for (const [index, run] of runs.entries()) {
    const dir = join(opts.outDir, run.dir);
    const event = { variant: run.variant.name, seed: run.seed, index, total: runs.length };
    if (existsSync(join(dir, DONE))) {
      opts.onRun?.({ kind: 'skip', ...event });
      continue;
    }
    opts.onRun?.({ kind: 'start', ...event });
    const base = run.variant.config;
    const config: RunConfig = { ...base, model: { ...base.model, seed: run.seed }, train: { ...base.train, seed: run.seed } };
    const trainer = await Trainer.create({
      config,
      corpus: opts.corpus,
      outDir: dir,
      resume: true,
      onRecord: (record) => {
        if (record.type !== 'train') return;
        const tokens = config.train.batchSize * config.model.seqLen;
        const flops = run.variant.flopsPerToken * tokens;
        const sample = record.stepMs / flops;
        msPerFlop = Number.isNaN(msPerFlop) ? sample : 0.9 * msPerFlop + 0.1 * sample;
        opts.onStep?.({
          variant: run.variant.name,
          seed: run.seed,
          record,
          steps: config.train.steps,
          etaSeconds: (remainingFlops(index, record.step) * msPerFlop) / 1000,
        });
        if (opts.shouldStop?.()) trainer.requestStop();
      },
    });
    await trainer.run();
    const finished = trainer.step >= config.train.steps;
    if (finished) {
      await writeFileAtomic(
        join(dir, DONE),
        JSON.stringify({ step: trainer.step, tokens: trainer.tokens, heldOutLoss: trainer.lastEval?.loss ?? null, elapsedMs: trainer.elapsedMs }) + '\n',
      );
    }
    trainer.dispose();
    if (!finished) return { manifest, complete: false };
    opts.onRun?.({ kind: 'done', ...event });
  }
  return { manifest, complete: true };
}
