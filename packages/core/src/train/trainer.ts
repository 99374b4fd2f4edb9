import * as tf from '@tensorflow/tfjs';
import { asStorageError, ConfigError, NonFiniteLossError, RunStateError } from '../errors.js';
import { checkMemory, estimateMemory } from '../memory.js';
import { assembleModel, type Model } from '../model.js';
import type { RunConfig } from '../run_config.js';
import type { Corpus } from '../data/corpus.js';
import { BatchSampler, evaluationBatches, type Batch } from '../data/sampler.js';
import { checkpointFromBytes, checkpointToBytes, restoreWeights, type CheckpointState } from '../checkpoint/checkpoint.js';
import { METRICS_FILE, type EvalRecord, type MetricsRecord, type TrainRecord } from '../metrics_schema.js';
import type { RunStore } from './run_store.js';
import { AdamW, globalGradNorm } from './adamw.js';
import { learningRate } from './schedule.js';

/**
 * File names inside a run directory.
 *
 * @example
 * ```ts
 * RUN_FILES; // { checkpoint: 'checkpoint.safetensors', metrics: 'metrics.jsonl', config: 'config.json' }
 * const ckpt = await loadCheckpoint(join('runs/tiny', RUN_FILES.checkpoint)); // loadCheckpoint from '@vwn/core/node'
 * ```
 */
export const RUN_FILES = {
  checkpoint: 'checkpoint.safetensors',
  metrics: METRICS_FILE,
  config: 'config.json',
} as const;

export type { TrainRecord, EvalRecord, MetricsRecord } from '../metrics_schema.js';

/**
 * Options of {@link Trainer.create}.
 *
 * @example
 * ```ts
 * const opts: TrainerOptions = {
 *   config: resolveRunConfig({ dModel: 64, layers: 2, heads: 4, seqLen: 64 }, corpus.tokenizer.vocabSize),
 *   corpus, store: new MemoryRunStore(), resume: true,
 *   onRecord: (r) => { if (r.type === 'eval') console.log(r.step, r.loss); },
 * };
 * const trainer = await Trainer.create(opts);
 * ```
 */
export interface TrainerOptions {
  /** The resolved run config (model, train, data). */
  readonly config: RunConfig;
  /** Tokenized text; batches come from `corpus.train`, evaluation from `corpus.validation`. */
  readonly corpus: Corpus;
  /**
   * Where the checkpoint, metrics and config are kept: `runDirectory(dir)`
   * from `@vwn/core/node` for a run directory (what `outDir` was), a
   * {@link MemoryRunStore}, or your own {@link RunStore}. None = nothing is
   * kept (records still reach `onRecord`; {@link Trainer.checkpointBytes} still works).
   *
   * @defaultValue `undefined`
   */
  readonly store?: RunStore;
  /**
   * Continue from the store's checkpoint when there is one.
   *
   * @defaultValue `false`
   */
  readonly resume?: boolean;
  /**
   * Called with every record as it is produced.
   *
   * @defaultValue `undefined`
   */
  readonly onRecord?: (record: MetricsRecord) => void;
  /**
   * Skip the memory estimate's refusal (see {@link estimateMemory}); a tensor
   * larger than any backend can hold is still refused.
   *
   * @defaultValue `false`
   */
  readonly ignoreMemoryCheck?: boolean;
}

/** Resolves after pending events: `setImmediate` in Node, a zero timeout elsewhere. */
function yieldToEventLoop(): Promise<void> {
  const immediate = (globalThis as { setImmediate?: (cb: () => void) => unknown }).setImmediate;
  return new Promise((resolve) => (immediate ? immediate(resolve) : setTimeout(resolve, 0)));
}

/** Adds `value` to `sums[key]` (a new tensor; the old sum is freed, `value` is left to the caller). */
function addInto(sums: Map<string, tf.Tensor>, key: string, value: tf.Tensor): void {
  const prev = sums.get(key);
  sums.set(key, prev ? tf.add(prev, value) : tf.clone(value));
  prev?.dispose();
}

