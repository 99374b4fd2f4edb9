import { ConfigError } from './errors.js';
import { MODEL_CONFIG_KEYS, resolveModelConfig, type ModelConfig, type ResolvedModelConfig } from './model.js';
import { ConfigReader, describe } from './validate.js';

/**
 * Optimizer, schedule and loop settings of a training run.
 *
 * @example
 * ```ts
 * const train: TrainConfig = resolveTrainConfig({ steps: 600, lr: 3e-3 });
 * train.warmupSteps; // 60 = min(100, floor(steps / 10))
 * train.minLr;       // 3e-4 = lr / 10
 * train.schedule;    // 'cosine'
 * ```
 */
export interface TrainConfig {
  /**
   * Rows per optimizer step (split into `accumulate` micro-batches).
   *
   * @defaultValue `16`
   */
  readonly batchSize: number;
  /**
   * Optimizer steps.
   *
   * @defaultValue `1000`
   */
  readonly steps: number;
  /**
   * Peak learning rate, reached after warm-up (PAPER.md §8).
   *
   * @defaultValue `1e-3`
   */
  readonly lr: number;
  /**
   * Final LR of the cosine schedule (default lr/10).
   *
   * @defaultValue `lr / 10`
   */
  readonly minLr: number;
  /**
   * Linear warm-up steps from 0 to `lr` (PAPER.md §8).
   *
   * @defaultValue `min(100, floor(steps / 10))`
   */
  readonly warmupSteps: number;
  /**
   * LR after warm-up: cosine decay to `minLr` at `steps`, or constant `lr` (PAPER.md §8).
   *
   * @defaultValue `'cosine'`
   */
  readonly schedule: 'cosine' | 'constant';
  /**
   * AdamW decoupled weight decay, applied to parameters created with `decay: true` (PAPER.md §8).
   *
   * @defaultValue `0.1`
   */
  readonly weightDecay: number;
  /**
   * AdamW first-moment decay β₁ (PAPER.md §8).
   *
   * @defaultValue `0.9`
   */
  readonly beta1: number;
  /**
   * AdamW second-moment decay β₂ (PAPER.md §8).
   *
   * @defaultValue `0.95`
   */
  readonly beta2: number;
  /**
   * AdamW ε added to √v̂.
   *
   * @defaultValue `1e-8`
   */
  readonly eps: number;
  /**
   * Global-norm gradient clipping threshold; 0 turns it off.
   *
   * @defaultValue `1.0` (PAPER.md §8)
   */
  readonly clipNorm: number;
  /**
   * Micro-batches per optimizer step (gradient accumulation).
   * Must divide `batchSize`.
   *
   * @defaultValue `1`
   */
  readonly accumulate: number;
  /**
   * Held-out evaluation every this many steps (and at the end); 0 = only at the end.
   *
   * @defaultValue `100`
   */
  readonly evalEvery: number;
  /**
   * Held-out batches per evaluation.
   *
   * @defaultValue `8`
   */
  readonly evalBatches: number;
  /**
   * Checkpoint every this many steps (and at the end); 0 = only at the end.
   *
   * @defaultValue `100`
   */
  readonly checkpointEvery: number;
  /**
   * Seed of the data order.
   *
   * @defaultValue `0`
   */
  readonly seed: number;
}

/**
 * Where the text comes from and how it is tokenized.
 *
 * @example
 * ```ts
 * const data: DataConfig = resolveDataConfig({ corpus: 'my.txt', tokenizer: 'chars' });
 * // { corpus: 'my.txt', tokenizer: 'chars', validationFraction: 0.1 }
 * const corpus = await corpusFromFile(data.corpus, { tokenizer: data.tokenizer, validationFraction: data.validationFraction });
 * ```
 */
export interface DataConfig {
  /**
   * `"tinyshakespeare"` (the embedded default) or a path to a text file (the
   * `bytes` tokenizer reads its raw bytes, `chars` decodes it as UTF-8).
   *
   * @defaultValue `'tinyshakespeare'`
   */
  readonly corpus: string;
  /**
   * `bytes`: the file's bytes (UTF-8 for the embedded text), V = 256; `chars`: one id per distinct character of the corpus.
   *
   * @defaultValue `'bytes'`
   */
  readonly tokenizer: 'bytes' | 'chars';
  /**
   * Trailing fraction of the corpus held out for evaluation.
   * In `(0, 0.5]`.
   *
   * @defaultValue `0.1`
   */
  readonly validationFraction: number;
}

/**
 * A run config as users write it: the model fields at top level (so an
 * ablation variant is a small diff such as `{"ffn": {"hidden": 256}}`),
 * plus `train` and `data` sections. `vocabSize` comes from the tokenizer.
 *
 * @example
 * ```ts
 * const input: RunConfigInput = {
 *   dModel: 128, layers: 4, heads: 4, seqLen: 128,
 *   ffn: { use: 'swiglu', hidden: 256 },
 *   train: { steps: 600, lr: 3e-3 }, data: { tokenizer: 'bytes' },
 * };
 * const run = resolveRunConfig(input, 256); // plugins other than core's must be registered first
 * ```
 */
export type RunConfigInput = Partial<ModelConfig> & {
  readonly train?: Partial<TrainConfig>;
  readonly data?: Partial<DataConfig>;
  readonly backend?: string;
};

/**
 * A run config with every default filled in.
 *
 * @example
 * ```ts
 * const run: RunConfig = resolveRunConfig({ dModel: 64, layers: 2, heads: 4, seqLen: 64 }, corpus.tokenizer.vocabSize);
 * run.train.lr;    // 1e-3
 * run.data.corpus; // 'tinyshakespeare'
 * const trainer = await Trainer.create({ config: run, corpus });
 * ```
 */
