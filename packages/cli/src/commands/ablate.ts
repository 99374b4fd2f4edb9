import { join } from 'node:path';
import { ConfigError, lockFolder, removeOrphanTempFiles, resolveDataConfig, type RunConfigInput } from '@vwn/core';
import { onStopSignals } from '../signals.js';
import { rebuildReport } from '@vwn/report';
import { loadCorpus, readJson, selectBackend, type CommonOptions } from '../setup.js';
import { DEFAULT_STUDY_TOKENS, STUDIES, STUDY_BASE, STUDY_NAMES, type StudySpec, type VariantSpec } from '../ablate/studies.js';
import { planStudy, runStudy } from '../ablate/runner.js';
import { Progress, formatDuration } from '../progress.js';

/** Options of `vwn ablate`. */
export interface AblateOptions extends CommonOptions {
  readonly out?: string | undefined;
  readonly tokens?: number | undefined;
  readonly seeds?: number | undefined;
  readonly json?: boolean | undefined;
}

/**
 * Reads a grid file: `{"base": {...run config...}, "baseline"?: name,
 * "variants": [{"name", "description"?, "config": {...diff...}}] }` (or
 * `"variants": {"name": {...diff...}}`).
 */
export async function studyFromFile(path: string): Promise<StudySpec> {
  const raw = await readJson(path, '--config');
  const base = (raw['base'] ?? STUDY_BASE) as RunConfigInput;
  if (typeof base !== 'object' || base === null || Array.isArray(base)) throw new ConfigError('base', 'expected a run config object');
  const rawVariants = raw['variants'];
  let variants: VariantSpec[];
  if (Array.isArray(rawVariants)) {
    variants = rawVariants.map((v: Record<string, unknown>, i: number) => {
      if (typeof v?.['name'] !== 'string') throw new ConfigError(`variants[${i}].name`, 'is required (a string)');
      return { name: v['name'], description: String(v['description'] ?? ''), config: (v['config'] ?? {}) as Record<string, unknown> };
    });
  } else if (rawVariants && typeof rawVariants === 'object') {
    variants = Object.entries(rawVariants as Record<string, Record<string, unknown>>).map(([name, config]) => ({ name, description: '', config }));
  } else {
    throw new ConfigError('variants', 'is required: an array of {"name", "config"} or an object {name: config}');
  }
  if (variants.length < 1) throw new ConfigError('variants', 'needs at least one variant');
  const baseline = typeof raw['baseline'] === 'string' ? raw['baseline'] : variants[0]!.name;
  for (const k of Object.keys(raw)) if (!['base', 'variants', 'baseline', 'name', 'description'].includes(k)) {
    throw new ConfigError(k, 'unknown field; allowed: base, baseline, variants, name, description');
  }
  return { name: String(raw['name'] ?? 'custom'), description: String(raw['description'] ?? ''), base, baseline, variants };
}

/** `vwn ablate`: runs (or resumes) a study and writes its report. */
export async function ablateCommand(opts: AblateOptions): Promise<number> {
  let spec: StudySpec;
  if (opts.config) {
    if (opts.preset) throw new ConfigError('--preset', 'cannot be combined with --config (a grid file names its own variants)');
    spec = await studyFromFile(opts.config);
  } else {
    const name = opts.preset ?? 'default';
    const preset = STUDIES[name];
    if (!preset) throw new ConfigError('--preset', `unknown study "${name}"; allowed: ${STUDY_NAMES.join(', ')}`);
    spec = preset;
  }
  if (opts.corpus) spec = { ...spec, base: { ...spec.base, data: { ...spec.base.data, corpus: opts.corpus } } };
  const seeds = opts.seeds ?? spec.seeds ?? 1;
  if (!Number.isInteger(seeds) || seeds < 1) throw new ConfigError('--seeds', `must be a positive integer, got ${seeds}`);
  const tokens = opts.tokens ?? DEFAULT_STUDY_TOKENS;
  if (!(tokens > 0)) throw new ConfigError('--tokens', `must be positive, got ${tokens}`);
  const outDir = opts.out ?? join('ablate-out', spec.name);

  const { backend, note } = await selectBackend(opts, spec.base, opts.json);
  const corpus = await loadCorpus(resolveDataConfig(spec.base.data ?? {}));
  let stopRequested = false;
  const t0 = Date.now();
  let bar: Progress | null = null;
  // The plan (steps per variant) is known before the first run starts.
  const plan = await planStudy(spec, { corpus, tokens, seeds });
  // One process per study folder; temp files of a killed one are removed.
  const lock = await lockFolder(outDir, { command: 'vwn ablate', onNotice: (m) => process.stderr.write(`${outDir}: ${m}\n`) });
  await removeOrphanTempFiles(outDir, { exclusive: true });
  const signals = onStopSignals(() => (stopRequested = true), 'checkpointing; rerun the same command to resume');
  let result;
  try {
    result = await runStudy(spec, {
      outDir,
      corpus,
      tokens,
      seeds,
      plan,
      shouldStop: () => stopRequested,
      onRun: (e) => {
        if (opts.json) {
          process.stdout.write(JSON.stringify({ type: 'run', ...e }) + '\n');
          return;
        }
        const label = `[${e.index + 1}/${e.total}] ${e.variant}${seeds > 1 ? ` seed ${e.seed}` : ''}`;
        if (e.kind === 'skip') process.stderr.write(`${label}: already finished, skipped\n`);
        if (e.kind === 'start') {
          const v = plan.variants.find((x) => x.name === e.variant)!;
          bar = new Progress(label.padEnd(28), v.config.train.steps);
        }
        if (e.kind === 'done') bar?.finish();
      },
      onStep: (p) => {
        if (opts.json) {
          if (p.record.step === p.steps) process.stdout.write(JSON.stringify({ ...p.record, type: 'variant-end', variant: p.variant, seed: p.seed }) + '\n');
          return;
        }
        bar?.update(p.record.step, { loss: p.record.loss.toFixed(3), 'tok/s': p.record.tokensPerSecond.toFixed(0) }, p.etaSeconds);
      },
    });
  } finally {
    signals.dispose();
    await lock.release();
  }
  if (!result.complete) {
    process.stderr.write(`study stopped; finished runs are kept in ${outDir}. Rerun the same command to resume.\n`);
    return signals.exitCode() || 130;
  }
  const { files } = await rebuildReport(outDir);
  if (opts.json) process.stdout.write(JSON.stringify({ type: 'report', outDir, files, backend, seconds: (Date.now() - t0) / 1000 }) + '\n');
  else process.stderr.write(`study "${spec.name}" done in ${formatDuration((Date.now() - t0) / 1000)} on ${note.replace(/^auto: using /, '')}; report: ${join(outDir, 'report.md')} (also report.html, plots/)\n`);
  return 0;
}