/** Multiplies every tensor in `sums` by `factor` (the old tensors are freed). */
function scaleAll(sums: Map<string, tf.Tensor>, factor: number): void {
  for (const [k, t] of sums) {
    sums.set(k, tf.mul(t, factor));
    t.dispose();
  }
}

/** Lists the model fields that differ between a checkpoint's config and this run's (dotted paths). */
function configDiff(saved: unknown, current: unknown, path = ''): string[] {
  const isObj = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === 'object' && !Array.isArray(x);
  if (isObj(saved) && isObj(current)) {
    const keys = [...new Set([...Object.keys(saved), ...Object.keys(current)])].sort();
    return keys.flatMap((k) => configDiff(saved[k], current[k], path ? `${path}.${k}` : k));
  }
  if (JSON.stringify(saved) === JSON.stringify(current)) return [];
  return [`${path || '(model)'}: ${JSON.stringify(saved) ?? '(none)'} in the checkpoint, ${JSON.stringify(current) ?? '(none)'} now`];
}

const RESUME_ADVICE = 'the last checkpoint is intact; fix the cause and rerun with --resume';

/**
 * Trains a model on a corpus: AdamW with no-decay groups, warm-up + cosine/constant
 * LR, global-norm clipping, gradient accumulation, periodic held-out evaluation,
 * `metrics.jsonl`, atomic checkpoints and exact resume.
 *
 * Determinism: parameter init depends only on the model seed and names, batch
 * `i` only on the data seed and `i`, so two runs with the same seeds produce
 * identical losses, and a resumed run continues loss-for-loss.
 *
 * @example
 * ```ts
 * const trainer = await Trainer.create({ config, corpus, onRecord: (r) => console.log(r.type, r.step, r.loss) });
 * await trainer.run();
 * const bytes = await trainer.checkpointBytes(); // loads with `vwn eval`
 * console.log(trainer.lastEval?.loss);
 * ```
 */
export class Trainer {
  /** Optimizer steps completed. */
  step = 0;
  /** Training tokens consumed. */
  tokens = 0;
  /** Index of the next batch to draw. */
  batchIndex = 0;
  /** Wall time spent training, summed over resumes. */
  elapsedMs = 0;
  /** Most recent held-out evaluation. */
  lastEval: EvalRecord | null = null;
  private stopRequested = false;
  private readonly sampler: BatchSampler;
  private readonly evalSet: Batch[];
  /** Trainable variables and their parameter names, fixed for the trainer's life. */
  private readonly vars: tf.Variable[];
  private readonly byVarName: Map<string, string>;

  private constructor(
    readonly config: RunConfig,
    readonly corpus: Corpus,
    readonly model: Model,
    readonly optimizer: AdamW,
    readonly store: RunStore | undefined,
    private readonly onRecord: ((r: MetricsRecord) => void) | undefined,
  ) {
    const { train, model: m } = config;
    this.vars = model.params.list().map((p) => p.variable);
    this.byVarName = new Map(model.params.list().map((p) => [p.variable.name, p.name]));
    this.sampler = new BatchSampler(corpus.train, { batchSize: train.batchSize / train.accumulate, seqLen: m.seqLen, seed: train.seed });
    this.evalSet = evaluationBatches(corpus.validation, { batchSize: train.batchSize, seqLen: m.seqLen, maxBatches: train.evalBatches });
  }