export interface RunConfig {
  /** The model config with every plugin section resolved. */
  readonly model: ResolvedModelConfig;
  /** Optimizer, schedule and loop settings. */
  readonly train: TrainConfig;
  /** Corpus and tokenizer. */
  readonly data: DataConfig;
}

/**
 * Validates the `train` section and fills defaults (PAPER.md §8: AdamW
 * β = 0.9/0.95, wd 0.1, clipping 1.0, warmup then cosine).
 *
 * @example
 * ```ts
 * resolveTrainConfig({ steps: 100, lr: 1e-3 }).minLr; // 1e-4
 * ```
 */
export function resolveTrainConfig(raw: Partial<TrainConfig> = {}, path = 'train'): TrainConfig {
  const r = new ConfigReader(raw as Record<string, unknown>, path);
  const batchSize = r.int('batchSize', { default: 16, min: 1 });
  const steps = r.int('steps', { default: 1000, min: 0 });
  const lr = r.number('lr', { default: 1e-3, minExclusive: 0 });
  const minLr = r.number('minLr', { default: lr / 10, min: 0 });
  const warmupSteps = r.int('warmupSteps', { default: Math.min(100, Math.floor(steps / 10)), min: 0 });
  const schedule = r.oneOf('schedule', ['cosine', 'constant'] as const, 'cosine');
  const weightDecay = r.number('weightDecay', { default: 0.1, min: 0 });
  const beta1 = r.number('beta1', { default: 0.9, min: 0, max: 0.999999 });
  const beta2 = r.number('beta2', { default: 0.95, min: 0, max: 0.999999 });
  const eps = r.number('eps', { default: 1e-8, minExclusive: 0 });
  const clipNorm = r.number('clipNorm', { default: 1.0, min: 0 });
  const accumulate = r.int('accumulate', { default: 1, min: 1 });
  if (batchSize % accumulate !== 0) {
    throw new ConfigError(`${path}.accumulate`, `must divide batchSize = ${batchSize}, got ${accumulate}`);
  }
  const evalEvery = r.int('evalEvery', { default: 100, min: 0 });
  const evalBatches = r.int('evalBatches', { default: 8, min: 1 });
  const checkpointEvery = r.int('checkpointEvery', { default: 100, min: 0 });
  const seed = r.int('seed', { default: 0, min: 0 });
  r.done();
  return {
    batchSize,
    steps,
    lr,
    minLr,
    warmupSteps,
    schedule,
    weightDecay,
    beta1,
    beta2,
    eps,
    clipNorm,
    accumulate,
    evalEvery,
    evalBatches,
    checkpointEvery,
    seed,
  };
}

/**
 * Validates the `data` section.
 *
 * @example
 * ```ts
 * resolveDataConfig({}); // { corpus: 'tinyshakespeare', tokenizer: 'bytes', validationFraction: 0.1 }
 * ```
 */
export function resolveDataConfig(raw: Partial<DataConfig> = {}, path = 'data'): DataConfig {
  const r = new ConfigReader(raw as Record<string, unknown>, path);
  r.consume('corpus');
  const corpus = raw.corpus ?? 'tinyshakespeare';
  if (typeof corpus !== 'string' || corpus.length === 0) {
    throw new ConfigError(`${path}.corpus`, `expected "tinyshakespeare" or a file path, got ${describe(corpus)}`);
  }
  const tokenizer = r.oneOf('tokenizer', ['bytes', 'chars'] as const, 'bytes');
  const validationFraction = r.number('validationFraction', { default: 0.1, minExclusive: 0, max: 0.5 });
  r.done();
  return { corpus, tokenizer, validationFraction };
}

/**
 * Validates a whole run config. `vocabSize` is the tokenizer's.
 *
 * @example
 * ```ts
 * const run = resolveRunConfig({ dModel: 64, layers: 2, heads: 4, seqLen: 64, train: { steps: 10 } }, 256);
 * ```
 */
export function resolveRunConfig(raw: RunConfigInput, vocabSize: number): RunConfig {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError('(config)', `expected a JSON object, got ${describe(raw)}`);
  }
  const allowed = new Set<string>([...MODEL_CONFIG_KEYS, 'train', 'data', 'backend']);
  for (const k of Object.keys(raw)) {
    if (!allowed.has(k)) throw new ConfigError(k, `unknown field; allowed: ${[...allowed].sort().join(', ')}`);
  }
  const { train, data, backend: _backend, ...modelFields } = raw;
  if (modelFields.vocabSize !== undefined && modelFields.vocabSize !== vocabSize) {
    throw new ConfigError('vocabSize', `is ${modelFields.vocabSize} but the tokenizer has ${vocabSize} symbols; leave it out`);
  }
  const model = resolveModelConfig({ ...(modelFields as ModelConfig), vocabSize }).resolvedConfig;
  return { model, train: resolveTrainConfig(train), data: resolveDataConfig(data) };
}

/**
 * Merges config layers (preset, file, flags): objects merge key by key, except
 * that a plugin section whose `use` changes is replaced whole (so one plugin's
 * fields never leak into another's); arrays are replaced.
 *
 * @example
 * ```ts
 * mergeConfig({ ffn: { use: 'swiglu', hidden: 64 } }, { ffn: { use: 'my-ffn', experts: 8 } });
 * // { ffn: { use: 'my-ffn', experts: 8 } }
 * ```
 */
export function mergeConfig<T extends Record<string, unknown>>(base: T, over: Record<string, unknown>): T {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    const isObj = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === 'object' && !Array.isArray(x);
    if (isObj(v) && isObj(b) && !(typeof v['use'] === 'string' && v['use'] !== b['use'])) {
      out[k] = mergeConfig(b, v);
    } else {
      out[k] = v;
    }
  }
  return out as T;
}
