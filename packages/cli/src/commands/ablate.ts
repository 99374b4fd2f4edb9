import { join } from 'node:path';
import { ConfigError, resolveDataConfig, type RunConfigInput } from '@vwn/core';
import { lockFolder, removeOrphanTempFiles } from '@vwn/core/node';
import { onStopSignals } from '../signals.js';
import { rebuildReport } from '@vwn/report';
import { loadCorpus, readJson, selectBackend, type CommonOptions } from '../setup.js';
import { DEFAULT_STUDY_TOKENS, STUDIES, STUDY_BASE, STUDY_NAMES, type StudySpec, type VariantSpec } from '../ablate/studies.js';
import { planStudy, runStudy } from '../ablate/runner.js';
import { backendLabel } from '../ablate/run_one.js';
import { runConcurrentStudy } from '../ablate/concurrent.js';
import { parseQueueUrl, probeQueue } from '../ablate/redis.js';
import { Progress, formatDuration } from '../progress.js';

/** Options of `vwn ablate`. */
export interface AblateOptions extends CommonOptions {
  readonly out?: string | undefined;
  readonly tokens?: number | undefined;
  readonly seeds?: number | undefined;
  readonly json?: boolean | undefined;
  /** `--queue redis://…`: run on BullMQ workers (`vwn worker`). */
  readonly queue?: string | undefined;
  /** `--parallel N`: N runs at once in local processes. */
  readonly parallel?: number | undefined;
  /** `--allow-mixed`: accept a folder made with another grid, budget or backend. */
  readonly allowMixed?: boolean | undefined;
  /** `--blas-threads N`: OpenBLAS threads per run process. */
  readonly blasThreads?: number | undefined;
}

/**
 * Reads a grid file: `{"base": {...run config...}, "baseline"?: name,
 * "variants": [{"name", "description"?, "group"?, "config": {...diff...}}],
 * "seeds"?: n, "comparisons"?: [{"variant", "reference", "label"?}] }` (or
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
      if (v['group'] !== undefined && typeof v['group'] !== 'string')
        throw new ConfigError(`variants[${i}].group`, 'expected a string (the arm this variant is an alternative of)');
      const group = v['group'] as string | undefined;
      return {
        name: v['name'],
        description: String(v['description'] ?? ''),
        config: (v['config'] ?? {}) as Record<string, unknown>,
        ...(group !== undefined ? { group } : {}),
      };
    });
  } else if (rawVariants && typeof rawVariants === 'object') {
    variants = Object.entries(rawVariants as Record<string, Record<string, unknown>>).map(([name, config]) => ({ name, description: '', config }));
  } else {
    throw new ConfigError('variants', 'is required: an array of {"name", "config"} or an object {name: config}');
  }
  if (variants.length < 1) throw new ConfigError('variants', 'needs at least one variant');
  const baseline = typeof raw['baseline'] === 'string' ? raw['baseline'] : variants[0]!.name;
  const allowed = ['base', 'variants', 'baseline', 'name', 'description', 'seeds', 'comparisons'];
  for (const k of Object.keys(raw)) if (!allowed.includes(k)) throw new ConfigError(k, `unknown field; allowed: ${allowed.join(', ')}`);
  const seeds = raw['seeds'];
  if (seeds !== undefined && !(Number.isInteger(seeds) && (seeds as number) >= 1))
    throw new ConfigError('seeds', `expected a positive integer, got ${JSON.stringify(seeds)}`);
  const rawComparisons = raw['comparisons'] ?? [];
  if (!Array.isArray(rawComparisons)) throw new ConfigError('comparisons', 'expected an array of {"variant", "reference", "label"?}');
  const comparisons = rawComparisons.map((c: Record<string, unknown>, i: number) => {
    if (typeof c?.['variant'] !== 'string' || typeof c['reference'] !== 'string') {
      throw new ConfigError(`comparisons[${i}]`, 'expected {"variant": name, "reference": name, "label"?: text}');
    }
    return { variant: c['variant'], reference: c['reference'], ...(typeof c['label'] === 'string' ? { label: c['label'] } : {}) };
  });
  return {
    name: String(raw['name'] ?? 'custom'),
    description: String(raw['description'] ?? ''),
    base,
    baseline,
    variants,
    ...(seeds !== undefined ? { seeds: seeds as number } : {}),
    ...(comparisons.length ? { comparisons } : {}),
  };
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

  // A bad URL or an unreachable Redis fails here, before any planning.
  if (opts.queue !== undefined) await probeQueue(parseQueueUrl(opts.queue));
  const parallel = opts.parallel ?? 1;
  if (!Number.isInteger(parallel) || parallel < 1) throw new ConfigError('--parallel', `must be a positive integer, got ${parallel}`);
  // On the queue the workers select the backend; an explicit one is the study's, planning here needs any.
  const workersPick = opts.queue !== undefined && opts.backend !== undefined && opts.backend !== 'auto';
  const selected = await selectBackend(workersPick ? { ...opts, backend: 'cpu' } : opts, spec.base, opts.json || workersPick);
  const { backend, note } = workersPick ? { backend: opts.backend!, note: `${opts.backend} (on the workers)` } : selected;
  const label = workersPick ? opts.backend! : backendLabel(selected);
  const corpus = await loadCorpus(resolveDataConfig(spec.base.data ?? {}));
  let stopRequested = false;
  const t0 = Date.now();
  let bar: Progress | null = null;
  // The plan (steps per variant) is known before the first run starts.
  const plan = await planStudy(spec, { corpus, tokens, seeds });
  // One process per study folder; temp files of a killed one are removed.
  const lock = await lockFolder(outDir, { command: 'vwn ablate', onNotice: (m) => process.stderr.write(`${outDir}: ${m}\n`) });
  await removeOrphanTempFiles(outDir, { exclusive: true });
  const concurrent = opts.queue !== undefined || parallel > 1;
  // Ctrl-C / SIGTERM: local runs checkpoint and stop; a queued study detaches and its workers go on.
  const stop = new AbortController();
  const signals = onStopSignals(
    () => {
      stopRequested = true;
      stop.abort();
    },
    opts.queue !== undefined ? 'detaching; the workers go on. Rerun the same command to re-attach' : 'checkpointing; rerun the same command to resume',
  );
  let result: { complete: boolean };
  try {
    if (concurrent) {
      try {
        const complete = await runConcurrentStudy({
          spec,
          plan,
          outDir,
          queue: opts.queue,
          parallel,
          json: opts.json,
          signal: stop.signal,
          backend: opts.backend ?? spec.base.backend ?? 'auto',
          backendLabel: label,
          allowMixed: opts.allowMixed,
          blasThreads: opts.blasThreads,
        });
        result = { complete };
      } catch (e) {
        // A run failed in its process or on a worker: say which and why; finished runs stay.
        if (!(e instanceof Error) || !['QueueJobError', 'RunProcessError'].includes(e.name)) throw e;
        process.stderr.write(`vwn ablate: ${e.message}\n`);
        return 1;
      }
    } else {
      result = await runStudy(spec, {
        backend: label,
        allowMixed: opts.allowMixed,
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
    }
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
  else
    process.stderr.write(
      `study "${spec.name}" done in ${formatDuration((Date.now() - t0) / 1000)} on ${note.replace(/^auto: using /, '')}; report: ${join(outDir, 'report.md')} (also report.html, plots/)\n`,
    );
  return 0;
}