  /**
   * Builds model and optimizer, prepares the store (a run directory removes
   * temp files left by a killed process) and restores its checkpoint when
   * resuming. Before anything is allocated the run's memory is estimated and
   * refused when it cannot fit (a {@link MemoryLimitError}; see `ignoreMemoryCheck`).
   */
  static async create(opts: TrainerOptions): Promise<Trainer> {
    if ((opts as { outDir?: unknown }).outDir !== undefined) {
      throw new ConfigError(
        'outDir',
        `Trainer.create no longer takes outDir; pass store: runDirectory(${JSON.stringify((opts as { outDir?: unknown }).outDir)}) (import { runDirectory } from '@vwn/core/node')`,
      );
    }
    checkMemory(estimateMemory(opts.config, tf.getBackend() ?? 'cpu'), { ignore: opts.ignoreMemoryCheck ?? false });
    const model = assembleModel(opts.config.model);
    const { train } = opts.config;
    const optimizer = new AdamW(model.params.list(), {
      beta1: train.beta1,
      beta2: train.beta2,
      eps: train.eps,
      weightDecay: train.weightDecay,
    });
    let trainer: Trainer;
    try {
      trainer = new Trainer(opts.config, opts.corpus, model, optimizer, opts.store, opts.onRecord);
    } catch (e) {
      optimizer.dispose();
      model.dispose();
      throw e;
    }
    const store = opts.store;
    if (store) {
      try {
        await store.prepare();
        const bytes = opts.resume ? await store.readCheckpoint() : null;
        if (bytes) {
          await trainer.restore(bytes, store);
        } else {
          await store.writeMetrics('');
        }
        // On resume too: a changed lr or steps applies, and config.json says so.
        await store.writeConfig(JSON.stringify(opts.config, null, 2) + '\n').catch((e) => {
          throw asStorageError(e, store.pathOf('config'), RESUME_ADVICE);
        });
      } catch (e) {
        trainer.dispose();
        throw e;
      }
    }
    return trainer;
  }

  private async restore(bytes: Uint8Array, store: RunStore): Promise<void> {
    const path = store.pathOf('checkpoint');
    const ckpt = checkpointFromBytes(bytes, path);
    const diff = configDiff(ckpt.state.config['model'], this.config.model);
    if (diff.length > 0) {
      throw new RunStateError(
        path,
        `cannot resume from ${path}: its model config differs from this run's (${diff.join('; ')}); ` +
          'resume with the same model config, or start over with --force (or another --out)',
      );
    }
    restoreWeights(ckpt, this.model.params, this.optimizer);
    ({ step: this.step, tokens: this.tokens, batchIndex: this.batchIndex, elapsedMs: this.elapsedMs } = ckpt.state.trainer);
    // Metrics written after the checkpoint belong to steps that will be redone;
    // a partial last line (a write cut by a crash or a full disk) is dropped.
    const metricsPath = store.pathOf('metrics');
    const text = await store.readMetrics();
    if (text !== null) {
      const lines = text.split('\n');
      const kept: string[] = [];
      for (const [i, line] of lines.entries()) {
        if (!line.trim()) continue;
        let rec: MetricsRecord;
        try {
          rec = JSON.parse(line) as MetricsRecord;
        } catch {
          const last = lines.slice(i + 1).every((l) => !l.trim());
          if (last) break; // cut short by a crash: the step is redone
          throw new RunStateError(
            metricsPath,
            `${metricsPath} line ${i + 1} is not JSON (and not the last line, so not a cut-off write); repair or delete that line, then rerun with --resume`,
          );
        }
        if (typeof rec?.step !== 'number') {
          throw new RunStateError(
            metricsPath,
            `${metricsPath} line ${i + 1} is not a metrics record (no "step"); repair or delete that line, then rerun with --resume`,
          );
        }
        if (rec.step > this.step) continue;
        kept.push(line);
        if (rec.type === 'eval') this.lastEval = rec;
      }
      await store.writeMetrics(kept.map((l) => l + '\n').join('')).catch((e) => {
        throw asStorageError(e, metricsPath, RESUME_ADVICE);
      });
    }
  }

  /** Asks {@link Trainer.run} to stop after the current step (and checkpoint). */
  requestStop(): void {
    this.stopRequested = true;
  }

  /** The trainer's position and config, as stored in a checkpoint. */
  checkpointState(): CheckpointState {
    return {
      config: this.config as unknown as Record<string, unknown>,
      tokenizer: this.corpus.tokenizer.toJSON(),
      trainer: { step: this.step, tokens: this.tokens, batchIndex: this.batchIndex, elapsedMs: this.elapsedMs },
    };
  }

  /**
   * The checkpoint as bytes (weights, optimizer moments, state): the
   * safetensors file `vwn train` writes, loadable with `vwn eval` and
   * {@link loadModelFromCheckpointBytes}.
   */
  async checkpointBytes(): Promise<Uint8Array> {
    return checkpointToBytes(this.model.params, this.optimizer, this.checkpointState());
  }

  /** Writes the checkpoint into the store (atomically in a run directory; no-op without a store). */
  async saveCheckpoint(): Promise<void> {
    const store = this.store;
    if (!store) return;
    const path = store.pathOf('checkpoint');
    try {
      await store.writeCheckpoint(await this.checkpointBytes());
    } catch (e) {
      throw asStorageError(e, path, `the previous checkpoint is intact; free space and rerun with --resume (steps after it are redone)`);
    }
  }

  /**
   * One optimizer step (with gradient accumulation); returns its record.
   * Async because values are read with `data()`, which every backend (webgpu
   * included) supports; there is one read per step.
   */
  async trainStep(): Promise<TrainRecord> {
    const { train, model: m } = this.config;
    const t0 = performance.now();
    const { vars, byVarName } = this;
    // Sums over micro-batches: gradients by parameter name, the total loss, and
    // the model's named terms and metrics. Every sum is freed in `finally`.
    const grads = new Map<string, tf.Tensor>();
    const totals = new Map<string, tf.Tensor>();
    const termSums = new Map<string, tf.Tensor>();
    const metricSums = new Map<string, tf.Tensor>();
    const held: tf.Tensor[] = [];
    let record: Omit<TrainRecord, 'tensors'>;
    try {
      for (let micro = 0; micro < train.accumulate; micro++) {
        const batch = this.sampler.batch(this.batchIndex++);
        const rows = tf.tensor2d(batch.tokens, [batch.batchSize, batch.width], 'int32');
        let terms: Record<string, tf.Scalar> = {};
        let metrics: Record<string, tf.Tensor> = {};
        const { value, grads: g } = tf.variableGrads(() => {
          const out = this.model.loss(rows, { training: true });
          terms = out.terms;
          metrics = out.metrics;
          return out.total;
        }, vars);
        addInto(totals, 'total', value);
        for (const [varName, grad] of Object.entries(g)) addInto(grads, byVarName.get(varName)!, grad);
        for (const [k, v] of Object.entries(terms)) addInto(termSums, k, v);
        for (const [k, v] of Object.entries(metrics)) addInto(metricSums, k, v);
        tf.dispose([rows, value, ...Object.values(g), ...Object.values(terms), ...Object.values(metrics)]);
      }
      const inv = 1 / train.accumulate;
      // Mean gradient over micro-batches, then global-norm clipping.
      if (train.accumulate > 1) scaleAll(grads, inv);
      const gradNormT = globalGradNorm([...grads.values()]);
      held.push(gradNormT);
      const names = [...termSums.keys()];
      const metricNames = [...metricSums.keys()];
      // One host read per step: losses, grad norm and every metric, flattened together.
      const scalars = tf.tidy(() =>
        tf.concat([
          tf.stack([tf.mul(totals.get('total')!, inv), gradNormT, ...names.map((k) => tf.mul(termSums.get(k)!, inv))]),
          ...metricNames.map((k) => tf.mul(metricSums.get(k)!, inv).reshape([-1])),
        ]),
      );
      held.push(scalars);
      const values = await scalars.data();
      let offset = 2 + names.length;
      const metricValues = metricNames.map((k) => {
        const t = metricSums.get(k)!;
        const v = t.rank === 0 ? values[offset]! : Array.from(values.subarray(offset, offset + t.size));
        offset += t.size;
        return v;
      });
      const totalLoss = values[0]!;
      const gradNorm = values[1]!;
      const termValues = Object.fromEntries(names.map((k, i) => [k, values[i + 2]!]));
      const loss = termValues['loss']!;
      delete termValues['loss'];
      if (!Number.isFinite(totalLoss) || !Number.isFinite(gradNorm)) {
        throw new NonFiniteLossError(this.step + 1, Number.isFinite(totalLoss) ? `gradient norm (${gradNorm})` : `loss (${totalLoss})`);
      }
      const lr = learningRate({ ...train, totalSteps: train.steps }, this.step);
      // Clipping scales the gradients inside the optimizer's update (no extra pass over them).
      const clipScale = train.clipNorm > 0 && gradNorm > train.clipNorm ? train.clipNorm / (gradNorm + 1e-6) : 1;
      this.optimizer.apply(grads, lr, clipScale);

      this.step += 1;
      const stepTokens = train.batchSize * m.seqLen;
      this.tokens += stepTokens;
      const stepMs = performance.now() - t0;
      this.elapsedMs += stepMs;
      record = {
        type: 'train',
        step: this.step,
        tokens: this.tokens,
        loss,
        totalLoss,
        terms: termValues,
        metrics: Object.fromEntries(metricNames.map((k, i) => [k, metricValues[i]!])),
        lr,
        gradNorm,
        tokensPerSecond: (stepTokens / stepMs) * 1000,
        stepMs,
      };
    } finally {
      tf.dispose([...grads.values(), ...totals.values(), ...termSums.values(), ...metricSums.values(), ...held]);
    }
    return { ...record, tensors: tf.memory().numTensors };
  }

  /**
   * Held-out next-token loss (and objective terms) over the fixed evaluation
   * windows, weighted by rows.
   */
  async evaluate(): Promise<EvalRecord> {
    let rowsSeen = 0;
    const sums: Record<string, number> = {};
    for (const batch of this.evalSet) {
      const rows = tf.tensor2d(batch.tokens, [batch.batchSize, batch.width], 'int32');
      const { total, terms, metrics } = this.model.loss(rows, { training: false });
      const names = Object.keys(terms);
      const stacked = tf.stack(names.map((k) => terms[k]!));
      const v = await stacked.data();
      tf.dispose([rows, total, stacked, ...Object.values(terms), ...Object.values(metrics)]);
      names.forEach((k, i) => (sums[k] = (sums[k] ?? 0) + v[i]! * batch.batchSize));
      rowsSeen += batch.batchSize;
    }
    const terms = Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, v / rowsSeen]));
    const loss = terms['loss']!;
    delete terms['loss'];
    return { type: 'eval', step: this.step, tokens: this.tokens, loss, terms };
  }

  private async emit(record: MetricsRecord): Promise<void> {
    if (record.type === 'eval') this.lastEval = record;
    if (this.store) {
      try {
        await this.store.appendMetrics(record);
      } catch (e) {
        throw asStorageError(e, this.store.pathOf('metrics'), RESUME_ADVICE);
      }
    }
    this.onRecord?.(record);
  }

  /**
   * Trains until `train.steps`, evaluating and checkpointing on schedule and
   * at the end (also when stopped early with {@link Trainer.requestStop}).
   * A run that is already complete only re-evaluates when it never did.
   */
  async run(): Promise<void> {
    const { train } = this.config;
    if (this.step === 0 && train.evalEvery > 0 && !this.lastEval) await this.emit(await this.evaluate());
    while (this.step < train.steps && !this.stopRequested) {
      await this.emit(await this.trainStep());
      const last = this.step === train.steps;
      if ((train.evalEvery > 0 && this.step % train.evalEvery === 0) || last) await this.emit(await this.evaluate());
      if ((train.checkpointEvery > 0 && this.step % train.checkpointEvery === 0) || last) await this.saveCheckpoint();
      // Let signal handlers (Node) or the page (browser) run between steps.
      await yieldToEventLoop();
    }
    if (this.stopRequested) await this.saveCheckpoint();
  }

  /** Frees model and optimizer tensors. */
  dispose(): void {
    this.optimizer.dispose();
    this.model.dispose();
  }
}
